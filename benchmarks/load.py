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

With ``--write-import N [N ...]`` it times the writing of the import files alone (etl.outputs.export.
neo4j_import.write_import of N generated records, each size in a fresh process: CPU seconds and
the process's peak resident memory), of this checkout and, with ``--baseline DIR``, of another
checkout (``git worktree add --detach DIR COMMIT``) run by the same Python, in turn.

    .venv/bin/python benchmarks/load.py --write-import 2000 10000 --baseline ../base

With ``--compare N`` it checks that the bulk first load gives the batched loader's graph: N
generated records loaded by the batched loader into one embedded server and by ``govgraph load
--bulk`` into another, then the two graphs' canonical dumps compared (the tests do it on a few
hundred records).

    .venv/bin/python benchmarks/load.py --compare 2000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import generated_records  # noqa: E402
from benchmarks.neo4j_start import machine, scratch_driver  # noqa: E402
from etl.graph import migrations  # noqa: E402
from etl.graph.load import DEFAULT_BATCH, LoadStats, load_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402


def cpu_seconds() -> tuple[float, float, float]:
    """(this process's CPU s, its child processes' (the embedded server's) CPU s, the machine's steal s).

    Printed beside each load's wall time: CPU seconds tell a loader that did more work from a
    machine that ran slower (another process, or the host taking the virtual CPUs: steal).
    """
    import psutil

    me = psutil.Process()
    own = sum(me.cpu_times()[:2])
    children = 0.0
    for child in me.children(recursive=True):
        try:
            children += sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
    steal = getattr(psutil.cpu_times(), "steal", 0.0)
    return own, children, steal


def cpu_line(before: tuple[float, float, float]) -> str:
    """The CPU seconds since ``before`` (cpu_seconds) as one line."""
    client, server, steal = (b - a for a, b in zip(before, cpu_seconds(), strict=True))
    return (f"CPU s: client {client:.1f}, server {server:.1f}; steal {steal:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f}")


def timed_load(driver, records: Path, batch_size: int) -> LoadStats:
    """Load into an emptied database (schema applied first, outside the time)."""
    return measured_load(driver, records, batch_size)[0]


def measured_load(driver, records: Path, batch_size: int) -> tuple[LoadStats, str]:
    """timed_load, and the CPU seconds of the load alone (cpu_line)."""
    wipe(driver)
    migrations.apply(driver)
    began = cpu_seconds()
    stats = load_records(driver, records, batch_size=batch_size)
    if stats.failures:
        raise SystemExit(f"the generated records failed: {stats.failures[:3]}")
    return stats, cpu_line(began)


def timed_cli_load(records: Path, bulk: bool, inspect: Callable[[Any], Any] | None = None) -> tuple[float, str, Any]:
    """(wall seconds, the last line, what ``inspect`` returns) of `govgraph load RECORDS [--bulk]`,
    this checkout's code, into a new embedded server on free ports (started before the clock,
    stopped after it); ``inspect`` is given a driver of the loaded server before it stops."""
    from etl import config
    from etl.graph import db
    from etl.neo4j import server
    from tests.conftest import free_port

    root = Path(__file__).resolve().parent.parent
    inspected = None
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, GOVGRAPH_HOME=home, PYTHONPATH=str(root))
        for name in ("NEO4J_URI", "NEO4J_PASSWORD"):
            env.pop(name, None)
        os.environ.pop("NEO4J_PASSWORD", None)
        info = server.start(Path(home), free_port(), free_port(), exit_with_parent=True, timeout=900)
        try:
            began = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "etl.cli", "load", str(records), *(["--bulk"] * bulk)],
                                  cwd=root, env=env, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - began
            if inspect is not None and not done.returncode:
                running = server.status(Path(home)) or info  # a bulk load restarts the server
                password = config.read_password_file(config.password_file(Path(home)))
                conn = config.Connection(running.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
                with db.connect(conn) as driver:
                    inspected = inspect(driver)
        finally:
            server.stop(Path(home))
    if done.returncode:
        raise SystemExit(f"govgraph load {'--bulk ' * bulk}{records} failed:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1], inspected


def bulk_main(args: argparse.Namespace) -> None:
    """The bulk first load of --bulk records, after the --small yardstick (see the module's doc)."""
    small = generated_records(args.work / f"{args.small}" / "records.jsonl", args.small)
    large = generated_records(args.work / f"{args.bulk}" / "records.jsonl", args.bulk)
    print(f"machine: {machine()}")
    print("load average (1, 5, 15 min) at the start " + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    for name, records in ((f"bulk load, {args.small:,} (yardstick)", small), (f"bulk load, {args.bulk:,}", large)):
        seconds, last, _ = timed_cli_load(records, bulk=True)
        print(f"{name:32} {seconds:8.1f} s   {last}   load average {os.getloadavg()[0]:.1f}", flush=True)


# Run in a fresh process with a checkout first on sys.path: write_import of a records.jsonl, timed.
_WRITE_IMPORT = """
import json, sys, tempfile, time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from etl.outputs.export.neo4j_import import write_import
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as out:
    began, wall = time.process_time(), time.perf_counter()
    files = write_import(Path(sys.argv[1]), Path(out))
    cpu, wall = time.process_time() - began, time.perf_counter() - wall
    size = sum(p.stat().st_size for p in Path(out).glob("*.csv"))
# VmHWM, not ru_maxrss: Linux carries the parent's peak over into a child's ru_maxrss across exec.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"cpu": cpu, "wall": wall, "peak_mb": peak / 1024,
                  "nodes": files.node_count, "relationships": files.relationship_count, "mib": size / 2**20}))
"""


def timed_write_import(checkout: Path, records: Path, work: Path) -> dict:
    """CPU s, wall s, peak resident MB, counts and size of write_import in a fresh process of ``checkout``."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    done = subprocess.run([sys.executable, "-c", _WRITE_IMPORT, str(records.resolve()), str(work.resolve())],
                          cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"write_import in {checkout} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_import_main(args: argparse.Namespace) -> None:
    """write_import alone at each size of --write-import, this checkout then --baseline (see the module's doc)."""
    root = Path(__file__).resolve().parent.parent
    checkouts = [("this checkout", root)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(f"machine: {machine()}")
    print(f"{'records':>8} {'checkout':14} {'CPU s':>7} {'wall s':>7} {'peak MB':>8} {'nodes':>9} {'rels':>10} "
          f"{'MiB':>6}  load average", flush=True)
    for docs in args.write_import:
        records = generated_records(args.work / f"{docs}" / "records.jsonl", docs)
        for name, checkout in checkouts:
            r = timed_write_import(checkout, records, args.work)
            print(f"{docs:>8,} {name:14} {r['cpu']:7.1f} {r['wall']:7.1f} {r['peak_mb']:8.0f} {r['nodes']:>9,} "
                  f"{r['relationships']:>10,} {r['mib']:6.0f}  {os.getloadavg()[0]:.1f}", flush=True)


def compare_main(args: argparse.Namespace) -> None:
    """The batched loader's graph and the bulk first load's of --compare records, canonical dumps compared."""
    from tests.test_load import dump

    records = generated_records(args.work / f"{args.compare}" / "records.jsonl", args.compare)
    print(f"machine: {machine()}")
    with scratch_driver() as driver:
        batched = timed_load(driver, records, args.batch_size)
        expected = dump(driver)
    print(f"batched load: {batched.documents:,} documents, {batched.seconds:.1f} s", flush=True)
    seconds, last, imported = timed_cli_load(records, bulk=True, inspect=dump)
    print(f"bulk load: {seconds:.1f} s   {last}")
    same = imported == expected
    print(f"canonical dumps: {len(expected[0]):,} nodes and {len(expected[1]):,} relationships batched, "
          f"{len(imported[0]):,} and {len(imported[1]):,} bulk: {'equal' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds the large load may take")
    parser.add_argument("--work", type=Path, default=Path("build/bench-load-records"))
    parser.add_argument("--bulk", type=int, default=None, help="time the bulk first load of this many records")
    parser.add_argument("--write-import", type=int, nargs="+", default=None,
                        help="time writing the import files alone of this many records (each)")
    parser.add_argument("--baseline", type=Path, default=None, help="with --write-import: another checkout")
    parser.add_argument("--compare", type=int, default=None,
                        help="compare the bulk first load's graph with the batched loader's on this many records")
    args = parser.parse_args()
    if args.write_import:
        write_import_main(args)
        return
    if args.compare:
        compare_main(args)
        return
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
        first, cpu = measured_load(driver, small, args.batch_size)
        print(f"{first.documents:>10,} {first.relationships_created:>14,} {first.seconds:9.1f} {rate(first):10,.0f}   "
              + cpu, flush=True)
        second, cpu = measured_load(driver, large, args.batch_size)
        print(f"{second.documents:>10,} {second.relationships_created:>14,} {second.seconds:9.1f} "
              f"{rate(second):10,.0f}   " + cpu, flush=True)
        began = cpu_seconds()
        again = load_records(driver, large, batch_size=args.batch_size)
        again_cpu = cpu_line(began)
    ratio = rate(second) / rate(first)
    print(f"rate at {args.large:,} / rate at {args.small:,}: {ratio:.2f} (bar: at least 0.80)")
    print(f"{args.large:,} documents in {second.seconds:.1f} s (bar: under {args.budget:.0f} s)")
    print(f"second load of {args.large:,}: {again.unchanged:,} unchanged, {again.relationships_created} created, "
          f"{again.seconds:.1f} s   {again_cpu}")
    if ratio < 0.8 or second.seconds >= args.budget or again.relationships_created:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
