"""Reading stage: written Vietnamese administrative text -> fully spelled-out spoken Vietnamese.

The voices (espeak-ng, neural TTS) must never see digits, codes or symbols: they read dates without
"ngày/tháng/năm", Roman numerals in English and codes letter by letter. This module rewrites one line
(or paragraph) into words, keeping sentence punctuation for pauses. It is rule-based: a chain of small
passes over the text, each a precompiled regex with a pure callback, in an order that matters (codes and
dates must be recognised before their digits are read as plain numbers). Abbreviations come from a YAML
lexicon (docs/lexicon.md) that a project can extend.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pipeline.errors import ConfigError
from pipeline.numbers_vi import (
    cardinal,
    decimal_text,
    digits,
    integer_text,
    month_name,
    ordinal,
    roman_value,
)

BASE_LEXICON = Path(__file__).resolve().parent / "data" / "lexicon.yaml"


class LexiconError(ConfigError, ValueError):
    """A lexicon file is malformed; the message names the file and the key."""


# ---------------------------------------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------------------------------------

_SECTIONS = ("abbreviations", "ambiguous", "doc_types", "words")
_FLAG_CONDITIONS = ("in_code", "before_number", "before_name", "before_acronym")
_LIST_CONDITIONS = ("after", "before")
# A code key: starts with a letter; letters, "&", "-", "/", "." inside (LĐ-TB&XH, B/c).
_CODE_KEY = re.compile(r"[^\W\d_][^\W_]*(?:[&\-/.][^\W_]+)*")
# A respelling key: words with spaces, hyphens, apostrophes or digits (covid-19, Cẩm Thủy).
_WORD_KEY = re.compile(r"[^\W_](?:[^\W_]|[ '\-.])*")
# A whole token as the matcher sees it; keys that are not one of these go to the phrase regex.
_TOKEN = re.compile(r"[^\W\d_]+(?:&[^\W\d_]+)*(?:-[^\W\d_]+(?:&[^\W\d_]+)*)*")


@dataclass(frozen=True, eq=False)
class ContextRule:
    """One way of reading an ambiguous code; every condition given must hold."""

    say: str
    in_code: bool = False
    before_number: bool = False
    before_name: bool = False
    before_acronym: bool = False
    after: re.Pattern[str] | None = None
    before: re.Pattern[str] | None = None


@dataclass(frozen=True, eq=False)
class AmbiguousCode:
    default: str
    rules: tuple[ContextRule, ...]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Immutable lookups built once by `load_lexicon`; share one instance across calls and threads."""

    abbreviations: Mapping[str, str]
    ambiguous: Mapping[str, AmbiguousCode]
    doc_types: Mapping[str, str]
    words: Mapping[str, str]  # lowercased key
    doc_re: re.Pattern[str]
    doc_prefix_re: re.Pattern[str]
    phrase_re: re.Pattern[str] | None
    token_re: re.Pattern[str]
    sources: tuple[Path, ...] = field(default=())

    def knows(self, code: str) -> bool:
        """True when the lexicon can say `code` (so lint need not warn about it)."""
        known = code in self.abbreviations or code in self.ambiguous or code.lower() in self.words
        return known or (len(code) > 1 and code in self.doc_types)


@dataclass(frozen=True)
class Reading:
    spoken: str
    warnings: tuple[str, ...]


def load_lexicon(extra: Sequence[Path] = ()) -> Lexicon:
    """Base lexicon plus project files in order; a later file overrides (or with `null` removes) entries."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    paths = (BASE_LEXICON, *(Path(p) for p in extra))
    for path in paths:
        _merge(sections, _read_yaml(path), path)
    abbreviations = {key: normalize_tones(value) for key, value in sections["abbreviations"].items()}
    ambiguous = {key: _compile_ambiguous(value) for key, value in sections["ambiguous"].items()}
    doc_types = {key: normalize_tones(value) for key, value in sections["doc_types"].items()}
    words = {normalize_tones(key).lower(): normalize_tones(value) for key, value in sections["words"].items()}
    phrases = [key for key in abbreviations if not _TOKEN.fullmatch(key)]
    phrases += [key for key in words if not _TOKEN.fullmatch(key)]
    return Lexicon(
        abbreviations=MappingProxyType(abbreviations),
        ambiguous=MappingProxyType(ambiguous),
        doc_types=MappingProxyType(doc_types),
        words=MappingProxyType(words),
        doc_re=_compile_doc_re(doc_types),
        doc_prefix_re=_compile_doc_prefix(doc_types.values()),
        phrase_re=_alternation(phrases, flags=re.IGNORECASE) if phrases else None,
        token_re=_compile_token_re([*abbreviations, *ambiguous, *words]),
        sources=tuple(paths),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon: {exc.strerror or exc}", path=path) from exc
    except yaml.YAMLError as exc:
        raise LexiconError(f"not valid YAML: {exc}", path=path) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LexiconError("the lexicon must be a mapping of sections", path=path)
    for key in data:
        if key not in (*_SECTIONS, "version"):
            raise LexiconError(
                f"unknown section (expected one of {', '.join(_SECTIONS)})", path=path, field=str(key)
            )
    return data


def _merge(sections: dict[str, dict[str, Any]], data: dict[str, Any], path: Path) -> None:
    for name in _SECTIONS:
        entries = data.get(name)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise LexiconError("must be a mapping", path=path, field=name)
        for key, value in entries.items():
            where = f"{name}.{key}"
            _check_key(name, key, path, where)
            if value is None:  # `KEY: null` removes an inherited entry (a code from both code sections)
                sections[name].pop(key, None)
                if name in ("abbreviations", "ambiguous"):
                    sections["abbreviations"].pop(key, None)
                    sections["ambiguous"].pop(key, None)
                continue
            if name == "ambiguous":
                _check_ambiguous(value, path, where)
                sections["abbreviations"].pop(key, None)
            else:
                _check_text(value, path, where)
                if name == "abbreviations":
                    sections["ambiguous"].pop(key, None)
            sections[name][key] = value


def _check_key(section: str, key: object, path: Path, where: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise LexiconError(
            "keys must be non-empty text (quote YAML keywords like NO or ON)", path=path, field=where
        )
    pattern = _WORD_KEY if section == "words" else _CODE_KEY
    if not pattern.fullmatch(key):
        raise LexiconError(
            "key must start with a letter and hold no spaces or symbols", path=path, field=where
        )


def _check_text(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LexiconError("value must be non-empty text", path=path, field=where)
    if any(ch.isdigit() for ch in value) or "\n" in value:
        raise LexiconError("value must be words only (no digits, one line)", path=path, field=where)
    return value


def _check_ambiguous(value: object, path: Path, where: str) -> None:
    if not isinstance(value, dict):
        raise LexiconError("must be a mapping with `default` and `contexts`", path=path, field=where)
    for key in value:
        if key not in ("default", "contexts"):
            raise LexiconError(f"unknown field {key!r}", path=path, field=where)
    _check_text(value.get("default"), path, f"{where}.default")
    contexts = value.get("contexts") or []
    if not isinstance(contexts, list):
        raise LexiconError("must be a list", path=path, field=f"{where}.contexts")
    for index, rule in enumerate(contexts):
        here = f"{where}.contexts[{index}]"
        if not isinstance(rule, dict):
            raise LexiconError("must be a mapping", path=path, field=here)
        _check_text(rule.get("say"), path, f"{here}.say")
        conditions = [key for key in rule if key != "say"]
        if not conditions:
            raise LexiconError("needs at least one condition", path=path, field=here)
        for key in conditions:
            if key in _FLAG_CONDITIONS:
                if not isinstance(rule[key], bool):
                    raise LexiconError("must be true or false", path=path, field=f"{here}.{key}")
            elif key in _LIST_CONDITIONS:
                items = rule[key] if isinstance(rule[key], list) else [rule[key]]
                for item in items:
                    _check_text(item, path, f"{here}.{key}")
            else:
                raise LexiconError(f"unknown condition {key!r}", path=path, field=here)


def _phrase_pattern(phrases: Iterable[str]) -> str:
    ordered = sorted({normalize_tones(p.strip()) for p in phrases}, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


def _compile_ambiguous(value: dict[str, Any]) -> AmbiguousCode:
    rules: list[ContextRule] = []
    for rule in value.get("contexts") or []:
        after = rule.get("after")
        before = rule.get("before")
        after_list = after if isinstance(after, list) else [after] if after else []
        before_list = before if isinstance(before, list) else [before] if before else []
        rules.append(
            ContextRule(
                say=normalize_tones(rule["say"]),
                in_code=bool(rule.get("in_code", False)),
                before_number=bool(rule.get("before_number", False)),
                before_name=bool(rule.get("before_name", False)),
                before_acronym=bool(rule.get("before_acronym", False)),
                # The text before the code must end with the phrase (as whole words).
                after=re.compile(rf"(?:^|[^\w])(?:{_phrase_pattern(after_list)})\s*$", re.IGNORECASE)
                if after_list
                else None,
                # The text after the code must start with the phrase ("KT. CHỦ TỊCH": dots skipped).
                before=re.compile(rf"[\s.]*(?:{_phrase_pattern(before_list)})(?![^\W_])", re.IGNORECASE)
                if before_list
                else None,
            )
        )
    return AmbiguousCode(default=normalize_tones(value["default"]), rules=tuple(rules))


# Capital letters of the Latin blocks: a token worth looking at starts with one of these (or is a known
# lowercase key), so the per-token callback runs for a few tokens a line instead of every word.
_UPPER_CLASS = "".join(
    re.escape(chr(cp)) for cp in (*range(0x41, 0x250), *range(0x1E00, 0x1F00)) if chr(cp).isupper()
)


def _compile_token_re(keys: Iterable[str]) -> re.Pattern[str]:
    lowercase = [key for key in keys if not key[:1].isupper() and _TOKEN.fullmatch(key)]
    known = rf"(?i:{_phrase_pattern(lowercase)})(?![^\W_])|" if lowercase else ""
    return re.compile(rf"(?<![^\W\d_])(?:{known}(?=[{_UPPER_CLASS}]){_TOKEN.pattern})")


def _alternation(keys: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W_])(?:{_phrase_pattern(keys)})(?![^\W_])", flags)


# One part of a document code: QĐ, TTg, LĐTBXH, TB&XH, QH13.
_CODE_PART = r"[A-ZĐ][A-ZĐa-zđ&]*\d{0,3}"


def _compile_doc_re(doc_types: Mapping[str, str]) -> re.Pattern[str]:
    """Document numbers: 90/QĐ-TTg, 06/2022/TT-BTTTT, 05-CT/TW, 98/KH - UBND, 130 KH-UBND, 80/2015/QH13."""
    types = "|".join(re.escape(k) for k in sorted(doc_types, key=len, reverse=True)) or r"(?!)"
    return re.compile(
        r"(?<![\w.,/])(?P<num>\d{1,5})(?P<suffix>[a-zđ])?(?:/(?P<year>(?:19|20)\d\d))?"
        rf"(?P<sep>\s*/\s*|-|\s+-\s+|\s+(?=(?:{types})\s*[-/]\s*[A-ZĐ]))"
        rf"(?P<code>(?P<type>{types})(?![^\W_]|&)(?:\s*[-/]\s*{_CODE_PART})*"
        rf"|{_CODE_PART}(?:\s*[-/]\s*{_CODE_PART})*)"
        r"(?![^\W_])"
    )


def _compile_doc_prefix(type_names: Iterable[str]) -> re.Pattern[str]:
    """The text before a document number already names it ("Quyết định số", "Kế hoạch", "số:")."""
    names = {*type_names, "số", "văn bản", "luật", "pháp lệnh"}
    return re.compile(rf"(?:^|[^\w])(?:{_phrase_pattern(names)})\s*:?\s*$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------------
# Characters and tone placement
# ---------------------------------------------------------------------------------------------------------

# Characters outside ASCII and the Latin blocks Vietnamese uses: each goes through `_exotic`.
_EXOTIC = re.compile(r"[^\t -~\u00c0-\u024f\u1e00-\u1eff]")
_CHAR_MAP = MappingProxyType(
    {
        "\u00a0": " ",
        "\u00ad": "",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "–",
        "\u2013": "–",
        "\u2014": "–",
        "\u2015": "–",
        "\u2212": "−",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2039": '"',
        "\u203a": '"',
        "\u2026": "...",
        "\u00b0": " độ ",
        "\u00ba": " độ ",
        "\u2103": " độ C",
        "\u00d7": " nhân ",
        "\u00f7": " chia ",
        "\u2022": "•",
        "\u00b7": ",",
        "\u2264": " nhỏ hơn hoặc bằng ",
        "\u2265": " lớn hơn hoặc bằng ",
        "\u2248": " xấp xỉ ",
        "\u20ac": " ơ rô ",
        "\u2116": " số ",
        "\u2044": "/",
        "\u2215": "/",
    }
)


_THREE_DIGITS_RE = re.compile(r"\d{3}(?!\d)")


def _exotic(match: re.Match[str]) -> str:
    """Map one unusual character to something the later passes understand (or drop it)."""
    ch = match.group()
    if ch in "\u00a0\u202f\u2009":
        # "1 500 000" with no-break or thin spaces: thousands groups, not three numbers.
        text, pos = match.string, match.start()
        if pos and text[pos - 1].isdigit() and _THREE_DIGITS_RE.match(text, pos + 1):
            return "."
    mapped = _CHAR_MAP.get(ch)
    if mapped is not None:
        return mapped
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category in ("No", "Nl") or "\uff01" <= ch <= "\uff5e":
        # Roman numeral signs (Ⅻ) and other numeric signs: their value; superscripts, circled and
        # fullwidth digits, fractions: their compatibility form (² -> 2, ½ -> 1/2).
        value = unicodedata.numeric(ch, -1.0)
        whole = str(int(value)) if value >= 0 and value.is_integer() else " "
        if category == "Nl":
            return whole
        compat = unicodedata.normalize("NFKC", ch).replace("\u2044", "/")
        if compat != ch and not any(c.isdigit() and not c.isascii() for c in compat):
            return compat
        return whole
    if category[0] in "ZC":
        # Spaces become spaces; invisible format characters (zero-width, BOM, bidi marks) vanish.
        return " " if category[0] == "Z" or category == "Cc" else ""
    if category[0] in "LM":
        return ch
    if category in ("Ps", "Pe"):
        return "("
    return " "


# New-style tone placement on open "oa/oe/uy" -> the old style (hòa, thủy) used everywhere in this project.
_NEW_TO_OLD = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
_TONE_TABLE = MappingProxyType(
    {
        variant_new: variant_old
        for new, old in _NEW_TO_OLD.items()
        for variant_new, variant_old in (
            (new, old),
            (new.upper(), old.upper()),
            (new[0].upper() + new[1], old[0].upper() + old[1]),
        )
    }
)
# Only where the syllable ends after the pair (hoà -> hòa) and not after "q" (quý keeps its tone on y).
_TONE_RE = re.compile(r"(?<![qQ])[oOuU][àáảãạèéẻẽẹỳýỷỹỵÀÁẢÃẠÈÉẺẼẸỲÝỶỸỴ](?![^\W\d_])")


def normalize_tones(text: str) -> str:
    """NFC plus one tone placement convention (old style: hòa, thủy)."""
    text = unicodedata.normalize("NFC", text)
    return _TONE_RE.sub(lambda m: _TONE_TABLE.get(m.group(), m.group()), text)


# ---------------------------------------------------------------------------------------------------------
# Vietnamese syllables and letter names
# ---------------------------------------------------------------------------------------------------------

_TONELESS = MappingProxyType(
    {
        ord(ch): base
        for base, toned in (
            ("a", "àáảãạ"),
            ("ă", "ằắẳẵặ"),
            ("â", "ầấẩẫậ"),
            ("e", "èéẻẽẹ"),
            ("ê", "ềếểễệ"),
            ("i", "ìíỉĩị"),
            ("o", "òóỏõọ"),
            ("ô", "ồốổỗộ"),
            ("ơ", "ờớởỡợ"),
            ("u", "ùúủũụ"),
            ("ư", "ừứửữự"),
            ("y", "ỳýỷỹỵ"),
        )
        for ch in toned
    }
)
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?[aăâeêioôơuưy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)


# "y" closes a syllable only after "u" (khuynh, huých) or as "yê" (tuyển): "TYT" is a code, not a word.
_BAD_Y = re.compile(r"(?<![uư])y(?:ng|nh|ch|[cmnpt])$")


def is_syllable(token: str) -> bool:
    """True when `token` can be one Vietnamese syllable (so "MỤC" is a word while "UBND" is a code)."""
    plain = token.lower().translate(_TONELESS)
    return _SYLLABLE.fullmatch(plain) is not None and not _BAD_Y.search(plain)


# How an announcer spells a letter of an unknown code.
_LETTER_NAMES = MappingProxyType(
    {
        "a": "a",
        "ă": "á",
        "â": "ớ",
        "b": "bê",
        "c": "xê",
        "d": "dê",
        "đ": "đê",
        "e": "e",
        "ê": "ê",
        "f": "ép",
        "g": "giê",
        "h": "hát",
        "i": "i",
        "j": "gi",
        "k": "ca",
        "l": "e lờ",
        "m": "em",
        "n": "en",
        "o": "o",
        "ô": "ô",
        "ơ": "ơ",
        "p": "pê",
        "q": "quy",
        "r": "e rờ",
        "s": "ét",
        "t": "tê",
        "u": "u",
        "ư": "ư",
        "v": "vê",
        "w": "vê kép",
        "x": "ích",
        "y": "i",
        "z": "dét",
    }
)


def spell_letters(token: str) -> str:
    return " ".join(_LETTER_NAMES.get(ch, ch) for ch in token.lower())


def _caps_like(token: str) -> bool:
    """A code written in capitals: UBND, TTg, VHTin (two leading capitals); not TikTok or Hà."""
    return len(token) >= 2 and (token.isupper() or (token[0].isupper() and token[1].isupper()))


# ---------------------------------------------------------------------------------------------------------
# Line structure: markup, bullets, heading numbers
# ---------------------------------------------------------------------------------------------------------

_MARKUP_RE = re.compile(r"^\s*(?:#{1,6}|>)\s*|[*`]+|_+")
# "KT.CHỦ TỊCH", "TP.HCM": a dot glued between words separates them.
_GLUED_DOT_RE = re.compile(r"\.(?<=[^\W\d_]\.)(?=[^\W\d_]{2})")
_VV_RE = re.compile(r"(?<![^\W_])v\.v(?:\.\.\.|\.)?(?![^\W_])", re.IGNORECASE)
_BULLET_RE = re.compile(r"^\s*(?:[-–•●▪◦‣+](?:\s+|(?=[^\W\d_])))+")
_ROMAN_HEAD_RE = re.compile(r"^\s*(?P<rn>[IVXL]+)\s*(?:[.):]|[-–](?=\s))\s*(?=\S|$)")
_NUM_HEAD_RE = re.compile(
    r"^\s*(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})(?:[.)](?=\s|$)|-(?=\s)|(?<=\d\.\d)(?=\s+[^\W\d_])|(?<=\.\d\d)(?=\s+[^\W\d_]))"
)
_LETTER_HEAD_RE = re.compile(r"^\s*[^\W\d_]\s*[).](?=\s)")


def _line_start(line: str) -> str:
    """Drop bullets and list letters; read heading numbers (I. -> một, 2.2. -> hai chấm hai)."""
    line = _BULLET_RE.sub("", line, count=1)
    match = _ROMAN_HEAD_RE.match(line)
    if match and match["rn"] != "L":
        value = roman_value(match["rn"])
        if value is not None:
            return cardinal(value) + ". " + line[match.end() :]
    match = _NUM_HEAD_RE.match(line)
    if match:
        spoken = " chấm ".join(integer_text(part) for part in match["num"].split("."))
        return spoken + ". " + line[match.end() :].lstrip()
    match = _LETTER_HEAD_RE.match(line)
    if match:
        return line[match.end() :]
    return line


# ---------------------------------------------------------------------------------------------------------
# Phone numbers, document numbers, Roman numerals
# ---------------------------------------------------------------------------------------------------------

_PHONE_RE = re.compile(
    r"(?<![\w.,/])(?:\+84|\(\+84\)|\(0\d{2,3}\)|0\d{2,4}|(?<![Nn]ăm )1[89]00)"
    r"(?:[ .\-]?\d{1,4}){1,5}(?![\w/]|[.,]\d)"
)
_PHONE_CONTEXT_RE = re.compile(
    r"(?<![^\W_])(?P<ctx>(?:số\s+)?(?:điện\s+thoại|hotline|đường\s+dây\s+nóng|tổng\s+đài|gọi\s+(?:đến\s+|tới\s+)?số"
    r"|sđt|đt|fax|zalo)"
    r"\s*:?\s*(?:số\s*)?)(?P<num>\d{3,}(?:[ .\-]\d{1,4})*)(?![\w/]|[.,]\d)",
    re.IGNORECASE,
)


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    count = sum(ch.isdigit() for ch in text)
    national = text.startswith(("0", "(0"))
    if (national and 9 <= count <= 11) or (not national and 8 <= count <= 12):
        return (" cộng " if text.startswith(("+", "(+")) else " ") + digits(text) + " "
    return text


def _phone_context(match: re.Match[str]) -> str:
    return match["ctx"] + digits(match["num"]) + " "


def _doc_number(match: re.Match[str], lexicon: Lexicon) -> str:
    """Read the number (and the year) of a document code; the code letters are never spelled."""
    typed = match["type"]
    has_issuer = bool(re.search(r"[-/]", match["code"]))
    if not typed and not match["year"]:
        return match.group()  # "5-HTX": a number then a code that is no document type
    if match["sep"] != "-" and "/" not in match["sep"] and not (typed and has_issuer):
        return match.group()  # "5 - Tổ", "130 KH": a spaced code needs an issuer to be a document number
    spoken = integer_text(match["num"])
    if match["suffix"]:
        spoken += " " + _LETTER_NAMES[match["suffix"]]  # Nghị quyết 30a/2008/NQ-CP
    if match["year"]:
        spoken += " năm " + cardinal(int(match["year"]))
    before = match.string[max(0, match.start() - 40) : match.start()]
    if typed and not lexicon.doc_prefix_re.search(before):
        spoken = lexicon.doc_types[typed] + " số " + spoken
    return spoken


_ROMAN_KEYWORDS = (
    "khóa",
    "khoá",
    "phần",
    "chương",
    "mục",
    "đại hội",
    "thứ",
    "kỳ",
    "kì",
    "quý",
    "tập",
    "thế kỷ",
    "thế kỉ",
    "khu vực",
    "vùng",
    "dự án",
    "loại",
    "hạng",
    "cấp",
    "nhóm",
    "giai đoạn",
    "đợt",
    "phụ lục",
    "bậc",
    "tiểu mục",
    "phiên",
    "báo động",
    "cấp độ",
    "mức",
    "điều",
    "biểu",
)
_ROMAN_CHAR_RE = re.compile(r"[IVXL]")
_ROMAN_KW_ALTERNATION = "|".join(sorted(_ROMAN_KEYWORDS, key=len, reverse=True)).replace(" ", r"\s+")
_ROMAN_KW_RE = re.compile(
    rf"(?<![^\W_])(?P<kw>{_ROMAN_KW_ALTERNATION})"
    r"(?P<sp>\s+)(?P<rn>(?-i:[IVXL]+))(?:/(?P<year>\d{4}))?(?![^\W_])",
    re.IGNORECASE,
)


def _roman_after_keyword(match: re.Match[str]) -> str:
    value = roman_value(match["rn"])
    if value is None or value > 89 or match["rn"] == "L":
        return match.group()
    spoken = ordinal(value) if match["kw"].lower() == "thứ" else cardinal(value)
    if match["year"]:
        spoken += " năm " + cardinal(int(match["year"]))
    return match["kw"] + match["sp"] + spoken


# ---------------------------------------------------------------------------------------------------------
# Abbreviations, respellings and unknown codes (one token pass)
# ---------------------------------------------------------------------------------------------------------

_NEXT_WORD_RE = re.compile(r"\s+([^\W\d_]+)")
# A number, or "số" (so "HĐ số 05" still counts once the document code has been read out).
_NEXT_NUMBER_RE = re.compile(r"\s*(?:số(?![^\W_])|[-−]?\d)", re.IGNORECASE)
_PREV_WORD_RE = re.compile(r"([^\W\d_]+)\s*$")


@dataclass
class _TokenPass:
    """State of one token pass over a line: the lexicon, and the unknown codes it met."""

    lexicon: Lexicon
    heading: bool
    unknown: list[str]

    def __call__(self, match: re.Match[str]) -> str:
        return self.resolve(match.string, match.start(), match.end())

    def resolve(self, text: str, start: int, end: int) -> str:
        token = text[start:end]
        lex = self.lexicon
        plain = token in lex.abbreviations or token in lex.ambiguous
        if plain and is_syllable(token) and self._among_caps_words(text, start, end):
            return token  # "AN TOÀN", "TU BỔ" in capitals: words, not the codes AN / TU
        if token in lex.abbreviations:
            return lex.abbreviations[token]
        if token in lex.ambiguous:
            return _disambiguate(lex.ambiguous[token], text, start, end)
        if len(token) > 1 and token in lex.doc_types:
            return lex.doc_types[token]  # "các NQ, QĐ của tỉnh"
        respelled = lex.words.get(token.lower())
        if respelled is not None:
            return respelled
        if "-" in token:
            return " ".join(self._parts(text, start, end, "-"))
        if "&" in token:
            return " và ".join(self._parts(text, start, end, "&"))
        if _caps_like(token):
            if is_syllable(token):
                return token
            self.unknown.append(token)
            return spell_letters(token)
        if len(token) == 1 and token.isupper() and token.lower() in "bcdđfghjklmnpqrstvwxz":
            return _LETTER_NAMES[token.lower()]  # "nhóm B", "độ C", "4G"
        return token

    def _parts(self, text: str, start: int, end: int, sep: str) -> list[str]:
        out: list[str] = []
        pos = start
        for piece in text[start:end].split(sep):
            out.append(self.resolve(text, pos, pos + len(piece)))
            pos += len(piece) + 1
        return out

    def _among_caps_words(self, text: str, start: int, end: int) -> bool:
        if self.heading:
            return True
        after = _NEXT_WORD_RE.match(text, end)
        before = _PREV_WORD_RE.search(text, max(0, start - 30), start)
        for word in (after.group(1) if after else "", before.group(1) if before else ""):
            if len(word) >= 2 and word.isupper() and is_syllable(word) and not self.lexicon.knows(word):
                return True
        return False


_PAREN_CODE_RE = re.compile(r"\s*\(\s*(?P<code>[^\W\d_]+(?:[&\-][^\W\d_]+)*)\s*\)")


def _drop_repeated_code(match: re.Match[str], lexicon: Lexicon) -> str:
    """ "Ban Chỉ đạo (BCĐ)": the code only repeats the words before it, so it is not read twice."""
    code = match["code"]
    expansion = lexicon.abbreviations.get(code)
    if expansion is None:
        ambiguous = lexicon.ambiguous.get(code)
        expansion = ambiguous.default if ambiguous else None
    if expansion is None:
        return match.group()
    before = _SPACES_RE.sub(" ", match.string[max(0, match.start() - len(expansion) - 20) : match.start()])
    return "" if before.lower().rstrip().endswith(_SPACES_RE.sub(" ", expansion).lower()) else match.group()


def _disambiguate(code: AmbiguousCode, text: str, start: int, end: int) -> str:
    for rule in code.rules:
        if rule.in_code and not _in_code(text, start, end):
            continue
        if rule.before_number and not _NEXT_NUMBER_RE.match(text, end):
            continue
        if rule.before_name or rule.before_acronym:
            nxt = _NEXT_WORD_RE.match(text, end)
            word = nxt.group(1) if nxt else ""
            if rule.before_name and not (word[:1].isupper() and not (len(word) > 1 and word.isupper())):
                continue
            if rule.before_acronym and not (len(word) >= 2 and word.isupper() and not is_syllable(word)):
                continue
        if rule.after and not rule.after.search(text, max(0, start - 60), start):
            continue
        if rule.before and not rule.before.match(text, end):
            continue
        return rule.say
    return code.default


def _in_code(text: str, start: int, end: int) -> bool:
    """Next to "/" or "-" that joins it to a number or another capital code (KH-UBND, 05-CT/TW)."""
    prev = text[:start].rstrip()
    if prev.endswith(("/", "-")) and prev[:-1].rstrip()[-1:].isalnum():
        return True
    rest = text[end:].lstrip()
    if rest[:1] in ("/", "-"):
        following = rest[1:].lstrip()[:1]
        return following.isdigit() or following.isupper()
    return False


# ---------------------------------------------------------------------------------------------------------
# Times, dates, ranges, fractions
# ---------------------------------------------------------------------------------------------------------

_TIME_RE = re.compile(
    r"(?<![\w.,:])(?P<h>[01]?\d|2[0-4])\s?(?:h|g|giờ)\s?(?P<m>[0-5]\d)(?:\s?(?:'|p|ph)(?![^\W_]))?(?![\w]|[.,:]\d)"
    r"|(?<![\w.,:])(?P<h2>[01]?\d|2[0-4])h(?![^\W_])"
    r"|(?<![\w.,:])(?P<h3>[01]?\d|2[0-4]):(?P<m3>[0-5]\d)(?![\d]|[.,:]\d)"
)


def _time(match: re.Match[str]) -> str:
    hour = match["h"] or match["h2"] or match["h3"]
    minute = match["m"] or match["m3"]
    spoken = integer_text(hour) + " giờ"
    if minute and int(minute):
        spoken += " " + integer_text(minute)
    return spoken


_DATE = r"(?P<d{n}>\d{{1,2}})(?P<s{n}>[/.\-])(?P<m{n}>\d{{1,2}})(?P=s{n})(?P<y{n}>\d{{4}})"
_FULL_DATE_RE = re.compile(
    r"(?<![\d.,/])" + _DATE.format(n=1) + r"(?:\s*[-–]\s*" + _DATE.format(n=2) + r")?(?![\d/]|[.,]\d)"
)
_DAY_RANGE_RE = re.compile(
    r"(?<![\d.,/])(?P<d1>\d{1,2})\s*[-–]\s*(?P<d2>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}))?(?![\d/]|[.,]\d)"
)
_MONTH_RANGE_RE = re.compile(
    r"(?<![\d.,/])(?P<m1>\d{1,2})\s*[-–]\s*(?P<m2>\d{1,2})/(?P<y>\d{4})(?![\d/]|[.,]\d)"
)
_MONTH_YEAR_RE = re.compile(r"(?<![\d.,/])(?P<m>\d{1,2})(?P<sep>[/\-])(?P<y>\d{4})(?![\d/]|[.,]\d)")
_YEAR_PAIR_RE = re.compile(r"(?<![\d.,/])(?P<y1>(?:19|20)\d\d)\s*/\s*(?P<y2>(?:19|20)\d\d)(?![\d/]|[.,]\d)")
_FRACTION_RE = re.compile(r"(?<![\d.,/])(?P<a>\d+(?:[.,]\d+)*)/(?P<b>\d+(?:[.,]\d+)*)(?![\d/])")
# A dash between two quantities is "đến": 03-05, 10-15%, 7h30 - 11h00, 5 km - 10 km, năm 2023 - năm 2024.
_RANGE_DASH_RE = re.compile(
    r"(?P<left>\d(?:h|%|\s?(?:km2|km|m2|m3|m|ha|kg|g|tấn|tạ|triệu|tỷ|nghìn|đồng|đ|người|hộ|giờ|phút))?)"
    r"\s*[-–]\s*(?=[-−]?\d|(?:ngày|tháng|năm|quý)\s+\d)"
)

_DAY_WORD_RE = re.compile(r"(?:^|[^\w])(?:ngày|mùng|mồng)\s*$", re.IGNORECASE)
_MONTH_WORD_RE = re.compile(r"(?:^|[^\w])tháng\s*$", re.IGNORECASE)
_PERIOD_WORD_RE = re.compile(r"(?:^|[^\w])(?:quý|kỳ|kì|đợt|học\s+kỳ|giai\s+đoạn)\s*$", re.IGNORECASE)
_DATE_CONTEXT_RE = re.compile(
    r"(?:^|[^\w])(?:ngày|mùng|mồng|hôm|sáng|trưa|chiều|tối|đêm|thứ\s+[^\W_]+|chủ\s+nhật|cn"
    r"|dịp|vào|trước|sau|lúc|hạn(?:\s+chót)?)\s*[,(]?\s*$",
    re.IGNORECASE,
)
# Words before a count: "đạt 3/5 tiêu chí" is a fraction even where a date could be.
_FRACTION_VERB_RE = re.compile(
    r"(?:^|[^\w])(?:có|đạt|được|còn|gồm|chiếm|với|trong|trên|khoảng|gần|hơn|là|bằng|tới|mới)\s*$",
    re.IGNORECASE,
)
_CLAUSE_END_RE = re.compile(r"\s*(?:[.,;:!?)]|$)")
_LINK_WORD_RE = re.compile(r"(?:^|[^\w])(?:đến|tới|và|hoặc|,)\s*$", re.IGNORECASE)


def _before(match: re.Match[str], size: int = 40) -> str:
    return match.string[max(0, match.start() - size) : match.start()]


def _valid_date(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _date_words(day: str, month: str, year: str | None, with_day_word: bool) -> str:
    spoken = ("ngày " if with_day_word else "") + integer_text(day) + " tháng " + month_name(int(month))
    if year:
        spoken += " năm " + integer_text(year)
    return spoken


def _full_date(match: re.Match[str]) -> str:
    first = (match["d1"], match["m1"], match["y1"])
    if not _valid_date(int(first[0]), int(first[1])):
        return match.group()
    spoken = _date_words(*first, with_day_word=not _DAY_WORD_RE.search(_before(match)))
    if match["d2"]:
        if not _valid_date(int(match["d2"]), int(match["m2"])):
            return match.group()
        spoken += " đến " + _date_words(match["d2"], match["m2"], match["y2"], True)
    return spoken


def _day_range(match: re.Match[str]) -> str:
    d1, d2, month = int(match["d1"]), int(match["d2"]), int(match["m"])
    has_day_word = bool(_DAY_WORD_RE.search(_before(match)))
    if not (_valid_date(d1, month) and 1 <= d2 <= 31 and d1 < d2 and (has_day_word or match["y"])):
        return match.group()
    spoken = ("" if has_day_word else "ngày ") + integer_text(match["d1"]) + " đến "
    return spoken + _date_words(match["d2"], match["m"], match["y"], False)


def _month_range(match: re.Match[str]) -> str:
    m1, m2 = int(match["m1"]), int(match["m2"])
    before = _before(match)
    if _PERIOD_WORD_RE.search(before):
        return f"{cardinal(m1)} đến {cardinal(m2)} năm {integer_text(match['y'])}"
    if not (1 <= m1 < m2 <= 12):
        return match.group()
    lead = "" if _MONTH_WORD_RE.search(before) else "tháng "
    return f"{lead}{month_name(m1)} đến tháng {month_name(m2)} năm {integer_text(match['y'])}"


def _month_year(match: re.Match[str], lexicon: Lexicon) -> str:
    month = int(match["m"])
    before = _before(match)
    year = integer_text(match["y"])
    if _PERIOD_WORD_RE.search(before) or (match["sep"] == "/" and lexicon.doc_prefix_re.search(before)):
        # "quý 4/2024", and "Thông tư 06/2022" (a document number whose code was left out)
        return f"{integer_text(match['m'])} năm {year}"
    if not 1 <= month <= 12 or (match["sep"] == "-" and not _MONTH_WORD_RE.search(before)):
        return match.group()
    lead = "" if _MONTH_WORD_RE.search(before) else "tháng "
    return f"{lead}{month_name(month)} năm {year}"


def _year_pair(match: re.Match[str]) -> str:
    return f"{integer_text(match['y1'])} đến {integer_text(match['y2'])}"


def _number_words(text: str) -> str:
    """A written number: 1.500.000, 95,5, 03, or dot-decimal 2.5 (read "chấm")."""
    if _GROUPED.fullmatch(text) or "." not in text:
        return decimal_text(text)
    whole, _, frac = text.partition(".")
    return integer_text(whole) + " chấm " + integer_text(frac)


def _fraction(match: re.Match[str]) -> str:
    """12/15 -> mười hai trên mười lăm; 10/11 after "ngày" (or another date word) -> a day and month."""
    a, b = match["a"], match["b"]
    idiom = a == "24" and b == "7"  # "24/7": round the clock
    if (
        a.isdigit()
        and b.isdigit()
        and len(a) <= 2
        and len(b) <= 2
        and _valid_date(int(a), int(b))
        and not idiom
    ):
        before = _before(match)
        if _DAY_WORD_RE.search(before):
            return _date_words(a, b, None, False)
        linked = _LINK_WORD_RE.search(before) and "ngày" in before.lower()
        if _DATE_CONTEXT_RE.search(before) or linked:
            return _date_words(a, b, None, True)
        # Without a date word: a day after its month (27/7) or a pair that ends the clause
        # ("Quốc khánh 2/9.") is a date, unless a counting verb comes before it ("đạt 3/5.").
        looks_like_date = int(a) > int(b) or _CLAUSE_END_RE.match(match.string, match.end())
        if looks_like_date and not _FRACTION_VERB_RE.search(before):
            return _date_words(a, b, None, True)
    return _number_words(a) + " trên " + _number_words(b)


# ---------------------------------------------------------------------------------------------------------
# Rates ("/"), numbers with units, and symbols
# ---------------------------------------------------------------------------------------------------------

_UNITS = MappingProxyType(
    {
        "km2": "ki lô mét vuông",
        "km": "ki lô mét",
        "m2": "mét vuông",
        "m3": "mét khối",
        "m": "mét",
        "cm": "xen ti mét",
        "mm": "mi li mét",
        "ha": "héc ta",
        "kg": "ki lô gam",
        "g": "gam",
        "mg": "mi li gam",
        "ml": "mi li lít",
        "kWh": "ki lô oát giờ",
        "kW": "ki lô oát",
        "%": "phần trăm",
        "đ": "đồng",
        "h": "giờ",
    }
)
# Units read only right after a number ("h" is a time, handled before).
_NUMBER_UNITS = tuple(sorted((u for u in _UNITS if u != "h"), key=len, reverse=True))
_NUMBER_RE = re.compile(
    r"(?P<neg>(?<![^\s(\[:;=])[-−])?(?<![\d.,])"
    r"(?P<num>\d{1,3}(?:\.\d{3})+(?:,\d+)?(?!\d)|\d+\.\d+|\d+(?:,\d+)?)"
    rf"(?:\s?(?P<unit>{'|'.join(re.escape(u) for u in _NUMBER_UNITS)})(?![^\W_]))?"
)
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_ORDINAL_CONTEXT_RE = re.compile(r"(?:^|[^\w])thứ\s*$", re.IGNORECASE)

# Words that make "X/Y" a rate ("đồng/hộ" -> "đồng mỗi hộ") even without a number nearby.
_RATE_LEFT = frozenset(
    ("đồng", "đ", "%", "usd", "tấn", "tạ", "yến", "kg", "g", "ha", "km", "m", "m2", "m3", "lít", "kw", "kwh",
     "người", "lượt", "buổi", "lần", "giờ", "phút", "ngày", "tháng", "năm", "suất", "trình", "tin", "bài",
     "hộ", "con", "cây", "cái", "chiếc", "lớp", "viên", "khẩu")
)  # fmt: skip
_SLASH_RE = re.compile(r"(?P<left>[^\W_]+|%)(?P<rest>(?:\s*/\s*[^\W\d_]+\d?)+)")
_SLASH_PART_RE = re.compile(r"\s*/\s*([^\W\d_]+\d?)")
_CLAUSE_START_RE = re.compile(r"[,;:(]")


def _slash(match: re.Match[str]) -> str:
    left = match["left"]
    if left.isdigit():
        return match.group()
    clause = _before(match, 40)
    cut = max((m.end() for m in _CLAUSE_START_RE.finditer(clause)), default=0)
    rate = left.lower() in _RATE_LEFT or any(ch.isdigit() for ch in clause[cut:])
    spoken = [_UNITS["đ"] if left == "đ" else left]
    for part in _SLASH_PART_RE.findall(match["rest"]):
        if spoken[-1].lower() == "và" and part.lower() == "hoặc":
            spoken.append(part)  # "và/hoặc" -> "và hoặc"
        elif part.lower().startswith("tổng"):
            spoken += ["trên", part]
        elif rate:
            spoken += ["mỗi", _UNITS.get(part, part)]
        else:
            spoken[-1] += ","
            spoken.append(part)
    return " ".join(spoken)


_SCALE_DONG_RE = re.compile(r"(?<![^\W_])(triệu|tỷ|tỉ|nghìn|ngàn|trăm)\s*đ(?![^\W_])", re.IGNORECASE)
_OC_RE = re.compile(r"(?<=\d)\s?oC(?![^\W_])")


def _number(match: re.Match[str]) -> str:
    num = match["num"]
    before = _before(match, 12)
    if num.isdigit() and _ORDINAL_CONTEXT_RE.search(before):
        spoken = ordinal(int(num))
    elif num.isdigit() and _MONTH_WORD_RE.search(before) and 1 <= int(num) <= 12:
        spoken = month_name(int(num))
    elif num.isdigit() and num.startswith("0") and len(num) >= 4:
        spoken = digits(num)  # a code with leading zeros, not a quantity
    else:
        spoken = _number_words(num)
    if match["neg"]:
        spoken = "âm " + spoken
    if match["unit"]:
        spoken += " " + _UNITS[match["unit"]]
    return " " + spoken + " "


_SYMBOLS = MappingProxyType(
    {
        "&": " và ",
        "+": " cộng ",
        "=": " bằng ",
        "%": " phần trăm ",
        "@": " a còng ",
        "~": " khoảng ",
        ">": " lớn hơn ",
        "<": " nhỏ hơn ",
        "$": " đô la ",
        "/": ", ",
        "|": ", ",
        "\\": " ",
        "(": ", ",
        ")": ", ",
        "[": ", ",
        "]": ", ",
        "{": ", ",
        "}": ", ",
        "–": ", ",
        "−": " âm ",
        "•": ", ",
        "...": ", ",
        " - ": ", ",
    }
)
_SYMBOL_RE = re.compile(r"\.\.\.+|\s-\s|[&+=%@~<>$/|\\()\[\]{}–−•]")
_LEFTOVER_RE = re.compile(r"[^\w\s.,;:!?]|_")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+(?=[.,;:!?])")
_PUNCT_RUN_RE = re.compile(r"[.,;:!?](?:\s*[.,;:!?])+")
_SPACE_AFTER_PUNCT_RE = re.compile(r"([.,;:!?])(?=[^\s.,;:!?])")
_SPACES_RE = re.compile(r"\s+")
_ANY_DIGITS_RE = re.compile(r"\d+")


def _punct_run(match: re.Match[str]) -> str:
    """Several marks in a row (from removed brackets, "./.") keep the strongest pause."""
    run = match.group()
    for mark in ".?!;:":
        if mark in run:
            return mark
    return ","


def _tidy(text: str) -> str:
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS.get(m.group(), ", "), text).replace("-", " ")
    text = _LEFTOVER_RE.sub(" ", text)
    if _DIGIT_RE.search(text):
        # Safety net: nothing numeric may reach the voice, whatever slipped through the passes above.
        text = _ANY_DIGITS_RE.sub(lambda m: " " + digits(m.group()) + " ", text)
    text = _SPACE_BEFORE_PUNCT_RE.sub("", text)
    text = _PUNCT_RUN_RE.sub(_punct_run, text)
    text = _SPACE_AFTER_PUNCT_RE.sub(r"\1 ", text)
    return " ".join(text.split()).lstrip(".,;:!? ").rstrip(", ")


# ---------------------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------------------


_DIGIT_RE = re.compile(r"\d")
_MARKUP_CHARS_RE = re.compile(r"[#>*`_]")


def _read_line(line: str, lexicon: Lexicon, unknown: list[str]) -> str:
    # Each pass is skipped when the line lacks the character it needs: most lines have no slash,
    # many no digit, and the stage must read thousands of sentences a second.
    line = normalize_tones(_EXOTIC.sub(_exotic, line))
    heading = line.isupper()
    if "v.v" in line or "V.V" in line:
        line = _VV_RE.sub(" vân vân ", line)
    if _MARKUP_CHARS_RE.search(line):
        line = _MARKUP_RE.sub(lambda m: " " if m.group().startswith("_") else "", line)
    line = _line_start(_GLUED_DOT_RE.sub(" ", line))
    if lexicon.phrase_re is not None:
        line = lexicon.phrase_re.sub(lambda m: _phrase(m, lexicon), line)
    has_digits = _DIGIT_RE.search(line) is not None
    if has_digits:
        line = _PHONE_RE.sub(_phone, line)
        line = _PHONE_CONTEXT_RE.sub(_phone_context, line)
        line = lexicon.doc_re.sub(lambda m: _doc_number(m, lexicon), line)
        line = _OC_RE.sub(" độ C", line)
    if _ROMAN_CHAR_RE.search(line):
        line = _ROMAN_KW_RE.sub(_roman_after_keyword, line)
    if "(" in line:
        line = _PAREN_CODE_RE.sub(lambda m: _drop_repeated_code(m, lexicon), line)
    line = lexicon.token_re.sub(_TokenPass(lexicon, heading, unknown), line)
    if has_digits:
        line = _DAY_RANGE_RE.sub(_day_range, line)
        line = _FULL_DATE_RE.sub(_full_date, line)
        line = _MONTH_RANGE_RE.sub(_month_range, line)
        line = _YEAR_PAIR_RE.sub(_year_pair, line)
        line = _MONTH_YEAR_RE.sub(lambda m: _month_year(m, lexicon), line)
        line = _RANGE_DASH_RE.sub(r"\g<left> đến ", line)
        line = _TIME_RE.sub(_time, line)
        line = _FRACTION_RE.sub(_fraction, line)
    if "/" in line:
        line = _SLASH_RE.sub(_slash, line)
    if has_digits:
        line = _SCALE_DONG_RE.sub(r"\1 đồng", line)
        line = _NUMBER_RE.sub(_number, line)
    elif " đ" in line:
        line = _SCALE_DONG_RE.sub(r"\1 đồng", line)
    return _tidy(line)


def _phrase(match: re.Match[str], lexicon: Lexicon) -> str:
    text = match.group()
    exact = lexicon.abbreviations.get(text)
    if exact is not None:
        return exact
    return lexicon.words.get(_SPACES_RE.sub(" ", text).lower(), text)


def _read(text: str, lexicon: Lexicon) -> tuple[str, list[str]]:
    unknown: list[str] = []
    text = unicodedata.normalize("NFC", text)
    pieces = [_read_line(line, lexicon, unknown) for line in text.splitlines()]
    spoken = " ".join(piece for piece in pieces if piece)
    return unicodedata.normalize("NFC", spoken.lower()), unknown


def read_aloud(text: str, lexicon: Lexicon) -> Reading:
    """One line or paragraph of written text -> one line of spoken words (lowercase, with punctuation)."""
    spoken, unknown = _read(text, lexicon)
    warnings = tuple(f"unknown abbreviation {token!r}" for token in dict.fromkeys(unknown))
    return Reading(spoken=spoken, warnings=warnings)


def unknown_caps_tokens(text: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Codes in capitals that the lexicon does not know (they would be spelled letter by letter)."""
    return tuple(dict.fromkeys(_read(text, lexicon)[1]))


__all__ = [
    "BASE_LEXICON",
    "Lexicon",
    "LexiconError",
    "Reading",
    "is_syllable",
    "load_lexicon",
    "normalize_tones",
    "read_aloud",
    "unknown_caps_tokens",
]
