"""Benchmark: exporting the graph to GraphML against reading it from Neo4j.

Generates a corpus (benchmarks/corpus.py, default 2,000 documents), extracts it and loads it
into an embedded Neo4j started for the run, then times, median of --runs:
  - reading the graph from Neo4j into NetworkX (etl.outputs.export.graph.graph_from_neo4j), the yardstick;
  - writing that graph to GraphML (write_graph), and the whole export (read + write, what
    ``govgraph export --format graphml`` does);
  - building the same graph from records.jsonl with no database (graph_from_records).
The target is an export within 2× the read, i.e. writing GraphML costs no more than reading.

    .venv/bin/python -m benchmarks.export --docs 2000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import extracted  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph.load import load_records  # noqa: E402
from etl.outputs.export.graph import graph_from_neo4j, graph_from_records, write_graph  # noqa: E402


def timed(func: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median seconds of ``runs`` calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = func()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path("build/bench-export")
    records = extracted(work, args.docs)
    out = work / "graph.graphml"
    with scratch_driver() as driver:
        load = load_records(driver, records)
        read_s, g = timed(lambda: graph_from_neo4j(driver), args.runs)
        write_s, _ = timed(lambda: write_graph(g, out, "graphml"), args.runs)
    records_s, _ = timed(lambda: graph_from_records(records), args.runs)  # with the server stopped
    export_s = read_s + write_s
    print(f"machine: {machine()}")
    print(f"corpus: {load.documents} documents loaded in {load.seconds:.0f} s; graph without sentences: "
          f"{g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges; "
          f"GraphML {out.stat().st_size / 2**20:.1f} MiB")
    print(f"{'step (median of ' + str(args.runs) + ')':34} {'seconds':>8} {'vs read':>8}")
    rows = [("read from Neo4j (yardstick)", read_s), ("write GraphML", write_s),
            ("export = read + write GraphML", export_s), ("build from records.jsonl", records_s)]
    for name, seconds in rows:
        print(f"{name:34} {seconds:8.2f} {seconds / read_s:8.2f}")
    verdict = "met" if export_s <= 2 * read_s else "not met"
    print(f"target export <= 2x read: {export_s / read_s:.2f}x, {verdict}")


if __name__ == "__main__":
    main()
