"""radio station sync against a real radio serve on loopback: verify, arm, resume, reject, keep last good."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.plays import load_statuses
from pipeline.station_agent import (
    AgentError,
    StationFolder,
    SyncOptions,
    _State,
    clean_up,
    file_sha256,
    folder_lock,
    run_loop,
    run_sync,
)
from tests.test_serve import DAWN, DAY, ZONE, World, running

pytest_plugins = ("tests.test_serve",)  # its fixtures: world, tones

NEXT = DAY + timedelta(days=1)


def options(world: World, base: str, folder: Path, **extra: Any) -> SyncOptions:
    settings: dict[str, Any] = {"days": 1, "attempts": 3, "backoff_s": 0.01, "timeout_s": 5.0, **extra}
    return SyncOptions(server=base, station="xa-c", token=world.token("xa-c"), folder=folder, **settings)


def armed(folder: Path, day: Any = DAY) -> dict[str, Any] | None:
    path = StationFolder(folder, "xa-c").armed_path(day)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def test_sync_arms_verified_days_and_then_has_nothing_to_do(world: World, tmp_path: Path) -> None:
    world.publish("xa-c", NEXT, [("sang", "05:30", "06:00", ["tin-b"])])
    folder = tmp_path / "station"
    with running(world.paths, access_log=str(tmp_path / "access.log")) as base:
        opts = options(world, base, folder)
        first = run_sync(opts, now=DAWN)
        assert first.ok, first.errors
        assert [(d.day, d.state) for d in first.days] == [(DAY, "armed"), (NEXT, "armed")]
        assert armed(folder) == json.loads(
            (world.paths.playlists_dir / "xa-c" / "2026-03-02.json").read_bytes()
        )
        for program in world.programs.values():
            stored = StationFolder(folder, "xa-c").file_path(program.sha256)
            assert stored.stat().st_size == program.bytes and file_sha256(stored) == program.sha256
        assert not list((folder / "partial").glob("*"))
        log_before = (tmp_path / "access.log").read_text(encoding="utf-8")
        second = run_sync(opts, now=DAWN)
        assert second.ok and [d.state for d in second.days] == ["current", "current"]
    new_lines = (tmp_path / "access.log").read_text(encoding="utf-8")[len(log_before) :]
    assert '"GET /v1/playlists/xa-c/ HTTP/1.1" 304' in new_lines  # one cheap request when nothing changed
    assert "/v1/programs/" not in new_lines


def test_server_records_last_sync_armed_days_and_version(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base:
        assert run_sync(options(world, base, folder), now=DAWN).ok
    status = load_statuses(world.paths.plays_db)["xa-c"]
    assert status.armed_days == (DAY,)
    assert status.agent_version.startswith("commune-radio/")
    assert status.last_sync_at == DAWN and status.last_error == ""


class CuttingProxy:
    """A loopback TCP proxy in front of radio serve that cuts the first `cuts` audio responses after
    `cut_after` bytes (a 3G link dropping mid-file), and remembers every request head it forwarded."""

    def __init__(self, upstream: str, cut_after: int, cuts: int = 1) -> None:
        self.upstream_port = int(upstream.rsplit(":", 1)[1])
        self.cut_after = cut_after
        self.cuts = cuts
        self.heads: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        budget: list[int | None] = [None]

        async def upstream() -> None:
            while data := await reader.read(65536):
                text = data.decode("latin-1")
                if text.startswith(("GET ", "POST ", "HEAD ")):
                    self.heads.append(text)
                    if text.startswith("GET /v1/programs/") and self.cuts > 0:
                        self.cuts -= 1
                        budget[0] = self.cut_after
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if budget[0] is not None:
                    data = data[: budget[0]]
                    budget[0] -= len(data)
                    writer.write(data)
                    await writer.drain()
                    if budget[0] <= 0:
                        writer.transport.abort()
                        up_writer.close()
                        return
                else:
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(upstream(), downstream(), return_exceptions=True)


@contextmanager
def proxied(upstream: str, cut_after: int, cuts: int = 1) -> Iterator[tuple[str, CuttingProxy]]:
    proxy = CuttingProxy(upstream, cut_after, cuts)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        box["server"] = loop.run_until_complete(asyncio.start_server(proxy.handle, "127.0.0.1", 0))
        ready.set()
        loop.run_forever()
        box["server"].close()
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{box['server'].sockets[0].getsockname()[1]}", proxy
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_a_download_cut_mid_file_resumes_and_verifies(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base, proxied(base, cut_after=1500) as (via, proxy):
        result = run_sync(options(world, via, folder), now=DAWN)
    assert result.ok, result.errors
    assert armed(folder) is not None
    audio = [h for h in proxy.heads if h.startswith("GET /v1/programs/tin-a.mp3")]
    assert len(audio) == 2, audio
    resumed = audio[1].lower()
    assert "range: bytes=" in resumed and "range: bytes=0-" not in resumed
    assert f'if-range: "{world.programs["tin-a"].sha256}"' in resumed
    stored = StationFolder(folder, "xa-c").file_path(world.programs["tin-a"].sha256)
    assert file_sha256(stored) == world.programs["tin-a"].sha256


def test_a_killed_sync_resumes_its_partial_file(world: World, tmp_path: Path) -> None:
    """What a killed agent leaves behind (a partial file) is resumed; a partial with wrong bytes is caught
    by the sha256 and fetched again from the start."""
    folder = tmp_path / "station"
    station = StationFolder(folder, "xa-c")
    a, b = world.programs["tin-a"], world.programs["tin-b"]
    station.partial_path(a.sha256).parent.mkdir(parents=True)
    station.partial_path(a.sha256).write_bytes((world.paths.programs_dir / a.file).read_bytes()[:1000])
    station.partial_path(b.sha256).write_bytes(b"\xff" * 1000)  # damaged: resumed, fails, refetched
    with running(world.paths, access_log=str(tmp_path / "access.log")) as base:
        result = run_sync(options(world, base, folder), now=DAWN)
    assert result.ok, result.errors
    assert file_sha256(station.file_path(a.sha256)) == a.sha256
    assert file_sha256(station.file_path(b.sha256)) == b.sha256
    log = (tmp_path / "access.log").read_text(encoding="utf-8")
    assert '"GET /v1/programs/tin-a.mp3 HTTP/1.1" 206' in log
    assert '"GET /v1/programs/tin-b.mp3 HTTP/1.1" 200' in log  # the second, clean fetch


def test_a_corrupted_file_is_rejected_and_never_armed(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    audio = world.paths.programs_dir / "tin-b.mp3"
    data = bytearray(audio.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same length, one byte changed
    audio.write_bytes(bytes(data))
    with running(world.paths) as base:
        result = run_sync(options(world, base, folder), now=DAWN)
    assert not result.ok
    assert [(d.day, d.state) for d in result.days] == [(DAY, "failed"), (NEXT, "absent")]
    assert "sha256" in result.days[0].detail
    assert armed(folder) is None
    assert not StationFolder(folder, "xa-c").file_path(world.programs["tin-b"].sha256).exists()
    assert not list((folder / "partial").glob("*"))


def test_a_tampered_new_revision_keeps_the_armed_one(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base:
        opts = options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
        good = armed(folder)
        world.add_program("tin-c", b"ID3" + b"\x00" * 3000)
        data = world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-c"])], revision=2)
        (world.paths.programs_dir / "tin-c.mp3").write_bytes(
            b"ID3" + b"\x01" * 3000
        )  # not what was published
        result = run_sync(opts, now=DAWN)
        assert result.days[0].state == "failed" and data["revision"] == 2
        assert armed(folder) == good  # revision 1 stays on air
        oversized = world.paths.programs_dir / "tin-c.mp3"
        oversized.write_bytes(b"ID3" + b"\x00" * 5000)
        again = run_sync(opts, now=DAWN)
        assert again.days[0].state == "failed" and "longer" in again.days[0].detail
        assert armed(folder) == good


def test_a_playlist_naming_files_off_the_server_is_rejected(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    path = world.paths.playlists_dir / "xa-c" / "2026-03-02.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["sessions"][0]["items"][0]["url"] = "http://elsewhere.example/evil.mp3"
    path.write_text(json.dumps(data), encoding="utf-8")
    with running(world.paths) as base:
        result = run_sync(options(world, base, folder), now=DAWN)
    assert result.days[0].state == "failed" and "url" in result.days[0].detail
    assert armed(folder) is None


def test_server_down_keeps_the_last_good_day(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base:
        opts = options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
    before = armed(folder)
    files = sorted(p.name for p in (folder / "files").iterdir())
    result = run_sync(opts, now=DAWN + timedelta(days=3))  # the server is gone, days went by
    assert not result.reachable and not result.ok
    assert armed(folder) == before
    assert sorted(p.name for p in (folder / "files").iterdir()) == files  # nothing cleaned while cut off


def test_cron_exit_codes(world: World, tmp_path: Path) -> None:
    today = datetime.now(ZONE).date()
    world.publish("xa-c", today, [("sang", "05:30", "06:00", ["tin-a"])])
    token_file = world.token_file("xa-c")
    folder = tmp_path / "station"
    runner = CliRunner()

    def sync(base: str, token: Path = token_file) -> Any:
        args = ["station", "sync", "--server", base, "--station", "xa-c", "--token-file", str(token)]
        return runner.invoke(main, [*args, "--dir", str(folder), "--days", "0", "--attempts", "1"])

    with running(world.paths, clock=None) as base:
        done = sync(base)
        assert done.exit_code == 0, done.output
        assert f"armed  {today} r1" in done.stdout
        wrong = tmp_path / "wrong.token"
        wrong.write_text("nope\n", encoding="utf-8")
        refused = sync(base, wrong)
        assert refused.exit_code == 2 and "refused the token" in refused.stderr
        port = base.rsplit(":", 1)[1]
    down = sync(f"http://127.0.0.1:{port}")
    assert down.exit_code == 1 and "UNREACHABLE" in down.stdout
    assert armed(folder, today) is not None


def test_two_syncs_never_share_a_folder(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base, folder_lock(folder), pytest.raises(AgentError, match="another sync"):
        run_sync(options(world, base, folder), now=DAWN)


def test_loop_picks_up_an_emergency(world: World, tmp_path: Path, tones: dict[str, bytes]) -> None:
    folder = tmp_path / "station"
    today = datetime.now(ZONE).date()
    world.add_program("khan-cap", tones["c"])
    world.publish("xa-c", today, [("sang", "05:30", "06:00", ["tin-a"])])
    results: list[Any] = []

    def report(result: Any) -> None:
        results.append(result)
        if len(results) == 1:  # the centre publishes an emergency between two polls
            sessions = [("sang", "05:30", "06:00", ["khan-cap", "tin-a"])]
            world.publish("xa-c", today, sessions, revision=2, emergency=["khan-cap"])

    with running(world.paths, clock=None) as base:
        run_loop(options(world, base, folder, days=0), interval_s=0.05, report=report, turns=2)
    assert [r.days[0].state for r in results] == ["armed", "armed"]
    now_armed = armed(folder, today)
    assert now_armed is not None and now_armed["revision"] == 2
    assert now_armed["sessions"][0]["items"][0]["priority"] == "emergency"
    assert StationFolder(folder, "xa-c").file_path(world.programs["khan-cap"].sha256).exists()


def test_unreferenced_files_go_after_the_grace_period(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "station"
    with running(world.paths) as base:
        assert run_sync(options(world, base, folder), now=DAWN).ok
    station = StationFolder(folder, "xa-c")
    orphan = station.file_path("0" * 64)
    orphan.write_bytes(b"old program")
    state = _State()
    assert clean_up(station, state, DAY, DAWN, grace_days=2) == []
    assert orphan.exists() and "0" * 64 in state.unreferenced
    removed = clean_up(station, state, DAY, DAWN + timedelta(days=2, minutes=1), grace_days=2)
    assert removed == [f"files/{orphan.name}"] and not orphan.exists()
    assert station.file_path(world.programs["tin-a"].sha256).exists()  # still named by the armed day
