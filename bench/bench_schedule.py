"""Scheduling at national scale: a generated registry of 3,321 communes in 34 provinces (half of them with
former-district groupings, half two-tier) with 200 programs for 30 days, and 10,000 stations for 7 days.

Computing: every station-day planned the way `radio schedule` does it (per station, days chained through
the play history, nothing kept but the summary), timed, with the peak RSS of a child process that does only
that. Baseline in the same run: the bare loop that only decides, for each station-day, which programs
target it and are valid (the least any scheduler must do), scanning the catalogue as the first version did.

Publishing: JSON + M3U8 + XSPF of 1,000 station-days into a temp folder on the project's disk, files/s,
against the baseline of one fsync per file (write_text_atomic), then a re-publish of unchanged days.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.catalogue import Catalogue, Program
from pipeline.editorial import APPROVED, NOT_APPROVED
from pipeline.files import write_text_atomic
from pipeline.models import Repeat
from pipeline.playlists import json_text, m3u8, playlist_content, publish, summarize, xspf
from pipeline.schedule import DayPlan, plan_days
from pipeline.stations import Registry, Station, load_registry

PROVINCES, COMMUNES, PROGRAMS = 34, 3321, 200
START = date(2026, 12, 1)
HERE = Path(__file__).resolve().parent.parent


def registry_yaml(rng: random.Random, communes: int) -> str:
    """Half the provinces group communes by former district, half hold them directly (two-tier)."""
    lines = [
        "defaults:",
        "  timezone: Asia/Ho_Chi_Minh",
        "  sessions:",
        '    - {name: sang, start: "05:30", end: "06:00"}',
        '    - {name: chieu, start: "17:00", end: "17:30", weekdays: [mon, tue, wed, thu, fri, sat]}',
        "provinces:",
    ]
    per_province = [communes // PROVINCES + (p < communes % PROVINCES) for p in range(PROVINCES)]
    number = 0
    for p, count in enumerate(per_province):
        lines += [f"  - id: p{p:02d}", f"    name: Tỉnh {p}"]
        groups = 7 if p % 2 == 0 else 0
        if groups:
            lines.append("    groups:")
        for g in range(groups):
            lines += [f"      - id: p{p:02d}-g{g}", "        stations:"]
            for _ in range(count // groups + (g < count % groups)):
                lines.append(station_line(rng, number, "          "))
                number += 1
        if not groups:
            lines.append("    stations:")
            for _ in range(count):
                lines.append(station_line(rng, number, "      "))
                number += 1
    return "\n".join(lines) + "\n"


def station_line(rng: random.Random, number: int, indent: str) -> str:
    if rng.random() < 0.7:
        return f"{indent}- {{id: xa-{number:05d}, name: Xã {number}}}"
    start = rng.choice(["05:00", "05:15", "05:30"])
    return (
        f'{indent}- {{id: xa-{number:05d}, name: Xã {number}, sessions: [{{name: sang, start: "{start}", '
        f'end: "06:15"}}, {{name: chieu, start: "17:00", end: "17:45"}}]}}'
    )


def catalogue(rng: random.Random, communes: int) -> Catalogue:
    programs = []
    for index in range(PROGRAMS):
        p = rng.randrange(PROVINCES)
        scope = rng.random()
        target = f"p{p:02d}" if scope < 0.6 or p % 2 else f"p{p:02d}-g{rng.randrange(7)}"
        if scope > 0.95:
            target = f"xa-{rng.randrange(communes):05d}"
        first = START + timedelta(days=rng.randrange(-60, 20))
        repeat = rng.choice([Repeat(), Repeat(), Repeat(per_day=1), Repeat(weekdays=frozenset({0, 3})),
                             Repeat(every_days=3)])  # fmt: skip
        programs.append(Program(
            id=f"prog-{index:03d}", title=f"Chương trình {index}",
            kind="filler" if index % 25 == 0 else "program",
            file=f"prog-{index:03d}.mp3", duration_s=rng.uniform(180, 300), sha256="0" * 64, bytes=3_000_000,
            targets=(target,), valid_from=first, valid_until=first + timedelta(days=rng.randrange(10, 400)),
            priority=rng.choices(["normal", "priority", "emergency"], [90, 9, 1])[0], repeat=repeat,
            state=APPROVED if rng.random() < 0.9 else NOT_APPROVED,
        ))  # fmt: skip
    return Catalogue.of(programs)


def baseline(stations: tuple[Station, ...], programs: tuple[Program, ...], days: int) -> int:
    count = 0
    for station in stations:
        for offset in range(days):
            day = START + timedelta(days=offset)
            count += sum(
                1 for p in programs if station.targeted_by(p.targets) and p.valid_from <= day <= p.valid_until
            )
    return count


def compute(stations: tuple[Station, ...], programs: Catalogue, days: int) -> tuple[int, int, int]:
    station_days = items = exceptions = 0
    for station in stations:
        plans = plan_days(station, START, days, programs, 2.0, {}, 14)
        summary = summarize(station.id, plans, 0)
        station_days += summary.days
        items += summary.items
        exceptions += sum(count for _, count in summary.reasons)
    return station_days, items, exceptions


def in_child(work: Callable[[], object]) -> tuple[object, float, float]:
    """Run `work` in a forked child: its result, wall time and the child's own peak RSS (MiB)."""
    parent, child = multiprocessing.Pipe()

    def target() -> None:
        t0 = time.perf_counter()
        result = work()
        took = time.perf_counter() - t0
        child.send((result, took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))

    process = multiprocessing.get_context("fork").Process(target=target)
    process.start()
    outcome: tuple[object, float, float] = parent.recv()
    process.join()
    return outcome


def per_file_fsync(plans: list[DayPlan], folder: Path, now: datetime) -> None:
    for plan in plans:
        base = folder / plan.station / plan.date.isoformat()
        write_text_atomic(base.with_suffix(".m3u8"), m3u8(plan))
        write_text_atomic(base.with_suffix(".xspf"), xspf(plan))
        write_text_atomic(base.with_suffix(".json"), json_text(playlist_content(plan), 1, now))


def main() -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(dir=HERE) as scratch:
        registries: list[tuple[str, Registry, int]] = []
        for label, communes, days in (("3,321 communes x 30 days", COMMUNES, 30),
                                      ("10,000 stations x 7 days", 10_000, 7)):  # fmt: skip
            path = Path(scratch) / f"stations-{communes}.yaml"
            path.write_text(registry_yaml(rng, communes), encoding="utf-8")
            t0 = time.perf_counter()
            registry = load_registry(path)
            print(f"registry of {len(registry.stations):,} stations loaded and validated in "
                  f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
            registries.append((label, registry, days))
        programs = catalogue(rng, COMMUNES)
        for label, registry, days in registries:
            stations = registry.stations
            _, base, _ = in_child(lambda s=stations, d=days: baseline(s, programs.programs, d))
            result, took, rss = in_child(lambda s=stations, d=days: compute(s, programs, d))
            station_days, items, exceptions = result  # type: ignore[misc]
            print(
                f"{label}: compute {took:.2f} s ({station_days / took:,.0f} station-days/s; {items:,} items, "
                f"{exceptions:,} exceptions), peak RSS {rss:.0f} MiB; "
                f"baseline filter loop {base:.2f} s, ratio {took / base:.2f}x"
            )
        sample_stations = registries[0][1].stations[:34]
        plans = [p for s in sample_stations for p in plan_days(s, START, 30, programs, 2.0, {}, 14)][:1000]
        now = datetime(2026, 11, 30, 1, 0).astimezone()
        files = 3 * len(plans)
        t0 = time.perf_counter()
        per_file_fsync(plans, Path(scratch) / "fsync", now)
        slow = time.perf_counter() - t0
        t0 = time.perf_counter()
        publish(plans, Path(scratch) / "batch", now)
        fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        unchanged = publish(plans, Path(scratch) / "batch", now)
        again = time.perf_counter() - t0
        assert unchanged == 0
        print(
            f"publish {files:,} files: batched (one syncfs, renames, one fsync per folder) {fast:.2f} s = "
            f"{files / fast:,.0f} files/s; baseline fsync per file {slow:.2f} s = "
            f"{files / slow:,.0f} files/s; "
            f"ratio {slow / fast:.1f}x; re-publish unchanged {len(plans) / again:,.0f} days/s checked"
        )


if __name__ == "__main__":
    main()
