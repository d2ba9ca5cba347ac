"""The speech stage: espeak-ng voices and timings, the speech cache, engine choice auto/edge/espeak with the
circuit breaker, and the transcript timings, on the tiny fixture project (edge-tts through the fake)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import espeak
from pipeline.build import prepare
from pipeline.config import load_settings
from pipeline.reading import load_lexicon
from pipeline.render import speak
from pipeline.scripts import parse_script
from pipeline.speech import Cue, SpeechRequest, split_sentences, synthesize, written_cues
from tests.conftest import SHORT_SCRIPT
from tests.fake_edge_service import FakeEdgeService

REPO = Path(__file__).resolve().parent.parent
SCRIPT = "scripts/thong-bao-ngan.md"
TWO_SENTENCES = "A: Ngày 05/3/2025, UBND xã tiếp dân lúc 7h30. Bà con nhớ mang theo căn cước công dân!"
DEAD_URL = "ws://127.0.0.1:9/consumer/speech/synthesize/readaloud/edge/v1"  # nothing listens on port 9


@pytest.fixture
def fake() -> Iterator[FakeEdgeService]:
    with FakeEdgeService() as service:
        yield service


def use_engine(project: Path, engine: str, *, extra: str = "") -> None:
    """The fixture project with edge-tts voices, quick retries and the given engine."""
    config = project / "radio.toml"
    text = config.read_text(encoding="utf-8").replace('engine = "espeak"', f'engine = "{engine}"')
    text = text.replace(
        "rate_wpm = 150\n", f"rate_wpm = 150\nedge_retries = 1\nedge_backoff_s = 0.01\n{extra}"
    )
    text = text.replace("[presenters.female]\n", '[presenters.female]\nedge = "vi-VN-HoaiMyNeural"\n')
    text = text.replace("[presenters.male]\n", '[presenters.male]\nedge = "vi-VN-NamMinhNeural"\n')
    config.write_text(text, encoding="utf-8")


def radio(project: Path, *args: str, url: str = DEAD_URL) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RADIO_EDGE_TTS_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=project, capture_output=True, text=True, env=env
    )


def manifest(project: Path, program: str = "thong-bao-ngan") -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (project / "build" / "programs" / f"{program}.json").read_text("utf-8")
    )
    return data


def speech_of(project: Path, program: str = "thong-bao-ngan") -> list[dict[str, object]]:
    entries: list[dict[str, object]] = manifest(project, program)["speech"]  # type: ignore[assignment]
    return entries


def vtt_cues(project: Path) -> list[tuple[float, float, str]]:
    text = (project / "build" / "programs" / "thong-bao-ngan.vtt").read_text(encoding="utf-8")

    def seconds(stamp: str) -> float:
        hours, minutes, secs = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(secs)

    return [
        (seconds(m[1]), seconds(m[2]), m[3])
        for m in re.finditer(r"(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\n(.*)", text)
    ]


def two_sentence_script(project: Path) -> None:
    text = SHORT_SCRIPT.replace("A: Ngày 05/3/2025, UBND xã tiếp dân lúc 7h30.", TWO_SENTENCES)
    (project / SCRIPT).write_text(text, encoding="utf-8")


# ---- pure parts


def test_sentences_split_at_end_marks_followed_by_space() -> None:
    assert split_sentences("Một. Hai! Ba? Bốn… năm") == ["Một.", "Hai!", "Ba?", "Bốn…", "năm"]
    assert split_sentences("Mức 1.500.000 đồng, tức 95,5%. Xong.") == [
        "Mức 1.500.000 đồng, tức 95,5%.",
        "Xong.",
    ]
    assert split_sentences("Câu một. … ") == ["Câu một. …"]


def test_transcript_cues_take_written_sentences_when_both_split_alike() -> None:
    spoken = (Cue(0.0, 1.5, "ngày năm tháng ba."), Cue(1.5, 3.0, "bà con nhớ!"))
    cues = written_cues("Ngày 05/3. Bà con nhớ!", spoken, 3.0)
    assert cues == (Cue(0.0, 1.5, "Ngày 05/3."), Cue(1.5, 3.0, "Bà con nhớ!"))
    assert written_cues("TP. Huế. Bà con nhớ!", spoken, 3.0) == (Cue(0.0, 3.0, "TP. Huế. Bà con nhớ!"),)


def test_cache_key_covers_text_engine_voice_prosody_and_version() -> None:
    base = SpeechRequest("xin chào.", "espeak", "vi", 150, "1.51")
    variants = [
        SpeechRequest("xin chào!", "espeak", "vi", 150, "1.51"),
        SpeechRequest("xin chào.", "edge", "vi", 150, "1.51"),
        SpeechRequest("xin chào.", "espeak", "vi+f3", 150, "1.51"),
        SpeechRequest("xin chào.", "espeak", "vi", 160, "1.51"),
        SpeechRequest("xin chào.", "espeak", "vi", 150, "1.51", pitch=40),
        SpeechRequest("xin chào.", "espeak", "vi", 150, "1.52"),
    ]
    keys = {base.key(), *(v.key() for v in variants)}
    assert len(keys) == len(variants) + 1
    edge = SpeechRequest("xin chào.", "edge", "vi-VN-HoaiMyNeural", 0, "7.3.1")
    slower = SpeechRequest(
        "xin chào.", "edge", "vi-VN-HoaiMyNeural", 0, "7.3.1", edge_prosody=("-5%", "+0Hz", "+0%")
    )
    newer = SpeechRequest("xin chào.", "edge", "vi-VN-HoaiMyNeural", 0, "7.3.2")
    assert len({edge.key(), slower.key(), newer.key(), base.key()}) == 4


def test_espeak_voice_names_and_variants() -> None:
    voices, variants = espeak.known_voices()
    for known in ("vi", "vi+f3", "vi-vn-x-south", "Vietnamese_(Central)", "vi+klatt"):
        assert espeak.voice_is_known(known, voices, variants), known
    for unknown in ("vx", "vi+f99", "vi+"):
        assert not espeak.voice_is_known(unknown, voices, variants), unknown


def test_espeak_reads_sentence_by_sentence_and_measures_each(tmp_path: Path) -> None:
    out = tmp_path / "two.wav"
    durations = espeak.synthesize_sentences(
        ["bà con chú ý.", "hôm nay có họp thôn về chuẩn nghèo đa chiều."], voice="vi", rate_wpm=150, out=out
    )
    with wave.open(str(out), "rb") as w:
        total = w.getnframes() / w.getframerate()
    assert len(durations) == 2 and durations[1] > durations[0] > 0.3
    assert abs(sum(durations) - total) < 1e-3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.wav"]  # the parts are gone


# ---- the stage, in process (espeak-ng)


def test_second_synthesis_comes_from_the_cache_and_writes_nothing(project: Path) -> None:
    two_sentence_script(project)
    settings = load_settings(project / "radio.toml")
    context = prepare(settings)
    spoken, _ = speak(parse_script(project / SCRIPT), load_lexicon(()))
    first = synthesize(spoken, context.speech)
    assert [s.cached for s in first.segments] == [False, False]
    assert [len(c) for c in first.cues] == [2, 1]  # two written sentences, timed; one
    (one, two), _ = first.cues
    assert one.start_s == 0 and one.end_s == two.start_s and one.text.startswith("Ngày 05/3/2025")
    assert (
        abs(two.end_s - first.segments[0].duration_s) < 1e-3
        and two.text == "Bà con nhớ mang theo căn cước công dân!"
    )
    stamps = {p: p.stat().st_mtime_ns for p in (settings.cache_dir / "speech").rglob("*")}
    again = synthesize(spoken, context.speech)
    assert [s.cached for s in again.segments] == [True, True] and again.cues == first.cues
    assert {p: p.stat().st_mtime_ns for p in (settings.cache_dir / "speech").rglob("*")} == stamps
    assert not [p for p in stamps if p.name.startswith(".")]  # no temp file left behind


def test_unknown_espeak_voice_stops_before_any_work(project: Path) -> None:
    config = project / "radio.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('"vi+f3"', '"vi+nosuch"'), "utf-8")
    done = radio(project, "build")
    assert done.returncode == 2
    assert "field 'presenters.female.espeak': unknown espeak-ng voice 'vi+nosuch'" in done.stderr
    assert (
        not (project / "build" / "programs").exists()
        and not (project / "build" / "cache" / "speech").exists()
    )


# ---- engines through the command line


def test_edge_engine_names_the_neural_voices_and_a_second_build_is_a_no_op(
    project: Path, fake: FakeEdgeService
) -> None:
    use_engine(project, "edge")
    two_sentence_script(project)
    done = radio(project, "build", url=fake.url)
    assert done.returncode == 0, done.stderr
    speech = speech_of(project)
    assert [(s["engine"], s["voice"], s["cached"]) for s in speech] == [
        ("edge", "vi-VN-HoaiMyNeural", False), ("edge", "vi-VN-NamMinhNeural", False)]  # fmt: skip
    # two requests may run at once (edge_concurrency), so their arrival order is free
    assert sorted(voice for voice, _text, _kind in fake.seen.syntheses) == [
        "vi-VN-HoaiMyNeural",
        "vi-VN-NamMinhNeural",
    ]
    cues = vtt_cues(project)
    # intro 1.0 s, speech starts 0.3 s before its end; the first paragraph's two sentences, then B's
    assert [text[:8] for _s, _e, text in cues] == ["<v A>Ngà", "<v A>Bà ", "<v B>Hộ "]
    assert abs(cues[0][0] - 0.7) < 0.01 and cues[0][1] == cues[1][0] and cues[1][1] < cues[2][0]
    mp3 = project / "build" / "programs" / "thong-bao-ngan.mp3"
    before = mp3.stat().st_mtime_ns
    again = radio(project, "build", url=fake.url)
    assert again.returncode == 0 and "unchanged  thong-bao-ngan" in again.stdout
    assert mp3.stat().st_mtime_ns == before
    assert len(fake.seen.syntheses) == 2 and fake.seen.voice_lists == 1  # the no-op asked the service nothing


def test_edit_of_one_paragraph_asks_the_service_for_that_paragraph_only(
    project: Path, fake: FakeEdgeService
) -> None:
    use_engine(project, "edge")
    assert radio(project, "build", url=fake.url).returncode == 0
    (project / SCRIPT).write_text(SHORT_SCRIPT.replace("100 triệu", "50 triệu"), encoding="utf-8")
    done = radio(project, "build", url=fake.url)
    assert done.returncode == 0, done.stderr
    assert [s["cached"] for s in speech_of(project)] == [True, False]
    assert len(fake.seen.syntheses) == 3 and "năm mươi triệu" in fake.seen.syntheses[-1][1]


def test_auto_reads_with_espeak_when_the_service_is_gone_and_says_so(project: Path) -> None:
    use_engine(project, "auto")
    two_sentence_script(project)
    done = radio(project, "build")  # RADIO_EDGE_TTS_URL points at a closed port
    assert done.returncode == 0, done.stderr
    warning = (
        r"thong-bao-ngan.md:17: warning: edge-tts failed \(voice list: cannot connect to 127.0.0.1:9 "
        r"\(refused\).*\); 2 of 2 paragraphs read by espeak-ng instead"
    )
    assert re.search(warning, done.stderr)
    assert [(s["engine"], s["voice"]) for s in speech_of(project)] == [("espeak", "vi+f3"), ("espeak", "vi")]
    assert [text[:8] for _s, _e, text in vtt_cues(project)] == ["<v A>Ngà", "<v A>Bà ", "<v B>Hộ "]
    again = radio(project, "build")
    assert again.returncode == 0 and "unchanged  thong-bao-ngan" in again.stdout and not again.stderr


def test_edge_engine_fails_when_the_service_is_gone(project: Path) -> None:
    use_engine(project, "auto")
    done = radio(project, "build", "--engine", "edge")
    assert done.returncode == 1
    assert "edge-tts service at ws://127.0.0.1:9/" in done.stderr and "nothing rendered" in done.stderr
    assert not (project / "build" / "programs" / "thong-bao-ngan.mp3").exists()


def test_edge_engine_fails_the_program_naming_the_paragraph(project: Path) -> None:
    use_engine(project, "edge")
    with FakeEdgeService("unavailable", on_voices=False) as fake:
        done = radio(project, "build", url=fake.url)
    assert done.returncode == 1
    assert f"{SCRIPT}:17: edge-tts could not read this paragraph with voice vi-VN-HoaiMyNeural: HTTP 503" in (
        done.stderr
    )
    assert not (project / "build" / "programs" / "thong-bao-ngan.mp3").exists()


def test_breaker_stops_every_worker_after_the_first_failure(project: Path) -> None:
    """Two programs in two worker processes, the service failing after its voice list: one paragraph's
    attempts reach it, then nothing more in this run; both programs are read by espeak-ng."""
    use_engine(project, "auto", extra="edge_concurrency = 1\n")
    second = SHORT_SCRIPT.replace("id: thong-bao-ngan", "id: thong-bao-hai").replace("tiếp dân", "họp dân")
    (project / "scripts" / "thong-bao-hai.md").write_text(second, encoding="utf-8")
    with FakeEdgeService("unavailable", on_voices=False) as fake:
        done = radio(project, "build", "--jobs", "2", url=fake.url)
    assert done.returncode == 0, done.stderr
    assert fake.seen.handshakes == 2  # edge_retries = 1: the first paragraph's two attempts, nothing after
    assert done.stderr.count("read by espeak-ng instead") == 2 and done.stderr.count("HTTP 503") == 2
    for program in ("thong-bao-ngan", "thong-bao-hai"):
        assert {s["engine"] for s in speech_of(project, program)} == {"espeak"}


def test_auto_uses_the_service_when_it_answers(project: Path) -> None:
    use_engine(project, "auto")
    with FakeEdgeService("rate_limit", times=1) as limited:
        done = radio(project, "build", url=limited.url)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert {s["engine"] for s in speech_of(project)} == {"edge"}


def test_unknown_edge_voice_stops_before_any_work(project: Path, fake: FakeEdgeService) -> None:
    use_engine(project, "auto")
    config = project / "radio.toml"
    config.write_text(config.read_text("utf-8").replace("vi-VN-HoaiMyNeural", "vi-VN-HoaiMyyNeural"), "utf-8")
    done = radio(project, "build", url=fake.url)
    assert done.returncode == 2
    assert "field 'presenters.female.edge': unknown edge-tts voice 'vi-VN-HoaiMyyNeural'" in done.stderr
    assert "vi-VN-HoaiMyNeural, vi-VN-NamMinhNeural" in done.stderr
    assert fake.seen.syntheses == [] and not (project / "build" / "programs").exists()


def test_a_no_op_build_loads_no_http_stack(project: Path, fake: FakeEdgeService) -> None:
    use_engine(project, "auto")
    assert radio(project, "build", url=fake.url).returncode == 0
    code = (
        "import sys\nfrom pipeline.cli import main\n"
        "try:\n    main(['build', '-q'])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print([m for m in ('aiohttp', 'edge_tts', 'docx', 'matplotlib', 'apscheduler') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "RADIO_EDGE_TTS_URL": fake.url}
    done = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "0 rendered, 1 unchanged" in done.stdout and done.stdout.strip().endswith("[]")
