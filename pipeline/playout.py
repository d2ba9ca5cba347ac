"""`radio station play`: the playout of a commune PC wired to the amplifier.

It plays the armed day (pipeline/station_agent.py arms a day only when every file verified) at its items'
start times through an output command: ffmpeg into the sound card by default, any player with a `{file}`
placeholder, or ffmpeg into a null sink (a full real-time decode, nothing heard) for tests and dry runs.

- Right before an item plays, its file is opened and its sha256 checked through that open file, and the
  player is handed the same open file (/dev/fd/N): what was checked is what airs. A file that fails is set
  aside (the next sync fetches it again) and never played.
- An item still inside its session plays late rather than never (a PC that booted mid-session);
  after its session it is skipped.
- Emergency items play as soon as they appear in today's armed playlist, cutting into the item on air,
  and again at their scheduled places. The item cut short is recorded as such (`completed: false`, ended_at
  = when it stopped) and, after the emergency, aired again from its start if it can still end inside its
  session; otherwise it is dropped (listed as skipped). A bulletin resumed mid-sentence after an alarm
  would be misheard, and a whole replay is what the report can count.
- Without an armed playlist for today, the most recent armed day is replayed at today's times (emergency
  items excepted): the commune never goes silent because a sync failed.
- Each play becomes a play record, queued on disk and sent to the server (when one is configured) in the
  background; records survive restarts and are sent when the link returns.

The clock is injectable (a shifted clock lets a test run a whole session in seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shlex
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pipeline import ffmpeg
from pipeline.errors import PipelineError
from pipeline.plays import PlayRecord
from pipeline.station_agent import StationFolder, SyncOptions, flush_plays, queue_play

log = logging.getLogger("radio.playout")
EMERGENCY_WINDOW = timedelta(minutes=10)  # a scheduled emergency this close to an immediate one is the same


class PlayoutError(PipelineError):
    """The playout cannot start (no armed day at all, a bad output command)."""


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now().astimezone()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class ShiftedClock:
    """Real time moved by a fixed offset: starts at `start` and runs at the normal pace."""

    offset: timedelta

    @classmethod
    def starting_at(cls, start: datetime) -> ShiftedClock:
        return cls(start - datetime.now().astimezone())

    def now(self) -> datetime:
        return datetime.now().astimezone() + self.offset

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Slot:
    source_day: date  # the armed day it comes from (differs from the day played on a fallback)
    session: str
    session_end: datetime
    program_id: str
    title: str
    starts_at: datetime
    duration_s: float
    sha256: str
    bytes: int
    emergency: bool

    @property
    def key(self) -> str:
        return f"{self.program_id}|{self.starts_at.isoformat()}"


@dataclass(frozen=True)
class DayPlan:
    day: date
    source_day: date
    timezone: str
    slots: tuple[Slot, ...]
    fingerprint: tuple[int, int]  # (mtime_ns, size) of the armed file: a re-armed day is reloaded

    @property
    def fallback(self) -> bool:
        return self.source_day != self.day


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def slots_of(data: dict[str, Any], day: date) -> list[Slot]:
    """Items of an armed playlist, placed on `day` (its own date, or today when falling back)."""
    zone = ZoneInfo(str(data.get("timezone", "UTC")))
    source = date.fromisoformat(str(data["date"]))
    shift = day - source
    slots: list[Slot] = []
    for session in data.get("sessions", []):
        end = _at(day, str(session["end"]), zone)
        for item in session.get("items", []):
            emergency = item.get("priority") == "emergency" or bool(item.get("emergency"))
            if shift and emergency:
                continue  # an old emergency is not news to replay
            starts = datetime.fromisoformat(str(item["starts_at"])).astimezone(zone)
            if shift:  # same wall-clock time on the new day
                starts = starts.replace(tzinfo=None) + shift
                starts = starts.replace(tzinfo=zone)
            slots.append(
                Slot(source, str(session.get("name", "")), end, str(item["program_id"]),
                     str(item.get("title", "")), starts, float(item.get("duration_s", 0)),
                     str(item["sha256"]), int(item["bytes"]), emergency)
            )  # fmt: skip
    return sorted(slots, key=lambda s: s.starts_at)


def load_day(folder: StationFolder, now: datetime) -> DayPlan | None:
    """Today's armed playlist, else the most recent armed day before it replayed on today."""
    armed = folder.armed_days()
    for day in sorted(armed, reverse=True):
        path = armed[day]
        try:
            data = json.loads(path.read_bytes())
            zone = ZoneInfo(str(data.get("timezone", "UTC")))
            today = now.astimezone(zone).date()
            if day > today:
                continue
            st = path.stat()
            return DayPlan(today, day, str(zone), tuple(slots_of(data, today)), (st.st_mtime_ns, st.st_size))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("%s: unusable armed playlist skipped: %s", path, exc)
    return None


def output_command(template: Sequence[str], file: str) -> list[str]:
    return [arg.replace("{file}", file) for arg in template]


def parse_command(text: str) -> tuple[str, ...]:
    args = tuple(shlex.split(text))
    if not args or not any("{file}" in a for a in args):
        raise PlayoutError("the output command must name the file as {file}", field="--command")
    return args


@dataclass(frozen=True)
class PlayoutOptions:
    folder: Path
    station: str
    command: tuple[str, ...]  # with a {file} placeholder
    poll_s: float = 5.0  # how often an idle or playing playout looks for new emergencies
    sync: SyncOptions | None = None  # where to send play records (none: they stay queued)
    until: datetime | None = None  # stop at this (clock) time; None = run for ever


@dataclass
class PlayoutSummary:
    played: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # failed verification: never aired
    failed: list[str] = field(default_factory=list)  # the player failed
    skipped: list[str] = field(default_factory=list)  # their session ended (or had no room left) first
    interrupted: list[str] = field(default_factory=list)  # cut short by an emergency (once per cut)


def verified_fd(path: Path, sha256: str, size: int) -> int | None:
    """An open descriptor of `path` whose content has exactly `size` bytes and `sha256`, else None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    h = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        h.update(block)
        offset += len(block)
    if offset != size or h.hexdigest() != sha256:
        os.close(fd)
        return None
    return fd


def played_keys(folder: StationFolder, day: date) -> tuple[set[str], set[str]]:
    """Keys of what already aired whole on `day`, and of what was cut short, from the journal (a restarted
    playout neither repeats a whole play nor forgets that an item still awaits its replay)."""
    whole: set[str] = set()
    cut: set[str] = set()
    try:
        lines = folder.journal.read_text(encoding="utf-8").splitlines()
    except OSError:
        return whole, cut
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("day") == day.isoformat() and record.get("slot"):
            (whole if record.get("completed", True) is not False else cut).add(str(record["slot"]))
    return whole, cut


class Playout:
    def __init__(self, options: PlayoutOptions, clock: Clock) -> None:
        self.options = options
        self.clock = clock
        self.folder = StationFolder(options.folder, options.station)
        self.summary = PlayoutSummary()
        self.plan: DayPlan | None = None
        self.done: set[str] = set()
        self.cut: set[str] = set()  # cut short by an emergency: replayed only if it still fits its session
        self.uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plays")
        self.pending_upload: Future[int] | None = None

    # -- bookkeeping --------------------------------------------------------------------------------------

    def refresh(self, now: datetime) -> DayPlan | None:
        plan = load_day(self.folder, now)
        if plan is not None and (self.plan is None or plan.day != self.plan.day):
            self.done, self.cut = played_keys(self.folder, plan.day)
            if plan.fallback:
                log.warning("no armed playlist for %s: replaying %s", plan.day, plan.source_day)
        self.plan = plan
        return plan

    def pending_emergency(self, plan: DayPlan) -> Slot | None:
        for slot in plan.slots:
            if slot.emergency and self.emergency_key(plan, slot) not in self.done:
                return slot
        return None

    @staticmethod
    def emergency_key(plan: DayPlan, slot: Slot) -> str:
        return f"emergency|{plan.day.isoformat()}|{slot.program_id}|{slot.sha256}"

    def journal(
        self, slot: Slot, key: str, started: datetime, ended: datetime, plan: DayPlan, *, completed: bool
    ) -> None:
        record = PlayRecord(self.options.station, slot.program_id, slot.sha256, started, ended, completed)
        queue_play(self.folder, record, {"slot": key, "day": plan.day.isoformat()})
        self.send_plays()

    def send_plays(self) -> None:
        if self.options.sync is None or (self.pending_upload is not None and not self.pending_upload.done()):
            return
        sync = self.options.sync
        self.pending_upload = self.uploads.submit(lambda: asyncio.run(flush_plays(sync)))

    # -- playing ------------------------------------------------------------------------------------------

    def interrupter(self, plan: DayPlan, current: Slot) -> Callable[[], bool]:
        """While an item airs: True when a new emergency has been armed (it cuts in)."""
        if current.emergency:
            return lambda: False

        def check() -> bool:
            path = self.folder.armed_path(plan.day)
            try:
                st = path.stat()
            except OSError:
                return False
            if (st.st_mtime_ns, st.st_size) == plan.fingerprint:
                return False
            fresh = load_day(self.folder, self.clock.now())
            return fresh is not None and self.pending_emergency(fresh) is not None

        return check

    def play(self, plan: DayPlan, slot: Slot, key: str) -> None:
        path = self.folder.file_path(slot.sha256)
        fd = verified_fd(path, slot.sha256, slot.bytes)
        self.done.add(key)
        if fd is None:
            log.error("%s (%s): file missing or fails its sha256 check; not played", slot.program_id, path)
            self.summary.refused.append(key)
            if path.exists():  # set aside: the next sync sees it missing and fetches a good copy
                aside = self.folder.root / "rejected" / path.name
                aside.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    os.replace(path, aside)
            return
        try:
            started = self.clock.now().astimezone(ZoneInfo(plan.timezone))
            log.info("playing %s (%s, session %s)", slot.program_id, key, slot.session)
            code, tail = ffmpeg.play(
                output_command(self.options.command, f"/dev/fd/{fd}"),
                pass_fds=(fd,),
                interrupt=self.interrupter(plan, slot),
                poll_s=min(1.0, self.options.poll_s),
            )
            ended = self.clock.now().astimezone(ZoneInfo(plan.timezone))
        finally:
            os.close(fd)
        if code not in (0, None):
            log.error("%s: the output command failed (exit %s): %s", slot.program_id, code, tail)
            self.summary.failed.append(key)
            return
        if code is None:
            log.warning(
                "%s cut short by an emergency; replayed after it if its session has room", slot.program_id
            )
            self.summary.interrupted.append(key)
            self.cut.add(key)
            self.done.discard(key)  # due again: step() replays it after the emergency, or drops it
            self.journal(slot, key, started, ended, plan, completed=False)
            return
        self.summary.played.append(key)
        self.journal(slot, key, started, ended, plan, completed=True)

    def step(self) -> float:
        """Play what is due now, or return how long to wait before looking again."""
        now = self.clock.now()
        plan = self.refresh(now)
        if plan is None:
            return self.options.poll_s
        urgent = None if plan.fallback else self.pending_emergency(plan)
        if urgent is not None:
            key = self.emergency_key(plan, urgent)
            for slot in plan.slots:  # its scheduled place right now is this same airing
                if slot.program_id == urgent.program_id and abs(slot.starts_at - now) <= EMERGENCY_WINDOW:
                    self.done.add(slot.key)
            self.play(plan, urgent, key)
            return 0.0
        for slot in plan.slots:
            if slot.key in self.done:
                continue
            if slot.key in self.cut and now + timedelta(seconds=slot.duration_s) > slot.session_end:
                self.done.add(slot.key)
                self.summary.skipped.append(slot.key)
                log.warning(
                    "%s: no room left in session %s to replay it whole", slot.program_id, slot.session
                )
                continue
            if slot.starts_at <= now < slot.session_end:
                self.play(plan, slot, slot.key)
                return 0.0
            if now >= slot.session_end and slot.starts_at <= now:
                self.done.add(slot.key)
                self.summary.skipped.append(slot.key)
                log.warning("%s: its session %s ended before it could play", slot.program_id, slot.session)
        upcoming = [s.starts_at for s in plan.slots if s.key not in self.done and s.starts_at > now]
        wait = min([(t - now).total_seconds() for t in upcoming] + [self.options.poll_s])
        return max(0.0, wait)

    def run(self) -> PlayoutSummary:
        try:
            while True:
                if self.options.until is not None and self.clock.now() >= self.options.until:
                    break
                wait = self.step()
                if self.options.until is not None:
                    wait = min(wait, max(0.0, (self.options.until - self.clock.now()).total_seconds()))
                if wait > 0:
                    self.clock.sleep(wait)
        finally:
            if self.pending_upload is not None:
                with contextlib.suppress(Exception):
                    self.pending_upload.result(timeout=30)
            if self.options.sync is not None:  # whatever is still queued gets one last chance
                with contextlib.suppress(Exception):
                    asyncio.run(flush_plays(self.options.sync))
            self.uploads.shutdown(wait=False)
        return self.summary


def run_playout(options: PlayoutOptions, clock: Clock | None = None) -> PlayoutSummary:
    if not options.folder.is_dir():
        raise PlayoutError("no such station folder (run radio station sync first)", path=options.folder)
    return Playout(options, clock or SystemClock()).run()
