"""Speech stage: spoken paragraphs -> audio segments with sentence timings, through a content-addressed cache.

Two engines: edge-tts neural voices (pipeline.edge, online) and espeak-ng (pipeline.espeak, offline). With
engine `auto`, each paragraph is asked of edge-tts first and read by espeak-ng when the service fails after
its retries. A circuit breaker then keeps the rest of the run from asking the service at all: it is a file
under build/cache/runs/<run>/ (named in the SpeechPlan that every render gets), because renders run in
worker processes (or on other machines sharing the build folder) and a file is the one thing they all see,
that survives pickling, and needs no manager process; a multiprocessing.Event cannot be sent to a
ProcessPoolExecutor's workers after they start.

The cache key covers everything that changes the audio (spoken text, engine, engine version, voice,
prosody), so an unchanged paragraph is never synthesised twice and an edited one always is. Audio and its
timings are written to temp names and renamed (timings first, the audio last: the audio's presence is the
commit), so concurrent workers and killed runs never leave a half-written entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import time
import uuid
import wave
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import edge, espeak
from pipeline.config import CONFIG_NAME, Presenter, Settings
from pipeline.edge import EdgeAudio, EdgeFailure, EdgeJob, EdgeSettings
from pipeline.errors import ConfigError, RenderError
from pipeline.files import atomic_path, write_text_atomic
from pipeline.models import SpeechSegment, SpokenScript

AUTO, EDGE, ESPEAK = "auto", "edge", "espeak"
RUNS_DIR = "runs"  # per-run state (the breaker) under the cache folder
RUN_MAX_AGE_S = 2 * 86400  # older run folders are left-overs of finished or killed runs
SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")
SPEAKABLE_RE = re.compile(r"\w")


@dataclass(frozen=True)
class SpeechRequest:
    """One paragraph for one engine: everything that changes its audio."""

    text: str
    engine: str
    voice: str
    rate_wpm: int  # espeak-ng only
    engine_version: str
    pitch: int = espeak.DEFAULT_PITCH  # espeak-ng only
    edge_prosody: tuple[str, str, str] = ("+0%", "+0Hz", "+0%")  # edge-tts only: rate, pitch, volume

    def prosody(self) -> list[object]:
        return list(self.edge_prosody) if self.engine == EDGE else [self.rate_wpm, self.pitch]

    def key(self) -> str:
        blob = json.dumps(
            [self.engine, self.engine_version, self.voice, self.prosody(), self.text], ensure_ascii=False
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Cue:
    """A stretch of a segment's audio, in seconds from the segment's start, and the text said in it."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Speech:
    segments: tuple[SpeechSegment, ...]
    cues: tuple[tuple[Cue, ...], ...]  # per segment, with the written text (the transcript's lines)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpeechPlan:
    """How a run speaks: the same for every render of one `radio build`, and picklable."""

    engine: str  # auto | edge | espeak
    presenters: Mapping[str, Presenter]
    cache_dir: Path
    espeak_version: str
    rate_wpm: int
    pitch: int = espeak.DEFAULT_PITCH
    edge: EdgeSettings = field(default_factory=EdgeSettings)
    edge_version: str = ""
    run_id: str = ""

    @property
    def uses_edge(self) -> bool:
        return self.engine in (AUTO, EDGE)

    @property
    def uses_espeak(self) -> bool:
        return self.engine in (AUTO, ESPEAK)

    @property
    def breaker(self) -> Breaker:
        return Breaker(self.cache_dir / RUNS_DIR / (self.run_id or "default") / "edge-failed")

    @property
    def slots(self) -> Path:
        return self.cache_dir / "edge-slots"


@dataclass(frozen=True)
class Breaker:
    """Open once edge-tts has failed in this run: a file holding the reason."""

    path: Path

    def reason(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8") or "edge-tts failed"
        except OSError:
            return None

    def trip(self, reason: str) -> None:
        if self.path.exists():  # the first reason is the one worth telling
            return
        # Disk full: the run then asks the service more often, nothing worse.
        with contextlib.suppress(OSError):
            write_text_atomic(self.path, reason)


@dataclass(frozen=True)
class Made:
    audio: Path
    duration_s: float
    cues: tuple[Cue, ...]  # as spoken
    cached: bool


def new_run(settings: Settings, *, espeak_version: str) -> SpeechPlan:
    """The plan of one run, with a fresh breaker; clears what old runs left behind."""
    runs = settings.cache_dir / RUNS_DIR
    if runs.is_dir():
        for old in runs.iterdir():
            try:
                if time.time() - old.stat().st_mtime > RUN_MAX_AGE_S:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue  # another run removed it first
    return SpeechPlan(
        engine=settings.engine,
        presenters=settings.presenters,
        cache_dir=settings.cache_dir,
        espeak_version=espeak_version,
        rate_wpm=settings.speech_rate_wpm,
        pitch=settings.speech_pitch,
        edge=settings.edge,
        edge_version=edge.version() if settings.engine in (AUTO, EDGE) else "",
        run_id=uuid.uuid4().hex,
    )


def voice_fingerprint(plan: SpeechPlan, voices: Sequence[tuple[str, str]]) -> dict[str, dict[str, object]]:
    """What a program's speech depends on, per speaker label (part of its render key)."""
    out: dict[str, dict[str, object]] = {}
    for label, name in voices:
        presenter = plan.presenters.get(name)
        if presenter is None:
            continue
        entry: dict[str, object] = {}
        if plan.uses_edge:
            prosody = [plan.edge.rate, plan.edge.pitch, plan.edge.volume]
            entry[EDGE] = [presenter.edge_voice, *prosody, plan.edge_version]
        if plan.uses_espeak:
            entry[ESPEAK] = [presenter.espeak_voice, plan.rate_wpm, plan.pitch, plan.espeak_version]
        out[label] = entry
    return out


def preflight(plan: SpeechPlan, presenters: Collection[str], config: Path) -> None:
    """Before any work: every voice the run needs exists. espeak-ng voices are checked against
    `espeak-ng --voices`; edge-tts voices against the service's voice list. When the service cannot be
    reached, `edge` stops the run (exit 1) and `auto` opens the breaker: the run reads with espeak-ng."""
    needed = [plan.presenters[name] for name in sorted(presenters) if name in plan.presenters]
    if not needed:
        return
    if plan.uses_espeak:
        voices, variants = espeak.known_voices()
        for presenter in needed:
            if not espeak.voice_is_known(presenter.espeak_voice, voices, variants):
                raise ConfigError(
                    f"unknown espeak-ng voice {presenter.espeak_voice!r} (`espeak-ng --voices` lists voices, "
                    "`espeak-ng --voices=variant` the variants after +)",
                    path=config,
                    field=f"presenters.{presenter.name}.espeak",
                )
    if not plan.uses_edge:
        return
    for presenter in needed:
        if not presenter.edge_voice:
            raise ConfigError(
                f'engine {plan.engine} needs an edge-tts voice, e.g. edge = "vi-VN-HoaiMyNeural"',
                path=config,
                field=f"presenters.{presenter.name}.edge",
            )
    if plan.breaker.reason() is not None:
        return
    try:
        offered = edge.list_voices(plan.edge, stop=plan.breaker.reason)
    except EdgeFailure as exc:
        reason = f"voice list: {exc.message}"
        if plan.engine == EDGE:
            raise RenderError(
                f"edge-tts service at {plan.edge.url} failed ({reason}); nothing rendered "
                "(engine auto would read with espeak-ng)"
            ) from None
        plan.breaker.trip(reason)
        return
    for presenter in needed:
        if presenter.edge_voice not in offered:
            vietnamese = sorted(v for v in offered if v.startswith("vi-"))
            raise ConfigError(
                f"unknown edge-tts voice {presenter.edge_voice!r} (the service offers "
                f"{', '.join(vietnamese) or 'no Vietnamese voice'})",
                path=config,
                field=f"presenters.{presenter.name}.edge",
            )


def config_file(settings: Settings) -> Path:
    return settings.root / CONFIG_NAME


def cache_path(cache_dir: Path, request: SpeechRequest) -> Path:
    key = request.key()
    suffix = ".mp3" if request.engine == EDGE else ".wav"
    return cache_dir / "speech" / key[:2] / f"{key}{suffix}"


def timings_path(audio: Path) -> Path:
    return audio.with_suffix(".json")


def wav_duration(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, wave.Error, EOFError) as exc:
        raise RenderError(f"unreadable speech audio: {exc}", path=path) from None


def split_sentences(text: str) -> list[str]:
    """Sentences at . ! ? … followed by white space; a piece with nothing to say joins the one before."""
    sentences: list[str] = []
    for piece in SENTENCE_RE.split(text.strip()):
        if sentences and not SPEAKABLE_RE.search(piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        elif piece:
            sentences.append(piece)
    return sentences or [text]


def written_cues(written: str, spoken: Sequence[Cue], duration_s: float) -> tuple[Cue, ...]:
    """The transcript's cues of one paragraph: the written sentences on the spoken sentences' timings when
    both split alike; otherwise the whole written paragraph over the whole segment."""
    sentences = split_sentences(written)
    if len(spoken) > 1 and len(sentences) == len(spoken):
        return tuple(Cue(cue.start_s, cue.end_s, text) for cue, text in zip(spoken, sentences, strict=True))
    return (Cue(0.0, duration_s, written),)


def load_cached(request: SpeechRequest, cache_dir: Path) -> Made | None:
    audio = cache_path(cache_dir, request)
    if not audio.is_file():
        return None
    try:
        data = json.loads(timings_path(audio).read_text(encoding="utf-8"))
        duration = float(data["duration_s"])
        cues = tuple(Cue(float(c[0]), float(c[1]), str(c[2])) for c in data["cues"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        # Audio without its timings (e.g. put there by hand): measure it, one cue for all of it.
        from pipeline import ffmpeg

        duration = wav_duration(audio) if audio.suffix == ".wav" else ffmpeg.duration_of(audio)
        cues = (Cue(0.0, duration, request.text),)
    return Made(audio, duration, cues, cached=True)


def write_timings(audio: Path, duration_s: float, cues: Sequence[Cue]) -> None:
    data = {"duration_s": duration_s, "cues": [[c.start_s, c.end_s, c.text] for c in cues]}
    write_text_atomic(timings_path(audio), json.dumps(data, ensure_ascii=False) + "\n")


class CacheWriteError(RenderError):
    """The speech cache cannot be written (disk full, permissions): not the engine's fault."""


def cache_write_error(exc: OSError, path: Path) -> CacheWriteError:
    return CacheWriteError(f"cannot write the speech cache: {exc.strerror or exc}", path=path)


def espeak_made(text: str, voice: str, plan: SpeechPlan) -> Made:
    """From the cache, or read by espeak-ng sentence by sentence (the timings)."""
    request = SpeechRequest(text, ESPEAK, voice, plan.rate_wpm, plan.espeak_version, plan.pitch)
    hit = load_cached(request, plan.cache_dir)
    if hit is not None:
        return hit
    target = cache_path(plan.cache_dir, request)
    sentences = split_sentences(text)
    try:
        with atomic_path(target, suffix=".wav") as tmp:
            durations = espeak.synthesize_sentences(
                sentences, voice=voice, rate_wpm=plan.rate_wpm, pitch=plan.pitch, out=tmp
            )
            cues, start = [], 0.0
            for sentence, duration in zip(sentences, durations, strict=True):
                cues.append(Cue(round(start, 4), round(start + duration, 4), sentence))
                start += duration
            write_timings(target, start, cues)
    except OSError as exc:
        raise cache_write_error(exc, target) from None
    return Made(target, start, tuple(cues), cached=False)


def edge_request(text: str, voice: str, plan: SpeechPlan) -> SpeechRequest:
    prosody = (plan.edge.rate, plan.edge.pitch, plan.edge.volume)
    return SpeechRequest(text, EDGE, voice, 0, plan.edge_version, edge_prosody=prosody)


def store_edge(request: SpeechRequest, result: EdgeAudio, cache_dir: Path) -> Made:
    """Place the service's MP3 and its sentence timings in the cache; the MP3 must decode."""
    from pipeline import ffmpeg

    target = cache_path(cache_dir, request)
    try:
        with atomic_path(target, suffix=".mp3") as tmp:
            tmp.write_bytes(result.mp3)
            duration = ffmpeg.duration_of(tmp)
            cues = [Cue(round(m.start_s, 4), round(min(m.end_s, duration), 4), m.text) for m in result.marks]
            write_timings(target, duration, cues)
    except OSError as exc:
        raise cache_write_error(exc, target) from None
    return Made(target, duration, tuple(cues), cached=False)


def presenter_of(speaker: str, voices: Mapping[str, str], presenters: Mapping[str, Presenter]) -> Presenter:
    presenter = presenters.get(voices.get(speaker, ""))
    if presenter is None:
        raise RenderError(f"speaker {speaker!r} has no presenter voice")
    return presenter


def synthesize(spoken: SpokenScript, plan: SpeechPlan) -> Speech:
    """Every paragraph's audio and timings: cached ones as they are, the rest from the plan's engine(s)."""
    script = spoken.script
    voices = dict(script.meta.voices)
    paragraphs = spoken.paragraphs
    try:
        presenters = [presenter_of(p.speaker, voices, plan.presenters) for p in paragraphs]
    except RenderError as exc:
        raise RenderError(exc.message, path=script.path) from None
    made: list[tuple[str, str, Made] | None] = [None] * len(paragraphs)  # (engine, voice, audio)
    pending: list[tuple[int, SpeechRequest]] = []
    for index, (paragraph, presenter) in enumerate(zip(paragraphs, presenters, strict=True)):
        if plan.uses_edge:
            request = edge_request(paragraph.spoken, presenter.edge_voice, plan)
            hit = load_cached(request, plan.cache_dir)
            if hit is not None:
                made[index] = (EDGE, request.voice, hit)
            else:
                pending.append((index, request))
    fell_back: dict[int, str] = {}
    if pending:
        fell_back = ask_edge(spoken, pending, plan, made)
    for index, (paragraph, presenter) in enumerate(zip(paragraphs, presenters, strict=True)):
        if made[index] is None:
            try:
                audio = espeak_made(paragraph.spoken, presenter.espeak_voice, plan)
            except RenderError as exc:
                raise RenderError(exc.message, path=script.path, line=paragraph.line) from None
            made[index] = (ESPEAK, presenter.espeak_voice, audio)
    segments, cues = [], []
    for paragraph, entry in zip(paragraphs, made, strict=True):
        assert entry is not None
        engine, voice, audio = entry
        segments.append(
            SpeechSegment(
                section=paragraph.section,
                speaker=paragraph.speaker,
                engine=engine,
                voice=voice,
                audio=audio.audio,
                duration_s=audio.duration_s,
                cached=audio.cached,
                text=paragraph.spoken,
            )
        )
        cues.append(written_cues(paragraph.written, audio.cues, audio.duration_s))
    warnings: tuple[str, ...] = ()
    if fell_back:
        first = min(fell_back)
        warnings = (
            f"{script.path}:{paragraphs[first].line}: warning: edge-tts failed ({fell_back[first]}); "
            f"{len(fell_back)} of {len(paragraphs)} paragraphs read by espeak-ng instead",
        )
    return Speech(tuple(segments), tuple(cues), warnings)


def ask_edge(
    spoken: SpokenScript,
    pending: Sequence[tuple[int, SpeechRequest]],
    plan: SpeechPlan,
    made: list[tuple[str, str, Made] | None],
) -> dict[int, str]:
    """Ask the service for the paragraphs not in the cache; fill `made`; return why each paragraph that
    could not be had from it (engine auto: espeak-ng reads those) failed. Engine edge: fail the program."""
    breaker = plan.breaker
    reason = breaker.reason()
    results: Sequence[EdgeAudio | EdgeFailure | str]
    if reason is not None:
        results = [reason] * len(pending)  # the service failed earlier in this run: do not ask
    else:
        jobs = [
            EdgeJob(r.text, r.voice, plan.edge.rate, plan.edge.pitch, plan.edge.volume) for _, r in pending
        ]
        results = edge.synthesize_all(
            jobs, plan.edge, slots=plan.slots, stop=breaker.reason, on_failure=breaker.trip
        )
    fell_back: dict[int, str] = {}
    for (index, request), result in zip(pending, results, strict=True):
        paragraph = spoken.paragraphs[index]
        if isinstance(result, EdgeAudio):
            try:
                made[index] = (EDGE, request.voice, store_edge(request, result, plan.cache_dir))
                continue
            except CacheWriteError as exc:
                raise RenderError(exc.message, path=spoken.script.path, line=paragraph.line) from None
            except RenderError as exc:  # the service's MP3 does not decode
                why = f"unusable audio: {exc.message}"
                breaker.trip(why)
        else:
            why = result.message if isinstance(result, EdgeFailure) else result
        if plan.engine == EDGE:
            raise RenderError(
                f"edge-tts could not read this paragraph with voice {request.voice}: {why}",
                path=spoken.script.path,
                line=paragraph.line,
            )
        fell_back[index] = why
    return fell_back


def synthesize_script(
    spoken: SpokenScript,
    *,
    presenters: Mapping[str, Presenter],
    rate_wpm: int,
    engine_version: str,
    cache_dir: Path,
) -> tuple[SpeechSegment, ...]:
    """espeak-ng only, through the cache (benchmarks and tools that need no plan)."""
    plan = SpeechPlan(ESPEAK, presenters, cache_dir, engine_version, rate_wpm)
    return synthesize(spoken, plan).segments
