"""Error kinds. The library raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from pathlib import Path


class PipelineError(Exception):
    """Base of every error the pipeline reports to a user."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:
        # Keep path/line/field when an error crosses a process boundary (parallel renders).
        return (_rebuild, (type(self), self.message, self.path, self.line, self.field))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}{what}{self.message}"


class ScriptError(PipelineError):
    """One bulletin script is malformed; the other scripts still build."""


class RenderError(PipelineError):
    """One program failed to render (audio could not be made or missed its targets)."""


class ScheduleError(PipelineError):
    """The station registry or the catalogue is malformed."""

    exit_code = 2


class ConfigError(PipelineError):
    """The project configuration is unusable: stop before any work."""

    exit_code = 2


class ToolMissingError(PipelineError):
    """A required outside program (ffmpeg, espeak-ng) is not installed: stop before any work."""

    exit_code = 2


class ScriptErrors(PipelineError):
    """Several problems found in one script, reported together."""

    def __init__(self, errors: list[ScriptError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = tuple(errors)

    def __reduce__(self) -> tuple[object, ...]:
        return (ScriptErrors, (list(self.errors),))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def _rebuild(
    cls: type[PipelineError], message: str, path: Path | None, line: int | None, field: str | None
) -> PipelineError:
    return cls(message, path=path, line=line, field=field)
