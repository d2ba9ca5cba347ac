"""The pure job: one bulletin script -> finished, tagged program files and a manifest.

`render_script(path, context)` takes everything it needs as arguments and writes only to fixed keys under
the build folder (temp + rename), so batches can run in any concurrent.futures executor. The manifest is
written last: it is the commit point, and it only ever names complete files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline import ffmpeg
from pipeline.assemble import Piece, Timeline, mix_graph, plan_timeline, silent_pieces, speech_seconds
from pipeline.config import Settings
from pipeline.errors import RenderError, ScriptErrors
from pipeline.files import file_sha256, write_text_atomic
from pipeline.models import (
    RenderResult,
    Script,
    SpeechSegment,
    SpokenParagraph,
    SpokenScript,
)
from pipeline.packaging import Package, package_program, program_renditions
from pipeline.reading import Lexicon, load_lexicon, read_aloud
from pipeline.scripts import check_against_project, parse_script
from pipeline.speech import Cue, SpeechPlan, synthesize, voice_fingerprint
from pipeline.tags import Chapter
from pipeline.templates import Template, available_templates, load_template

# Bump when a change to rendering should re-render every program.
RENDER_VERSION = "3"
DURATION_BOUNDS_S = {"program": (180.0, 300.0), "notice": (5.0, 180.0), "filler": (20.0, 600.0)}
FIT_MARGIN_S = 3.0  # when tempo fitting, land this far inside the bounds
WORDS_PER_SECOND_HINT = 2.5  # written words per second of espeak speech at the default rate, for hints


@dataclass(frozen=True)
class RenderContext:
    settings: Settings
    engine_version: str
    lexicon_files: tuple[Path, ...]  # loaded in the worker: compiled patterns need not cross processes
    lexicon_fingerprint: str
    speech: SpeechPlan  # engines, voices, cache and this run's edge-tts breaker


def insert_digests(script: Script) -> list[str]:
    """Content hashes of the recorded inserts, so replacing an insert's audio re-renders the program."""
    digests = []
    for section in script.sections:
        for paragraph in section.paragraphs:
            if paragraph.insert is None:
                continue
            audio = script.path.parent / paragraph.insert
            if not audio.is_file():
                raise RenderError(f"recorded insert {paragraph.insert!r} does not exist", path=script.path,
                                  line=paragraph.line)  # fmt: skip
            digests.append(file_sha256(audio))
    return digests


def render_key(script: Script, template: Template, context: RenderContext) -> str:
    settings = context.settings
    voices = voice_fingerprint(context.speech, script.meta.voices)  # engine(s), voices, prosody, versions
    blob = json.dumps(
        [
            RENDER_VERSION,
            script.sha256,
            template.fingerprint(),
            context.lexicon_fingerprint,
            context.engine_version,
            settings.speech_rate_wpm,
            settings.max_tempo_change,
            voices,
            [asdict(r) for r in program_renditions(settings, template)],
            insert_digests(script),
        ],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def manifest_path(settings: Settings, program_id: str) -> Path:
    return settings.programs_dir / f"{program_id}.json"


def up_to_date(manifest: Path, key: str) -> bool:
    """The last render used the same inputs and its files are still all there, complete."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if data.get("render_key") != key:
        return False
    for rendition in data.get("renditions", {}).values():
        audio = manifest.parent / rendition.get("file", "")
        if not audio.is_file() or audio.stat().st_size != rendition.get("bytes"):
            return False
    return True


def speak(script: Script, lexicon: Lexicon) -> tuple[SpokenScript, tuple[str, ...]]:
    paragraphs: list[SpokenParagraph] = []
    warnings: list[str] = []
    for section_index, section in enumerate(script.sections):
        for paragraph in section.paragraphs:
            if paragraph.insert is not None:
                audio = (script.path.parent / paragraph.insert).resolve()
                paragraphs.append(SpokenParagraph(section_index, paragraph.speaker, paragraph.text, "",
                                                  paragraph.line, insert=audio))  # fmt: skip
                continue
            reading = read_aloud(paragraph.text, lexicon)
            warnings += [f"{script.path}:{paragraph.line}: warning: {w}" for w in reading.warnings]
            if not reading.spoken.strip(" .,;:!?"):
                continue
            paragraphs.append(
                SpokenParagraph(
                    section=section_index,
                    speaker=paragraph.speaker,
                    written=paragraph.text,
                    spoken=reading.spoken,
                    line=paragraph.line,
                )
            )
    return SpokenScript(script=script, paragraphs=tuple(paragraphs)), tuple(warnings)


def interleave_inserts(
    script: Script, spoken: SpokenScript, segments: Sequence[SpeechSegment]
) -> list[Piece]:
    """Speech segments and recorded inserts in script order; each insert brought to the speech's loudness
    (measured once over all speech) so the mastering treats the program as one level."""
    speech = iter(segments)
    inserts = [p for p in spoken.paragraphs if p.insert is not None]
    if not inserts:
        return [Piece(s.audio, s.duration_s, s.section) for s in segments]
    speech_level = ffmpeg.measure_joined([s.audio for s in segments]).integrated_lufs if segments else -20.0
    pieces: list[Piece] = []
    for paragraph in spoken.paragraphs:
        if paragraph.insert is None:
            segment = next(speech)
            pieces.append(Piece(segment.audio, segment.duration_s, segment.section))
            continue
        try:
            level = ffmpeg.measure(paragraph.insert, true_peak=False).integrated_lufs
            duration = ffmpeg.duration_of(paragraph.insert)
        except RenderError as exc:
            raise RenderError(
                f"recorded insert: {exc.message}", path=script.path, line=paragraph.line
            ) from None
        if not math.isfinite(level):
            raise RenderError(f"recorded insert {paragraph.insert.name} is silent", path=script.path,
                              line=paragraph.line)  # fmt: skip
        gain = max(-30.0, min(30.0, speech_level - level))
        pieces.append(Piece(paragraph.insert, duration, paragraph.section, True, gain, paragraph.written))
    return pieces


def duration_advice(kind: str, total_s: float, max_change: float) -> str:
    """Why a program cannot be fitted, and how much text to cut or add (at the natural speaking rate)."""
    low, high = DURATION_BOUNDS_S[kind]
    tempo = f", even with the speech tempo changed by up to {max_change:.0%}" if max_change > 0 else ""
    if total_s > high:
        excess = total_s - high
        return (
            f"the {kind} would last {total_s:.0f} s, longer than the {high:.0f} s maximum for its kind"
            f"{tempo}: "
            f"cut about {excess:.0f} s (roughly {excess * WORDS_PER_SECOND_HINT:.0f} words)"
        )
    missing = low - total_s
    return (
        f"the {kind} would last {total_s:.0f} s, shorter than the {low:.0f} s minimum for its kind"
        f"{tempo}: "
        f"add about {missing:.0f} s (roughly {missing * WORDS_PER_SECOND_HINT:.0f} words)"
    )


def fit_tempo(
    script: Script,
    template: Template,
    pieces: Sequence[Piece],
    *,
    intro_s: float,
    outro_s: float,
    ident_s: float | None,
    max_change: float,
) -> Timeline:
    """The program's timeline at natural speed when it fits its kind's bounds; otherwise with the speech
    tempo changed (pitch kept) just enough to land inside them, within `max_change`; otherwise an error
    saying how much to cut or add."""
    natural = plan_timeline(template, intro_s, outro_s, pieces, ident_s=ident_s)
    low, high = DURATION_BOUNDS_S[script.meta.kind]
    if low <= natural.total_s <= high:
        return natural
    speech = speech_seconds(pieces)
    fixed = natural.total_s - speech
    wanted = min(max(natural.total_s, low + FIT_MARGIN_S), high - FIT_MARGIN_S)
    tempo = speech / (wanted - fixed) if wanted > fixed and speech > 0 else 0.0
    if tempo > 0 and abs(tempo - 1.0) <= max_change:
        fitted = plan_timeline(template, intro_s, outro_s, pieces, tempo=tempo, ident_s=ident_s)
        if low <= fitted.total_s <= high:
            return fitted
    raise RenderError(
        duration_advice(script.meta.kind, natural.total_s, max_change if speech > 0 else 0.0),
        path=script.path,
        field="duration",
    )


def transcript_text(script: Script) -> str:
    blocks = []
    for section in script.sections:
        blocks.append(section.title)
        blocks += [paragraph.text for paragraph in section.paragraphs]
    return "\n\n".join(blocks)


def chapters(script: Script, pieces: Sequence[Piece], timeline: Timeline) -> tuple[Chapter, ...]:
    """A chapter per section and per recorded insert, in program order; a section that continues after
    an insert gets a chapter again. The first starts at 0 and the last runs to the end, so chapters cover
    the whole program."""
    marks: list[tuple[str, int]] = []
    previous: tuple[int, bool] | None = None
    for piece, start in zip(pieces, timeline.segment_starts, strict=True):
        key = (piece.section, piece.is_insert)
        if key != previous or piece.is_insert:
            marks.append((piece.title if piece.is_insert else script.sections[piece.section].title, start))
        previous = key
    out = []
    for index, (title, start) in enumerate(marks):
        begin = 0 if index == 0 else start
        end = marks[index + 1][1] if index + 1 < len(marks) else timeline.total
        out.append(Chapter(title, round(timeline.seconds(begin) * 1000), round(timeline.seconds(end) * 1000)))
    return tuple(out)


def vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(spoken: SpokenScript, timeline: Timeline, cues: Sequence[Sequence[Cue]] = ()) -> str:
    """The transcript on the program's timeline (jingles included): a cue per sentence where the speech
    engine gave sentence timings (`cues`, one tuple per spoken paragraph, in segment seconds before any
    tempo change), else per paragraph; a cue per recorded insert."""
    lines = ["WEBVTT", ""]
    speech_cues = iter(cues)
    number = 0
    for paragraph, start, length in zip(
        spoken.paragraphs, timeline.segment_starts, timeline.segment_lengths, strict=True
    ):
        begin, span = timeline.seconds(start), timeline.seconds(length)
        if paragraph.insert:
            parts = [(0.0, span, f"[{paragraph.written}]")]
        else:
            own = next(speech_cues, ()) or (Cue(0.0, span * timeline.tempo, paragraph.written),)
            parts = [
                (min(c.start_s / timeline.tempo, span), min(c.end_s / timeline.tempo, span),
                 f"<v {paragraph.speaker}>{c.text}")
                for c in own
            ]  # fmt: skip
        for cue_start, cue_end, text in parts:
            number += 1
            lines += [str(number), f"{vtt_time(begin + cue_start)} --> {vtt_time(begin + cue_end)}", text, ""]
    return "\n".join(lines)


@contextlib.contextmanager
def program_lock(settings: Settings, program_id: str) -> Iterator[None]:
    """Two builds of one program at once would interleave its files; the second waits for the first."""
    settings.programs_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.programs_dir / f".{program_id}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def render_script(path: Path, context: RenderContext) -> RenderResult:
    settings = context.settings
    script = parse_script(path)
    problems = check_against_project(
        script,
        templates=available_templates(settings.templates_dir),
        presenters=settings.presenters,
        targets=None,
    )
    if problems:
        raise problems[0] if len(problems) == 1 else ScriptErrors(problems)
    meta = script.meta
    template = load_template(settings.templates_dir, meta.template)
    key = render_key(script, template, context)
    manifest = manifest_path(settings, meta.id)
    with program_lock(settings, meta.id):
        if up_to_date(manifest, key):
            return RenderResult(program_id=meta.id, script=path, manifest=manifest, skipped=True)
        spoken, warnings = speak(script, load_lexicon(context.lexicon_files))
        if not spoken.paragraphs:
            raise RenderError("nothing to read aloud", path=path)
        speech_only = SpokenScript(script, tuple(p for p in spoken.paragraphs if p.insert is None))
        speech = synthesize(speech_only, context.speech)
        segments = speech.segments
        warnings += speech.warnings
        pieces = interleave_inserts(script, spoken, segments)
        timeline = fit_tempo(
            script,
            template,
            pieces,
            intro_s=ffmpeg.duration_of(template.intro),
            outro_s=ffmpeg.duration_of(template.outro),
            ident_s=ffmpeg.duration_of(template.ident) if template.ident else None,
            max_change=settings.max_tempo_change,
        )
        data = master_program(script, spoken, segments, pieces, template, timeline, key, context, speech.cues)
        write_text_atomic(manifest, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    if abs(timeline.tempo - 1.0) > 1e-6:
        warnings += (
            f"{path}: warning: speech tempo changed by {timeline.tempo - 1:+.1%} to fit "
            f"{DURATION_BOUNDS_S[meta.kind][0]:.0f}-{DURATION_BOUNDS_S[meta.kind][1]:.0f} s",
        )
    return RenderResult(program_id=meta.id, script=path, manifest=manifest, skipped=False, warnings=warnings)


def check_render(
    script: Script, spoken: SpokenScript, pieces: Sequence[Piece], mix_log: str, timeline: Timeline
) -> None:
    """A (nearly) silent spoken paragraph is an error naming its section and line."""
    for index in silent_pieces(mix_log, timeline, pieces):
        paragraph = spoken.paragraphs[index]
        section = script.sections[paragraph.section].title
        raise RenderError(
            f"speech for this paragraph (section '{section}') is silent or nearly silent",
            path=script.path,
            line=paragraph.line,
        )


def master_program(
    script: Script,
    spoken: SpokenScript,
    segments: tuple[SpeechSegment, ...],
    pieces: Sequence[Piece],
    template: Template,
    timeline: Timeline,
    key: str,
    context: RenderContext,
    cues: Sequence[Sequence[Cue]] = (),
) -> dict[str, Any]:
    """Mix, master every rendition, check, tag and place the files and transcript; return the manifest."""
    package = Package(
        meta=script.meta,
        source=script.path,
        source_sha256=script.sha256,
        key=key,
        graph=mix_graph(template, timeline, pieces),
        planned_s=timeline.total_s,
        template=template,
        transcript=transcript_text(script),
        chapters=chapters(script, pieces, timeline),
        speech=tuple(
            {
                "section": script.sections[s.section].title,
                "speaker": s.speaker,
                "engine": s.engine,
                "voice": s.voice,
                "cached": s.cached,
            }
            for s in segments
        ),
        vtt=webvtt(spoken, timeline, cues),
        tempo=timeline.tempo,
        check_mix=lambda log: check_render(script, spoken, pieces, log, timeline),
    )
    return package_program(package, context.settings)
