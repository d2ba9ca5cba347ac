"""`radio station sync`: the station side of distribution (docs/station-api.md, docs/deployment.md).

It fetches the station's playlist index, then today's and the next days' playlists and every file they
name. A file is downloaded under a temporary name (resumed with Range after a cut), its length and sha256
are checked, and only then is it renamed into the content-addressed store `files/<sha256>.mp3`. A day is
*armed* (its playlist written to `playlists/<station>/<day>.json`, where the playout looks) only when every
one of its files verified; until then the previously armed version stays, and when the server cannot be
reached nothing local changes. Files no longer named by any armed day are removed after a grace period.

Station folder:
    agent.json                        sync state (etags, index, unreferenced files)
    playlists/<station>/<day>.json    armed days, exactly as the server sent them
    files/<sha256>.mp3                verified audio
    partial/<sha256>.part             downloads in progress (resumed next time)
    plays/queue/*.json                play records not yet accepted by the server
    plays/journal.jsonl               every play, for the playout's own bookkeeping
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import PipelineError
from pipeline.files import file_sha256, fsync_dir, write_bytes_atomic, write_text_atomic
from pipeline.plays import PlayRecord
from pipeline.stations import ID_RE

if TYPE_CHECKING:
    import aiohttp

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.mp3$")
MAX_FILE_BYTES = 512 * 1024 * 1024
DEFAULT_POLL_S = 120.0  # emergencies reach a looping agent within two minutes
UPLOAD_BATCH = 500
log = logging.getLogger("radio.station")


def agent_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"commune-radio/{version('commune-radio')}"
    except PackageNotFoundError:
        return "commune-radio/unknown"


class AgentError(PipelineError):
    """The sync could not run at all (another sync holds the folder, the server refused the token)."""


class AuthRefused(AgentError):
    exit_code = 2  # a wrong token or station is configuration, not a flaky link


class Unreachable(Exception):
    """The server did not answer usably after every retry."""


class Rejected(Exception):
    """A playlist or file failed its checks; the day it belongs to is not armed."""


@dataclass(frozen=True)
class StationFolder:
    root: Path
    station: str

    @property
    def state_file(self) -> Path:
        return self.root / "agent.json"

    @property
    def armed_dir(self) -> Path:
        return self.root / "playlists" / self.station

    def armed_path(self, day: date) -> Path:
        return self.armed_dir / f"{day.isoformat()}.json"

    def file_path(self, sha256: str) -> Path:
        return self.root / "files" / f"{sha256}.mp3"

    def partial_path(self, sha256: str) -> Path:
        return self.root / "partial" / f"{sha256}.part"

    @property
    def queue_dir(self) -> Path:
        return self.root / "plays" / "queue"

    @property
    def journal(self) -> Path:
        return self.root / "plays" / "journal.jsonl"

    def armed_days(self) -> dict[date, Path]:
        days: dict[date, Path] = {}
        for path in self.armed_dir.glob("*.json") if self.armed_dir.is_dir() else []:
            with contextlib.suppress(ValueError):
                days[date.fromisoformat(path.stem)] = path
        return dict(sorted(days.items()))


def find_station(root: Path) -> str:
    """The one station a folder serves (for `radio station play --dir D` without --station)."""
    found = sorted(p.name for p in (root / "playlists").glob("*") if p.is_dir() and ID_RE.match(p.name))
    if len(found) != 1:
        what = "no station" if not found else f"several stations ({', '.join(found)})"
        raise AgentError(f"{what} in the folder; name one with --station", path=root / "playlists")
    return found[0]


@dataclass(frozen=True)
class Item:
    program_id: str
    url: str  # absolute
    sha256: str
    bytes: int


@dataclass(frozen=True)
class SyncOptions:
    server: str
    station: str
    token: str
    folder: Path
    days: int = 1  # today and the next `days` days
    attempts: int = 4
    backoff_s: float = 2.0  # waits 2, 4, 8 s between attempts
    timeout_s: float = 60.0
    grace_days: float = 2.0


@dataclass(frozen=True)
class DayOutcome:
    day: date
    state: str  # armed (a new version verified) | current (nothing new) | absent (server has none) | failed
    revision: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class SyncResult:
    reachable: bool
    days: tuple[DayOutcome, ...] = ()
    armed: tuple[date, ...] = ()
    removed: tuple[str, ...] = ()
    plays_sent: int = 0
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.reachable and not self.errors and all(d.state != "failed" for d in self.days)


@dataclass
class _State:
    """agent.json. Mutable on purpose: one sync run owns it under the folder lock and saves it once."""

    index: dict[str, Any] = field(default_factory=dict)
    index_etag: str = ""
    armed_etags: dict[str, str] = field(default_factory=dict)
    unreferenced: dict[str, str] = field(default_factory=dict)  # sha -> first seen unreferenced
    last_sync_at: str = ""
    last_error: str = ""

    @classmethod
    def load(cls, path: Path) -> _State:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()  # lost or damaged state costs one full re-check, nothing more
        if not isinstance(data, dict):
            return cls()
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n")


@contextlib.contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """One sync per folder: cron and a looping agent never download into the same files at once."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".sync.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AgentError("another sync is running on this folder", path=root) from None
        yield
    finally:
        os.close(fd)


def parse_items(data: Any, station: str, day: date, day_url: str, server: str) -> list[Item]:
    """Check a fetched playlist against the contract (docs/formats.md) before anything is downloaded:
    right station and day, every item a program file on this server with a sha256 and a size."""
    if not isinstance(data, dict) or data.get("station") != station or data.get("date") != day.isoformat():
        raise Rejected(f"playlist is not {station}'s for {day} (station/date fields)")
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise Rejected("field 'sessions' must be a list")
    programs_root = server.rstrip("/") + "/v1/programs/"
    items: list[Item] = []
    for s, session in enumerate(sessions):
        raw_items = session.get("items") if isinstance(session, dict) else None
        if not isinstance(raw_items, list):
            raise Rejected(f"field 'sessions[{s}].items' must be a list")
        for i, raw in enumerate(raw_items):
            where = f"sessions[{s}].items[{i}]"
            if not isinstance(raw, dict):
                raise Rejected(f"field '{where}' must be an object")
            url = urljoin(day_url, str(raw.get("url", "")))
            name = url[len(programs_root) :] if url.startswith(programs_root) else ""
            if not FILE_RE.match(name) or urlsplit(url).query:
                raise Rejected(f"field '{where}.url' does not name a program file on the server: {url!r}")
            sha, size = raw.get("sha256"), raw.get("bytes")
            if not isinstance(sha, str) or not SHA_RE.match(sha):
                raise Rejected(f"field '{where}.sha256' must be 64 lowercase hex digits")
            if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_FILE_BYTES:
                raise Rejected(f"field '{where}.bytes' must be a size in bytes")
            try:
                started = datetime.fromisoformat(str(raw.get("starts_at")))
            except ValueError:
                raise Rejected(f"field '{where}.starts_at' is not an ISO 8601 time") from None
            if started.tzinfo is None:
                raise Rejected(f"field '{where}.starts_at' has no UTC offset")
            items.append(Item(str(raw.get("program_id", "")), url, sha, size))
    return items


class Client:
    """HTTP with retries for one sync run. Network faults and 5xx are retried with exponential backoff;
    401/403 stop the run (AuthRefused); anything else is the caller's to judge."""

    def __init__(self, session: aiohttp.ClientSession, options: SyncOptions) -> None:
        self.session = session
        self.options = options

    async def backoff(self, attempt: int) -> None:
        await asyncio.sleep(self.options.backoff_s * (2**attempt))

    async def get_small(self, url: str, etag: str = "") -> tuple[int, bytes, str]:
        """(status, body, etag) of a playlist or index; 304 comes back with an empty body."""
        import aiohttp

        headers = {"If-None-Match": etag} if etag else {}
        for attempt in range(self.options.attempts):
            try:
                async with self.session.get(url, headers=headers) as response:
                    if response.status in (401, 403):
                        raise AuthRefused(f"server refused the token ({response.status}) for {url}")
                    if response.status >= 500:
                        raise aiohttp.ClientResponseError(
                            response.request_info, (), status=response.status, message=response.reason or ""
                        )
                    body = await response.read() if response.status == 200 else b""
                    return response.status, body, response.headers.get("ETag", "")
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("%s: attempt %d failed: %s", url, attempt + 1, exc)
                if attempt + 1 < self.options.attempts:
                    await self.backoff(attempt)
        raise Unreachable(url)

    async def download(self, item: Item, folder: StationFolder) -> None:
        """Bring `item` into files/<sha256>.mp3, verified; raises Rejected or Unreachable."""
        final = folder.file_path(item.sha256)
        if final.exists():
            if (
                final.stat().st_size == item.bytes
                and await asyncio.to_thread(file_sha256, final) == item.sha256
            ):
                return
            final.unlink()  # damaged on disk: fetch it again
        part = folder.partial_path(item.sha256)
        part.parent.mkdir(parents=True, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        refetched = False
        for attempt in range(self.options.attempts):
            try:
                await self._fetch_into(item, part)
            except Rejected:
                part.unlink(missing_ok=True)
                raise
            except (OSError, TimeoutError, _Retry) as exc:
                log.warning("%s: attempt %d failed: %s", item.url, attempt + 1, exc)
                if attempt + 1 < self.options.attempts:
                    await self.backoff(attempt)
                continue
            digest = await asyncio.to_thread(file_sha256, part)
            if digest == item.sha256:
                os.replace(part, final)
                fsync_dir(final.parent)
                return
            part.unlink(missing_ok=True)
            if refetched:  # twice wrong from scratch: the server's file is not the one the playlist names
                raise Rejected(f"{item.url}: sha256 {digest} does not match the playlist's {item.sha256}")
            refetched = True
            log.warning("%s: sha256 mismatch, fetching once more from the start", item.url)
        raise Unreachable(item.url)

    async def _fetch_into(self, item: Item, part: Path) -> None:
        import aiohttp

        have = part.stat().st_size if part.exists() else 0
        if have > item.bytes:
            part.unlink()
            have = 0
        if have == item.bytes:
            return
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{item.sha256}"'} if have else {}
        try:
            async with self.session.get(item.url, headers=headers) as response:
                if response.status in (401, 403):
                    raise AuthRefused(f"server refused the token ({response.status}) for {item.url}")
                if response.status == 404:
                    raise Rejected(f"{item.url}: not on the server (404)")
                if response.status == 416:
                    part.unlink(missing_ok=True)
                    raise _Retry("range not satisfiable; starting again")
                if response.status == 206 and not (response.headers.get("Content-Range", "")).startswith(
                    f"bytes {have}-"
                ):
                    part.unlink(missing_ok=True)
                    raise _Retry("server answered another range; starting again")
                if response.status not in (200, 206):
                    raise _Retry(f"HTTP {response.status}")
                offset = have if response.status == 206 else 0
                with open(part, "r+b" if offset and part.exists() else "wb") as out:
                    out.seek(offset)
                    out.truncate()
                    written = offset
                    async for block in response.content.iter_chunked(64 * 1024):
                        written += len(block)
                        if written > item.bytes:
                            raise Rejected(f"{item.url}: longer than the playlist's {item.bytes} bytes")
                        out.write(block)
                    out.flush()
                    os.fsync(out.fileno())
                if written != item.bytes:
                    raise _Retry(f"got {written} of {item.bytes} bytes")
        except aiohttp.ClientError as exc:
            raise _Retry(str(exc) or type(exc).__name__) from exc


class _Retry(Exception):
    pass


def _today(zone: str, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


async def _sync_days(
    client: Client, options: SyncOptions, folder: StationFolder, state: _State, now: datetime
) -> tuple[list[DayOutcome], list[str]]:
    base = options.server.rstrip("/")
    index_url = f"{base}/v1/playlists/{options.station}/"
    status, body, etag = await client.get_small(index_url, state.index_etag)
    if status == 200:
        try:
            index = json.loads(body)
        except ValueError:
            raise Unreachable(f"{index_url}: index is not JSON") from None
        state.index, state.index_etag = index if isinstance(index, dict) else {}, etag
    elif status != 304:
        raise Unreachable(f"{index_url}: HTTP {status}")
    today = _today(str(state.index.get("timezone", "UTC")), now)
    listed = {str(d.get("date")): d for d in state.index.get("days", []) if isinstance(d, dict)}
    outcomes: list[DayOutcome] = []
    errors: list[str] = []
    for offset in range(options.days + 1):
        day = today + timedelta(days=offset)
        entry = listed.get(day.isoformat())
        armed = folder.armed_path(day)
        if entry is None:
            outcomes.append(DayOutcome(day, "absent"))
            continue
        if state.armed_etags.get(day.isoformat()) == entry.get("etag") and files_present(folder, armed):
            outcomes.append(DayOutcome(day, "current", entry.get("revision")))
            continue
        day_url = urljoin(index_url, str(entry.get("url", f"{day.isoformat()}.json")))
        try:
            got, raw, day_etag = await client.get_small(day_url)
            if got != 200:
                raise Rejected(f"{day_url}: HTTP {got}")
            try:
                data = json.loads(raw)
            except ValueError:
                raise Rejected(f"{day_url}: not JSON") from None
            items = parse_items(data, options.station, day, day_url, base)
            for item in {i.sha256: i for i in items}.values():
                await client.download(item, folder)
        except Rejected as exc:
            errors.append(f"{day}: not armed: {exc}")
            outcomes.append(DayOutcome(day, "failed", entry.get("revision"), str(exc)))
            continue
        except Unreachable as exc:
            errors.append(f"{day}: not armed: server unreachable ({exc})")
            outcomes.append(DayOutcome(day, "failed", entry.get("revision"), f"unreachable: {exc}"))
            continue
        write_bytes_atomic(armed, raw)
        state.armed_etags[day.isoformat()] = day_etag or str(entry.get("etag", ""))
        revision = data.get("revision") if isinstance(data, dict) else None
        outcomes.append(DayOutcome(day, "armed", revision if isinstance(revision, int) else None))
    return outcomes, errors


def files_present(folder: StationFolder, armed: Path) -> bool:
    """An armed day still has every file, at its size (the playout sets aside a file that fails its
    sha256 check, so the next sync fetches it again)."""
    try:
        data = json.loads(armed.read_bytes())
    except (OSError, ValueError):
        return False
    for session in data.get("sessions", []) if isinstance(data, dict) else []:
        for item in session.get("items", []):
            path = folder.file_path(str(item.get("sha256")))
            try:
                if path.stat().st_size != item.get("bytes"):
                    return False
            except OSError:
                return False
    return True


def referenced_files(folder: StationFolder, days: Mapping[date, Path]) -> set[str]:
    shas: set[str] = set()
    for path in days.values():
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        for session in data.get("sessions", []) if isinstance(data, dict) else []:
            for item in session.get("items", []) if isinstance(session, dict) else []:
                if isinstance(item, dict) and isinstance(item.get("sha256"), str):
                    shas.add(item["sha256"])
    return shas


def clean_up(
    folder: StationFolder, state: _State, today: date, now: datetime, grace_days: float
) -> list[str]:
    """Drop armed days older than the grace period (always keeping the newest one before today, the
    fallback), then files no armed day has named for the grace period, and stale partial downloads."""
    removed: list[str] = []
    days = folder.armed_days()
    past = [d for d in days if d < today]
    keep_back = today - timedelta(days=max(1, int(grace_days)))
    for day in past[:-1]:
        if day < keep_back:
            days.pop(day).unlink(missing_ok=True)
            state.armed_etags.pop(day.isoformat(), None)
            removed.append(f"playlists/{folder.station}/{day}.json")
    wanted = referenced_files(folder, days)
    limit = now - timedelta(days=grace_days)
    files_dir = folder.root / "files"
    for path in sorted(files_dir.glob("*.mp3")) if files_dir.is_dir() else []:
        sha = path.stem
        if sha in wanted:
            state.unreferenced.pop(sha, None)
            continue
        since = state.unreferenced.setdefault(sha, now.isoformat(timespec="seconds"))
        if datetime.fromisoformat(since) <= limit:
            path.unlink(missing_ok=True)
            state.unreferenced.pop(sha, None)
            removed.append(f"files/{path.name}")
    for sha in [s for s in state.unreferenced if not folder.file_path(s).exists()]:
        state.unreferenced.pop(sha)
    partial_dir = folder.root / "partial"
    for path in sorted(partial_dir.glob("*.part")) if partial_dir.is_dir() else []:
        if path.stat().st_mtime < limit.timestamp():
            path.unlink(missing_ok=True)
            removed.append(f"partial/{path.name}")
    return removed


# --- play records: queued on disk, sent when the server answers -------------------------------------------


def queue_play(folder: StationFolder, record: PlayRecord, note: Mapping[str, str] | None = None) -> Path:
    """Keep a play record until the server has it: one file per record (a crash loses nothing and never
    leaves half a record) plus a line in the journal the playout reads back after a restart."""
    key = hashlib.sha256("|".join(record.key).encode()).hexdigest()[:24]
    path = folder.queue_dir / f"{record.started_at.strftime('%Y%m%dT%H%M%S')}-{key}.json"
    text = json.dumps(record.to_json(), ensure_ascii=False)
    write_text_atomic(path, text + "\n")
    folder.journal.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.journal, "a", encoding="utf-8") as journal:
        journal.write(json.dumps({**record.to_json(), **(note or {})}, ensure_ascii=False) + "\n")
        journal.flush()
        os.fsync(journal.fileno())
    return path


async def upload_plays(session: aiohttp.ClientSession, server: str, folder: StationFolder) -> int:
    """Send queued records in batches; a batch leaves the queue only once the server answered for it
    (accepted, duplicate or rejected as malformed, which is logged and set aside). Returns records sent."""
    sent = 0
    url = f"{server.rstrip('/')}/v1/stations/{folder.station}/plays"
    queue = sorted(folder.queue_dir.glob("*.json")) if folder.queue_dir.is_dir() else []
    for start in range(0, len(queue), UPLOAD_BATCH):
        batch = queue[start : start + UPLOAD_BATCH]
        records = []
        for path in batch:
            try:
                records.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                records.append({})  # the server rejects it by index and it is set aside below
        async with session.post(url, json={"plays": records}) as response:
            if response.status in (401, 403):
                raise AuthRefused(f"server refused the token ({response.status}) for {url}")
            if response.status != 200:
                raise Unreachable(f"{url}: HTTP {response.status}")
            answer = await response.json()
        rejected = {int(r["index"]): r for r in answer.get("rejected", [])}
        for index, path in enumerate(batch):
            if index in rejected:
                log.error("play record %s refused by the server: %s", path.name, rejected[index])
                aside = folder.root / "plays" / "rejected" / path.name
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, aside)
            else:
                path.unlink(missing_ok=True)
        sent += len(batch) - len(rejected)
    return sent


def _session(options: SyncOptions) -> aiohttp.ClientSession:
    import aiohttp

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(
            total=None, connect=min(30.0, options.timeout_s), sock_read=options.timeout_s
        ),
        headers={"Authorization": f"Bearer {options.token}", "User-Agent": agent_version()},
        raise_for_status=False,
    )


async def flush_plays(options: SyncOptions) -> int:
    """Send queued play records now (the playout calls this after each play); 0 when the server is down."""
    import aiohttp

    folder = StationFolder(options.folder, options.station)
    try:
        async with _session(options) as session:
            return await upload_plays(session, options.server, folder)
    except (aiohttp.ClientError, TimeoutError, OSError, Unreachable) as exc:
        log.info("play records kept for later: %s", exc)
        return 0


async def sync_once(options: SyncOptions, now: datetime | None = None) -> SyncResult:
    """One sync (cron, or one turn of the loop). Never raises for a flaky link: an unreachable server
    gives `reachable=False` and leaves every armed day as it was."""
    import aiohttp

    moment = now or datetime.now().astimezone()
    folder = StationFolder(options.folder, options.station)
    with folder_lock(options.folder):
        state = _State.load(folder.state_file)
        sent, errors = 0, []
        outcomes: list[DayOutcome] = []
        reachable = True
        async with _session(options) as session:
            client = Client(session, options)
            try:
                sent = await upload_plays(session, options.server, folder)
            except (aiohttp.ClientError, TimeoutError, OSError, Unreachable) as exc:
                errors.append(f"play records kept for later: {exc}")
            try:
                outcomes, day_errors = await _sync_days(client, options, folder, state, moment)
                errors += day_errors
            except Unreachable as exc:
                reachable = False
                errors.append(f"server unreachable, keeping the armed days: {exc}")
            today = _today(str(state.index.get("timezone", "UTC")), moment)
            removed = clean_up(folder, state, today, moment, options.grace_days) if reachable else []
            armed = tuple(folder.armed_days())
            state.last_error = "; ".join(errors)[:500]
            if reachable:
                state.last_sync_at = moment.isoformat(timespec="seconds")
                report = {
                    "agent_version": agent_version(),
                    "armed_days": [d.isoformat() for d in armed],
                    "last_error": state.last_error,
                }
                url = f"{options.server.rstrip('/')}/v1/stations/{options.station}/status"
                try:
                    async with session.post(url, json=report) as response:
                        if response.status != 200:
                            errors.append(f"status report refused: HTTP {response.status}")
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    errors.append(f"status report not sent: {exc}")
        state.save(folder.state_file)
    return SyncResult(reachable, tuple(outcomes), armed, tuple(removed), sent, tuple(errors))


def run_sync(options: SyncOptions, now: datetime | None = None) -> SyncResult:
    return asyncio.run(sync_once(options, now))


def run_loop(
    options: SyncOptions,
    interval_s: float = DEFAULT_POLL_S,
    report: Any = None,
    turns: int | None = None,
) -> None:
    """Sync every `interval_s` seconds (cheap when nothing changed: one 304), forever or for `turns`."""
    done = 0
    while turns is None or done < turns:
        started = time.monotonic()
        try:
            result = run_sync(options)
            if report is not None:
                report(result)
        except AgentError as exc:
            if isinstance(exc, AuthRefused):
                raise
            log.warning("%s", exc)
        done += 1
        if turns is None or done < turns:
            time.sleep(max(0.0, interval_s - (time.monotonic() - started)))
