"""The espeak-ng engine: offline Vietnamese speech. The one module that runs espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pipeline.errors import RenderError, ToolMissingError

ESPEAK = "espeak-ng"


def check_tool() -> str:
    """Stop before any work when espeak-ng is missing; return its version (part of the cache key)."""
    if shutil.which(ESPEAK) is None:
        raise ToolMissingError(
            f"{ESPEAK} is not installed (on Debian: apt-get install espeak-ng, or run make demo)"
        )
    done = subprocess.run([ESPEAK, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split("Data at")[0].strip() or "unknown"


def synthesize(text: str, *, voice: str, rate_wpm: int, out: Path) -> None:
    """Speak `text` into a WAV file (22.05 kHz mono). The caller handles atomic placement."""
    done = subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(rate_wpm), "-b", "1", "-w", str(out)],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
        message = done.stderr.decode("utf-8", "replace").strip() or "no audio produced"
        raise RenderError(f"espeak-ng failed for voice {voice!r}: {message}")
