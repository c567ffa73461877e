"""Benchmark: latency of every compare-pack query on a graph of a generated corpus.

Generates the records of a corpus (benchmarks/corpus.py generated_records, default 2,000
documents) and loads them into an embedded Neo4j started for the run, then runs each query of
the compare pack --runs times after --warmup runs, through etl.outputs.queries.run_query (EXPLAIN
check and read transaction, as the CLI does). The yardstick in the same run is the Bolt round
trip of ``RETURN 1`` through the same path. Queries run with their default parameters (what a
reader's page shows: top-N rows where a query has a ``limit``). Prints median and p95 in
milliseconds and the rows each query returned.

    .venv/bin/python benchmarks/queries.py --docs 2000 --runs 30

With NEO4J_URI set, that server is used instead, and emptied first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import neo4j

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generated_records  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph import db  # noqa: E402
from etl.graph.load import load_records  # noqa: E402
from etl.outputs import queries  # noqa: E402
from tests.conftest import wipe  # noqa: E402

# Values for required parameters: the region and the mechanism with the most adoptions.
REQUIRED = """
MATCH (r:Region)-[:ADOPTS]->(m:Mechanism)
WITH r.name AS region, m.name AS mechanism, count(*) AS n
RETURN region, mechanism ORDER BY n DESC, region, mechanism LIMIT 1
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_query(driver, query: queries.Query, params: dict, warmup: int, runs: int) -> tuple[list[float], int]:
    """Milliseconds of each timed run, and the number of rows."""
    rows = []
    for _ in range(warmup):
        rows = queries.run_query(driver, query, params)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        rows = queries.run_query(driver, query, params)
        times.append((time.perf_counter() - began) * 1000)
    return times, len(rows)


def yardstick() -> queries.Query:
    return queries.Query(pack="yardstick", name="return-1", description="Bolt round trip", params=(),
                         columns=("one",), cypher="RETURN 1 AS one", path=Path("-"))


@contextlib.contextmanager
def _driver() -> Iterator[neo4j.Driver]:
    """NEO4J_URI's server, emptied first (as the tests do), or a scratch embedded server."""
    if not os.environ.get("NEO4J_URI"):
        with scratch_driver() as driver:
            yield driver
        return
    with db.connect(db.connection()) as driver:
        wipe(driver)
        yield driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    records = generated_records(Path("build/bench-load-records") / f"{args.docs}.jsonl", args.docs)
    results = []
    with _driver() as driver:
        stats = load_records(driver, records)
        graph = db.read(driver, "MATCH (r:Region) WITH count(r) AS regions "
                                "MATCH (m:Mechanism) RETURN regions, count(m) AS mechanisms")[0]
        compare = [q for q in queries.load_packs().values() if q.pack == "compare"]
        required = db.read(driver, REQUIRED)[0]
        for query in [yardstick(), *compare]:
            params = {p.name: required[p.name] for p in query.params if p.required}
            times, rows = time_query(driver, query, params, args.warmup, args.runs)
            results.append((query.qualified, statistics.median(times), percentile(times, 0.95), rows))
    print(f"machine: {machine()}")
    print(f"load: {stats.documents} documents, {stats.relationships_created:,} relationships in {stats.seconds:.1f} s, "
          f"{stats.relationships_created / stats.seconds:,.0f} relationships/s")
    print(f"graph: {stats.documents} documents, {graph['regions']} regions, {graph['mechanisms']} mechanisms; "
          f"{args.runs} timed runs after {args.warmup} warm-up runs")
    print(f"{'query':<34} {'median ms':>10} {'p95 ms':>8} {'rows':>7}")
    for name, median, p95, rows in results:
        print(f"{name:<34} {median:10.1f} {p95:8.1f} {rows:7}")
    slow = [name for name, _, p95, _ in results if p95 >= 500]
    print("every compare query under 500 ms p95" if not slow else f"over 500 ms p95: {', '.join(slow)}")


if __name__ == "__main__":
    main()
