"""Scheduling speed at national scale: 3,321 communes in 34 provinces, 200 programs, 30 days.

Prints the time and peak memory to compute every station-day, and the ratio to a baseline measured in the
same run: the bare loop that only decides, for each station-day, which programs target it and are valid
(the least any scheduler must do). Publishing files is measured separately (files/s) into a temp folder.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.catalogue import Program
from pipeline.playlists import publish
from pipeline.schedule import plan_day
from pipeline.stations import Session, Station

PROVINCES, COMMUNES, PROGRAMS, DAYS = 34, 3321, 200, 30
START = date(2026, 12, 1)


def registry(rng: random.Random) -> list[Station]:
    stations = []
    every = frozenset(range(7))
    for index in range(COMMUNES):
        province = f"p{index % PROVINCES:02d}"
        group = f"{province}-g{index % 7}"
        morning = Session("sang", clock(5, rng.choice([0, 15, 30])), clock(6, 0), every)
        evening = Session("chieu", clock(17, 0), clock(17, rng.choice([30, 45])), frozenset(range(6)))
        stations.append(Station(f"xa-{index:05d}", f"Xã {index}", "Asia/Ho_Chi_Minh", (morning, evening),
                                (province, group)))  # fmt: skip
    return stations


def catalogue(rng: random.Random) -> tuple[Program, ...]:
    programs = []
    for index in range(PROGRAMS):
        scope = rng.random()
        province = f"p{rng.randrange(PROVINCES):02d}"
        target = province if scope < 0.6 else f"{province}-g{rng.randrange(7)}" if scope < 0.9 else "xa-00001"
        first = START + timedelta(days=rng.randrange(-60, 20))
        programs.append(Program(
            id=f"prog-{index:03d}", title=f"Chương trình {index}",
            kind="filler" if index % 25 == 0 else "program",
            file=f"prog-{index:03d}.mp3", duration_s=rng.uniform(180, 300), sha256="0" * 64, bytes=3_000_000,
            targets=(target,), valid_from=first, valid_until=first + timedelta(days=rng.randrange(10, 400)),
            priority=rng.choices(["normal", "priority", "emergency"], [90, 9, 1])[0],
        ))  # fmt: skip
    return tuple(programs)


def baseline(stations: list[Station], programs: tuple[Program, ...], days: int) -> int:
    count = 0
    for station in stations:
        for offset in range(days):
            day = START + timedelta(days=offset)
            count += sum(
                1 for p in programs if station.targeted_by(p.targets) and p.valid_from <= day <= p.valid_until
            )
    return count


def main() -> None:
    rng = random.Random(7)
    stations, programs = registry(rng), catalogue(rng)
    for label, subset, days in (("3,321 communes x 30 days", stations, DAYS),
                                ("10,000 stations x 7 days", (stations * 4)[:10_000], 7)):  # fmt: skip
        t0 = time.perf_counter()
        baseline(subset, programs, days)
        base = time.perf_counter() - t0
        tracemalloc.start()
        t0 = time.perf_counter()
        plans = [plan_day(s, START + timedelta(days=d), programs, 2.0) for s in subset for d in range(days)]
        took = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        items = sum(len(s.items) for p in plans for s in p.sessions)
        print(
            f"{label}: compute {took:.2f} s ({len(plans) / took:,.0f} station-days/s, {items:,} items), "
            f"peak traced memory {peak / 2**20:.0f} MiB; "
            f"baseline filter loop {base:.2f} s, ratio {took / base:.2f}x"
        )
    with tempfile.TemporaryDirectory() as folder:
        sample = plans[:5000]
        t0 = time.perf_counter()
        publish(sample, Path(folder), datetime.now().astimezone())
        took = time.perf_counter() - t0
        print(f"publish: {2 * len(sample):,} files in {took:.2f} s ({2 * len(sample) / took:,.0f} files/s)")
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
