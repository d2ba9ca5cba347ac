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
from pipeline.errors import ConfigError, PipelineError

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
    if rendered and settings.playlists_dir.is_dir():
        # Published playlists name each file's sha256 and size: re-plan them so stations get the new files.
        from pipeline.playlists import refresh_published

        summary = refresh_published(settings, datetime.now().astimezone())
        click.echo(f"{summary.changed} published station-days refreshed")
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


# --- distribution: server, tokens, station agent and playout, proof of play, reports, feeds -----------------


def server_paths(settings: Settings) -> Any:
    from pipeline.serve import ServerPaths

    return ServerPaths(
        playlists_dir=settings.playlists_dir,
        programs_dir=settings.programs_dir,
        feeds_dir=settings.build_dir / "feeds",
        stations_file=settings.stations_file,
        tokens=settings.serve.tokens,
        plays_db=settings.serve.plays_db,
    )


@main.command()
@click.option("--host", help="Address to listen on (default: radio.toml [serve] host).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [serve] port; 0 = any free one).")
@click.pass_context
@reports_errors
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve station playlists and audio over HTTP (put a TLS reverse proxy in front: docs/deployment.md)."""
    from pipeline.serve import serve_forever
    from pipeline.stations import load_registry
    from pipeline.tokens import load_tokens

    settings = settings_of(ctx)
    load_registry(settings.stations_file)  # a broken registry or token store stops us before listening
    try:
        load_tokens(settings.serve.tokens)
    except PipelineError as exc:
        raise ConfigError(exc.message, path=exc.path, field=exc.field) from None

    def ready(url: str) -> None:
        click.echo(f"radio serve: listening on {url}")
        sys.stdout.flush()

    serve_forever(
        server_paths(settings),
        host or settings.serve.host,
        settings.serve.port if port is None else port,
        max_body_kb=settings.serve.max_body_kb,
        access_log=settings.serve.access_log,
        on_ready=ready,
    )


@main.group()
def token() -> None:
    """Station access tokens for radio serve (only their SHA-256 digests are kept)."""


OUT_DIR_OPTION = click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write <station>.token files (mode 0600) here instead of printing the tokens.",
)


def _issue(ctx: click.Context, stations: tuple[str, ...], out_dir: Path | None, rotate: bool) -> None:
    from pipeline.stations import load_registry
    from pipeline.tokens import TokenError, issue_tokens, write_token_file

    settings = settings_of(ctx)
    known = {s.id for s in load_registry(settings.stations_file).stations}
    for station in stations:
        if station not in known:
            raise TokenError(f"unknown station {station!r}", path=settings.stations_file, field="station")
    issued = issue_tokens(settings.serve.tokens, stations, datetime.now().astimezone(), rotate=rotate)
    for station, secret in issued.items():
        if out_dir is None:
            click.echo(f"{station} {secret}")
        else:
            write_token_file(out_dir / f"{station}.token", secret)
            click.echo(f"{station} {out_dir / f'{station}.token'}")
    if out_dir is None:
        click.echo("radio: shown once: give each station its token (station sync --token-file)", err=True)


@token.command()
@click.argument("stations", nargs=-1, required=True)
@OUT_DIR_OPTION
@click.pass_context
@reports_errors
def issue(ctx: click.Context, stations: tuple[str, ...], out_dir: Path | None) -> None:
    """Issue a token to stations that have none (printed once: the centre keeps only a digest)."""
    _issue(ctx, stations, out_dir, rotate=False)


@token.command()
@click.argument("stations", nargs=-1, required=True)
@OUT_DIR_OPTION
@click.pass_context
@reports_errors
def rotate(ctx: click.Context, stations: tuple[str, ...], out_dir: Path | None) -> None:
    """Replace stations' tokens; the old ones stop working at once."""
    _issue(ctx, stations, out_dir, rotate=True)


@token.command()
@click.argument("stations", nargs=-1, required=True)
@click.pass_context
@reports_errors
def revoke(ctx: click.Context, stations: tuple[str, ...]) -> None:
    """Withdraw stations' tokens (exit 1 if one had none)."""
    from pipeline.tokens import revoke_token

    settings = settings_of(ctx)
    missing = 0
    for station in stations:
        if revoke_token(settings.serve.tokens, station):
            click.echo(f"revoked  {station}")
        else:
            click.echo(f"radio: error: station {station!r} has no token", err=True)
            missing += 1
    if missing:
        sys.exit(1)


@main.group()
def station() -> None:
    """Station side: fetch and verify the station's days, play them, report plays (no project needed)."""


def _setup_logging() -> None:
    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


def _sync_options(server: str, station_id: str, token_file: Path, folder: Path, **extra: Any) -> Any:
    from pipeline.station_agent import SyncOptions
    from pipeline.tokens import read_token_file

    return SyncOptions(server=server.rstrip("/"), station=station_id, token=read_token_file(token_file),
                       folder=folder, **extra)  # fmt: skip


def _print_sync(result: Any) -> None:
    for outcome in result.days:
        revision = f" r{outcome.revision}" if outcome.revision is not None else ""
        detail = f"  {outcome.detail}" if outcome.detail else ""
        click.echo(f"{outcome.state:>8}  {outcome.day}{revision}{detail}")
    for line in result.errors:
        click.echo(f"radio: warning: {line}", err=True)
    armed = ", ".join(d.isoformat() for d in result.armed) or "none"
    click.echo(
        f"{'reached' if result.reachable else 'UNREACHABLE'}; armed days: {armed}; "
        f"plays sent: {result.plays_sent}; removed: {len(result.removed)}"
    )


@station.command()
@click.option("--server", required=True, help="Base URL of radio serve, e.g. https://radio.example.vn")
@click.option("--station", "station_id", required=True, help="This station's id.")
@click.option("--token-file", required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--days", default=1, show_default=True, type=click.IntRange(0, 31), help="Days after today.")
@click.option("--loop", is_flag=True, help="Sync every --interval seconds (emergencies arrive this way).")
@click.option("--interval", default=120.0, show_default=True, type=click.FloatRange(min=1), help="Seconds.")
@click.option("--attempts", default=4, show_default=True, type=click.IntRange(1, 20), help="Tries a request.")
@click.option("--backoff", default=2.0, show_default=True, type=click.FloatRange(min=0), help="First wait.")
@reports_errors
def sync(
    server: str,
    station_id: str,
    token_file: Path,
    folder: Path,
    days: int,
    loop: bool,
    interval: float,
    attempts: int,
    backoff: float,
) -> None:
    """Fetch today's and the next days' playlists and files, verify them, arm complete days.

    One-shot for cron (exit 0: all days armed or current; 1: something is missing, the last good days are
    kept; 2: the token was refused), or --loop."""
    from pipeline.station_agent import run_loop, run_sync

    _setup_logging()
    options = _sync_options(server, station_id, token_file, folder, days=days, attempts=attempts,
                            backoff_s=backoff)  # fmt: skip
    if loop:
        run_loop(options, interval, report=_print_sync)
        return
    result = run_sync(options)
    _print_sync(result)
    if not result.ok:
        sys.exit(1)


@station.command()
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--station", "station_id", help="Station id (default: the one station in the folder).")
@click.option(
    "--sink",
    type=click.Choice(["alsa", "pulse", "null"]),
    default="alsa",
    show_default=True,
    help="ffmpeg output: the sound card (ALSA or PulseAudio) or null (decode in real time, play nothing).",
)
@click.option(
    "--command", "command_text", help="Own player instead, with {file}: 'ffplay -nodisp -autoexit {file}'."
)
@click.option("--server", help="radio serve base URL to send play records to (else they stay queued).")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--start-at", help="Pretend the clock reads this ISO time now (rehearsals and tests).")
@click.option("--until", "until_text", help="Stop at this ISO time (by the playout's clock).")
@click.option("--poll", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds.")
@reports_errors
def play(
    folder: Path,
    station_id: str | None,
    sink: str,
    command_text: str | None,
    server: str | None,
    token_file: Path | None,
    start_at: str | None,
    until_text: str | None,
    poll: float,
) -> None:
    """Play the armed day's items at their times into the amplifier; emergencies at once; report plays."""
    from pipeline import ffmpeg
    from pipeline.playout import PlayoutOptions, ShiftedClock, SystemClock, parse_command, run_playout
    from pipeline.station_agent import find_station

    def moment(text: str, name: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=name) from None
        return value if value.tzinfo else value.astimezone()

    if (server is None) != (token_file is None):
        raise click.UsageError("--server and --token-file go together")
    _setup_logging()
    station_id = station_id or find_station(folder)
    command = parse_command(command_text) if command_text else tuple(ffmpeg.playout_args("{file}", sink))
    sync_options = _sync_options(server, station_id, token_file, folder) if server and token_file else None
    options = PlayoutOptions(
        folder=folder,
        station=station_id,
        command=command,
        poll_s=poll,
        sync=sync_options,
        until=moment(until_text, "--until") if until_text else None,
    )
    clock = ShiftedClock.starting_at(moment(start_at, "--start-at")) if start_at else SystemClock()
    summary = run_playout(options, clock)
    click.echo(
        f"played {len(summary.played)}, refused {len(summary.refused)} (failed verification), "
        f"failed {len(summary.failed)}, skipped {len(summary.skipped)}, "
        f"interrupted {len(summary.interrupted)} (cut short by an emergency)"
    )
    if summary.refused or summary.failed:
        sys.exit(1)


@main.group()
def stations() -> None:
    """The centre's view of its stations."""


@stations.command()
@click.option("--behind-hours", type=click.FloatRange(min=0), help="Default: [serve] behind_hours.")
@click.pass_context
@reports_errors
def status(ctx: click.Context, behind_hours: float | None) -> None:
    """Last sync, agent version and armed days per station; flags the stations that are behind."""
    from pipeline.plays import load_statuses, station_health
    from pipeline.stations import load_registry

    settings = settings_of(ctx)
    registry = load_registry(settings.stations_file)
    now = datetime.now().astimezone()
    health = station_health(
        [(s.id, s.timezone) for s in registry.stations],
        load_statuses(settings.serve.plays_db),
        now,
        settings.serve.behind_hours if behind_hours is None else behind_hours,
    )
    click.echo(f"{'station':<24} {'last sync':<20} {'agent':<22} {'today':<6} state")
    for row in health:
        synced = row.status.last_sync_at.strftime("%Y-%m-%d %H:%M") if row.status else "-"
        version = row.status.agent_version if row.status else "-"
        state = "BEHIND: " + "; ".join(row.reasons) if row.behind else "ok"
        today = "armed" if row.today_armed else "-"
        click.echo(f"{row.station:<24} {synced:<20} {version:<22} {today:<6} {state}")
    behind = sum(row.behind for row in health)
    click.echo(f"{len(health)} stations, {behind} behind")


@main.command()
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--station", "station_ids", multiple=True, help="Only these stations (repeatable).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Default: build/reports/MONTH.")
@click.option("--no-chart", is_flag=True, help="CSV only.")
@click.pass_context
@reports_errors
def report(
    ctx: click.Context, month: str, station_ids: tuple[str, ...], out: Path | None, no_chart: bool
) -> None:
    """Broadcasts and minutes per station and program from the play records, and scheduled items that have
    no play record: CSV files and a PNG chart."""
    from pipeline.plays import plays_between
    from pipeline.reports import (
        build_report,
        month_bounds,
        output_dir,
        program_titles,
        scheduled_items,
        write_report,
    )

    settings = settings_of(ctx)
    first, last = month_bounds(month)
    played = plays_between(settings.serve.plays_db, first, last, station_ids)
    scheduled, warnings = scheduled_items(settings.playlists_dir, first, last, station_ids)
    for warning in warnings:
        click.echo(warning, err=True)
    result = build_report(month, played, scheduled, program_titles(settings.programs_dir))
    folder = out or output_dir(settings.build_dir / "reports", month, station_ids)
    written = write_report(result, folder, chart=not no_chart)
    click.echo(f"{'station':<24} {'program':<32} {'broadcasts':>10} {'minutes':>8}")
    for row in result.rows:
        click.echo(f"{row.station:<24} {row.program_id:<32} {row.broadcasts:>10} {row.minutes:>8.1f}")
    click.echo(
        f"{month}: {result.broadcasts} broadcasts, {result.minutes:.1f} minutes; "
        f"{len(result.missing)} of {result.scheduled} scheduled items have no play record; "
        f"{len(result.interrupted)} plays cut short (not counted)"
    )
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.option("--base-url", help="Public address of /feeds and /media (default: [serve] public_url).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Default: build/feeds.")
@click.option("--include-unapproved", is_flag=True, help="Every rendered program (a preview only).")
@click.pass_context
@reports_errors
def feed(ctx: click.Context, base_url: str | None, out: Path | None, include_unapproved: bool) -> None:
    """Write a podcast RSS 2.0 feed per series of approved programs (radio serve publishes them)."""
    from zoneinfo import ZoneInfo

    from pipeline.editorial import latest_decisions
    from pipeline.feeds import write_feeds

    settings = settings_of(ctx)
    base = base_url or settings.serve.public_url
    if not base:
        raise click.UsageError("give --base-url or set [serve] public_url in radio.toml")
    approved = None
    if not include_unapproved:
        approved = {
            pid: d.script_sha256 or ""
            for pid, d in latest_decisions(settings.state_dir).items()
            if d.action == "approve"
        }
    written, warnings = write_feeds(
        settings.programs_dir, out or settings.build_dir / "feeds", base, approved,
        ZoneInfo(settings.schedule.timezone),
    )  # fmt: skip
    for warning in warnings:
        click.echo(warning, err=True)
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("radio: warning: no approved programs, no feed written", err=True)
