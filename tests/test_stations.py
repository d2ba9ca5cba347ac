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
