"""Throughput of the reading stage over the seed plans, one sentence per line.

Prints sentences/second through `read_aloud` and the ratio to a baseline measured in the same run
(NFC normalisation + lowercasing of the same sentences), so figures compare across machines.
Usage: python bench/bench_reading.py [SEED_DIR_OR_FILE ...] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.reading import load_lexicon, read_aloud  # noqa: E402

DEFAULT_SEEDS = Path("/work/shared/seeds")


def load_sentences(sources: list[Path]) -> list[str]:
    """Every non-empty line of the given files (or of the *.txt files in the given folders)."""
    files: list[Path] = []
    for source in sources:
        files += sorted(source.glob("*.txt")) if source.is_dir() else [source]
    sentences: list[str] = []
    for path in files:
        sentences += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sentences


def rate(work: Callable[[str], object], sentences: list[str], rounds: int) -> float:
    """Best sentences/second over `rounds` passes (the best pass is the least disturbed one)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for sentence in sentences:
            work(sentence)
        best = min(best, time.perf_counter() - start)
    return len(sentences) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", type=Path, default=[DEFAULT_SEEDS])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sentences = load_sentences(args.sources)
    if not sentences:
        sys.exit("no sentences found")
    lexicon = load_lexicon()
    baseline = rate(lambda s: unicodedata.normalize("NFC", s).lower(), sentences, args.rounds)
    reading = rate(lambda s: read_aloud(s, lexicon), sentences, args.rounds)
    chars = sum(len(s) for s in sentences) / len(sentences)
    print(f"sentences: {len(sentences)} (mean {chars:.0f} characters)")
    print(f"read_aloud: {reading:,.0f} sentences/second")
    print(f"baseline (NFC + lower): {baseline:,.0f} sentences/second")
    print(f"ratio read_aloud/baseline: {reading / baseline:.4f} ({baseline / reading:.0f}x slower)")


if __name__ == "__main__":
    main()
