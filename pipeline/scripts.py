"""Parse bulletin scripts: front matter (validated, with line numbers) and a body of sections and paragraphs.

See docs/script-format.md. Parsing is pure: it checks the script on its own; checks against the project
(templates, presenters, station targets) live in `check_against_project`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipeline.errors import ScriptError, ScriptErrors
from pipeline.models import KINDS, PRIORITIES, Paragraph, Repeat, Script, ScriptMeta, Section

if TYPE_CHECKING:
    from docx.styles.style import ParagraphStyle

SCRIPT_SUFFIXES = (".md", ".txt", ".docx")
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
# Plain text and unstyled Word paragraphs: "II. Mức vay" heads a section; "- ", "+ ", "• " start an item.
PLAIN_ROMAN_HEADING_RE = re.compile(r"^[IVXL]{1,5}\s*[.)]\s+\S")
PLAIN_ITEM_RE = re.compile(r"^\s*[-+•–]\s+\S")
PLAIN_HEADING_MAX_WORDS = 12
# Word turns a typed "---" into a dash or a border; accept the dashes it leaves.
FRONT_MARKER_RE = re.compile(r"^\s*(?:-{3,}|[—–][—–-]*)\s*$")
FIRST_ON_LINE_RE = re.compile(r"first on line (\d+)")


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


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REPEAT_HELP = (
    "must be 'daily' or a table such as {days: [mon, thu]}, {every: 3}, {dates: [...]}, {per_day: 1}"
)


def _positive(node: yaml.Node, path: Path, field: str) -> int:
    value = _scalar(node, path, field)
    if not value.isdigit() or int(value) < 1:
        raise _err(
            path, node.start_mark.line + 2, field, f"must be a whole number of at least 1, got {value!r}"
        )
    return int(value)


def _repeat(node: yaml.Node, path: Path, field: str) -> Repeat:
    """Broadcast pattern (docs/scheduling.md): `daily`, or one of days/every/dates, and optionally per_day."""
    line = node.start_mark.line + 2
    if isinstance(node, yaml.ScalarNode):
        if node.value.strip() == "daily":
            return Repeat()
        raise _err(path, line, field, REPEAT_HELP)
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise _err(path, line, field, REPEAT_HELP)
    parts: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key not in ("days", "every", "dates", "per_day"):
            raise _err(path, key_node.start_mark.line + 2, f"{field}.{key}", f"unknown key; {REPEAT_HELP}")
        parts[key] = value_node
    if len({"days", "every", "dates"} & parts.keys()) > 1:
        raise _err(path, line, field, "give only one of days, every and dates")
    repeat = Repeat()
    if "days" in parts:
        days = parts["days"]
        names = (
            [_scalar(d, path, f"{field}.days") for d in days.value]
            if isinstance(days, yaml.SequenceNode)
            else []
        )
        if not names or any(n not in WEEKDAY_NAMES for n in names):
            raise _err(
                path, days.start_mark.line + 2, f"{field}.days", f"must list {', '.join(WEEKDAY_NAMES)}"
            )
        repeat = Repeat(weekdays=frozenset(WEEKDAY_NAMES.index(n) for n in names))
    elif "every" in parts:
        repeat = Repeat(every_days=_positive(parts["every"], path, f"{field}.every"))
    elif "dates" in parts:
        dates = parts["dates"]
        if not isinstance(dates, yaml.SequenceNode) or not dates.value:
            raise _err(path, dates.start_mark.line + 2, f"{field}.dates", "must list dates as YYYY-MM-DD")
        repeat = Repeat(dates=tuple(sorted({_date(d, path, f"{field}.dates") for d in dates.value})))
    if "per_day" in parts:
        return Repeat(
            repeat.weekdays,
            repeat.every_days,
            repeat.dates,
            _positive(parts["per_day"], path, f"{field}.per_day"),
        )
    return repeat


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
    "repeat": _repeat,  # optional
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
        outside = [d for d in meta.repeat.dates if not meta.valid_from <= d <= meta.valid_until]
        if outside:
            errors.append(
                _err(
                    path, lines["repeat"], "repeat.dates", f"{outside[0]} is outside valid_from..valid_until"
                )
            )
    if errors:
        raise errors[0] if len(errors) == 1 else ScriptErrors(errors)
    return meta, lines


def parse_front_matter_at(
    source: str, path: Path, numbers: Sequence[int], *, unit: str = "line"
) -> tuple[ScriptMeta, dict[str, int]]:
    """`parse_front_matter` for front matter that does not start on line 2 of `path` (a sidecar file, the
    paragraphs of a Word document): `numbers[i]` is the line or paragraph of YAML line i."""

    def at(line: int) -> int:
        return numbers[min(max(line - 2, 0), len(numbers) - 1)]

    def renumber(error: ScriptError) -> ScriptError:
        message = FIRST_ON_LINE_RE.sub(lambda m: f"first on {unit} {at(int(m.group(1)))}", error.message)
        line = at(error.line) if error.line is not None else None
        return ScriptError(message, path=error.path, line=line, field=error.field)

    try:
        meta, lines = parse_front_matter(source, path)
    except ScriptErrors as exc:
        raise ScriptErrors([renumber(e) for e in exc.errors]) from None
    except ScriptError as exc:
        raise renumber(exc) from None
    return meta, {key: at(line) for key, line in lines.items()}


def _clean_inline(text: str) -> str:
    text = STRONG_RE.sub(r"\2", text)
    text = EMPHASIS_RE.sub(r"\2", text)
    return _clean_plain(text)


def _clean_plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _speaker_prefix(labels: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"^\s*(?:\*\*)?({names})(?:\*\*)?\s*:\s*(?:\*\*)?\s*")


@dataclass(frozen=True)
class Block:
    """One unit of a script body before speakers and sections are resolved."""

    line: int  # line of a text file, paragraph number of a Word document
    text: str
    heading: bool = False
    insert: str | None = None  # Markdown recorded insert: the audio file


def markdown_blocks(body: str, first_line: int) -> list[Block]:
    # Comments become blank lines of the same count, so line numbers stay right.
    body = COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    blocks: list[Block] = []
    pending: list[str] = []
    pending_line = 0

    def flush() -> None:
        if pending:
            blocks.append(Block(pending_line, " ".join(pending)))
            pending.clear()

    for offset, raw in enumerate(body.split("\n")):
        line_no = first_line + offset
        heading = HEADING_RE.match(raw)
        if heading:
            flush()
            blocks.append(Block(line_no, heading.group(2), heading=True))
            continue
        if not raw.strip():
            flush()
            continue
        insert = INSERT_RE.match(raw)
        if insert:
            flush()
            name = insert.group("title").strip() or Path(insert.group("file")).stem
            blocks.append(Block(line_no, name, insert=insert.group("file")))
            continue
        item = LIST_ITEM_RE.match(raw)
        if item:
            flush()
            raw = raw[item.end() :]
        if not pending:
            pending_line = line_no
        pending.append(raw.strip())
    flush()
    return blocks


def is_plain_heading(line: str) -> bool:
    """A heading line of a .txt script or an unstyled Word paragraph: "II. Mức vay", or short and in
    capitals ("LỜI NHẮN")."""
    text = line.strip()
    if len(text.split()) > PLAIN_HEADING_MAX_WORDS:
        return False
    if PLAIN_ROMAN_HEADING_RE.match(text):
        return True
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 2 and not any(ch.islower() for ch in letters) and ":" not in text


def text_blocks(body: str, first_line: int) -> list[Block]:
    """Plain text: blank lines end paragraphs, heading lines start sections, `- ` items stand alone."""
    blocks: list[Block] = []
    pending: list[str] = []
    pending_line = 0
    for offset, raw in enumerate(body.split("\n")):
        line_no = first_line + offset
        if not raw.strip():
            if pending:
                blocks.append(Block(pending_line, " ".join(pending)))
                pending = []
            continue
        # An all-caps line heads a section only where a paragraph could start; a numeral heading anywhere.
        if is_plain_heading(raw) and (not pending or PLAIN_ROMAN_HEADING_RE.match(raw.strip())):
            if pending:
                blocks.append(Block(pending_line, " ".join(pending)))
                pending = []
            previous = blocks[-1] if blocks else None
            if previous is not None and previous.heading and previous.line == line_no - 1:
                # a heading wrapped over two lines
                blocks[-1] = Block(previous.line, f"{previous.text} {raw.strip()}", heading=True)
            else:
                blocks.append(Block(line_no, raw.strip(), heading=True))
            continue
        if pending and PLAIN_ITEM_RE.match(raw):
            blocks.append(Block(pending_line, " ".join(pending)))
            pending = []
        if not pending:
            pending_line = line_no
        pending.append(raw.strip())
    if pending:
        blocks.append(Block(pending_line, " ".join(pending)))
    return blocks


def assemble(
    blocks: Iterable[Block], meta: ScriptMeta, path: Path, first_line: int, clean: Callable[[str], str]
) -> tuple[Section, ...]:
    """Sections and speaker-labelled paragraphs from blocks; text before the first heading is a section
    titled like the program."""
    speaker_re = _speaker_prefix(label for label, _ in meta.voices)
    speaker = meta.voices[0][0]
    sections: list[Section] = []
    title, title_line = meta.title, first_line
    paragraphs: list[Paragraph] = []
    for block in blocks:
        if block.heading:
            if paragraphs:
                sections.append(Section(title=title, line=title_line, paragraphs=tuple(paragraphs)))
            paragraphs = []
            title, title_line = clean(block.text) or meta.title, block.line
            continue
        if block.insert is not None:
            paragraphs.append(Paragraph(block.text, speaker, block.line, insert=block.insert))
            continue
        text = block.text
        match = speaker_re.match(text)
        if match:
            speaker = match.group(1)
            text = text[match.end() :]
        text = clean(text)
        if text:
            paragraphs.append(Paragraph(text=text, speaker=speaker, line=block.line))
    if paragraphs:
        sections.append(Section(title=title, line=title_line, paragraphs=tuple(paragraphs)))
    if not sections:
        raise _err(path, first_line, None, "the script has no text to read")
    return tuple(sections)


def parse_body(body: str, first_line: int, meta: ScriptMeta, path: Path) -> tuple[Section, ...]:
    """The body of a Markdown script (docs/script-format.md)."""
    return assemble(markdown_blocks(body, first_line), meta, path, first_line, _clean_inline)


@dataclass(frozen=True)
class Source:
    """A script as numbered units, for messages and line checks: the lines of a text file (front matter
    included) or the paragraphs of a Word document (`units[n - 1]` is unit n)."""

    units: tuple[str, ...]
    body_start: int  # the first unit after the front matter
    unit: str = "line"  # "line" | "paragraph"


def _normalize_newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_script_text(text: str, path: Path) -> Script:
    """A Markdown (or, for a `.txt` path, plain-text) script from its text."""
    return _parse_text(text, path)[0]


def _parse_text(text: str, path: Path) -> tuple[Script, Source]:
    raw = text.encode("utf-8")
    text = _normalize_newlines(text)
    front, body, body_line = split_front_matter(text, path)
    meta, lines = parse_front_matter(front, path)
    if path.suffix.lower() == ".txt":
        sections = assemble(text_blocks(body, body_line), meta, path, body_line, _clean_plain)
    else:
        sections = parse_body(body, body_line, meta, path)
    script = Script(
        path=path,
        meta=meta,
        sections=sections,
        sha256=hashlib.sha256(raw).hexdigest(),
        field_lines=tuple(lines.items()),
    )
    return script, Source(tuple(text.split("\n")), body_line)


def read_script_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _err(path, 1, None, f"cannot read: {exc.strerror}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Windows Notepad's "Unicode" is UTF-16 with a byte-order mark
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _err(path, 1, None, "not valid UTF-16 text (save it as Unicode UTF-8)") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _err(
            path, line, None, "not UTF-8 text (a legacy TCVN3/VNI file? convert it to Unicode UTF-8)"
        ) from None


def read_script(path: Path) -> tuple[Script, Source]:
    """Parse a script of any supported kind (.md, .txt, .docx) and keep its numbered source units."""
    if path.suffix.lower() == ".docx":
        return read_docx_script(path)
    return _parse_text(read_script_file(path), path)


def parse_script(path: Path) -> Script:
    return read_script(path)[0]


def find_scripts(folder: Path) -> list[Path]:
    """Every bulletin script in `folder`, in a stable order (hidden files and Word's `~$` lock files
    skipped)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SCRIPT_SUFFIXES and not p.name.startswith((".", "~$"))
    )


def _heading_style(style: ParagraphStyle | None) -> bool:
    """Word's Heading 1-9 and Title styles, or a style based on one of them."""
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip().lower()
        if name.startswith("heading") or name == "title":
            return True
        style = style.base_style
        seen += 1
    return False


def docx_paragraphs(path: Path) -> list[tuple[str, bool]]:
    """(text, has a heading style) of every body paragraph of a Word document, in order."""
    import docx  # lazily: only .docx scripts need it

    try:
        document = docx.Document(str(path))
        return [(p.text, _heading_style(p.style)) for p in document.paragraphs]
    except Exception as exc:  # python-docx raises zip, XML and key errors for damaged or non-Word files
        raise _err(path, 1, None, f"cannot be read as a Word .docx document ({exc})") from None


def _yaml_line(text: str) -> str:
    # Word users indent with tabs and may type non-breaking spaces; YAML wants plain spaces.
    stripped = text.lstrip("\t")
    return ("  " * (len(text) - len(stripped)) + stripped).replace("\u00a0", " ")


def read_docx_script(path: Path) -> tuple[Script, Source]:
    """A Word script: metadata from a front-matter block of paragraphs at the top, or from the sidecar
    `<name>.yaml` beside it; then one paragraph per Word paragraph. Messages number paragraphs."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _err(path, 1, None, f"cannot read: {exc.strerror}") from None
    paragraphs = docx_paragraphs(path)
    units = tuple(text for text, _ in paragraphs)
    sidecar = path.with_suffix(".yaml")
    first = next((i for i, text in enumerate(units) if text.strip()), None)
    digest = hashlib.sha256(data)
    meta_path: Path | None = None
    if first is not None and FRONT_MARKER_RE.match(units[first]):
        close = next((i for i in range(first + 1, len(units)) if FRONT_MARKER_RE.match(units[i])), None)
        if close is None:
            raise _err(path, first + 1, None, "the front matter block is not closed by a '---' paragraph")
        if sidecar.is_file():
            raise _err(
                path, first + 1, None, f"metadata is given twice, here and in {sidecar.name}: keep one"
            )
        yaml_lines: list[str] = []
        numbers: list[int] = []
        for index in range(first + 1, close):
            for piece in units[index].split("\n"):  # a soft line break (Shift+Enter) inside a paragraph
                yaml_lines.append(_yaml_line(piece))
                numbers.append(index + 1)
        numbers.append(close + 1)
        meta, lines = parse_front_matter_at("\n".join(yaml_lines), path, numbers, unit="paragraph")
        body_start = close + 2
    elif sidecar.is_file():
        text = _normalize_newlines(read_script_file(sidecar))
        digest.update(b"\0" + sidecar.read_bytes())  # editing the sidecar changes the program too
        if text.split("\n", 1)[0].strip() == "---":  # the fields copied with their '---' lines
            meta, lines = parse_front_matter(split_front_matter(text, sidecar)[0], sidecar)
        else:
            meta, lines = parse_front_matter_at(text, sidecar, range(1, text.count("\n") + 3))
        meta_path, body_start = sidecar, 1
    else:
        raise _err(
            path,
            1,
            None,
            "no metadata: start the document with a front matter block between '---' paragraphs, "
            f"or put the fields in {sidecar.name} beside it",
        )
    blocks = [
        Block(number, text, heading=heading or is_plain_heading(text))
        for number, (text, heading) in enumerate(paragraphs[body_start - 1 :], start=body_start)
        if text.strip()
    ]
    script = Script(
        path=path,
        meta=meta,
        sections=assemble(blocks, meta, path, body_start, _clean_plain),
        sha256=digest.hexdigest(),
        field_lines=tuple(lines.items()),
        meta_path=meta_path,
    )
    return script, Source(units, body_start, unit="paragraph")


def check_against_project(
    script: Script,
    *,
    templates: Collection[str],
    presenters: Collection[str],
    targets: Collection[str] | None,
) -> list[ScriptError]:
    """Problems that need the project: unknown template, presenter or station target."""
    path, meta = script.meta_path or script.path, script.meta
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
