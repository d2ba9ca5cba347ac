"""Program assembly: where every piece sits on the timeline, and the one ffmpeg filtergraph that mixes it.

Everything here is pure: durations in, a timeline and a filtergraph description out. Positions are whole
sample counts, so nothing drifts however many paragraphs a program has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.templates import Template

SAMPLE_RATE = 44100
MONO = "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono"
BED_FADE_IN_S = 1.5
BED_FADE_OUT_S = 2.5
# Duck the bed hard under speech; ffmpeg's default threshold (0.125) would barely touch it.
SILENCE_DB = -45
SILENCE_MIN_S = 0.8
DUCK = "sidechaincompress=threshold=0.01:ratio=12:attack=15:release=450:makeup=1"


@dataclass(frozen=True)
class Piece:
    """One spoken paragraph or recorded insert on the timeline."""

    audio: Path
    duration_s: float  # as recorded, before any tempo change
    section: int
    is_insert: bool = False
    gain_db: float = 0.0  # inserts: brought to the speech's loudness
    title: str = ""  # inserts: their chapter title


@dataclass(frozen=True)
class Timeline:
    intro_s: float
    tempo: float  # speech tempo factor (1.0 = as synthesised; inserts always keep theirs)
    speech_start: int  # samples
    segment_starts: tuple[int, ...]  # samples, absolute
    segment_lengths: tuple[int, ...]  # samples of audio in each slot (after tempo)
    slots: tuple[int, ...]  # samples each piece occupies including the gap after it
    ident_starts: tuple[int, ...]
    speech_end: int
    outro_start: int
    total: int

    @staticmethod
    def seconds(samples: int) -> float:
        return samples / SAMPLE_RATE

    @property
    def total_s(self) -> float:
        return self.seconds(self.total)


def samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def plan_timeline(
    template: Template,
    intro_s: float,
    outro_s: float,
    pieces: Sequence[Piece],
    *,
    tempo: float = 1.0,
    ident_s: float | None = None,
) -> Timeline:
    """Intro, then the pieces with paragraph/section gaps (speech starting over the intro's tail; the
    template's ident, if any, between sections), then the outro after a short pause."""
    speech_start = samples(max(0.0, intro_s - template.intro_overlap_s))
    starts: list[int] = []
    lengths: list[int] = []
    slots: list[int] = []
    idents: list[int] = []
    cursor = speech_start
    for index, piece in enumerate(pieces):
        starts.append(cursor)
        length = samples(piece.duration_s if piece.is_insert else piece.duration_s / tempo)
        lengths.append(length)
        end = cursor + length
        if index + 1 < len(pieces):
            if pieces[index + 1].section != piece.section:
                end += samples(template.section_gap_s)
                if ident_s is not None:
                    idents.append(end)
                    end += samples(ident_s + template.section_gap_s)
            else:
                end += samples(template.paragraph_gap_s)
        slots.append(end - cursor)
        cursor = end
    outro_start = cursor + samples(template.outro_gap_s)
    return Timeline(
        intro_s=intro_s,
        tempo=tempo,
        speech_start=speech_start,
        segment_starts=tuple(starts),
        segment_lengths=tuple(lengths),
        slots=tuple(slots),
        ident_starts=tuple(idents),
        speech_end=cursor,
        outro_start=outro_start,
        total=outro_start + samples(outro_s),
    )


def speech_seconds(pieces: Sequence[Piece]) -> float:
    return sum(p.duration_s for p in pieces if not p.is_insert)


@dataclass(frozen=True)
class MixGraph:
    inputs: tuple[tuple[str, ...], ...]  # per input: options..., file
    graph: str
    output: str


def tempo_filter(tempo: float) -> str:
    # atempo keeps the pitch; 1.0 is left out so an unchanged program is not resampled for nothing
    return "" if abs(tempo - 1.0) < 1e-6 else f",atempo={tempo:.5f}"


def mix_graph(template: Template, timeline: Timeline, pieces: Sequence[Piece]) -> MixGraph:
    """One filtergraph: the pieces concatenated at exact sample positions, the bed looped, faded and ducked
    by the speech (sidechain), the jingles and idents, all mixed without amix's input scaling."""
    inputs: list[tuple[str, ...]] = [(str(template.intro),), (str(template.outro),)]
    parts: list[str] = [f"[0:a]{MONO}[intro]", f"[1:a]{MONO},adelay={timeline.outro_start}S:all=1[outro]"]
    mix_inputs = ["[intro]", "[speech]", "[outro]"]
    if template.bed is not None:
        inputs.append(("-stream_loop", "-1", str(template.bed)))
    if template.ident is not None and timeline.ident_starts:
        ident_input = len(inputs)
        inputs.append((str(template.ident),))
        count = len(timeline.ident_starts)
        parts.append(f"[{ident_input}:a]{MONO},asplit={count}" + "".join(f"[id{i}]" for i in range(count)))
        for index, start in enumerate(timeline.ident_starts):
            parts.append(f"[id{index}]adelay={start}S:all=1[ident{index}]")
            mix_inputs.append(f"[ident{index}]")
    first = len(inputs)
    labels = []
    for index, (piece, slot) in enumerate(zip(pieces, timeline.slots, strict=True)):
        inputs.append((str(piece.audio),))
        tempo = "" if piece.is_insert else tempo_filter(timeline.tempo)
        parts.append(
            f"[{first + index}:a]{MONO}{tempo},apad=whole_len={slot},atrim=end_sample={slot}[s{index}]"
        )
        labels.append(f"[s{index}]")
    # silencedetect logs silent stretches of the speech track on the final timeline: the render checks that
    # no spoken piece is (nearly) silent.
    concat = (
        f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1,adelay={timeline.speech_start}S:all=1,"
        f"silencedetect=noise={SILENCE_DB}dB:duration={SILENCE_MIN_S}"
    )
    if template.bed is not None:
        parts.append(f"{concat},asplit=2[speech][key]")
        bed_start = max(0, timeline.speech_start - samples(BED_FADE_IN_S))
        bed_len = min(timeline.total, timeline.outro_start + samples(BED_FADE_OUT_S)) - bed_start
        fade_out_at = (bed_len - samples(BED_FADE_OUT_S)) / SAMPLE_RATE
        parts.append(
            f"[2:a]{MONO},atrim=end_sample={bed_len},volume={template.bed_level_db}dB,"
            f"afade=t=in:d={BED_FADE_IN_S},afade=t=out:st={fade_out_at:.4f}:d={BED_FADE_OUT_S},"
            f"adelay={bed_start}S:all=1,apad=whole_len={timeline.total}[bedraw]"
        )
        parts.append(f"[key]apad=whole_len={timeline.total}[keypad]")
        parts.append(f"[bedraw][keypad]{DUCK}[bed]")
        mix_inputs.append("[bed]")
    else:
        parts.append(f"{concat}[speech]")
    parts.append(
        f"{''.join(mix_inputs)}amix=inputs={len(mix_inputs)}:normalize=0:duration=longest,"
        f"apad=whole_len={timeline.total},atrim=end_sample={timeline.total}[mix]"
    )
    return MixGraph(inputs=tuple(inputs), graph=";\n".join(parts), output="mix")


SILENCE_RE = re.compile(r"silence_start: (?P<start>-?[\d.]+).*?silence_end: (?P<end>[\d.]+)", re.DOTALL)
SILENT_SHARE = 0.8  # a piece counts as silent when this share of its audio lies in detected silence


def silent_pieces(log: str, timeline: Timeline, pieces: Sequence[Piece]) -> list[int]:
    """Indexes of the spoken pieces that silencedetect found (nearly) silent, from the mix pass's log."""
    spans = [(float(m.group("start")), float(m.group("end"))) for m in SILENCE_RE.finditer(log)]
    silent = []
    for index, (piece, start, length) in enumerate(
        zip(pieces, timeline.segment_starts, timeline.segment_lengths, strict=True)
    ):
        begin, end = timeline.seconds(start), timeline.seconds(start + length)
        covered = sum(max(0.0, min(end, b) - max(begin, a)) for a, b in spans)
        if end - begin > 0.3 and covered >= SILENT_SHARE * (end - begin) and not piece.is_insert:
            silent.append(index)
    return silent
