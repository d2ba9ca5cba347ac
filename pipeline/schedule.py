"""Scheduling: one station's day, from its sessions and the catalogue's broadcast rules. Pure and
deterministic: the same registry and catalogue always give the same playlist.

Rules (this first version): a program plays at a station when it targets the station, its grouping or its
province and the day is inside its validity window; emergency items go first, then priority, then normal
items, rotated from day to day and session to session so that, when a session cannot hold them all, each
program gets its turn; filler programs only fill room that is left. A session is never overfilled:
whatever does not fit is reported as an exception with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.catalogue import Program
from pipeline.stations import Session, Station


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


@dataclass(frozen=True)
class PlannedSession:
    name: str
    start: str
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


def rotate(programs: list[Program], shift: int) -> list[Program]:
    if not programs:
        return programs
    shift %= len(programs)
    return programs[shift:] + programs[:shift]


def fill_session(
    session: Session, day: date, tz: ZoneInfo, ordered: list[Program], fillers: list[Program], gap_s: float
) -> tuple[PlannedSession, list[ScheduleException]]:
    start = datetime.combine(day, session.start, tzinfo=tz)
    capacity = float(session.seconds)
    cursor = 0.0
    items: list[Item] = []
    left_out: list[ScheduleException] = []

    def place(program: Program) -> bool:
        nonlocal cursor
        if cursor + program.duration_s > capacity:
            return False
        items.append(
            Item(
                program.id,
                program.title,
                start + timedelta(seconds=round(cursor, 3)),
                program.duration_s,
                program.file,
                program.sha256,
                program.bytes,
                program.priority,
            )
        )
        cursor += program.duration_s + gap_s
        return True

    for program in ordered:
        if not place(program):
            left_out.append(ScheduleException(program.id, "capacity", session.name))
    for program in fillers:
        place(program)
    return PlannedSession(
        session.name, f"{session.start:%H:%M}", f"{session.end:%H:%M}", tuple(items)
    ), left_out


def plan_day(station: Station, day: date, catalogue: tuple[Program, ...], gap_s: float) -> DayPlan:
    tz = ZoneInfo(station.timezone)
    exceptions: list[ScheduleException] = []
    valid: list[Program] = []
    for program in catalogue:
        if not station.targeted_by(program.targets):
            continue
        if day < program.valid_from:
            exceptions.append(ScheduleException(program.id, "not yet valid"))
        elif day > program.valid_until:
            exceptions.append(ScheduleException(program.id, "expired"))
        else:
            valid.append(program)
    sessions = [s for s in station.sessions if day.weekday() in s.weekdays]
    if not sessions:
        exceptions += [ScheduleException(p.id, "no session on that weekday") for p in valid]
        return DayPlan(station.id, day, station.timezone, (), tuple(exceptions))
    fillers = [p for p in valid if p.kind == "filler"]
    by_rank = sorted((p for p in valid if p.kind != "filler"), key=lambda p: (p.priority_rank, p.id))
    urgent = [p for p in by_rank if p.priority_rank < 2]
    normal = [p for p in by_rank if p.priority_rank == 2]
    planned: list[PlannedSession] = []
    for index, session in enumerate(sessions):
        # Rotation: each session starts the normal list one further along, so over days every program leads.
        ordered = urgent + rotate(normal, day.toordinal() * len(sessions) + index)
        plan, left_out = fill_session(session, day, tz, ordered, fillers, gap_s)
        planned.append(plan)
        exceptions += left_out
    return DayPlan(station.id, day, station.timezone, tuple(planned), tuple(exceptions))
