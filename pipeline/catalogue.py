"""Catalogue: every finished program (its manifest) with the broadcast rules the scheduler needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.models import PRIORITIES


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

    @property
    def priority_rank(self) -> int:
        return {"emergency": 0, "priority": 1, "normal": 2}[self.priority]


def program_from_manifest(data: dict[str, object]) -> Program:
    """Raise KeyError/ValueError/TypeError on a malformed manifest."""
    priority = str(data["priority"])
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    targets = data["targets"]
    if not isinstance(targets, list):
        raise TypeError("targets must be a list")
    return Program(
        id=str(data["id"]),
        title=str(data["title"]),
        kind=str(data["kind"]),
        file=str(data["file"]),
        duration_s=float(data["duration_s"]),  # type: ignore[arg-type]
        sha256=str(data["sha256"]),
        bytes=int(data["bytes"]),  # type: ignore[call-overload]
        targets=tuple(str(t) for t in targets),
        valid_from=date.fromisoformat(str(data["valid_from"])),
        valid_until=date.fromisoformat(str(data["valid_until"])),
        priority=priority,
    )


def load_catalogue(programs_dir: Path) -> tuple[tuple[Program, ...], tuple[str, ...]]:
    """All programs with a complete manifest, sorted by id, and a warning for each unreadable manifest."""
    programs: list[Program] = []
    warnings: list[str] = []
    for manifest in sorted(programs_dir.glob("*.json")) if programs_dir.is_dir() else []:
        try:
            program = program_from_manifest(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.append(f"{manifest}: warning: unreadable manifest skipped ({exc})")
            continue
        if not (programs_dir / program.file).is_file():
            warnings.append(f"{manifest}: warning: audio file {program.file} is missing; program skipped")
            continue
        programs.append(program)
    return tuple(programs), tuple(warnings)
