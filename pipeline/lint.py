"""`radio lint`: every problem in the scripts, as `file:line: level: message`, without rendering.

Checks (docs/script-format.md, "Checks"): the front matter and the project references (template,
presenters, station targets); impossible dates in the text; unknown capitalised codes; paragraphs typed
without Vietnamese tone marks; legacy TCVN3/VNI text; and the estimated program duration with the
template's jingles and gaps against its kind's bounds. Only the jingles are probed (ffprobe): lint never
synthesises speech.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pipeline.config import Settings
from pipeline.errors import PipelineError, ScriptError, ScriptErrors
from pipeline.models import Paragraph, Script
from pipeline.reading import Lexicon, is_syllable, read_aloud, unknown_caps_tokens
from pipeline.scripts import Source, check_against_project, read_script
from pipeline.templates import Template, available_templates, load_template


@dataclass(frozen=True)
class LintMessage:
    path: Path
    line: int
    level: str  # error | warning
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass(frozen=True)
class LintContext:
    """What lint needs from the project (built once per run by the CLI)."""

    lexicon: Lexicon
    lexicon_file: Path  # where editors add words: radio.toml [paths] lexicon
    templates_dir: Path
    presenters: tuple[str, ...]
    targets: frozenset[str] | None
    rate_wpm: int
    max_tempo_change: float = 0.0


def _from_error(error: PipelineError) -> list[LintMessage]:
    if isinstance(error, ScriptErrors):
        return [m for e in error.errors for m in _from_error(e)]
    field_name = f"field '{error.field}': " if error.field else ""
    return [LintMessage(error.path or Path("?"), error.line or 1, "error", f"{field_name}{error.message}")]


# ---------------------------------------------------------------------------------------------------------
# Impossible dates
# ---------------------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W\d_]+")
_FULL_DATE_RE = re.compile(r"(?<![\d.,/\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?![\d/]|[.,\-]\d)")
_DAY_RANGE_RE = re.compile(
    r"(?<![\d.,/\-])(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\d/]|[.,]\d)"
)
_SHORT_DATE_RE = re.compile(r"(?<![\d.,/\-])(\d{1,2})/(\d{1,2})(?![\d/]|[.,]\d)")
_WORDS_DATE_RE = re.compile(
    r"(?<![^\W_])ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?(?![\d])", re.IGNORECASE
)
_MONTH_YEAR_RE = re.compile(r"(?<![^\W_])tháng\s+(\d{1,2})[/\-](\d{4})(?![\d/])", re.IGNORECASE)
_DAY_WORD_BEFORE_RE = re.compile(r"(?<![^\W_])(?:ngày|mùng|mồng|hôm)\s*$", re.IGNORECASE)


def date_problem(day: int, month: int, year: int | None) -> str | None:
    """Why day/month(/year) is no date, or None. Without a year, 29 February is allowed."""
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    if day < 1:
        return f"there is no day {day}"
    last = calendar.monthrange(year if year is not None else 2024, month)[1]  # 2024: 29 February is fine
    if day > last:
        return (
            f"month {month} of {year} has {last} days" if year else f"month {month} has at most {last} days"
        )
    return None


def impossible_dates(text: str) -> list[tuple[str, str]]:
    """(written date, why it is impossible) for every date in `text` that no calendar has."""
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], problem: str | None) -> None:
        taken.append(match.span())
        if problem:
            found.append((match.start(), match.group(), problem))

    def free(match: re.Match[str]) -> bool:
        return not any(start < match.end() and match.start() < end for start, end in taken)

    for match in _WORDS_DATE_RE.finditer(text):
        year = int(match.group(3)) if match.group(3) else None
        add(match, date_problem(int(match.group(1)), int(match.group(2)), year))
    for match in _FULL_DATE_RE.finditer(text):
        if free(match):
            add(match, date_problem(int(match.group(1)), int(match.group(3)), int(match.group(4))))
    for match in _DAY_RANGE_RE.finditer(text):
        if free(match):
            month, year = int(match.group(3)), int(match.group(4)) if match.group(4) else None
            problem = date_problem(int(match.group(1)), month, year)
            add(match, problem or date_problem(int(match.group(2)), month, year))
    for match in _MONTH_YEAR_RE.finditer(text):
        if free(match):
            month = int(match.group(1))
            add(match, None if 1 <= month <= 12 else f"there is no month {month}")
    for match in _SHORT_DATE_RE.finditer(text):
        if not free(match):
            continue
        day, month = int(match.group(1)), int(match.group(2))
        # Without a year "d/m" may be a fraction (12/15): check it only where it must be a date, after
        # "ngày", or where the month is real and the day is past its end (30/2, 31/4).
        after_day_word = _DAY_WORD_BEFORE_RE.search(text[max(0, match.start() - 12) : match.start()])
        if after_day_word or (1 <= month <= 12 and 1 <= day <= 31):
            add(match, date_problem(day, month, None))
    return [(written, why) for _, written, why in sorted(found)]


# ---------------------------------------------------------------------------------------------------------
# Legacy encodings: TCVN3 (ABC) and VNI text that reached us as Latin-1/cp1252 characters
# ---------------------------------------------------------------------------------------------------------

# TCVN3 (TCVN 5712:1993, "ABC", fonts .VnTime...) puts each precomposed lowercase letter in one byte
# (capitals come from separate .VnTimeH fonts). Read as Latin-1/cp1252, "Hà Nội" becomes "Hµ Néi",
# "được" "®­îc" (with an invisible soft hyphen for "ư").
_TCVN3_BYTES = "µ¸¶·¹¨»¾¼½Æ©ÇÊÈÉË®ÌÐÎÏÑªÒÕÓÔÖ×ÝØÜÞßãáâä«åèæçé¬êíëìîïóñòô\xadõøö÷ùúýûüþ¡¢§£¤¥¦"
_TCVN3_LETTERS = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĂÂĐÊÔƠƯ"
TCVN3_DECODE = MappingProxyType(dict(zip(_TCVN3_BYTES, _TCVN3_LETTERS, strict=True)))
_TCVN3_TABLE = str.maketrans(dict(TCVN3_DECODE))

# VNI (VNI-Windows fonts) writes a base letter followed by a byte for its marks: "Việt" is "Vieät",
# "đồng" "ñoàng"; ơ, ư, đ and the marked i's are single bytes.
_SAC, _HUYEN, _HOI, _NGA, _NANG = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_VNI_TONES = {"ù": _SAC, "ø": _HUYEN, "û": _HOI, "õ": _NGA, "ï": _NANG}
_VNI_CIRCUMFLEX = {"â": "", "á": _SAC, "à": _HUYEN, "å": _HOI, "ã": _NGA, "ä": _NANG}
_VNI_BREVE = {"ê": "", "é": _SAC, "è": _HUYEN, "ú": _HOI, "ü": _NGA, "ë": _NANG}
_VNI_SINGLE = {"í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ", "ñ": "đ", "ô": "ơ", "ö": "ư"}


def _vni_table() -> dict[str, str]:
    lower: dict[str, str] = {}
    for base in "aeouy":
        lower |= {base + mod: base + tone for mod, tone in _VNI_TONES.items()}
    for base in "aeo":
        lower |= {base + mod: base + "\u0302" + tone for mod, tone in _VNI_CIRCUMFLEX.items()}
    lower |= {"a" + mod: "a\u0306" + tone for mod, tone in _VNI_BREVE.items()}
    for horned, base in (("ô", "o"), ("ö", "u")):
        lower |= {horned + mod: base + "\u031b" + tone for mod, tone in _VNI_TONES.items()}
    table: dict[str, str] = {}
    for key, value in (*lower.items(), *_VNI_SINGLE.items()):
        table[key] = value
        table[key.upper()] = value.upper()
        table[key[0].upper() + key[1:]] = value.upper()  # "AÙnh" or "Aùnh": a capital with its marks
    return {key: unicodedata.normalize("NFC", value) for key, value in table.items()}


VNI_DECODE = MappingProxyType(_vni_table())
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(VNI_DECODE, key=len, reverse=True)))
_LEGACY_CHARS = "".join(sorted(set(_TCVN3_BYTES) | {ch for key in VNI_DECODE for ch in key}))
_LEGACY_WORD_RE = re.compile(rf"(?:[^\W\d_]|[{re.escape(_LEGACY_CHARS)}])+")
LEGACY_MIN_WORDS = 2  # a line needs this many converted words...
LEGACY_MIN_SHARE = 0.3  # ...making up this share of its words with non-ASCII letters


def decode_tcvn3(text: str) -> str:
    return text.translate(_TCVN3_TABLE)


def decode_vni(text: str) -> str:
    return _VNI_RE.sub(lambda m: VNI_DECODE[m.group()], text)


_TONE_MARKS = frozenset((_SAC, _HUYEN, _HOI, _NGA, _NANG))
# The vowel groups of Vietnamese spelling (tone marks aside): a converted word must use one of them.
_NUCLEI = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu",
           "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê",
           "ui", "uô", "uơ", "uy", "ưa", "ưi", "ưu", "ươ", "yê", "iêu", "oai", "oao", "oay", "oeo", "uây",
           "uôi", "uya", "uyê", "uyu", "ươi", "ươu", "yêu")  # fmt: skip
_STRICT_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    rf"(?:{'|'.join(sorted(_NUCLEI, key=len, reverse=True))})"
    r"(?P<final>ng|nh|ch|[cmnpt])?"
)


def _vietnamese_word(word: str, *, strict: bool = False) -> bool:
    """One Vietnamese syllable in lower case, Capitalised or in CAPITALS, with at most one tone mark.
    `strict`: also a real vowel group, and a sắc or nặng mark on a syllable ending in p, t, c or ch."""
    normal_case = word in (word.lower(), word.upper()) or word == word[0] + word[1:].lower()
    marks = [ch for ch in unicodedata.normalize("NFD", word.lower()) if ch in _TONE_MARKS]
    if not (normal_case and len(marks) <= 1 and is_syllable(word)):
        return False
    if not strict:
        return True
    bare = unicodedata.normalize("NFC", "".join(ch for ch in unicodedata.normalize("NFD", word.lower())
                                                if ch not in _TONE_MARKS))  # fmt: skip
    match = _STRICT_SYLLABLE_RE.fullmatch(bare)
    if match is None:
        return False
    return match.group("final") not in ("p", "t", "c", "ch") or marks in ([_SAC], [_NANG])


@dataclass(frozen=True)
class LegacyText:
    encoding: str  # "TCVN3 (ABC)" | "VNI"
    sample: str  # a word as written
    converted: str  # and as it was meant


def legacy_encoding(line: str) -> LegacyText | None:
    """Legacy Vietnamese text shown as Latin-1 letters. A word counts only when it is not Vietnamese as
    written and becomes a Vietnamese syllable once converted, so Unicode text never matches."""
    # a lone symbol ("·" between items) is no word, though TCVN3 would make it a letter
    words = [w for w in _LEGACY_WORD_RE.findall(line) if not w.isascii() and _WORD_RE.search(w)]
    best: LegacyText | None = None
    best_hits = 0
    for name, decode in (("TCVN3 (ABC)", decode_tcvn3), ("VNI", decode_vni)):
        hits = []
        for word in words:
            if _vietnamese_word(word):
                continue
            converted = decode(word).replace("\xad", "")
            if converted != word and _vietnamese_word(converted, strict=True):
                hits.append((word, converted))
        if (
            len(hits) >= LEGACY_MIN_WORDS
            and len(hits) >= LEGACY_MIN_SHARE * len(words)
            and len(hits) > best_hits
        ):
            best, best_hits = LegacyText(name, hits[0][0].replace("\xad", ""), hits[0][1]), len(hits)
    return best


# ---------------------------------------------------------------------------------------------------------
# Text typed without tone marks
# ---------------------------------------------------------------------------------------------------------

# A syllable ending in p, t, c or ch always carries a sắc or nặng mark: "duoc" or "viet" cannot be Vietnamese.
_STOP_FINAL_RE = re.compile(r"(?:[pt]|ch|c)$")
UNMARKED_MIN_WORDS = 6  # shorter paragraphs are judged by unmarked stop-final words only
UNMARKED_MAX_SHARE = 0.1  # a paragraph with marks on at most this share of its words lacks them
UNMARKED_MIN_SYLLABLES = 0.6  # ...when most of its words are Vietnamese syllables
UNMARKED_STOP_WORDS = 2  # or when it has this many "impossible" unmarked words


def missing_marks(text: str) -> tuple[str, ...]:
    """Words showing that `text` (Vietnamese) was typed without tone marks; empty when it looks fine."""
    words = [w for w in _WORD_RE.findall(text) if not (len(w) > 1 and w.isupper())]  # codes are not words
    plain = [w for w in words if w.isascii()]
    syllables = [w for w in plain if is_syllable(w)]
    impossible = [w for w in syllables if _STOP_FINAL_RE.search(w.lower())]
    if len(dict.fromkeys(w.lower() for w in impossible)) >= UNMARKED_STOP_WORDS:
        return tuple(dict.fromkeys(impossible))
    marked = len(words) - len(plain)
    if (
        len(words) >= UNMARKED_MIN_WORDS
        and marked <= UNMARKED_MAX_SHARE * len(words)
        and len(syllables) >= UNMARKED_MIN_SYLLABLES * len(words)
    ):
        return tuple(dict.fromkeys(syllables))
    return ()


# ---------------------------------------------------------------------------------------------------------
# Duration estimate
# ---------------------------------------------------------------------------------------------------------


_CLAUSE_RE = re.compile(r"[,;:]")
_SENTENCE_RE = re.compile(r"[.!?]+")


@dataclass(frozen=True)
class RateModel:
    """Seconds of espeak-ng speech for one paragraph of spoken text at `rate_wpm` (espeak's -s):
    (syllable·syllables + clause·[,;:] + sentence·[.!?] + paragraph) / rate_wpm."""

    syllable: float
    clause: float
    sentence: float
    paragraph: float

    def seconds(self, spoken: str, rate_wpm: int) -> float:
        syllables = len(_WORD_RE.findall(spoken))
        if not syllables:
            return 0.0
        clauses = len(_CLAUSE_RE.findall(spoken))
        sentences = len(_SENTENCE_RE.findall(spoken))
        units = self.syllable * syllables + self.clause * clauses + self.sentence * sentences + self.paragraph
        return units / rate_wpm


# Measured with espeak-ng 1.51 (voices vi and vi+f3): 36 paragraphs of 1-6 sentences made from
# tests/data/reading_*.tsv, read by the reader and rendered at 120, 145 and 175 wpm (216 renders, least
# squares on duration x rate; mean error 2.3 % per paragraph). Checked on the 80 paragraphs of the sample
# scripts (not used for the fit): the speech of each program within 2.5 % at every rate. At 145 wpm this
# is about 4 syllables per second between pauses, 3.6 overall.
SPEECH_RATE = RateModel(syllable=36.6, clause=52.1, sentence=6.2, paragraph=69.5)


@dataclass(frozen=True)
class TemplateTiming:
    template: Template
    intro_s: float
    outro_s: float
    ident_s: float | None


def template_timing(templates_dir: Path, name: str) -> TemplateTiming:
    from pipeline import ffmpeg

    template = load_template(templates_dir, name)
    return TemplateTiming(
        template,
        ffmpeg.duration_of(template.intro),
        ffmpeg.duration_of(template.outro),
        ffmpeg.duration_of(template.ident) if template.ident else None,
    )


@dataclass(frozen=True)
class DurationEstimate:
    total_s: float
    speech_s: float
    words: int  # written words read aloud


def estimate_duration(
    script: Script, lexicon: Lexicon, timing: TemplateTiming, rate_wpm: int
) -> DurationEstimate:
    """The program's length as `radio build` would lay it out at natural speed: the template's intro
    (overlapped), paragraphs with their gaps and idents, recorded inserts, the outro."""
    from pipeline import ffmpeg
    from pipeline.assemble import Piece, plan_timeline

    pieces: list[Piece] = []
    words = 0
    for index, section in enumerate(script.sections):
        for paragraph in section.paragraphs:
            if paragraph.insert is not None:
                audio = script.path.parent / paragraph.insert
                pieces.append(Piece(audio, ffmpeg.duration_of(audio), index, is_insert=True))
                continue
            spoken = read_aloud(paragraph.text, lexicon).spoken
            if not spoken.strip(" .,;:!?"):
                continue
            words += len(_WORD_RE.findall(paragraph.text))
            pieces.append(Piece(Path(), SPEECH_RATE.seconds(spoken, rate_wpm), index))
    timeline = plan_timeline(timing.template, timing.intro_s, timing.outro_s, pieces, ident_s=timing.ident_s)
    speech = sum(p.duration_s for p in pieces if not p.is_insert)
    return DurationEstimate(timeline.total_s, speech, words)


def duration_advice(
    kind: str, estimate: DurationEstimate, rate_wpm: int, max_tempo_change: float
) -> str | None:
    """None when the estimate is inside the kind's bounds; otherwise how much to cut or add."""
    from pipeline.render import DURATION_BOUNDS_S, FIT_MARGIN_S, WORDS_PER_SECOND_HINT

    low, high = DURATION_BOUNDS_S[kind]
    total = estimate.total_s
    if low <= total <= high:
        return None
    speech = estimate.speech_s
    words_per_s = estimate.words / speech if speech > 0 else WORDS_PER_SECOND_HINT
    if total > high:
        gap, verb, bound = total - high, "cut", f"over the {high:.0f} s maximum"
    else:
        gap, verb, bound = low - total, "add", f"under the {low:.0f} s minimum"
    fixed = total - speech
    wanted = min(max(total, low + FIT_MARGIN_S), high - FIT_MARGIN_S)
    tempo = speech / (wanted - fixed) if wanted > fixed and speech > 0 else 0.0
    if tempo > 0 and abs(tempo - 1) <= max_tempo_change:
        outcome = f"radio build would change the speech tempo by {tempo - 1:+.0%} to fit"
    else:
        outcome = "radio build would fail"
    return (
        f"estimated duration {total:.0f} s (speech {speech:.0f} s at {rate_wpm} wpm, with the template's "
        f"jingles and gaps) is {gap:.0f} s {bound} for a {kind}: {verb} roughly "
        f"{max(1, round(gap * words_per_s))} words ({outcome})"
    )


# ---------------------------------------------------------------------------------------------------------
# One script
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    paragraph: Paragraph
    lines: tuple[tuple[int, str], ...]  # the source units the paragraph was written on


def paragraph_spans(script: Script, source: Source) -> list[_Span]:
    """Each spoken paragraph with its source lines: from its first line to the next blank line, heading
    or paragraph."""
    starts = sorted(
        {s.line for s in script.sections} | {p.line for s in script.sections for p in s.paragraphs}
    )
    spans = []
    for section in script.sections:
        for paragraph in section.paragraphs:
            if paragraph.insert is not None:
                continue
            following = [n for n in starts if n > paragraph.line]
            end = min(following[0] if following else len(source.units) + 1, len(source.units) + 1)
            lines = []
            for number in range(paragraph.line, end):
                text = source.units[number - 1]
                if not text.strip():
                    break
                lines.append((number, text))
            spans.append(_Span(paragraph, tuple(lines) or ((paragraph.line, paragraph.text),)))
    return spans


def _legacy_messages(path: Path, source: Source) -> tuple[list[LintMessage], set[int]]:
    """One error per run of legacy-encoded lines (blank lines do not end a run)."""
    messages: list[LintMessage] = []
    flagged: set[int] = set()
    run: list[int] = []
    first: LegacyText | None = None

    def close() -> None:
        if first is None or not run:
            return
        more = f" (and {len(run) - 1} more {source.unit}s after it)" if len(run) > 1 else ""
        messages.append(
            LintMessage(
                path,
                run[0],
                "error",
                f"text in the legacy {first.encoding} encoding{more}: {first.sample!r} should read "
                f"{first.converted!r}; convert the file to Unicode (e.g. UniKey's converter, "
                f"source {first.encoding.split()[0]}, destination Unicode)",
            )
        )

    for number, text in enumerate(source.units, start=1):
        if not text.strip():
            continue
        found = legacy_encoding(text)
        if found is None or (first is not None and found.encoding != first.encoding):
            close()
            run, first = [], None
        if found is not None:
            first = first or found
            run.append(number)
            flagged.add(number)
    close()
    return messages, flagged


def _line_of(token: str, lines: Sequence[tuple[int, str]]) -> int:
    pattern = re.compile(rf"(?<![^\W_]){re.escape(token)}(?![^\W_])")
    return next((number for number, text in lines if pattern.search(text)), lines[0][0])


def _paragraph_messages(
    path: Path, span: _Span, context: LintContext, lexicon_hint: str
) -> list[LintMessage]:
    messages = []
    for number, text in span.lines:
        for written, why in impossible_dates(text):
            messages.append(LintMessage(path, number, "error", f"impossible date {written!r}: {why}"))
    unknown: dict[int, list[str]] = {}
    for token in unknown_caps_tokens(span.paragraph.text, context.lexicon):
        unknown.setdefault(_line_of(token, span.lines), []).append(token)
    for number, tokens in sorted(unknown.items()):
        listed = ", ".join(repr(t) for t in tokens)
        plural = "s" if len(tokens) > 1 else ""
        messages.append(
            LintMessage(
                path,
                number,
                "warning",
                f"unknown abbreviation{plural} {listed} would be spelled letter by letter: "
                f"add {'them' if plural else 'it'} to {lexicon_hint}",
            )
        )
    words = missing_marks(span.paragraph.text)
    if words:
        shown = ", ".join(repr(w) for w in words[:4])
        messages.append(
            LintMessage(
                path,
                span.paragraph.line,
                "warning",
                f"text without Vietnamese tone marks ({shown}): retype it with its marks "
                "(keyboard or OCR damage?); the voice cannot guess them",
            )
        )
    return messages


def lint_parsed(
    script: Script,
    source: Source,
    context: LintContext,
    templates: Collection[str],
    timing: TemplateTiming | PipelineError | None,
) -> list[LintMessage]:
    """Every check on a script that parsed; `timing` is its template, loaded (None when unknown)."""
    path = script.path
    messages: list[LintMessage] = []
    problems: list[ScriptError] = check_against_project(
        script, templates=templates, presenters=context.presenters, targets=context.targets
    )
    for problem in problems:
        messages += _from_error(problem)
    legacy, flagged = _legacy_messages(path, source)
    messages += legacy
    hint = f"'abbreviations:' in {context.lexicon_file} (radio.toml [paths] lexicon; see docs/lexicon.md)"
    for span in paragraph_spans(script, source):
        if not flagged.intersection(number for number, _ in span.lines):
            messages += _paragraph_messages(path, span, context, hint)
    for section in script.sections:
        for paragraph in section.paragraphs:
            if paragraph.insert is not None and not (path.parent / paragraph.insert).is_file():
                message = f"recorded insert {paragraph.insert!r} does not exist"
                messages.append(LintMessage(path, paragraph.line, "error", message))
    if isinstance(timing, PipelineError):
        messages += _from_error(timing)
    elif timing is not None and not any(m.level == "error" for m in messages):
        # an estimate of broken text would only add noise to the errors that matter
        try:
            estimate = estimate_duration(script, context.lexicon, timing, context.rate_wpm)
        except PipelineError as exc:
            messages += _from_error(exc)
        else:
            advice = duration_advice(script.meta.kind, estimate, context.rate_wpm, context.max_tempo_change)
            if advice:
                messages.append(LintMessage(path, 1, "warning", advice))
    return sorted(messages, key=lambda m: (str(m.path), m.line))


class TemplateCache:
    """The project's templates, each loaded (and its jingles probed) at most once per lint run."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir
        self.names = tuple(available_templates(templates_dir))
        self._loaded: dict[str, TemplateTiming | PipelineError] = {}

    def get(self, name: str) -> TemplateTiming | PipelineError | None:
        if name not in self.names:
            return None
        if name not in self._loaded:
            try:
                self._loaded[name] = template_timing(self.templates_dir, name)
            except PipelineError as exc:
                self._loaded[name] = exc
        return self._loaded[name]


def lint_script(
    path: Path, context: LintContext, templates: TemplateCache | None = None
) -> list[LintMessage]:
    try:
        script, source = read_script(path)
    except PipelineError as exc:
        return _from_error(exc)
    cache = templates or TemplateCache(context.templates_dir)
    return lint_parsed(script, source, context, cache.names, cache.get(script.meta.template))


def lint_scripts(paths: Iterable[Path], context: LintContext) -> Iterator[LintMessage]:
    """Messages for every script in order; one script's problems never stop the others."""
    cache = TemplateCache(context.templates_dir)
    for path in paths:
        yield from lint_script(path, context, cache)


def lint_context(settings: Settings) -> LintContext:
    """The context for a project: its lexicon, templates, presenters, stations and speech rate."""
    from pipeline.reading import load_lexicon
    from pipeline.stations import load_registry

    extra = (settings.lexicon_file,) if settings.lexicon_file.is_file() else ()
    return LintContext(
        lexicon=load_lexicon(extra),
        lexicon_file=settings.lexicon_file,
        templates_dir=settings.templates_dir,
        presenters=tuple(settings.presenters),
        targets=load_registry(settings.stations_file).target_ids(),
        rate_wpm=settings.speech_rate_wpm,
        max_tempo_change=settings.max_tempo_change,
    )
