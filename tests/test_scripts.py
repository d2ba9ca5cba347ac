"""Parsing bulletin scripts: structure, speakers, line numbers, and every bad-input message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import ScriptError, ScriptErrors
from pipeline.scripts import parse_script_text
from tests.conftest import SHORT_SCRIPT

P = Path("scripts/x.md")


def errors_of(text: str) -> list[ScriptError]:
    with pytest.raises((ScriptError, ScriptErrors)) as info:
        parse_script_text(text, P)
    error = info.value
    return list(error.errors) if isinstance(error, ScriptErrors) else [error]  # type: ignore[union-attr]


def test_front_matter_and_body_structure() -> None:
    script = parse_script_text(SHORT_SCRIPT, P)
    meta = script.meta
    assert meta.id == "thong-bao-ngan"
    assert meta.kind == "notice"
    assert meta.valid_from == date(2025, 1, 1)
    assert meta.targets == ("tinh-a",)
    assert meta.voices == (("A", "female"), ("B", "male"))
    assert [s.title for s in script.sections] == ["Lịch tiếp dân", "Vay vốn"]
    first = script.sections[0].paragraphs[0]
    assert first.speaker == "A"
    assert first.text == "Ngày 05/3/2025, UBND xã tiếp dân lúc 7h30."
    assert first.line == 17
    assert script.sections[1].paragraphs[0].speaker == "B"
    assert script.line_of("targets") == 11
    assert len(script.sha256) == 64


def test_paragraphs_join_lines_strip_markup_and_keep_speaker() -> None:
    text = SHORT_SCRIPT.split("## Lịch")[0] + (
        "Lời mở đầu không có nhãn.\n\n"
        "## Phần một\n\n"
        "**B:** Dòng một\ntiếp dòng hai với *nhấn mạnh* và **đậm**.\n\n"
        "Đoạn sau vẫn do B đọc.\n\n"
        "- Mục một của danh sách\n- Mục hai\n\n"
        "<!-- ghi chú của biên tập viên,\nkhông đọc -->\n"
        "Lưu ý: đây không phải nhãn người đọc.\n"
    )
    script = parse_script_text(text, P)
    intro, part = script.sections
    assert intro.title == "Thông báo ngắn về lịch tiếp dân"  # text before the first heading
    assert intro.paragraphs[0].speaker == "A"
    texts = [(p.speaker, p.text) for p in part.paragraphs]
    assert texts == [
        ("B", "Dòng một tiếp dòng hai với nhấn mạnh và đậm."),
        ("B", "Đoạn sau vẫn do B đọc."),
        ("B", "Mục một của danh sách"),
        ("B", "Mục hai"),
        ("B", "Lưu ý: đây không phải nhãn người đọc."),
    ]
    assert part.paragraphs[-1].line == text.split("\n").index("Lưu ý: đây không phải nhãn người đọc.") + 1


def test_missing_field_names_the_field() -> None:
    text = SHORT_SCRIPT.replace("producer: Đài truyền thanh xã C\n", "")
    [error] = errors_of(text)
    assert error.field == "producer"
    assert "missing" in error.message
    assert str(error).startswith("scripts/x.md:")


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "words"),
    [
        ("valid_from: 2025-01-01", "valid_from: 2024-02-31", "valid_from", 9, "not a real date"),
        ("valid_until: 2099-12-31", "valid_until: 2024-12-31", "valid_until", 10, "before valid_from"),
        ("kind: notice", "kind: bulletin", "kind", 3, "must be one of program, notice, filler"),
        ("priority: normal", "priority: urgent", "priority", 12, "must be one of normal"),
        ("id: thong-bao-ngan", "id: Thông báo", "id", 2, "not a valid id"),
        ("title: Thông báo ngắn về lịch tiếp dân", "title: ''", "title", 4, "must not be empty"),
        ("targets: [tinh-a]", "targets: []", "targets", 11, "at least one"),
        ("voices: {A: female, B: male}", "voices: female", "voices", 8, "speaker labels"),
        ("priority: normal", "priority: normal\nvalid_untill: 2025-01-01", "valid_untill", 13, "valid_until"),
        ("priority: normal", "priority: normal\ntitle: again", "title", 13, "given twice"),
    ],
)
def test_bad_field_gives_file_line_field(old: str, new: str, field: str, line: int, words: str) -> None:
    assert old in SHORT_SCRIPT
    errors = errors_of(SHORT_SCRIPT.replace(old, new))
    match = [e for e in errors if e.field == field]
    assert match, [str(e) for e in errors]
    assert match[0].line == line
    assert words in match[0].message


def test_several_problems_are_all_reported() -> None:
    text = SHORT_SCRIPT.replace("kind: notice", "kind: x").replace("priority: normal", "priority: y")
    fields = {e.field for e in errors_of(text)}
    assert fields == {"kind", "priority"}


def test_malformed_yaml_names_its_line() -> None:
    text = SHORT_SCRIPT.replace("title: Thông báo ngắn về lịch tiếp dân", "title: [unclosed")
    [error] = errors_of(text)
    assert "not valid YAML" in error.message
    assert error.line is not None and 4 <= error.line <= 6


def test_no_front_matter_and_unclosed_front_matter() -> None:
    assert "must start with a front matter" in errors_of("Chỉ có chữ.\n")[0].message
    assert "not closed" in errors_of("---\nid: x\n")[0].message


def test_body_without_text_is_an_error() -> None:
    text = SHORT_SCRIPT.split("## Lịch")[0] + "## Chỉ có tiêu đề\n"
    [error] = errors_of(text)
    assert "no text to read" in error.message


def test_windows_line_endings_and_bom() -> None:
    text = "\ufeff" + SHORT_SCRIPT.replace("\n", "\r\n")
    script = parse_script_text(text, P)
    assert script.sections[0].paragraphs[0].line == 17
