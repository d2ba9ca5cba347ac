"""Parse bulletin scripts: front matter (validated, with line numbers) and a body of sections and paragraphs.

See docs/script-format.md. Parsing is pure: it checks the script on its own; checks against the project
(templates, presenters, station targets) live in `check_against_project`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Collection, Iterable
from datetime import date
from pathlib import Path

import yaml

from pipeline.errors import ScriptError, ScriptErrors
from pipeline.models import KINDS, PRIORITIES, Paragraph, Script, ScriptMeta, Section

SCRIPT_SUFFIXES = (".md", ".txt")
REQUIRED_FIELDS = (
    "id",
    "kind",
    "title",
    "series",
    "producer",
    "template",
    "voices",
    "valid_from",
    "valid_until",
    "targets",
    "priority",
)
ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[^\s:*][^:*]{0,23}$")
HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+(?=\S)")
# A recorded insert on a line of its own, Markdown image syntax: ![Phỏng vấn ông A](inserts/phong-van.flac)
INSERT_RE = re.compile(r"^\s*!\[(?P<title>[^\]]*)\]\((?P<file>[^)\s]+)\)\s*$")
COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
STRONG_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
EMPHASIS_RE = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def _err(path: Path, line: int, field: str | None, message: str) -> ScriptError:
    return ScriptError(message, path=path, line=line, field=field)


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """Return (front matter YAML, body, line number of the body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise _err(path, 1, None, "the script must start with a front matter block between '---' lines")
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise _err(path, 1, None, "the front matter block is not closed by a '---' line")


def _scalar(node: yaml.Node, path: Path, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _err(path, node.start_mark.line + 2, field, "must be a single value")
    return str(node.value).strip()


def _text(node: yaml.Node, path: Path, field: str) -> str:
    value = _scalar(node, path, field)
    if not value:
        raise _err(path, node.start_mark.line + 2, field, "must not be empty")
    return value


def _choice(options: Collection[str]) -> Callable[[yaml.Node, Path, str], str]:
    def parse(node: yaml.Node, path: Path, field: str) -> str:
        value = _scalar(node, path, field)
        if value not in options:
            raise _err(
                path, node.start_mark.line + 2, field, f"must be one of {', '.join(options)}, got {value!r}"
            )
        return value

    return parse


def _program_id(node: yaml.Node, path: Path, field: str) -> str:
    value = _scalar(node, path, field)
    if not ID_RE.match(value):
        raise _err(
            path,
            node.start_mark.line + 2,
            field,
            f"{value!r} is not a valid id (lowercase letters, digits and hyphens, at most 64)",
        )
    return value


def _date(node: yaml.Node, path: Path, field: str) -> date:
    value = _scalar(node, path, field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _err(
            path, node.start_mark.line + 2, field, f"{value!r} is not a real date in the form YYYY-MM-DD"
        ) from None


def _targets(node: yaml.Node, path: Path, field: str) -> tuple[str, ...]:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    values = tuple(_text(item, path, field) for item in items)
    if not values:
        raise _err(path, node.start_mark.line + 2, field, "name at least one province, grouping or station")
    return values


def _voices(node: yaml.Node, path: Path, field: str) -> tuple[tuple[str, str], ...]:
    line = node.start_mark.line + 2
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise _err(path, line, field, "must map speaker labels to presenters, e.g. {A: female, B: male}")
    voices: list[tuple[str, str]] = []
    for key_node, value_node in node.value:
        label = _scalar(key_node, path, field)
        if not LABEL_RE.match(label):
            raise _err(path, key_node.start_mark.line + 2, field, f"{label!r} is not a usable speaker label")
        if any(label == seen for seen, _ in voices):
            raise _err(path, key_node.start_mark.line + 2, field, f"speaker {label!r} is declared twice")
        voices.append((label, _text(value_node, path, f"{field}.{label}")))
    return tuple(voices)


FIELD_PARSERS: dict[str, Callable[[yaml.Node, Path, str], object]] = {
    "id": _program_id,
    "kind": _choice(KINDS),
    "title": _text,
    "series": _text,
    "producer": _text,
    "template": _text,
    "voices": _voices,
    "valid_from": _date,
    "valid_until": _date,
    "targets": _targets,
    "priority": _choice(PRIORITIES),
}


def parse_front_matter(source: str, path: Path) -> tuple[ScriptMeta, dict[str, int]]:
    """Validate the front matter; return the metadata and the line of each field (for later messages)."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise _err(path, line, None, f"front matter is not valid YAML: {problem}") from None
    if not isinstance(root, yaml.MappingNode):
        raise _err(path, 2, None, "front matter must be a set of 'field: value' lines")
    errors: list[ScriptError] = []
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 2
        if key in lines:
            errors.append(_err(path, line, key, f"given twice (first on line {lines[key]})"))
            continue
        lines[key] = line
        parser = FIELD_PARSERS.get(key)
        if parser is None:
            close = difflib.get_close_matches(key, REQUIRED_FIELDS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            errors.append(_err(path, line, key, f"unknown field{hint}"))
            continue
        try:
            values[key] = parser(value_node, path, key)
        except ScriptError as exc:
            errors.append(exc)
    end_line = root.end_mark.line + 2
    for key in REQUIRED_FIELDS:
        if key not in lines:
            errors.append(_err(path, end_line, key, "missing (required)"))
    if not errors:
        meta = ScriptMeta(**values)  # type: ignore[arg-type]
        if meta.valid_until < meta.valid_from:
            errors.append(
                _err(
                    path,
                    lines["valid_until"],
                    "valid_until",
                    f"{meta.valid_until} is before valid_from {meta.valid_from}",
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else ScriptErrors(errors)
    return meta, lines


def _clean_inline(text: str) -> str:
    text = STRONG_RE.sub(r"\2", text)
    text = EMPHASIS_RE.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def _speaker_prefix(labels: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^\s*(?:\*\*)?({names})(?:\*\*)?\s*:\s*(?:\*\*)?\s*")


def parse_body(body: str, first_line: int, meta: ScriptMeta, path: Path) -> tuple[Section, ...]:
    # Comments become blank lines of the same count, so line numbers stay right.
    body = COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    speaker_re = _speaker_prefix(label for label, _ in meta.voices)
    speaker = meta.voices[0][0]
    sections: list[Section] = []
    title, title_line = meta.title, first_line
    paragraphs: list[Paragraph] = []
    pending: list[str] = []
    pending_line = 0

    def flush_paragraph() -> None:
        nonlocal speaker, pending
        if not pending:
            return
        text = " ".join(pending)
        match = speaker_re.match(text)
        if match:
            speaker = match.group(1)
            text = text[match.end() :]
        text = _clean_inline(text)
        if text:
            paragraphs.append(Paragraph(text=text, speaker=speaker, line=pending_line))
        pending = []

    def flush_section() -> None:
        nonlocal paragraphs
        flush_paragraph()
        if paragraphs:
            sections.append(Section(title=title, line=title_line, paragraphs=tuple(paragraphs)))
        paragraphs = []

    for offset, raw in enumerate(body.split("\n")):
        line_no = first_line + offset
        heading = HEADING_RE.match(raw)
        if heading:
            flush_section()
            title, title_line = _clean_inline(heading.group(2)) or meta.title, line_no
            continue
        if not raw.strip():
            flush_paragraph()
            continue
        insert = INSERT_RE.match(raw)
        if insert:
            flush_paragraph()
            name = insert.group("title").strip() or Path(insert.group("file")).stem
            paragraphs.append(Paragraph(name, speaker, line_no, insert=insert.group("file")))
            continue
        item = LIST_ITEM_RE.match(raw)
        if item:
            flush_paragraph()
            raw = raw[item.end() :]
        if not pending:
            pending_line = line_no
        pending.append(raw.strip())
    flush_section()
    if not sections:
        raise _err(path, first_line, None, "the script has no text to read")
    return tuple(sections)


def parse_script_text(text: str, path: Path) -> Script:
    raw = text.encode("utf-8")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front, body, body_line = split_front_matter(text, path)
    meta, lines = parse_front_matter(front, path)
    sections = parse_body(body, body_line, meta, path)
    return Script(
        path=path,
        meta=meta,
        sections=sections,
        sha256=hashlib.sha256(raw).hexdigest(),
        field_lines=tuple(lines.items()),
    )


def read_script_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _err(path, 1, None, f"cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _err(
            path, line, None, "not UTF-8 text (a legacy TCVN3/VNI file? convert it to Unicode UTF-8)"
        ) from None


def parse_script(path: Path) -> Script:
    return parse_script_text(read_script_file(path), path)


def find_scripts(folder: Path) -> list[Path]:
    """Every bulletin script in `folder`, in a stable order (hidden and temp files skipped)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in SCRIPT_SUFFIXES and not p.name.startswith(".")
    )


def check_against_project(
    script: Script,
    *,
    templates: Collection[str],
    presenters: Collection[str],
    targets: Collection[str] | None,
) -> list[ScriptError]:
    """Problems that need the project: unknown template, presenter or station target."""
    path, meta = script.path, script.meta
    errors: list[ScriptError] = []
    if meta.template not in templates:
        known = ", ".join(sorted(templates)) or "none"
        errors.append(
            _err(
                path,
                script.line_of("template"),
                "template",
                f"unknown template {meta.template!r} (known: {known})",
            )
        )
    for label, presenter in meta.voices:
        if presenter not in presenters:
            errors.append(
                _err(
                    path,
                    script.line_of("voices"),
                    f"voices.{label}",
                    f"unknown presenter {presenter!r} (radio.toml declares: {', '.join(sorted(presenters))})",
                )
            )
    if targets is not None:
        for target in meta.targets:
            if target not in targets:
                close = difflib.get_close_matches(target, list(targets), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(
                    _err(
                        path,
                        script.line_of("targets"),
                        "targets",
                        f"unknown station, grouping or province {target!r}{hint}",
                    )
                )
    return errors
