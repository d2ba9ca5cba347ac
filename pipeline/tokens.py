"""Per-station access tokens for `radio serve` (docs/station-api.md).

A token is `secrets.token_urlsafe(32)` (256 random bits). The centre keeps only its SHA-256 digest: a token
is a long random secret, not a password, so a fast hash is enough (nothing to brute-force) and lets the
server check every request cheaply; the digest is compared in constant time. The store is one JSON file,
rewritten atomically under an exclusive lock so two `radio token` runs at once never lose an entry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError

TOKEN_BYTES = 32
STORE_VERSION = 1


class TokenError(PipelineError):
    """A token request cannot be done (unknown station, no token to rotate, a damaged store)."""


@dataclass(frozen=True)
class TokenRecord:
    station: str
    sha256: str  # hex digest of the token
    issued_at: str  # ISO 8601 with offset


@dataclass(frozen=True)
class TokenTable:
    """The store as the server uses it: by station, and which station (if any) owns a digest."""

    by_station: Mapping[str, TokenRecord]
    owner_of: Mapping[str, str]

    @classmethod
    def of(cls, records: Mapping[str, TokenRecord]) -> TokenTable:
        return cls(dict(records), {r.sha256: r.station for r in records.values()})

    def check(self, station: str, token: str | None) -> str:
        """'ok' when `token` is `station`'s; 'other' when it belongs to another station; else 'unknown'."""
        if not token:
            return "unknown"
        presented = digest(token)
        record = self.by_station.get(station)
        if record is not None and hmac.compare_digest(presented, record.sha256):
            return "ok"
        return "other" if presented in self.owner_of else "unknown"

    def station_of(self, token: str | None) -> str | None:
        """The station a token belongs to (for requests that name no station, e.g. program audio)."""
        if not token:
            return None
        presented = digest(token)
        station = self.owner_of.get(presented)
        if station is None or not hmac.compare_digest(presented, self.by_station[station].sha256):
            return None
        return station


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(path: Path) -> dict[str, TokenRecord]:
    """The store; an absent file is an empty store, a damaged one an error naming the file and field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TokenError(f"cannot read the token store: {exc.strerror}", path=path) from None
    except ValueError as exc:
        raise TokenError(f"the token store is not valid JSON: {exc}", path=path) from None
    stations = data.get("stations") if isinstance(data, dict) else None
    if not isinstance(stations, dict):
        raise TokenError("must be an object with a 'stations' object", path=path, field="stations")
    records: dict[str, TokenRecord] = {}
    for station, entry in stations.items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or len(sha) != 64:
            raise TokenError("needs a 64-character sha256", path=path, field=f"stations.{station}.sha256")
        records[station] = TokenRecord(station, sha.lower(), str(entry.get("issued_at", "")))
    return records


def _store_text(records: Mapping[str, TokenRecord]) -> str:
    body: dict[str, Any] = {
        "version": STORE_VERSION,
        "stations": {
            key: {"sha256": r.sha256, "issued_at": r.issued_at}
            for key, r in sorted(records.items(), key=lambda kv: kv[0])
        },
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_private(final: Path, text: str) -> None:
    """Like files.write_text_atomic, but the file is never readable by others, not even for a moment."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(name, final)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _save(path: Path, records: Mapping[str, TokenRecord]) -> None:
    _write_private(path, _store_text(records))


def issue_tokens(path: Path, stations: Iterable[str], now: datetime, *, rotate: bool) -> dict[str, str]:
    """New tokens for `stations` in one write: {station: token}. Without `rotate` a station that already has a
    token is an error (nothing is written); with it, every station must have one and its old token stops
    working at once."""
    wanted = list(dict.fromkeys(stations))
    with _locked(path):
        records = load_tokens(path)
        for station in wanted:
            if rotate and station not in records:
                raise TokenError(f"station {station!r} has no token to rotate (use issue)", field="station")
            if not rotate and station in records:
                raise TokenError(f"station {station!r} already has a token (use rotate)", field="station")
        issued = {station: new_token() for station in wanted}
        stamp = now.isoformat(timespec="seconds")
        for station, token in issued.items():
            records[station] = TokenRecord(station, digest(token), stamp)
        _save(path, records)
    return issued


def revoke_token(path: Path, station: str) -> bool:
    """Remove a station's token; False when it had none."""
    with _locked(path):
        records = load_tokens(path)
        if records.pop(station, None) is None:
            return False
        _save(path, records)
    return True


def read_token_file(path: Path) -> str:
    """A station's token as `radio token issue --out` wrote it (one line; surrounding blanks ignored)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenError(f"cannot read the token file: {exc.strerror}", path=path) from None
    if not token or any(c.isspace() for c in token):
        raise TokenError("must hold exactly one token", path=path)
    return token


def write_token_file(path: Path, token: str) -> None:
    _write_private(path, token + "\n")
