"""Program assembly: where every piece sits on the timeline, and the one ffmpeg filtergraph that mixes it.

Everything here is pure: durations in, a timeline and a filtergraph description out. Positions are whole
sample counts, so nothing drifts however many paragraphs a program has.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.models import SpeechSegment
from pipeline.templates import Template

SAMPLE_RATE = 44100
MONO = "aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono"
BED_FADE_IN_S = 1.5
BED_FADE_OUT_S = 2.5
# Duck the bed hard under speech; ffmpeg's default threshold (0.125) would barely touch it.
DUCK = "sidechaincompress=threshold=0.01:ratio=12:attack=15:release=450:makeup=1"


@dataclass(frozen=True)
class Timeline:
    intro_s: float
    speech_start: int  # samples
    segment_starts: tuple[int, ...]  # samples, absolute
    slots: tuple[int, ...]  # samples each segment occupies including the gap after it
    speech_end: int  # samples
    outro_start: int
    total: int

    def seconds(self, samples: int) -> float:
        return samples / SAMPLE_RATE

    @property
    def total_s(self) -> float:
        return self.seconds(self.total)


def samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def plan_timeline(
    template: Template, intro_s: float, outro_s: float, segments: tuple[SpeechSegment, ...]
) -> Timeline:
    """Intro, then the paragraphs with paragraph/section gaps (speech starting over the intro's tail), then
    the outro after a short pause."""
    speech_start = samples(max(0.0, intro_s - template.intro_overlap_s))
    starts: list[int] = []
    slots: list[int] = []
    cursor = speech_start
    for index, segment in enumerate(segments):
        starts.append(cursor)
        end = cursor + samples(segment.duration_s)
        if index + 1 < len(segments):
            new_section = segments[index + 1].section != segment.section
            end += samples(template.section_gap_s if new_section else template.paragraph_gap_s)
        slots.append(end - cursor)
        cursor = end
    outro_start = cursor + samples(template.outro_gap_s)
    return Timeline(
        intro_s=intro_s,
        speech_start=speech_start,
        segment_starts=tuple(starts),
        slots=tuple(slots),
        speech_end=cursor,
        outro_start=outro_start,
        total=outro_start + samples(outro_s),
    )


@dataclass(frozen=True)
class MixGraph:
    inputs: tuple[tuple[str, ...], ...]  # per input: options..., file
    graph: str
    output: str


def mix_graph(
    template: Template, timeline: Timeline, segments: tuple[SpeechSegment, ...], chain: str
) -> MixGraph:
    """One filtergraph: speech concatenated at exact sample positions, the bed looped, faded and ducked by
    the speech (sidechain), the jingles, all mixed without amix's input scaling, then `chain` (rendition
    processing) applied to the mix."""
    inputs: list[tuple[str, ...]] = [(str(template.intro),), (str(template.outro),)]
    parts: list[str] = [f"[0:a]{MONO}[intro]", f"[1:a]{MONO},adelay={timeline.outro_start}S:all=1[outro]"]
    first_speech = 2
    if template.bed is not None:
        inputs.append(("-stream_loop", "-1", str(template.bed)))
        first_speech = 3
    labels = []
    for index, (segment, slot) in enumerate(zip(segments, timeline.slots, strict=True)):
        inputs.append((str(segment.audio),))
        label = f"s{index}"
        parts.append(
            f"[{first_speech + index}:a]{MONO},apad=whole_len={slot},atrim=end_sample={slot}[{label}]"
        )
        labels.append(f"[{label}]")
    concat = f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1,adelay={timeline.speech_start}S:all=1"
    mix_inputs = ["[intro]", "[speech]", "[outro]"]
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
        f"apad=whole_len={timeline.total},atrim=end_sample={timeline.total},{chain}[out]"
    )
    return MixGraph(inputs=tuple(inputs), graph=";\n".join(parts), output="out")
