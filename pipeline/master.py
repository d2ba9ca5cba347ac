"""Mastering: each rendition's processing chain, then loudness applied linearly and verified on the
delivered file.

Measure-then-gain (design.md section 4): pass A mixes the program once and, through `asplit`, runs every
rendition's chain into its own float PCM file, measuring each in the same pass. Then, per rendition, a
limiter is placed *before* a fixed gain (so the gain itself is a plain linear factor and peaks land under
the ceiling), the gain that meets the target is found on the PCM (fast passes, no encoding), the MP3 is
encoded, and the decoded MP3 is measured, because encoding shifts loudness. A file that still misses its
target, exceeds its true-peak ceiling or its loudness range is an error, not a warning.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline import ffmpeg
from pipeline.assemble import MixGraph
from pipeline.errors import RenderError
from pipeline.models import Loudness
from pipeline.renditions import Rendition

LOUDNESS_TOLERANCE_LU = 0.5
AIM_LU = 0.2  # re-encode when the first encode lands further off than this
TRUE_PEAK_MARGIN_DB = 1.2  # the limiter works on sample peaks; MP3 decoding adds inter-sample peaks
MAX_PASSES = 3
LIMITER_FLOOR_DB = -23.0  # alimiter's lowest limit is -24 dBFS; stay clear of it
CALIBRATION_STEPS = 4
CALIBRATION_BRACKET_DB = 1.0  # the two gains measured at once bracket the answer this wide
CALIBRATION_TOLERANCE_LU = 0.1  # ebur128 reports one decimal
MP3_LOUDNESS_SHIFT_LU = 0.45  # LAME CBR lowers integrated loudness by about this (design.md section 4)


@dataclass(frozen=True)
class Mastered:
    rendition: Rendition
    path: Path
    loudness: Loudness


def limiter_then_gain(gain_db: float, ceiling_dbtp: float, margin_db: float) -> str:
    """A limiter at (ceiling - margin - gain) followed by the gain: after the gain, peaks sit at most at
    ceiling - margin, and the gain itself is linear. alimiter cannot limit below -24 dBFS, so a very quiet
    source gets part of its gain (also linear) before the limiter."""
    limit_db = ceiling_dbtp - margin_db - gain_db
    pre_db = max(0.0, LIMITER_FLOOR_DB - limit_db)
    limit = 10 ** (min(0.0, limit_db + pre_db) / 20)
    pre = f"volume={pre_db:.3f}dB," if pre_db > 0 else ""
    limiter = f"alimiter=limit={limit:.6f}:attack=5:release=80:level=0:latency=1"
    return f"{pre}{limiter},volume={gain_db - pre_db:.3f}dB"


def mp3_args(rendition: Rendition) -> list[str]:
    return [
        "-c:a",
        "libmp3lame",
        "-b:a",
        f"{rendition.bitrate_kbps}k",
        "-compression_level",
        str(rendition.quality),
        "-ac",
        str(rendition.channels),
        "-ar",
        str(rendition.sample_rate),
        "-write_xing",
        "1",
    ]


def split_graph(graph: MixGraph, renditions: tuple[Rendition, ...]) -> tuple[str, list[str]]:
    """The mix graph extended with one branch per rendition: its chain, then a named loudness meter."""
    labels = [f"r{index}" for index in range(len(renditions))]
    parts = [graph.graph, f"[{graph.output}]asplit={len(renditions)}{''.join(f'[{x}in]' for x in labels)}"]
    for label, rendition in zip(labels, renditions, strict=True):
        parts.append(f"[{label}in]{rendition.chain},ebur128@{label}=peak=none:framelog=verbose[{label}]")
    return ";\n".join(parts), labels


def mix_renditions(
    graph: MixGraph, renditions: tuple[Rendition, ...], scratch: Path, program: str
) -> tuple[dict[str, tuple[Path, Loudness]], str]:
    """Pass A: one decode and mix for all renditions, each processed into its own float PCM file."""
    text, labels = split_graph(graph, renditions)
    outputs = [
        (label, scratch / f"{rendition.name}.wav")
        for label, rendition in zip(labels, renditions, strict=True)
    ]
    stderr = ffmpeg.render_graph_multi(
        graph.inputs,
        text,
        [(label, path, ["-c:a", "pcm_f32le"]) for label, path in outputs],
        what=f"mixing {program}",
    )
    measured = {
        rendition.name: (path, ffmpeg.parse_loudness(stderr, meter=f"ebur128@{label}"))
        for rendition, (label, path) in zip(renditions, outputs, strict=True)
    }
    return measured, stderr


def measure_limited(pcm: Path, gain_db: float, ceiling_dbtp: float, margin_db: float) -> float:
    """Integrated loudness of the PCM after limiter and gain, without encoding (a fast pass)."""
    stderr = ffmpeg.run_filter_to_null(
        pcm, f"{limiter_then_gain(gain_db, ceiling_dbtp, margin_db)},ebur128=peak=none:framelog=verbose"
    )
    return ffmpeg.parse_loudness(stderr).integrated_lufs


def calibrate_gain(pcm: Path, gain: float, aim_lufs: float, ceiling_dbtp: float, margin_db: float) -> float:
    """The gain that lands the limited signal on `aim_lufs`.

    The limiter takes away more loudness the more gain follows it (espeak speech peaks ~19 dB above its
    loudness), so one measurement is not enough. Each step measures two gains at once (two ffmpeg
    processes, one per core) and takes the secant between them; one step is usually enough.
    """
    step = CALIBRATION_BRACKET_DB
    best = gain
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(CALIBRATION_STEPS):
            low, high = gain, gain + step
            levels = list(pool.map(lambda g: measure_limited(pcm, g, ceiling_dbtp, margin_db), (low, high)))
            slope = min(1.0, max(0.2, (levels[1] - levels[0]) / step))
            best = low + (aim_lufs - levels[0]) / slope
            nearest = min(abs(aim_lufs - levels[0]), abs(aim_lufs - levels[1]))
            if nearest <= CALIBRATION_TOLERANCE_LU or low - step <= best <= high + step:
                return best
            gain = best - step / 2
    return best


def check_targets(final: Loudness, rendition: Rendition, program: str) -> None:
    target = rendition.integrated_lufs
    name = f"{program} ({rendition.name})"
    if abs(target - final.integrated_lufs) > LOUDNESS_TOLERANCE_LU:
        raise RenderError(
            f"{name}: loudness {final.integrated_lufs:.1f} LUFS misses the target {target:.1f} LUFS "
            f"by more than {LOUDNESS_TOLERANCE_LU} LU"
        )
    if final.true_peak_dbtp > rendition.true_peak_dbtp:
        raise RenderError(
            f"{name}: true peak {final.true_peak_dbtp:.1f} dBTP exceeds the ceiling "
            f"{rendition.true_peak_dbtp:.1f} dBTP"
        )
    if rendition.max_lra is not None and final.lra > rendition.max_lra:
        raise RenderError(f"{name}: loudness range {final.lra:.1f} LU exceeds {rendition.max_lra:.1f} LU")


def encode_to_target(
    pcm: Path, measured: Loudness, rendition: Rendition, out: Path, program: str
) -> Loudness:
    """Calibrate on PCM, encode, verify the decoded file; correct and re-encode only if it missed."""
    if not math.isfinite(measured.integrated_lufs):
        raise RenderError(f"{program} ({rendition.name}): the mix is silent")
    ceiling = rendition.true_peak_dbtp
    margin = TRUE_PEAK_MARGIN_DB
    aim = rendition.integrated_lufs + MP3_LOUDNESS_SHIFT_LU
    gain = aim - measured.integrated_lufs
    final = measured
    for _ in range(MAX_PASSES):
        gain = calibrate_gain(pcm, gain, aim, ceiling, margin)
        ffmpeg.transcode(
            pcm,
            out,
            filters=limiter_then_gain(gain, ceiling, margin),
            codec_args=mp3_args(rendition),
            what=f"encoding {program} ({rendition.name})",
        )
        final = ffmpeg.measure(out)
        miss = rendition.integrated_lufs - final.integrated_lufs
        over = final.true_peak_dbtp - ceiling
        if abs(miss) <= AIM_LU and over <= 0:
            break
        aim += miss  # the encoder shifted loudness more or less than expected: aim the PCM accordingly
        gain += miss
        if over > 0:
            margin += over + 0.2
    check_targets(final, rendition, program)
    return final


def encode_renditions(
    mixed: dict[str, tuple[Path, Loudness]],
    renditions: tuple[Rendition, ...],
    outputs: dict[str, Path],
    program: str,
) -> tuple[Mastered, ...]:
    """Every rendition from its pass-A PCM into `outputs[name]`, in parallel (one ffmpeg each)."""
    with ThreadPoolExecutor(max_workers=len(renditions)) as pool:
        futures = [
            pool.submit(encode_to_target, *mixed[r.name], r, outputs[r.name], program) for r in renditions
        ]
        results = [future.result() for future in futures]
    return tuple(
        Mastered(r, outputs[r.name], loudness) for r, loudness in zip(renditions, results, strict=True)
    )
