"""The `radio` command. Thin: it parses arguments, calls the library and turns PipelineErrors into
messages and exit codes (0 ok, 1 some inputs failed, 2 usage or configuration error).

Imports of the stages are inside the commands, so `radio preview` never loads the audio stack and a
no-op `radio build` loads no scheduler, HTTP or document code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.config import Settings, load_settings
from pipeline.errors import PipelineError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn a PipelineError escaping a command into one message on stderr and its exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PipelineError as exc:
            click.echo(f"radio: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def settings_of(ctx: click.Context) -> Settings:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_settings(obj.get("config"))
    settings: Settings = obj["settings"]
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Project file (default: the nearest radio.toml from the current folder up).",
)
@click.version_option(package_name="commune-radio")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """commune-radio: bulletin scripts to finished programs and station playlists."""
    ctx.ensure_object(dict)["config"] = config


@main.command()
@click.argument("scripts", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Programs rendered at once (default: CPU count)."
)
@click.option("--engine", type=click.Choice(["espeak"]), help="Speech engine (default: from radio.toml).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
@reports_errors
def build(
    ctx: click.Context, scripts: tuple[Path, ...], jobs: int | None, engine: str | None, quiet: bool
) -> None:
    """Render every script (or the named ones) to finished programs; only what changed is redone."""
    from pipeline.build import build as build_programs
    from pipeline.build import select_scripts
    from pipeline.models import RenderResult

    settings = settings_of(ctx)
    paths = select_scripts(settings, scripts)
    if not paths:
        raise click.UsageError(f"no scripts found in {settings.scripts_dir}")
    lines: list[str] = []

    def on_result(path: Path, outcome: RenderResult | PipelineError) -> None:
        if isinstance(outcome, RenderResult):
            state = "unchanged" if outcome.skipped else "rendered"
            lines.append(f"{state:>10}  {outcome.program_id}")
            lines.extend(outcome.warnings)
        else:
            lines.append(f"radio: error: {outcome}")
        bar.update(1)

    with click.progressbar(
        length=len(paths), label="Rendering", file=sys.stderr, hidden=quiet or not sys.stderr.isatty()
    ) as bar:
        outcome = build_programs(settings, paths, jobs=jobs or settings.effective_jobs, on_result=on_result)
    for line in lines:
        click.echo(line, err=line.startswith("radio: error") or ": warning:" in line)
    rendered = sum(not r.skipped for r in outcome.results)
    click.echo(
        f"{rendered} rendered, {len(outcome.results) - rendered} unchanged, "
        f"{len(outcome.failures)} failed; programs in {settings.programs_dir}"
    )
    if outcome.failures:
        sys.exit(1)


@main.command()
@click.argument("scripts", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_context
@reports_errors
def lint(ctx: click.Context, scripts: tuple[Path, ...]) -> None:
    """Check scripts without rendering: `file:line: level: message`; exit 1 on errors."""
    from pipeline.build import lexicon_files, select_scripts
    from pipeline.lint import lint_script
    from pipeline.reading import load_lexicon
    from pipeline.stations import load_registry
    from pipeline.templates import available_templates

    settings = settings_of(ctx)
    lexicon = load_lexicon(lexicon_files(settings))
    registry = load_registry(settings.stations_file)
    errors = 0
    for path in select_scripts(settings, scripts):
        for message in lint_script(
            path,
            lexicon=lexicon,
            templates=available_templates(settings.templates_dir),
            presenters=list(settings.presenters),
            targets=registry.target_ids(),
        ):
            errors += message.level == "error"
            click.echo(str(message))
    if errors:
        sys.exit(1)


@main.command()
@click.argument("script", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--text", help="Read this text instead of a script.")
@click.option(
    "--text-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read every line of this file; prints exactly one spoken line per input line.",
)
@click.pass_context
@reports_errors
def preview(ctx: click.Context, script: Path | None, text: str | None, text_file: Path | None) -> None:
    """Print the spoken form (stdout carries nothing else; warnings go to stderr)."""
    from pipeline.build import lexicon_files
    from pipeline.reading import load_lexicon, read_aloud

    if sum(x is not None for x in (script, text, text_file)) != 1:
        raise click.UsageError("give exactly one of SCRIPT, --text or --text-file")
    try:
        extra = lexicon_files(settings_of(ctx))
    except PipelineError:
        extra = ()  # preview works outside a project too, with the base lexicon
    lexicon = load_lexicon(extra)
    if script is not None:
        from pipeline.scripts import parse_script

        parsed = parse_script(script)
        for section in parsed.sections:
            click.echo(f"## {section.title}")
            for paragraph in section.paragraphs:
                reading = read_aloud(paragraph.text, lexicon)
                for warning in reading.warnings:
                    click.echo(f"{script}:{paragraph.line}: warning: {warning}", err=True)
                click.echo(f"{paragraph.speaker}: {reading.spoken}")
        return
    if text is not None:
        lines = text.split("\n")
    else:
        assert text_file is not None
        lines = text_file.read_text(encoding="utf-8-sig").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
    for number, line in enumerate(lines, start=1):
        reading = read_aloud(line.rstrip("\r"), lexicon)
        for warning in reading.warnings:
            click.echo(f"{text_file or '<text>'}:{number}: warning: {warning}", err=True)
        click.echo(reading.spoken.replace("\n", " "))


@main.command(name="import")
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--meta",
    "meta_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="YAML with the script front-matter fields (id, kind, title, series, producer, validity, targets, "
    "priority; template optional).",
)
@click.pass_context
@reports_errors
def import_(ctx: click.Context, audio: Path, meta_file: Path) -> None:
    """Bring a pre-produced program into the catalogue, mastered like a rendered one."""
    from pipeline import ffmpeg
    from pipeline.importing import import_program

    settings = settings_of(ctx)
    ffmpeg.check_tools()  # imports need no speech engine
    result = import_program(audio, meta_file, settings)
    state = "unchanged" if result.skipped else "imported"
    click.echo(f"{state:>10}  {result.program_id}  ({result.manifest})")


def parse_day(value: str) -> date:
    if value == "today":
        return datetime.now().astimezone().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD or 'today'") from None


@main.command()
@click.option("--from", "start", default="today", show_default=True, help="First day (YYYY-MM-DD or today).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366), help="Number of days.")
@click.pass_context
@reports_errors
def schedule(ctx: click.Context, start: str, days: int) -> None:
    """Write playlists for every station and day; exceptions are reported, not failures."""
    from pipeline.catalogue import load_catalogue
    from pipeline.playlists import publish
    from pipeline.schedule import plan_day
    from pipeline.stations import load_registry

    settings = settings_of(ctx)
    first = parse_day(start)
    registry = load_registry(settings.stations_file)
    catalogue, warnings = load_catalogue(settings.programs_dir)
    for warning in warnings:
        click.echo(warning, err=True)
    if not catalogue:
        click.echo("radio: warning: no rendered programs (run radio build first)", err=True)
    plans = [
        plan_day(station, first + timedelta(days=offset), catalogue, settings.item_gap_s)
        for station in registry.stations
        for offset in range(days)
    ]
    changed = publish(plans, settings.playlists_dir, datetime.now().astimezone())
    click.echo(f"{'station':<24} {'days':>4} {'items':>6} {'minutes':>8} {'exceptions':>10}")
    for station in registry.stations:
        mine = [p for p in plans if p.station == station.id]
        items = [i for p in mine for s in p.sessions for i in s.items]
        click.echo(
            f"{station.id:<24} {len(mine):>4} {len(items):>6} "
            f"{sum(i.duration_s for i in items) / 60:>8.1f} {sum(len(p.exceptions) for p in mine):>10}"
        )
    click.echo(f"{len(plans)} station-days, {changed} changed; playlists in {settings.playlists_dir}")
