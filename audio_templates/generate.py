"""Synthesise the jingles and music bed of the program templates (no recorded or downloaded audio).

Every sound is built here from sines, wavetables and seeded noise, so the files can be regenerated
bit-for-bit on the same platform:

    python audio_templates/generate.py [--out audio_templates]

Signals are numpy float64 arrays: mono voices have shape (n,), mixes have shape (n, 2). Everything
except main() is pure; main() encodes each mix to 16-bit 44.1 kHz stereo FLAC with the system ffmpeg.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SR = 44100
Signal = npt.NDArray[np.float64]  # mono (n,) or stereo (n, 2)

# G "Bắc"-style pentatonic (G A C D E) over simple diatonic harmony.
BPM_STANDARD = 90.0
BPM_NEWS = 100.0
LEAD_IN_S = 0.02  # a breath of silence before the first attack of a jingle
JINGLE_LUFS = -16.0
BED_LUFS = -24.0
PEAK_DBTP = -3.0
SEED = 20250115


# --------------------------------------------------------------------------- basic helpers


def hz(midi: float) -> float:
    """Equal-tempered frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def n_samples(seconds: float) -> int:
    return round(seconds * SR)


def seconds_axis(n: int) -> Signal:
    return np.arange(n, dtype=np.float64) / SR


def ramp(n: int) -> Signal:
    """Raised-cosine rise from ~0 to ~1 over n samples (no corner, so no click)."""
    if n <= 0:
        return np.zeros(0)
    x = (np.arange(n, dtype=np.float64) + 0.5) / n
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * x), dtype=np.float64)


def smooth_step(t: Signal, start: float, length: float) -> Signal:
    """0 before `start`, 1 after `start + length`, raised-cosine in between (t in seconds)."""
    x = np.clip((t - start) / max(length, 1e-9), 0.0, 1.0)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * x), dtype=np.float64)


def edge_envelope(n: int, attack_s: float, release_s: float) -> Signal:
    """Unity gain with raised-cosine attack at the start and release at the end."""
    env = np.ones(n)
    a = min(n_samples(attack_s), n)
    r = min(n_samples(release_s), n - a)
    env[:a] *= ramp(a)
    if r > 0:
        env[n - r :] *= ramp(r)[::-1]
    return env


def phase_cycles(freq: Signal) -> Signal:
    """Running phase in cycles of an instantaneous frequency track (Hz per sample), starting at 0."""
    cycles = np.cumsum(freq) / SR
    return np.asarray(cycles - cycles[0], dtype=np.float64)


def pitch_track(n: int, freq: float, glide_st: float = 0.0, vibrato_st: float = 0.0) -> Signal:
    """Instantaneous frequency: an optional scoop up from `glide_st` semitones below (the đàn bầu's
    bend) and an optional slow vibrato that fades in after the attack (the đàn tranh's rung)."""
    t = seconds_axis(n)
    bend = -glide_st * (1.0 - smooth_step(t, 0.0, 0.09))
    wobble = vibrato_st * np.sin(2.0 * np.pi * 5.2 * t) * smooth_step(t, 0.25, 0.35)
    return np.asarray(freq * 2.0 ** ((bend + wobble) / 12.0), dtype=np.float64)


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power amplitude pan, -1 = left, +1 = right (mono-safe: no delays, no polarity tricks)."""
    angle = (pan + 1.0) * np.pi / 4.0
    return float(np.cos(angle)), float(np.sin(angle))


# --------------------------------------------------------------------------- instruments (mono voices)


def pluck(
    freq: float,
    dur: float,
    *,
    brightness: float = 1.0,
    decay: float = 1.1,
    attack: float = 0.003,
    glide_st: float = 0.0,
    vibrato_st: float = 0.0,
) -> Signal:
    """Plucked zither string (đàn tranh-like) by additive synthesis: a comb-shaped spectrum from the
    pluck position, upper partials dying faster than the fundamental, slight stiffness inharmonicity."""
    n = n_samples(dur)
    t = seconds_axis(n)
    cycles = phase_cycles(pitch_track(n, freq, glide_st, vibrato_st))
    tau0 = decay * (262.0 / freq) ** 0.35  # lower strings ring longer
    out = np.zeros(n)
    position = 0.19  # pluck point as a fraction of the string
    for k in range(1, 31):
        stretch = k * np.sqrt(1.0 + 6e-5 * k * k)
        if freq * stretch > 11000.0:
            break
        amp = abs(np.sin(np.pi * k * position)) / k**1.15 * np.exp(-(k - 1) * 0.14 / brightness)
        tau = tau0 / (1.0 + 0.3 * (k - 1) ** 1.25 / brightness)
        out += amp * np.exp(-t / tau) * np.sin(2.0 * np.pi * stretch * cycles)
    return out * edge_envelope(n, attack, 0.03)


def partials(
    freq: float,
    dur: float,
    ratios: Sequence[float],
    amps: Sequence[float],
    taus: Sequence[float],
    attack: float,
) -> Signal:
    """Sum of exponentially decaying inharmonic partials (mallets and bells)."""
    n = n_samples(dur)
    t = seconds_axis(n)
    out = np.zeros(n)
    for ratio, amp, tau in zip(ratios, amps, taus, strict=True):
        if freq * ratio < 15000.0:
            out += amp * np.exp(-t / tau) * np.sin(2.0 * np.pi * freq * ratio * t)
    return out * edge_envelope(n, attack, 0.03)


def mallet(freq: float, dur: float = 1.2) -> Signal:
    """Soft marimba-like bar: tuned partials 1 : 4 : 10 with fast-dying overtones."""
    return partials(freq, dur, (1.0, 3.99, 9.9), (1.0, 0.22, 0.05), (0.45, 0.12, 0.04), attack=0.004)


def bell(freq: float, dur: float = 2.5) -> Signal:
    """Small bell: inharmonic partials, long hum, gentle strike."""
    ratios = (0.5, 1.0, 1.19, 1.56, 2.0, 2.74, 3.76)
    amps = (0.25, 1.0, 0.35, 0.2, 0.3, 0.15, 0.06)
    taus = (1.6, 1.2, 0.7, 0.5, 0.45, 0.25, 0.12)
    return partials(freq, dur, ratios, amps, taus, attack=0.006)


def bass(freq: float, dur: float, *, decay: float = 1.8, release: float = 0.25) -> Signal:
    """Round, soft-attacked bass with a few harmonics so it is still heard on horn loudspeakers."""
    n = n_samples(dur)
    t = seconds_axis(n)
    out = np.zeros(n)
    for k, amp in enumerate((1.0, 0.45, 0.2, 0.08), start=1):
        out += amp * np.exp(-t * k / (decay * 2.0)) * np.sin(2.0 * np.pi * k * freq * t)
    return out * np.exp(-t / decay) * edge_envelope(n, 0.02, release)


def wavetable(harmonics: int, tilt: float, size: int = 4096) -> Signal:
    """One cycle of a band-limited, sawtooth-like wave with an extra spectral tilt (darker for tilt < 1)."""
    spectrum = np.zeros(size // 2 + 1, dtype=np.complex128)
    for k in range(1, max(1, min(harmonics, size // 2 - 1)) + 1):
        spectrum[k] = -1j * tilt ** (k - 1) / k
    table = np.fft.irfft(spectrum, size)
    return np.asarray(table / np.max(np.abs(table)), dtype=np.float64)


def table_lookup(table: Signal, cycles: Signal) -> Signal:
    """Linear-interpolated wavetable oscillator driven by a phase in cycles."""
    size = len(table)
    pos = np.mod(cycles, 1.0) * size
    i = np.floor(pos).astype(np.int64)
    frac = pos - i
    return np.asarray(table[i % size] * (1.0 - frac) + table[(i + 1) % size] * frac, dtype=np.float64)


def pad(
    freq: float,
    hold: float,
    *,
    detune_cents: Sequence[float] = (-7.0, 0.0, 6.0),
    attack: float = 0.8,
    release: float = 1.2,
    cutoff: float = 2200.0,
) -> Signal:
    """Warm string-pad voice: detuned band-limited saws, slow raised-cosine swell and release."""
    n = n_samples(hold + release)
    t = seconds_axis(n)
    table = wavetable(int(cutoff / freq), 0.82)
    out = np.zeros(n)
    for i, cents in enumerate(detune_cents):
        f = freq * 2.0 ** (cents / 1200.0)
        out += table_lookup(table, f * t + 0.31 * i)
    return out / len(detune_cents) * edge_envelope(n, attack, release)


def brass(freq: float, hold: float, *, release: float = 0.25) -> Signal:
    """Brass-like tone: brightness follows loudness (crossfade of a dark and a bright wavetable),
    a small pitch rise into the note and a late, shallow vibrato."""
    n = n_samples(hold + release)
    t = seconds_axis(n)
    attack = 0.045
    swell = smooth_step(t, 0.0, attack) * (1.0 + 0.18 * np.exp(-np.maximum(t - attack, 0.0) / 0.08))
    env = swell * (1.0 - smooth_step(t, hold, release))
    bend = -0.25 * (1.0 - smooth_step(t, 0.0, 0.07))
    wobble = 0.06 * np.sin(2.0 * np.pi * 5.0 * t) * smooth_step(t, 0.4, 0.4)
    cycles = phase_cycles(freq * 2.0 ** ((bend + wobble) / 12.0))
    dark = table_lookup(wavetable(int(1200.0 / freq) + 1, 0.6), cycles)
    bright = table_lookup(wavetable(int(6000.0 / freq), 0.93), cycles)
    mix = np.clip(env / 1.18, 0.0, 1.0) ** 1.5
    return np.asarray(env * ((1.0 - mix) * dark + mix * bright), dtype=np.float64)


def drum(freq: float, dur: float = 0.9) -> Signal:
    """Soft low tom / timpani stroke: a sine falling onto its pitch, with a quieter upper mode."""
    n = n_samples(dur)
    t = seconds_axis(n)
    track = freq * (1.0 + 0.35 * np.exp(-t / 0.03))
    body = np.sin(2.0 * np.pi * phase_cycles(track)) * np.exp(-t / 0.35)
    mode = 0.3 * np.sin(2.0 * np.pi * phase_cycles(track * 1.5)) * np.exp(-t / 0.15)
    return np.asarray((body + mode) * edge_envelope(n, 0.004, 0.05), dtype=np.float64)


# --------------------------------------------------------------------------- arranging and mixing


@dataclass(frozen=True)
class Part:
    """One mono voice placed on the timeline."""

    start: float  # seconds
    signal: Signal
    gain: float = 1.0
    pan: float = 0.0


def mix(parts: Sequence[Part], length: float, *, loop: bool = False) -> Signal:
    """Sum the parts into a stereo buffer. With loop=True whatever rings past the end is wrapped round
    and added to the start, so the result is exactly periodic (a seamless loop)."""
    n = n_samples(length)
    longest = max((n_samples(p.start) + len(p.signal) for p in parts), default=n)
    buf = np.zeros((max(n, longest), 2))
    for p in parts:
        i = n_samples(p.start)
        left, right = pan_gains(p.pan)
        buf[i : i + len(p.signal), 0] += p.gain * left * p.signal
        buf[i : i + len(p.signal), 1] += p.gain * right * p.signal
    if not loop:
        return np.asarray(buf[:n], dtype=np.float64)
    out = np.zeros((n, 2))
    for j in range(0, len(buf), n):
        chunk = buf[j : j + n]
        out[: len(chunk)] += chunk
    return out


def beats(bpm: float) -> Callable[[float], float]:
    """Convert a position in beats to seconds after the lead-in."""
    return lambda b: LEAD_IN_S + b * 60.0 / bpm


def chord_pad(
    start: float, notes: Sequence[int], hold: float, gain: float, release: float = 1.2
) -> list[Part]:
    """A pad chord spread across the stereo field; left and right get differently detuned voices
    (decorrelated, so the width collapses gracefully to mono)."""
    parts = []
    for i, note in enumerate(notes):
        side = -0.55 if i % 2 == 0 else 0.55
        parts.append(Part(start, pad(hz(note), hold, release=release), gain, side))
        detune = (-4.0, 3.0, 9.0)
        parts.append(Part(start, pad(hz(note), hold, detune_cents=detune, release=release), gain, -side))
    return parts


# --------------------------------------------------------------------------- effects (pure, whole-buffer)


def spectral_filter(
    x: Signal, highpass: float, lowpass: float, order: int = 2, *, circular: bool = False
) -> Signal:
    """Zero-phase Butterworth-magnitude high/low-pass in the frequency domain. Circular filtering keeps a
    loop periodic; otherwise the signal is zero-padded so nothing wraps round."""
    n = len(x)
    pad_n = 0 if circular else n_samples(0.5)
    padded = np.pad(x, ((pad_n, pad_n), (0, 0)))
    m = len(padded)
    f = np.fft.rfftfreq(m, 1.0 / SR)
    with np.errstate(divide="ignore"):
        hp = 1.0 / np.sqrt(1.0 + (highpass / np.maximum(f, 1e-9)) ** (2 * order))
    lp = 1.0 / np.sqrt(1.0 + (f / lowpass) ** (2 * order))
    hp[0] = 0.0  # no DC
    y = np.fft.irfft(np.fft.rfft(padded, axis=0) * (hp * lp)[:, None], m, axis=0)
    return np.asarray(y[pad_n : pad_n + n], dtype=np.float64)


def reverb_ir(seconds: float = 1.6, rt60: float = 1.3, seed: int = SEED) -> Signal:
    """Stereo room impulse response: independent seeded noise per channel with an exponential decay,
    darkened, short pre-delay. Independent channels give width without phase cancellation in mono."""
    rng = np.random.default_rng(seed)
    n = n_samples(seconds)
    t = seconds_axis(n)
    noise = rng.standard_normal((n, 2)) * (10.0 ** (-3.0 * t / rt60))[:, None]
    ir = spectral_filter(noise, 120.0, 4500.0, order=1)
    ir *= edge_envelope(n, 0.004, 0.05)[:, None]
    ir = np.vstack([np.zeros((n_samples(0.015), 2)), ir])
    return np.asarray(ir / np.sqrt(np.sum(ir**2, axis=0)), dtype=np.float64)


def add_reverb(x: Signal, wet: float, *, circular: bool = False) -> Signal:
    """Dry signal plus the mono sum sent through the stereo room."""
    ir = reverb_ir()
    mono = x.mean(axis=1)
    m = len(x) if circular else int(2 ** np.ceil(np.log2(len(x) + len(ir))))
    spec = np.fft.rfft(mono, m)
    tail = np.fft.irfft(spec[:, None] * np.fft.rfft(ir, m, axis=0), m, axis=0)[: len(x)]
    return np.asarray(x + wet * tail, dtype=np.float64)


def fade_out(x: Signal, seconds: float) -> Signal:
    env = edge_envelope(len(x), 0.002, seconds)
    return np.asarray(x * env[:, None], dtype=np.float64)


def true_peak(x: Signal) -> float:
    """Peak of the 4x oversampled signal (band-limited interpolation), linear."""
    n = len(x)
    up = np.fft.irfft(np.fft.rfft(x, axis=0), 4 * n, axis=0) * 4.0
    return float(np.max(np.abs(up)))


def k_weighting(f: Signal) -> Signal:
    """Magnitude response of the ITU-R BS.1770 K-weighting (shelf + high-pass biquads) at SR."""
    w = 2.0 * np.pi * f / SR
    z1 = np.exp(-1j * w)
    z2 = z1 * z1
    # High shelf, +4 dB above ~1.7 kHz.
    a_sh = 10.0 ** (3.99984385397 / 40.0)
    w0 = 2.0 * np.pi * 1681.974450955533 / SR
    alpha = np.sin(w0) / (2.0 * 0.7071752369554196)
    c, s = np.cos(w0), 2.0 * np.sqrt(a_sh) * alpha
    b = (a_sh * ((a_sh + 1) + (a_sh - 1) * c + s), -2 * a_sh * ((a_sh - 1) + (a_sh + 1) * c))
    b2 = a_sh * ((a_sh + 1) + (a_sh - 1) * c - s)
    a = ((a_sh + 1) - (a_sh - 1) * c + s, 2 * ((a_sh - 1) - (a_sh + 1) * c), (a_sh + 1) - (a_sh - 1) * c - s)
    shelf = (b[0] + b[1] * z1 + b2 * z2) / (a[0] + a[1] * z1 + a[2] * z2)
    # High-pass at ~38 Hz.
    w0 = 2.0 * np.pi * 38.13547087602444 / SR
    alpha = np.sin(w0) / (2.0 * 0.5003270373238773)
    c = np.cos(w0)
    highpass = ((1 + c) / 2 * (1 - 2 * z1 + z2)) / ((1 + alpha) - 2 * c * z1 + (1 - alpha) * z2)
    return np.asarray(np.abs(shelf * highpass), dtype=np.float64)


def loudness_lufs(x: Signal) -> float:
    """Gated integrated loudness (BS.1770 / EBU R128), K-weighting applied as a zero-phase magnitude."""
    m = len(x)
    gain = k_weighting(np.fft.rfftfreq(m, 1.0 / SR).astype(np.float64))
    weighted = np.fft.irfft(np.fft.rfft(x, axis=0) * gain[:, None], m, axis=0)
    block, hop = n_samples(0.4), n_samples(0.1)
    power = weighted**2
    starts = range(0, max(1, m - block + 1), hop)
    z = np.array([power[s : s + block].mean(axis=0).sum() for s in starts])
    z = z[-0.691 + 10.0 * np.log10(np.maximum(z, 1e-20)) > -70.0]
    if len(z) == 0:
        return -70.0
    relative = -0.691 + 10.0 * np.log10(z.mean()) - 10.0
    z = z[-0.691 + 10.0 * np.log10(z) > relative]
    return float(-0.691 + 10.0 * np.log10(z.mean()))


def limit(x: Signal, ceiling: float, window_s: float = 0.012) -> Signal:
    """Transparent look-around peak limiter: the gain each sample needs, held at its minimum over a
    window, then smoothed with a Hann window of the same length (so peaks never exceed the ceiling)."""
    need = np.minimum(1.0, ceiling / np.maximum(np.max(np.abs(x), axis=1), 1e-12))
    w = n_samples(window_s) | 1
    held = np.lib.stride_tricks.sliding_window_view(np.pad(need, w // 2, mode="edge"), w).min(axis=1)
    kernel = np.hanning(w + 2)[1:-1]
    gain = np.convolve(np.pad(held, w // 2, mode="edge"), kernel / kernel.sum(), mode="valid")
    return np.asarray(x * gain[:, None], dtype=np.float64)


def master_jingle(x: Signal, tail_fade: float) -> Signal:
    """Clean up and level a jingle: DC/rumble and ultrasonic cut, end fade, loudness to JINGLE_LUFS
    with peaks limited to PEAK_DBTP."""
    y = spectral_filter(x, 40.0, 12000.0)
    y = fade_out(y, tail_fade)
    y = y * 10.0 ** ((JINGLE_LUFS - loudness_lufs(y)) / 20.0)
    ceiling = 10.0 ** (PEAK_DBTP / 20.0)
    if true_peak(y) > ceiling:
        y = limit(y, ceiling * 0.93)
        y = y * min(1.0, ceiling / true_peak(y))
    return fade_out(y, 0.01)


def master_bed(x: Signal) -> Signal:
    """Level a loop without breaking its periodicity: circular filtering and a plain gain."""
    y = spectral_filter(x, 40.0, 3200.0, order=3, circular=True)
    return np.asarray(y * 10.0 ** ((BED_LUFS - loudness_lufs(y)) / 20.0), dtype=np.float64)


# --------------------------------------------------------------------------- the assets

# Melody of the station signature: (beat, MIDI note, velocity, glide in semitones, vibrato in semitones).
SIGNATURE = (
    (0.0, 74, 0.85, 0.0, 0.0),
    (0.5, 76, 0.8, 0.0, 0.0),
    (1.0, 79, 1.0, 2.0, 0.12),
    (2.0, 81, 0.85, 0.0, 0.0),
    (2.5, 79, 0.8, 0.0, 0.0),
    (3.0, 76, 0.85, 0.0, 0.0),
    (3.5, 74, 0.8, 0.0, 0.0),
    (4.0, 76, 0.95, 0.0, 0.15),
    (4.75, 74, 0.7, 0.0, 0.0),
    (5.0, 72, 0.85, 0.0, 0.0),
    (5.5, 69, 0.8, 0.0, 0.0),
)


def melody_parts(
    notes: Sequence[tuple[float, int, float, float, float]], at: Callable[[float], float], ring: float = 2.2
) -> list[Part]:
    """Plucked melody with a soft marimba doubling an octave up on the strong beats."""
    parts = []
    for i, (beat, note, vel, glide, vibrato) in enumerate(notes):
        pan = -0.15 if i % 2 == 0 else 0.15
        parts.append(Part(at(beat), pluck(hz(note), ring, glide_st=glide, vibrato_st=vibrato), vel, pan))
        if beat == int(beat):
            parts.append(Part(at(beat), mallet(hz(note + 12)), 0.16 * vel, 0.45))
    return parts


def final_chord(at: float, tail: float, vel: float = 1.0) -> list[Part]:
    """The tonic landing: a rolled G-D-G pluck chord with a bell and a long low G."""
    return [
        Part(at, pluck(hz(67), tail, vibrato_st=0.1, decay=1.5), vel, 0.0),
        Part(at + 0.035, pluck(hz(74), tail, decay=1.4), 0.55 * vel, -0.35),
        Part(at + 0.07, pluck(hz(79), tail, decay=1.3), 0.45 * vel, 0.35),
        Part(at, bell(hz(79), tail), 0.18 * vel, 0.25),
        Part(at, bass(hz(43), tail, decay=1.6), 0.45 * vel, 0.0),
    ]


def standard_intro() -> Signal:
    """~7.5 s station signature; the last ~2 s is a decaying tail for the voice to start over."""
    at = beats(BPM_STANDARD)
    length = 7.5
    parts = melody_parts(SIGNATURE, at)
    parts += final_chord(at(6.0), length - at(6.0))
    for beat, note, dur in ((0.0, 43, 2.0), (2.0, 40, 2.0), (4.0, 48, 1.0), (5.0, 50, 1.0)):
        parts.append(Part(at(beat), bass(hz(note), dur * 0.667 + 0.3), 0.4, 0.0))
    chords = (
        (0.0, (55, 59, 62), 2.0),
        (2.0, (55, 59, 64), 2.0),
        (4.0, (55, 60, 64), 1.0),
        (5.0, (57, 62, 66), 1.0),
        (6.0, (55, 59, 62, 67), 1.6),
    )
    for beat, notes, dur in chords:
        parts += chord_pad(at(beat), notes, dur * 0.667, 0.07, release=0.9)
    return master_jingle(add_reverb(mix(parts, length), 0.22), tail_fade=1.2)


def standard_outro() -> Signal:
    """~5.5 s closing phrase falling back to the tonic, fading to silence."""
    at = beats(BPM_STANDARD)
    length = 5.5
    notes = (
        (0.0, 79, 0.95, 0.0, 0.0),
        (0.5, 76, 0.8, 0.0, 0.0),
        (1.0, 74, 0.9, 1.0, 0.1),
        (1.5, 76, 0.75, 0.0, 0.0),
        (2.0, 72, 0.85, 0.0, 0.0),
        (2.6, 69, 0.8, 0.0, 0.0),
    )
    parts = melody_parts(notes, at)
    parts += final_chord(at(3.3), length - at(3.3), vel=0.95)
    for beat, note, dur in ((0.0, 48, 2.0), (2.0, 50, 1.3)):
        parts.append(Part(at(beat), bass(hz(note), dur * 0.667 + 0.3), 0.4, 0.0))
    for beat, chord, dur in (
        (0.0, (55, 60, 64), 2.0),
        (2.0, (57, 62, 66), 1.3),
        (3.3, (55, 59, 62, 67), 2.0),
    ):
        parts += chord_pad(at(beat), chord, dur * 0.667, 0.07, release=1.0)
    return master_jingle(add_reverb(mix(parts, length), 0.22), tail_fade=2.5)


def standard_ident() -> Signal:
    """~2 s three-note sting (the signature's opening D-E-G) used between sections."""
    length = 2.0
    parts = [
        Part(LEAD_IN_S, pluck(hz(74), 1.9), 0.8, -0.2),
        Part(LEAD_IN_S + 0.16, pluck(hz(76), 1.8), 0.8, 0.2),
        Part(LEAD_IN_S + 0.32, pluck(hz(79), 1.65, vibrato_st=0.1), 1.0, 0.0),
        Part(LEAD_IN_S + 0.32, bell(hz(79), 1.65), 0.2, 0.3),
        Part(LEAD_IN_S + 0.32, mallet(hz(91)), 0.12, -0.3),
        Part(LEAD_IN_S + 0.32, bass(hz(43), 1.65, decay=1.0), 0.45, 0.0),
    ]
    parts += chord_pad(LEAD_IN_S + 0.32, (55, 62), 0.6, 0.06, release=0.8)
    return master_jingle(add_reverb(mix(parts, length), 0.2), tail_fade=0.9)


def brass_chord(
    start: float, notes: Sequence[int], hold: float, gain: float, release: float = 0.6
) -> list[Part]:
    """A brass section chord, voices spread a little left and right."""
    spread = np.linspace(-0.4, 0.4, len(notes)) if len(notes) > 1 else np.zeros(1)
    return [
        Part(start, brass(hz(note), hold, release=release), gain, float(pan))
        for note, pan in zip(notes, spread, strict=True)
    ]


def news_intro() -> Signal:
    """~4 s formal news sting: brass rising a fourth then a fifth (D-G-D) onto a G major chord."""
    at = beats(BPM_NEWS)
    length = 4.0
    parts = [
        Part(at(0.0), brass(hz(62), 0.2, release=0.08), 0.8, -0.1),
        Part(at(0.5), brass(hz(67), 0.2, release=0.08), 0.85, 0.1),
        Part(at(0.0), drum(hz(43)), 0.35, 0.0),
        Part(at(0.5), drum(hz(43)), 0.35, 0.0),
        Part(at(1.0), drum(hz(43), 1.4), 0.6, 0.0),
        Part(at(1.0), bell(hz(86), 2.6), 0.14, 0.35),
        Part(at(1.0), bell(hz(79), 2.6), 0.2, -0.3),
    ]
    parts += brass_chord(at(1.0), (43, 55, 59, 62, 67, 74), 1.5, 0.3)
    return master_jingle(add_reverb(mix(parts, length), 0.25), tail_fade=1.2)


def news_outro() -> Signal:
    """~3 s closing sting: A-D, then falling a fifth onto the G chord, fading out."""
    at = beats(BPM_NEWS)
    length = 3.0
    parts = [
        Part(at(0.0), brass(hz(69), 0.2, release=0.08), 0.8, -0.1),
        Part(at(0.5), brass(hz(74), 0.2, release=0.08), 0.85, 0.1),
        Part(at(1.0), drum(hz(43), 1.4), 0.55, 0.0),
        Part(at(1.0), bell(hz(79), 2.0), 0.2, 0.3),
    ]
    parts += brass_chord(at(1.0), (43, 50, 55, 59, 62, 67), 0.8, 0.3, release=0.7)
    return master_jingle(add_reverb(mix(parts, length), 0.25), tail_fade=1.4)


# Bed harmony, one entry per chord: (first bar, bars, bass note, pad voicing, arpeggio notes).
BED_CHORDS = (
    (0, 2, 43, (55, 59, 62, 69), (67, 71, 74, 76)),  # G(add9)
    (2, 2, 40, (55, 59, 62, 64), (64, 67, 71, 74)),  # Em7
    (4, 2, 48, (55, 60, 62, 64), (64, 67, 72, 74)),  # C(add9)
    (6, 2, 47, (55, 59, 62, 67), (62, 67, 71, 74)),  # G/B
    (8, 2, 45, (57, 60, 64, 67), (64, 67, 69, 72)),  # Am7
    (10, 1, 50, (57, 62, 67), (62, 67, 69, 74)),  # Dsus4
    (11, 1, 50, (57, 62, 66), (62, 66, 69, 74)),  # D
)
BED_BARS = 12
# Which arpeggio note sounds on each eighth of a bar (None = rest); two patterns alternate.
ARP_PATTERNS = ((0, None, 1, 2, None, 3, 2, None), (0, None, 2, 1, None, 3, None, 1))


def standard_bed() -> Signal:
    """32 s loop (12 bars of 4/4 at 90 BPM): soft pad chords, round bass, a light, dull plucked
    arpeggio. Rendered with wrap-around so the end flows straight into the start."""
    bar = 4 * 60.0 / BPM_STANDARD
    eighth = bar / 8
    length = BED_BARS * bar
    rng = np.random.default_rng(SEED + 1)
    parts: list[Part] = []
    for first, bars, bass_note, voicing, arp in BED_CHORDS:
        start = first * bar
        parts += chord_pad(start, voicing, bars * bar, 0.11, release=1.4)
        parts.append(Part(start, bass(hz(bass_note), bars * bar + 0.4, decay=4.0, release=0.6), 0.16, 0.0))
        parts.append(Part(start, bell(hz(arp[-1] + 12), 2.5), 0.05, 0.4))
        for b in range(bars):
            for slot, idx in enumerate(ARP_PATTERNS[(first + b) % 2]):
                if idx is None:
                    continue
                # Slightly human timing; a note nudged before 0 wraps round to the end of the loop.
                t = start + b * bar + slot * eighth + float(rng.uniform(-0.006, 0.006))
                vel = (0.8 if slot % 4 == 0 else 0.6) * float(rng.uniform(0.85, 1.0))
                voice = pluck(hz(arp[idx]), 1.6, brightness=0.45, decay=0.8, attack=0.012)
                parts.append(Part(t % length, voice, 0.22 * vel, -0.35 if slot % 2 == 0 else 0.35))
    return master_bed(add_reverb(mix(parts, length, loop=True), 0.3, circular=True))


ASSETS: dict[str, Callable[[], Signal]] = {
    "standard/intro.flac": standard_intro,
    "standard/outro.flac": standard_outro,
    "standard/ident.flac": standard_ident,
    "standard/bed.flac": standard_bed,
    "news/intro.flac": news_intro,
    "news/outro.flac": news_outro,
}


# --------------------------------------------------------------------------- cover art

Image = npt.NDArray[np.uint8]  # (height, width, 3) RGB


def cover(base: tuple[int, int, int], accent: tuple[int, int, int], size: int = 600) -> Image:
    """Cover art for ID3 APIC: a loudspeaker horn's sound waves, as concentric arcs on a gradient."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    radius = np.hypot(x - 0.18, y - 0.5)
    angle = np.abs(np.arctan2(y - 0.5, x - 0.18))
    waves = (np.sin(radius * 2 * np.pi * 7) > 0.55) & (angle < 0.75) & (radius > 0.16) & (radius < 0.85)
    horn = (x > 0.08) & (x < 0.3) & (np.abs(y - 0.5) < 0.05 + (x - 0.08) * 0.55)
    shade = (1.0 - 0.35 * y)[..., None]
    img = np.asarray(base, dtype=np.float64) * shade
    mask = (waves | horn)[..., None]
    img = np.where(mask, np.asarray(accent, dtype=np.float64), img)
    return np.asarray(np.clip(img, 0, 255), dtype=np.uint8)


def png_bytes(img: Image) -> bytes:
    """A minimal PNG encoder (8-bit RGB, no filtering), so no imaging library is needed."""
    height, width, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


COVERS: dict[str, Callable[[], Image]] = {
    "standard/cover.png": lambda: cover((18, 83, 148), (250, 196, 60)),
    "news/cover.png": lambda: cover((120, 24, 32), (245, 240, 230)),
}


# --------------------------------------------------------------------------- output


def ffmpeg_command(target: Path) -> list[str]:
    """Encode raw float32 stereo PCM from stdin to bit-exact 16-bit FLAC with no metadata."""
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(SR), "-ac", "2", "-i", "pipe:0",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-c:a", "flac", "-sample_fmt", "s16", "-f", "flac", str(target),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="templates folder")
    args = parser.parse_args(argv)
    out_dir: Path = args.out
    for name, build in ASSETS.items():
        audio = build()
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        pcm = np.clip(audio, -1.0, 1.0).astype("<f4").tobytes()
        try:
            subprocess.run(ffmpeg_command(tmp), input=pcm, check=True)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"{target}  {len(audio) / SR:.2f} s")
    for name, draw in COVERS.items():
        target = out_dir / name
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(png_bytes(draw()))
        os.replace(tmp, target)
        print(f"{target}  cover image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
