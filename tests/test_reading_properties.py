"""Properties of the reading stage: it never crashes, always gives one line, and never lets a digit or a
known code through for the things it is meant to read (numbers, dates, money, document numbers)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.numbers_vi import cardinal, integer_text
from pipeline.reading import Lexicon, is_syllable, load_lexicon, read_aloud

LEXICON = load_lexicon()
# Codes that must never be said as written (syllable-like ones such as CA may be plain words).
CODES = frozenset(
    code for code in (*LEXICON.abbreviations, *LEXICON.ambiguous) if len(code) > 1 and not is_syllable(code)
)
WORD = re.compile(r"[^\W\d_]+(?:[&/-][^\W\d_]+)*")
LETTERS = re.compile(r"[^\W\d_]+")
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_clean(text: str, lexicon: Lexicon = LEXICON) -> str:
    """One line, no digit, and no lexicon code of the input left as it was written."""
    spoken = read_aloud(text, lexicon).spoken
    assert not any(ch in LINE_BREAKS for ch in spoken), (text, spoken)
    assert not any(ch.isdigit() for ch in spoken), (text, spoken)
    written = WORD.findall(text)
    codes_in = {word.lower() for word in written if word in CODES}
    # A lowercase word typed as such ("hđ") may stay; only the capital code itself must be read out.
    already_lowercase = {word for word in LETTERS.findall(text) if word == word.lower()}
    assert not (set(WORD.findall(spoken)) & codes_in) - already_lowercase, (text, spoken)
    assert spoken == spoken.strip() and "  " not in spoken
    return spoken


@SETTINGS
@given(st.text())
def test_any_text_gives_one_clean_line(text: str) -> None:
    spoken = read_aloud(text, LEXICON).spoken
    assert not any(ch in LINE_BREAKS for ch in spoken), (text, spoken)
    assert not any(ch.isdigit() for ch in spoken), (text, spoken)
    assert spoken == spoken.strip() and "  " not in spoken


@SETTINGS
@given(st.text(alphabet=st.characters(codec="utf-8", categories=["Lu", "Ll", "Nd", "Zs", "Pd", "Po", "Sm"])))
def test_letters_digits_and_punctuation_never_leak_digits(text: str) -> None:
    check_clean(text)


# Text made of the pieces this stage cares about, glued in any order.
PIECES = st.sampled_from(
    [
        "UBND", "HĐND", "NN&PTNT", "LĐ-TB&XH", "TT", "CT", "KH", "CP", "HĐ", "TB", "số", "ngày", "tháng",
        "năm", "thứ", "khóa", "I.", "XXI", "V", "C", "độ C", "°C", "%", "/", "-", "–", "—", "&", "+", "…",
        "(", ")", "“", "”", ",", ".", ":", "h", "m2", "km", "ha", "đ", "đồng", "VNĐ", " ", "\n", "\u00a0",
        "\u200b", "²",
        "0", "00", "03", "1", "12", "2024", "1.500.000", "2,5", "0987", "654", "321",
    ]
)  # fmt: skip


@SETTINGS
@given(st.lists(PIECES, max_size=30).map("".join))
def test_glued_pieces_never_leak_digits_or_codes(text: str) -> None:
    check_clean(text)


@SETTINGS
@given(st.lists(PIECES, max_size=30).map(" ".join))
def test_spaced_pieces_never_leak_digits_or_codes(text: str) -> None:
    check_clean(text)


def grouped(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@SETTINGS
@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_grouped_numbers_read_as_cardinals(value: int) -> None:
    spoken = check_clean(f"Có {grouped(value)} người.")
    assert spoken == f"có {cardinal(value)} người."
    assert integer_text(str(value)) == cardinal(value)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_decimals_and_percentages(whole: int, frac: int) -> None:
    spoken = check_clean(f"Đạt {grouped(whole)},{frac}% và {whole},{frac:03d} ha.")
    assert "phẩy" in spoken and "phần trăm" in spoken and "héc ta" in spoken


@SETTINGS
@given(
    st.integers(min_value=1, max_value=31),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1900, max_value=2100),
    st.sampled_from(
        ["Ngày {d}/{m}/{y}", "ngày {d:02d}/{m:02d}/{y}", "{d}/{m}/{y}", "tháng {m}/{y}", "{m}/{y}"]
    ),
)
def test_dates(day: int, month: int, year: int, template: str) -> None:
    spoken = check_clean(template.format(d=day, m=month, y=year) + " khai giảng.")
    assert "tháng" in spoken and f"năm {cardinal(year)}" in spoken
    assert spoken.count("ngày") <= 1


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(
        ["đồng", "đ", "VNĐ", "VND", "triệu đồng", "tỷ đồng", "triệu đ", "đồng/hộ", "đ/năm", "USD"]
    ),
)
def test_money(value: int, unit: str) -> None:
    spoken = check_clean(f"Hỗ trợ {grouped(value)} {unit}.")
    assert "đồng" in spoken or "đô la" in spoken


@SETTINGS
@given(
    st.integers(min_value=1, max_value=99999),
    st.one_of(st.none(), st.integers(min_value=1990, max_value=2099)),
    st.sampled_from(sorted(LEXICON.doc_types)),
    st.sampled_from(["UBND", "TTg", "CP", "BTTTT", "LĐTBXH", "TW", "SLĐTBXH", "BNN-KTHT", "XYZ"]),
    st.sampled_from(["/{t}-{i}", "/{t}-{i}", "-{t}/{i}", "/{t} - {i}"]),
    st.sampled_from(["Quyết định số ", "theo ", "Căn cứ văn bản ", "Số: "]),
)
def test_document_numbers(
    number: int, year: int | None, doc_type: str, issuer: str, shape: str, lead: str
) -> None:
    code = shape.format(t=doc_type, i=issuer)
    written = f"{lead}{number}{'/' + str(year) if year else ''}{code} ngày 5/6/2024."
    spoken = check_clean(written)
    assert cardinal(number) in spoken
    if year:
        assert f"năm {cardinal(year)}" in spoken
    assert "ngày năm tháng sáu năm hai nghìn không trăm hai mươi tư" in spoken


@SETTINGS
@given(st.integers(min_value=1, max_value=89).filter(lambda n: n != 50))
def test_roman_numerals_after_keywords(value: int) -> None:
    from pipeline.numbers_vi import to_roman

    spoken = check_clean(f"Quốc hội khóa {to_roman(value)} họp phiên thứ {value}.")
    assert spoken.startswith(f"quốc hội khóa {cardinal(value)} họp")


@pytest.mark.parametrize(
    "phone", ["0987 654 321", "0912.345.678", "0912345678", "(0237) 3852 123", "1900 1234"]
)
def test_phones_digit_by_digit(phone: str) -> None:
    spoken = check_clean(f"Gọi {phone} nhé.")
    assert "nghìn" not in spoken and "trăm" not in spoken and "triệu" not in spoken
