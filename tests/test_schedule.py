"""Scheduling one station's days: targeting, editorial state, validity, repeat rules, priority and
emergencies, capacity, fair rotation across days, fillers, determinism (incl. hypothesis properties)."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.catalogue import Catalogue, Program
from pipeline.editorial import APPROVED, NOT_APPROVED, WITHDRAWN
from pipeline.errors import ConfigError
from pipeline.models import Repeat
from pipeline.schedule import (
    DayPlan,
    ScheduleSettings,
    history_after,
    parse_schedule_settings,
    plan_day,
    plan_days,
)
from pipeline.stations import Session, Station

EVERY_DAY = frozenset(range(7))
STATION = Station(
    id="xa-c",
    name="Xã C",
    timezone="Asia/Ho_Chi_Minh",
    sessions=(Session("sang", time(5, 30), time(6, 0), EVERY_DAY),
              Session("chieu", time(17, 0), time(17, 30), frozenset(range(5)))),
    parents=("tinh-a", "huyen-b"),
)  # fmt: skip
DAY = date(2026, 11, 24)  # a Tuesday
RANK = {"emergency": 0, "priority": 1, "normal": 2}


def program(
    pid: str,
    seconds: float = 240,
    *,
    targets: tuple[str, ...] = ("tinh-a",),
    priority: str = "normal",
    kind: str = "program",
    valid: tuple[date, date] = (date(2025, 1, 1), date(2099, 12, 31)),
    repeat: Repeat | None = None,
    state: str = APPROVED,
) -> Program:
    return Program(id=pid, title=f"Tiêu đề {pid}", kind=kind, file=f"{pid}.mp3", duration_s=seconds,
                   sha256="0" * 64, bytes=1000, targets=targets, valid_from=valid[0], valid_until=valid[1],
                   priority=priority, repeat=repeat or Repeat(), state=state)  # fmt: skip


def ids(plan: DayPlan) -> list[list[str]]:
    return [[i.program_id for i in s.items] for s in plan.sessions]


def reasons(plan: DayPlan) -> set[tuple[str, str]]:
    return {(e.program_id, e.reason) for e in plan.exceptions}


def test_targeting_validity_and_editorial_reasons() -> None:
    catalogue = (
        program("a"),
        program("b", targets=("huyen-b",)),
        program("c", targets=("xa-c",)),
        program("d", targets=("xa-khac",)),
        program("e", valid=(date(2027, 1, 1), date(2027, 2, 1))),
        program("f", valid=(date(2025, 1, 1), date(2025, 2, 1))),
        program("g", state=NOT_APPROVED),
        program("h", state=WITHDRAWN),
    )
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    assert all(set(session) == {"a", "b", "c"} for session in ids(plan))
    assert reasons(plan) == {
        ("e", "not yet valid"),
        ("f", "expired"),
        ("g", "not approved"),
        ("h", "withdrawn"),
    }
    assert plan == plan_day(STATION, DAY, Catalogue.of(catalogue), gap_s=2)  # the indexed catalogue agrees


def test_items_are_back_to_back_with_gap_and_offset() -> None:
    plan = plan_day(STATION, DAY, (program("a", 200.5), program("b", 100)), gap_s=2)
    morning = plan.sessions[0]
    first = morning.items[0]
    assert first.starts_at.isoformat() == "2026-11-24T05:30:00+07:00"
    assert morning.items[1].starts_at - first.starts_at == timedelta(seconds=202.5)


def test_capacity_is_never_exceeded_and_overflow_explained() -> None:
    catalogue = tuple(program(f"p{i}", 500) for i in range(6))  # 3000 s of content, 1800 s sessions
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    for session in plan.sessions:
        assert sum(i.duration_s for i in session.items) + 2 * (len(session.items) - 1) <= 1800
        assert len(session.items) == 3
    capacity = [e for e in plan.exceptions if e.reason == "capacity"]
    assert len(capacity) == 6 and {e.session for e in capacity} == {"sang", "chieu"}


def test_least_recently_aired_goes_first_within_and_across_days() -> None:
    catalogue = tuple(program(f"p{i}", 700) for i in range(5))  # two fit per session
    plans = plan_days(STATION, DAY, 3, Catalogue.of(catalogue), 2, {}, 14)
    # Tuesday: p0 p1 in the morning, p2 p3 in the evening; Wednesday starts with p4, then the oldest
    assert [ids(p) for p in plans[:2]] == [[["p0", "p1"], ["p2", "p3"]], [["p4", "p0"], ["p1", "p2"]]]
    aired = [pid for p in plans for s in ids(p) for pid in s]
    counts = {pid: aired.count(pid) for pid in sorted(set(aired))}
    assert max(counts.values()) - min(counts.values()) <= 1  # fair over the run


def test_history_from_before_the_run_orders_the_first_day() -> None:
    catalogue = (program("a", 1000), program("b", 1000))  # one fits per session
    yesterday_evening = date.toordinal(DAY - timedelta(days=1)) * 1440 + 17 * 60
    plan = plan_day(STATION, DAY, catalogue, 2, {"a": yesterday_evening})
    assert ids(plan)[0] == ["b"]


def test_starting_a_run_on_any_day_reproduces_that_day() -> None:
    catalogue = Catalogue.of(tuple(program(f"p{i}", 450 + 40 * i) for i in range(7)))
    whole = plan_days(STATION, DAY, 6, catalogue, 2, {}, 3)
    history: dict[str, int] = {}
    for plan in whole[:3]:
        history = history_after(history, plan)
    assert plan_days(STATION, DAY + timedelta(days=3), 3, catalogue, 2, history, 3) == whole[3:]


def test_emergency_heads_every_session_and_displaces_normal_items() -> None:
    catalogue = (
        program("a", 700),
        program("b", 700),  # with the emergency only one of a and b fits; without it both would
        program("z", 200, priority="priority"),
        program("m", 600, priority="emergency"),
    )
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    assert plan.emergency
    for session in plan.sessions:
        assert [i.priority for i in session.items][:2] == ["emergency", "priority"]
        assert session.items[0].emergency and not session.items[1].emergency
    # least recently aired first: b leads the evening, so a is the one displaced there
    assert {(e.program_id, e.reason, e.session) for e in plan.exceptions} == {
        ("b", "displaced by emergency", "sang"),
        ("a", "displaced by emergency", "chieu"),
    }
    assert not any(e.reason == "capacity" for e in plan.exceptions)


def test_emergency_outside_its_validity_is_not_flagged() -> None:
    urgent = program("m", 60, priority="emergency", valid=(DAY + timedelta(days=1), DAY + timedelta(days=1)))
    assert not plan_day(STATION, DAY, (program("a"), urgent), gap_s=2).emergency
    assert plan_day(STATION, DAY + timedelta(days=1), (program("a"), urgent), gap_s=2).emergency


def test_fillers_only_fill_leftover_room() -> None:
    catalogue = (program("a", 1740), program("fill", 60, kind="filler"), program("fill2", 30, kind="filler"))
    morning = plan_day(STATION, DAY, catalogue, gap_s=2).sessions[0]
    assert [i.program_id for i in morning.items] == ["a", "fill2"]
    once = (program("f", 30, kind="filler", repeat=Repeat(per_day=1)),)
    plan = plan_day(STATION, DAY, once, gap_s=2)
    assert ids(plan) == [["f"], []] and plan.exceptions == ()  # a filler left out is not an exception


def test_weekday_sessions_and_no_session_reason() -> None:
    saturday = date(2026, 11, 28)
    plan = plan_day(STATION, saturday, (program("a"),), gap_s=2)
    assert [s.name for s in plan.sessions] == ["sang"]
    weekend_only = Station(
        "x", "X", "Asia/Ho_Chi_Minh", (Session("s", time(5), time(6), frozenset({6})),), ()
    )
    empty = plan_day(weekend_only, DAY, (program("a", targets=("x",)),), gap_s=2)
    assert empty.sessions == () and [e.reason for e in empty.exceptions] == ["no session on that weekday"]


@pytest.mark.parametrize(
    ("repeat", "airs"),
    [
        (Repeat(), [True] * 7),
        (Repeat(weekdays=frozenset({0, 3})), [False, False, True, False, False, False, True]),  # Thu, Mon
        (Repeat(every_days=3), [False, True, False, False, True, False, False]),  # from valid_from 2026-11-22
        (
            Repeat(dates=(date(2026, 11, 26), date(2026, 11, 29))),
            [False, False, True, False, False, True, False],
        ),
    ],
)
def test_repeat_days(repeat: Repeat, airs: list[bool]) -> None:
    p = program("r", 60, repeat=repeat, valid=(date(2026, 11, 22), date(2026, 12, 31)))
    for offset, expected in enumerate(airs):
        plan = plan_day(STATION, DAY + timedelta(days=offset), (p,), gap_s=2)
        assert any("r" in s for s in ids(plan)) is expected
        assert (("r", "not a repeat day") in reasons(plan)) is not expected


def test_at_most_k_times_a_day_rotates_to_the_next_session() -> None:
    catalogue = (program("a", 600, repeat=Repeat(per_day=1)), program("b", 600))
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    assert ids(plan) == [["a", "b"], ["b"]]
    assert ("a", "daily limit reached") in reasons(plan)


def test_settings_are_validated_with_their_field(tmp_path: Path) -> None:
    assert parse_schedule_settings({}, tmp_path) == ScheduleSettings()
    parsed = parse_schedule_settings({"nightly_at": "02:30", "days": 3}, tmp_path)
    assert parsed.nightly_at == time(2, 30) and parsed.days == 3
    for key, value in (("history_days", -1), ("timezone", "Mars/Base"), ("nightly_at", "2h"), ("days", 0)):
        with pytest.raises(ConfigError) as info:
            parse_schedule_settings({key: value}, tmp_path)
        assert info.value.field == f"schedule.{key}"


programs_strategy = st.lists(
    st.tuples(
        st.floats(min_value=10, max_value=2000),
        st.sampled_from(["normal", "priority", "emergency"]),
        st.sampled_from([APPROVED, APPROVED, NOT_APPROVED, WITHDRAWN]),
        st.sampled_from([("tinh-a",), ("huyen-b",), ("xa-c",), ("xa-khac",), ("tinh-z", "xa-c")]),
        st.integers(min_value=-5, max_value=5),  # validity window placement around the day
        st.sampled_from(["program", "program", "filler"]),
        st.sampled_from([Repeat(), Repeat(per_day=1), Repeat(every_days=2), Repeat(weekdays=frozenset({1}))]),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(programs_strategy, st.integers(min_value=0, max_value=3000), st.integers(min_value=0, max_value=30))
def test_property_rules_always_hold(specs: list[tuple], day_offset: int, gap: int) -> None:  # type: ignore[type-arg]
    day = DAY + timedelta(days=day_offset)
    catalogue = tuple(
        program(f"p{i:02d}", d, priority=prio, state=state, targets=targets, kind=kind, repeat=repeat,
                valid=(day + timedelta(days=shift - 2), day + timedelta(days=shift + 2)))
        for i, (d, prio, state, targets, shift, kind, repeat) in enumerate(specs)
    )  # fmt: skip
    plan = plan_day(STATION, day, catalogue, gap_s=gap)
    assert plan == plan_day(STATION, day, catalogue, gap_s=gap)  # deterministic
    by_id = {p.id: p for p in catalogue}
    spec_sessions = [s for s in STATION.sessions if day.weekday() in s.weekdays]
    placed_today: dict[str, int] = {}
    for session, spec in zip(plan.sessions, spec_sessions, strict=True):
        starts = [i.starts_at for i in session.items]
        assert starts == sorted(starts)
        for item in session.items:
            p = by_id[item.program_id]
            end = item.starts_at + timedelta(seconds=item.duration_s)
            assert end.time() <= spec.end  # never overfilled
            assert p.state == APPROVED and p.valid_from <= day <= p.valid_until
            assert STATION.targeted_by(p.targets)
            placed_today[p.id] = placed_today.get(p.id, 0) + 1
        regular = [RANK[i.priority] for i in session.items if by_id[i.program_id].kind != "filler"]
        assert regular == sorted(regular)  # emergencies first, then priority, then normal
        assert len({i.program_id for i in session.items}) == len(session.items)  # never twice a session
        placed = {i.program_id for i in session.items}
        skipped = {e.program_id for e in plan.exceptions if e.session == session.name}
        assert not placed & skipped
    for pid, count in placed_today.items():
        limit = by_id[pid].repeat.per_day
        assert not limit or count <= limit
    day_level = {e.program_id for e in plan.exceptions if e.session is None}
    regular_ok = {
        p.id
        for p in catalogue
        if STATION.targeted_by(p.targets) and p.kind != "filler" and p.id not in day_level
    }
    for session in plan.sessions:  # every candidate is either placed or explained, per session
        placed = {i.program_id for i in session.items}
        skipped = {e.program_id for e in plan.exceptions if e.session == session.name}
        assert regular_ok <= placed | skipped


FRONT = """\
id: a
kind: program
title: T
series: S
producer: P
template: standard
voices: {A: female}
valid_from: 2026-11-01
valid_until: 2026-12-31
targets: [tinh-a]
priority: normal
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repeat: daily", Repeat()),
        ("repeat: {days: [mon, thu]}", Repeat(weekdays=frozenset({0, 3}))),
        ("repeat: {every: 3, per_day: 2}", Repeat(every_days=3, per_day=2)),
        ("repeat:\n  dates: [2026-12-05, 2026-11-30]", Repeat(dates=(date(2026, 11, 30), date(2026, 12, 5)))),
        ("repeat: {per_day: 1}", Repeat(per_day=1)),
    ],
)
def test_repeat_front_matter(text: str, expected: Repeat) -> None:
    from pipeline.scripts import parse_front_matter

    meta, _ = parse_front_matter(FRONT + text, Path("s.md"))
    assert meta.repeat == expected


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("repeat: weekly", "repeat", "must be 'daily' or a table"),
        ("repeat: {days: [monday]}", "repeat.days", "mon, tue"),
        ("repeat: {every: 0}", "repeat.every", "at least 1"),
        ("repeat: {days: [mon], every: 2}", "repeat", "only one of"),
        ("repeat: {per_day: 1, times: 2}", "repeat.times", "unknown key"),
        ("repeat: {dates: [2027-01-01]}", "repeat.dates", "outside valid_from..valid_until"),
    ],
)
def test_repeat_front_matter_errors(text: str, field: str, words: str) -> None:
    from pipeline.errors import ScriptError
    from pipeline.scripts import parse_front_matter

    with pytest.raises(ScriptError) as info:
        parse_front_matter(FRONT + text, Path("s.md"))
    assert info.value.field == field and words in info.value.message
    assert info.value.line == 13  # the line of `repeat:` in a script (after the opening ---)
