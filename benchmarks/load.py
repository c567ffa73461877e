"""Benchmark: the batched loader against a naive one-statement-per-row loader.

Generates a corpus (benchmarks/corpus.py, default 2,000 documents), extracts it, then on one
embedded Neo4j started for the run:
  - the naive loader (one auto-committed MERGE statement per node and per relationship, the
    yardstick) on the first --naive-docs documents, since it is too slow for the whole corpus;
  - the batched loader (etl.load) on the whole corpus at several batch sizes, each into an
    emptied database.
Prints relationships per second for each and the time of the whole corpus per batch size.

    .venv/bin/python benchmarks/load.py --docs 2000 --naive-docs 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import extracted  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl import db, migrations  # noqa: E402
from etl.load import load_records, region_key  # noqa: E402
from etl.records import RELATION_ENDS, read_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402


def naive_load(driver, records) -> None:
    """One statement per row, no batching: what a first attempt at a loader looks like.
    It writes the same relations, without mentions and quantities; both loaders are
    measured by the relationships in the database afterwards divided by their time."""
    with driver.session() as session:
        for r in records:
            session.run("MERGE (d:Document {doc_id: $id}) SET d.name = $name", id=r.doc_id, name=r.doc).consume()
            for s in r.sentences:
                session.run("MERGE (s:Sentence {id: $id}) SET s.text = $text", id=f"{r.doc_id}:{s.index}",
                            text=s.text).consume()
            for label, names in r.entities.items():
                for name in names:
                    key = region_key(name, bool(r.region and r.region.anonymized and name == r.region.name),
                                     r.doc_id)
                    field = "key" if label == "Region" else "name"
                    session.run(f"MERGE (n:{label} {{{field}: $key}})", key=key).consume()
            for rel in r.relations:
                heads, tails = RELATION_ENDS[rel.type]
                head = next((lb for lb in heads if rel.head in r.entities.get(lb, [])), heads[0])
                tail = next((lb for lb in tails if rel.tail in r.entities.get(lb, [])), tails[0])
                hf = "key" if head == "Region" else "name"
                tf = "key" if tail == "Region" else "name"
                hk = region_key(rel.head, bool(r.region and r.region.anonymized and rel.head == r.region.name),
                                r.doc_id) if head == "Region" else rel.head
                session.run(
                    f"MATCH (h:{head} {{{hf}: $h}}) MATCH (t:{tail} {{{tf}: $t}}) "
                    f"MERGE (h)-[r:{rel.type} {{key: ''}}]->(t) SET r.evidence = $e",
                    h=hk, t=rel.tail, e=[f"{r.doc_id}:{i}" for i in rel.props.evidence]).consume()


def count_relationships(driver) -> int:
    return db.read(driver, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--naive-docs", type=int, default=100)
    parser.add_argument("--batch-sizes", default="10,50,200")
    args = parser.parse_args()
    records = list(read_records(extracted(Path("build/bench-load"), args.docs)))
    with scratch_driver() as driver:
        migrations.apply(driver)
        began = time.perf_counter()
        naive_load(driver, records[: args.naive_docs])
        naive_rate = count_relationships(driver) / (time.perf_counter() - began)
        results = []
        for size in (int(s) for s in args.batch_sizes.split(",")):
            wipe(driver)
            began = time.perf_counter()
            stats = load_records(driver, records, batch_size=size)
            seconds = time.perf_counter() - began
            results.append((size, seconds, count_relationships(driver) / seconds, stats))
    print(f"machine: {machine()}")
    print(f"corpus: {len(records)} documents, "
          f"{sum(len(r.relations) + len(r.quantities) for r in records):,} relations and quantities")
    print(f"naive loader ({args.naive_docs} documents): {naive_rate:,.0f} relationships/s")
    print(f"{'batch size':>10} {'seconds':>9} {'rels/s':>10} {'vs naive':>9}")
    for size, seconds, rate, _ in results:
        print(f"{size:>10} {seconds:9.1f} {rate:10,.0f} {rate / naive_rate:9.1f}")
    best = max(results, key=lambda r: r[2])
    print(f"fastest batch size: {best[0]}")


if __name__ == "__main__":
    main()
