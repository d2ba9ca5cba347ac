"""radio station play: armed days at (shifted) session times into ffmpeg's null sink, emergencies, fallback,
verification right before air, and play records that reach the server and the monthly report."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline import ffmpeg
from pipeline.cli import main
from pipeline.playout import PlayoutOptions, PlayoutSummary, ShiftedClock, run_playout
from pipeline.plays import plays_between
from pipeline.reports import build_report, interrupted_csv, month_bounds, scheduled_items
from pipeline.station_agent import StationFolder, SyncOptions, file_sha256, flush_plays, run_sync
from tests.test_serve import DAWN, DAY, ZONE, World, running

pytest_plugins = ("tests.test_serve",)  # its fixtures: world, tones

NULL_SINK = tuple(ffmpeg.playout_args("{file}", "null"))  # real-time decode, nothing heard


def at(day: Any, hms: str) -> datetime:
    hour, minute, second = (float(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=ZONE) + timedelta(
        seconds=second
    )


def sync_options(world: World, base: str, folder: Path) -> SyncOptions:
    return SyncOptions(
        base, "xa-c", world.token("xa-c"), folder, days=1, attempts=2, backoff_s=0.01, timeout_s=5
    )


def play(folder: Path, start: datetime, until: datetime, sync: SyncOptions | None = None) -> PlayoutSummary:
    options = PlayoutOptions(folder, "xa-c", NULL_SINK, poll_s=0.2, sync=sync, until=until)
    return run_playout(options, ShiftedClock.starting_at(start))


def journal(folder: Path) -> list[dict[str, Any]]:
    path = StationFolder(folder, "xa-c").journal
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def test_a_synced_day_plays_at_its_times_and_comes_back_in_the_report(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's "done when": sync with a token, play into a null sink at shortened session times, and
    find the plays in the monthly report."""
    plan = world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-a", "tin-b"])], gap_s=0.5)
    folder = tmp_path / "station"
    token_file = world.token_file("xa-c")
    with running(world.paths) as base:
        assert run_sync(sync_options(world, base, folder), now=DAWN).ok
        args = ["station", "play", "--dir", str(folder), "--sink", "null", "--server", base,
                "--token-file", str(token_file), "--poll", "0.2",
                "--start-at", at(DAY, "05:29:59.6").isoformat(),
                "--until", at(DAY, "05:30:01.8").isoformat()]  # fmt: skip
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "played 2, refused 0" in result.stdout
    records = plays_between(world.paths.plays_db, DAY, DAY)
    items = plan["sessions"][0]["items"]
    assert [(r.program_id, r.sha256) for r in records] == [(i["program_id"], i["sha256"]) for i in items]
    for record, item in zip(records, items, strict=True):
        planned = datetime.fromisoformat(item["starts_at"])
        assert abs((record.started_at - planned).total_seconds()) < 0.6  # started on time
        assert 0.4 < record.seconds < 1.5  # the half-second item decoded in real time
    assert not list(StationFolder(folder, "xa-c").queue_dir.glob("*.json"))  # all delivered
    monkeypatch.chdir(world.root)
    report = CliRunner().invoke(main, ["report", "--month", "2026-03"])
    assert report.exit_code == 0, report.output
    rows = list(
        csv.DictReader((world.build / "reports" / "2026-03" / "broadcasts.csv").open(encoding="utf-8"))
    )
    assert {(r["station"], r["program_id"], r["broadcasts"]) for r in rows} == {
        ("xa-c", "tin-a", "1"),
        ("xa-c", "tin-b", "1"),
    }
    missing = list(
        csv.DictReader((world.build / "reports" / "2026-03" / "missing.csv").open(encoding="utf-8"))
    )
    assert [(m["station"], m["program_id"]) for m in missing] == [("xa-e", "tin-b")]  # xa-e never played


def test_a_file_that_fails_verification_never_airs(world: World, tmp_path: Path) -> None:
    world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-a", "tin-b"])], gap_s=0.3)
    folder = tmp_path / "station"
    station = StationFolder(folder, "xa-c")
    a = world.programs["tin-a"]
    with running(world.paths) as base:
        opts = sync_options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
        stored = station.file_path(a.sha256)
        data = bytearray(stored.read_bytes())
        data[-100] ^= 0x55  # damaged on the station's disk after it was armed
        stored.write_bytes(bytes(data))
        summary = play(folder, at(DAY, "05:29:59.8"), at(DAY, "05:30:01.5"))
        assert [k.split("|")[0] for k in summary.refused] == ["tin-a"]
        assert [k.split("|")[0] for k in summary.played] == ["tin-b"]
        assert [r["program_id"] for r in journal(folder)] == ["tin-b"]
        assert not stored.exists() and (folder / "rejected" / stored.name).exists()
        again = run_sync(opts, now=DAWN)  # the next sync notices the missing file and fetches it again
        assert again.days[0].state == "armed" and file_sha256(stored) == a.sha256


def test_the_null_sink_runs_a_real_decoder(world: World, tmp_path: Path) -> None:
    """Garbage that the centre itself published (so its sha256 checks out) still fails in the decoder."""
    world.add_program("hong", os.urandom(6000))
    world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["hong", "tin-a"])], gap_s=0.3)
    folder = tmp_path / "station"
    with running(world.paths) as base:
        assert run_sync(sync_options(world, base, folder), now=DAWN).ok
    summary = play(folder, at(DAY, "05:29:59.8"), at(DAY, "05:30:01.5"))
    assert [k.split("|")[0] for k in summary.failed] == ["hong"]
    assert [k.split("|")[0] for k in summary.played] == ["tin-a"]


def test_no_armed_today_falls_back_to_the_last_good_day(
    world: World, tmp_path: Path, tones: dict[str, bytes]
) -> None:
    world.add_program("khan-cap", tones["c"])
    world.publish(
        "xa-c", DAY, [("sang", "05:30", "06:00", ["khan-cap", "tin-a"])], gap_s=0.3, emergency=["khan-cap"]
    )
    folder = tmp_path / "station"
    with running(world.paths) as base:
        assert run_sync(sync_options(world, base, folder), now=DAWN).ok
    next_day = DAY + timedelta(days=1)  # never armed: the sync for it failed
    summary = play(folder, at(next_day, "05:30:00.5"), at(next_day, "05:30:01.5"))
    assert [k.split("|")[0] for k in summary.played] == ["tin-a"]  # the old emergency is not replayed
    entries = journal(folder)
    assert [(e["program_id"], e["day"]) for e in entries] == [("tin-a", next_day.isoformat())]
    assert entries[0]["started_at"].startswith(next_day.isoformat())  # at today's times, not the old day's


def alarm_at(world: World, opts: SyncOptions, session: tuple[str, str, str, list[str]]) -> Callable[[], None]:
    """The centre publishes an emergency (first in the afternoon session) and the station syncs it."""

    def alarm() -> None:
        sessions = [session, ("chieu", "17:00", "17:30", ["khan-cap", "tin-a"])]
        world.publish("xa-c", DAY, sessions, revision=2, emergency=["khan-cap"])
        assert run_sync(opts, now=DAWN).days[0].state == "armed"

    return alarm


def test_an_emergency_cuts_in_at_once_and_the_cut_item_airs_again(
    world: World, tmp_path: Path, tones: dict[str, bytes]
) -> None:
    world.add_program("dai", tones["long"], seconds=4.0)
    world.add_program("khan-cap", tones["c"])
    morning = ("sang", "05:30", "06:00", ["dai"])
    world.publish("xa-c", DAY, [morning, ("chieu", "17:00", "17:30", ["tin-a"])])
    folder = tmp_path / "station"
    with running(world.paths) as base:
        opts = sync_options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
        timer = threading.Timer(1.2, alarm_at(world, opts, morning))
        timer.start()
        summary = play(folder, at(DAY, "05:29:59.8"), at(DAY, "05:30:02.6"), sync=opts)
        timer.join()
        assert asyncio.run(flush_plays(opts)) == 0  # everything already delivered
    entries = journal(folder)
    assert [(e["program_id"], e["completed"]) for e in entries] == [
        ("dai", False),
        ("khan-cap", True),
        ("dai", True),
    ]
    cut = datetime.fromisoformat(entries[0]["ended_at"]) - datetime.fromisoformat(entries[0]["started_at"])
    assert cut < timedelta(seconds=3)  # the 4 s item was cut short; ended_at says when
    assert entries[1]["started_at"] < at(DAY, "05:30:03").isoformat()  # at once, not at 17:00
    assert entries[2]["started_at"] >= entries[1]["ended_at"]  # replayed whole after the emergency
    whole = datetime.fromisoformat(entries[2]["ended_at"]) - datetime.fromisoformat(entries[2]["started_at"])
    assert whole > timedelta(seconds=3.5)
    assert [k.split("|")[0] for k in summary.interrupted] == ["dai"]
    assert summary.played[0].startswith("emergency|") and summary.played[1].startswith("dai|")
    # the server keeps all three; the report counts two broadcasts and lists the cut one apart
    stored = plays_between(world.paths.plays_db, DAY, DAY, ["xa-c"])
    assert [(r.program_id, r.completed) for r in stored] == [
        ("dai", False),
        ("khan-cap", True),
        ("dai", True),
    ]
    first, last = month_bounds("2026-03")
    scheduled, _ = scheduled_items(world.paths.playlists_dir, first, last, ["xa-c"])
    report = build_report("2026-03", stored, scheduled, {})
    assert {(r.program_id, r.broadcasts) for r in report.rows} == {("dai", 1), ("khan-cap", 1)}
    assert report.rows[0].minutes == pytest.approx(whole.total_seconds() / 60, abs=0.01)
    assert [(p.program_id, p.completed) for p in report.interrupted] == [("dai", False)]
    assert "dai" in interrupted_csv(report) and "khan-cap" not in interrupted_csv(report)


def test_a_cut_item_without_room_left_in_its_session_is_dropped(
    world: World, tmp_path: Path, tones: dict[str, bytes]
) -> None:
    """Booted late: the 4 s item starts at 05:59:55.8, is cut at about :57, the emergency ends before :58;
    a whole replay would run past 06:00, so it is dropped, and a restarted playout does not replay it."""
    world.add_program("dai", tones["long"], seconds=4.0)
    world.add_program("khan-cap", tones["c"])
    morning = ("sang", "05:30", "06:00", ["dai"])
    world.publish("xa-c", DAY, [morning, ("chieu", "17:00", "17:30", ["tin-a"])])
    folder = tmp_path / "station"
    with running(world.paths) as base:
        opts = sync_options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
        timer = threading.Timer(1.2, alarm_at(world, opts, morning))
        timer.start()
        summary = play(folder, at(DAY, "05:59:55.8"), at(DAY, "05:59:58.8"))
        timer.join()
    assert [(e["program_id"], e["completed"]) for e in journal(folder)] == [
        ("dai", False),
        ("khan-cap", True),
    ]
    assert [k.split("|")[0] for k in summary.interrupted] == ["dai"]
    assert [k.split("|")[0] for k in summary.skipped] == ["dai"]
    again = play(folder, at(DAY, "05:59:58.9"), at(DAY, "05:59:59.4"))  # restarted: the journal says cut
    assert again.played == [] and [k.split("|")[0] for k in again.skipped] == ["dai"]


def test_play_records_wait_on_disk_until_the_server_answers(world: World, tmp_path: Path) -> None:
    world.publish("xa-c", DAY, [("sang", "05:30", "06:00", ["tin-a", "tin-b"])], gap_s=0.3)
    folder = tmp_path / "station"
    with running(world.paths) as base:
        opts = sync_options(world, base, folder)
        assert run_sync(opts, now=DAWN).ok
        port = base.rsplit(":", 1)[1]
    down = SyncOptions(f"http://127.0.0.1:{port}", "xa-c", opts.token, folder, attempts=1, timeout_s=2)
    summary = play(folder, at(DAY, "05:29:59.8"), at(DAY, "05:30:01.5"), sync=down)
    assert len(summary.played) == 2
    queue = StationFolder(folder, "xa-c").queue_dir
    assert len(list(queue.glob("*.json"))) == 2
    again = play(folder, at(DAY, "05:29:59.8"), at(DAY, "05:30:01"), sync=down)  # a restarted playout
    assert again.played == []  # what aired is not aired twice
    with running(world.paths) as base:
        back = SyncOptions(base, "xa-c", opts.token, folder)
        assert asyncio.run(flush_plays(back)) == 2
        assert asyncio.run(flush_plays(back)) == 0
    assert not list(queue.glob("*.json"))
    assert [r.program_id for r in plays_between(world.paths.plays_db, DAY, DAY)] == ["tin-a", "tin-b"]
