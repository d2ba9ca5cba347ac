"""`radio report --month YYYY-MM`: what actually aired, from the play records, against what was scheduled.

Broadcasts and minutes per station and program come from the completed play records alone (proof of
play); plays cut short by an emergency are not broadcasts: they are listed in interrupted.csv. A
scheduled item counts as aired when its station played that program on that day within the item's session
(give or take `SESSION_SLACK`), or at any time that day for an emergency item; each play answers for one
scheduled item at most. The rest are listed as scheduled items with no play record.

Outputs (written atomically): broadcasts.csv, missing.csv, interrupted.csv and broadcasts.png (matplotlib,
imported here only when a chart is drawn).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import PipelineError
from pipeline.files import atomic_path, write_text_atomic
from pipeline.plays import PlayRecord

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SESSION_SLACK = timedelta(minutes=10)
CHART_TOP = 25  # bars per panel; the CSV has every row


class ReportError(PipelineError):
    exit_code = 2


def month_bounds(text: str) -> tuple[date, date]:
    match = MONTH_RE.match(text)
    if not match:
        raise ReportError(f"{text!r} is not a month as YYYY-MM", field="--month")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Scheduled:
    station: str
    day: date
    session: str
    window: tuple[datetime, datetime]  # when a play of it counts: the session, with some slack
    starts_at: datetime
    program_id: str
    title: str
    emergency: bool


@dataclass(frozen=True)
class Row:
    station: str
    program_id: str
    title: str
    broadcasts: int
    minutes: float


@dataclass(frozen=True)
class MonthReport:
    month: str
    rows: tuple[Row, ...]
    missing: tuple[Scheduled, ...]
    scheduled: int
    interrupted: tuple[PlayRecord, ...] = ()  # cut short: neither broadcasts nor answers to a scheduled item

    @property
    def broadcasts(self) -> int:
        return sum(r.broadcasts for r in self.rows)

    @property
    def minutes(self) -> float:
        return sum(r.minutes for r in self.rows)


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def scheduled_items(
    playlists_dir: Path, first: date, last: date, stations: Iterable[str] = ()
) -> tuple[list[Scheduled], list[str]]:
    """Every item of the published playlists in [first, last], and a warning per unreadable day."""
    wanted = set(stations)
    items: list[Scheduled] = []
    warnings: list[str] = []
    folders = sorted(p for p in playlists_dir.iterdir() if p.is_dir()) if playlists_dir.is_dir() else []
    for folder in folders:
        if wanted and folder.name not in wanted:
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                day = date.fromisoformat(path.stem)
            except ValueError:
                continue
            if not first <= day <= last:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                zone = ZoneInfo(str(data.get("timezone", "UTC")))
                for session in data.get("sessions", []):
                    window = (
                        _at(day, session["start"], zone) - SESSION_SLACK,
                        _at(day, session["end"], zone) + SESSION_SLACK,
                    )
                    for item in session.get("items", []):
                        items.append(
                            Scheduled(folder.name, day, str(session.get("name", "")), window,
                                      datetime.fromisoformat(item["starts_at"]), str(item["program_id"]),
                                      str(item.get("title", "")),
                                      item.get("priority") == "emergency" or bool(item.get("emergency")))
                        )  # fmt: skip
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                warnings.append(f"{path}: warning: unreadable playlist skipped ({exc})")
    return items, warnings


def program_titles(programs_dir: Path) -> dict[str, str]:
    titles: dict[str, str] = {}
    for manifest in sorted(programs_dir.glob("*.json")) if programs_dir.is_dir() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            titles[str(data["id"])] = str(data.get("title", ""))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return titles


def build_report(
    month: str, plays: Sequence[PlayRecord], scheduled: Sequence[Scheduled], titles: Mapping[str, str]
) -> MonthReport:
    """Totals from the completed plays; scheduled items matched to completed plays one to one; plays cut
    short listed apart."""
    interrupted = tuple(
        sorted((p for p in plays if not p.completed), key=lambda p: (p.station, p.started_at))
    )
    aired = [p for p in plays if p.completed]
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for play in aired:
        entry = totals[(play.station, play.program_id)]
        entry[0] += 1
        entry[1] += play.seconds / 60
    sched_titles = {s.program_id: s.title for s in scheduled if s.title}
    rows = tuple(
        Row(station, program, titles.get(program) or sched_titles.get(program, ""), int(n), round(minutes, 2))
        for (station, program), (n, minutes) in sorted(totals.items())
    )
    unused: dict[tuple[str, date, str], list[PlayRecord]] = defaultdict(list)
    for play in sorted(aired, key=lambda p: p.started_at):
        unused[(play.station, play.started_at.date(), play.program_id)].append(play)
    missing: list[Scheduled] = []
    # emergencies first: they may match a play at any time of the day, the others only within their session
    for item in sorted(scheduled, key=lambda s: (not s.emergency, s.starts_at)):
        candidates = unused.get((item.station, item.day, item.program_id), [])
        found = next(
            (p for p in candidates if item.emergency or item.window[0] <= p.started_at <= item.window[1]),
            None,
        )
        if found is None:
            missing.append(item)
        else:
            candidates.remove(found)
    missing.sort(key=lambda s: (s.station, s.starts_at))
    return MonthReport(month, rows, tuple(missing), len(scheduled), interrupted)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def broadcasts_csv(report: MonthReport) -> str:
    return _csv(
        ("station", "program_id", "title", "broadcasts", "minutes"),
        ((r.station, r.program_id, r.title, r.broadcasts, f"{r.minutes:.2f}") for r in report.rows),
    )


def missing_csv(report: MonthReport) -> str:
    return _csv(
        ("station", "date", "session", "starts_at", "program_id", "title"),
        ((m.station, m.day.isoformat(), m.session, m.starts_at.isoformat(), m.program_id, m.title)
         for m in report.missing),
    )  # fmt: skip


def interrupted_csv(report: MonthReport) -> str:
    return _csv(
        ("station", "date", "program_id", "started_at", "ended_at", "seconds"),
        ((p.station, p.started_at.date().isoformat(), p.program_id,
          p.started_at.isoformat(timespec="milliseconds"), p.ended_at.isoformat(timespec="milliseconds"),
          f"{p.seconds:.1f}") for p in report.interrupted),
    )  # fmt: skip


def draw_chart(report: MonthReport, out: Path) -> None:
    """Two panels: minutes aired per station, broadcasts per program (the top CHART_TOP of each)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib.figure import Figure

    per_station: dict[str, float] = defaultdict(float)
    per_program: dict[str, int] = defaultdict(int)
    for row in report.rows:
        per_station[row.station] += row.minutes
        per_program[row.program_id] += row.broadcasts
    stations = sorted(per_station.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_TOP]
    programs = sorted(per_program.items(), key=lambda kv: (-kv[1], kv[0]))[:CHART_TOP]
    height = max(3.0, 0.3 * max(len(stations), len(programs), 1) + 1.5)
    figure = Figure(figsize=(12, height), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.barh([s for s, _ in stations][::-1], [m for _, m in stations][::-1], color="#2b6cb0")
    left.set_xlabel("minutes aired")
    left.set_title("Minutes per station")
    right.barh([p for p, _ in programs][::-1], [n for _, n in programs][::-1], color="#c05621")
    right.set_xlabel("broadcasts")
    right.set_title("Broadcasts per program")
    figure.suptitle(
        f"{report.month}: {report.broadcasts} broadcasts, {report.minutes:.0f} minutes, "
        f"{len(report.missing)} of {report.scheduled} scheduled items without a play record"
    )
    with atomic_path(out, ".png") as tmp:
        figure.savefig(tmp, format="png", dpi=100)


def output_dir(reports_dir: Path, month: str, stations: Sequence[str]) -> Path:
    if not stations:
        return reports_dir / month
    ordered = sorted(set(stations))
    if len(ordered) <= 3:
        return reports_dir / month / "+".join(ordered)
    return (
        reports_dir
        / month
        / f"{len(ordered)}-stations-{hashlib.sha256(' '.join(ordered).encode()).hexdigest()[:8]}"
    )


def write_report(report: MonthReport, out_dir: Path, *, chart: bool = True) -> list[Path]:
    written = [out_dir / "broadcasts.csv", out_dir / "missing.csv", out_dir / "interrupted.csv"]
    write_text_atomic(written[0], broadcasts_csv(report))
    write_text_atomic(written[1], missing_csv(report))
    write_text_atomic(written[2], interrupted_csv(report))
    if chart:
        written.append(out_dir / "broadcasts.png")
        draw_chart(report, written[-1])
    return written
