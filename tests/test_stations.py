"""Station registry: inheritance, two-tier provinces and validation messages."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from pipeline.errors import ScheduleError
from pipeline.stations import load_registry
from tests.conftest import STATIONS_YAML


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stations.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_inheritance_and_parents(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, STATIONS_YAML))
    stations = {s.id: s for s in registry.stations}
    assert set(stations) == {"xa-c", "xa-d", "xa-e"}
    assert stations["xa-c"].parents == ("tinh-a", "huyen-b")
    assert stations["xa-e"].parents == ("tinh-a",)  # directly under the province: two-tier
    assert [s.start for s in stations["xa-c"].sessions] == [time(5, 30), time(17, 0)]
    assert stations["xa-c"].timezone == "Asia/Ho_Chi_Minh"
    own = stations["xa-d"].sessions
    assert len(own) == 1 and own[0].weekdays == frozenset(range(5))
    assert registry.target_ids() == {"tinh-a", "huyen-b", "xa-c", "xa-d", "xa-e"}
    assert stations["xa-d"].targeted_by(("huyen-b",)) and not stations["xa-e"].targeted_by(("huyen-b",))


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("{id: xa-e, name: Xã E}", "{id: xa-c, name: Xã E}", "id", "duplicate id 'xa-c'"),
        ('start: "06:00", end: "06:10"', 'start: "06:00", end: "05:10"', "end", "before it starts"),
        ('start: "06:00", end: "06:10"', 'start: "6h", end: "06:10"', "start", "HH:MM"),
        ("weekdays: [mon, tue, wed, thu, fri]", "weekdays: [monday]", "weekdays", "mon, tue"),
        ("timezone: Asia/Ho_Chi_Minh", "timezone: Mars/Base", "timezone", "unknown timezone"),
        (
            '{name: chieu, start: "17:00", end: "17:30"}',
            '{name: chieu, start: "05:45", end: "06:30"}',
            "sessions",
            "overlap",
        ),
    ],
)
def test_validation_errors(tmp_path: Path, old: str, new: str, field: str, words: str) -> None:
    assert old in STATIONS_YAML
    with pytest.raises(ScheduleError) as info:
        load_registry(write(tmp_path, STATIONS_YAML.replace(old, new)))
    assert info.value.field == field
    assert words in info.value.message
    assert info.value.line is not None
    assert "stations.yaml:" in str(info.value)


def test_missing_registry_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="not found"):
        load_registry(tmp_path / "nope.yaml")


FLAT = """\
defaults:
  timezone: Asia/Ho_Chi_Minh
  sessions:
    - {name: sang, start: "05:30", end: "06:00"}
provinces:
  - id: tinh-a
  - id: tinh-b
    timezone: Asia/Bangkok
groups:
  - {id: cum-1, parent: huyen-x}        # declared before its parent: order does not matter
  - {id: huyen-x, parent: tinh-b}
stations:
  - {id: xa-1, parent: tinh-a}          # two-tier: a commune directly under its province
  - {id: xa-2, parent: cum-1, name: Xã Hai}
"""


def test_flat_lists_with_parents_inherit_along_the_chain(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, FLAT))
    stations = {s.id: s for s in registry.stations}
    assert stations["xa-1"].parents == ("tinh-a",)
    assert stations["xa-2"].parents == ("tinh-b", "huyen-x", "cum-1")
    assert stations["xa-2"].timezone == "Asia/Bangkok" and stations["xa-1"].timezone == "Asia/Ho_Chi_Minh"
    assert stations["xa-2"].targeted_by(("huyen-x",)) and stations["xa-2"].target_ids[0] == "xa-2"
    assert set(registry.areas) == {"tinh-a", "tinh-b", "huyen-x", "cum-1"}


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "words"),
    [
        ("{id: xa-1, parent: tinh-a}", "{id: xa-1, parent: tinh-q}", "parent", 13, "unknown parent 'tinh-q'"),
        ("{id: huyen-x, parent: tinh-b}", "{id: huyen-x, parent: cum-1}", "parent", 10, "unknown parent"),
        ("{id: xa-1, parent: tinh-a}", "{id: xa-1}", "parent", 13, "needs a parent"),
        (
            "{id: xa-1, parent: tinh-a}",
            "{id: xa-1, parent: tinh-a, sesions: []}",
            "sesions",
            13,
            "unknown field",
        ),
    ],
)
def test_flat_list_errors(tmp_path: Path, old: str, new: str, field: str, line: int, words: str) -> None:
    with pytest.raises(ScheduleError) as info:
        load_registry(write(tmp_path, FLAT.replace(old, new)))
    assert (info.value.field, info.value.line) == (field, line)
    assert words in info.value.message


def test_overlap_is_found_between_sessions_that_are_not_neighbours(tmp_path: Path) -> None:
    sessions = """\
  sessions:
    - {name: dai, start: "05:00", end: "07:00", weekdays: [mon]}
    - {name: ngan, start: "05:30", end: "05:45", weekdays: [tue]}
    - {name: muon, start: "06:00", end: "06:30", weekdays: [mon]}
"""
    text = FLAT.replace('  sessions:\n    - {name: sang, start: "05:30", end: "06:00"}\n', sessions)
    with pytest.raises(ScheduleError, match="'dai' and 'muon' overlap"):
        load_registry(write(tmp_path, text))
    same_name = text.replace("name: muon", "name: dai").replace(
        '"06:00", end: "06:30"', '"08:00", end: "08:30"'
    )
    with pytest.raises(ScheduleError, match="two sessions are named 'dai'"):
        load_registry(write(tmp_path, same_name))


def test_nested_entries_reject_parent_and_typos(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError) as info:
        load_registry(
            write(tmp_path, STATIONS_YAML.replace("{id: xa-e, name: Xã E}", "{id: xa-e, parent: x}"))
        )
    assert info.value.field == "parent" and "only for the top-level lists" in info.value.message


def test_the_sample_registry_loads() -> None:
    from tests.conftest import REPO

    registry = load_registry(REPO / "schedules" / "stations.yaml")
    assert len(registry.stations) >= 8 and all(s.sessions for s in registry.stations)
