"""Packaging: a mixed program -> mastered, checked, tagged renditions in place, and its manifest.

Shared by rendered scripts (pipeline.render) and imported pre-produced programs (pipeline.importing): both
hand over a `Package` (what to mix and what to say about it) and get the manifest back. Every rendition is
written to a temp name and renamed only when all of them are complete; the caller writes the manifest.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import ffmpeg
from pipeline.assemble import MixGraph
from pipeline.catalogue import repeat_to_json
from pipeline.config import Settings
from pipeline.errors import RenderError
from pipeline.files import atomic_path, file_sha256, write_text_atomic
from pipeline.master import Mastered, encode_renditions, mix_renditions
from pipeline.models import Loudness, ScriptMeta
from pipeline.renditions import Rendition, with_template_targets
from pipeline.tags import Chapter, ProgramTags, write_tags
from pipeline.templates import Template

DURATION_TOLERANCE_S = 0.15  # encoded file vs planned timeline (MP3 frames, encoder delay)


@dataclass(frozen=True)
class Package:
    meta: ScriptMeta
    source: Path  # the script or import metadata it came from
    source_sha256: str
    key: str  # render key: every input of this package
    graph: MixGraph
    planned_s: float
    template: Template
    transcript: str
    chapters: tuple[Chapter, ...]
    speech: tuple[dict[str, Any], ...] = ()
    vtt: str | None = None
    tempo: float = 1.0
    check_mix: Callable[[str], None] = field(default=lambda _log: None)  # runs on the mix log before encoding


def program_renditions(settings: Settings, template: Template) -> tuple[Rendition, ...]:
    return with_template_targets(settings.renditions, template.rendition_targets)


def loudness_dict(loudness: Loudness) -> dict[str, float]:
    return {
        "integrated_lufs": round(loudness.integrated_lufs, 2),
        "true_peak_dbtp": round(loudness.true_peak_dbtp, 2),
        "lra": round(loudness.lra, 2),
    }


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


def program_tags(package: Package, result: Mastered) -> ProgramTags:
    meta, loudness = package.meta, result.loudness
    return ProgramTags(
        title=meta.title,
        producer=meta.producer,
        series=meta.series,
        date=datetime.now().astimezone().date().isoformat(),
        comment=f"{meta.series}: {meta.title}",
        transcript=package.transcript,
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
        chapters=package.chapters,
        artwork=package.template.artwork,
    )


def package_program(package: Package, settings: Settings) -> dict[str, Any]:
    """Mix once, check, master every rendition, tag, place; return the manifest (not yet written)."""
    meta = package.meta
    renditions = program_renditions(settings, package.template)
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
        mixed, mix_log = mix_renditions(package.graph, renditions, Path(scratch), meta.id)
        package.check_mix(mix_log)  # before spending time on encoding
        for result in encode_renditions(mixed, renditions, outputs, meta.id):
            write_tags(result.path, program_tags(package, result))
            described[result.rendition.name] = describe_file(
                result.path, result.rendition, result.loudness, package.planned_s, meta.id
            )
        # Leaving the ExitStack renames every rendition into place; any failure above removed them all.
    if package.vtt is not None:
        write_text_atomic(settings.programs_dir / f"{meta.id}.vtt", package.vtt)
    primary = described[renditions[0].name]
    source = package.source
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
        **({"transcript": f"{meta.id}.vtt"} if package.vtt is not None else {}),
        "template": package.template.name,
        "tempo": round(package.tempo, 4),
        "targets": list(meta.targets),
        "valid_from": meta.valid_from.isoformat(),
        "valid_until": meta.valid_until.isoformat(),
        "priority": meta.priority,
        "repeat": repeat_to_json(meta.repeat),
        "chapters": [
            {"title": c.title, "start_s": c.start_ms / 1000, "end_s": c.end_ms / 1000}
            for c in package.chapters
        ],
        "speech": list(package.speech),
        "script": str(source.relative_to(settings.root))
        if source.is_relative_to(settings.root)
        else str(source),
        "script_sha256": package.source_sha256,
        "render_key": package.key,
        "rendered_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
