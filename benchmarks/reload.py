"""Benchmark: is replacing changed documents as fast per document as loading them fresh?

Generates --docs records twice (benchmarks/corpus.py generated_records, seeds 7 and 8: the same
paths with other regions and numbers, so every document of the second set is a changed version
of one of the first), then on one embedded Neo4j started for the run, --rounds times and
interleaved so that the machine's load weighs on both alike:

- fresh: the second set loaded into an emptied database (the yardstick);
- reload: the first set loaded, then the second loaded over it (timed), which replaces every
  document; the graph must then hold what the fresh load gave, node and relationship counts
  per label and type (no orphan left by the old versions).

The bar: the median reload within 2x the median fresh load.

    .venv/bin/python benchmarks/reload.py --docs 1000 --rounds 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generated_records  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph import db, migrations  # noqa: E402
from etl.graph.load import DEFAULT_BATCH, LoadStats, load_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402

BAR = 2.0


def counts(driver) -> tuple[list, list]:
    """Nodes per label and relationships per type: what a load left, orphans included."""
    nodes = db.read(driver, "MATCH (n) WHERE NOT n:Migration RETURN labels(n) AS l, count(*) AS n ORDER BY l")
    rels = db.read(driver, "MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS n ORDER BY t")
    return [tuple(r.values()) for r in nodes], [tuple(r.values()) for r in rels]


def emptied(driver) -> None:
    wipe(driver)
    migrations.apply(driver)


def checked(stats: LoadStats) -> LoadStats:
    if stats.failures:
        raise SystemExit(f"the generated records failed: {stats.failures[:3]}")
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--work", type=Path, default=Path("build/bench-reload"))
    args = parser.parse_args()
    old = generated_records(args.work / f"old-{args.docs}.jsonl", args.docs, seed=7)
    new = generated_records(args.work / f"new-{args.docs}.jsonl", args.docs, seed=8)
    print(f"machine: {machine()}")
    print(f"{args.docs:,} documents, batch size {args.batch_size}")
    print(f"{'round':>5} {'fresh s':>9} {'reload s':>9} {'replaced':>9}", flush=True)
    fresh_times, reload_times = [], []
    with scratch_driver() as driver:
        for n in range(1, args.rounds + 1):
            emptied(driver)
            fresh = checked(load_records(driver, new, batch_size=args.batch_size))
            clean = counts(driver)
            emptied(driver)
            checked(load_records(driver, old, batch_size=args.batch_size))
            reload = checked(load_records(driver, new, batch_size=args.batch_size))
            if reload.replaced != args.docs or counts(driver) != clean:
                raise SystemExit(f"round {n}: the reload replaced {reload.replaced} documents and left "
                                 f"{counts(driver)} against a fresh load's {clean}")
            fresh_times.append(fresh.seconds)
            reload_times.append(reload.seconds)
            print(f"{n:>5} {fresh.seconds:9.1f} {reload.seconds:9.1f} {reload.replaced:>9,}", flush=True)
    ratio = statistics.median(reload_times) / statistics.median(fresh_times)
    print(f"median reload / median fresh load: {ratio:.2f} (bar: at most {BAR:.1f}); "
          "the graph after the reload equals a fresh load's, label by label")
    if ratio > BAR:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
