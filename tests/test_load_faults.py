"""Fault suite of the loader: hostile records and kill -9s, then a rerun, give a clean load's graph.

Generated documents (benchmarks/corpus.py generated_records) are mixed with hostile records
(5% by default: records renaming, re-keying or claiming shared nodes, values Neo4j refuses,
evidence outside the document, a line that is not JSON). A loader process is killed with
SIGKILL at random points of its work, restarted, killed again, and finally run to the end. The
graph must then equal, in a canonical dump, a clean load of the good documents alone, and every
hostile record must have been reported.

The test runs a small variant (60 documents, 2 kills). The full suite (1,000 documents, 3 kills)
takes minutes, so it is a script, on its own embedded server or (NEO4J_URI set) on that server,
which it empties:

    .venv/bin/python tests/test_load_faults.py --docs 1000 --kills 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neo4j  # noqa: E402
from benchmarks.corpus import generated_records  # noqa: E402
from etl import config  # noqa: E402
from etl.graph import db  # noqa: E402
from etl.graph.load import load_records  # noqa: E402
from tests.conftest import wipe  # noqa: E402
from tests.test_load import dump  # noqa: E402

LOADER = ("import sys; from etl.graph.load import load_records; from etl.graph import db; "
          "driver = db.connect(db.connection()); "
          "stats = load_records(driver, sys.argv[1], batch_size=int(sys.argv[2])); "
          "print(len(stats.failures))")


def hostile(line: str, n: int, rng: random.Random) -> str:
    """A hostile records.jsonl line made from a good one; ``n`` picks the kind, and its path."""
    record = json.loads(line)
    record["doc"], record["path"], record["doc_id"] = f"hostile{n}.txt", f"hostile/{n}.txt", f"bad{n:013d}"
    region = record["region"]["name"]
    actor = record["entities"]["Actor"][0]
    kind = n % 8
    if kind == 0:
        record["properties"].setdefault("Actor", {})[actor] = {"name": "HIJACKED"}
    elif kind == 1:
        record["properties"]["Region"].setdefault(region, {})["key"] = "moved"
    elif kind == 2:
        record["properties"]["Region"].setdefault(region, {})["doc_id"] = "claimed"
    elif kind == 3:
        record["quantities"][0]["year"] = 10**20
    elif kind == 4:
        record["entities"]["Actor"].append("长" * 20000)
    elif kind == 5:
        record["quantities"][0]["value"] = float("nan")
    elif kind == 6:
        record["relations"][0][3]["evidence"] = [99999]
    else:
        return line[: rng.randint(10, len(line) - 10)]  # a cut line: not JSON
    return json.dumps(record, ensure_ascii=False)


def mixed(work: Path, docs: int, share: float, seed: int) -> tuple[Path, Path, int]:
    """The good records alone, and the same mixed with hostile ones; returns both and the hostile count."""
    rng = random.Random(seed)
    good = generated_records(work / "good.jsonl", docs, seed=seed)
    lines = good.read_text(encoding="utf-8").splitlines()
    count = max(1, round(docs * share))
    out = list(lines)
    sources = [line for line in lines if json.loads(line)["quantities"]]  # some hostile kinds change one
    for n in range(count):
        out.insert(rng.randint(0, len(out)), hostile(rng.choice(sources), n, rng))
    path = work / "mixed.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return good, path, count


def documents(driver: neo4j.Driver) -> int:
    return db.read(driver, "MATCH (d:Document) RETURN count(d) AS n")[0]["n"]


def killed_loads(conn: config.Connection, driver: neo4j.Driver, records: Path, docs: int, kills: int,
                 batch_size: int, rng: random.Random) -> int:
    """Start the loader, SIGKILL it once the graph holds a random number more documents; ``kills`` times.

    Returns how many loads were killed while still running (a load that finished first is not).
    """
    env = dict(os.environ, NEO4J_URI=conn.uri, NEO4J_USER=conn.user, NEO4J_PASSWORD=conn.password,
               PYTHONPATH=str(config.PROJECT_ROOT))
    killed = 0
    for _ in range(kills):
        start = documents(driver)
        target = start + rng.randint(1, max(1, (docs - start) // 2))
        process = subprocess.Popen([sys.executable, "-c", LOADER, str(records), str(batch_size)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=config.PROJECT_ROOT)
        deadline = time.monotonic() + 600
        while process.poll() is None and time.monotonic() < deadline:
            if documents(driver) >= target:
                process.send_signal(signal.SIGKILL)
                killed += 1
                break
            time.sleep(0.05)
        process.wait()
    return killed


def fault_suite(conn: config.Connection, driver: neo4j.Driver, work: Path, docs: int, kills: int,
                share: float = 0.05, batch_size: int = 10, seed: int | None = None) -> dict:
    """Run the suite; return what happened, with ``equal`` telling whether the graphs agree."""
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    good, records, count = mixed(work, docs, share, seed)
    wipe(driver)
    load_records(driver, good, batch_size=batch_size)
    clean = dump(driver)
    wipe(driver)
    killed = killed_loads(conn, driver, records, docs, kills, batch_size, rng)
    final = load_records(driver, records, batch_size=batch_size)
    return {"seed": seed, "documents": docs, "hostile": count, "killed": killed,
            "reported": len(final.failures), "loaded": documents(driver), "equal": dump(driver) == clean}


def test_hostile_records_and_kills_then_a_rerun_give_a_clean_load(neo4j_conn, neo4j_driver, tmp_path):
    result = fault_suite(neo4j_conn, neo4j_driver, tmp_path, docs=60, kills=2)
    assert result["killed"] >= 1, f"no load was killed while running: {result}"
    assert result["equal"], result
    assert (result["reported"], result["loaded"]) == (result["hostile"], 60), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    began = time.perf_counter()
    if os.environ.get("NEO4J_URI"):  # a server of one's own, emptied first (as the tests do)
        conn = db.connection()
        with tempfile.TemporaryDirectory() as work, db.connect(conn) as driver:
            result = fault_suite(conn, driver, Path(work), args.docs, args.kills, args.share, args.batch_size,
                                 args.seed)
    else:
        result = _on_a_scratch_server(args)
    print(json.dumps(result), f"{time.perf_counter() - began:.0f} s")
    if not (result["equal"] and result["reported"] == result["hostile"] and result["loaded"] == args.docs):
        raise SystemExit(1)


def _on_a_scratch_server(args: argparse.Namespace) -> dict:
    from etl.neo4j import server
    from tests.conftest import free_port

    os.environ.pop("NEO4J_PASSWORD", None)
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as work:
        info = server.start(Path(home), free_port(), free_port(), exit_with_parent=True)
        try:
            password = config.read_password_file(config.password_file(Path(home)))
            conn = config.Connection(info.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
            with db.connect(conn) as driver:
                return fault_suite(conn, driver, Path(work), args.docs, args.kills, args.share,
                                   args.batch_size, args.seed)
        finally:
            server.stop(Path(home))


if __name__ == "__main__":
    main()
