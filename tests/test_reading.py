"""Reading stage: numbers, dates, codes and abbreviations read aloud as Vietnamese words."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from pipeline.numbers_vi import cardinal, decimal_text, digits, integer_text, month_name, ordinal, roman_value
from pipeline.reading import (
    Lexicon,
    LexiconError,
    is_syllable,
    load_lexicon,
    normalize_tones,
    read_aloud,
    unknown_caps_tokens,
)

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


# --- the scorer of /work/shared/reading/check.py, reimplemented (same folding and pattern rules) -------

TONE_MOVES = {
    "òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "òe": "oè", "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ",
}  # fmt: skip
PUNCT = re.compile(r"[\s.,;:!?\"'“”‘’()\[\]{}<>«»…/\\\-–—_*#=+&]+")
Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")
Y_FINAL = re.compile(r"\b([klmth])([yýỳỷỹỵ])\b")


def fold(text: str, strip: bool = True) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    for old, new in TONE_MOVES.items():
        text = re.sub(old + r"(?![a-zà-ỹđ])", new, text)
    text = Y_FINAL.sub(lambda m: m.group(1) + m.group(2).translate(Y_TO_I), text)
    text = re.sub(r" +", " ", PUNCT.sub(" ", text))
    return text.strip() if strip else text


def pattern_to_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            out.append(re.escape(fold("".join(literal), strip=False)).replace(r"\ ", r"\s+"))
            literal.clear()

    for ch in pattern:
        if ch in "{[":
            flush()
            out.append("(?:")
        elif ch == "}":
            flush()
            out.append(")")
        elif ch == "]":
            flush()
            out.append(")?")
        elif ch == "|":
            flush()
            out.append("|")
        else:
            literal.append(ch)
    flush()
    return re.compile("".join(out))


def accepted(said: str, pattern: str) -> bool:
    return pattern_to_regex(pattern).fullmatch(fold(said)) is not None


def load_cases(path: Path) -> list[tuple[str, str]]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            written, pattern = line.split("\t")
            cases.append((written, pattern))
    return cases


@pytest.mark.parametrize("name", ["reading_dev.tsv", "reading_extra.tsv"])
def test_case_files_score_100_percent(lexicon: Lexicon, name: str) -> None:
    cases = load_cases(DATA / name)
    assert len(cases) >= 30
    misses = [
        (written, said, pattern)
        for written, pattern in cases
        if not accepted(said := read_aloud(written, lexicon).spoken, pattern)
    ]
    assert not misses, "\n".join(f"{w}\n  said:     {s}\n  accepted: {p}" for w, s, p in misses)


def test_extra_file_has_at_least_60_cases() -> None:
    assert len(load_cases(DATA / "reading_extra.tsv")) >= 60


def test_scorer_matches_check_py_semantics() -> None:
    assert accepted("Hòa bình, tỉ lệ.", "hoà bình t{ỷ|ỉ} lệ")
    assert accepted("mười bốn giờ", "mười bốn giờ[ không phút| đúng]")
    assert not accepted("mười bốn giờ hai", "mười bốn giờ[ không phút| đúng]")


# --- numbers_vi -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (55, "năm mươi lăm"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (104, "một trăm linh bốn"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (121, "một trăm hai mươi mốt"),
        (1000, "một nghìn"),
        (1004, "một nghìn không trăm linh bốn"),
        (1015, "một nghìn không trăm mười lăm"),
        (1203, "một nghìn hai trăm linh ba"),
        (2025, "hai nghìn không trăm hai mươi lăm"),
        (2345, "hai nghìn ba trăm bốn mươi lăm"),
        (10_000, "mười nghìn"),
        (750_000, "bảy trăm năm mươi nghìn"),
        (1_000_005, "một triệu không trăm linh năm"),
        (1_500_000, "một triệu năm trăm nghìn"),
        (3_000_000, "ba triệu"),
        (1_000_000_000, "một tỷ"),
        (2_500_000_000, "hai tỷ năm trăm triệu"),
        (1_000_000_000_000, "một nghìn tỷ"),
        (-5, "âm năm"),
    ],
)
def test_cardinal(value: int, words: str) -> None:
    assert cardinal(value) == words


def test_written_numbers() -> None:
    assert integer_text("1.500.000") == "một triệu năm trăm nghìn"
    assert integer_text("03") == "ba"
    assert integer_text("00") == "không"
    assert decimal_text("95,5") == "chín mươi lăm phẩy năm"
    assert decimal_text("92,35") == "chín mươi hai phẩy ba mươi lăm"
    assert decimal_text("0,05") == "không phẩy không năm"
    assert decimal_text("3,14159") == "ba phẩy một bốn một năm chín"
    assert digits("0987 654 321") == "không chín tám bảy sáu năm bốn ba hai một"
    with pytest.raises(ValueError):
        integer_text("12a")


def test_ordinals_months_roman() -> None:
    assert [ordinal(n) for n in (1, 2, 4, 14)] == ["nhất", "hai", "tư", "mười bốn"]
    assert month_name(4) == "tư" and month_name(1) == "một" and month_name(12) == "mười hai"
    with pytest.raises(ValueError):
        month_name(13)
    assert roman_value("XXI") == 21 and roman_value("XIII") == 13 and roman_value("IV") == 4
    assert roman_value("IIII") is None and roman_value("VX") is None and roman_value("ABC") is None


# --- sentences by category ------------------------------------------------------------------------------

CASES = [
    # numbers
    ("Có 1.203 hộ.", "có một nghìn hai trăm linh ba hộ"),
    ("Đạt 95,5% kế hoạch.", "đạt chín mươi lăm phẩy năm phần trăm kế hoạch"),
    ("Nhiệt độ -3 độ C.", "nhiệt độ âm ba độ xê"),
    ("Hỗ trợ 1\u00a0500\u00a0000 đồng.", "hỗ trợ một triệu năm trăm nghìn đồng"),
    (
        "Số tài khoản 123456789012345678.",
        "số tài khoản một hai ba bốn năm sáu bảy tám chín không một hai ba bốn năm sáu bảy tám",
    ),
    # dates
    ("Ngày 05/3/2024 khai giảng.", "ngày năm tháng ba năm hai nghìn không trăm hai mươi tư khai giảng"),
    ("Khai giảng 05/3/2024.", "khai giảng ngày năm tháng ba năm hai nghìn không trăm hai mươi tư"),
    ("Hoàn thành trong tháng 3/2024.", "hoàn thành trong tháng ba năm hai nghìn không trăm hai mươi tư"),
    ("Hoàn thành 4/2024.", "hoàn thành tháng tư năm hai nghìn không trăm hai mươi tư"),
    ("Họp ngày 10/11.", "họp ngày mười tháng mười một"),
    (
        "Ngày 20.10.2023 và 20-10-2023.",
        "ngày hai mươi tháng mười năm hai nghìn không trăm hai mươi ba "
        "và ngày hai mươi tháng mười năm hai nghìn không trăm hai mươi ba",
    ),
    ("Từ ngày 10/11 đến 15/11.", "từ ngày mười tháng mười một đến ngày mười lăm tháng mười một"),
    ("Trong tháng 10-12/2024.", "trong tháng mười đến tháng mười hai năm hai nghìn không trăm hai mươi tư"),
    (
        "Quý 4/2024 và quý III/2024.",
        "quý bốn năm hai nghìn không trăm hai mươi tư và quý ba năm hai nghìn không trăm hai mươi tư",
    ),
    # times
    ("Lúc 6h15 và 17h00.", "lúc sáu giờ mười lăm và mười bảy giờ"),
    ("Lúc 17:30 hoặc 14h.", "lúc mười bảy giờ ba mươi hoặc mười bốn giờ"),
    ("Lúc 7 giờ 15 phút.", "lúc bảy giờ mười lăm phút"),
    # ranges
    ("Từ 03-05 phút.", "từ ba đến năm phút"),
    ("Tăng 10-15%.", "tăng mười đến mười lăm phần trăm"),
    ("Nhiệt độ 12-15 độ C.", "nhiệt độ mười hai đến mười lăm độ xê"),
    (
        "Giai đoạn 2021 – 2025.",
        "giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm",
    ),
    # fractions and slashes
    ("Có 12/15 thôn.", "có mười hai trên mười lăm thôn"),
    ("Có 3/5 thôn.", "có ba trên năm thôn"),
    ("Hộ nghèo/tổng số hộ.", "hộ nghèo trên tổng số hộ"),
    ("Các xã/phường/thị trấn.", "các xã, phường, thị trấn"),
    ("Cá nhân và/hoặc tổ chức.", "cá nhân và hoặc tổ chức"),
    # money, percent, units, rates
    ("Kinh phí 25 triệu đ/năm.", "kinh phí hai mươi lăm triệu đồng mỗi năm"),
    (
        "Giá 25.000đ/kg, 500.000 VNĐ, 200 VND.",
        "giá hai mươi lăm nghìn đồng mỗi ki lô gam, năm trăm nghìn đồng, hai trăm đồng",
    ),
    ("Năng suất 6 tấn/ha.", "năng suất sáu tấn mỗi héc ta"),
    ("Diện tích 50 m², 20 m2, bể 2 m3.", "diện tích năm mươi mét vuông, hai mươi mét vuông, bể hai mét khối"),
    (
        "Nặng 120 kg, dài 30 cm, 60 km/h.",
        "nặng một trăm hai mươi ki lô gam, dài ba mươi xen ti mét, sáu mươi ki lô mét mỗi giờ",
    ),
    ("Lãi 0,55%/tháng.", "lãi không phẩy năm mươi lăm phần trăm mỗi tháng"),
    ("Nhiệt độ 30°C và 28oC.", "nhiệt độ ba mươi độ xê và hai mươi tám độ xê"),
    # document numbers
    ("Quyết định số 90/QĐ-TTg.", "quyết định số chín mươi"),
    ("Thông tư 06/2022/TT-BTTTT.", "thông tư sáu năm hai nghìn không trăm hai mươi hai"),
    ("Chỉ thị số 05-CT/TW.", "chỉ thị số năm"),
    ("Công văn số 98/KH - UBND.", "công văn số chín mươi tám"),
    ("Số: 130 KH-UBND", "số: một trăm ba mươi"),
    ("Theo 19/KH-UBND.", "theo kế hoạch số mười chín"),
    ("Luật số 80/2015/QH13.", "luật số tám mươi năm hai nghìn không trăm mười lăm"),
    ("HĐ số 05/HĐ-UBND.", "hợp đồng số năm"),
    # abbreviations and context
    (
        "UBND, HĐND, MTTQ, UBMTTQ.",
        "ủy ban nhân dân, hội đồng nhân dân, mặt trận tổ quốc, ủy ban mặt trận tổ quốc",
    ),
    (
        "Sở NN&PTNT, Sở LĐ-TB&XH, Sở TT&TT.",
        "sở nông nghiệp và phát triển nông thôn, sở lao động, thương binh và xã hội, "
        "sở thông tin và truyền thông",
    ),
    (
        "KT-XH, DTTS, ĐBKK, MTQG, GNBV.",
        "kinh tế, xã hội, dân tộc thiểu số, đặc biệt khó khăn, mục tiêu quốc gia, giảm nghèo bền vững",
    ),
    (
        "TT Cẩm Thủy; theo TT 06/2022.",
        "thị trấn cẩm thủy; theo thông tư sáu năm hai nghìn không trăm hai mươi hai",
    ),
    ("TT HĐND xã; TT Văn hóa huyện.", "thường trực hội đồng nhân dân xã; trung tâm văn hóa huyện"),
    ("CT UBND xã; chỉ thị 05-CT/TW.", "chủ tịch ủy ban nhân dân xã; chỉ thị năm"),
    ("Công ty CP Sông Đà; Nghị quyết của CP.", "công ty cổ phần sông đà; nghị quyết của chính phủ"),
    ("Gia đình TB, LS; TB số 12.", "gia đình thương binh, liệt sĩ; thông báo số mười hai"),
    (
        "Tiến bộ KH kỹ thuật; KH năm 2024.",
        "tiến bộ khoa học kỹ thuật; kế hoạch năm hai nghìn không trăm hai mươi tư",
    ),
    ("Ban Chỉ đạo (BCĐ) huyện.", "ban chỉ đạo huyện"),
    ("KT.CHỦ TỊCH", "ký thay chủ tịch"),
    ("AN TOÀN GIAO THÔNG; CA xã.", "an toàn giao thông; công an xã"),
    # Roman numerals and headings
    ("I. MỤC ĐÍCH, YÊU CẦU", "một. mục đích, yêu cầu"),
    ("VI. CHẾ ĐỘ BÁO CÁO", "sáu. chế độ báo cáo"),
    (
        "Khóa XXI, Đại hội XIII, lần thứ XX, phần II, chương IV, mục V.",
        "khóa hai mươi mốt, đại hội mười ba, lần thứ hai mươi, phần hai, chương bốn, mục năm",
    ),
    ("Vitamin C, nhóm B, tổ I, chữ V.", "vitamin xê, nhóm bê, tổ i, chữ vê"),
    ("2.2. Phạm vi", "hai chấm hai. phạm vi"),
    ("1. Mục đích", "một. mục đích"),
    ("a) Phạm vi thực hiện", "phạm vi thực hiện"),
    ("- Tổ chức tuyên truyền.", "tổ chức tuyên truyền."),
    ("+ Tổ chức 02 lớp.", "tổ chức hai lớp."),
    ("## 1.2. Hình thức:", "một chấm hai. hình thức:"),
    ("**3. Sản xuất**", "ba. sản xuất"),
    # phones
    ("Gọi 0987 654 321.", "gọi không chín tám bảy sáu năm bốn ba hai một."),
    (
        "Gọi 0912.345.678 hoặc 1900 1234.",
        "gọi không chín một hai ba bốn năm sáu bảy tám hoặc một chín không không một hai ba bốn.",
    ),
    ("Đường dây nóng 1022.", "đường dây nóng một không hai hai."),
    # punctuation and symbols
    ("Kinh tế - xã hội; văn hóa–thể thao.", "kinh tế, xã hội; văn hóa, thể thao."),
    ("15 + 20 = 35 & hơn.", "mười lăm cộng hai mươi bằng ba mươi lăm và hơn."),
    ("“Vì người nghèo” — không để ai bị bỏ lại…", "vì người nghèo, không để ai bị bỏ lại"),
    ("Kinh doanh..., nhằm tạo việc làm.", "kinh doanh, nhằm tạo việc làm."),
    ("Thực hiện./.", "thực hiện."),
    # ordinals
    ("Thứ 2, thứ 4, thứ 7, lần thứ 1.", "thứ hai, thứ tư, thứ bảy, lần thứ nhất."),
    ("Tháng 4 và 4 tháng.", "tháng tư và bốn tháng."),
    # unicode
    ("Hoà Bình, thuỷ lợi, quý khách.", "hòa bình, thủy lợi, quý khách."),
    ("\ufeffỦy\u200b ban\u00a0nhân dân\u00ad.", "ủy ban nhân dân."),
    ("Ho\u0300a bi\u0300nh.", "hòa bình."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_read_aloud(lexicon: Lexicon, written: str, spoken: str) -> None:
    got = read_aloud(written, lexicon).spoken
    assert fold(got) == fold(spoken), got


def test_keeps_sentence_punctuation(lexicon: Lexicon) -> None:
    spoken = read_aloud("Ngày 20/10/2023, Hội LHPN xã tổ chức tọa đàm; có 50 người dự!", lexicon).spoken
    assert spoken == (
        "ngày hai mươi tháng mười năm hai nghìn không trăm hai mươi ba, hội liên hiệp phụ nữ xã tổ chức "
        "tọa đàm; có năm mươi người dự!"
    )


def test_one_line_out_for_several_lines_in(lexicon: Lexicon) -> None:
    spoken = read_aloud("UBND xã\nHĐND xã\r\nMTTQ\u2028xã", lexicon).spoken
    assert "\n" not in spoken and "\r" not in spoken and "\u2028" not in spoken
    assert spoken == "ủy ban nhân dân xã hội đồng nhân dân xã mặt trận tổ quốc xã"


@pytest.mark.parametrize("text", ["", "   ", "…", "\u200b", "()", "-", "/."])
def test_empty_or_symbol_only(lexicon: Lexicon, text: str) -> None:
    assert read_aloud(text, lexicon).spoken == ""


def test_no_digits_or_codes_in_seed_sentences(lexicon: Lexicon) -> None:
    seeds = Path("/work/shared/seeds")
    if not seeds.is_dir():
        pytest.skip("seed plans not available")
    codes = {k for k in lexicon.abbreviations if len(k) > 1} | {k for k in lexicon.ambiguous if len(k) > 1}
    for path in sorted(seeds.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            spoken = read_aloud(line, lexicon).spoken
            assert not any(ch.isdigit() for ch in spoken), (line, spoken)
            words = set(re.findall(r"[^\W\d_]+(?:[&/-][^\W\d_]+)*", spoken))
            assert not words & {c.lower() for c in codes if not is_syllable(c)}, (line, spoken)


# --- warnings -------------------------------------------------------------------------------------------


def test_unknown_caps_are_spelled_and_warned(lexicon: Lexicon) -> None:
    reading = read_aloud("Đơn vị XYZ phối hợp với UBND và TTg.", lexicon)
    assert "ích i dét" in reading.spoken
    assert reading.warnings == ("unknown abbreviation 'XYZ'",)
    assert unknown_caps_tokens("XYZ, UBND, XYZ, QWE-UBND, KẾ HOẠCH, khóa XXI", lexicon) == ("XYZ", "QWE")


def test_caps_words_are_not_codes(lexicon: Lexicon) -> None:
    assert unknown_caps_tokens("II. ĐỐI TƯỢNG, PHẠM VI VÀ THỜI GIAN THỰC HIỆN", lexicon) == ()
    assert is_syllable("NGHIÊNG") and is_syllable("TRUYỀN") and is_syllable("QUYẾT")
    assert not is_syllable("UBND") and not is_syllable("TYT") and not is_syllable("HIV")


def test_tone_normalisation() -> None:
    assert normalize_tones("hoà thuỷ khoẻ HOÀ Hoà quý hoàn tuyển") == "hòa thủy khỏe HÒA Hòa quý hoàn tuyển"


# --- lexicon files --------------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_project_lexicon_overrides_and_extends(tmp_path: Path) -> None:
    project = write(
        tmp_path / "lexicon.yaml",
        """
abbreviations:
  UBND: Ủy ban nhân dân          # same
  HTXDVNN: hợp tác xã dịch vụ nông nghiệp
  TT: thị trấn
  HTX: null
ambiguous:
  CP:
    default: cổ phần
    contexts:
      - {after: [nghị quyết của], say: Chính phủ}
words:
  Kbang: Ca Bang
  Krông Pắc: Cờ Rông Pắc
doc_types:
  QĐ: quyết định
""",
    )
    lexicon = load_lexicon([project])
    said = read_aloud("HTXDVNN TT Kbang và Krông Pắc; TT 06; CP; nghị quyết của CP; HTX", lexicon)
    assert said.spoken == (
        "hợp tác xã dịch vụ nông nghiệp thị trấn ca bang và cờ rông pắc; thị trấn sáu; cổ phần; "
        "nghị quyết của chính phủ; hát tê ích"
    )
    assert said.warnings == ("unknown abbreviation 'HTX'",)
    assert lexicon.sources[-1] == project
    # the base lexicon is untouched
    base = load_lexicon()
    assert read_aloud("KH; TT 06", base).spoken == "kế hoạch; thông tư sáu"


def test_later_project_file_wins(tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", "abbreviations:\n  XB: xã A\n")
    second = write(tmp_path / "b.yaml", "abbreviations:\n  XB: xã Bê\n")
    assert read_aloud("XB", load_lexicon([first, second])).spoken == "xã bê"


def test_tone_placement_in_lexicon_is_normalised(tmp_path: Path) -> None:
    project = write(tmp_path / "l.yaml", "words:\n  Thuỷ Hoà: Thủy Hòa\n")
    assert read_aloud("Thuỷ Hoà", load_lexicon([project])).spoken == "thủy hòa"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("abbreviations:\n  XYZ: chữ 9\n", "abbreviations.XYZ"),
        ("abbreviations:\n  XYZ: ''\n", "abbreviations.XYZ"),
        ("abbreviations:\n  XYZ: [a, b]\n", "abbreviations.XYZ"),
        ("abbreviations:\n  'X Y': a\n", "abbreviations.X Y"),
        ("abbreviations:\n  NO: không\n", "abbreviations.False"),
        ("abbreviations: [UBND]\n", "abbreviations"),
        ("ambiguous:\n  TT: thông tư\n", "ambiguous.TT"),
        ("ambiguous:\n  TT: {default: a, contexts: [{say: b}]}\n", "ambiguous.TT.contexts[0]"),
        ("ambiguous:\n  TT: {default: a, contexts: [{say: b, near: x}]}\n", "ambiguous.TT.contexts[0]"),
        (
            "ambiguous:\n  TT: {default: a, contexts: [{say: b, in_code: yes please}]}\n",
            "ambiguous.TT.contexts[0].in_code",
        ),
        ("ambiguous:\n  TT: {contexts: []}\n", "ambiguous.TT.default"),
        ("sayings:\n  A: b\n", "sayings"),
    ],
)
def test_malformed_lexicon_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    bad = write(tmp_path / "bad.yaml", text)
    with pytest.raises(LexiconError) as info:
        load_lexicon([bad])
    message = str(info.value)
    assert "bad.yaml" in message and key in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["abbreviations: [\n", "- just\n- a list\n"])
def test_unparsable_lexicon(tmp_path: Path, text: str) -> None:
    bad = write(tmp_path / "bad.yaml", text)
    with pytest.raises(LexiconError, match=r"bad\.yaml"):
        load_lexicon([bad])


def test_missing_lexicon_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"missing\.yaml"):
        load_lexicon([tmp_path / "missing.yaml"])


def test_empty_project_file_is_fine(tmp_path: Path) -> None:
    assert read_aloud("UBND", load_lexicon([write(tmp_path / "e.yaml", "")])).spoken == "ủy ban nhân dân"


def test_lexicon_is_immutable(lexicon: Lexicon) -> None:
    with pytest.raises(TypeError):
        lexicon.abbreviations["UBND"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        lexicon.words = {}  # type: ignore[misc]


DESIGN_CODES = (
    *("UBND", "HĐND", "MTTQ", "UBMTTQ", "TW", "TU", "HU", "ĐU", "BCĐ", "CP", "TTg", "LĐTBXH", "LĐ-TB&XH"),
    *("TT&TT", "TTTT", "BTTTT", "STTTT", "VH&TT", "VHTTDL", "NN&PTNT", "KH&ĐT", "NHCSXH", "BHXH", "BHYT"),
    *("LHPN", "MTQG", "GNBV", "KT-XH", "DTTS", "ĐBKK", "TTCS", "THCS", "THPT", "CNTT", "HTX"),
)


def test_base_lexicon_covers_design_list(lexicon: Lexicon) -> None:
    assert [code for code in DESIGN_CODES if not lexicon.knows(code)] == []
    for code in ("NQ", "QĐ", "NĐ", "TT", "CT", "KH", "HD", "TB", "BC", "TTr", "CV"):
        assert code in lexicon.doc_types
    for code in ("TT", "CT", "KH", "CP", "HĐ", "TB"):
        assert code in lexicon.ambiguous
