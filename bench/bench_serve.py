"""Distribution at province scale: `radio serve` (the real command, its own process) on loopback, with a
generated registry of 1,000 stations, a token issued to each and one published playlist per station.

Round 1: every station fetches its day's playlist with its own token (200 + body), CONCURRENCY clients at a
time. Round 2, the baseline: the same requests with If-None-Match, answered 304 (the cheapest request the
server can answer after the same token check). Printed: requests/s and latency p50/p95/p99 for both, and
their throughput ratio. A third round fetches one program file per station with Range (resume), which is
the agent's heaviest request. Bounded: 1,000 requests per round, loopback only, a 120 s cap per round.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from pipeline.tokens import issue_tokens

STATIONS = 1000
CONCURRENCY = 100
ROUND_TIMEOUT_S = 120
HERE = Path(__file__).resolve().parent.parent
RADIO_TOML = """\
[paths]
stations = "schedules/stations.yaml"
build = "build"

[presenters.female]
espeak = "vi+f3"

[serve]
access_log = ""
"""


def make_project(root: Path) -> dict[str, str]:
    """A project with STATIONS stations, one program, a playlist per station for today; returns tokens."""
    ids = [f"xa-{n:04d}" for n in range(STATIONS)]
    lines = [
        "defaults:",
        "  timezone: Asia/Ho_Chi_Minh",
        "  sessions:",
        '    - {name: sang, start: "05:30", end: "06:00"}',
        "provinces:",
        "  - id: tinh-bench",
        "    name: Tỉnh thử",
        "    stations:",
        *(f"      - {{id: {i}, name: Xã {i}}}" for i in ids),
    ]
    (root / "schedules").mkdir(parents=True)
    (root / "schedules" / "stations.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "radio.toml").write_text(RADIO_TOML, encoding="utf-8")
    programs = root / "build" / "programs"
    programs.mkdir(parents=True)
    audio = os.urandom(2_700_000)  # the size of a 4-minute loudspeaker program
    (programs / "ban-tin.mp3").write_bytes(audio)
    today = datetime.now().astimezone().date()
    item = {
        "program_id": "ban-tin", "title": "Bản tin", "duration_s": 225.0, "url": "../../programs/ban-tin.mp3",
        "sha256": hashlib.sha256(audio).hexdigest(), "bytes": len(audio), "priority": "normal",
    }  # fmt: skip
    for station in ids:
        folder = root / "build" / "playlists" / station
        folder.mkdir(parents=True)
        items = [{**item, "starts_at": f"{today}T05:30:{n * 2:02d}+07:00"} for n in range(12)]
        day = {"station": station, "date": today.isoformat(), "timezone": "Asia/Ho_Chi_Minh", "revision": 1,
               "generated_at": f"{today}T01:00:00+07:00",
               "sessions": [{"name": "sang", "start": "05:30", "end": "06:00", "items": items}],
               "exceptions": []}  # fmt: skip
        (folder / f"{today}.json").write_text(json.dumps(day, ensure_ascii=False, indent=2), encoding="utf-8")
    return issue_tokens(
        root / "state" / "station-tokens.json", ids, datetime.now().astimezone(), rotate=False
    )


def start_server(root: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"radio serve did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1].strip()


async def one_round(
    base: str, tokens: dict[str, str], path_of: Any, headers_of: Any, expect: int
) -> tuple[float, list[float], int]:
    """Every station once, CONCURRENCY at a time; (wall seconds, latencies, bytes received)."""
    limit = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    received = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def fetch(station: str, token: str) -> None:
            nonlocal received
            async with limit:
                started = time.perf_counter()
                headers = {"Authorization": f"Bearer {token}", **headers_of(station)}
                async with session.get(base + path_of(station), headers=headers) as response:
                    body = await response.read()
                    if response.status != expect:
                        raise SystemExit(f"{station}: HTTP {response.status}, expected {expect}")
                latencies.append(time.perf_counter() - started)
                received += len(body)

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(fetch(s, t) for s, t in tokens.items())), timeout=ROUND_TIMEOUT_S
        )
        wall = time.perf_counter() - started
    return wall, latencies, received


def describe(name: str, wall: float, latencies: list[float], received: int) -> float:
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    rate = len(latencies) / wall
    print(
        f"{name:<28} {len(latencies):>5} req  {rate:>8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  "
        f"p95 {q[94] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  {received / 1e6:8.1f} MB"
    )
    return rate


async def bench(base: str, tokens: dict[str, str], today: date) -> None:
    playlist = lambda station: f"/v1/playlists/{station}/{today}.json"  # noqa: E731
    await one_round(base, dict(list(tokens.items())[:50]), playlist, lambda s: {}, 200)  # warm-up
    wall, lat, got = await one_round(base, tokens, playlist, lambda s: {}, 200)
    full = describe("playlist 200 (body)", wall, lat, got)
    # each station's ETag, as its agent would remember it from round 1 (fetched outside the timed round)
    per_station: dict[str, str] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def etag(station: str, token: str) -> None:
            async with session.head(
                base + playlist(station), headers={"Authorization": f"Bearer {token}"}
            ) as r:
                per_station[station] = r.headers["ETag"]

        await asyncio.gather(*(etag(s, t) for s, t in tokens.items()))
    wall, lat, got = await one_round(base, tokens, playlist, lambda s: {"If-None-Match": per_station[s]}, 304)
    cheap = describe("playlist 304 (baseline)", wall, lat, got)
    print(f"ratio: a full playlist answer runs at {full / cheap:.2f}x the rate of a 304")
    program = lambda station: "/v1/programs/ban-tin.mp3"  # noqa: E731
    wall, lat, got = await one_round(base, tokens, program, lambda s: {"Range": "bytes=2600000-"}, 206)
    describe("audio 206 (100 kB resume)", wall, lat, got)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        tokens = make_project(root)
        took = time.perf_counter() - started
        print(f"{STATIONS} stations, tokens issued, playlists published in {took:.1f} s")
        process, base = start_server(root)
        try:
            today = datetime.now().astimezone().date()
            asyncio.run(bench(base, tokens, today))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
