"""Data passed between stages. Every type is a frozen dataclass: stages never mutate their inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

KINDS = ("program", "notice", "filler")
PRIORITIES = ("normal", "priority", "emergency")


@dataclass(frozen=True)
class Paragraph:
    text: str  # for a recorded insert: its title (a chapter name)
    speaker: str
    line: int
    insert: str | None = None  # recorded audio placed here instead of speech, relative to the script


@dataclass(frozen=True)
class Section:
    title: str
    line: int
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Repeat:
    """When a program airs inside its validity (docs/scheduling.md). The default: every day, every session."""

    weekdays: frozenset[int] = frozenset(range(7))  # 0 = Monday
    every_days: int = 1  # every N days, counted from valid_from
    dates: tuple[date, ...] = ()  # when given, only on these dates
    per_day: int = 0  # at most this many times a day; 0 = no limit (once in every session)


@dataclass(frozen=True)
class ScriptMeta:
    id: str
    kind: str
    title: str
    series: str
    producer: str
    template: str
    voices: tuple[tuple[str, str], ...]  # (speaker label, presenter name), first is the default
    valid_from: date
    valid_until: date
    targets: tuple[str, ...]
    priority: str
    repeat: Repeat = Repeat()  # optional front-matter field


@dataclass(frozen=True)
class Script:
    path: Path
    meta: ScriptMeta
    sections: tuple[Section, ...]
    sha256: str
    field_lines: tuple[tuple[str, int], ...] = ()  # front-matter field -> line, for messages
    meta_path: Path | None = None  # where the front matter is, when not in `path` (a .docx's sidecar .yaml)

    def line_of(self, field: str) -> int:
        return dict(self.field_lines).get(field, 1)


@dataclass(frozen=True)
class SpokenParagraph:
    section: int
    speaker: str
    written: str
    spoken: str
    line: int
    insert: Path | None = None  # recorded audio instead of speech (absolute path)


@dataclass(frozen=True)
class SpokenScript:
    script: Script
    paragraphs: tuple[SpokenParagraph, ...]


@dataclass(frozen=True)
class SpeechSegment:
    section: int
    speaker: str
    engine: str
    voice: str
    audio: Path
    duration_s: float
    cached: bool
    text: str


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    lra: float


@dataclass(frozen=True)
class AudioFormat:
    codec: str
    sample_rate: int
    channels: int
    bitrate_kbps: int


@dataclass(frozen=True)
class RenderResult:
    program_id: str
    script: Path
    manifest: Path
    skipped: bool  # nothing changed since the last render
    warnings: tuple[str, ...] = ()
