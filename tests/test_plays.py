"""Proof of play in SQLite: idempotent on retry, durable across a restart of the real `radio serve`,
validated field by field; station health for `radio stations status`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.plays import (
    PlayError,
    PlayRecord,
    StationStatus,
    add_plays,
    load_statuses,
    parse_play,
    plays_between,
    save_status,
    station_health,
)
from tests.test_serve import DAY, ZONE, World, request

pytest_plugins = ("tests.test_serve",)  # its fixtures: world, tones

SHA = "ab" * 32


def record(station: str, program: str, start: datetime, seconds: float = 60) -> PlayRecord:
    return PlayRecord(station, program, SHA, start, start + timedelta(seconds=seconds))


@contextmanager
def radio_serve(root: Path) -> Iterator[str]:
    """The real `radio serve` process on a free loopback port; stopped with SIGTERM like systemd does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        assert "listening on http://127.0.0.1:" in line, line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_play_records_survive_a_restart_and_are_not_doubled(world: World) -> None:
    token = world.token("xa-c")
    start = datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)
    plays = [record("xa-c", "tin-a", start), record("xa-c", "tin-b", start + timedelta(minutes=1))]
    body = json.dumps({"plays": [p.to_json() for p in plays]}).encode()
    with radio_serve(world.root) as base:
        first = request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=body)
        assert first.status == 200 and json.loads(first.body) == {
            "accepted": 2,
            "duplicates": 0,
            "rejected": [],
        }
    with radio_serve(world.root) as base:  # a retry after the server came back
        again = request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=body)
        assert json.loads(again.body) == {"accepted": 0, "duplicates": 2, "rejected": []}
    stored = plays_between(world.paths.plays_db, DAY, DAY)
    assert [(r.program_id, r.started_at) for r in stored] == [(p.program_id, p.started_at) for p in plays]


def test_the_same_instant_in_another_offset_is_the_same_play(tmp_path: Path) -> None:
    db = tmp_path / "plays.sqlite"
    start = datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)
    assert add_plays(db, [record("xa-c", "tin-a", start)], start) == (1, 0)
    in_utc = record("xa-c", "tin-a", start.astimezone(UTC))
    assert in_utc.started_at.utcoffset() == timedelta(0)
    assert add_plays(db, [in_utc], start) == (0, 1)
    assert add_plays(db, [record("xa-c", "tin-a", start + timedelta(seconds=1))], start) == (1, 0)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writers_store_each_play_once(tmp_path: Path) -> None:
    db = tmp_path / "plays.sqlite"
    start = datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)
    batch = [record("xa-c", f"tin-{i}", start + timedelta(minutes=i)) for i in range(50)]
    results: list[tuple[int, int]] = []
    threads = [threading.Thread(target=lambda: results.append(add_plays(db, batch, start))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(added for added, _ in results) == 50
    assert len(plays_between(db, DAY, DAY)) == 50


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "XYZ"}, "plays[0].sha256"),
        ({"program_id": "../x"}, "plays[0].program_id"),
        ({"started_at": "2026-03-02T05:30:00"}, "plays[0].started_at"),
        ({"ended_at": "2026-03-02T05:00:00+07:00"}, "plays[0].ended_at"),
        ({"station": "xa-e"}, "plays[0].station"),
        ({"completed": "no"}, "plays[0].completed"),
    ],
)
def test_malformed_records_are_refused_by_field(change: dict[str, str], field: str) -> None:
    good = record("xa-c", "tin-a", datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)).to_json()
    assert parse_play(good, "xa-c", "plays[0]").program_id == "tin-a"
    with pytest.raises(PlayError) as caught:
        parse_play({**good, **change}, "xa-c", "plays[0]")
    assert caught.value.field == field


def test_server_answers_which_records_it_refused(world: World) -> None:
    from tests.test_serve import running

    token = world.token("xa-c")
    good = record("xa-c", "tin-a", datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)).to_json()
    body = json.dumps({"plays": [good, {**good, "sha256": "nope"}]}).encode()
    with running(world.paths) as base:
        reply = json.loads(
            request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=body).body
        )
    assert reply["accepted"] == 1
    assert reply["rejected"] == [
        {"index": 1, "field": "plays[1].sha256", "error": "must be 64 lowercase hex digits"}
    ]


def test_station_health_flags_who_is_behind() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=ZONE)
    statuses = {
        "fresh": StationStatus(
            "fresh", now - timedelta(hours=1), "commune-radio/0.1.0", (DAY, DAY + timedelta(1))
        ),
        "stale": StationStatus("stale", now - timedelta(hours=30), "commune-radio/0.1.0", (DAY,)),
        "unarmed": StationStatus("unarmed", now - timedelta(minutes=5), "vendor/2", (DAY - timedelta(1),)),
    }
    stations = [(s, "Asia/Ho_Chi_Minh") for s in ("fresh", "stale", "unarmed", "silent")]
    health = {h.station: h for h in station_health(stations, statuses, now, behind_hours=6)}
    assert not health["fresh"].behind and health["fresh"].today_armed
    assert health["stale"].reasons == ("no sync for 30.0 h",)
    assert health["unarmed"].reasons == ("2026-03-02 not armed",)
    assert health["silent"].reasons == ("never synced",)


def test_stations_status_command(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    today = datetime.now(ZONE).date()
    save_status(
        world.paths.plays_db,
        StationStatus(
            "xa-c", datetime.now().astimezone(), "commune-radio/0.1.0", (today, today + timedelta(1))
        ),
    )
    save_status(
        world.paths.plays_db,
        StationStatus(
            "xa-e", datetime.now().astimezone() - timedelta(hours=9), "commune-radio/0.1.0", (today,)
        ),
    )
    assert set(load_statuses(world.paths.plays_db)) == {"xa-c", "xa-e"}
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["stations", "status"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:-1]}
    assert lines["xa-c"].endswith(" ok") and " armed " in lines["xa-c"]
    assert "BEHIND: no sync for 9.0 h" in lines["xa-e"]
    assert "BEHIND: never synced" in lines["xa-d"]
    assert result.stdout.splitlines()[-1] == "3 stations, 2 behind"
    relaxed = CliRunner().invoke(main, ["stations", "status", "--behind-hours", "12"]).stdout
    assert next(line for line in relaxed.splitlines() if line.startswith("xa-e ")).endswith(" ok")


def test_plays_between_filters_month_and_station(tmp_path: Path) -> None:
    db = tmp_path / "plays.sqlite"
    base = datetime(2026, 3, 31, 23, 50, tzinfo=ZONE)
    add_plays(
        db,
        [
            record("xa-c", "a", base),
            record("xa-e", "a", base),
            record("xa-c", "b", base + timedelta(hours=1)),
        ],
        base,
    )
    march = plays_between(db, date(2026, 3, 1), date(2026, 3, 31))
    assert sorted((r.station, r.program_id) for r in march) == [("xa-c", "a"), ("xa-e", "a")]
    assert [r.station for r in plays_between(db, date(2026, 3, 1), date(2026, 3, 31), ["xa-e"])] == ["xa-e"]
    assert [r.program_id for r in plays_between(db, date(2026, 4, 1), date(2026, 4, 30))] == ["b"]


def test_plays_sent_in_utc_are_filed_under_the_station_local_day(world: World) -> None:
    from tests.test_serve import running

    token = world.token("xa-c")
    local = datetime(2026, 3, 1, 5, 30, tzinfo=ZONE)  # 2026-02-28 22:30 UTC
    sent = record("xa-c", "tin-a", local.astimezone(UTC)).to_json()
    with running(world.paths) as base:
        body = json.dumps({"plays": [sent]}).encode()
        assert (
            json.loads(request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=body).body)[
                "accepted"
            ]
            == 1
        )
    assert plays_between(world.paths.plays_db, date(2026, 2, 1), date(2026, 2, 28)) == []
    (stored,) = plays_between(world.paths.plays_db, date(2026, 3, 1), date(2026, 3, 1))
    assert stored.started_at == local and stored.started_at.utcoffset() == timedelta(hours=7)


OLD_SCHEMA = """
CREATE TABLE plays (
    station TEXT NOT NULL, program_id TEXT NOT NULL, sha256 TEXT NOT NULL, started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL, started_utc TEXT NOT NULL, local_day TEXT NOT NULL, seconds REAL NOT NULL,
    received_at TEXT NOT NULL, UNIQUE (station, program_id, started_utc)
);
CREATE TABLE station_status (
    station TEXT PRIMARY KEY, last_sync_at TEXT NOT NULL, agent_version TEXT NOT NULL,
    armed_days TEXT NOT NULL, last_error TEXT NOT NULL, address TEXT NOT NULL
);
INSERT INTO plays VALUES ('xa-c', 'tin-a', '%s', '2026-03-02T05:30:00.000+07:00',
    '2026-03-02T05:31:00.000+07:00', '2026-03-01T22:30:00.000+00:00', '2026-03-02', 60.0,
    '2026-03-02T20:00:00+07:00');
""" % ("ab" * 32)


def test_a_database_from_before_completed_is_migrated_in_place(tmp_path: Path) -> None:
    db_path = tmp_path / "plays.sqlite"
    with sqlite3.connect(db_path) as old:
        old.executescript(OLD_SCHEMA)
    start = datetime(2026, 3, 2, 5, 40, tzinfo=ZONE)
    cut = PlayRecord("xa-c", "tin-b", SHA, start, start + timedelta(seconds=20), completed=False)
    assert add_plays(db_path, [cut], start) == (1, 0)
    stored = plays_between(db_path, DAY, DAY)
    assert [(r.program_id, r.completed) for r in stored] == [("tin-a", True), ("tin-b", False)]
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM plays").fetchone()[0] == 2
    assert add_plays(db_path, [cut], start) == (0, 1)  # a second open migrates nothing and keeps the key


def test_completed_travels_from_the_station_to_the_database(world: World) -> None:
    from tests.test_serve import running

    token = world.token("xa-c")
    start = datetime(2026, 3, 2, 5, 30, tzinfo=ZONE)
    cut = PlayRecord("xa-c", "tin-a", SHA, start, start + timedelta(seconds=12), completed=False).to_json()
    assert cut["completed"] is False
    older = record("xa-c", "tin-b", start + timedelta(minutes=1)).to_json()
    del older["completed"]  # an agent from before the field: its plays were whole
    body = json.dumps({"plays": [cut, older]}).encode()
    with running(world.paths) as base:
        reply = json.loads(
            request(base, "/v1/stations/xa-c/plays", token=token, method="POST", body=body).body
        )
    assert reply == {"accepted": 2, "duplicates": 0, "rejected": []}
    stored = plays_between(world.paths.plays_db, DAY, DAY)
    assert [(r.program_id, r.completed, r.seconds) for r in stored] == [
        ("tin-a", False, 12.0),
        ("tin-b", True, 60.0),
    ]
