"""Benchmark: a second ``govgraph run`` of an unchanged corpus, against the first.

Runs the main job (``etl.run.run_corpus``: extract, load, report) twice on the same corpus into
the same output folder, on an embedded Neo4j of its own (a throw-away working folder, free
ports), and prints for each run its wall-clock seconds, the documents extracted and those
reused. The bar (issue 23): the second run extracts 0 documents and takes under 10 % of the
first. The first run is the yardstick, measured in the same process minutes before.

    .venv/bin/python benchmarks/incremental.py ../shared/train/raw --workers 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.neo4j import server  # noqa: E402
from etl.run import run_corpus  # noqa: E402


def timed_run(corpus: Path, out: Path, workers: int) -> tuple[float, int, int]:
    """One run; each step's line printed with the seconds since the run began."""
    began = time.perf_counter()

    def say(line: str) -> None:
        print(f"  {time.perf_counter() - began:7.1f} s  {line}", flush=True)

    result = run_corpus([corpus], out, workers=workers, mode="fresh" if not (out / "records.jsonl").exists()
                        else "check", say=say)
    seconds = time.perf_counter() - began
    return seconds, result.extract.documents - result.extract.reused, result.extract.reused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govgraph-incremental-") as scratch:
        home = Path(scratch) / "home"
        os.environ["GOVGRAPH_HOME"] = str(home)
        for name in ("NEO4J_URI", "NEO4J_PASSWORD"):
            os.environ.pop(name, None)
        out = Path(scratch) / "build"
        try:
            first = timed_run(args.corpus, out, args.workers)
            second = timed_run(args.corpus, out, args.workers)
        finally:
            server.stop(home)
    print(f"corpus {args.corpus}, --workers {args.workers}")
    for name, (seconds, extracted, reused) in (("first", first), ("second", second)):
        print(f"{name} run: {seconds:.1f} s, {extracted} documents extracted, {reused} reused")
    print(f"second / first: {second[0] / first[0]:.1%}")


if __name__ == "__main__":
    main()
