"""Spell numbers the way a Vietnamese announcer says them.

Rules (Northern broadcast standard, which the reading stage targets):
- "linh" for an empty tens place after hundreds: 203 -> hai trăm linh ba;
- "mười" for the tens digit 1, "mươi" for 2..9: 10 -> mười, 20 -> hai mươi;
- "mốt" for a final 1 after "mươi" (21 -> hai mươi mốt) but "một" after "mười" (11) or "linh" (101);
- "tư" for a final 4 after "mươi" (24 -> hai mươi tư) but "bốn" after "mười" (14) or "linh" (104);
- "lăm" for a final 5 after any tens digit (15, 25) but "năm" after "linh" (105);
- a group of three inside a larger number keeps its hundreds: 2.025 -> hai nghìn không trăm hai mươi lăm;
- groups: nghìn, triệu, tỷ; above a thousand billion the billions repeat (nghìn tỷ).
"""

from __future__ import annotations

DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Scales for the groups below a billion; billions are handled by recursion so that
# 10^12 reads "một nghìn tỷ" as Vietnamese does.
_SCALES = ("", "nghìn", "triệu")
_BILLION = 1_000_000_000

# Longer digit strings are identifiers (accounts, serials), never quantities: read them digit by digit.
MAX_CARDINAL_DIGITS = 15

_MONTHS = (
    "",
    "một",
    "hai",
    "ba",
    "tư",
    "năm",
    "sáu",
    "bảy",
    "tám",
    "chín",
    "mười",
    "mười một",
    "mười hai",
)


def _triple(value: int, full: bool) -> list[str]:
    """Words for 0..999; `full` keeps "không trăm"/"linh" because a higher group precedes it."""
    hundreds, rest = divmod(value, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if hundreds or full:
                words.append("linh")
            words.append(DIGIT_WORDS[units])
    elif tens == 1:
        words.append("mười")
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 4:
            words.append("tư")
        elif units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])
    return words


def _below_billion(value: int, full: bool) -> list[str]:
    """Words for 0 < value < 10^9; `full` when a higher group was already read."""
    groups: list[int] = []
    while value:
        value, group = divmod(value, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            # An all-zero group is skipped: 1.000.500 -> một triệu năm trăm.
            continue
        words += _triple(group, full or bool(words))
        if _SCALES[index]:
            words.append(_SCALES[index])
    return words


def cardinal_words(value: int) -> list[str]:
    """Words of a non-negative integer."""
    if value < 0:
        return ["âm", *cardinal_words(-value)]
    if value == 0:
        return ["không"]
    if value < _BILLION:
        return _below_billion(value, False)
    billions, rest = divmod(value, _BILLION)
    words = [*cardinal_words(billions), "tỷ"]
    if rest:
        words += _below_billion(rest, True)
    return words


def cardinal(value: int) -> str:
    """3 -> "ba", 1203 -> "một nghìn hai trăm linh ba", -5 -> "âm năm"."""
    return " ".join(cardinal_words(value))


def digits(text: str) -> str:
    """Read every digit of `text` on its own (phone numbers, codes); other characters are ignored."""
    return " ".join(DIGIT_WORDS[int(ch)] for ch in text if ch.isdecimal())


def integer_text(text: str) -> str:
    """Read a written integer with optional "." thousands groups and leading zeros ("03" -> "ba")."""
    plain = text.replace(".", "")
    if not plain or not plain.isdecimal():
        raise ValueError(f"not an integer: {text!r}")
    stripped = plain.lstrip("0")
    if len(stripped) > MAX_CARDINAL_DIGITS:
        return digits(plain)
    return cardinal(int(stripped or "0"))


def fraction_digits(text: str) -> str:
    """The part after the decimal comma: leading zeros are said, the rest is read as a number when short.

    "5" -> năm, "35" -> ba mươi lăm, "05" -> không năm, "14159" -> một bốn một năm chín.
    """
    zeros = len(text) - len(text.lstrip("0"))
    rest = text[zeros:]
    words = ["không"] * zeros
    if rest:
        words.append(cardinal(int(rest)) if len(rest) <= 3 else digits(rest))
    return " ".join(words)


def decimal_text(text: str, point: str = ",") -> str:
    """Read "95,5" or "1.500.000" or "2,35": thousands "." and decimal ","."""
    whole, sep, frac = text.partition(point)
    spoken = integer_text(whole) if whole else "không"
    if sep and frac:
        spoken += " phẩy " + fraction_digits(frac)
    return spoken


def ordinal(value: int) -> str:
    """The word after "thứ": 1 -> nhất, 4 -> tư, otherwise the cardinal."""
    if value == 1:
        return "nhất"
    if value == 4:
        return "tư"
    return cardinal(value)


def month_name(value: int) -> str:
    """The word after "tháng": 4 -> tư (tháng tư), 1 -> một; raises ValueError outside 1..12."""
    if not 1 <= value <= 12:
        raise ValueError(f"not a month: {value}")
    return _MONTHS[value]


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_value(text: str) -> int | None:
    """Value of a well-formed Roman numeral ("XXI" -> 21), or None (so "VX", "IIII" are not numbers)."""
    if not text or any(ch not in _ROMAN_VALUES for ch in text):
        return None
    total = 0
    previous = 0
    for ch in reversed(text):
        value = _ROMAN_VALUES[ch]
        if value < previous:
            total -= value
        else:
            total += value
            previous = value
    # Accept only the canonical spelling, so sloppy letter runs are never taken for numbers.
    return total if 0 < total < 4000 and to_roman(total) == text else None


def to_roman(value: int) -> str:
    """Canonical Roman spelling of 1..3999."""
    table = (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    )
    out: list[str] = []
    for amount, letters in table:
        count, value = divmod(value, amount)
        out.append(letters * count)
    return "".join(out)
