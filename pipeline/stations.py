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


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    timezone: str
    sessions: tuple[Session, ...]
    parents: tuple[str, ...]  # province first, then groupings, outermost first

    def targeted_by(self, targets: tuple[str, ...]) -> bool:
        return self.id in targets or any(parent in targets for parent in self.parents)


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
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end and before.weekdays & after.weekdays:
            raise _fail(path, owner, "sessions", f"sessions '{before.name}' and '{after.name}' overlap")
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


def load_registry(path: Path) -> Registry:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except FileNotFoundError:
        raise ScheduleError("station registry not found", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScheduleError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path, line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("provinces"), list) or not data["provinces"]:
        raise ScheduleError("must list at least one province under 'provinces'", path=path, field="provinces")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(path, data, "defaults", "must be a table")
    base = _inherit(path, defaults, _Inherited(None, None))
    seen: dict[str, int | None] = {}
    stations: list[Station] = []
    areas: list[str] = []

    def claim(node: dict[str, Any], what: str) -> str:
        value = node.get("id")
        if not isinstance(value, str) or not ID_RE.match(value):
            raise _fail(
                path, node, "id", f"{what} id {value!r} must be lowercase letters, digits and hyphens"
            )
        if value in seen:
            raise _fail(path, node, "id", f"duplicate id {value!r} (first on line {seen[value]})")
        seen[value] = node.get(LINE_KEY)
        return value

    def walk(node: dict[str, Any], parents: tuple[str, ...], inherited: _Inherited) -> None:
        for group in node.get("groups", []) or []:
            if not isinstance(group, dict):
                raise _fail(path, node, "groups", "each grouping must be a table with an id")
            areas.append(claim(group, "grouping"))
            walk(group, (*parents, group["id"]), _inherit(path, group, inherited))
        for raw in node.get("stations", []) or []:
            if not isinstance(raw, dict):
                raise _fail(path, node, "stations", "each station must be a table with an id")
            station_id = claim(raw, "station")
            own = _inherit(path, raw, inherited)
            if own.timezone is None:
                raise _fail(path, raw, "timezone", "no timezone given here or inherited")
            if own.sessions is None:
                raise _fail(path, raw, "sessions", "no sessions given here or inherited")
            stations.append(
                Station(station_id, str(raw.get("name", station_id)), own.timezone, own.sessions, parents)
            )

    for province in data["provinces"]:
        if not isinstance(province, dict):
            raise _fail(path, data, "provinces", "each province must be a table with an id")
        areas.append(claim(province, "province"))
        walk(province, (province["id"],), _inherit(path, province, base))
    if not stations:
        raise ScheduleError("the registry has no stations", path=path, field="stations")
    return Registry(path=path, stations=tuple(stations), areas=tuple(areas))
