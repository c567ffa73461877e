"""Benchmark: does loading stay linear as the graph grows?

Generates records of --small and --large documents (benchmarks/corpus.py generated_records: the
sample's records with regions and numbers varied, one path each), then on one embedded Neo4j
started for the run loads each into an emptied database and prints relationships created per
second. The yardstick is the small load in the same run: the large one passes when its rate is
at least 0.8 of the small one's (a loader whose cost per document grows with the graph fails
it) and it finishes within --budget seconds. A second load of the large corpus, which must
change nothing, is timed too.

    .venv/bin/python benchmarks/load.py --small 2000 --large 10000

With ``--bulk N`` it times instead the bulk first load, ``govgraph load --bulk`` (import files
written, the embedded server stopped, neo4j-admin's full import, the server started again, the
migrations applied) of N generated records into a new embedded server of its own, and, in the
same run just before it as the yardstick, the bulk load of --small records into another one.

    .venv/bin/python benchmarks/load.py --bulk 50000 --small 2000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generated_records  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph import migrations  # noqa: E402
from etl.graph.load import DEFAULT_BATCH, LoadStats, load_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402


def timed_load(driver, records: Path, batch_size: int) -> LoadStats:
    """Load into an emptied database (schema applied first, outside the time)."""
    wipe(driver)
    migrations.apply(driver)
    stats = load_records(driver, records, batch_size=batch_size)
    if stats.failures:
        raise SystemExit(f"the generated records failed: {stats.failures[:3]}")
    return stats


def timed_cli_load(records: Path, bulk: bool) -> tuple[float, str]:
    """(wall seconds, the last line) of `govgraph load RECORDS [--bulk]`, this checkout's code, into
    a new embedded server on free ports (started before the clock, stopped after it)."""
    from etl.neo4j import server
    from tests.conftest import free_port

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, GOVGRAPH_HOME=home, PYTHONPATH=str(root))
        for name in ("NEO4J_URI", "NEO4J_PASSWORD"):
            env.pop(name, None)
        os.environ.pop("NEO4J_PASSWORD", None)
        server.start(Path(home), free_port(), free_port(), exit_with_parent=True, timeout=900)
        try:
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "etl.cli", "load", str(records), *(["--bulk"] * bulk)],
                                  cwd=root, env=env, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - began
        finally:
            server.stop(Path(home))
    if done.returncode:
        raise SystemExit(f"govgraph load {'--bulk ' * bulk}{records} failed:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


def bulk_main(args: argparse.Namespace) -> None:
    """The bulk first load of --bulk records, after the --small yardstick (see the module's doc)."""
    small = generated_records(args.work / f"{args.small}" / "records.jsonl", args.small)
    large = generated_records(args.work / f"{args.bulk}" / "records.jsonl", args.bulk)
    print(f"machine: {machine()}")
    print("load average (1, 5, 15 min) at the start " + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    for name, records in ((f"bulk load, {args.small:,} (yardstick)", small), (f"bulk load, {args.bulk:,}", large)):
        seconds, last = timed_cli_load(records, bulk=True)
        print(f"{name:32} {seconds:8.1f} s   {last}   load average {os.getloadavg()[0]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds the large load may take")
    parser.add_argument("--work", type=Path, default=Path("build/bench-load-records"))
    parser.add_argument("--bulk", type=int, default=None, help="time the bulk first load of this many records")
    args = parser.parse_args()
    if args.bulk:
        bulk_main(args)
        return
    small = generated_records(args.work / f"{args.small}.jsonl", args.small)
    large = generated_records(args.work / f"{args.large}.jsonl", args.large)
    rate = lambda s: s.relationships_created / s.seconds  # noqa: E731
    print(f"machine: {machine()}")
    print(f"batch size {args.batch_size}")
    print(f"{'documents':>10} {'relationships':>14} {'seconds':>9} {'rels/s':>10}", flush=True)
    with scratch_driver() as driver:
        first = timed_load(driver, small, args.batch_size)
        print(f"{first.documents:>10,} {first.relationships_created:>14,} {first.seconds:9.1f} {rate(first):10,.0f}",
              flush=True)
        second = timed_load(driver, large, args.batch_size)
        print(f"{second.documents:>10,} {second.relationships_created:>14,} {second.seconds:9.1f} "
              f"{rate(second):10,.0f}", flush=True)
        again = load_records(driver, large, batch_size=args.batch_size)
    ratio = rate(second) / rate(first)
    print(f"rate at {args.large:,} / rate at {args.small:,}: {ratio:.2f} (bar: at least 0.80)")
    print(f"{args.large:,} documents in {second.seconds:.1f} s (bar: under {args.budget:.0f} s)")
    print(f"second load of {args.large:,}: {again.unchanged:,} unchanged, {again.relationships_created} created, "
          f"{again.seconds:.1f} s")
    if ratio < 0.8 or second.seconds >= args.budget or again.relationships_created:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
