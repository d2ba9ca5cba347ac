"""No-op rebuild and one-paragraph edit of the sample scripts (issue 4).

The project is copied to a temp folder and built once: by default with edge-tts, through the loopback fake
of the service (tests/fake_edge_service.py: the real edge-tts client, real MP3 speech), or with
`--engine espeak`. Then, in this run:
- baseline: `python -c "import pipeline.cli"`, the bare start-up of the command (median of 5);
- no-op rebuild: `radio build` with nothing changed (median of 5), against the baseline. Target: < 1 s;
- one-paragraph edit: one paragraph of one script changed, rebuilt; how many paragraphs were synthesised
  (speech[].cached = false in the manifests that build wrote) and how many requests the service saw.
  Target: 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_edge_service import FakeEdgeService  # noqa: E402

TARGET_S = 1.0
RUNS = 5


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return wall, done.stdout + done.stderr


def median_of(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    return statistics.median(timed(args, cwd, env)[0] for _ in range(RUNS))


def manifests(project: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (project / "build" / "programs").glob("*.json")}


def edit_one_paragraph(project: Path) -> str:
    """Change a number in the first spoken paragraph of the first script; return the script's name."""
    script = sorted((project / "scripts").glob("*.md"))[0]
    lines = script.read_text(encoding="utf-8").split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(("A:", "B:")))
    lines[index] += " Xin trân trọng cảm ơn bà con."
    script.write_text("\n".join(lines), encoding="utf-8")
    return script.name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["edge", "espeak"], default="edge")
    args = parser.parse_args()
    radio = [sys.executable, "-m", "pipeline", "build", "-q", "--engine", args.engine]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as folder, FakeEdgeService() as fake:
        project = Path(folder)
        for name in ("scripts", "audio_templates", "schedules"):
            shutil.copytree(REPO / name, project / name)
        shutil.copy(REPO / "radio.toml", project / "radio.toml")
        env = {**os.environ, "PYTHONPATH": str(REPO), "RADIO_EDGE_TTS_URL": fake.url}
        env.pop("RADIO_BUILD_DIR", None)

        first, _ = timed(radio, project, env)
        programs = len(manifests(project))
        paragraphs = sum(len(json.loads(m)["speech"]) for m in manifests(project).values())
        print(
            f"engine {args.engine}: first build: {programs} programs, {paragraphs} paragraphs, {first:.1f} s"
        )

        baseline = median_of([sys.executable, "-c", "import pipeline.cli"], project, env)
        noop = median_of(radio, project, env)
        verdict = "ok" if noop < TARGET_S else "MISSED"
        print(f"baseline  python -c 'import pipeline.cli'      {baseline * 1000:7.0f} ms (median of {RUNS})")
        print(f"no-op     radio build, nothing changed         {noop * 1000:7.0f} ms (median of {RUNS})")
        print(f"ratio     no-op / baseline                     {noop / baseline:7.2f}x")
        print(f"target    no-op < {TARGET_S:.0f} s: {verdict}")

        before = manifests(project)
        asked = len(fake.seen.syntheses)
        script = edit_one_paragraph(project)
        edit, _ = timed(radio, project, env)
        after = manifests(project)
        rewritten = [name for name in after if after[name] != before.get(name)]
        synthesised = sum(
            not entry["cached"] for name in rewritten for entry in json.loads(after[name])["speech"]
        )
        print(f"edit      one paragraph of {script}: rebuilt in {edit:.1f} s; programs re-rendered: "
              f"{len(rewritten)}; paragraphs synthesised: {synthesised} of {paragraphs}; "
              f"service requests: {len(fake.seen.syntheses) - asked}")  # fmt: skip
        print(f"target    one paragraph synthesised: {'ok' if synthesised == 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
