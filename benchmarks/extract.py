"""Benchmark: extraction throughput against the statistical analyser's model alone.

Builds (or reuses) a synthetic corpus (benchmarks/corpus.py), then in one run measures
characters per second of:
  - the analyser's model alone (LAC through onnxruntime, one thread) over the very pieces the
    pipeline gives it: the yardstick, since no extraction can be faster than its model;
  - jieba.lcut over every document (the old yardstick, for comparison with earlier figures);
  - the whole extraction (read, normalize, segment, analyser, grammars, relations, records.jsonl)
    with 1 worker and with 2 workers, and the peak resident memory of a worker.

    .venv/bin/python benchmarks/extract.py --megabytes 2
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.neo4j_start import machine  # noqa: E402
from etl.extract import analyser, extract_corpus  # noqa: E402
from etl.normalize import normalize  # noqa: E402
from etl.read import read_document  # noqa: E402


def model_rate(paths: list[Path]) -> tuple[float, int]:
    """Characters per second of the model alone on the pipeline's own pieces of each document."""
    pieces = []
    for path in paths:
        text = normalize(read_document(path)).text
        pieces.extend(text[start:end] for start, end in analyser._runs(text))
    model = analyser._model()
    chars = sum(map(len, pieces))
    began = time.perf_counter()
    for piece in pieces:
        model.run(piece)
    return chars / (time.perf_counter() - began), chars


def jieba_rate(paths: list[Path]) -> float:
    import jieba

    jieba.initialize()
    chars = 0
    began = time.perf_counter()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        jieba.lcut(text)
        chars += len(text)
    return chars / (time.perf_counter() - began)


def extract_rate(corpus: Path, chars: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        summary = extract_corpus([corpus], Path(out), workers=workers)
        elapsed = time.perf_counter() - began
    assert not summary.failures, summary.failures[:3]
    return chars / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2)
    parser.add_argument("--corpus", type=Path, default=None, help="default: build/bench-extract-<N>mb")
    args = parser.parse_args()
    args.corpus = args.corpus or Path(f"build/bench-extract-{args.megabytes:g}mb")
    paths = sorted(args.corpus.glob("*.txt")) if args.corpus.exists() else []
    if sum(p.stat().st_size for p in paths) < args.megabytes * 2**20:
        paths = generate(args.corpus, megabytes=args.megabytes)
    yardstick, chars = model_rate(paths)
    jieba = jieba_rate(paths)
    one = extract_rate(args.corpus, chars, 1)
    two = extract_rate(args.corpus, chars, 2)
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {machine()}")
    print(f"corpus: {len(paths)} documents, {chars:,} characters, "
          f"{sum(p.stat().st_size for p in paths) / 2**20:.1f} MB; cpu count {os.cpu_count()}")
    print(f"{'':32} {'chars/s':>12} {'vs model':>9}")
    print(f"{'LAC model alone (yardstick)':32} {yardstick:12,.0f} {1:9.2f}")
    print(f"{'jieba.lcut (old yardstick)':32} {jieba:12,.0f} {jieba / yardstick:9.2f}")
    print(f"{'extraction, 1 worker':32} {one:12,.0f} {one / yardstick:9.2f}")
    print(f"{'extraction, 2 workers':32} {two:12,.0f} {two / yardstick:9.2f}")
    print(f"2 workers / 1 worker: {two / one:.2f}x; peak resident memory of a worker: {worker_mb:,.0f} MB")


if __name__ == "__main__":
    main()
