"""The `radio` command. Thin: it parses arguments, calls the library and turns PipelineErrors into
messages and exit codes (0 ok, 1 some inputs failed, 2 usage or configuration error).

Imports of the stages are inside the commands, so `radio preview` never loads the audio stack and a
no-op `radio build` loads no scheduler, HTTP or document code.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from datetime import date, datetime
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
@click.option(
    "--engine",
    type=click.Choice(["auto", "edge", "espeak"]),
    help="Speech engine: auto (edge-tts, espeak-ng when the service fails), edge or espeak "
    "(default: from radio.toml).",
)
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
    if engine is not None:
        settings = dataclasses.replace(settings, engine=engine)
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
    import os
    from dataclasses import replace

    from pipeline.lint import lint_context, lint_scripts
    from pipeline.scripts import find_scripts

    settings = settings_of(ctx)
    paths = list(scripts) or find_scripts(settings.scripts_dir)
    if not paths:
        raise click.UsageError(f"no scripts found in {settings.scripts_dir}")
    cwd = Path.cwd().resolve()

    def shown(path: Path) -> Path:
        # as the user typed it, or relative to the current folder when it lies inside it
        if not path.is_absolute():
            return path
        try:
            return path.resolve().relative_to(cwd)
        except ValueError:
            return Path(os.path.relpath(path)) if path.is_relative_to(settings.root) else path

    context = lint_context(settings)
    context = replace(context, lexicon_file=shown(context.lexicon_file))
    errors = 0
    for message in lint_scripts(paths, context):
        errors += message.level == "error"
        click.echo(str(replace(message, path=shown(message.path))))
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
    from zoneinfo import ZoneInfo

    from pipeline.playlists import schedule_days

    settings = settings_of(ctx)
    now = datetime.now(ZoneInfo(settings.schedule.timezone))
    first = now.date() if start == "today" else parse_day(start)
    summary = schedule_days(settings, first, days, now)
    print_run(summary, settings.playlists_dir)


def print_run(summary: Any, playlists_dir: Path, *, refresh: bool = False) -> None:
    """The summary table of a scheduling run (a pipeline.playlists.RunSummary)."""
    if refresh and not summary.station_days:
        return  # nothing published yet: approving before the first schedule has nothing to refresh
    for warning in summary.warnings:
        click.echo(warning, err=True)
    if not any(s.items for s in summary.stations):
        click.echo("radio: warning: nothing scheduled (run radio build, then radio approve)", err=True)
    head = f"{'station':<24} {'days':>4} {'items':>6} {'minutes':>8} {'changed':>7}"
    click.echo(f"{head}  exceptions by reason")
    for row in summary.stations:
        reasons = ", ".join(f"{reason} {count}" for reason, count in row.reasons) or "-"
        line = f"{row.station:<24} {row.days:>4} {row.items:>6} {row.seconds / 60:>8.1f} {row.changed:>7}"
        click.echo(f"{line}  {reasons}")
    totals = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.reasons().items())) or "none"
    click.echo(
        f"{summary.station_days} station-days, {summary.changed} changed; exceptions: {totals}; "
        f"playlists in {playlists_dir}"
    )


@main.command()
@click.argument("program_ids", nargs=-1)
@click.option("--by", required=True, help="Name of the editor approving (recorded with the time).")
@click.option(
    "--all", "all_", is_flag=True, help="Every program not yet approved (withdrawn ones stay withdrawn)."
)
@click.pass_context
@reports_errors
def approve(ctx: click.Context, program_ids: tuple[str, ...], by: str, all_: bool) -> None:
    """Approve programs for broadcast (this version of their script); published playlists are refreshed."""
    from pipeline.catalogue import approve_programs
    from pipeline.playlists import refresh_published

    if bool(program_ids) == all_:
        raise click.UsageError("give program ids or --all")
    settings = settings_of(ctx)
    now = datetime.now().astimezone()
    outcome = approve_programs(settings, list(program_ids), by, now, every=all_)
    for decision in outcome.recorded:
        click.echo(f"  approved  {decision.program_id}  by {decision.by} at {decision.at}")
    for program_id in outcome.unchanged:
        click.echo(f"unchanged  {program_id}  (already approved)")
    for program_id in outcome.withdrawn:
        click.echo(f"  skipped  {program_id}  (withdrawn: approve it by name to put it back)")
    if outcome.recorded:
        print_run(refresh_published(settings, now), settings.playlists_dir, refresh=True)
    for program_id in outcome.unknown:
        click.echo(f"radio: error: unknown program {program_id!r} (not in {settings.programs_dir})", err=True)
    if outcome.unknown:
        sys.exit(1)


@main.command()
@click.argument("program_ids", nargs=-1, required=True)
@click.option("--by", help="Name recorded with the withdrawal (default: the login name).")
@click.pass_context
@reports_errors
def withdraw(ctx: click.Context, program_ids: tuple[str, ...], by: str | None) -> None:
    """Recall programs from every published playlist from today on; stations drop them at their next sync."""
    import getpass

    from pipeline.catalogue import withdraw_programs
    from pipeline.playlists import refresh_published

    settings = settings_of(ctx)
    now = datetime.now().astimezone()
    outcome = withdraw_programs(settings, list(program_ids), by or getpass.getuser(), now)
    for decision in outcome.recorded:
        click.echo(f" withdrawn  {decision.program_id}  by {decision.by} at {decision.at}")
    for program_id in outcome.unchanged:
        click.echo(f" unchanged  {program_id}  (already withdrawn)")
    print_run(refresh_published(settings, now), settings.playlists_dir, refresh=True)
    for program_id in outcome.unknown:
        click.echo(f"radio: error: unknown program {program_id!r}", err=True)
    if outcome.unknown:
        sys.exit(1)


@main.command()
@click.option(
    "--interval-minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Rebuild and refresh every N minutes (default: radio.toml [schedule] interval_minutes).",
)
@click.option("--nightly-at", help="Local HH:MM of the nightly run (default: [schedule] nightly_at).")
@click.option(
    "--days", type=click.IntRange(1, 366), help="Days kept published ahead (default: [schedule] days)."
)
@click.pass_context
@reports_errors
def daemon(
    ctx: click.Context, interval_minutes: float | None, nightly_at: str | None, days: int | None
) -> None:
    """Run unattended: nightly playlists for the next days, rebuild and refresh on an interval."""
    import logging

    from pipeline.daemon import options_from, run_daemon

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_of(ctx)
    run_daemon(settings, options_from(settings, interval_minutes, nightly_at, days))
