"""Catalogue: every finished program (its manifest, rendered or imported) with the broadcast rules the
scheduler needs and its editorial state (pipeline/editorial.py).

Broadcast rules come from the manifest (targets, validity, priority). The optional `repeat` rule is read
from the manifest when it carries one, else from the front matter of the source script the manifest names,
provided that script is still the version that was rendered (same sha256); otherwise the default applies
and a warning says to rebuild.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pipeline.editorial import (
    APPROVED,
    NOT_APPROVED,
    WITHDRAWN,
    Decision,
    approve,
    latest_decisions,
    state_of,
    withdraw,
)
from pipeline.errors import ScriptError
from pipeline.models import PRIORITIES, Repeat

if TYPE_CHECKING:
    from pipeline.config import Settings

PRIORITY_RANK = {"emergency": 0, "priority": 1, "normal": 2}


@dataclass(frozen=True)
class Program:
    id: str
    title: str
    kind: str
    file: str
    duration_s: float
    sha256: str
    bytes: int
    targets: tuple[str, ...]
    valid_from: date
    valid_until: date
    priority: str
    repeat: Repeat = field(default_factory=Repeat)
    state: str = NOT_APPROVED  # editorial state: approved | not approved | withdrawn
    script_sha256: str = ""  # the version an approval is pinned to

    @property
    def priority_rank(self) -> int:
        return PRIORITY_RANK[self.priority]


@dataclass(frozen=True)
class Catalogue:
    """Programs sorted by id, indexed by target id so a station finds its programs without a full scan."""

    programs: tuple[Program, ...]
    by_target: Mapping[str, tuple[Program, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, programs: Iterable[Program]) -> Catalogue:
        ordered = tuple(sorted(programs, key=lambda p: p.id))
        index: dict[str, list[Program]] = {}
        for program in ordered:
            for target in dict.fromkeys(program.targets):
                index.setdefault(target, []).append(program)
        return cls(ordered, {target: tuple(found) for target, found in index.items()})

    def for_targets(self, ids: Iterable[str]) -> tuple[Program, ...]:
        """Programs aimed at any of `ids` (a station and its parents), each once, sorted by id."""
        found: dict[str, Program] = {}
        for target in ids:
            for program in self.by_target.get(target, ()):
                found[program.id] = program
        return tuple(found[key] for key in sorted(found))


def repeat_from_json(data: Any) -> Repeat:
    """The manifest form: {"weekdays": [0..6], "every_days": N, "dates": [...], "per_day": K}."""
    if not isinstance(data, dict):
        raise TypeError("repeat must be an object")
    return Repeat(
        weekdays=frozenset(int(d) for d in data.get("weekdays", range(7))),
        every_days=int(data.get("every_days", 1)),
        dates=tuple(date.fromisoformat(str(d)) for d in data.get("dates", ())),
        per_day=int(data.get("per_day", 0)),
    )


def repeat_to_json(repeat: Repeat) -> dict[str, Any]:
    return {
        "weekdays": sorted(repeat.weekdays),
        "every_days": repeat.every_days,
        "dates": [d.isoformat() for d in repeat.dates],
        "per_day": repeat.per_day,
    }


def _front_matter(text: str, source: Path) -> str:
    if source.suffix == ".yaml":  # an imported program's metadata file is front matter alone
        return text
    from pipeline.scripts import split_front_matter

    return split_front_matter(text.lstrip("\ufeff").replace("\r\n", "\n"), source)[0]


def repeat_from_script(source: Path, expected_sha256: str) -> Repeat | None:
    """The `repeat` rule of the source script, or None when the script is gone or changed since the render.
    Raises ScriptError when the rule itself is malformed."""
    from pipeline.scripts import FIELD_PARSERS

    try:
        raw = source.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(raw).hexdigest() != expected_sha256:
        return None
    try:
        root = yaml.compose(_front_matter(raw.decode("utf-8"), source), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        return None  # the build reports broken scripts; a rendered one cannot be broken
    if isinstance(root, yaml.MappingNode):
        for key, node in root.value:
            if key.value == "repeat":
                rule = FIELD_PARSERS["repeat"](node, source, "repeat")
                assert isinstance(rule, Repeat)
                return rule
    return Repeat()


def program_from_manifest(
    data: dict[str, Any], root: Path | None = None, decision: Decision | None = None
) -> tuple[Program, str | None]:
    """The program and a warning, if any. Raises KeyError/ValueError/TypeError on a malformed manifest."""
    priority = str(data["priority"])
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    targets = data["targets"]
    if not isinstance(targets, list):
        raise TypeError("targets must be a list")
    script_sha = str(data.get("script_sha256", ""))
    warning = None
    if "repeat" in data:
        repeat = repeat_from_json(data["repeat"])
    elif root is not None and data.get("script"):
        found = repeat_from_script(root / str(data["script"]), script_sha)
        if found is None:
            warning = f"source {data['script']} changed since the render (run radio build); repeat: daily"
        repeat = found or Repeat()
    else:
        repeat = Repeat()
    program = Program(
        id=str(data["id"]),
        title=str(data["title"]),
        kind=str(data["kind"]),
        file=str(data["file"]),
        duration_s=float(data["duration_s"]),
        sha256=str(data["sha256"]),
        bytes=int(data["bytes"]),
        targets=tuple(str(t) for t in targets),
        valid_from=date.fromisoformat(str(data["valid_from"])),
        valid_until=date.fromisoformat(str(data["valid_until"])),
        priority=priority,
        repeat=repeat,
        state=state_of(decision, script_sha),
        script_sha256=script_sha,
    )
    return program, warning


def load_catalogue(
    programs_dir: Path, root: Path | None = None, decisions: Mapping[str, Decision] | None = None
) -> tuple[Catalogue, tuple[str, ...]]:
    """Every program with a complete manifest and its editorial state, and a warning per unusable one."""
    programs: list[Program] = []
    warnings: list[str] = []
    decisions = decisions or {}
    for manifest in sorted(programs_dir.glob("*.json")) if programs_dir.is_dir() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            program, warning = program_from_manifest(data, root, decisions.get(str(data.get("id"))))
        except ScriptError as exc:
            warnings.append(f"{exc}: warning: repeat rule unusable; program skipped")
            continue
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            warnings.append(f"{manifest}: warning: unreadable manifest skipped ({exc})")
            continue
        if warning:
            warnings.append(f"{manifest}: warning: {warning}")
        if not (programs_dir / program.file).is_file():
            warnings.append(f"{manifest}: warning: audio file {program.file} is missing; program skipped")
            continue
        programs.append(program)
    return Catalogue.of(programs), tuple(warnings)


@dataclass(frozen=True)
class EditorialOutcome:
    recorded: tuple[Decision, ...]
    unchanged: tuple[str, ...]  # already in the asked state
    withdrawn: tuple[str, ...]  # left alone by `--all`
    unknown: tuple[str, ...]  # not in the catalogue


def _current(settings: Settings) -> tuple[dict[str, Program], dict[str, Decision]]:
    decisions = latest_decisions(settings.state_dir)
    catalogue, _ = load_catalogue(settings.programs_dir, settings.root, decisions)
    return {p.id: p for p in catalogue.programs}, decisions


def approve_programs(
    settings: Settings, program_ids: list[str], by: str, now: datetime, *, every: bool = False
) -> EditorialOutcome:
    """Approve the named programs (or, with `every`, each one not approved and not withdrawn) at the
    script version each was rendered from."""
    programs, _ = _current(settings)
    if every:
        wanted = [p for p in programs.values() if p.state == NOT_APPROVED]
        skipped = tuple(sorted(p.id for p in programs.values() if p.state == WITHDRAWN))
    else:
        wanted = [programs[i] for i in dict.fromkeys(program_ids) if i in programs]
        skipped = ()
    recorded = approve(settings.state_dir, {p.id: p.script_sha256 for p in wanted}, by, now)
    done = {d.program_id for d in recorded}
    return EditorialOutcome(
        recorded=tuple(recorded),
        unchanged=tuple(p.id for p in wanted if p.id not in done and p.state == APPROVED),
        withdrawn=skipped,
        unknown=tuple(i for i in dict.fromkeys(program_ids) if i not in programs),
    )


def withdraw_programs(settings: Settings, program_ids: list[str], by: str, now: datetime) -> EditorialOutcome:
    """Withdraw programs; an id is known when it is in the catalogue or has an editorial record."""
    programs, decisions = _current(settings)
    known = [i for i in dict.fromkeys(program_ids) if i in programs or i in decisions]
    recorded = withdraw(settings.state_dir, known, by, now)
    done = {d.program_id for d in recorded}
    return EditorialOutcome(
        recorded=tuple(recorded),
        unchanged=tuple(i for i in known if i not in done),
        withdrawn=(),
        unknown=tuple(i for i in dict.fromkeys(program_ids) if i not in known),
    )
