"""Playlist files per station and day: JSON (the source of truth), M3U8 and XSPF (docs/formats.md), and the
run that plans and publishes them (`radio schedule`, approvals, the daemon).

Publishing is atomic per file and batched for speed: every changed file of a batch is written under a
hidden temp name, the filesystem is flushed once (syncfs), then the files are renamed into place (a day's
JSON after its M3U8 and XSPF) and each touched folder is fsynced once. Readers never see a partial file,
and after a power cut a renamed file has its data (a rename alone does not promise that for a new file).
One flush per batch instead of one fsync per file is what makes publishing thousands of days fast.

The JSON's `revision` goes up only when the content changes; an unchanged day is not rewritten at all.
"Least recently aired" comes from the playlists already published for the days before a run (a bounded
look-back), never from files the run itself writes, so re-running a day reproduces it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from pipeline.errors import ScheduleError
from pipeline.files import fsync_dir
from pipeline.schedule import NEVER, DayPlan, History, air_slot, plan_days
from pipeline.stations import Station

if TYPE_CHECKING:
    from pipeline.config import Settings

VOLATILE = ("revision", "generated_at")
SUFFIXES = (".m3u8", ".xspf", ".json")  # rename order: the JSON, which agents poll, goes last
TEMP_MARK = ".tmp"
LOCK_NAME = "schedule.lock"


def program_url(file: str) -> str:
    """Relative to the playlist file (build/playlists/<station>/<day>.json -> build/programs/<file>), so it
    works on disk and, resolved against the playlist's URL, over HTTP."""
    return f"../../programs/{quote(file)}"


def iso(moment: datetime) -> str:
    """ISO 8601 with offset; milliseconds only when there are any (items start on exact milliseconds)."""
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def playlist_content(plan: DayPlan) -> dict[str, Any]:
    """The JSON document without its volatile keys (revision, generated_at)."""
    return {
        "station": plan.station,
        "date": plan.date.isoformat(),
        "timezone": plan.timezone,
        "emergency": plan.emergency,
        "sessions": [
            {
                "name": session.name,
                "start": session.start,
                "end": session.end,
                "items": [
                    {
                        "program_id": item.program_id,
                        "title": item.title,
                        "starts_at": iso(item.starts_at),
                        "duration_s": item.duration_s,
                        "url": program_url(item.file),
                        "sha256": item.sha256,
                        "bytes": item.bytes,
                        "priority": item.priority,
                        **({"emergency": True} if item.emergency else {}),
                    }
                    for item in session.items
                ],
            }
            for session in plan.sessions
        ],
        "exceptions": [
            {"program_id": e.program_id, "reason": e.reason, **({"session": e.session} if e.session else {})}
            for e in plan.exceptions
        ],
    }


def json_text(content: dict[str, Any], revision: int, generated_at: datetime) -> str:
    head = {key: content[key] for key in ("station", "date", "timezone")}
    document = {
        **head,
        "revision": revision,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        **{key: value for key, value in content.items() if key not in head},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def m3u8(plan: DayPlan) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{plan.station} {plan.date.isoformat()}"]
    for session in plan.sessions:
        lines.append(f"# session {session.name} {session.start}-{session.end}")
        for item in session.items:
            lines.append(f"#EXTINF:{round(item.duration_s)},{item.title}")
            lines.append(program_url(item.file))
    return "\n".join(lines) + "\n"


def xspf(plan: DayPlan) -> str:
    """XSPF 1 (https://xspf.org/spec): one track per item, in playing order."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<playlist version="1" xmlns="http://xspf.org/ns/0/">',
        f"  <title>{escape(plan.station)} {plan.date.isoformat()}</title>",
        "  <trackList>",
    ]
    for session in plan.sessions:
        for item in session.items:
            out += [
                "    <track>",
                f"      <location>{escape(program_url(item.file))}</location>",
                f"      <identifier>urn:sha256:{item.sha256}</identifier>",
                f"      <title>{escape(item.title)}</title>",
                f"      <annotation>{escape(session.name)} {iso(item.starts_at)} "
                f"{escape(item.priority)}</annotation>",
                f"      <duration>{round(item.duration_s * 1000)}</duration>",
                "    </track>",
            ]
    out += ["  </trackList>", "</playlist>"]
    return "\n".join(out) + "\n"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def day_path(playlists_dir: Path, station: str, day: date) -> Path:
    return playlists_dir / station / f"{day.isoformat()}.json"


def read_history(playlists_dir: Path, station: str, first: date, lookback_days: int) -> dict[str, int]:
    """Latest airing of each program in the published playlists of the `lookback_days` before `first`."""
    history: dict[str, int] = {}
    for back in range(lookback_days, 0, -1):
        day = first - timedelta(days=back)
        data = _read_json(day_path(playlists_dir, station, day))
        for session in data.get("sessions", []) if data else []:
            try:
                hour, minute = str(session["start"]).split(":")
                slot = air_slot(day, int(hour) * 60 + int(minute))
                for item in session["items"]:
                    pid = str(item["program_id"])
                    history[pid] = max(history.get(pid, NEVER), slot)
            except (KeyError, ValueError, TypeError):
                continue  # a damaged day only weakens the rotation; the run goes on
    return history


def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


def flush_filesystem(folder: Path, files: Iterable[Path]) -> None:
    """Put written data on disk: one syncfs(2) for the filesystem holding `folder` (Linux), else an fsync
    per file."""
    syncfs = _libc_syncfs()
    if syncfs is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stage(folder: Path, final_name: str, text: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{final_name}.", suffix=TEMP_MARK, dir=folder)
    try:
        os.fchmod(fd, 0o644)
        data = text.encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        os.unlink(name)
        raise
    os.close(fd)
    return Path(name)


def publish(plans: Iterable[DayPlan], playlists_dir: Path, now: datetime, *, durable: bool = True) -> int:
    """Write every changed day (JSON, M3U8, XSPF) as one batch; return how many days changed."""
    staged: list[tuple[Path, Path]] = []
    folders: set[Path] = set()
    changed = 0
    try:
        for plan in plans:
            folder = playlists_dir / plan.station
            json_path = folder / f"{plan.date.isoformat()}.json"
            content = playlist_content(plan)
            previous = _read_json(json_path)
            old = {k: v for k, v in previous.items() if k not in VOLATILE} if previous else None
            if old == content and all(json_path.with_suffix(s).is_file() for s in SUFFIXES):
                continue
            revision = int(previous.get("revision", 0)) + 1 if previous else 1
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
            texts = {".m3u8": m3u8(plan), ".xspf": xspf(plan), ".json": json_text(content, revision, now)}
            for suffix in SUFFIXES:
                final = json_path.with_suffix(suffix)
                staged.append((_stage(folder, final.name, texts[suffix]), final))
            changed += 1
        if not staged:
            return 0
        if durable:
            flush_filesystem(playlists_dir, [tmp for tmp, _ in staged])
        for tmp, final in staged:
            os.replace(tmp, final)
        staged = []
        if durable:
            for folder in sorted(folders):
                fsync_dir(folder)
    except OSError as exc:
        raise ScheduleError(f"cannot write playlists: {exc.strerror or exc}", path=playlists_dir) from None
    finally:
        for tmp, _ in staged:  # a failed batch leaves no temp files behind
            tmp.unlink(missing_ok=True)
    return changed


def write_playlist(plan: DayPlan, playlists_dir: Path, now: datetime) -> bool:
    """One day's files; True when the content changed (or is new)."""
    return publish([plan], playlists_dir, now) == 1


def remove_stale_temps(playlists_dir: Path) -> int:
    """Temp files left by a killed run (only ever called under the schedule lock)."""
    removed = 0
    if not playlists_dir.is_dir():
        return 0
    with os.scandir(playlists_dir) as stations:
        for station in stations:
            if not station.is_dir() or station.name.startswith("."):
                continue
            with os.scandir(station.path) as entries:
                for entry in entries:
                    if entry.name.startswith(".") and entry.name.endswith(TEMP_MARK):
                        os.unlink(entry.path)
                        removed += 1
    return removed


@contextlib.contextmanager
def schedule_lock(state_dir: Path) -> Iterator[None]:
    """Serialise runs that publish playlists (two `radio schedule`s, an approval and the daemon): the
    revision numbers of a day must never fork."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(state_dir / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise ScheduleError(f"cannot open the schedule lock: {exc.strerror}", path=state_dir) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class StationSummary:
    station: str
    days: int
    items: int
    seconds: float
    emergencies: int
    changed: int
    reasons: tuple[tuple[str, int], ...]  # exception reason -> count, sorted by reason


@dataclass(frozen=True)
class RunSummary:
    stations: tuple[StationSummary, ...]
    warnings: tuple[str, ...]

    @property
    def station_days(self) -> int:
        return sum(s.days for s in self.stations)

    @property
    def changed(self) -> int:
        return sum(s.changed for s in self.stations)

    def reasons(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for station in self.stations:
            total.update(dict(station.reasons))
        return total


def summarize(station: str, plans: list[DayPlan], changed: int) -> StationSummary:
    items = [i for p in plans for s in p.sessions for i in s.items]
    reasons = Counter(e.reason for p in plans for e in p.exceptions)
    return StationSummary(
        station=station,
        days=len(plans),
        items=len(items),
        seconds=sum(i.duration_s for i in items),
        emergencies=sum(i.emergency for i in items),
        changed=changed,
        reasons=tuple(sorted(reasons.items())),
    )


# What a run covers for one station: (first day, number of days), or None to leave it alone.
DayRange = Callable[[Station], tuple[date, int] | None]


def run(settings: Settings, days_of: DayRange, now: datetime) -> RunSummary:
    """Plan and publish, under the schedule lock, every station's days chosen by `days_of`."""
    from pipeline.catalogue import load_catalogue
    from pipeline.editorial import latest_decisions
    from pipeline.stations import load_registry

    playlists_dir = settings.playlists_dir
    lookback = settings.schedule.history_days
    with schedule_lock(settings.state_dir):
        registry = load_registry(settings.stations_file)
        catalogue, warnings = load_catalogue(
            settings.programs_dir, settings.root, latest_decisions(settings.state_dir)
        )
        remove_stale_temps(playlists_dir)
        summaries: list[StationSummary] = []
        for station in registry.stations:
            span = days_of(station)
            if span is None:
                continue
            first, count = span
            history: History = read_history(playlists_dir, station.id, first, lookback)
            plans = plan_days(station, first, count, catalogue, settings.item_gap_s, history, lookback)
            summaries.append(summarize(station.id, plans, publish(plans, playlists_dir, now)))
    return RunSummary(tuple(summaries), warnings)


def schedule_days(settings: Settings, first: date, days: int, now: datetime) -> RunSummary:
    """Every station, `days` days from `first`."""
    return run(settings, lambda _station: (first, days), now)


def local_today(station: Station, now: datetime) -> date:
    return now.astimezone(ZoneInfo(station.timezone)).date()


def published_days(playlists_dir: Path, station: str, since: date) -> list[date]:
    folder = playlists_dir / station
    found: list[date] = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        with contextlib.suppress(ValueError):
            day = date.fromisoformat(path.stem)
            if day >= since:
                found.append(day)
    return sorted(found)


def refresh_published(settings: Settings, now: datetime) -> RunSummary:
    """Re-plan the days already published from each station's today on (after an approval or a
    withdrawal), so stations pick the change up at their next sync."""
    playlists_dir = settings.playlists_dir

    def days_of(station: Station) -> tuple[date, int] | None:
        today = local_today(station, now)
        days = published_days(playlists_dir, station.id, today)
        return (today, (days[-1] - today).days + 1) if days else None

    return run(settings, days_of, now)
