"""The espeak-ng engine: offline Vietnamese speech. The one module that runs espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import RenderError, ToolMissingError

ESPEAK = "espeak-ng"
DEFAULT_PITCH = 50  # espeak-ng's own default, 0-99


def check_tool() -> str:
    """Stop before any work when espeak-ng is missing; return its version (part of the cache key)."""
    if shutil.which(ESPEAK) is None:
        raise ToolMissingError(
            f"{ESPEAK} is not installed (on Debian: apt-get install espeak-ng, or run make demo)"
        )
    done = subprocess.run([ESPEAK, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split("Data at")[0].strip() or "unknown"


def parse_voice_list(listing: str) -> frozenset[str]:
    """Every name a voice of `espeak-ng --voices[=variant]` answers to, lower case: its language code,
    its name and its file (with and without the folder)."""
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            language, name, file = columns[1], columns[3], columns[4]
            names |= {language.lower(), name.lower(), file.lower(), file.rsplit("/", 1)[-1].lower()}
    return frozenset(names)


def known_voices() -> tuple[frozenset[str], frozenset[str]]:
    """(voices, variants) this espeak-ng has, for `voice_is_known`."""
    listings = []
    for option in ("--voices", "--voices=variant"):
        done = subprocess.run([ESPEAK, option], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ToolMissingError(f"{ESPEAK} {option} failed: {done.stderr.strip()}")
        listings.append(parse_voice_list(done.stdout))
    return listings[0], listings[1]


def voice_is_known(spec: str, voices: frozenset[str], variants: frozenset[str]) -> bool:
    """`vi`, `vi-vn-x-south` or `vi+f3` (voice + variant) against the lists of `known_voices`."""
    base, plus, variant = spec.partition("+")
    return base.lower() in voices and (not plus or variant.lower() in variants)


def synthesize(text: str, *, voice: str, rate_wpm: int, out: Path, pitch: int = DEFAULT_PITCH) -> None:
    """Speak `text` into a WAV file (22.05 kHz mono). The caller handles atomic placement."""
    done = subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-b", "1", "-w", str(out)],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
        message = done.stderr.decode("utf-8", "replace").strip() or "no audio produced"
        raise RenderError(f"espeak-ng failed for voice {voice!r}: {message}")


def synthesize_sentences(
    sentences: Sequence[str], *, voice: str, rate_wpm: int, out: Path, pitch: int = DEFAULT_PITCH
) -> tuple[float, ...]:
    """Speak each sentence on its own and join them into one WAV at `out`; return each sentence's
    duration in seconds, measured from espeak-ng's output (the transcript's timings). Sentence by
    sentence because espeak-ng's command line reports no timings of its own."""
    parts = [out.with_name(f"{out.name}.{index}.wav") for index in range(len(sentences))]
    try:
        durations = []
        with wave.open(str(out), "wb") as joined:
            for index, (sentence, part) in enumerate(zip(sentences, parts, strict=True)):
                synthesize(sentence, voice=voice, rate_wpm=rate_wpm, out=part, pitch=pitch)
                with wave.open(str(part), "rb") as piece:
                    if index == 0:
                        joined.setparams(piece.getparams())
                    frames = piece.readframes(piece.getnframes())
                    durations.append(piece.getnframes() / piece.getframerate())
                joined.writeframes(frames)
        return tuple(durations)
    except (OSError, wave.Error, EOFError) as exc:
        raise RenderError(f"espeak-ng output could not be joined: {exc}", path=out) from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
