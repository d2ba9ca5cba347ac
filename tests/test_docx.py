"""Word (.docx) and plain-text (.txt) scripts: the same program as its Markdown twin, metadata in the
document or in a sidecar file, and messages that name the right file and paragraph or line.

The .docx files are built here with python-docx, so no binary fixture needs to be kept in the repo.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.errors import ScriptError, ScriptErrors
from pipeline.lint import lint_context, lint_script
from pipeline.models import Script
from pipeline.reading import load_lexicon
from pipeline.render import speak
from pipeline.scripts import find_scripts, parse_script, read_script

FRONT = """\
id: vay-von-thon
kind: notice
title: Vay vốn ưu đãi cho hộ nghèo
series: Giảm nghèo về thông tin
producer: Đài truyền thanh xã C
template: standard
voices: {A: female, B: male}
valid_from: 2025-01-01
valid_until: 2099-12-31
targets: [tinh-a]
priority: normal"""

# (heading or None, [paragraph texts]) in reading order
BODY = [
    (None, ["A: Kính thưa bà con! Sau đây là thông tin của NHCSXH huyện."]),
    ("Mức vay và lãi suất", [
        "B: Theo Quyết định số 90/QĐ-TTg ngày 18/01/2022, hộ nghèo được vay tối đa 100 triệu đồng/hộ.",
        "Lãi suất cho vay hộ nghèo là 6,6%/năm, thời hạn vay từ 03-05 năm.",
    ]),
    ("Thủ tục", [
        "A: Bà con nộp giấy đề nghị cho Tổ tiết kiệm và vay vốn trước ngày 15/3/2025, lúc 7h30.",
        "B: Mọi thắc mắc xin gọi số 0987 654 321.",
    ]),
]  # fmt: skip


def markdown_twin() -> str:
    parts = [f"---\n{FRONT}\n---\n"]
    for heading, paragraphs in BODY:
        if heading:
            parts.append(f"## {heading}\n")
        parts += [f"{text}\n" for text in paragraphs]
    return "\n".join(parts)


def write_docx(
    path: Path, *, front: str | None = FRONT, body: list[tuple[str | None, list[str]]] = BODY
) -> Path:
    """A Word document as an editor would type it: front matter paragraphs, Heading 2 sections."""
    document = docx.Document()
    if front is not None:
        document.add_paragraph("---")
        for line in front.split("\n"):
            document.add_paragraph(line)
        document.add_paragraph("---")
    for heading, paragraphs in body:
        if heading:
            document.add_heading(heading, level=2)
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def spoken(script: Script) -> list[tuple[str, str, str]]:
    result, _ = speak(script, load_lexicon())
    return [(script.sections[p.section].title, p.speaker, p.spoken) for p in result.paragraphs]


def test_docx_speaks_exactly_like_its_markdown_twin(tmp_path: Path) -> None:
    md = tmp_path / "vay-von.md"
    md.write_text(markdown_twin(), encoding="utf-8")
    word = write_docx(tmp_path / "vay-von.docx")
    from_md, from_docx = parse_script(md), parse_script(word)
    assert from_docx.meta == from_md.meta
    assert [s.title for s in from_docx.sections] == [s.title for s in from_md.sections]
    assert spoken(from_docx) == spoken(from_md)
    assert len(spoken(from_docx)) == 5
    assert "chín mươi" in spoken(from_docx)[1][2]  # the reader ran on the Word text too
    # paragraph numbers: 13 front-matter paragraphs, then paragraph 14 is the first of the body
    assert from_docx.sections[0].paragraphs[0].line == 14
    assert [s.line for s in from_docx.sections[1:]] == [15, 18]
    assert from_docx.line_of("targets") == 11
    assert from_docx.meta_path is None


def test_sidecar_metadata(tmp_path: Path) -> None:
    word = write_docx(tmp_path / "bai-doc.docx", front=None)
    with pytest.raises(ScriptError) as info:
        parse_script(word)
    assert info.value.path == word and info.value.line == 1 and "bai-doc.yaml" in info.value.message
    sidecar = tmp_path / "bai-doc.yaml"
    sidecar.write_text(FRONT + "\n", encoding="utf-8")
    script = parse_script(word)
    assert script.meta.id == "vay-von-thon"
    assert script.meta_path == sidecar
    assert script.sections[0].paragraphs[0].line == 1  # no front matter paragraphs before the body
    first = script.sha256
    sidecar.write_text(FRONT.replace("priority: normal", "priority: priority") + "\n", encoding="utf-8")
    assert parse_script(word).sha256 != first  # editing the sidecar re-renders the program
    sidecar.write_text(f"---\n{FRONT}\n---\n", encoding="utf-8")  # the block copied with its markers
    assert parse_script(word).meta.id == "vay-von-thon"


def test_errors_in_the_sidecar_name_the_sidecar_line(tmp_path: Path, project: Path) -> None:
    word = write_docx(tmp_path / "bai-doc.docx", front=None)
    sidecar = tmp_path / "bai-doc.yaml"
    sidecar.write_text(FRONT.replace("kind: notice", "kind: bulletin") + "\n", encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        parse_script(word)
    assert (info.value.path, info.value.line, info.value.field) == (sidecar, 2, "kind")
    sidecar.write_text(FRONT.replace("targets: [tinh-a]", "targets: [tinh-x]") + "\n", encoding="utf-8")
    [message] = lint_script(word, lint_context(load_settings(project / "radio.toml")))
    assert (message.path, message.line, message.level) == (sidecar, 10, "error")
    assert "'tinh-x'" in message.message


def test_errors_name_the_docx_and_its_paragraph(tmp_path: Path) -> None:
    word = write_docx(tmp_path / "loi.docx", front=FRONT.replace("priority: normal", "priority: urgent"))
    with pytest.raises(ScriptError) as info:
        parse_script(word)
    # paragraph 1 is '---', so field line 11 of the block is paragraph 12
    assert (info.value.path, info.value.line, info.value.field) == (word, 12, "priority")
    twice = write_docx(tmp_path / "hai-lan.docx", front=FRONT + "\ntitle: Lần nữa")
    with pytest.raises(ScriptError) as info:
        parse_script(twice)
    assert info.value.line == 13 and "first on paragraph 4" in info.value.message
    unclosed = docx.Document()
    unclosed.add_paragraph("---")
    unclosed.add_paragraph("id: x")
    unclosed.save(str(tmp_path / "mo.docx"))
    with pytest.raises(ScriptError, match="not closed"):
        parse_script(tmp_path / "mo.docx")
    both = write_docx(tmp_path / "ca-hai.docx")
    (tmp_path / "ca-hai.yaml").write_text(FRONT, encoding="utf-8")
    with pytest.raises(ScriptError, match="given twice") as info:
        parse_script(both)
    assert info.value.path == both and info.value.line == 1
    empty = write_docx(tmp_path / "trong.docx", body=[("Chỉ có tiêu đề", [])])
    with pytest.raises(ScriptError, match="no text to read"):
        parse_script(empty)
    fake = tmp_path / "khong-phai.docx"
    fake.write_bytes(b"this is not a zip file")
    with pytest.raises(ScriptError, match=r"cannot be read as a Word \.docx document") as info:
        parse_script(fake)
    assert info.value.path == fake


def test_several_field_errors_all_name_paragraphs(tmp_path: Path) -> None:
    front = FRONT.replace("kind: notice", "kind: x").replace("priority: normal", "priority: y")
    with pytest.raises(ScriptErrors) as info:
        parse_script(write_docx(tmp_path / "nhieu.docx", front=front))
    assert sorted((e.field, e.line) for e in info.value.errors) == [("kind", 3), ("priority", 12)]


def test_word_habits_are_understood(tmp_path: Path) -> None:
    """Tabs for indentation, a soft line break inside the front matter, the dash Word makes of '---',
    a style based on a heading style, and an unstyled ALL-CAPS or numbered heading."""
    document = docx.Document()
    document.add_paragraph("—")
    front = FRONT.replace("voices: {A: female, B: male}", "voices:\n\tA: female\n\tB: male")
    lines = front.split("\n")
    for line in lines[:-2]:
        document.add_paragraph(line)
    document.add_paragraph(f"{lines[-2]}\n{lines[-1]}")  # Shift+Enter: two YAML lines in one paragraph
    document.add_paragraph("—")
    style = document.styles.add_style("Tiêu đề mục", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Heading 1"]
    document.add_paragraph("Phần riêng", style="Tiêu đề mục")
    document.add_paragraph("A: Đoạn thứ nhất.")
    document.add_paragraph("LỜI NHẮN")
    document.add_paragraph("B: Đoạn thứ hai.")
    document.add_paragraph("")
    document.add_paragraph("III. Kết thúc")
    document.add_paragraph("Đoạn cuối do B đọc.")
    path = tmp_path / "thoi-quen.docx"
    document.save(str(path))
    script, source = read_script(path)
    assert script.meta.voices == (("A", "female"), ("B", "male"))
    assert script.meta.priority == "normal"
    assert [(s.title, s.line) for s in script.sections] == [("Phần riêng", 15), ("LỜI NHẮN", 17),
                                                             ("III. Kết thúc", 20)]  # fmt: skip
    assert [(p.speaker, p.text, p.line) for s in script.sections for p in s.paragraphs] == [
        ("A", "Đoạn thứ nhất.", 16),
        ("B", "Đoạn thứ hai.", 18),
        ("B", "Đoạn cuối do B đọc.", 21),
    ]
    assert source.unit == "paragraph" and source.units[15] == "A: Đoạn thứ nhất."


def test_plain_text_script(tmp_path: Path) -> None:
    text = (
        f"---\n{FRONT}\n---\n\n"  # body from line 14
        "A: Lời chào đầu chương trình,\nviết trên hai dòng.\n\n"  # 15-16
        "I. MỨC VAY\n"  # 18: a numbered heading
        "B: Hộ nghèo được vay tối đa 100 triệu đồng.\n"  # 19
        "- Mục một của danh sách\n- Mục hai\n\n"  # 20, 21
        "THỦ TỤC VAY\nVÀ HỒ SƠ\n\n"  # 23-24: an all-caps heading wrapped over two lines
        "A: Bà con nộp hồ sơ tại *thôn*.\n"  # 26: no Markdown in .txt
        "UBND XÃ KÍNH BÁO\n"  # 27: capitals inside a paragraph are text
    )
    path = tmp_path / "van-ban.txt"
    path.write_text(text, encoding="utf-8")
    script = parse_script(path)
    assert [(s.title, s.line) for s in script.sections] == [
        ("Vay vốn ưu đãi cho hộ nghèo", 14),
        ("I. MỨC VAY", 18),
        ("THỦ TỤC VAY VÀ HỒ SƠ", 23),
    ]
    assert [(p.speaker, p.text, p.line) for s in script.sections for p in s.paragraphs] == [
        ("A", "Lời chào đầu chương trình, viết trên hai dòng.", 15),
        ("B", "Hộ nghèo được vay tối đa 100 triệu đồng.", 19),
        ("B", "- Mục một của danh sách", 20),
        ("B", "- Mục hai", 21),
        ("A", "Bà con nộp hồ sơ tại *thôn*. UBND XÃ KÍNH BÁO", 26),
    ]


def test_windows_notepad_utf16_text(tmp_path: Path) -> None:
    path = tmp_path / "notepad.txt"
    path.write_bytes(f"---\n{FRONT}\n---\n\nA: Xin chào bà con.\n".replace("\n", "\r\n").encode("utf-16"))
    script = parse_script(path)
    assert (
        script.sections[0].paragraphs[0].text == "Xin chào bà con."
        and script.sections[0].paragraphs[0].line == 15
    )


def test_discovery_includes_txt_and_docx_but_not_word_lock_files(tmp_path: Path) -> None:
    for name in ("a.md", "b.txt", "c.docx", "~$c.docx", ".d.md", "c.yaml", "e.doc"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_scripts(tmp_path)] == ["a.md", "b.txt", "c.docx"]


def test_parsing_markdown_does_not_import_python_docx() -> None:
    code = (
        "import sys; from pathlib import Path; from pipeline.scripts import parse_script; "
        f"parse_script(Path({str(Path(__file__).parent / 'fixtures' / 'lint' / 'plain-text.txt')!r})); "
        "print('docx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout  # fmt: skip
    assert out.strip() == "False"


def test_lint_and_preview_of_a_docx_in_a_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = [("Lịch họp", ["A: Họp thôn vào ngày 31/02/2025 tại nhà văn hóa.", "B: Bà con đến đúng giờ."])]
    write_docx(project / "scripts" / "hop-thon.docx", body=body)
    (project / "scripts" / "~$hop-thon.docx").write_bytes(b"lock")  # Word's lock file while it is open
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1
    assert (
        result.output
        == "scripts/hop-thon.docx:15: error: impossible date '31/02/2025': month 2 of 2025 has 28 days\n"
    )
    result = CliRunner().invoke(main, ["preview", "scripts/hop-thon.docx"])
    assert result.exit_code == 0
    assert "A: họp thôn vào ngày ba mươi mốt tháng hai" in result.output
