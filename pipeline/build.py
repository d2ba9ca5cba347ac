"""`radio build`: render every (or the named) script, in parallel, redoing only what changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from pipeline import espeak, ffmpeg
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


def prepare(settings: Settings) -> RenderContext:
    """Everything a render needs that is the same for all scripts; stops early when a tool is missing."""
    ffmpeg.check_tools()
    engine_version = espeak.check_tool()
    extra = lexicon_files(settings)
    digest = hashlib.sha256()
    for path in (BASE_LEXICON, *extra):
        digest.update(path.read_bytes())
    return RenderContext(
        settings=settings,
        engine_version=engine_version,
        lexicon_files=extra,
        lexicon_fingerprint=digest.hexdigest(),
    )


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
    context = prepare(settings)
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
