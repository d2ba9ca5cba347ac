"""Proof of play and station sync status, kept by the centre in SQLite (WAL).

A play record is (station, program id, sha256 of the file played, started_at, ended_at, completed); a play
cut short (an emergency cut in) has `completed` false and is not a broadcast. Its key is
(station, program id, start instant in UTC): a station cannot start the same program twice at one instant,
so a retried upload, or the same record sent by the playout and later by the sync agent, is stored once.
WAL lets `radio report` read while the server writes; every write is one short transaction.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.sqlite_db import open_db

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
PROGRAM_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_PLAY_S = 6 * 3600  # longer than any session: a record claiming more is a broken clock

SCHEMA = """
CREATE TABLE IF NOT EXISTS plays (
    station     TEXT NOT NULL,
    program_id  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    started_at  TEXT NOT NULL,  -- as the station sent it: ISO 8601 with its local offset
    ended_at    TEXT NOT NULL,
    started_utc TEXT NOT NULL,  -- the idempotency key's instant, normalised
    local_day   TEXT NOT NULL,  -- the station's calendar day of started_at (reports go by it)
    seconds     REAL NOT NULL,
    received_at TEXT NOT NULL,
    completed   INTEGER NOT NULL DEFAULT 1,  -- 0: cut short (schema version 1)
    UNIQUE (station, program_id, started_utc)
);
CREATE INDEX IF NOT EXISTS plays_by_day ON plays (local_day, station);
CREATE TABLE IF NOT EXISTS station_status (
    station       TEXT PRIMARY KEY,
    last_sync_at  TEXT NOT NULL,  -- when the server received the report (server clock)
    agent_version TEXT NOT NULL,
    armed_days    TEXT NOT NULL,  -- JSON list of YYYY-MM-DD
    last_error    TEXT NOT NULL,
    address       TEXT NOT NULL
);
"""
SCHEMA_VERSION = 1  # PRAGMA user_version; 0 = a database from before `completed` existed


class PlayError(PipelineError):
    """A play record or status report is malformed (the field names which one and what)."""


@dataclass(frozen=True)
class PlayRecord:
    station: str
    program_id: str
    sha256: str
    started_at: datetime  # aware, in the station's local offset
    ended_at: datetime
    completed: bool = True  # False: cut short (an emergency cut in); ended_at is when it stopped

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def in_zone(self, zone: tzinfo) -> PlayRecord:
        started, ended = self.started_at.astimezone(zone), self.ended_at.astimezone(zone)
        return replace(self, started_at=started, ended_at=ended)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.station, self.program_id, utc_key(self.started_at))

    def to_json(self) -> dict[str, str | bool]:
        return {
            "station": self.station,
            "program_id": self.program_id,
            "sha256": self.sha256,
            "started_at": self.started_at.isoformat(timespec="milliseconds"),
            "ended_at": self.ended_at.isoformat(timespec="milliseconds"),
            "completed": self.completed,
        }


@dataclass(frozen=True)
class StationStatus:
    station: str
    last_sync_at: datetime
    agent_version: str
    armed_days: tuple[date, ...]
    last_error: str = ""
    address: str = ""


def utc_key(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _moment(value: Any, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise PlayError(f"{value!r} is not an ISO 8601 time", field=field) from None
    if moment.tzinfo is None:
        raise PlayError(f"{value!r} has no UTC offset", field=field)
    return moment


def parse_play(data: Any, station: str, where: str = "play") -> PlayRecord:
    """One record as posted (docs/station-api.md); `station` is the authenticated one, so a record naming
    another station is refused rather than filed under the wrong commune."""
    if not isinstance(data, dict):
        raise PlayError("must be an object", field=where)
    if data.get("station", station) != station:
        raise PlayError(f"names station {data.get('station')!r}, not {station!r}", field=f"{where}.station")
    program_id = data.get("program_id")
    if not isinstance(program_id, str) or not PROGRAM_ID_RE.match(program_id):
        raise PlayError(f"{program_id!r} is not a program id", field=f"{where}.program_id")
    sha = data.get("sha256")
    if not isinstance(sha, str) or not SHA256_RE.match(sha):
        raise PlayError("must be 64 lowercase hex digits", field=f"{where}.sha256")
    started = _moment(data.get("started_at"), f"{where}.started_at")
    ended = _moment(data.get("ended_at"), f"{where}.ended_at")
    if not 0 <= (ended - started).total_seconds() <= MAX_PLAY_S:
        raise PlayError("must be after started_at and at most 6 hours later", field=f"{where}.ended_at")
    completed = data.get("completed", True)  # absent: an older agent, which only sent whole plays
    if not isinstance(completed, bool):
        raise PlayError("must be true or false", field=f"{where}.completed")
    return PlayRecord(station, program_id, sha, started, ended, completed)


def parse_status(data: Any, station: str, received_at: datetime, address: str = "") -> StationStatus:
    if not isinstance(data, dict):
        raise PlayError("must be an object", field="status")
    version = data.get("agent_version")
    if not isinstance(version, str) or not 0 < len(version) <= 100:
        raise PlayError("must be a short string", field="agent_version")
    days = data.get("armed_days", [])
    if not isinstance(days, list) or len(days) > 400:
        raise PlayError("must be a list of YYYY-MM-DD", field="armed_days")
    try:
        armed = tuple(sorted({date.fromisoformat(str(d)) for d in days}))
    except ValueError:
        raise PlayError("must be a list of YYYY-MM-DD", field="armed_days") from None
    error = data.get("last_error", "")
    if not isinstance(error, str):
        raise PlayError("must be a string", field="last_error")
    return StationStatus(station, received_at, version, armed, error[:500], address)


@contextlib.contextmanager
def connect(path: Path, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One connection in WAL mode, the schema in place, inside one transaction: committed on success,
    rolled back on error. A writer takes the write lock at once, so two writers queue instead of failing."""
    # WAL + synchronous NORMAL: durable across a process crash, and fast
    with open_db(path, schema=SCHEMA, synchronous="NORMAL", setup=_migrate) as db:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a database written by an older version up to SCHEMA_VERSION, under the write lock (two
    processes opening an old database at once migrate it once). Old rows were whole plays: completed = 1."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(plays)")}
        if "completed" not in columns:
            db.execute("ALTER TABLE plays ADD COLUMN completed INTEGER NOT NULL DEFAULT 1")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def add_plays(path: Path, records: Sequence[PlayRecord], received_at: datetime) -> tuple[int, int]:
    """Store records in one transaction: (new, already known)."""
    stamp = received_at.isoformat(timespec="seconds")
    rows = [
        (r.station, r.program_id, r.sha256, r.started_at.isoformat(timespec="milliseconds"),
         r.ended_at.isoformat(timespec="milliseconds"), utc_key(r.started_at),
         r.started_at.date().isoformat(), r.seconds, stamp, int(r.completed))
        for r in records
    ]  # fmt: skip
    with connect(path) as db:
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO plays (station, program_id, sha256, started_at, ended_at, started_utc,"
            " local_day, seconds, received_at, completed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        added = db.total_changes - before
    return added, len(rows) - added


def plays_between(path: Path, first: date, last: date, stations: Iterable[str] = ()) -> list[PlayRecord]:
    """Records whose local day lies in [first, last], optionally of some stations only, in start order;
    plays cut short included (`completed` False): a report counts only the completed ones."""
    wanted = sorted(set(stations))
    query = (
        "SELECT station, program_id, sha256, started_at, ended_at, completed FROM plays"
        " WHERE local_day BETWEEN ? AND ?"
    )
    args: list[str] = [first.isoformat(), last.isoformat()]
    if wanted:
        query += f" AND station IN ({', '.join('?' * len(wanted))})"
        args += wanted
    if not path.exists():
        return []
    with connect(path, write=False) as db:
        rows = db.execute(query + " ORDER BY started_utc, station, program_id", args).fetchall()
    return [
        PlayRecord(s, p, h, datetime.fromisoformat(a), datetime.fromisoformat(b), bool(c))
        for s, p, h, a, b, c in rows
    ]


def save_status(path: Path, status: StationStatus) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO station_status VALUES (?, ?, ?, ?, ?, ?)",
            (
                status.station,
                status.last_sync_at.isoformat(timespec="seconds"),
                status.agent_version,
                json.dumps([d.isoformat() for d in status.armed_days]),
                status.last_error,
                status.address,
            ),
        )


def load_statuses(path: Path) -> Mapping[str, StationStatus]:
    if not path.exists():
        return {}
    with connect(path, write=False) as db:
        rows = db.execute("SELECT * FROM station_status").fetchall()
    return {
        row[0]: StationStatus(
            station=row[0],
            last_sync_at=datetime.fromisoformat(row[1]),
            agent_version=row[2],
            armed_days=tuple(date.fromisoformat(d) for d in json.loads(row[3])),
            last_error=row[4],
            address=row[5],
        )
        for row in rows
    }


@dataclass(frozen=True)
class Health:
    station: str
    status: StationStatus | None
    today_armed: bool
    reasons: tuple[str, ...]  # empty: the station is fine

    @property
    def behind(self) -> bool:
        return bool(self.reasons)


def station_health(
    stations: Sequence[tuple[str, str]],
    statuses: Mapping[str, StationStatus],
    now: datetime,
    behind_hours: float,
) -> list[Health]:
    """Which stations (id, timezone) are behind: never synced, no sync for more than `behind_hours`, today
    (in the station's timezone) not armed, or the agent reported an error."""
    from zoneinfo import ZoneInfo

    health: list[Health] = []
    for station, zone in stations:
        status = statuses.get(station)
        if status is None:
            health.append(Health(station, None, False, ("never synced",)))
            continue
        today = now.astimezone(ZoneInfo(zone)).date()
        armed = today in status.armed_days
        reasons = []
        age_h = (now - status.last_sync_at).total_seconds() / 3600
        if age_h > behind_hours:
            reasons.append(f"no sync for {age_h:.1f} h")
        if not armed:
            reasons.append(f"{today} not armed")
        if status.last_error:
            reasons.append(f"agent error: {status.last_error[:80]}")
        health.append(Health(station, status, armed, tuple(reasons)))
    return health
