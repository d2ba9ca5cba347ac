"""Mastering: rendition processing, then loudness applied linearly and verified on the delivered file.

Measure-then-gain (design.md section 4): pass A mixes and processes the program into float PCM and
measures its integrated loudness; pass B puts a limiter *before* a fixed gain (so the gain stays linear and
peaks land under the ceiling) and encodes; the decoded MP3 is then measured, because MP3 encoding shifts
loudness, and the gain is corrected if it missed. A file that still misses its target is an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pipeline import ffmpeg
from pipeline.assemble import MixGraph
from pipeline.errors import RenderError
from pipeline.models import Loudness

# Horn loudspeakers: cut the lows that muddy consonants, stop above the horn's band, then compress
# gently for intelligibility at a distance. Loudness comes last.
LOUDSPEAKER_CHAIN = (
    "highpass=f=170:poles=2,lowpass=f=7000:poles=2,"
    "acompressor=threshold=0.063:ratio=3:attack=8:release=200:knee=3:makeup=2"
)
LOUDNESS_TOLERANCE_LU = 0.5
AIM_LU = 0.2  # correct again when the first encode lands further off than this
TRUE_PEAK_MARGIN_DB = 1.2  # sample-peak limiter vs true peak after MP3 decoding
MAX_PASSES = 3
CALIBRATION_STEPS = 6
FIRST_SLOPE = 0.7  # typical loudness gained per dB of gain into the limiter, refined by the secant
MP3_LOUDNESS_SHIFT_LU = 0.45  # LAME CBR lowers integrated loudness by about this (design.md 4)
CALIBRATION_TOLERANCE_LU = 0.05


@dataclass(frozen=True)
class Target:
    integrated_lufs: float
    true_peak_dbtp: float
    bitrate_kbps: int


def limiter_then_gain(gain_db: float, ceiling_dbtp: float, margin_db: float) -> str:
    """A limiter at (ceiling - margin - gain) followed by the gain: after the gain, peaks sit at most at
    ceiling - margin, and the gain itself is a plain linear factor."""
    limit_db = min(0.0, max(-24.0, ceiling_dbtp - margin_db - gain_db))
    limit = 10 ** (limit_db / 20)
    return f"alimiter=limit={limit:.6f}:attack=5:release=80:level=0:latency=1,volume={gain_db:.3f}dB"


def mp3_args(bitrate_kbps: int) -> list[str]:
    return ["-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-ac", "1", "-ar", "44100", "-write_xing", "1"]


def mix_to_pcm(graph: MixGraph, out: Path, program: str) -> Loudness:
    """Pass A: the whole mix and processing into float PCM, measured in the same pass."""
    stderr = ffmpeg.render_graph(
        graph.inputs,
        graph.graph.replace("[out]", ",ebur128=peak=none:framelog=verbose[out]"),
        graph.output,
        out,
        codec_args=["-c:a", "pcm_f32le"],
        what=f"mixing {program}",
    )
    return ffmpeg.parse_loudness(stderr)


def measure_limited(pcm: Path, gain_db: float, ceiling_dbtp: float, margin_db: float) -> float:
    """Integrated loudness of the PCM after limiter and gain, without encoding (a fast pass)."""
    stderr = ffmpeg.run_filter_to_null(
        pcm, f"{limiter_then_gain(gain_db, ceiling_dbtp, margin_db)},ebur128=peak=none:framelog=verbose"
    )
    return ffmpeg.parse_loudness(stderr).integrated_lufs


def calibrate_gain(pcm: Path, gain: float, aim_lufs: float, ceiling_dbtp: float, margin_db: float) -> float:
    """The gain that lands the limited signal on `aim_lufs`.

    The limiter takes away more loudness the more gain follows it (espeak speech peaks ~19 dB above its
    loudness), so one measurement is not enough: a secant search converges in two or three fast passes.
    """
    previous: tuple[float, float] | None = None
    for _ in range(CALIBRATION_STEPS):
        level = measure_limited(pcm, gain, ceiling_dbtp, margin_db)
        miss = aim_lufs - level
        if abs(miss) <= CALIBRATION_TOLERANCE_LU:
            break
        slope = FIRST_SLOPE
        if previous is not None and gain != previous[0]:
            slope = min(1.0, max(0.2, (level - previous[1]) / (gain - previous[0])))
        previous = (gain, level)
        gain += miss / slope
    return gain


def encode_to_target(pcm: Path, measured: Loudness, target: Target, out: Path, program: str) -> Loudness:
    """Calibrate on PCM, encode, verify the decoded file; correct and re-encode only if it missed."""
    if not math.isfinite(measured.integrated_lufs):
        raise RenderError(f"{program}: the mix is silent")
    margin = TRUE_PEAK_MARGIN_DB
    aim = target.integrated_lufs + MP3_LOUDNESS_SHIFT_LU
    gain = aim - measured.integrated_lufs
    final = measured
    for _ in range(MAX_PASSES):
        gain = calibrate_gain(pcm, gain, aim, target.true_peak_dbtp, margin)
        ffmpeg.transcode(
            pcm, out,
            filters=limiter_then_gain(gain, target.true_peak_dbtp, margin),
            codec_args=mp3_args(target.bitrate_kbps),
            what=f"encoding {program}",
        )  # fmt: skip
        final = ffmpeg.measure(out)
        miss = target.integrated_lufs - final.integrated_lufs
        over = final.true_peak_dbtp - target.true_peak_dbtp
        if abs(miss) <= AIM_LU and over <= 0:
            return final
        aim += miss  # the encoder shifted loudness more or less than expected: aim the PCM accordingly
        gain += miss
        if over > 0:
            margin += over + 0.2
    if abs(target.integrated_lufs - final.integrated_lufs) > LOUDNESS_TOLERANCE_LU:
        raise RenderError(
            f"{program}: loudness {final.integrated_lufs:.1f} LUFS misses the target "
            f"{target.integrated_lufs:.1f} LUFS by more than {LOUDNESS_TOLERANCE_LU} LU"
        )
    if final.true_peak_dbtp > target.true_peak_dbtp:
        raise RenderError(
            f"{program}: true peak {final.true_peak_dbtp:.1f} dBTP exceeds the ceiling "
            f"{target.true_peak_dbtp:.1f} dBTP"
        )
    return final
