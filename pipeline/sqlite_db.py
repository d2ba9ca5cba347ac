"""The one place that opens SQLite databases (editorial state, proof of play): WAL, a busy timeout, and a
one-time setup (journal mode, schema, migrations) done under a file lock.

Why the lock: switching a fresh database to WAL and creating its tables need an exclusive lock that
SQLite's busy handler does not always wait for, so two processes opening a new database at the same
moment could fail with "database is locked". Serialising just the setup removes that race; ordinary
reads and writes then rely on WAL and the busy timeout.
"""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def open_db(
    path: Path,
    *,
    schema: str,
    synchronous: str = "FULL",
    timeout_s: float = 30.0,
    setup: Callable[[sqlite3.Connection], None] | None = None,
) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (callers BEGIN what they need); sqlite3 and OS errors propagate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    try:
        with open(path.with_name(f".{path.name}.setup.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
            if setup is not None:
                setup(db)
        db.execute(f"PRAGMA synchronous={synchronous}")
        yield db
    finally:
        db.close()
