"""Benchmark: does a batch that names popular shared nodes cost the same at the end of a corpus as at its start?

Every generated document (benchmarks/corpus.py generated_records) names the sample's mechanisms,
actors and measures with their categories and kinds, so each of those nodes is claimed by every
document loaded so far. The corpus is loaded into an emptied database batch by batch (one
load_records call a batch), each batch timed. Past the warm-up batches, the first batches are
the yardstick, measured in the same run: the last batches' mean time must stay near theirs if the
work a batch does on a shared node does not grow with the documents already naming it. Prints
the largest number of claims entries a node holds at the end, too.

    .venv/bin/python benchmarks/claims.py --docs 2000 --batch-size 100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import etl  # noqa: E402
from benchmarks.corpus import generated_records  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph import db, migrations  # noqa: E402
from etl.graph.load import load_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402


def batches(records: Path, size: int, work: Path) -> list[Path]:
    """The records file cut into files of ``size`` lines, in order."""
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    paths = []
    for n in range(0, len(lines), size):
        path = work / f"batch-{n // size:04d}.jsonl"
        path.write_text("".join(lines[n:n + size]), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--ends", type=int, default=3, help="batches averaged at each end")
    parser.add_argument("--warmup", type=int, default=3, help="first batches left out (the server's JIT warm-up)")
    parser.add_argument("--work", type=Path, default=Path("build/bench-claims"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    chunks = batches(generated_records(args.work / f"{args.docs}.jsonl", args.docs), args.batch_size, args.work)
    print(f"machine: {machine()}; code: {Path(etl.__file__).resolve().parent.parent}", flush=True)
    with scratch_driver() as driver:
        wipe(driver)
        migrations.apply(driver)
        seconds = []
        for chunk in chunks:
            began = time.perf_counter()
            stats = load_records(driver, chunk, batch_size=args.batch_size)
            seconds.append(time.perf_counter() - began)
            if stats.failures or stats.documents != len(chunk.read_text(encoding="utf-8").splitlines()):
                raise SystemExit(f"{chunk}: {stats.failures[:3]}")
        most = db.read(driver, "MATCH (n) WHERE n.claims IS NOT NULL AND NOT n:Document "
                               "RETURN max(size(n.claims)) AS most")[0]["most"]
    print("seconds a batch: " + " ".join(f"{s:.1f}" for s in seconds), flush=True)
    counted = seconds[args.warmup:]
    first, last = statistics.mean(counted[:args.ends]), statistics.mean(counted[-args.ends:])
    print(f"{args.docs} documents in batches of {args.batch_size}: past {args.warmup} warm-up batches, "
          f"first {args.ends} {first:.2f} s, "
          f"last {args.ends} {last:.2f} s, ratio first/last {first / last:.2f}; largest claims list {most}; "
          f"all batches {sum(seconds):.1f} s", flush=True)


if __name__ == "__main__":
    main()
