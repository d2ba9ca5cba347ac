"""Playlist files: JSON contract, M3U8, XSPF, relative URLs, revisions that move only on change, atomic
batches, play history read back from published days."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalogue import Catalogue
from pipeline.errors import ScheduleError
from pipeline.playlists import publish, read_history, remove_stale_temps, write_playlist
from pipeline.schedule import history_after, plan_day, plan_days
from tests.test_schedule import DAY, STATION, program

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
XSPF = "{http://xspf.org/ns/0/}"


def test_json_m3u8_and_xspf(tmp_path: Path) -> None:
    plan = plan_day(STATION, DAY, (program("a", 200), program("b", 100.25)), gap_s=2)
    assert write_playlist(plan, tmp_path, NOW)
    data = json.loads((tmp_path / "xa-c" / "2026-11-24.json").read_text(encoding="utf-8"))
    assert list(data)[:5] == ["station", "date", "timezone", "revision", "generated_at"]
    assert data["station"] == "xa-c" and data["date"] == "2026-11-24" and data["revision"] == 1
    assert data["timezone"] == "Asia/Ho_Chi_Minh" and data["emergency"] is False
    first, second = data["sessions"][0]["items"]
    assert set(first) == {
        "program_id",
        "title",
        "starts_at",
        "duration_s",
        "url",
        "sha256",
        "bytes",
        "priority",
    }
    assert first["url"] == "../../programs/a.mp3"
    assert first["starts_at"] == "2026-11-24T05:30:00+07:00"
    assert second["starts_at"] == "2026-11-24T05:33:22+07:00"
    m3u8 = (tmp_path / "xa-c" / "2026-11-24.m3u8").read_text(encoding="utf-8").splitlines()
    assert m3u8[0] == "#EXTM3U"
    assert "#EXTINF:200,Tiêu đề a" in m3u8 and "../../programs/a.mp3" in m3u8
    tracks = ET.parse(tmp_path / "xa-c" / "2026-11-24.xspf").getroot().findall(f"{XSPF}trackList/{XSPF}track")
    assert [t.findtext(f"{XSPF}location") for t in tracks] == [
        "../../programs/a.mp3",
        "../../programs/b.mp3",
    ] * 2
    assert tracks[1].findtext(f"{XSPF}duration") == "100250"
    assert tracks[0].findtext(f"{XSPF}title") == "Tiêu đề a"
    assert sorted(p.name for p in (tmp_path / "xa-c").iterdir()) == [
        "2026-11-24.json",
        "2026-11-24.m3u8",
        "2026-11-24.xspf",
    ]


def test_emergency_is_flagged_on_the_day_and_the_item(tmp_path: Path) -> None:
    plan = plan_day(STATION, DAY, (program("a"), program("khan", 60, priority="emergency")), gap_s=2)
    write_playlist(plan, tmp_path, NOW)
    data = json.loads((tmp_path / "xa-c" / "2026-11-24.json").read_text(encoding="utf-8"))
    assert data["emergency"] is True
    for session in data["sessions"]:
        assert session["items"][0]["program_id"] == "khan" and session["items"][0]["emergency"] is True
        assert "emergency" not in session["items"][1]


def test_titles_are_escaped_in_xspf(tmp_path: Path) -> None:
    odd = program("a")
    odd = type(odd)(**{**odd.__dict__, "title": 'Hỏi & đáp <"mới">'})
    write_playlist(plan_day(STATION, DAY, (odd,), gap_s=2), tmp_path, NOW)
    root = ET.parse(tmp_path / "xa-c" / "2026-11-24.xspf").getroot()
    assert root.findtext(f"{XSPF}trackList/{XSPF}track/{XSPF}title") == 'Hỏi & đáp <"mới">'


def test_revision_moves_only_when_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "xa-c" / "2026-11-24.json"
    plan = plan_day(STATION, DAY, (program("a"),), gap_s=2)
    write_playlist(plan, tmp_path, NOW)
    before = path.read_bytes()
    assert not write_playlist(plan, tmp_path, NOW + timedelta(hours=1))
    assert path.read_bytes() == before  # unchanged day: not rewritten, generated_at kept
    changed = plan_day(STATION, DAY, (program("a"), program("b")), gap_s=2)
    assert write_playlist(changed, tmp_path, NOW + timedelta(hours=2))
    assert json.loads(path.read_text(encoding="utf-8"))["revision"] == 2
    path.with_suffix(".xspf").unlink()  # a missing sibling is written again, without a new revision
    assert write_playlist(changed, tmp_path, NOW + timedelta(hours=3))
    assert json.loads(path.read_text(encoding="utf-8"))["revision"] == 3
    assert path.with_suffix(".xspf").is_file()


def test_same_inputs_give_identical_files_apart_from_generated_at(tmp_path: Path) -> None:
    catalogue = Catalogue.of(tuple(program(f"p{i}", 400) for i in range(9)))
    for run, now in (("one", NOW), ("two", NOW + timedelta(days=1))):
        publish(plan_days(STATION, date(2026, 12, 1), 3, catalogue, 2, {}, 14), tmp_path / run, now)
    for path in sorted((tmp_path / "one").rglob("*.*")):
        other = (tmp_path / "two" / path.relative_to(tmp_path / "one")).read_text(encoding="utf-8")
        mine = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            mine, other = (json.loads(t) for t in (mine, other))
            assert mine.pop("generated_at") != other.pop("generated_at")
        assert mine == other


def test_history_is_read_back_from_published_days(tmp_path: Path) -> None:
    catalogue = Catalogue.of(tuple(program(f"p{i}", 700) for i in range(5)))
    plans = plan_days(STATION, DAY, 4, catalogue, 2, {}, 14)
    publish(plans[:2], tmp_path, NOW)
    expected: dict[str, int] = {}
    for plan in plans[:2]:
        expected = history_after(expected, plan)
    assert read_history(tmp_path, "xa-c", DAY + timedelta(days=2), 14) == expected
    assert read_history(tmp_path, "xa-c", DAY + timedelta(days=2), 1) == history_after({}, plans[1])
    # so a later run that starts on day 3 reproduces what one long run planned
    history = read_history(tmp_path, "xa-c", DAY + timedelta(days=2), 14)
    assert plan_days(STATION, DAY + timedelta(days=2), 2, catalogue, 2, history, 14) == plans[2:]


def test_a_failed_batch_leaves_no_temp_files_and_no_half_day(tmp_path: Path) -> None:
    good = plan_day(STATION, DAY, (program("a"),), gap_s=2)
    blocked = plan_day(
        type(STATION)("xa-z", "Z", STATION.timezone, STATION.sessions, STATION.parents),
        DAY,
        (program("a"),),
        2,
    )
    (tmp_path / "xa-z").write_text("a file where a station folder should be", encoding="utf-8")
    with pytest.raises(ScheduleError, match="cannot write playlists"):
        publish([good, blocked], tmp_path, NOW)
    assert [p.name for p in (tmp_path / "xa-c").iterdir()] == []  # nothing of the batch became visible


def test_stale_temps_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    write_playlist(plan_day(STATION, DAY, (program("a"),), gap_s=2), tmp_path, NOW)
    leftover = tmp_path / "xa-c" / ".2026-11-25.json.abc123.tmp"
    leftover.write_text("{", encoding="utf-8")
    assert remove_stale_temps(tmp_path) == 1
    assert not leftover.exists() and (tmp_path / "xa-c" / "2026-11-24.json").is_file()


GOLDEN = Path(__file__).parent / "golden"


def sample_catalogue() -> Catalogue:
    """The sample scripts' real front matter with fixed durations, plus an emergency bulletin for one former
    district, an evergreen filler and one program still waiting for approval."""
    import dataclasses

    from pipeline.editorial import APPROVED, NOT_APPROVED
    from pipeline.models import Repeat
    from pipeline.scripts import find_scripts, parse_script
    from tests.conftest import REPO

    programs = []
    for index, path in enumerate(find_scripts(REPO / "scripts")):
        meta = parse_script(path).meta
        base = program(meta.id, 230 + 9 * index, targets=meta.targets, priority=meta.priority,
                       valid=(meta.valid_from, meta.valid_until), repeat=meta.repeat)  # fmt: skip
        programs.append(dataclasses.replace(base, title=meta.title, sha256=f"{index:064d}", bytes=3_000_000))
    programs += [
        program("bao-lu-khan-cap", 90, targets=("ba-thuoc",), priority="emergency",
                valid=(date(2026, 11, 28), date(2026, 11, 28))),
        program("nhac-hieu-xa", 45, targets=("thanh-hoa",), kind="filler"),
        program("cho-duyet", 200, targets=("thanh-hoa",), state=NOT_APPROVED),
        program("mot-lan-moi-ngay", 120, targets=("cam-thuy",), repeat=Repeat(per_day=1), state=APPROVED),
    ]  # fmt: skip
    return Catalogue.of(programs)


def test_golden_playlists_for_the_sample_registry(tmp_path: Path) -> None:
    """The sample registry's Saturday and Sunday (weekday-only sessions drop out on Sunday). Regenerate
    after an intended change with UPDATE_GOLDEN=1 and review the diff."""
    import os

    from pipeline.stations import load_registry
    from tests.conftest import REPO

    registry = load_registry(REPO / "schedules" / "stations.yaml")
    catalogue = sample_catalogue()
    plans = [p for s in registry.stations for p in plan_days(s, date(2026, 11, 28), 2, catalogue, 2, {}, 14)]
    publish(plans, tmp_path, NOW)
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*"))
    kept = [p for p in produced if p.suffix == ".json" or p.parts[0] == "cam-tan"]
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for relative in kept:
            (GOLDEN / relative).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / relative).write_bytes((tmp_path / relative).read_bytes())
    assert sorted(p.relative_to(GOLDEN) for p in GOLDEN.rglob("*.*")) == kept
    for relative in kept:
        assert (tmp_path / relative).read_text(encoding="utf-8") == (GOLDEN / relative).read_text(
            encoding="utf-8"
        ), relative
    cam_tan = json.loads((tmp_path / "cam-tan" / "2026-11-28.json").read_text(encoding="utf-8"))
    assert {e["reason"] for e in cam_tan["exceptions"]} >= {"capacity", "not approved"}
    lung_cao = json.loads((tmp_path / "lung-cao" / "2026-11-28.json").read_text(encoding="utf-8"))
    assert lung_cao["emergency"] and all(s["items"][0]["emergency"] for s in lung_cao["sessions"])
