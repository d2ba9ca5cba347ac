"""`radio build`: render every (or the named) script, in parallel, redoing only what changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from pipeline import espeak, ffmpeg, speech
from pipeline.config import Settings
from pipeline.errors import PipelineError, ScriptError
from pipeline.importing import IMPORTS_DIR, find_imports, parse_import_meta, render_import
from pipeline.models import RenderResult
from pipeline.reading import BASE_LEXICON
from pipeline.render import RenderContext, render_script
from pipeline.scripts import find_scripts, parse_script, read_script_file


@dataclass(frozen=True)
class BuildOutcome:
    results: tuple[RenderResult, ...]
    failures: tuple[PipelineError, ...]


def lexicon_files(settings: Settings) -> tuple[Path, ...]:
    return (settings.lexicon_file,) if settings.lexicon_file.is_file() else ()


def prepare(settings: Settings, paths: Sequence[Path] | None = None) -> RenderContext:
    """Everything a render needs that is the same for all scripts; stops early when a tool is missing or
    a voice that the scripts to render (`paths`; None: any script) need does not exist. Voices are checked
    only when something will be rendered, so a no-op build asks no online service (and loads no HTTP)."""
    ffmpeg.check_tools()
    engine_version = espeak.check_tool()
    extra = lexicon_files(settings)
    digest = hashlib.sha256()
    for path in (BASE_LEXICON, *extra):
        digest.update(path.read_bytes())
    context = RenderContext(
        settings=settings,
        engine_version=engine_version,
        lexicon_files=extra,
        lexicon_fingerprint=digest.hexdigest(),
        speech=speech.new_run(settings, espeak_version=engine_version),
    )
    needed = set(settings.presenters) if paths is None else presenters_to_render(paths, context)
    speech.preflight(context.speech, needed, speech.config_file(settings))
    return context


def presenters_to_render(paths: Sequence[Path], context: RenderContext) -> set[str]:
    """The presenters of the scripts that are not up to date (a broken script is left to its render)."""
    from pipeline.render import manifest_path, render_key, up_to_date
    from pipeline.templates import load_template

    settings = context.settings
    needed: set[str] = set()
    for path in paths:
        if is_import(path):
            continue
        try:
            script = parse_script(path)
            key = render_key(script, load_template(settings.templates_dir, script.meta.template), context)
        except PipelineError:
            continue
        if not up_to_date(manifest_path(settings, script.meta.id), key):
            needed.update(name for _label, name in script.meta.voices)
    return needed


def select_scripts(settings: Settings, named: Sequence[Path]) -> list[Path]:
    """The named scripts, or every script and every imported program of the project."""
    if named:
        return [p.resolve() for p in named]
    return find_scripts(settings.scripts_dir) + find_imports(settings)


def is_import(path: Path) -> bool:
    return path.suffix == ".yaml" and path.parent.name == IMPORTS_DIR


def render_any(path: Path, context: RenderContext) -> RenderResult:
    """A bulletin script is rendered; an imported program's metadata file is re-mastered."""
    if is_import(path):
        return render_import(path, context.settings)
    return render_script(path, context)


def program_id_of(path: Path) -> tuple[str, int]:
    if is_import(path):
        return parse_import_meta(read_script_file(path), path).id, 1
    script = parse_script(path)
    return script.meta.id, script.line_of("id")


def duplicate_ids(paths: Sequence[Path]) -> tuple[list[Path], list[PipelineError]]:
    """Parse every script up front: bad ones fail here, and two scripts may not share one program id."""
    good: list[Path] = []
    failures: list[PipelineError] = []
    owners: dict[str, Path] = {}
    for path in paths:
        try:
            program_id, id_line = program_id_of(path)
        except PipelineError as exc:
            failures.append(exc)
            continue
        owner = owners.setdefault(program_id, path)
        if owner != path:
            failures.append(
                ScriptError(
                    f"id {program_id!r} is already used by {owner}",
                    path=path,
                    line=id_line,
                    field="id",
                )
            )
            continue
        good.append(path)
    return good, failures


def build(
    settings: Settings,
    paths: Sequence[Path],
    *,
    jobs: int,
    on_result: Callable[[Path, RenderResult | PipelineError], None] = lambda _p, _r: None,
    executor: Executor | None = None,
) -> BuildOutcome:
    context = prepare(settings, paths)
    renderable, failures = duplicate_ids(paths)
    for failure in failures:
        on_result(failure.path or Path("?"), failure)
    results: list[RenderResult] = []

    def record(path: Path, outcome: RenderResult | PipelineError) -> None:
        (results if isinstance(outcome, RenderResult) else failures).append(outcome)  # type: ignore[arg-type]
        on_result(path, outcome)

    if executor is None and (jobs <= 1 or len(renderable) <= 1):
        for path in renderable:
            try:
                record(path, render_any(path, context))
            except PipelineError as exc:
                record(path, exc)
        return BuildOutcome(tuple(results), tuple(failures))
    pool = executor or ProcessPoolExecutor(max_workers=min(jobs, len(renderable)))
    try:
        futures = {pool.submit(render_any, path, context): path for path in renderable}
        for future in as_completed(futures):
            try:
                record(futures[future], future.result())
            except PipelineError as exc:
                record(futures[future], exc)
    finally:
        if executor is None:
            pool.shutdown()
    return BuildOutcome(tuple(sorted(results, key=lambda r: r.program_id)), tuple(failures))
