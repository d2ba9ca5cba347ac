"""Station registry: provinces -> optional groupings (former districts, clusters) -> commune stations.

See docs/stations.md. Timezone and sessions are inherited from `defaults`, the province and each grouping,
the nearest definition winning. Errors name the file, line and field.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pipeline.errors import ScheduleError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
LINE_KEY = "__line__"


@dataclass(frozen=True)
class Session:
    name: str
    start: time
    end: time
    weekdays: frozenset[int]  # 0 = Monday

    @property
    def seconds(self) -> int:
        return (self.end.hour * 60 + self.end.minute - self.start.hour * 60 - self.start.minute) * 60

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    timezone: str
    sessions: tuple[Session, ...]
    parents: tuple[str, ...]  # province first, then groupings, outermost first

    def targeted_by(self, targets: tuple[str, ...]) -> bool:
        return self.id in targets or any(parent in targets for parent in self.parents)

    @property
    def target_ids(self) -> tuple[str, ...]:
        """Every id a program may name to reach this station: itself and each area above it."""
        return (self.id, *self.parents)


@dataclass(frozen=True)
class Registry:
    path: Path
    stations: tuple[Station, ...]
    areas: tuple[str, ...]  # province and grouping ids

    def target_ids(self) -> frozenset[str]:
        return frozenset(self.areas) | frozenset(s.id for s in self.stations)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping  # type: ignore[return-value]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fail(path: Path, where: dict[str, Any] | None, field: str, message: str) -> ScheduleError:
    line = where.get(LINE_KEY) if isinstance(where, dict) else None
    return ScheduleError(message, path=path, line=line, field=field)


def _time(path: Path, session: dict[str, Any], field: str) -> time:
    value = str(session.get(field, ""))
    match = HHMM_RE.match(value)
    if not match:
        raise _fail(path, session, field, f"{value!r} is not a time of day as HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def _sessions(path: Path, raw: Any, owner: dict[str, Any]) -> tuple[Session, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(path, owner, "sessions", "must be a list of {name, start, end[, weekdays]}")
    sessions: list[Session] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _fail(path, owner, "sessions", "each session must be {name, start, end[, weekdays]}")
        start, end = _time(path, item, "start"), _time(path, item, "end")
        if end <= start:
            raise _fail(path, item, "end", f"session ends ({end:%H:%M}) before it starts ({start:%H:%M})")
        days = item.get("weekdays", list(WEEKDAYS))
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            raise _fail(path, item, "weekdays", f"must be a list of {', '.join(WEEKDAYS)}")
        name = str(item.get("name") or f"session-{index + 1}")
        sessions.append(Session(name, start, end, frozenset(WEEKDAYS.index(d) for d in days)))
    ordered = sorted(sessions, key=lambda s: s.start)
    # every pair, not only neighbours: sessions on different weekdays may sit between two that clash
    for before, after in itertools.combinations(ordered, 2):
        if after.start < before.end and before.weekdays & after.weekdays:
            raise _fail(path, owner, "sessions", f"sessions '{before.name}' and '{after.name}' overlap")
        if before.name == after.name:
            raise _fail(path, owner, "sessions", f"two sessions are named '{before.name}'")
    return tuple(ordered)


def _timezone(path: Path, owner: dict[str, Any], value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(path, owner, "timezone", f"unknown timezone {value!r}") from None
    return str(value)


@dataclass(frozen=True)
class _Inherited:
    timezone: str | None
    sessions: tuple[Session, ...] | None


def _inherit(path: Path, node: dict[str, Any], parent: _Inherited) -> _Inherited:
    timezone = _timezone(path, node, node["timezone"]) if "timezone" in node else parent.timezone
    sessions = _sessions(path, node["sessions"], node) if "sessions" in node else parent.sessions
    return _Inherited(timezone, sessions)


AREA_KEYS = frozenset({"id", "name", "timezone", "sessions", "groups", "stations", LINE_KEY})
STATION_KEYS = frozenset({"id", "name", "timezone", "sessions", LINE_KEY})


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except FileNotFoundError:
        raise ScheduleError("station registry not found", path=path) from None
    except OSError as exc:
        raise ScheduleError(f"cannot read the station registry: {exc.strerror}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScheduleError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path, line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("provinces"), list) or not data["provinces"]:
        raise ScheduleError("must list at least one province under 'provinces'", path=path, field="provinces")
    return data


class _Builder:
    """Walks the registry once; remembers every area's lineage and inherited settings for flat entries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, int | None] = {}
        self.stations: list[Station] = []
        self.areas: dict[str, tuple[tuple[str, ...], _Inherited]] = {}

    def table(
        self, node: Any, owner: dict[str, Any], field: str, what: str, keys: frozenset[str]
    ) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise _fail(self.path, owner, field, f"each {what} must be a table with an id")
        for key in node:
            if key not in keys:
                hint = "; 'parent' is only for the top-level lists" if key == "parent" else ""
                raise _fail(self.path, node, str(key), f"unknown field in a {what}{hint}")
        return node

    def claim(self, node: dict[str, Any], what: str) -> str:
        value = node.get("id")
        if not isinstance(value, str) or not ID_RE.match(value):
            raise _fail(
                self.path, node, "id", f"{what} id {value!r} must be lowercase letters, digits and hyphens"
            )
        if value in self.seen:
            raise _fail(self.path, node, "id", f"duplicate id {value!r} (first on line {self.seen[value]})")
        self.seen[value] = node.get(LINE_KEY)
        return value

    def area(self, node: dict[str, Any], what: str, lineage: tuple[str, ...], inherited: _Inherited) -> None:
        area_id = self.claim(node, what)
        own = _inherit(self.path, node, inherited)
        self.areas[area_id] = ((*lineage, area_id), own)
        for group in node.get("groups", []) or []:
            self.area(
                self.table(group, node, "groups", "grouping", AREA_KEYS), "grouping", (*lineage, area_id), own
            )
        for raw in node.get("stations", []) or []:
            self.station(self.table(raw, node, "stations", "station", STATION_KEYS), (*lineage, area_id), own)

    def station(self, raw: dict[str, Any], parents: tuple[str, ...], inherited: _Inherited) -> None:
        station_id = self.claim(raw, "station")
        own = _inherit(self.path, raw, inherited)
        if own.timezone is None:
            raise _fail(self.path, raw, "timezone", "no timezone given here or inherited")
        if own.sessions is None:
            raise _fail(self.path, raw, "sessions", "no sessions given here or inherited")
        self.stations.append(
            Station(station_id, str(raw.get("name", station_id)), own.timezone, own.sessions, parents)
        )

    def parent_of(self, node: dict[str, Any]) -> tuple[tuple[str, ...], _Inherited] | None:
        parent = node.get("parent")
        if not isinstance(parent, str) or not parent:
            raise _fail(self.path, node, "parent", "a top-level grouping or station needs a parent id")
        return self.areas.get(parent)


def load_registry(path: Path) -> Registry:
    """Nested (provinces -> groups -> stations) and flat (top-level `groups:`/`stations:` naming a
    `parent`) entries may be mixed; flat groupings may name parents declared anywhere in the file."""
    data = _read(path)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(path, data, "defaults", "must be a table")
    builder = _Builder(path)
    base = _inherit(path, defaults, _Inherited(None, None))
    for province in data["provinces"]:
        builder.area(builder.table(province, data, "provinces", "province", AREA_KEYS), "province", (), base)
    flat_keys = AREA_KEYS | {"parent"}
    pending = [builder.table(g, data, "groups", "grouping", flat_keys) for g in data.get("groups", []) or []]
    while pending:
        waiting = []
        for group in pending:
            found = builder.parent_of(group)
            if found is None:
                waiting.append(group)
            else:
                builder.area({k: v for k, v in group.items() if k != "parent"}, "grouping", *found)
        if len(waiting) == len(pending):  # no progress: a parent that is never declared (or a cycle)
            raise _fail(path, waiting[0], "parent", f"unknown parent {waiting[0]['parent']!r}")
        pending = waiting
    for raw in data.get("stations", []) or []:
        station = builder.table(raw, data, "stations", "station", STATION_KEYS | {"parent"})
        found = builder.parent_of(station)
        if found is None:
            raise _fail(path, station, "parent", f"unknown parent {station['parent']!r}")
        builder.station(station, *found)
    if not builder.stations:
        raise ScheduleError("the registry has no stations", path=path, field="stations")
    areas = tuple(builder.areas)
    return Registry(path=path, stations=tuple(builder.stations), areas=areas)
