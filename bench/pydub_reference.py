"""Reference implementation of the same program structure with pydub + pyloudnorm, for bench_render.py.

Intro jingle, speech paragraphs with paragraph/section gaps starting over the intro's tail, a looped bed
faded in/out and lowered under speech, outro; then the loudspeaker chain (high-pass, low-pass, compressor)
and loudness normalisation to the target with a peak ceiling; MP3 export. This is how a pydub build would
do it: all PCM in RAM, effects in Python. It is kept out of the render path (design.md section 4).

Usage: pydub_reference.py PLAN.json OUT.mp3  (the plan is written by bench_render.py)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
from pydub import AudioSegment
from pydub.effects import compress_dynamic_range, high_pass_filter, low_pass_filter


def load(path: str) -> AudioSegment:
    return AudioSegment.from_file(path).set_channels(1).set_frame_rate(44100).set_sample_width(2)


def main(plan_path: str, out: str) -> None:
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    intro, outro = load(plan["intro"]), load(plan["outro"])
    speech = AudioSegment.silent(0, frame_rate=44100)
    spans = []
    for index, segment in enumerate(plan["segments"]):
        audio = load(segment["file"])
        spans.append((len(speech), len(speech) + len(audio)))
        speech += audio
        if index + 1 < len(plan["segments"]):
            new_section = plan["segments"][index + 1]["section"] != segment["section"]
            gap = plan["section_gap_s"] if new_section else plan["paragraph_gap_s"]
            speech += AudioSegment.silent(int(1000 * gap))
    start = max(0, len(intro) - int(1000 * plan["intro_overlap_s"]))
    outro_at = start + len(speech) + int(1000 * plan["outro_gap_s"])
    total = outro_at + len(outro)
    bed = load(plan["bed"]) if plan.get("bed") else None
    mix = AudioSegment.silent(total, frame_rate=44100).overlay(intro).overlay(speech, position=start)
    if bed is not None:
        looped = bed * (total // len(bed) + 1)
        looped = (
            looped[: outro_at - start + 4000].apply_gain(plan["bed_level_db"]).fade_in(1500).fade_out(2500)
        )
        for a, b in spans:  # duck under speech
            looped = looped[:a] + looped[a:b].apply_gain(-18) + looped[b:]
        mix = mix.overlay(looped, position=max(0, start - 1500))
    mix = mix.overlay(outro, position=outro_at)
    mix = high_pass_filter(mix, 170)
    mix = low_pass_filter(mix, 7000)
    mix = compress_dynamic_range(mix, threshold=-24.0, ratio=3.0, attack=8.0, release=200.0)
    samples = np.array(mix.get_array_of_samples(), dtype=np.float64) / 32768.0
    meter = pyloudnorm.Meter(44100)
    gain = plan["integrated_lufs"] - meter.integrated_loudness(samples)
    ceiling = 10 ** (plan["true_peak_dbtp"] / 20)
    normalised = np.clip(samples * 10 ** (gain / 20), -ceiling, ceiling)  # the usual pydub-era hard clip
    pcm = (normalised * 32767).astype(np.int16)
    AudioSegment(pcm.tobytes(), frame_rate=44100, sample_width=2, channels=1).export(
        out, format="mp3", bitrate="96k"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
