"""The one module that runs ffmpeg and ffprobe. Every call goes through `run`, which turns a failure
into a RenderError carrying the tail of ffmpeg's stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import RenderError, ToolMissingError
from pipeline.models import AudioFormat, Loudness

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
BASE_ARGS = (FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-y")
SUMMARY_RE = re.compile(
    r"Integrated loudness:\s*I:\s*(?P<i>-?[\d.]+|-inf) LUFS.*?"
    r"Loudness range:\s*LRA:\s*(?P<lra>-?[\d.]+) LU"
    r"(?:.*?True peak:\s*Peak:\s*(?P<tp>-?[\d.]+|-inf) dBFS)?",
    re.DOTALL,
)


def check_tools() -> None:
    """Stop before any work when ffmpeg or ffprobe is missing."""
    for tool in (FFMPEG, FFPROBE):
        if shutil.which(tool) is None:
            raise ToolMissingError(
                f"{tool} is not installed (on Debian: apt-get install ffmpeg, or run make demo)"
            )


def run(args: Sequence[str], *, what: str, path: Path | None = None) -> str:
    """Run ffmpeg/ffprobe; return stderr (where ffmpeg logs measurements); raise RenderError on failure."""
    started = time.perf_counter()
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, errors="replace", check=False)
    except FileNotFoundError:
        raise ToolMissingError(f"{args[0]} is not installed") from None
    if os.environ.get("RADIO_TRACE_FFMPEG"):
        print(f"[ffmpeg] {time.perf_counter() - started:6.3f} s  {what}", file=sys.stderr)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise RenderError(f"{what} failed (ffmpeg exit {done.returncode}): {tail}", path=path)
    return done.stdout if args[0] == FFPROBE else done.stderr


def probe(path: Path) -> dict[str, object]:
    out = run(
        [
            FFPROBE,
            "-v",
            "error",
            "-show_entries",
            "format=duration,bit_rate:stream=codec_name,sample_rate,channels",
            "-of",
            "json",
            str(path),
        ],
        what=f"reading {path.name}",
        path=path,
    )
    data: dict[str, object] = json.loads(out)
    return data


def _streams_and_format(path: Path) -> tuple[dict[str, object], dict[str, object]]:
    if not path.is_file():
        raise RenderError("audio file is missing", path=path)
    data = probe(path)
    fmt, streams = data.get("format"), data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(streams, list) or not streams or "duration" not in fmt:
        raise RenderError("not a readable audio file", path=path)
    return streams[0], fmt


def duration_of(path: Path) -> float:
    """Duration in seconds of an audio file; a clear error naming the file when it is missing or corrupt."""
    _, fmt = _streams_and_format(path)
    seconds = float(str(fmt["duration"]))
    if seconds <= 0:
        raise RenderError("audio file is empty", path=path)
    return seconds


def audio_format(path: Path) -> tuple[AudioFormat, float]:
    """Codec, rate, channels and bitrate of a file, and its duration, in one probe."""
    stream, fmt = _streams_and_format(path)
    return (
        AudioFormat(
            codec=str(stream["codec_name"]),
            sample_rate=int(str(stream["sample_rate"])),
            channels=int(str(stream["channels"])),
            bitrate_kbps=round(int(str(fmt.get("bit_rate", 0))) / 1000),
        ),
        float(str(fmt["duration"])),
    )


def parse_loudness(stderr: str, meter: str | None = None) -> Loudness:
    """The last ebur128 summary in a log, or the last one of the meter named `meter` (e.g. ebur128@r0)."""
    marker = f"[{meter} @" if meter else "Summary:"
    summary = stderr[stderr.rfind(marker) :]
    match = SUMMARY_RE.search(summary)
    if match is None:
        raise RenderError("ffmpeg printed no loudness summary")

    def number(text: str | None) -> float:
        return float("-inf") if text is None or text == "-inf" else float(text)

    return Loudness(
        integrated_lufs=number(match.group("i")),
        true_peak_dbtp=number(match.group("tp")),
        lra=number(match.group("lra")),
    )


def measure(path: Path, *, true_peak: bool = True) -> Loudness:
    """Integrated loudness, LRA and true peak of a file as decoded (ITU-R BS.1770 via ebur128)."""
    peak = "true" if true_peak else "none"
    stderr = run(
        [*BASE_ARGS, "-i", str(path), "-af", f"ebur128=peak={peak}:framelog=verbose", "-f", "null", "-"],
        what=f"measuring {path.name}",
        path=path,
    )
    return parse_loudness(stderr)


def measure_joined(paths: Sequence[Path]) -> Loudness:
    """Integrated loudness of several files played one after another (no true peak)."""
    args: list[str] = list(BASE_ARGS)
    for path in paths:
        args += ["-i", str(path)]
    joined = "".join(f"[{i}:a]aresample=44100,aformat=channel_layouts=mono[a{i}];" for i in range(len(paths)))
    chain = f"{joined}{''.join(f'[a{i}]' for i in range(len(paths)))}concat=n={len(paths)}:v=0:a=1,"
    args += ["-filter_complex", f"{chain}ebur128=peak=none:framelog=verbose", "-f", "null", "-"]
    return parse_loudness(run(args, what="measuring speech level"))


def render_graph_multi(
    inputs: Sequence[Sequence[str]],
    graph: str,
    outputs: Sequence[tuple[str, Path, Sequence[str]]],
    *,
    what: str,
) -> str:
    """One filtergraph, several outputs: (graph label, file, codec options) each."""
    args: list[str] = list(BASE_ARGS)
    for spec in inputs:
        args += [*spec[:-1], "-i", spec[-1]]
    args += ["-filter_complex", graph]
    for label, out, codec_args in outputs:
        args += ["-map", f"[{label}]", *codec_args, str(out)]
    return run(args, what=what)


def run_filter_to_null(src: Path, filters: str) -> str:
    """Run filters over a file and discard the audio (for measurements); return the log."""
    return run(
        [*BASE_ARGS, "-i", str(src), "-af", filters, "-f", "null", "-"],
        what=f"analysing {src.name}",
        path=src,
    )


def transcode(src: Path, out: Path, *, filters: str, codec_args: Sequence[str], what: str) -> str:
    args = [*BASE_ARGS, "-i", str(src), "-af", filters, "-map_metadata", "-1", *codec_args, str(out)]
    return run(args, what=what, path=src)


# Station playout: ffmpeg decodes in real time (-re) into a sound card, or into `null`, which still runs the
# real decoder; -xerror makes a damaged file fail instead of sending noise to the amplifier.
PLAYOUT_SINKS = {
    "alsa": ("-f", "alsa", "default"),
    "pulse": ("-f", "pulse", "default"),
    "null": ("-f", "null", "-"),
}


def playout_args(file: str, sink: str = "alsa", *, realtime: bool = True) -> list[str]:
    """The ffmpeg command that plays `file` into one of PLAYOUT_SINKS."""
    if sink not in PLAYOUT_SINKS:
        raise ValueError(f"unknown sink {sink!r}; choose one of {', '.join(PLAYOUT_SINKS)}")
    pace = ["-re"] if realtime else []
    return [FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-v", "error", "-xerror", *pace, "-i", file,
            *PLAYOUT_SINKS[sink]]  # fmt: skip


def play(
    args: Sequence[str],
    *,
    pass_fds: Sequence[int] = (),
    interrupt: Callable[[], bool] | None = None,
    poll_s: float = 0.5,
) -> tuple[int | None, str]:
    """Run a playout command (ffmpeg, or the station's own player) to its end: exit code and stderr tail.

    `interrupt` is asked every `poll_s` seconds; when it answers True the player is stopped and the code is
    None (an emergency cuts in). A missing player is a ToolMissingError; a failing one is the caller's to
    report (that item failed, the day goes on)."""
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty player can never block on it
        try:
            proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=log, pass_fds=tuple(pass_fds))  # fmt: skip
        except FileNotFoundError:
            raise ToolMissingError(f"{args[0]} is not installed") from None
        code: int | None
        try:
            while True:
                try:
                    code = proc.wait(timeout=poll_s if interrupt is not None else None)
                    break
                except subprocess.TimeoutExpired:
                    if interrupt is not None and interrupt():
                        proc.terminate()
                        proc.wait()
                        code = None
                        break
        finally:
            if proc.poll() is None:  # interrupted by a signal or an exception: never leave a player behind
                proc.kill()
                proc.wait()
        log.seek(0)
        tail = log.read().decode("utf-8", "replace").strip().splitlines()[-6:]
    return code, "\n".join(tail)
