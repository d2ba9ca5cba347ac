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
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import ffmpeg
from pipeline.assemble import Piece, Timeline, mix_graph, plan_timeline, silent_pieces, speech_seconds
from pipeline.config import Settings
from pipeline.errors import RenderError, ScriptErrors
from pipeline.files import atomic_path, write_text_atomic
from pipeline.master import Mastered, encode_renditions, mix_renditions
from pipeline.models import (
    Loudness,
    RenderResult,
    Script,
    SpeechSegment,
    SpokenParagraph,
    SpokenScript,
)
from pipeline.reading import Lexicon, load_lexicon, read_aloud
from pipeline.renditions import Rendition, with_template_targets
from pipeline.scripts import check_against_project, parse_script
from pipeline.speech import synthesize_script
from pipeline.tags import Chapter, ProgramTags, write_tags
from pipeline.templates import Template, available_templates, load_template

# Bump when a change to rendering should re-render every program.
RENDER_VERSION = "2"
DURATION_BOUNDS_S = {"program": (180.0, 300.0), "notice": (5.0, 180.0), "filler": (20.0, 600.0)}
FIT_MARGIN_S = 3.0  # when tempo fitting, land this far inside the bounds
WORDS_PER_SECOND_HINT = 2.5  # written words per second of espeak speech at the default rate, for hints
DURATION_TOLERANCE_S = 0.15  # encoded file vs planned timeline (MP3 frames, encoder delay)


@dataclass(frozen=True)
class RenderContext:
    settings: Settings
    engine_version: str
    lexicon_files: tuple[Path, ...]  # loaded in the worker: compiled patterns need not cross processes
    lexicon_fingerprint: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def program_renditions(settings: Settings, template: Template) -> tuple[Rendition, ...]:
    return with_template_targets(settings.renditions, template.rendition_targets)


def render_key(script: Script, template: Template, context: RenderContext) -> str:
    settings = context.settings
    voices = {label: settings.presenters[name].espeak_voice for label, name in script.meta.voices}
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


def chapters(script: Script, sections: Sequence[int], timeline: Timeline) -> tuple[Chapter, ...]:
    """One chapter per section, from its first piece to the next section (the first from 0, the last to
    the end, so chapters cover the whole program)."""
    starts: dict[int, int] = {}
    for section, start in zip(sections, timeline.segment_starts, strict=True):
        starts.setdefault(section, start)
    ordered = sorted(starts.items())
    out = []
    for index, (section, start) in enumerate(ordered):
        begin = 0 if index == 0 else start
        end = ordered[index + 1][1] if index + 1 < len(ordered) else timeline.total
        out.append(
            Chapter(
                title=script.sections[section].title,
                start_ms=round(timeline.seconds(begin) * 1000),
                end_ms=round(timeline.seconds(end) * 1000),
            )
        )
    return tuple(out)


def vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(spoken: SpokenScript, timeline: Timeline) -> str:
    lines = ["WEBVTT", ""]
    for index, (paragraph, start, length) in enumerate(
        zip(spoken.paragraphs, timeline.segment_starts, timeline.segment_lengths, strict=True), start=1
    ):
        begin = timeline.seconds(start)
        lines += [
            str(index),
            f"{vtt_time(begin)} --> {vtt_time(begin + timeline.seconds(length))}",
            f"<v {paragraph.speaker}>{paragraph.written}",
            "",
        ]
    return "\n".join(lines)


def loudness_dict(loudness: Loudness) -> dict[str, float]:
    return {
        "integrated_lufs": round(loudness.integrated_lufs, 2),
        "true_peak_dbtp": round(loudness.true_peak_dbtp, 2),
        "lra": round(loudness.lra, 2),
    }


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
        segments = synthesize_script(
            spoken,
            presenters=settings.presenters,
            rate_wpm=settings.speech_rate_wpm,
            engine_version=context.engine_version,
            cache_dir=settings.cache_dir,
        )
        pieces = [Piece(s.audio, s.duration_s, s.section) for s in segments]
        timeline = fit_tempo(
            script,
            template,
            pieces,
            intro_s=ffmpeg.duration_of(template.intro),
            outro_s=ffmpeg.duration_of(template.outro),
            ident_s=ffmpeg.duration_of(template.ident) if template.ident else None,
            max_change=settings.max_tempo_change,
        )
        data = master_program(script, spoken, segments, pieces, template, timeline, key, context)
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


def describe_file(
    path: Path, rendition: Rendition, loudness: Loudness, planned_s: float, program: str
) -> dict[str, Any]:
    audio_format, duration = ffmpeg.audio_format(path)
    if abs(duration - planned_s) > DURATION_TOLERANCE_S:
        raise RenderError(
            f"{program} ({rendition.name}): encoded file lasts {duration:.2f} s, the plan {planned_s:.2f} s"
        )
    return {
        "file": rendition.file_name(program),
        "bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "duration_s": round(duration, 3),
        "format": {
            "codec": audio_format.codec,
            "sample_rate": audio_format.sample_rate,
            "channels": audio_format.channels,
            "bitrate_kbps": rendition.bitrate_kbps,
        },
        "loudness": loudness_dict(loudness),
    }


def master_program(
    script: Script,
    spoken: SpokenScript,
    segments: tuple[SpeechSegment, ...],
    pieces: Sequence[Piece],
    template: Template,
    timeline: Timeline,
    key: str,
    context: RenderContext,
) -> dict[str, Any]:
    """Mix, master every rendition, check, tag and place the files and transcript; return the manifest."""
    settings, meta = context.settings, script.meta
    renditions = program_renditions(settings, template)
    sections = [p.section for p in pieces]
    program_chapters = chapters(script, sections, timeline)
    scratch_root = settings.cache_dir / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    described: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(dir=scratch_root) as scratch, contextlib.ExitStack() as placing:
        outputs = {
            r.name: placing.enter_context(
                atomic_path(settings.programs_dir / r.file_name(meta.id), suffix=".mp3")
            )
            for r in renditions
        }
        graph = mix_graph(template, timeline, pieces)
        mixed, mix_log = mix_renditions(graph, renditions, Path(scratch), meta.id)
        check_render(script, spoken, pieces, mix_log, timeline)  # before spending time on encoding
        mastered = encode_renditions(mixed, renditions, outputs, meta.id)
        for result in mastered:
            write_tags(result.path, program_tags(script, result, program_chapters, template))
            described[result.rendition.name] = describe_file(
                result.path, result.rendition, result.loudness, timeline.total_s, meta.id
            )
        # Leaving the ExitStack renames every rendition into place; any failure above removed them all.
    write_text_atomic(settings.programs_dir / f"{meta.id}.vtt", webvtt(spoken, timeline))
    primary = described[renditions[0].name]
    return {
        "id": meta.id,
        "kind": meta.kind,
        "title": meta.title,
        "series": meta.series,
        "producer": meta.producer,
        "language": "vi",
        "file": primary["file"],
        "duration_s": primary["duration_s"],
        "bytes": primary["bytes"],
        "sha256": primary["sha256"],
        "format": primary["format"],
        "loudness": primary["loudness"],
        "renditions": described,
        "transcript": f"{meta.id}.vtt",
        "template": template.name,
        "tempo": round(timeline.tempo, 4),
        "targets": list(meta.targets),
        "valid_from": meta.valid_from.isoformat(),
        "valid_until": meta.valid_until.isoformat(),
        "priority": meta.priority,
        "chapters": [
            {"title": c.title, "start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
            for c in program_chapters
        ],
        "speech": [
            {
                "section": script.sections[s.section].title,
                "speaker": s.speaker,
                "engine": s.engine,
                "voice": s.voice,
                "cached": s.cached,
            }
            for s in segments
        ],
        "script": str(script.path.relative_to(settings.root))
        if script.path.is_relative_to(settings.root)
        else str(script.path),
        "script_sha256": script.sha256,
        "render_key": key,
        "rendered_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def program_tags(
    script: Script, result: Mastered, program_chapters: tuple[Chapter, ...], template: Template
) -> ProgramTags:
    meta, loudness = script.meta, result.loudness
    return ProgramTags(
        title=meta.title,
        producer=meta.producer,
        series=meta.series,
        date=datetime.now().astimezone().date().isoformat(),
        comment=f"{meta.series}: {meta.title}",
        transcript=transcript_text(script),
        extra=(
            ("program_id", meta.id),
            ("rendition", result.rendition.name),
            ("valid_from", meta.valid_from.isoformat()),
            ("valid_until", meta.valid_until.isoformat()),
            ("targets", ",".join(meta.targets)),
            ("priority", meta.priority),
            ("integrated_lufs", f"{loudness.integrated_lufs:.1f}"),
            ("true_peak_dbtp", f"{loudness.true_peak_dbtp:.1f}"),
            ("lra", f"{loudness.lra:.1f}"),
        ),
        chapters=program_chapters,
        artwork=template.artwork,
    )
