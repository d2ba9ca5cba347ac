"""End to end with the real espeak-ng, ffmpeg and mutagen on a short fixture script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from tests.conftest import SHORT_SCRIPT

RADIO = [sys.executable, "-m", "pipeline"]


def radio(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RADIO, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env or {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )


def ffprobe(path: Path) -> dict[str, str]:
    entries = "format=duration:stream=sample_rate,channels,codec_name"
    args = ["ffprobe", "-v", "error", "-show_entries", entries, "-of", "default=nw=1", str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def ebur128(path: Path) -> tuple[float, float]:
    """Independent measurement: integrated loudness and true peak of the decoded file."""
    err = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace", check=True).stderr  # fmt: skip
    summary = err[err.rfind("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return integrated, peak


def test_build_renders_tagged_program_and_schedules_it(project: Path) -> None:
    done = radio(project, "build")
    assert done.returncode == 0, done.stderr
    programs = project / "build" / "programs"
    mp3 = programs / "thong-bao-ngan.mp3"
    probe = ffprobe(mp3)
    assert probe["codec_name"] == "mp3" and probe["sample_rate"] == "44100" and probe["channels"] == "1"
    manifest = json.loads((programs / "thong-bao-ngan.json").read_text(encoding="utf-8"))
    duration = float(probe["duration"])
    # 1 s intro + two spoken sentences + gaps + 1 s outro
    assert 4 < duration < 20
    assert abs(manifest["duration_s"] - duration) < 0.1
    integrated, peak = ebur128(mp3)
    assert abs(integrated - -16) <= 1.0
    assert peak <= -2.0 + 0.05
    assert abs(manifest["loudness"]["integrated_lufs"] - integrated) < 0.2
    assert manifest["bytes"] == mp3.stat().st_size
    assert manifest["format"] == {"codec": "mp3", "sample_rate": 44100, "channels": 1, "bitrate_kbps": 96}
    assert [s["speaker"] for s in manifest["speech"]] == ["A", "B"]
    assert {s["engine"] for s in manifest["speech"]} == {"espeak"}
    id3 = ID3(mp3)
    assert id3.version[:2] == (2, 4)
    assert str(id3["TIT2"]) == "Thông báo ngắn về lịch tiếp dân"
    assert str(id3["TALB"]) == "Giảm nghèo về thông tin"
    assert str(id3["TPE1"]) == "Đài truyền thanh xã C"
    assert str(id3["TLAN"]) == "vie"
    assert "UBND xã tiếp dân" in id3.getall("USLT")[0].text
    assert [c.sub_frames["TIT2"].text[0] for c in sorted(id3.getall("CHAP"), key=lambda c: c.start_time)] == [
        "Lịch tiếp dân", "Vay vốn"]  # fmt: skip
    vtt = (programs / "thong-bao-ngan.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "<v B>Hộ nghèo được vay" in vtt
    assert not [p for p in programs.iterdir() if p.name.startswith(".") and "tmp" in p.name]

    done = radio(project, "schedule", "--from", "2026-11-24", "--days", "2")
    assert done.returncode == 0, done.stderr
    assert "not approved" in done.stdout  # rendered is not enough: an editor approves first
    done = radio(project, "approve", "thong-bao-ngan", "--by", "Biên tập viên A")
    assert done.returncode == 0, done.stderr
    done = radio(project, "schedule", "--from", "2026-11-24", "--days", "2")
    assert done.returncode == 0, done.stderr
    for station in ("xa-c", "xa-d", "xa-e"):
        day = json.loads((project / "build" / "playlists" / station / "2026-11-24.json").read_text("utf-8"))
        items = [i for s in day["sessions"] for i in s["items"]]
        assert items and all(i["sha256"] == manifest["sha256"] for i in items)
        assert (project / "build" / "playlists" / station / "2026-11-24.m3u8").is_file()
        assert (project / "build" / "playlists" / station / "2026-11-24.xspf").is_file()


def test_second_build_is_a_no_op_and_an_edit_rebuilds(project: Path) -> None:
    assert radio(project, "build").returncode == 0
    mp3 = project / "build" / "programs" / "thong-bao-ngan.mp3"
    first = mp3.stat().st_mtime_ns
    again = radio(project, "build")
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert mp3.stat().st_mtime_ns == first
    script = project / "scripts" / "thong-bao-ngan.md"
    script.write_text(SHORT_SCRIPT.replace("100 triệu", "50 triệu"), encoding="utf-8")
    edited = radio(project, "build")
    assert "1 rendered" in edited.stdout
    manifest = json.loads((project / "build" / "programs" / "thong-bao-ngan.json").read_text("utf-8"))
    assert [s["cached"] for s in manifest["speech"]] == [True, False]  # only the edited paragraph


def test_bad_script_fails_alone_with_file_line_field(project: Path) -> None:
    bad = SHORT_SCRIPT.replace("id: thong-bao-ngan", "id: hong").replace(
        "valid_from: 2025-01-01", "valid_from: 2025-13-01"
    )
    (project / "scripts" / "hong.md").write_text(bad, encoding="utf-8")
    done = radio(project, "build")
    assert done.returncode == 1
    assert "hong.md:9: field 'valid_from'" in done.stderr
    programs = project / "build" / "programs"
    assert (programs / "thong-bao-ngan.mp3").is_file()
    assert not list(programs.glob("hong*"))


def test_missing_tool_stops_before_any_work(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    empty_bin = tmp_path_factory.mktemp("bin")
    env = {**os.environ, "PATH": str(empty_bin), "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = radio(project, "build", env=env)
    assert done.returncode == 2
    assert "ffmpeg is not installed" in done.stderr
    assert not (project / "build" / "programs").exists()


def test_failed_render_leaves_no_partial_file(project: Path) -> None:
    (project / "audio_templates" / "standard" / "outro.flac").write_bytes(b"not audio at all")
    done = radio(project, "build")
    assert done.returncode == 1
    assert "outro.flac" in done.stderr
    programs = project / "build" / "programs"
    assert not [p for p in programs.iterdir() if not p.name.endswith(".lock")]


def test_too_long_program_says_how_much_to_cut(project: Path) -> None:
    text = SHORT_SCRIPT.replace("kind: notice", "kind: program")
    (project / "scripts" / "thong-bao-ngan.md").write_text(text, encoding="utf-8")
    done = radio(project, "build")
    assert done.returncode == 1
    assert "shorter than the 180 s minimum for its kind" in done.stderr
    advice = r"even with the speech tempo changed by up to 7%: add about \d+ s \(roughly \d+ words\)"
    assert re.search(advice, done.stderr)


def test_a_rebuild_refreshes_published_playlists(project: Path) -> None:
    """An approved program re-rendered from the same script (here: a template change) keeps its approval,
    and the playlists already published name the new file, so stations fetch and verify the right one."""
    assert radio(project, "build").returncode == 0
    assert radio(project, "approve", "--all", "--by", "test").returncode == 0
    # from today: refreshing re-plans the published days from each station's today on
    assert radio(project, "schedule", "--from", "today", "--days", "1").returncode == 0
    template = project / "audio_templates" / "standard" / "template.yaml"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace("bed_level_db: -18", "bed_level_db: -20"), encoding="utf-8")
    done = radio(project, "build")
    assert done.returncode == 0 and "1 rendered" in done.stdout and "refreshed" in done.stdout
    manifest = json.loads((project / "build" / "programs" / "thong-bao-ngan.json").read_text("utf-8"))
    [published] = (project / "build" / "playlists" / "xa-c").glob("*.json")
    day = json.loads(published.read_text("utf-8"))
    items = [i for s in day["sessions"] for i in s["items"]]
    assert items and {i["sha256"] for i in items} == {manifest["sha256"]}
    assert day["revision"] == 2
