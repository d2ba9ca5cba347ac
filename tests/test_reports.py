"""radio report: totals equal the play records; scheduled items without a play are listed; CSV and PNG."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.plays import PlayRecord, add_plays
from pipeline.reports import build_report, month_bounds, scheduled_items
from tests.test_serve import DAY, ZONE, World

pytest_plugins = ("tests.test_serve",)  # its fixtures: world, tones


def play(station: str, program: str, start: datetime, seconds: float) -> PlayRecord:
    return PlayRecord(station, program, "cd" * 32, start, start + timedelta(seconds=seconds))


def at(day: date, hour: int, minute: int, second: float = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE) + timedelta(seconds=second)


def test_report_totals_match_the_records(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        play("xa-c", "tin-a", at(DAY + timedelta(days=d), 5, 30), 180 + d) for d in range(10)
    ] + [
        play("xa-c", "tin-b", at(DAY, 5, 33, 2), 200.5),
        play("xa-e", "tin-b", at(DAY, 5, 30), 200.5),
        play("xa-e", "tin-b", at(DAY, 17, 0), 199.5),
        play("xa-e", "tin-a", at(date(2026, 4, 1), 5, 30), 60),  # next month
        play("xa-c", "tin-a", at(date(2026, 2, 28), 17, 0), 60),  # last month
    ]  # fmt: skip
    add_plays(world.paths.plays_db, records, at(DAY, 20, 0))
    cut_short = PlayRecord("xa-c", "tin-b", "cd" * 32, at(DAY, 5, 31), at(DAY, 5, 31, 40), completed=False)
    add_plays(world.paths.plays_db, [cut_short], at(DAY, 20, 0))  # not a broadcast: listed apart
    march = [r for r in records if r.started_at.month == 3]
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["report", "--month", "2026-03"])
    assert result.exit_code == 0, result.output
    folder = world.build / "reports" / "2026-03"
    rows = list(csv.DictReader((folder / "broadcasts.csv").open(encoding="utf-8")))
    assert sum(int(r["broadcasts"]) for r in rows) == len(march) == 13
    assert sum(float(r["minutes"]) for r in rows) == pytest.approx(
        sum(r.seconds for r in march) / 60, abs=0.02
    )
    by_key = {(r["station"], r["program_id"]): r for r in rows}
    assert int(by_key[("xa-c", "tin-a")]["broadcasts"]) == 10
    assert float(by_key[("xa-e", "tin-b")]["minutes"]) == pytest.approx(400 / 60, abs=0.01)
    assert by_key[("xa-c", "tin-a")]["title"] == "Bản tin tin-a"  # from the manifest
    assert f"2026-03: {len(march)} broadcasts" in result.stdout
    assert (folder / "broadcasts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "broadcasts.png").stat().st_size > 5000
    # the world's playlists: xa-c tin-a and tin-b at 05:30 on DAY (both aired), xa-e tin-b (aired)
    assert list(csv.DictReader((folder / "missing.csv").open(encoding="utf-8"))) == []
    cut = list(csv.DictReader((folder / "interrupted.csv").open(encoding="utf-8")))
    assert [(c["station"], c["program_id"], c["seconds"]) for c in cut] == [("xa-c", "tin-b", "40.0")]
    only = CliRunner().invoke(main, ["report", "--month", "2026-03", "--station", "xa-e", "--no-chart"])
    assert only.exit_code == 0, only.output
    mine = list(csv.DictReader((folder / "xa-e" / "broadcasts.csv").open(encoding="utf-8")))
    assert [(r["program_id"], r["broadcasts"]) for r in mine] == [("tin-b", "2")]
    assert not (folder / "xa-e" / "broadcasts.png").exists()


def test_scheduled_items_without_a_play_are_listed(world: World) -> None:
    world.publish(
        "xa-c",
        DAY,
        [("sang", "05:30", "06:00", ["tin-a", "tin-b"]), ("chieu", "17:00", "17:30", ["tin-a"])],
    )
    world.publish("xa-e", DAY, [("sang", "05:30", "06:00", ["tin-b"])], emergency=["tin-b"])
    plays = [
        play("xa-c", "tin-a", at(DAY, 5, 30), 30),  # answers the morning tin-a only
        play("xa-c", "tin-b", at(DAY, 9, 0), 30),  # outside its session: does not count for it
        play("xa-e", "tin-b", at(DAY, 11, 15), 30),  # an emergency counts whenever it aired that day
    ]
    first, last = month_bounds("2026-03")
    scheduled, warnings = scheduled_items(world.paths.playlists_dir, first, last)
    assert warnings == [] and len(scheduled) == 4
    report = build_report("2026-03", plays, scheduled, {})
    assert [(m.station, m.session, m.program_id) for m in report.missing] == [
        ("xa-c", "sang", "tin-b"),
        ("xa-c", "chieu", "tin-a"),
    ]
    assert report.broadcasts == 3 and report.scheduled == 4


def test_a_damaged_playlist_is_a_warning_not_a_failure(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    (world.paths.playlists_dir / "xa-e" / "2026-03-02.json").write_text("{broken", encoding="utf-8")
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["report", "--month", "2026-03", "--no-chart"])
    assert result.exit_code == 0
    assert "xa-e/2026-03-02.json: warning: unreadable playlist skipped" in result.stderr


@pytest.mark.parametrize("month", ["2026-13", "2026-3", "March"])
def test_a_bad_month_is_a_usage_error(world: World, monkeypatch: pytest.MonkeyPatch, month: str) -> None:
    monkeypatch.chdir(world.root)
    result = CliRunner().invoke(main, ["report", "--month", month])
    assert result.exit_code == 2 and "--month" in result.stderr


def test_month_bounds() -> None:
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
