"""Speech stage: spoken paragraphs -> audio segments, through a content-addressed cache.

The cache key covers everything that changes the audio (text, engine, engine version, voice, rate), so an
unchanged paragraph is never synthesised twice and an edited one always is. Cache files are written to a
temp name and renamed, so concurrent workers and killed runs never leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import espeak
from pipeline.config import Presenter
from pipeline.errors import RenderError
from pipeline.files import atomic_path
from pipeline.models import SpeechSegment, SpokenScript


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    engine: str
    voice: str
    rate_wpm: int
    engine_version: str

    def key(self) -> str:
        blob = json.dumps(
            [self.engine, self.engine_version, self.voice, self.rate_wpm, self.text], ensure_ascii=False
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cache_path(cache_dir: Path, request: SpeechRequest) -> Path:
    key = request.key()
    return cache_dir / "speech" / key[:2] / f"{key}.wav"


def wav_duration(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, wave.Error, EOFError) as exc:
        raise RenderError(f"unreadable speech audio: {exc}", path=path) from None


def synthesize_cached(request: SpeechRequest, cache_dir: Path) -> tuple[Path, bool]:
    """Return (audio path, whether it came from the cache)."""
    target = cache_path(cache_dir, request)
    if target.is_file():
        return target, True
    with atomic_path(target, suffix=".wav") as tmp:
        espeak.synthesize(request.text, voice=request.voice, rate_wpm=request.rate_wpm, out=tmp)
    return target, False


def voice_for(speaker: str, voices: Mapping[str, str], presenters: Mapping[str, Presenter]) -> str:
    presenter = presenters.get(voices.get(speaker, ""))
    if presenter is None:
        raise RenderError(f"speaker {speaker!r} has no presenter voice")
    return presenter.espeak_voice


def synthesize_script(
    spoken: SpokenScript,
    *,
    presenters: Mapping[str, Presenter],
    rate_wpm: int,
    engine_version: str,
    cache_dir: Path,
) -> tuple[SpeechSegment, ...]:
    voices = dict(spoken.script.meta.voices)
    segments: list[SpeechSegment] = []
    for paragraph in spoken.paragraphs:
        request = SpeechRequest(
            text=paragraph.spoken,
            engine="espeak",
            voice=voice_for(paragraph.speaker, voices, presenters),
            rate_wpm=rate_wpm,
            engine_version=engine_version,
        )
        try:
            audio, cached = synthesize_cached(request, cache_dir)
        except RenderError as exc:
            raise RenderError(exc.message, path=spoken.script.path, line=paragraph.line) from None
        segments.append(
            SpeechSegment(
                section=paragraph.section,
                speaker=paragraph.speaker,
                engine=request.engine,
                voice=request.voice,
                audio=audio,
                duration_s=wav_duration(audio),
                cached=cached,
                text=paragraph.spoken,
            )
        )
    return tuple(segments)
