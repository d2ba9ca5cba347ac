"""Scheduling one station's day: targeting, validity, priority, capacity, rotation, determinism."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.catalogue import Program
from pipeline.schedule import plan_day
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


def program(
    pid: str,
    seconds: float = 240,
    *,
    targets: tuple[str, ...] = ("tinh-a",),
    priority: str = "normal",
    kind: str = "program",
    valid: tuple[date, date] = (date(2025, 1, 1), date(2099, 12, 31)),
) -> Program:
    return Program(id=pid, title=f"Tiêu đề {pid}", kind=kind, file=f"{pid}.mp3", duration_s=seconds,
                   sha256="0" * 64, bytes=1000, targets=targets, valid_from=valid[0], valid_until=valid[1],
                   priority=priority)  # fmt: skip


def test_targeting_validity_and_reasons() -> None:
    catalogue = (
        program("a"),
        program("b", targets=("huyen-b",)),
        program("c", targets=("xa-c",)),
        program("d", targets=("xa-khac",)),
        program("e", valid=(date(2027, 1, 1), date(2027, 2, 1))),
        program("f", valid=(date(2025, 1, 1), date(2025, 2, 1))),
    )
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    ids = [[i.program_id for i in s.items] for s in plan.sessions]
    assert all(set(session) == {"a", "b", "c"} for session in ids)
    reasons = {(e.program_id, e.reason) for e in plan.exceptions}
    assert reasons == {("e", "not yet valid"), ("f", "expired")}


def test_items_are_back_to_back_with_gap_and_offset() -> None:
    plan = plan_day(STATION, DAY, (program("a", 200), program("b", 100)), gap_s=2)
    morning = plan.sessions[0]
    starts = [i.starts_at.isoformat() for i in morning.items]
    first = morning.items[0]
    assert starts[0] == "2026-11-24T05:30:00+07:00"
    assert morning.items[1].starts_at - first.starts_at == timedelta(seconds=first.duration_s + 2)


def test_capacity_is_never_exceeded_and_overflow_explained() -> None:
    catalogue = tuple(program(f"p{i}", 500) for i in range(6))  # 3000 s of content, 1800 s sessions
    plan = plan_day(STATION, DAY, catalogue, gap_s=2)
    for session in plan.sessions:
        assert sum(i.duration_s for i in session.items) + 2 * (len(session.items) - 1) <= 1800
        assert len(session.items) == 3
    capacity = [e for e in plan.exceptions if e.reason == "capacity"]
    assert len(capacity) == 6 and {e.session for e in capacity} == {"sang", "chieu"}


def test_rotation_gives_every_program_a_turn_across_days() -> None:
    catalogue = tuple(program(f"p{i}", 700) for i in range(5))  # two fit per session
    leaders = set()
    for offset in range(5):
        plan = plan_day(STATION, DAY + timedelta(days=offset), catalogue, gap_s=2)
        leaders |= {s.items[0].program_id for s in plan.sessions}
    assert leaders == {f"p{i}" for i in range(5)}


def test_emergency_then_priority_before_normal() -> None:
    catalogue = (program("a"), program("z", priority="priority"), program("m", priority="emergency"))
    for session in plan_day(STATION, DAY, catalogue, gap_s=2).sessions:
        assert [i.priority for i in session.items] == ["emergency", "priority", "normal"]


def test_fillers_only_fill_leftover_room() -> None:
    catalogue = (program("a", 1740), program("fill", 60, kind="filler"), program("fill2", 30, kind="filler"))
    morning = plan_day(STATION, DAY, catalogue, gap_s=2).sessions[0]
    assert [i.program_id for i in morning.items] == ["a", "fill2"]


def test_weekday_sessions_and_no_session_reason() -> None:
    saturday = date(2026, 11, 28)
    plan = plan_day(STATION, saturday, (program("a"),), gap_s=2)
    assert [s.name for s in plan.sessions] == ["sang"]
    weekend_only = Station(
        "x", "X", "Asia/Ho_Chi_Minh", (Session("s", time(5), time(6), frozenset({6})),), ()
    )
    empty = plan_day(weekend_only, DAY, (program("a", targets=("x",)),), gap_s=2)
    assert empty.sessions == () and [e.reason for e in empty.exceptions] == ["no session on that weekday"]


durations = st.lists(st.floats(min_value=10, max_value=2000), min_size=0, max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    durations,
    st.integers(min_value=0, max_value=3000),
    st.lists(st.sampled_from(["normal", "priority", "emergency"]), min_size=12, max_size=12),
)
def test_property_never_overfilled_and_deterministic(
    lengths: list[float], day_offset: int, priorities: list[str]
) -> None:
    catalogue = tuple(program(f"p{i:02d}", d, priority=priorities[i]) for i, d in enumerate(lengths))
    day = DAY + timedelta(days=day_offset)
    plan = plan_day(STATION, day, catalogue, gap_s=2)
    assert plan == plan_day(STATION, day, catalogue, gap_s=2)
    for session, spec in zip(
        plan.sessions, [s for s in STATION.sessions if day.weekday() in s.weekdays], strict=True
    ):
        end = (
            session.items[-1].starts_at + timedelta(seconds=session.items[-1].duration_s)
            if session.items
            else None
        )
        if end is not None:
            assert end.time() <= spec.end
        ranks = [{"emergency": 0, "priority": 1, "normal": 2}[i.priority] for i in session.items]
        assert ranks == sorted(ranks)
        assert len({i.program_id for i in session.items}) == len(session.items)
        placed = {i.program_id for i in session.items}
        skipped = {e.program_id for e in plan.exceptions if e.session == session.name}
        assert placed | skipped == {p.id for p in catalogue} and not placed & skipped
