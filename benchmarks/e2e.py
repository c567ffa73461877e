"""Benchmark: `govgraph run` end to end on a generated corpus, and each stage's share of it.

Generates (or reuses) --docs reports (benchmarks/corpus.py), then times the real command,
`govgraph run CORPUS --fresh --yes --workers N`, in a working folder of its own (its embedded
Neo4j started by the command, which leaves it running, and stopped by the benchmark after it).
Stages are told apart by the lines the command prints as each one ends, each stamped as it
arrives: the server's start and the graph's check, extraction, loading (with emptying the
graph), and the compare pack and the report.
While a stage runs, a line every --every seconds says which one and for how long, with the
machine's load average (the command's own progress bars are drawn only on a terminal).

The yardstick, timed in the same run just before it: `govgraph extract` of the corpus's first
--yardstick documents with the same workers, so that a figure from a busy shared machine can be
scaled by another machine's time for the same extraction.

    .venv/bin/python benchmarks/e2e.py --docs 10000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.neo4j_start import machine  # noqa: E402
from etl.neo4j import server  # noqa: E402

# A stage ends with the first line that starts with its marker (etl/run.py's say lines).
STAGES = (("start Neo4j, check the graph", "the graph holds"), ("extract", "extracted "),
          ("load", "loaded "), ("compare pack and report", None))
GOVGRAPH = str(Path(sys.executable).parent / "govgraph")


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


class Heartbeat:
    """A line every ``every`` seconds naming the running stage, and the 1-minute load average
    sampled at each beat (their mean describes the run)."""

    def __init__(self, every: float) -> None:
        self.every, self.stage, self.began = every, STAGES[0][0], time.perf_counter()
        self.loads: list[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.done.wait(self.every):
            self.loads.append(os.getloadavg()[0])
            print(f"  [{(time.perf_counter() - self.began) / 60:5.1f} min] {self.stage} … "
                  f"load average {load_average()}", flush=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def timed_run(corpus: Path, workers: int, home: Path, extra: list[str],
              beat: Heartbeat) -> tuple[float, list[float], str]:
    """(total seconds, seconds of each stage, the command's output) of one `govgraph run`."""
    env = dict(os.environ, GOVGRAPH_HOME=str(home))
    env.pop("NEO4J_URI", None)
    command = [GOVGRAPH, "run", str(corpus), "--out", str(home / "build"),
               "--fresh", "--yes", "--workers", str(workers), *extra]
    began = time.perf_counter()
    ends, lines = [], []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as process:
        for line in process.stdout:
            lines.append(line)
            marker = STAGES[len(ends)][1] if len(ends) < len(STAGES) - 1 else None
            if marker and line.startswith(marker):
                ends.append(time.perf_counter() - began)
                beat.stage = STAGES[len(ends)][0]
                print(f"  [{ends[-1] / 60:5.1f} min] {line.rstrip()}", flush=True)
    total = time.perf_counter() - began
    if process.returncode:
        sys.exit(f"govgraph run failed (status {process.returncode}):\n{''.join(lines[-20:])}")
    ends.append(total)
    return total, [end - start for start, end in zip([0.0, *ends], ends, strict=False)], "".join(lines)


def yardstick(corpus: Path, docs: int, workers: int, scratch: Path) -> tuple[float, int]:
    """(seconds, characters) of `govgraph extract` of the corpus's first ``docs`` documents."""
    part = scratch / "yardstick"
    part.mkdir()
    chars = 0
    for path in sorted(corpus.glob("*.txt"))[:docs]:
        shutil.copy(path, part / path.name)
        chars += len(path.read_text(encoding="utf-8"))
    began = time.perf_counter()
    subprocess.run([GOVGRAPH, "extract", str(part), "--out", str(scratch / "yardstick-out"), "--workers",
                    str(workers)], check=True, capture_output=True)
    return time.perf_counter() - began, chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--yardstick", type=int, default=2_000, help="documents extracted alone first (0: none)")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
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
          f"engine {args.engine}", flush=True)
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            print(f"run {run + 1}: load average (1, 5, 15 min) at the start {load_average()}", flush=True)
            if args.yardstick:
                seconds, part = yardstick(corpus.resolve(), args.yardstick, args.workers, Path(home))
                print(f"  yardstick: govgraph extract of {args.yardstick:,} of the reports ({part:,} characters), "
                      f"{args.workers} workers: {seconds:.1f} s, {part / seconds:,.0f} characters/s; "
                      f"load average {load_average()}", flush=True)
            try:
                with Heartbeat(args.every) as beat:
                    total, stages, output = timed_run(corpus.resolve(), args.workers, Path(home),
                                                      ["--engine", args.engine], beat)
            finally:
                server.stop(Path(home))  # govgraph run leaves its server running for the researcher
        mean = sum(beat.loads) / len(beat.loads) if beat.loads else os.getloadavg()[0]
        print(f"run {run + 1}: {total:.1f} s in all ({total / 60:.1f} min); load average at the end "
              f"{load_average()}, 1-minute load average during the run {mean:.1f} on average")
        for (name, _), seconds in zip(STAGES, stages, strict=False):
            print(f"  {name:28} {seconds:8.1f} s {seconds / total:6.1%}")
        print(f"  extraction: {chars / stages[1]:,.0f} characters/s")
        loaded = [line for line in output.splitlines() if line.startswith(("extracted ", "loaded "))]
        print("  " + "\n  ".join(loaded), flush=True)


if __name__ == "__main__":
    main()
