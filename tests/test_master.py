"""Mastering and assembly on real renders: both renditions meet their targets as measured independently,
tags and chapters read back, tempo fitting, and the checks that make a bad render an error."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from pipeline.assemble import Piece, plan_timeline
from pipeline.build import build, prepare
from pipeline.config import load_settings
from pipeline.errors import ConfigError, PipelineError, RenderError
from pipeline.master import limiter_then_gain
from pipeline.render import fit_tempo, render_script
from pipeline.scripts import parse_script
from pipeline.speech import SpeechRequest, cache_path
from pipeline.templates import load_template
from tests.test_build_e2e import ebur128, ffprobe


def render(project: Path) -> dict[str, object]:
    settings = load_settings(project / "radio.toml")
    result = render_script(project / "scripts" / "thong-bao-ngan.md", prepare(settings))
    data: dict[str, object] = json.loads(result.manifest.read_text(encoding="utf-8"))
    return data


def lra(path: Path) -> float:
    err = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=framelog=verbose", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace", check=True).stderr  # fmt: skip
    return float(err[err.rfind("Loudness range:") :].split("LRA:")[1].split("LU")[0])


def test_both_renditions_meet_their_targets_and_carry_tags(project: Path) -> None:
    manifest = render(project)
    programs = project / "build" / "programs"
    renditions = manifest["renditions"]
    assert isinstance(renditions, dict) and set(renditions) == {"loudspeaker", "web"}
    assert manifest["file"] == "thong-bao-ngan.mp3" and renditions["web"]["file"] == "thong-bao-ngan.web.mp3"
    ceilings = {"loudspeaker": -2.0, "web": -1.5}
    for name, info in renditions.items():
        path = programs / info["file"]
        probe = ffprobe(path)
        assert probe["sample_rate"] == "44100" and probe["channels"] == "1"
        assert abs(float(probe["duration"]) - info["duration_s"]) < 0.05
        integrated, peak = ebur128(path)
        assert abs(integrated - -16.0) <= 0.5, name
        assert peak <= ceilings[name], name
        assert info["sha256"] and info["bytes"] == path.stat().st_size
    assert lra(programs / "thong-bao-ngan.mp3") <= 5.0
    id3 = ID3(programs / "thong-bao-ngan.web.mp3")
    assert {f.desc: str(f) for f in id3.getall("TXXX")}["rendition"] == "web"
    chapters = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json",
                               str(programs / "thong-bao-ngan.mp3")],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
    # ID3 leaves CHAP frame order free (CTOC carries the order) and ffmpeg lists them as stored: sort by time
    found = sorted(json.loads(chapters)["chapters"], key=lambda c: float(c["start_time"]))
    assert [c["tags"]["title"] for c in found] == ["Lịch tiếp dân", "Vay vốn"]
    assert float(found[0]["start_time"]) == 0.0
    assert abs(float(found[-1]["end_time"]) - float(renditions["loudspeaker"]["duration_s"])) < 0.05
    toc = id3.getall("CTOC")[0]
    assert [id3[f"CHAP:{e}"].sub_frames["TIT2"].text[0] for e in toc.child_element_ids] == [
        "Lịch tiếp dân",
        "Vay vốn",
    ]


def test_artwork_and_ident_from_the_template(project: Path) -> None:
    template = project / "audio_templates" / "standard"
    shutil.copy(Path(__file__).parent.parent / "audio_templates" / "standard" / "cover.png", template)
    shutil.copy(template / "intro.flac", template / "ident.flac")
    text = (template / "template.yaml").read_text(encoding="utf-8")
    (template / "template.yaml").write_text(
        text + "ident: ident.flac\nartwork: cover.png\n", encoding="utf-8"
    )
    plain = plan_timeline(load_template(project / "audio_templates", "standard"), 1.0, 1.0,
                          [Piece(Path("a"), 2.0, 0), Piece(Path("b"), 2.0, 1)], ident_s=1.0)  # fmt: skip
    assert len(plain.ident_starts) == 1
    manifest = render(project)
    id3 = ID3(project / "build" / "programs" / "thong-bao-ngan.mp3")
    [cover] = id3.getall("APIC")
    assert cover.mime == "image/png" and cover.data.startswith(b"\x89PNG")
    # one 1 s ident plus a second section gap more than without it
    assert isinstance(manifest["duration_s"], float) and manifest["duration_s"] > 8.0


def pieces(seconds: list[float]) -> list[Piece]:
    return [Piece(Path(f"p{i}.wav"), s, i // 2) for i, s in enumerate(seconds)]


def test_fit_tempo_both_ways_and_the_limits(project: Path) -> None:
    template = load_template(project / "audio_templates", "standard")
    script = parse_script(project / "scripts" / "thong-bao-ngan.md")
    program = replace(script, meta=replace(script.meta, kind="program"))
    natural = fit_tempo(program, template, pieces([40.0] * 5), intro_s=1, outro_s=1, ident_s=None,
                        max_change=0.07)  # fmt: skip
    assert natural.tempo == 1.0 and 180 <= natural.total_s <= 300
    slow = fit_tempo(
        program, template, pieces([34.0] * 5), intro_s=1, outro_s=1, ident_s=None, max_change=0.07
    )
    assert slow.tempo < 1.0 and 180 <= slow.total_s <= 300
    fast = fit_tempo(
        program, template, pieces([61.0] * 5), intro_s=1, outro_s=1, ident_s=None, max_change=0.07
    )
    assert fast.tempo > 1.0 and 180 <= fast.total_s <= 300
    with pytest.raises(RenderError) as long:
        fit_tempo(program, template, pieces([75.0] * 5), intro_s=1, outro_s=1, ident_s=None, max_change=0.07)
    assert (
        "longer than the 300 s maximum" in long.value.message
        and "cut about 79 s (roughly 198 words)" in long.value.message
    )
    assert "even with the speech tempo changed by up to 7%" in long.value.message
    with pytest.raises(RenderError) as short:
        fit_tempo(program, template, pieces([20.0] * 5), intro_s=1, outro_s=1, ident_s=None, max_change=0.07)
    assert "shorter than the 180 s minimum" in short.value.message


def test_real_render_with_tempo_change(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.render as render_module

    natural = render(project)
    duration = float(natural["duration_s"])  # type: ignore[arg-type]
    shutil.rmtree(project / "build" / "programs")
    # Make the notice's natural length a little too long for its kind: speech must speed up to fit.
    monkeypatch.setitem(render_module.DURATION_BOUNDS_S, "notice", (1.0, duration - 0.5))
    monkeypatch.setattr(render_module, "FIT_MARGIN_S", 0.1)
    fitted = render(project)
    assert float(fitted["tempo"]) > 1.0  # type: ignore[arg-type]
    assert float(fitted["duration_s"]) <= duration - 0.4  # type: ignore[arg-type]
    probe = ffprobe(project / "build" / "programs" / "thong-bao-ngan.mp3")
    assert abs(float(probe["duration"]) - float(fitted["duration_s"])) < 0.05  # type: ignore[arg-type]


def test_missing_jingle_is_a_clear_error(project: Path) -> None:
    (project / "audio_templates" / "standard" / "intro.flac").unlink()
    with pytest.raises(ConfigError) as info:
        render(project)
    assert "intro.flac" in str(info.value) and "does not exist" in str(info.value)


def test_corrupt_jingle_names_the_file_and_leaves_nothing(project: Path) -> None:
    (project / "audio_templates" / "standard" / "bed.flac").write_bytes(b"fLaC but not really")
    settings = load_settings(project / "radio.toml")
    outcome = build(settings, [project / "scripts" / "thong-bao-ngan.md"], jobs=1)
    [failure] = outcome.failures
    assert isinstance(failure, PipelineError) and "bed.flac" in str(failure)
    assert not list((project / "build" / "programs").glob("*.mp3"))


def test_silent_speech_is_an_error_naming_section_and_line(project: Path) -> None:
    settings = load_settings(project / "radio.toml")
    context = prepare(settings)
    # Put silence in the speech cache where the second paragraph's audio belongs.
    request = SpeechRequest(
        "hộ nghèo được vay tối đa một trăm triệu đồng.", "espeak", "vi", 150, context.engine_version
    )
    target = cache_path(settings.cache_dir, request)
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"\x00\x00" * 22050 * 2)
    with pytest.raises(RenderError) as info:
        render_script(project / "scripts" / "thong-bao-ngan.md", context)
    assert "silent" in info.value.message and "Vay vốn" in info.value.message
    assert info.value.line == 21
    assert not (project / "build" / "programs" / "thong-bao-ngan.mp3").exists()


@pytest.mark.parametrize("gain", [-6.0, 0.0, 8.0, 21.0, 23.5, 35.0])
def test_limiter_then_gain_keeps_peaks_under_the_ceiling_for_any_gain(gain: float) -> None:
    """Whatever the gain, peaks after the chain end at ceiling - margin: a quiet source that needs more
    than alimiter's 24 dB range gets part of its gain before the limiter."""
    import re

    chain = limiter_then_gain(gain, -1.5, 1.2)
    pre = re.match(r"volume=(-?[\d.]+)dB,", chain)
    pre_db = float(pre.group(1)) if pre else 0.0
    limit = float(re.search(r"limit=([\d.]+)", chain).group(1))  # type: ignore[union-attr]
    post_db = float(re.search(r"alimiter=.*volume=(-?[\d.]+)dB", chain).group(1))  # type: ignore[union-attr]
    assert 0.0625 <= limit <= 1.0
    assert abs(pre_db + post_db - gain) < 1e-6
    peak_after = 20 * math.log10(limit) + post_db
    assert peak_after <= -1.5 - 1.2 + 1e-3 or gain < -1.5
