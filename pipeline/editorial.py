"""Editorial state of the catalogue: which programs an editor approved (who, when, which version) and which
were withdrawn. Only approved programs are scheduled.

Storage: one SQLite database (stdlib sqlite3, WAL) at `<state>/editorial.sqlite3`, by default `state/` at
the project root. It is a record of human decisions, not a build product, so it lives outside `build/`
(`make clean` and `rm -rf build/cache` must not forget approvals). The table is an append-only log of
decisions; a program's state is its latest decision. An approval is pinned to the script's content
(`script_sha256` of the manifest): an edited script must be approved again before it goes on air, while a
re-mastering of unchanged text (new template or loudness target) keeps its approval.

Two processes may write at once (an editor's `radio approve` while the daemon reads): WAL lets readers run
beside one writer, writes take the lock up front (BEGIN IMMEDIATE) and wait up to `BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.sqlite_db import open_db

DB_NAME = "editorial.sqlite3"
BUSY_TIMEOUT_S = 30.0
APPROVED, NOT_APPROVED, WITHDRAWN = "approved", "not approved", "withdrawn"
SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('approve', 'withdraw')),
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    script_sha256 TEXT
);
CREATE INDEX IF NOT EXISTS decisions_program ON decisions (program_id, seq);
"""


class EditorialError(PipelineError):
    """The editorial database cannot be used, or a decision names an unknown program."""


@dataclass(frozen=True)
class Decision:
    seq: int
    program_id: str
    action: str  # approve | withdraw
    by: str
    at: str  # ISO 8601 with offset
    script_sha256: str | None


def db_path(state_dir: Path) -> Path:
    return state_dir / DB_NAME


@contextlib.contextmanager
def connect(state_dir: Path) -> Iterator[sqlite3.Connection]:
    """An open database (created on first use); errors become EditorialError naming the file."""
    path = db_path(state_dir)
    try:
        # a decision is durable once the command says so: synchronous FULL
        with open_db(path, schema=SCHEMA, synchronous="FULL", timeout_s=BUSY_TIMEOUT_S) as db:
            yield db
    except OSError as exc:
        raise EditorialError(f"cannot open the editorial database: {exc}", path=path) from None
    except sqlite3.Error as exc:
        raise EditorialError(f"editorial database failed: {exc}", path=path) from None


def latest_decisions(state_dir: Path) -> dict[str, Decision]:
    """Every program's latest decision (an empty mapping when nothing was decided yet)."""
    if not db_path(state_dir).is_file():
        return {}  # reading never creates the database
    with connect(state_dir) as db:
        rows = db.execute(
            "SELECT seq, program_id, action, by, at, script_sha256 FROM decisions "
            "WHERE seq IN (SELECT MAX(seq) FROM decisions GROUP BY program_id)"
        ).fetchall()
    return {row[1]: Decision(*row) for row in rows}


def history(state_dir: Path, program_id: str) -> tuple[Decision, ...]:
    if not db_path(state_dir).is_file():
        return ()
    with connect(state_dir) as db:
        rows = db.execute(
            "SELECT seq, program_id, action, by, at, script_sha256 FROM decisions "
            "WHERE program_id = ? ORDER BY seq",
            (program_id,),
        ).fetchall()
    return tuple(Decision(*row) for row in rows)


def state_of(decision: Decision | None, script_sha256: str) -> str:
    """approved only when the latest decision approved this very script content."""
    if decision is None:
        return NOT_APPROVED
    if decision.action == "withdraw":
        return WITHDRAWN
    return APPROVED if decision.script_sha256 == script_sha256 else NOT_APPROVED


def _record(
    db: sqlite3.Connection, program_id: str, action: str, by: str, at: datetime, sha: str | None
) -> Decision:
    cursor = db.execute(
        "INSERT INTO decisions (program_id, action, by, at, script_sha256) VALUES (?, ?, ?, ?, ?)",
        (program_id, action, by, at.isoformat(timespec="seconds"), sha),
    )
    assert cursor.lastrowid is not None
    return Decision(cursor.lastrowid, program_id, action, by, at.isoformat(timespec="seconds"), sha)


def _latest(db: sqlite3.Connection, program_id: str) -> Decision | None:
    row = db.execute(
        "SELECT seq, program_id, action, by, at, script_sha256 FROM decisions "
        "WHERE program_id = ? ORDER BY seq DESC LIMIT 1",
        (program_id,),
    ).fetchone()
    return Decision(*row) if row else None


def _check_name(by: str) -> str:
    by = by.strip()
    if not by:
        raise EditorialError("the editor's name must not be empty", field="by")
    return by


def approve(state_dir: Path, versions: dict[str, str], by: str, at: datetime) -> list[Decision]:
    """Approve programs (id -> script_sha256 of the version approved); already-approved ones are left
    alone, so approving twice records nothing new. Returns the decisions recorded."""
    by = _check_name(by)
    recorded: list[Decision] = []
    with connect(state_dir) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            for program_id, sha in sorted(versions.items()):
                if state_of(_latest(db, program_id), sha) != APPROVED:
                    recorded.append(_record(db, program_id, "approve", by, at, sha))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return recorded


def withdraw(state_dir: Path, program_ids: list[str], by: str, at: datetime) -> list[Decision]:
    """Withdraw programs from air; an already-withdrawn program records nothing new."""
    by = _check_name(by)
    recorded: list[Decision] = []
    with connect(state_dir) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            for program_id in sorted(set(program_ids)):
                latest = _latest(db, program_id)
                if latest is None or latest.action != "withdraw":
                    recorded.append(_record(db, program_id, "withdraw", by, at, None))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return recorded


def fingerprint(state_dir: Path) -> int:
    """Changes whenever a decision is recorded (the latest sequence number): cheap change detection."""
    if not db_path(state_dir).is_file():
        return 0
    with connect(state_dir) as db:
        row = db.execute("SELECT COALESCE(MAX(seq), 0) FROM decisions").fetchone()
    return int(row[0])
