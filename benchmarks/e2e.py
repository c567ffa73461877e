"""Benchmark: `govgraph run` end to end on a generated corpus, and each stage's share of it.

Generates (or reuses) --docs reports (benchmarks/corpus.py), then times the real command,
`govgraph run CORPUS --fresh --yes --workers N`, in a working folder of its own (its embedded
Neo4j started by the command and stopped after it). Stages are told apart by the lines the
command prints as each one ends, each stamped as it arrives: the server's start and the graph's
check, extraction, loading (with emptying the graph), and the compare pack and the report.

    .venv/bin/python benchmarks/e2e.py --docs 10000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.neo4j_start import machine  # noqa: E402

# A stage ends with the first line that starts with its marker (etl/run.py's say lines).
STAGES = (("start Neo4j, check the graph", "the graph holds"), ("extract", "extracted "),
          ("load", "loaded "), ("compare pack and report", None))


def timed_run(corpus: Path, workers: int, home: Path, extra: list[str]) -> tuple[float, list[float], str]:
    """(total seconds, seconds of each stage, the command's output) of one `govgraph run`."""
    env = dict(os.environ, GOVGRAPH_HOME=str(home))
    env.pop("NEO4J_URI", None)
    command = [str(Path(sys.executable).parent / "govgraph"), "run", str(corpus), "--out", str(home / "build"),
               "--fresh", "--yes", "--workers", str(workers), *extra]
    began = time.perf_counter()
    ends, lines = [], []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as process:
        for line in process.stdout:
            lines.append(line)
            marker = STAGES[len(ends)][1] if len(ends) < len(STAGES) - 1 else None
            if marker and line.startswith(marker):
                ends.append(time.perf_counter() - began)
    total = time.perf_counter() - began
    if process.returncode:
        sys.exit(f"govgraph run failed (status {process.returncode}):\n{''.join(lines[-20:])}")
    ends.append(total)
    return total, [end - start for start, end in zip([0.0, *ends], ends, strict=False)], "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=None, help="default: build/bench-e2e-<N>")
    parser.add_argument("--engine", default="local", help="passed to govgraph run --engine")
    args = parser.parse_args()
    corpus = args.corpus or Path(f"build/bench-e2e-{args.docs}")
    if len(list(corpus.glob("*.txt"))) != args.docs:
        shutil.rmtree(corpus, ignore_errors=True)
        generate(corpus, docs=args.docs)
    chars = sum(len(p.read_text(encoding="utf-8")) for p in corpus.glob("*.txt"))
    print(f"machine: {machine()}; cpu count {os.cpu_count()}")
    print(f"corpus: {args.docs:,} generated reports, {chars:,} characters; workers {args.workers}, "
          f"engine {args.engine}")
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            total, stages, output = timed_run(corpus.resolve(), args.workers, Path(home), ["--engine", args.engine])
        print(f"run {run + 1}: {total:.1f} s in all ({total / 60:.1f} min); load average {os.getloadavg()[0]:.1f}")
        for (name, _), seconds in zip(STAGES, stages, strict=False):
            print(f"  {name:28} {seconds:8.1f} s {seconds / total:6.1%}")
        loaded = [line for line in output.splitlines() if line.startswith(("extracted ", "loaded "))]
        print("  " + "\n  ".join(loaded))


if __name__ == "__main__":
    main()
