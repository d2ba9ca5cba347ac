"""Render speed and memory: our one-graph renderer against a pydub reference build of the same program.

A ~5-minute program is made from the sample scripts (speech synthesised once, then cached), and then, in
this run: our renderer with both renditions, our renderer with the loudspeaker rendition only, and the
pydub + pyloudnorm reference (bench/pydub_reference.py). Each runs as its own process; wall time, CPU time
(process and its children, e.g. ffmpeg) and peak RSS (largest process) come from wait4(). Prints figures
and the ratios. Targets (issue 5): >= 3x faster than pydub, peak RSS < 150 MB, loudspeaker rendition of a
5-minute program in < 4 s wall on a 2-core machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_S = 300.0


def measured(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall s, cpu s, peak RSS MiB) of a command and everything it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def long_script(project: Path) -> Path:
    """One script of about five minutes: sections of the sample scripts until the speech is long enough."""
    sources = sorted((REPO / "scripts").glob("*.md"))
    head, body = sources[0].read_text(encoding="utf-8").split("\n---\n", 1)
    head = re.sub(r"\nid: .*", "\nid: bench-five-minutes", head)
    head = re.sub(r"\nkind: .*", "\nkind: filler", head)  # filler bounds allow 20-600 s
    # The sample bodies last about 3.6 minutes with jingles; about a quarter more text makes five.
    more: list[str] = []
    for paragraph in sources[1].read_text(encoding="utf-8").split("\n---\n", 1)[1].split("\n\n"):
        if sum(map(len, more)) > 0.2 * len(body):
            break
        more.append(paragraph)
    path = project / "scripts" / "bench-five-minutes.md"
    path.write_text(f"{head}\n---\n{body}\n\n" + "\n\n".join(more) + "\n", encoding="utf-8")
    return path


def make_project(folder: Path, *, web: bool) -> Path:
    for name in ("audio_templates", "schedules"):
        shutil.copytree(REPO / name, folder / name)
    config = (REPO / "radio.toml").read_text(encoding="utf-8")
    if not web:
        config += "\n"  # placeholder so both projects share the same text apart from this switch
        config = config.replace("[renditions.web]", "[renditions.web]\nenabled = false")
    (folder / "radio.toml").write_text(config, encoding="utf-8")
    (folder / "scripts").mkdir()
    long_script(folder)
    return folder


def pydub_plan(project: Path, out: Path) -> float:
    """The reference's input: the same template and the cached speech segments of the same script."""
    sys.path.insert(0, str(REPO))
    from pipeline.build import lexicon_files
    from pipeline.config import load_settings
    from pipeline.espeak import check_tool
    from pipeline.reading import load_lexicon
    from pipeline.render import speak
    from pipeline.scripts import parse_script
    from pipeline.speech import synthesize_script
    from pipeline.templates import load_template

    settings = load_settings(project / "radio.toml")
    script = parse_script(project / "scripts" / "bench-five-minutes.md")
    spoken, _ = speak(script, load_lexicon(lexicon_files(settings)))
    segments = synthesize_script(
        spoken,
        presenters=settings.presenters,
        rate_wpm=settings.speech_rate_wpm,
        engine_version=check_tool(),
        cache_dir=settings.cache_dir,
    )
    template = load_template(settings.templates_dir, script.meta.template)
    loudspeaker = settings.renditions[0]
    plan = {
        "intro": str(template.intro),
        "outro": str(template.outro),
        "bed": str(template.bed) if template.bed else None,
        "bed_level_db": template.bed_level_db,
        "intro_overlap_s": template.intro_overlap_s,
        "outro_gap_s": template.outro_gap_s,
        "paragraph_gap_s": template.paragraph_gap_s,
        "section_gap_s": template.section_gap_s,
        "integrated_lufs": loudspeaker.integrated_lufs,
        "true_peak_dbtp": loudspeaker.true_peak_dbtp,
        "segments": [{"file": str(s.audio), "section": s.section} for s in segments],
    }
    out.write_text(json.dumps(plan), encoding="utf-8")
    return sum(s.duration_s for s in segments)


def loudness(path: Path) -> str:
    err = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        errors="replace",
        check=True,
    ).stderr
    summary = err[err.rfind("Summary:") :]
    i = re.search(r"I:\s+(-?[\d.]+)", summary)
    tp = re.search(r"Peak:\s+(-?[\d.]+)", summary)
    return f"{i.group(1) if i else '?'} LUFS, {tp.group(1) if tp else '?'} dBTP"


def main() -> None:
    radio = [PYTHON, "-m", "pipeline", "build", "--jobs", "1", "--quiet", "--engine", "espeak"]
    env_root = str(REPO)
    os.environ["PYTHONPATH"] = env_root + os.pathsep + os.environ.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        both = make_project(Path(tmp) / "both", web=True)
        only = make_project(Path(tmp) / "loudspeaker", web=False)
        wall, cpu, rss = measured(radio, both)
        print(f"first build (synthesis + render, both renditions): {wall:.2f} s wall")
        shutil.copytree(both / "build" / "cache", only / "build" / "cache")
        manifest = json.loads((both / "build" / "programs" / "bench-five-minutes.json").read_text("utf-8"))
        primary = both / "build" / "programs" / "bench-five-minutes.mp3"
        print(f"program: {manifest['duration_s']:.1f} s, loudspeaker {loudness(primary)}")
        results = {}
        for label, project in (("ours, both renditions", both), ("ours, loudspeaker only", only)):
            shutil.rmtree(project / "build" / "programs", ignore_errors=True)
            results[label] = measured(radio, project)
        plan = Path(tmp) / "plan.json"
        pydub_plan(both, plan)
        out = Path(tmp) / "pydub.mp3"
        results["pydub reference"] = measured(
            [PYTHON, str(REPO / "bench" / "pydub_reference.py"), str(plan), str(out)], both
        )
        print(f"pydub output: {loudness(out)}")
    base = results["pydub reference"]
    header = f"{'render (speech cached)':<26} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}"
    print(f"{header} {'vs pydub (wall)':>16}")
    for label, (wall, cpu, rss) in results.items():
        print(f"{label:<26} {wall:>8.2f} {cpu:>8.2f} {rss:>13.0f} {base[0] / wall:>15.1f}x")


if __name__ == "__main__":
    main()
