"""Benchmark: cold and warm start of the embedded Neo4j, and its resident memory.

Cold: a fresh working folder (store created, password set). Warm: the same folder started
again. Start time runs from the call until Bolt answers with the password; memory is the
resident set of the Java process right after start.

    .venv/bin/python benchmarks/neo4j_start.py --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

import neo4j

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.neo4j import server  # noqa: E402
from tests.conftest import free_port  # noqa: E402


@contextlib.contextmanager
def scratch_driver() -> Iterator[neo4j.Driver]:
    """A throw-away embedded Neo4j on free ports, and a driver on it; stopped afterwards."""
    from etl import config
    from etl.graph import db

    os.environ.pop("NEO4J_PASSWORD", None)
    with tempfile.TemporaryDirectory() as home:
        info = server.start(Path(home), free_port(), free_port(), exit_with_parent=True)
        try:
            password = config.read_password_file(config.password_file(Path(home)))
            conn = config.Connection(info.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
            with db.connect(conn) as driver:
                yield driver
        finally:
            server.stop(Path(home))


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores, {memory:.0f} GiB, {cpu}; {java}; Python {platform.python_version()}"


def timed_start(home: Path) -> tuple[float, float]:
    began = time.perf_counter()
    info = server.start(home, free_port(), free_port())
    elapsed = time.perf_counter() - began
    rss = psutil.Process(info.pid).memory_info().rss / 2**20
    server.stop(home)
    return elapsed, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("NEO4J_PASSWORD", None)
    server.install()
    cold, warm, memory = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            seconds, rss = timed_start(Path(folder))
            cold.append(seconds)
            memory.append(rss)
            seconds, rss = timed_start(Path(folder))
            warm.append(seconds)
            memory.append(rss)
    print(f"machine: {machine()}")
    print(f"{'':12} {'median':>8} {'min':>8} {'max':>8}")
    for name, values in (("cold start s", cold), ("warm start s", warm), ("RSS MiB", memory)):
        print(f"{name:12} {statistics.median(values):8.1f} {min(values):8.1f} {max(values):8.1f}")


if __name__ == "__main__":
    main()
