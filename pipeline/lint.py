"""`radio lint`: every problem in the scripts, as `file:line: level: message`, without rendering."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError, ScriptError, ScriptErrors
from pipeline.reading import Lexicon, read_aloud
from pipeline.scripts import check_against_project, parse_script


@dataclass(frozen=True)
class LintMessage:
    path: Path
    line: int
    level: str  # error | warning
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


def _from_error(error: PipelineError) -> list[LintMessage]:
    if isinstance(error, ScriptErrors):
        return [m for e in error.errors for m in _from_error(e)]
    field = f"field '{error.field}': " if error.field else ""
    return [LintMessage(error.path or Path("?"), error.line or 1, "error", f"{field}{error.message}")]


def lint_script(
    path: Path,
    *,
    lexicon: Lexicon,
    templates: list[str],
    presenters: list[str],
    targets: frozenset[str] | None,
) -> list[LintMessage]:
    try:
        script = parse_script(path)
    except PipelineError as exc:
        return _from_error(exc)
    messages: list[LintMessage] = []
    problems: list[ScriptError] = check_against_project(
        script, templates=templates, presenters=presenters, targets=targets
    )
    for problem in problems:
        messages += _from_error(problem)
    for section in script.sections:
        for paragraph in section.paragraphs:
            for warning in read_aloud(paragraph.text, lexicon).warnings:
                messages.append(LintMessage(path, paragraph.line, "warning", warning))
    return messages
