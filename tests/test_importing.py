"""Recorded inserts inside scripts, and whole pre-produced programs brought in with `radio import`."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline.build import build, prepare
from pipeline.config import load_settings
from pipeline.errors import ScriptError
from pipeline.importing import import_program
from pipeline.render import render_script
from tests.conftest import SHORT_SCRIPT
from tests.test_build_e2e import ebur128

META = """\
id: ban-tin-tieng-muong
kind: notice
title: Bản tin tiếng Mường về hỗ trợ hộ nghèo
series: Giảm nghèo về thông tin
producer: Đài truyền thanh xã C
valid_from: 2025-01-01
valid_until: 2099-12-31
targets: [tinh-a]
priority: normal
"""


def recording(path: Path, seconds: int, level_db: float) -> Path:
    """Real speech (espeak-ng) at a deliberately odd level, as an MP3 like a field recording."""
    wav = Path(tempfile.mkdtemp()) / "speech.wav"
    text = " ".join(["Bà con chú ý nghe thông báo về chính sách hỗ trợ hộ nghèo của xã."] * seconds)
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-t", str(seconds), "-af",
                    f"volume={level_db}dB", str(path)], check=True)  # fmt: skip
    return path


def test_import_masters_both_renditions_and_joins_the_build(project: Path, tmp_path: Path) -> None:
    audio = recording(tmp_path / "rec.mp3", 12, -14)
    meta = tmp_path / "rec.yaml"
    meta.write_text(META, encoding="utf-8")
    settings = load_settings(project / "radio.toml")
    result = import_program(audio, meta, settings)
    assert not result.skipped
    assert (project / "imports" / "ban-tin-tieng-muong.mp3").is_file()
    assert (project / "imports" / "ban-tin-tieng-muong.yaml").read_text(encoding="utf-8") == META
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    for name, ceiling in (("loudspeaker", -2.0), ("web", -1.5)):
        integrated, peak = ebur128(project / "build" / "programs" / manifest["renditions"][name]["file"])
        assert abs(integrated + 16) <= 0.5 and peak <= ceiling
    assert manifest["speech"] == [] and len(manifest["chapters"]) == 1
    # The build treats the import like a script: unchanged now, and re-mastered when its source changes.
    paths = [project / "scripts" / "thong-bao-ngan.md", project / "imports" / "ban-tin-tieng-muong.yaml"]
    outcome = build(settings, paths, jobs=1)
    assert {r.program_id: r.skipped for r in outcome.results} == {
        "thong-bao-ngan": False,
        "ban-tin-tieng-muong": True,
    }
    recording(project / "imports" / "ban-tin-tieng-muong.mp3", 10, -20)
    again = build(settings, paths[1:], jobs=1)
    assert [r.skipped for r in again.results] == [False], again.failures


def test_import_metadata_errors_name_file_line_field(project: Path, tmp_path: Path) -> None:
    audio = recording(tmp_path / "rec.mp3", 8, -14)
    meta = tmp_path / "rec.yaml"
    meta.write_text(META.replace("valid_until: 2099-12-31", "valid_until: 2099-02-30"), encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        import_program(audio, meta, load_settings(project / "radio.toml"))
    assert info.value.field == "valid_until" and info.value.line == 7
    assert not (project / "imports").exists() or not list((project / "imports").iterdir())


def test_recorded_insert_is_loudness_matched_and_gets_a_chapter(project: Path) -> None:
    inserts = project / "scripts" / "inserts"
    inserts.mkdir()
    recording(inserts / "phong-van.mp3", 4, -22)  # much quieter than the presenters
    script = project / "scripts" / "thong-bao-ngan.md"
    line = "![Phỏng vấn cán bộ tín dụng](inserts/phong-van.mp3)"
    script.write_text(SHORT_SCRIPT.replace("## Vay vốn\n", f"## Vay vốn\n\n{line}\n"), encoding="utf-8")
    context = prepare(load_settings(project / "radio.toml"))
    manifest = json.loads(render_script(script, context).manifest.read_text(encoding="utf-8"))
    titles = [c["title"] for c in manifest["chapters"]]
    assert titles == ["Lịch tiếp dân", "Phỏng vấn cán bộ tín dụng", "Vay vốn"]
    insert = manifest["chapters"][1]
    assert 3.9 <= insert["end_s"] - insert["start_s"] <= 4.6  # the insert plus its gap
    # Loudness-matched: the insert's stretch of the program is about as loud as the speech around it.
    mp3 = project / "build" / "programs" / "thong-bao-ngan.mp3"
    part = project / "insert.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(insert["start_s"]), "-t", "3.5",
                    "-i", str(mp3), str(part)], check=True)  # fmt: skip
    insert_level, _ = ebur128(part)
    assert abs(insert_level - -16) <= 3.0
    vtt = (project / "build" / "programs" / "thong-bao-ngan.vtt").read_text(encoding="utf-8")
    assert "[Phỏng vấn cán bộ tín dụng]" in vtt


def test_missing_insert_names_script_and_line(project: Path) -> None:
    script = project / "scripts" / "thong-bao-ngan.md"
    line = "![Phỏng vấn](inserts/khong-co.mp3)"
    script.write_text(SHORT_SCRIPT.replace("## Vay vốn\n", f"## Vay vốn\n\n{line}\n"), encoding="utf-8")
    outcome = build(load_settings(project / "radio.toml"), [script], jobs=1)
    [failure] = outcome.failures
    assert failure.line == 21 and "khong-co.mp3" in failure.message and "does not exist" in failure.message
