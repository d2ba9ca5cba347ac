"""`radio lint`: one fixture per class of problem (tests/fixtures/lint/), with exact lines and levels."""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import espeak
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.lint import (
    SPEECH_RATE,
    TCVN3_DECODE,
    VNI_DECODE,
    DurationEstimate,
    LintContext,
    decode_tcvn3,
    decode_vni,
    duration_advice,
    estimate_duration,
    impossible_dates,
    legacy_encoding,
    lint_context,
    lint_script,
    missing_marks,
    template_timing,
)
from pipeline.reading import load_lexicon, read_aloud
from pipeline.scripts import find_scripts, parse_script
from pipeline.speech import wav_duration

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "lint"


@pytest.fixture
def context(project: Path) -> LintContext:
    return lint_context(load_settings(project / "radio.toml"))


def found(path: Path, context: LintContext) -> list[tuple[int, str, str]]:
    return [(m.line, m.level, m.message) for m in lint_script(path, context)]


def lines_levels(path: Path, context: LintContext) -> list[tuple[int, str]]:
    return [(line, level) for line, level, _ in found(path, context)]


# --- one fixture per class ------------------------------------------------------------------------------


def test_impossible_dates_name_the_date_on_its_line(context: LintContext) -> None:
    messages = found(FIXTURES / "impossible-dates.md", context)
    assert [(line, level) for line, level, _ in messages] == [(17, "error"), (20, "error"), (20, "error"),
                                                                (21, "error")]  # fmt: skip
    texts = [text for _, _, text in messages]
    assert "'31/02/2024'" in texts[0] and "29 days" in texts[0]
    assert "'30/2'" in texts[1]
    assert "'32/1/2025'" in texts[2]
    assert "'ngày 31 tháng 4 năm 2025'" in texts[3] and "30 days" in texts[3]
    # 29/02/2024 (a leap year), 12/15 (a fraction), 03-05 and 2021-2025 (ranges) and 18/01/2022 are fine


def test_unknown_capitals_are_listed_per_line_with_the_lexicon_to_extend(context: LintContext) -> None:
    messages = found(FIXTURES / "unknown-caps.md", context)
    assert [(line, level) for line, level, _ in messages] == [
        (17, "warning"),
        (18, "warning"),
        (19, "warning"),
    ]
    assert "'TDP'" in messages[0][2]
    assert "'PTSX', 'ĐVHC'" in messages[1][2]  # XKLĐ on the same line is in the base lexicon
    assert "'CLB'" in messages[2][2]
    assert str(context.lexicon_file) in messages[0][2] and "radio.toml [paths] lexicon" in messages[0][2]


def test_unknown_capital_goes_quiet_once_the_project_lexicon_has_it(project: Path) -> None:
    (project / "lexicon.yaml").write_text(
        "abbreviations:\n  TDP: tổ dân phố\n  PTSX: phát triển sản xuất\n  ĐVHC: đơn vị hành chính\n"
        "  CLB: câu lạc bộ\n",
        encoding="utf-8",
    )
    assert found(FIXTURES / "unknown-caps.md", lint_context(load_settings(project / "radio.toml"))) == []


def test_paragraph_without_tone_marks_is_a_warning_on_its_first_line(context: LintContext) -> None:
    messages = found(FIXTURES / "no-tone-marks.md", context)
    assert [(line, level) for line, level, _ in messages] == [(19, "warning")]
    assert "tone marks" in messages[0][2] and "'duoc'" in messages[0][2]


@pytest.mark.parametrize(
    ("name", "encoding", "sample"), [("tcvn3.md", "TCVN3", "hiện"), ("vni.md", "VNI", "Thực")]
)
def test_legacy_encodings_are_errors_with_a_conversion_hint(
    context: LintContext, name: str, encoding: str, sample: str
) -> None:
    messages = found(FIXTURES / name, context)
    # lines 19, 20 and 22 are legacy text: one error at the first, no noise from the other checks
    assert [(line, level) for line, level, _ in messages] == [(19, "error")]
    text = messages[0][2]
    assert encoding in text and "2 more lines" in text and "Unicode" in text and "UniKey" in text
    assert repr(sample) in text


def test_text_that_is_not_utf8_says_it_may_be_legacy(tmp_path: Path, context: LintContext) -> None:
    script = tmp_path / "cu.txt"
    # how a TCVN3 file looks on disk: one byte >= 0x80 per Vietnamese letter, the first on line 4 (title)
    script.write_bytes(to_tcvn3((FIXTURES / "plain-text.txt").read_text(encoding="utf-8")).encode("latin-1"))
    [(line, level, text)] = found(script, context)
    assert (line, level) == (4, "error")
    assert "not UTF-8" in text and "TCVN3/VNI" in text and "Unicode" in text


def test_short_program_warns_by_how_much_and_how_many_words(context: LintContext) -> None:
    [(line, level, text)] = found(FIXTURES / "too-short.md", context)
    assert (line, level) == (1, "warning")
    match = re.search(
        r"estimated duration (\d+) s .* is (\d+) s under the 180 s minimum .*add roughly (\d+) words", text
    )
    assert match, text
    total, gap, words = map(int, match.groups())
    assert total + gap == 180 and 8 <= total <= 20  # 1 s jingles and two short paragraphs
    assert 2 * gap < words < 6 * gap  # at a spoken rate of a few words per second


def test_front_matter_problems_are_kept(context: LintContext) -> None:
    [(line, level, text)] = found(FIXTURES / "missing-field.md", context)
    assert (line, level) == (11, "error") and "'producer': missing" in text
    [(line, level, text)] = found(FIXTURES / "reversed-validity.md", context)
    assert (line, level) == (10, "error") and "'valid_until': 2024-12-31 is before valid_from" in text
    messages = found(FIXTURES / "unknown-target.md", context)
    assert [(line, level) for line, level, _ in messages] == [(8, "error"), (11, "error")]
    assert "unknown presenter 'tenor'" in messages[0][2]
    assert "'tinh-x'; did you mean 'tinh-a'?" in messages[1][2]


def test_plain_text_scripts_are_checked_by_line(context: LintContext) -> None:
    [(line, level, text)] = found(FIXTURES / "plain-text.txt", context)
    assert (line, level) == (18, "error") and "'31/4/2025'" in text


# --- the detectors on their own -------------------------------------------------------------------------


def test_dates_that_exist_or_are_no_dates_pass() -> None:
    fine = ("ngày 29/02/2024", "đạt 12/15 tiêu chí", "03-05 phút", "giai đoạn 2021-2025", "24/7",
            "Nghị định 13/2024/NĐ-CP", "1.500.000 đồng", "quý 4/2024", "ngày 30/4 và 1/5", "95,5%",
            "ngày 31 tháng 12 năm 2025", "ngày 28-29/2/2024", "số 650/QĐ-LĐTBXH")  # fmt: skip
    for text in fine:
        assert impossible_dates(text) == [], text
    bad = {"ngày 15/13": "15/13", "tháng 13/2024": "tháng 13/2024", "31.02.2024": "31.02.2024",
           "ngày 28-30/2/2025": "28-30/2/2025", "ngày 29/02/2025": "29/02/2025",
           "ngày 0/5": "0/5"}  # fmt: skip
    for text, date_text in bad.items():
        assert [written for written, _ in impossible_dates(text)] == [date_text], text


def _sentences() -> list[str]:
    texts = []
    for path in [*sorted((REPO / "scripts").glob("*.md")), *sorted((REPO / "tests" / "data").glob("*.tsv"))]:
        texts += [part for line in path.read_text(encoding="utf-8").splitlines() for part in line.split("\t")]
    return [t for t in texts if t.strip()]


SENTENCES = _sentences()
WORDS = sorted({w for t in SENTENCES for w in re.findall(r"[^\W\d_]+", t)})
_TCVN3_ENCODE = {letter: byte for byte, letter in TCVN3_DECODE.items()}
_VNI_ENCODE = {
    letter: seq
    for seq, letter in VNI_DECODE.items()
    if seq == (seq.lower() if letter.islower() else seq.upper())
}


def to_tcvn3(text: str) -> str:
    # TCVN3 capitals come from a separate capitals font: the bytes are those of the small letters
    return "".join(
        _TCVN3_ENCODE.get(ch, _TCVN3_ENCODE.get(ch.lower(), ch)) for ch in unicodedata.normalize("NFC", text)
    )


def to_vni(text: str) -> str:
    return "".join(_VNI_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def test_unicode_vietnamese_never_looks_legacy_nor_unmarked() -> None:
    assert len(SENTENCES) > 150
    for text in SENTENCES:
        assert legacy_encoding(text) is None, text
        assert missing_marks(text) == () or text.startswith("id:"), text  # ids are ASCII by design


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=25))
def test_any_line_of_real_words_is_not_legacy(words: list[str]) -> None:
    assert legacy_encoding(" ".join(words)) is None


def test_legacy_text_is_recognised_and_converts_back() -> None:
    hits = {"TCVN3": 0, "VNI": 0}
    long_sentences = [t for t in SENTENCES if len(t.split()) >= 8 and not t.startswith(("id:", "#"))]
    for text in long_sentences:
        text = unicodedata.normalize("NFC", text)
        tcvn3, vni = to_tcvn3(text), to_vni(text)
        assert decode_tcvn3(tcvn3).replace("\xad", "").lower() == text.lower()
        assert decode_vni(vni) == text
        for name, legacy in (("TCVN3", tcvn3), ("VNI", vni)):
            result = legacy_encoding(legacy)
            if result is not None:
                assert result.encoding.startswith(name), (legacy, result)
                hits[name] += 1
    assert hits["TCVN3"] >= 0.95 * len(long_sentences)
    assert hits["VNI"] >= 0.95 * len(long_sentences)


def test_missing_marks_needs_real_evidence() -> None:
    assert missing_marks("Ho ngheo duoc vay von uu dai voi lai suat thap.")
    assert missing_marks("Cam on ba con da lang nghe chuong trinh")
    assert missing_marks("Bà con liên hệ qua Zalo hoặc Facebook của UBND xã.") == ()
    assert missing_marks("Website: dichvucong.gov.vn, hotline 1900 1234") == ()
    assert missing_marks("để duoc huong dan") == ()  # one slip is not a damaged paragraph


# --- duration ------------------------------------------------------------------------------------------


def test_rate_model_matches_real_espeak(tmp_path: Path) -> None:
    """The calibrated model against espeak-ng itself, on paragraphs of a sample script (not fitted on)."""
    lexicon = load_lexicon()
    script = parse_script(REPO / "scripts" / "vay-von-uu-dai.md")
    paragraphs = [p.text for s in script.sections for p in s.paragraphs][:4]
    for rate in (130, 160):
        real = estimated = 0.0
        for index, text in enumerate(paragraphs):
            spoken = read_aloud(text, lexicon).spoken
            out = tmp_path / f"{rate}-{index}.wav"
            espeak.synthesize(spoken, voice="vi", rate_wpm=rate, out=out)
            real += wav_duration(out)
            estimated += SPEECH_RATE.seconds(spoken, rate)
        assert abs(estimated - real) < 0.05 * real, (rate, estimated, real)


def test_estimate_matches_a_real_build(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(
        (project / "build" / "programs" / "thong-bao-ngan.json").read_text(encoding="utf-8")
    )
    settings_ = load_settings(project / "radio.toml")
    context = lint_context(settings_)
    script = parse_script(project / "scripts" / "thong-bao-ngan.md")
    estimate = estimate_duration(
        script,
        context.lexicon,
        template_timing(settings_.templates_dir, "standard"),
        settings_.speech_rate_wpm,
    )
    assert abs(estimate.total_s - manifest["duration_s"]) < 1.5


def test_duration_advice() -> None:
    assert duration_advice("program", DurationEstimate(240, 200, 700), 145, 0.07) is None
    long = duration_advice("program", DurationEstimate(330, 300, 1000), 145, 0.0)
    assert long is not None and "30 s over the 300 s maximum" in long and "cut roughly 100 words" in long
    assert "would fail" in long
    fitted = duration_advice("program", DurationEstimate(310, 290, 1000), 145, 0.07)
    assert fitted is not None and "tempo by +" in fitted
    short = duration_advice("notice", DurationEstimate(3, 1, 3), 145, 0.07)
    assert short is not None and "2 s under the 5 s minimum" in short


# --- the project's own scripts and the command ----------------------------------------------------------


def test_sample_scripts_lint_clean() -> None:
    context = lint_context(load_settings(REPO / "radio.toml"))
    paths = find_scripts(REPO / "scripts")
    assert len(paths) >= 5
    for path in paths:
        assert lint_script(path, context) == [], path


def test_cli_exit_codes_and_relative_paths(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    runner = CliRunner()
    result = runner.invoke(main, ["lint"])
    assert result.exit_code == 0 and result.output == ""
    shutil.copy(FIXTURES / "unknown-caps.md", project / "scripts")
    result = runner.invoke(main, ["lint"])
    assert result.exit_code == 0  # warnings only
    assert result.output.startswith("scripts/unknown-caps.md:17: warning: unknown abbreviation 'TDP'")
    assert "to 'abbreviations:' in lexicon.yaml" in result.output
    shutil.copy(FIXTURES / "impossible-dates.md", project / "scripts")
    result = runner.invoke(main, ["lint"])
    assert result.exit_code == 1
    assert "scripts/impossible-dates.md:17: error: impossible date '31/02/2024'" in result.output
    os.chdir(project / "scripts")
    result = runner.invoke(main, ["lint", "impossible-dates.md"])
    assert result.exit_code == 1 and result.output.startswith("impossible-dates.md:17: error:")
    assert not (project / "build").exists()  # lint renders nothing
