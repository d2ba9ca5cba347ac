"""Scheduling one station's day from its sessions, the catalogue and its play history. Pure and
deterministic: the same station, catalogue and history always give the same plan (docs/scheduling.md).

Rules, in order:
1. A program is a candidate when it targets the station (directly, its grouping or its province), is
   approved, the day is inside its validity and its repeat pattern falls on the day; every other targeted
   program is listed in `exceptions` with the reason.
2. Sessions of the day are filled in time order. Emergency items lead every session, then priority, then
   normal items; inside each class the least recently aired program goes first (history across days, then
   program id), so when a session cannot hold everything each program gets its turn.
3. A program is never twice in one session, and at most `per_day` times a day when its repeat rule says so.
4. Items play back to back with `gap_s` of silence between; an item that would run past the session's end
   is left out (`capacity`, or `displaced by emergency` when it would have fitted without the emergencies).
   A session is never overfilled.
5. Filler programs (kind `filler`) only fill room that is left, least recently aired first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.catalogue import Catalogue, Program
from pipeline.editorial import APPROVED
from pipeline.errors import ConfigError
from pipeline.models import Repeat
from pipeline.stations import HHMM_RE, Session, Station

CAPACITY = "capacity"
DISPLACED = "displaced by emergency"
EXPIRED = "expired"
NOT_YET_VALID = "not yet valid"
NOT_APPROVED = "not approved"
WITHDRAWN = "withdrawn"
NO_SESSION = "no session on that weekday"
NOT_REPEAT_DAY = "not a repeat day"
DAILY_LIMIT = "daily limit reached"
REASONS = (
    CAPACITY,
    DISPLACED,
    EXPIRED,
    NOT_YET_VALID,
    NOT_APPROVED,
    WITHDRAWN,
    NO_SESSION,
    NOT_REPEAT_DAY,
    DAILY_LIMIT,
)
MINUTES_PER_DAY = 1440
NEVER = -1

# program id -> "air slot" of its latest airing: day ordinal * 1440 + the session's start minute
History = Mapping[str, int]


def air_slot(day: date, start_minute: int) -> int:
    return day.toordinal() * MINUTES_PER_DAY + start_minute


@dataclass(frozen=True)
class Item:
    program_id: str
    title: str
    starts_at: datetime
    duration_s: float
    file: str
    sha256: str
    bytes: int
    priority: str

    @property
    def emergency(self) -> bool:
        return self.priority == "emergency"


@dataclass(frozen=True)
class PlannedSession:
    name: str
    start: str  # local HH:MM
    end: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ScheduleException:
    program_id: str
    reason: str
    session: str | None = None


@dataclass(frozen=True)
class DayPlan:
    station: str
    date: date
    timezone: str
    sessions: tuple[PlannedSession, ...]
    exceptions: tuple[ScheduleException, ...]

    @property
    def emergency(self) -> bool:
        return any(item.emergency for session in self.sessions for item in session.items)


@dataclass(frozen=True)
class ScheduleSettings:
    """`[schedule]` in radio.toml (docs/configuration.md)."""

    history_days: int = 14  # look-back over published playlists for "least recently aired"
    timezone: str = "Asia/Ho_Chi_Minh"  # the daemon's clock and the meaning of "today"
    days: int = 7  # days the daemon keeps published ahead
    nightly_at: time = time(1, 0)
    interval_minutes: float = 5.0


def parse_schedule_settings(table: Mapping[str, Any], path: Path) -> ScheduleSettings:
    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, path=path, field=f"schedule.{key}")

    defaults = ScheduleSettings()
    history = table.get("history_days", defaults.history_days)
    if not isinstance(history, int) or isinstance(history, bool) or not 0 <= history <= 366:
        raise fail("history_days", f"must be a whole number of days from 0 to 366, got {history!r}")
    days = table.get("days", defaults.days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
        raise fail("days", f"must be a whole number of days from 1 to 366, got {days!r}")
    zone = table.get("timezone", defaults.timezone)
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("timezone", f"unknown timezone {zone!r}") from None
    nightly = str(table.get("nightly_at", "01:00"))
    match = HHMM_RE.match(nightly)
    if not match:
        raise fail("nightly_at", f"{nightly!r} is not a time of day as HH:MM")
    interval = table.get("interval_minutes", defaults.interval_minutes)
    if not isinstance(interval, int | float) or isinstance(interval, bool) or not interval > 0:
        raise fail("interval_minutes", f"must be a number of minutes above 0, got {interval!r}")
    return ScheduleSettings(
        history_days=history,
        timezone=str(zone),
        days=days,
        nightly_at=time(int(match.group(1)), int(match.group(2))),
        interval_minutes=float(interval),
    )


def repeats_on(repeat: Repeat, day: date, valid_from: date) -> bool:
    if repeat.dates:
        return day in repeat.dates
    if day.weekday() not in repeat.weekdays:
        return False
    return (day.toordinal() - valid_from.toordinal()) % repeat.every_days == 0


def day_reason(program: Program, day: date) -> str | None:
    """Why a targeted program cannot air at all on `day`, or None when it is a candidate."""
    if program.state != APPROVED:
        return WITHDRAWN if program.state == WITHDRAWN else NOT_APPROVED
    if day < program.valid_from:
        return NOT_YET_VALID
    if day > program.valid_until:
        return EXPIRED
    if not repeats_on(program.repeat, day, program.valid_from):
        return NOT_REPEAT_DAY
    return None


def _ms(seconds: float) -> int:
    # Whole milliseconds, rounded up for durations: a fitted item can never end past the session's end.
    return math.ceil(seconds * 1000 - 1e-6)


def _fit(ordered: list[Program], capacity_ms: int, gap_ms: int, cursor: int = 0) -> tuple[list[int], int]:
    """Greedy first fit in the given order: indexes of the programs placed, and the cursor after them."""
    placed: list[int] = []
    for index, program in enumerate(ordered):
        length = _ms(program.duration_s)
        if cursor + length <= capacity_ms:
            placed.append(index)
            cursor += length + gap_ms
    return placed, cursor


@dataclass(frozen=True)
class _SessionFill:
    session: PlannedSession
    exceptions: tuple[ScheduleException, ...]


def fill_session(
    session: Session,
    day: date,
    tz: ZoneInfo,
    programs: list[Program],
    fillers: list[Program],
    gap_s: float,
    last: Mapping[str, int],
    aired_today: Mapping[str, int],
) -> _SessionFill:
    """One session: `programs` and `fillers` are the day's candidates; `last` is the history so far."""
    exceptions: list[ScheduleException] = []

    def allowed(program: Program, explain: bool = True) -> bool:
        limit = program.repeat.per_day
        if limit and aired_today.get(program.id, 0) >= limit:
            if explain:
                exceptions.append(ScheduleException(program.id, DAILY_LIMIT, session.name))
            return False
        return True

    ordered = sorted(
        (p for p in programs if allowed(p)), key=lambda p: (p.priority_rank, last.get(p.id, NEVER), p.id)
    )
    capacity_ms, gap_ms = session.seconds * 1000, round(gap_s * 1000)
    placed, cursor = _fit(ordered, capacity_ms, gap_ms)
    if len(placed) < len(ordered):
        chosen = set(placed)
        calm = [p for p in ordered if p.priority != "emergency"]
        fits_without = (
            {calm[i].id for i in _fit(calm, capacity_ms, gap_ms)[0]} if len(calm) < len(ordered) else set()
        )
        for index, program in enumerate(ordered):
            if index not in chosen:
                reason = DISPLACED if program.id in fits_without else CAPACITY
                exceptions.append(ScheduleException(program.id, reason, session.name))
    chosen_programs = [ordered[i] for i in placed]
    # fillers only use spare room: one left out is not an exception
    spare = sorted((f for f in fillers if allowed(f, False)), key=lambda p: (last.get(p.id, NEVER), p.id))
    extra, _ = _fit(spare, capacity_ms, gap_ms, cursor)
    chosen_programs += [spare[i] for i in extra]
    start = datetime.combine(day, session.start, tzinfo=tz)
    items: list[Item] = []
    offset = 0
    for program in chosen_programs:
        items.append(
            Item(
                program.id,
                program.title,
                start + timedelta(milliseconds=offset),
                program.duration_s,
                program.file,
                program.sha256,
                program.bytes,
                program.priority,
            )
        )
        offset += _ms(program.duration_s) + gap_ms
    planned = PlannedSession(session.name, f"{session.start:%H:%M}", f"{session.end:%H:%M}", tuple(items))
    return _SessionFill(planned, tuple(exceptions))


def plan_day(
    station: Station,
    day: date,
    programs: Iterable[Program] | Catalogue,
    gap_s: float,
    history: History | None = None,
) -> DayPlan:
    """One station's day. `programs` may be the whole catalogue; only those targeting the station count.
    `history` holds the latest airing of programs before this day (see `air_slot`)."""
    if isinstance(programs, Catalogue):
        programs = programs.for_targets(station.target_ids)
    tz = ZoneInfo(station.timezone)
    exceptions: list[ScheduleException] = []
    candidates: list[Program] = []
    for program in programs:
        if not station.targeted_by(program.targets):
            continue
        reason = day_reason(program, day)
        if reason is None:
            candidates.append(program)
        else:
            exceptions.append(ScheduleException(program.id, reason))
    weekday = day.weekday()
    sessions = [s for s in station.sessions if weekday in s.weekdays]
    if not sessions:
        exceptions += [ScheduleException(p.id, NO_SESSION) for p in candidates]
        return DayPlan(station.id, day, station.timezone, (), tuple(exceptions))
    fillers = [p for p in candidates if p.kind == "filler"]
    regular = [p for p in candidates if p.kind != "filler"]
    last = dict(history or {})
    aired_today: dict[str, int] = {}
    planned: list[PlannedSession] = []
    for session in sessions:
        filled = fill_session(session, day, tz, regular, fillers, gap_s, last, aired_today)
        planned.append(filled.session)
        exceptions += filled.exceptions
        slot = air_slot(day, session.start_minute)
        for item in filled.session.items:
            last[item.program_id] = slot
            aired_today[item.program_id] = aired_today.get(item.program_id, 0) + 1
    return DayPlan(station.id, day, station.timezone, tuple(planned), tuple(exceptions))


def history_after(history: History, plan: DayPlan) -> dict[str, int]:
    """The history a following day sees: `history` updated with the plan's airings."""
    updated = dict(history)
    for session in plan.sessions:
        hour, minute = session.start.split(":")
        slot = air_slot(plan.date, int(hour) * 60 + int(minute))
        for item in session.items:
            updated[item.program_id] = max(updated.get(item.program_id, NEVER), slot)
    return updated


def plan_days(
    station: Station,
    first: date,
    days: int,
    catalogue: Catalogue,
    gap_s: float,
    history: History,
    lookback_days: int,
) -> list[DayPlan]:
    """Consecutive days of one station. Each day sees the airings of the `lookback_days` before it, whether
    they come from `history` (published earlier) or from this run, so starting a run on any of these days
    gives the same plan for it."""
    programs = catalogue.for_targets(station.target_ids)
    plans: list[DayPlan] = []
    seen = dict(history)
    for offset in range(days):
        day = first + timedelta(days=offset)
        plan = plan_day(station, day, programs, gap_s, forget_before(seen, day, lookback_days))
        plans.append(plan)
        seen = history_after(seen, plan)
    return plans


def forget_before(history: History, day: date, lookback_days: int) -> dict[str, int]:
    """Only airings inside the look-back window count, so a run depends on a bounded history."""
    floor = air_slot(day - timedelta(days=lookback_days), 0)
    return {pid: slot for pid, slot in history.items() if slot >= floor}
