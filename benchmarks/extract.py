"""Benchmark: extraction throughput against the statistical analyser's model alone.

Builds (or reuses) a synthetic corpus (benchmarks/corpus.py), then in one run measures
characters per second of:
  - the analyser's model alone (LAC through onnxruntime, one thread) over the very pieces the
    pipeline gives it: the yardstick, since no extraction can be faster than its model;
  - jieba.lcut over every document (the old yardstick, for comparison with earlier figures);
  - the whole extraction (read, normalize, segment, analyser, grammars, relations, records.jsonl)
    with 1 worker and with 2 workers, and the peak resident memory of a worker.

A run's start (importing spaCy, building the pipeline, reading the gazetteer and the lexicon,
loading the model: ``etl.extract._warm_up``, once a run before workers fork) is timed apart and
left out of both extraction rates, as loading the model is left out of the yardstick: it is
paid once whatever the corpus size. Each figure is the best of ``--rounds`` rounds, taken in
turn (model, 1 worker, 2 workers), so that another process's burst on a shared machine does not
decide a ratio; CPU seconds of the model and of a 1-worker extraction are shown too.

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
from etl.extract import _warm_up, analyser, extract_corpus  # noqa: E402
from etl.input.normalize import normalize  # noqa: E402
from etl.input.read import read_document  # noqa: E402


def pieces_of(paths: list[Path]) -> list[str]:
    """The pieces the pipeline gives the model, of every document."""
    pieces = []
    for path in paths:
        text = normalize(read_document(path)).text
        pieces.extend(text[start:end] for start, end in analyser._runs(text))
    return pieces


def model_seconds(pieces: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of the model alone, called as the analyser calls it, on the pieces."""
    model = analyser._model()
    began, cpu = time.perf_counter(), time.process_time()
    for piece in pieces:
        model.run(piece)
    return time.perf_counter() - began, time.process_time() - cpu


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


def extract_seconds(corpus: Path, workers: int) -> tuple[float, float]:
    """(wall, CPU) seconds of extracting the corpus into a records.jsonl; CPU counts the workers."""
    with tempfile.TemporaryDirectory() as out:
        began, cpu = time.perf_counter(), _cpu()
        summary = extract_corpus([corpus], Path(out), workers=workers)
        elapsed = time.perf_counter() - began, _cpu() - cpu
    assert not summary.failures, summary.failures[:3]
    return elapsed


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="each figure is the best of this many")
    parser.add_argument("--corpus", type=Path, default=None, help="default: build/bench-extract-<N>mb")
    args = parser.parse_args()
    args.corpus = args.corpus or Path(f"build/bench-extract-{args.megabytes:g}mb")
    paths = sorted(args.corpus.glob("*.txt")) if args.corpus.exists() else []
    if sum(p.stat().st_size for p in paths) < args.megabytes * 2**20:
        paths = generate(args.corpus, megabytes=args.megabytes)
    pieces = pieces_of(paths)
    chars = sum(map(len, pieces))
    began = time.perf_counter()
    _warm_up()
    start = time.perf_counter() - began
    jieba = jieba_rate(paths)
    model, one, two = [], [], []
    for _ in range(args.rounds):
        model.append(model_seconds(pieces))
        one.append(extract_seconds(args.corpus, 1))
        two.append(extract_seconds(args.corpus, 2)[0])
    yardstick = chars / min(wall for wall, _ in model)
    one_rate, two_rate = chars / min(wall for wall, _ in one), chars / min(two)
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {machine()}")
    print(f"corpus: {len(paths)} documents, {chars:,} characters, "
          f"{sum(p.stat().st_size for p in paths) / 2**20:.1f} MB; cpu count {os.cpu_count()}; "
          f"best of {args.rounds} rounds")
    print(f"{'':32} {'chars/s':>12} {'vs model':>9}")
    print(f"{'LAC model alone (yardstick)':32} {yardstick:12,.0f} {1:9.2f}")
    print(f"{'jieba.lcut (old yardstick)':32} {jieba:12,.0f} {jieba / yardstick:9.2f}")
    print(f"{'extraction, 1 worker':32} {one_rate:12,.0f} {one_rate / yardstick:9.2f}")
    print(f"{'extraction, 2 workers':32} {two_rate:12,.0f} {two_rate / yardstick:9.2f}")
    print(f"2 workers / 1 worker: {two_rate / one_rate:.2f}x; peak resident memory of a worker: {worker_mb:,.0f} MB")
    print("each round, seconds (model, 1 worker, 2 workers): "
          + "; ".join(f"{m:.1f}, {o:.1f}, {t:.1f}" for (m, _), (o, _), t in zip(model, one, two, strict=True)))
    print(f"CPU seconds, model alone {min(c for _, c in model):.2f}, extraction with 1 worker "
          f"{min(c for _, c in one):.2f} (ratio {min(c for _, c in model) / min(c for _, c in one):.2f}); "
          f"a run's start, not in the rates: {start:.2f} s")


if __name__ == "__main__":
    main()
