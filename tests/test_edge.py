"""The edge-tts engine: the real edge-tts client against the loopback fake of the service (real MP3 speech),
its faults, retries, the request slots and the settings."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import edge
from pipeline.config import load_settings
from pipeline.edge import (
    EdgeAudio,
    EdgeFailure,
    EdgeJob,
    EdgeRefused,
    EdgeSettings,
    EdgeSkipped,
    EdgeUnreachable,
)
from pipeline.errors import ConfigError
from tests.fake_edge_service import SKEW_S, FakeEdgeService

TWO_SENTENCES = "Kính thưa bà con nhân dân! Hôm nay xã tổ chức tiêm phòng cho gia súc."
HOAI_MY = "vi-VN-HoaiMyNeural"


@pytest.fixture
def fake() -> Iterator[FakeEdgeService]:
    from edge_tts.drm import DRM

    with FakeEdgeService() as service:
        yield service
    DRM.clock_skew_seconds = 0.0  # process-global in edge-tts; the skew test moves it


def settings_for(fake: FakeEdgeService, **overrides: object) -> EdgeSettings:
    values: dict[str, object] = {"url": fake.url, "retries": 1, "backoff_s": 0.01, "timeout_s": 5.0}
    values.update(overrides)
    return EdgeSettings(**values)  # type: ignore[arg-type]


def probe(mp3: bytes, folder: Path) -> dict[str, str]:
    path = folder / "probe.mp3"
    path.write_bytes(mp3)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels:format=duration",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    return {**data["streams"][0], "duration": data["format"]["duration"]}


def say(fake: FakeEdgeService, tmp_path: Path, text: str = TWO_SENTENCES, **overrides: object) -> EdgeAudio:
    return edge.synthesize(EdgeJob(text, HOAI_MY), settings_for(fake, **overrides), slots=tmp_path / "slots")


def test_endpoints_follow_from_the_websocket_url() -> None:
    wss, voices = edge.endpoints("ws://127.0.0.1:8765/consumer/speech/synthesize/readaloud/edge/v1", "TOKEN")
    assert wss == "ws://127.0.0.1:8765/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=TOKEN"
    assert (
        voices
        == "http://127.0.0.1:8765/consumer/speech/synthesize/readaloud/voices/list?trustedclienttoken=TOKEN"
    )
    wss, voices = edge.endpoints(edge.DEFAULT_URL, "T")
    assert wss.startswith("wss://speech.platform.bing.com/") and voices.startswith(
        "https://speech.platform.bing.com/"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/consumer/speech/synthesize/readaloud/edge/v1",
        "ws://127.0.0.1:8765/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=x",
        "ws://127.0.0.1:8765/consumer/speech/synthesize/readaloud/voices/list",
    ],
)
def test_endpoint_must_be_a_websocket_url_without_query(url: str) -> None:
    assert edge.check_url(url) is not None
    assert edge.check_url(url.split("?")[0].replace("http:", "ws:").replace("voices/list", "edge/v1")) is None


def test_settings_from_radio_toml_and_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project / "radio.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("rate_wpm = 150\n", 'rate_wpm = 150\nedge_rate = "-10%"\nedge_retries = 4\n'), "utf-8"
    )
    monkeypatch.delenv(edge.URL_ENV, raising=False)
    settings = load_settings(config)
    assert (
        settings.edge.url == edge.DEFAULT_URL and settings.edge.rate == "-10%" and settings.edge.retries == 4
    )
    mirror = "ws://127.0.0.1:1/consumer/speech/synthesize/readaloud/edge/v1"
    monkeypatch.setenv(edge.URL_ENV, mirror)
    assert load_settings(config).edge.url == mirror
    monkeypatch.setenv(edge.URL_ENV, "https://example.invalid/tts")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert info.value.field == "speech.edge_url" and edge.URL_ENV in info.value.message
    monkeypatch.delenv(edge.URL_ENV)
    config.write_text(text.replace("rate_wpm = 150\n", 'rate_wpm = 150\nedge_pitch = "+5%"\n'), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert info.value.field == "speech.edge_pitch"


def test_success_gives_real_mp3_speech_and_sentence_boundaries(fake: FakeEdgeService, tmp_path: Path) -> None:
    audio = say(fake, tmp_path)
    info = probe(audio.mp3, tmp_path)
    assert (info["codec_name"], info["sample_rate"], info["channels"]) == ("mp3", "24000", 1)
    assert [m.kind for m in audio.marks] == ["SentenceBoundary"] * 2
    assert [m.text for m in audio.marks] == [
        "Kính thưa bà con nhân dân!",
        "Hôm nay xã tổ chức tiêm phòng cho gia súc.",
    ]
    first, second = audio.marks
    assert 0 <= first.start_s < first.end_s <= second.start_s < second.end_s
    assert abs(second.end_s - float(info["duration"])) < 0.2  # the boundaries span the audio
    assert fake.seen.syntheses == [(HOAI_MY, TWO_SENTENCES, "SentenceBoundary")]


def test_word_boundaries(fake: FakeEdgeService, tmp_path: Path) -> None:
    job = EdgeJob("Bà con chú ý lắng nghe.", HOAI_MY)
    audio = edge.synthesize(job, settings_for(fake), slots=tmp_path / "slots", boundary="WordBoundary")
    assert [m.text for m in audio.marks] == ["Bà", "con", "chú", "ý", "lắng", "nghe"]
    assert {m.kind for m in audio.marks} == {"WordBoundary"}
    starts = [m.start_s for m in audio.marks]
    assert starts == sorted(starts) and all(m.end_s > m.start_s for m in audio.marks)


def test_403_with_a_date_header_corrects_the_clock_and_retries_once(tmp_path: Path) -> None:
    from edge_tts.drm import DRM

    try:
        with FakeEdgeService("skew") as fake:
            audio = say(fake, tmp_path, retries=0)  # no retry of ours: the client's own skew retry succeeds
            assert audio.mp3 and (fake.seen.handshakes, fake.seen.refused) == (2, 1)
            assert abs(DRM.clock_skew_seconds - SKEW_S) < 60
    finally:
        DRM.clock_skew_seconds = 0.0


def test_403_every_time_fails_after_the_retries(tmp_path: Path) -> None:
    with FakeEdgeService("forbidden") as fake, pytest.raises(EdgeFailure) as info:
        say(fake, tmp_path, retries=1)
    assert "HTTP 403" in info.value.message and "after 2 attempts" in info.value.message
    assert fake.seen.handshakes == 4  # each of our 2 attempts: the client's try and its clock-skew retry


def test_429_then_success(tmp_path: Path) -> None:
    with FakeEdgeService("rate_limit", times=1) as fake:
        audio = say(fake, tmp_path, retries=2)
    assert audio.mp3 and fake.seen.handshakes == 2 and fake.seen.refused == 1


def test_503_is_retried_a_bounded_number_of_times(tmp_path: Path) -> None:
    with FakeEdgeService("unavailable") as fake, pytest.raises(EdgeFailure) as info:
        say(fake, tmp_path, retries=2)
    assert info.value.message.startswith("HTTP 503") and fake.seen.handshakes == 3


def test_dropped_connection_is_a_failure_not_truncated_audio(tmp_path: Path) -> None:
    with FakeEdgeService("drop") as fake, pytest.raises(EdgeFailure) as info:
        say(fake, tmp_path, retries=0)
    assert "before the audio was complete" in info.value.message
    with FakeEdgeService() as fake:
        whole = say(fake, tmp_path)
    with FakeEdgeService("drop", times=1) as fake:
        retried = say(fake, tmp_path, retries=1)
    assert len(retried.mp3) == len(whole.mp3) and fake.seen.handshakes == 2


def test_no_connection_at_all_is_not_retried(tmp_path: Path) -> None:
    with FakeEdgeService() as fake:
        settings = settings_for(fake, retries=3, backoff_s=30.0)  # a retry would make this test hang
    with pytest.raises(EdgeUnreachable) as info:  # the fake is stopped: its port refuses connections
        edge.synthesize(EdgeJob("Xin chào.", HOAI_MY), settings, slots=tmp_path)
    assert info.value.message == f"cannot connect to 127.0.0.1:{fake.port} (refused)"


def test_no_audio_is_a_failure(tmp_path: Path) -> None:
    with FakeEdgeService("no_audio") as fake, pytest.raises(EdgeFailure) as info:
        say(fake, tmp_path, retries=1)
    assert "no audio" in info.value.message and fake.seen.handshakes == 2


def test_a_slow_service_times_out(tmp_path: Path) -> None:
    with FakeEdgeService("slow", delay_s=5) as fake, pytest.raises(EdgeFailure) as info:
        say(fake, tmp_path, retries=0, timeout_s=0.3)
    assert "within 0.3 s" in info.value.message


def test_a_request_the_client_rejects_is_not_sent_or_retried(fake: FakeEdgeService, tmp_path: Path) -> None:
    with pytest.raises(EdgeRefused):
        edge.synthesize(EdgeJob("Xin chào.", HOAI_MY, rate="fast"), settings_for(fake), slots=tmp_path)
    assert fake.seen.handshakes == 0


def test_open_breaker_means_no_request(fake: FakeEdgeService, tmp_path: Path) -> None:
    [result] = edge.synthesize_all(
        [EdgeJob("Xin chào.", HOAI_MY)], settings_for(fake), slots=tmp_path, stop=lambda: "down earlier"
    )
    assert isinstance(result, EdgeSkipped) and result.message == "down earlier"
    assert fake.seen.handshakes == 0


def test_first_failure_stops_the_jobs_after_it(tmp_path: Path) -> None:
    failures: list[str] = []
    with FakeEdgeService("unavailable") as fake:
        results = edge.synthesize_all(
            [EdgeJob(f"Câu số {n}.", HOAI_MY) for n in range(3)],
            settings_for(fake, retries=1, concurrency=1),
            slots=tmp_path,
            stop=lambda: failures[0] if failures else None,
            on_failure=failures.append,
        )
    assert fake.seen.handshakes == 2  # one job's two attempts; the others were never sent
    assert [type(r) for r in results].count(EdgeSkipped) == 2 and len(failures) == 1


@pytest.mark.parametrize("concurrency", [1, 2])
def test_requests_at_once_are_bounded(tmp_path: Path, concurrency: int) -> None:
    with FakeEdgeService("slow", delay_s=0.15) as fake:
        results = edge.synthesize_all(
            [EdgeJob(f"Câu số {n}.", HOAI_MY) for n in range(4)],
            settings_for(fake, concurrency=concurrency),
            slots=tmp_path,
        )
    assert all(isinstance(r, EdgeAudio) for r in results)
    assert fake.seen.open_most == concurrency


def test_voice_list(fake: FakeEdgeService) -> None:
    voices = edge.list_voices(settings_for(fake))
    assert {"vi-VN-HoaiMyNeural", "vi-VN-NamMinhNeural"} <= voices
    assert "Microsoft Server Speech Text to Speech Voice (vi-VN, HoaiMyNeural)" in voices
    assert fake.seen.voice_lists == 1
