"""Pre-produced programs (a recorded interview, a relay, a reading in an ethnic-minority language) brought
into the catalogue next to rendered ones: `radio import AUDIO --meta FILE`.

The audio and its metadata are copied into the project's `imports/` folder (`<id>.<ext>` and
`<id>.yaml`), so the project keeps its sources and `radio build` re-masters imports like scripts when a
target changes. The metadata has the script front-matter fields; `voices` is not needed and `template`
(whose artwork and rendition targets apply; no jingles are added) defaults to `standard`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from pipeline import ffmpeg
from pipeline.assemble import MONO, MixGraph
from pipeline.config import Settings
from pipeline.errors import ConfigError, RenderError, ScriptError, ScriptErrors
from pipeline.files import atomic_path, file_sha256, write_text_atomic
from pipeline.models import RenderResult, ScriptMeta
from pipeline.packaging import Package, package_program, program_renditions
from pipeline.render import DURATION_BOUNDS_S, RENDER_VERSION, manifest_path, program_lock, up_to_date
from pipeline.scripts import parse_front_matter, read_script_file
from pipeline.tags import Chapter
from pipeline.templates import available_templates, load_template

IMPORTS_DIR = "imports"
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".opus", ".m4a", ".aac")
DEFAULTS = {"voices": "{A: imported}", "template": "standard"}


def parse_import_meta(text: str, path: Path) -> ScriptMeta:
    """The front-matter fields, with `voices` and `template` optional (added at the end so line numbers
    of the editor's own lines stay right)."""
    present = {line.split(":", 1)[0].strip() for line in text.splitlines() if ":" in line}
    extra = "".join(f"\n{key}: {value}" for key, value in DEFAULTS.items() if key not in present)
    try:
        meta, _ = parse_front_matter(text.rstrip("\n") + extra, path)
    except ScriptErrors as exc:
        raise ScriptErrors([_shift(e) for e in exc.errors]) from None
    except ScriptError as exc:
        raise _shift(exc) from None
    return meta


def _shift(error: ScriptError) -> ScriptError:
    # parse_front_matter counts lines as in a script, after the opening '---'; this file has none
    line = error.line - 1 if error.line is not None and error.line > 1 else error.line
    return ScriptError(error.message, path=error.path, line=line, field=error.field)


def imports_dir(settings: Settings) -> Path:
    return settings.root / IMPORTS_DIR


def find_imports(settings: Settings) -> list[Path]:
    folder = imports_dir(settings)
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith(".")) if folder.is_dir() else []


def audio_for(meta_path: Path) -> Path:
    matches = [p for p in meta_path.parent.glob(f"{meta_path.stem}.*") if p.suffix.lower() in AUDIO_SUFFIXES]
    if len(matches) != 1:
        raise RenderError(f"expected one audio file named {meta_path.stem}.<ext> beside it", path=meta_path)
    return matches[0]


def import_key(meta_text: str, audio: Path, settings: Settings, template_fingerprint: str) -> str:
    blob = json.dumps(
        [
            RENDER_VERSION,
            "import",
            meta_text,
            file_sha256(audio),
            template_fingerprint,
            repr(settings.renditions),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def render_import(meta_path: Path, settings: Settings) -> RenderResult:
    """Master one imported program (skipped when nothing changed); same outputs as a rendered script."""
    text = read_script_file(meta_path)
    meta = parse_import_meta(text, meta_path)
    if meta.template not in available_templates(settings.templates_dir):
        raise ConfigError(f"unknown template {meta.template!r}", path=meta_path, field="template")
    template = load_template(settings.templates_dir, meta.template)
    audio = audio_for(meta_path)
    key = import_key(text, audio, settings, template.fingerprint())
    manifest = manifest_path(settings, meta.id)
    with program_lock(settings, meta.id):
        if up_to_date(manifest, key):
            return RenderResult(program_id=meta.id, script=meta_path, manifest=manifest, skipped=True)
        duration = ffmpeg.duration_of(audio)
        low, high = DURATION_BOUNDS_S[meta.kind]
        if not low <= duration <= high:
            raise RenderError(
                f"the recording lasts {duration:.0f} s, outside {low:.0f}-{high:.0f} s for a {meta.kind}",
                path=meta_path,
                field="kind",
            )
        package = Package(
            meta=meta,
            source=meta_path,
            source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            key=key,
            graph=MixGraph(inputs=((str(audio),),), graph=f"[0:a]{MONO}[mix]", output="mix"),
            planned_s=duration,
            template=template,
            transcript=meta.title,
            chapters=(Chapter(meta.title, 0, round(duration * 1000)),),
        )
        data = package_program(package, settings)
        data["renditions_of"] = [r.name for r in program_renditions(settings, template)]
        data["imported_from"] = audio.name
        write_text_atomic(manifest, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return RenderResult(program_id=meta.id, script=meta_path, manifest=manifest, skipped=False)


def import_program(audio: Path, meta_file: Path, settings: Settings) -> RenderResult:
    """Copy the recording and its metadata into imports/ (atomically), then master it."""
    if audio.suffix.lower() not in AUDIO_SUFFIXES:
        raise ConfigError(f"not an audio file type we import ({', '.join(AUDIO_SUFFIXES)})", path=audio)
    text = read_script_file(meta_file)
    meta = parse_import_meta(text, meta_file)
    folder = imports_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{meta.id}.*"):
        if old.suffix.lower() in AUDIO_SUFFIXES and old.suffix.lower() != audio.suffix.lower():
            old.unlink()  # a re-import in another format replaces the old recording
    target = folder / f"{meta.id}{audio.suffix.lower()}"
    if audio.resolve() != target.resolve():
        with atomic_path(target, suffix=audio.suffix) as tmp:
            shutil.copyfile(audio, tmp)
    meta_target = folder / f"{meta.id}.yaml"
    if meta_file.resolve() != meta_target.resolve():
        write_text_atomic(meta_target, text)
    return render_import(meta_target, settings)
