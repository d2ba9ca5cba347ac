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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import ffmpeg
from pipeline.assemble import Timeline, mix_graph, plan_timeline
from pipeline.config import Settings
from pipeline.errors import RenderError, ScriptErrors
from pipeline.files import atomic_path, write_text_atomic
from pipeline.master import LOUDSPEAKER_CHAIN, Target, encode_to_target, mix_to_pcm
from pipeline.models import (
    Loudness,
    RenderResult,
    Script,
    SpeechSegment,
    SpokenParagraph,
    SpokenScript,
)
from pipeline.reading import Lexicon, load_lexicon, read_aloud
from pipeline.scripts import check_against_project, parse_script
from pipeline.speech import synthesize_script
from pipeline.tags import Chapter, ProgramTags, write_tags
from pipeline.templates import Template, available_templates, load_template

# Bump when a change to rendering should re-render every program.
RENDER_VERSION = "1"
DURATION_BOUNDS_S = {"program": (180.0, 300.0), "notice": (5.0, 180.0), "filler": (20.0, 600.0)}
WORDS_PER_SECOND_HINT = 2.5  # written words per second of espeak speech at the default rate, for hints


@dataclass(frozen=True)
class RenderContext:
    settings: Settings
    engine_version: str
    lexicon_files: tuple[
        Path, ...
    ]  # project lexicon files; loaded in the worker (compiled patterns stay local)
    lexicon_fingerprint: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def render_key(script: Script, template: Template, context: RenderContext) -> str:
    settings = context.settings
    voices = {label: settings.presenters[name].espeak_voice for label, name in script.meta.voices}
    blob = json.dumps(
        [RENDER_VERSION, script.sha256, template.fingerprint(), context.lexicon_fingerprint,
         context.engine_version, settings.speech_rate_wpm, settings.mp3_bitrate_kbps, voices],
        ensure_ascii=False, sort_keys=True,
    )  # fmt: skip
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


def check_duration(script: Script, total_s: float) -> None:
    low, high = DURATION_BOUNDS_S[script.meta.kind]
    if low <= total_s <= high:
        return
    if total_s > high:
        excess = total_s - high
        advice = f"cut about {excess:.0f} s (roughly {excess * WORDS_PER_SECOND_HINT:.0f} words)"
        bound = f"longer than the {high:.0f} s maximum"
    else:
        missing = low - total_s
        advice = f"add about {missing:.0f} s (roughly {missing * WORDS_PER_SECOND_HINT:.0f} words)"
        bound = f"shorter than the {low:.0f} s minimum"
    raise RenderError(
        f"the {script.meta.kind} would last {total_s:.0f} s, {bound} for its kind: {advice}",
        path=script.path,
        field="duration",
    )


def transcript_text(script: Script) -> str:
    blocks = []
    for section in script.sections:
        blocks.append(section.title)
        blocks += [paragraph.text for paragraph in section.paragraphs]
    return "\n\n".join(blocks)


def chapters(script: Script, segments: tuple[SpeechSegment, ...], timeline: Timeline) -> tuple[Chapter, ...]:
    """One chapter per section, from its first paragraph to the next section (the last runs to the end)."""
    starts: dict[int, int] = {}
    for segment, start in zip(segments, timeline.segment_starts, strict=True):
        starts.setdefault(segment.section, start)
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


def webvtt(spoken: SpokenScript, segments: tuple[SpeechSegment, ...], timeline: Timeline) -> str:
    lines = ["WEBVTT", ""]
    for index, (paragraph, segment, start) in enumerate(
        zip(spoken.paragraphs, segments, timeline.segment_starts, strict=True), start=1
    ):
        begin = timeline.seconds(start)
        lines += [
            str(index),
            f"{vtt_time(begin)} --> {vtt_time(begin + segment.duration_s)}",
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
        timeline = plan_timeline(
            template, ffmpeg.duration_of(template.intro), ffmpeg.duration_of(template.outro), segments
        )
        check_duration(script, timeline.total_s)
        data = master_program(script, spoken, segments, template, timeline, key, context)
        write_text_atomic(manifest, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return RenderResult(program_id=meta.id, script=path, manifest=manifest, skipped=False, warnings=warnings)


def master_program(
    script: Script,
    spoken: SpokenScript,
    segments: tuple[SpeechSegment, ...],
    template: Template,
    timeline: Timeline,
    key: str,
    context: RenderContext,
) -> dict[str, Any]:
    """Mix, master, encode, tag and place the audio and transcript; return the manifest."""
    settings, meta = context.settings, script.meta
    programs = settings.programs_dir
    target = Target(template.integrated_lufs, template.true_peak_dbtp, settings.mp3_bitrate_kbps)
    mp3 = programs / f"{meta.id}.mp3"
    scratch_root = settings.cache_dir / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root) as scratch:
        pcm = Path(scratch) / "mix.wav"
        measured = mix_to_pcm(mix_graph(template, timeline, segments, LOUDSPEAKER_CHAIN), pcm, meta.id)
        with atomic_path(mp3, suffix=".mp3") as tmp_mp3:
            loudness = encode_to_target(pcm, measured, target, tmp_mp3, meta.id)
            write_tags(tmp_mp3, ProgramTags(
                title=meta.title, producer=meta.producer, series=meta.series,
                date=datetime.now().astimezone().date().isoformat(),
                comment=f"{meta.series}: {meta.title}", transcript=transcript_text(script),
                extra=(("program_id", meta.id), ("valid_from", meta.valid_from.isoformat()),
                       ("valid_until", meta.valid_until.isoformat()), ("targets", ",".join(meta.targets)),
                       ("priority", meta.priority), ("integrated_lufs", f"{loudness.integrated_lufs:.1f}"),
                       ("true_peak_dbtp", f"{loudness.true_peak_dbtp:.1f}")),
                chapters=chapters(script, segments, timeline),
            ))  # fmt: skip
            audio_format = ffmpeg.audio_format(tmp_mp3)
            duration = ffmpeg.duration_of(tmp_mp3)
            size, digest = tmp_mp3.stat().st_size, file_sha256(tmp_mp3)
    write_text_atomic(programs / f"{meta.id}.vtt", webvtt(spoken, segments, timeline))
    rendition = {
        "file": mp3.name,
        "bytes": size,
        "sha256": digest,
        "format": {"codec": audio_format.codec, "sample_rate": audio_format.sample_rate,
                   "channels": audio_format.channels, "bitrate_kbps": settings.mp3_bitrate_kbps},
        "loudness": loudness_dict(loudness),
    }  # fmt: skip
    return {
        "id": meta.id,
        "kind": meta.kind,
        "title": meta.title,
        "series": meta.series,
        "producer": meta.producer,
        "language": "vi",
        "file": rendition["file"],
        "duration_s": round(duration, 3),
        "bytes": size,
        "sha256": digest,
        "format": rendition["format"],
        "loudness": rendition["loudness"],
        "renditions": {"loudspeaker": rendition},
        "transcript": f"{meta.id}.vtt",
        "template": template.name,
        "targets": list(meta.targets),
        "valid_from": meta.valid_from.isoformat(),
        "valid_until": meta.valid_until.isoformat(),
        "priority": meta.priority,
        "chapters": [
            {"title": c.title, "start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
            for c in chapters(script, segments, timeline)
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
