"""Playlist files: content, relative URLs, revisions that move only on change, atomic writes."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.playlists import write_playlist
from pipeline.schedule import plan_day
from tests.test_schedule import DAY, STATION, program

NOW = datetime(2026, 11, 24, 1, 0).astimezone()


def test_json_and_m3u8(tmp_path: Path) -> None:
    plan = plan_day(STATION, DAY, (program("a", 200), program("b", 100)), gap_s=2)
    assert write_playlist(plan, tmp_path, NOW)
    data = json.loads((tmp_path / "xa-c" / "2026-11-24.json").read_text(encoding="utf-8"))
    assert data["station"] == "xa-c" and data["date"] == "2026-11-24" and data["revision"] == 1
    assert data["timezone"] == "Asia/Ho_Chi_Minh"
    item = data["sessions"][0]["items"][0]
    assert set(item) == {
        "program_id",
        "title",
        "starts_at",
        "duration_s",
        "url",
        "sha256",
        "bytes",
        "priority",
    }
    assert item["url"] == "../../programs/a.mp3"
    m3u8 = (tmp_path / "xa-c" / "2026-11-24.m3u8").read_text(encoding="utf-8").splitlines()
    assert m3u8[0] == "#EXTM3U"
    assert "#EXTINF:200,Tiêu đề a" in m3u8 and "../../programs/a.mp3" in m3u8
    assert sorted(p.name for p in (tmp_path / "xa-c").iterdir()) == ["2026-11-24.json", "2026-11-24.m3u8"]


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


def test_same_inputs_give_identical_files_apart_from_generated_at(tmp_path: Path) -> None:
    catalogue = tuple(program(f"p{i}", 400) for i in range(9))
    for run in ("one", "two"):
        for offset in range(3):
            write_playlist(
                plan_day(STATION, date(2026, 12, 1) + timedelta(days=offset), catalogue, 2),
                tmp_path / run,
                NOW,
            )
    for path in (tmp_path / "one").rglob("*.*"):
        assert path.read_bytes() == (tmp_path / "two" / path.relative_to(tmp_path / "one")).read_bytes()
