"""Benchmark: extraction throughput against plain jieba segmentation of the same text.

Builds (or reuses) a synthetic corpus of at least 20 MB (benchmarks/corpus.py), then in one
run measures characters per second of:
  - jieba.lcut over every document (the yardstick: segmentation alone, nothing extracted),
  - the whole extraction (read, normalize, segment, spaCy pipeline, relations, records.jsonl)
    with 1 worker and with 2 workers.

    .venv/bin/python benchmarks/extract.py --megabytes 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.neo4j_start import machine  # noqa: E402
from etl.extract import extract_corpus  # noqa: E402


def jieba_rate(paths: list[Path]) -> tuple[float, int]:
    import jieba

    jieba.initialize()
    chars = 0
    began = time.perf_counter()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        jieba.lcut(text)
        chars += len(text)
    return chars / (time.perf_counter() - began), chars


def extract_rate(corpus: Path, chars: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        summary = extract_corpus([corpus], Path(out), workers=workers)
        elapsed = time.perf_counter() - began
    assert not summary.failures, summary.failures[:3]
    return chars / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--corpus", type=Path, default=Path("build/bench-extract"))
    args = parser.parse_args()
    paths = sorted(args.corpus.glob("*.txt")) if args.corpus.exists() else []
    if sum(p.stat().st_size for p in paths) < args.megabytes * 2**20:
        paths = generate(args.corpus, megabytes=args.megabytes)
    yardstick, chars = jieba_rate(paths)
    one = extract_rate(args.corpus, chars, 1)
    two = extract_rate(args.corpus, chars, 2)
    print(f"machine: {machine()}")
    print(f"corpus: {len(paths)} documents, {chars:,} characters, "
          f"{sum(p.stat().st_size for p in paths) / 2**20:.1f} MB; cpu count {os.cpu_count()}")
    print(f"{'':28} {'chars/s':>12} {'vs jieba':>9}")
    print(f"{'jieba.lcut (yardstick)':28} {yardstick:12,.0f} {1:9.2f}")
    print(f"{'extraction, 1 worker':28} {one:12,.0f} {one / yardstick:9.2f}")
    print(f"{'extraction, 2 workers':28} {two:12,.0f} {two / yardstick:9.2f}")
    print(f"2 workers / 1 worker: {two / one:.2f}x")


if __name__ == "__main__":
    main()
