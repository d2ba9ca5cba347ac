"""`radio daemon`: the unattended centre. APScheduler 3.11 (imported here only) runs two jobs in the
configured timezone (Asia/Ho_Chi_Minh by default), one at a time:

- nightly (at `nightly_at`, and once at start to catch up): publish today and the next days for every station;
- interval (every `interval_minutes`): build what changed (`pipeline.build.build` skips unchanged programs),
  then re-plan the same days when any input changed: a manifest, an editorial decision, the registry, or
  the date.

Exactly one daemon runs per project: an exclusive fcntl lock on `<state>/daemon.lock` (a second one exits
2). SIGTERM or SIGINT stops it gracefully: no new job starts, a running one finishes, the lock is released.
Logs go to stderr (journald under systemd: deploy/radio-daemon.service).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from types import FrameType
from zoneinfo import ZoneInfo

from pipeline.config import Settings
from pipeline.errors import ConfigError, PipelineError
from pipeline.stations import HHMM_RE

LOCK_NAME = "daemon.lock"
log = logging.getLogger("radio.daemon")


class DaemonError(PipelineError):
    """The daemon cannot start (another one holds the lock)."""

    exit_code = 2


@dataclass(frozen=True)
class DaemonOptions:
    interval_s: float
    nightly_at: time
    days: int
    timezone: str


def options_from(
    settings: Settings, interval_minutes: float | None, nightly_at: str | None, days: int | None
) -> DaemonOptions:
    """Command-line values over radio.toml `[schedule]`."""
    at = settings.schedule.nightly_at
    if nightly_at is not None:
        match = HHMM_RE.match(nightly_at)
        if not match:
            raise ConfigError(f"{nightly_at!r} is not a time of day as HH:MM", field="--nightly-at")
        at = time(int(match.group(1)), int(match.group(2)))
    minutes = interval_minutes if interval_minutes is not None else settings.schedule.interval_minutes
    return DaemonOptions(
        interval_s=minutes * 60,
        nightly_at=at,
        days=days if days is not None else settings.schedule.days,
        timezone=settings.schedule.timezone,
    )


@contextlib.contextmanager
def single_instance(settings: Settings) -> Iterator[None]:
    """Hold the daemon lock for the block, or raise DaemonError naming the running daemon's pid."""
    path = settings.state_dir / LOCK_NAME
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the daemon's life
    except OSError as exc:
        raise DaemonError(f"cannot open the daemon lock: {exc.strerror}", path=path) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            raise DaemonError(
                f"another radio daemon is running (pid {pid}); not starting", path=path
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield  # the kernel drops the lock if the process dies, so a stale file never blocks a restart


def inputs_fingerprint(settings: Settings, today: date) -> str:
    """Changes when anything a schedule depends on changes (cheap: file stats, not contents)."""
    from pipeline import editorial

    digest = hashlib.sha256(today.isoformat().encode())
    with contextlib.suppress(OSError):
        digest.update(settings.stations_file.read_bytes())
    folder = settings.programs_dir
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_mtime_ns}:{stat.st_size};".encode())
    digest.update(str(editorial.fingerprint(settings.state_dir)).encode())
    return digest.hexdigest()


class Jobs:
    """The two jobs and the one thing they remember: the inputs of the last published schedule."""

    def __init__(self, settings: Settings, options: DaemonOptions) -> None:
        self.settings = settings
        self.options = options
        self.zone = ZoneInfo(options.timezone)
        self.published: str | None = None

    def publish(self, reason: str) -> None:
        from pipeline.playlists import schedule_days

        now = datetime.now(self.zone)
        fingerprint = inputs_fingerprint(self.settings, now.date())
        summary = schedule_days(self.settings, now.date(), self.options.days, now)
        self.published = fingerprint
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.reasons().items())) or "none"
        items = sum(s.items for s in summary.stations)
        log.info(
            "%s: %d station-days from %s, %d items, %d changed; exceptions: %s",
            reason,
            summary.station_days,
            now.date(),
            items,
            summary.changed,
            reasons,
        )
        for warning in summary.warnings:
            log.warning("%s", warning)

    def nightly(self) -> None:
        try:
            self.publish("nightly")
        except PipelineError as exc:
            log.error("nightly schedule failed: %s", exc)

    def build(self) -> None:
        from pipeline.build import build, select_scripts

        paths = select_scripts(self.settings, [])
        if not paths:
            return
        outcome = build(self.settings, paths, jobs=self.settings.effective_jobs)
        rendered = [r.program_id for r in outcome.results if not r.skipped]
        if rendered:
            log.info("rendered %s", ", ".join(rendered))
        for failure in outcome.failures:
            log.error("build: %s", failure)

    def interval(self) -> None:
        try:
            self.build()
        except PipelineError as exc:  # e.g. a tool went missing: approvals still reach the playlists
            log.error("build failed: %s", exc)
        try:
            today = datetime.now(self.zone).date()
            if inputs_fingerprint(self.settings, today) != self.published:
                self.publish("refresh")
        except PipelineError as exc:
            log.error("refresh failed: %s", exc)


def run_daemon(settings: Settings, options: DaemonOptions, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set); raises DaemonError when another daemon runs."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    stop = stop or threading.Event()
    zone = ZoneInfo(options.timezone)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is ours to write
    with single_instance(settings):
        jobs = Jobs(settings, options)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("%s received: stopping after the running job", signal.Signals(signum).name)
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        # one worker: the jobs never overlap, so a refresh never races a nightly run
        scheduler = BackgroundScheduler(
            timezone=zone,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        now = datetime.now(zone)
        at = options.nightly_at
        scheduler.add_job(
            jobs.nightly,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=zone),
            id="nightly",
            next_run_time=now,
        )
        scheduler.add_job(
            jobs.interval,
            IntervalTrigger(seconds=options.interval_s, timezone=zone),
            id="interval",
            next_run_time=now,
        )
        try:
            scheduler.start()
            log.info(
                "started (pid %d): nightly at %s %s for %d days, refresh every %g min",
                os.getpid(),
                f"{at:%H:%M}",
                options.timezone,
                options.days,
                options.interval_s / 60,
            )
            stop.wait()
        finally:
            scheduler.shutdown(wait=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    log.info("stopped")
