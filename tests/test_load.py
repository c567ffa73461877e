"""Load stage against the real Neo4j: migrations, counts, idempotence, replacement,
validation failures and the CJK full-text index."""

from __future__ import annotations

import json

import pytest

from etl import config, db, migrations
from etl.extract import extract_corpus
from etl.load import load_records
from tests.conftest import changed_version, wipe


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    out = tmp_path_factory.mktemp("records")
    return extract_corpus([config.sample_corpus_dir()], out).out


@pytest.fixture
def empty_db(neo4j_driver):
    wipe(neo4j_driver)
    return neo4j_driver


def dump(driver) -> tuple[list, list]:
    """Every node and relationship with its properties, sorted: two equal dumps are one graph."""
    nodes = db.read(driver, "MATCH (n) WHERE NOT n:Migration RETURN labels(n) AS l, properties(n) AS p")
    rels = db.read(driver, "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, "
                           "coalesce(a.key, a.name, a.id, a.doc_id) AS a, coalesce(b.key, b.name, b.id) AS b")
    canon = lambda rows: sorted(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) for row in rows)  # noqa: E731
    return canon(nodes), canon(rels)


def test_migrations_apply_once(empty_db):
    first = migrations.apply(empty_db)
    assert [m.id for m in first] == ["0001", "0002", "0003"]
    assert migrations.apply(empty_db) == []
    names = {row["name"] for row in db.read(empty_db, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"document_doc_id", "region_key", "mechanism_name"} <= names


def test_sample_corpus_loads_with_its_evidence(empty_db, sample_records):
    stats = load_records(empty_db, sample_records)
    assert stats.documents == 5 and stats.failures == []
    counts = db.read(empty_db, "MATCH (d:Document) RETURN count(d) AS docs")[0]
    assert counts == {"docs": 5}
    anonymized = db.read(empty_db, "MATCH (r:Region {anonymized: true}) RETURN r.name AS name, r.key AS key, "
                                   "r.doc_id AS doc_id")
    assert {"XX区", "X县"} <= {row["name"] for row in anonymized}
    assert len({row["key"] for row in anonymized if row["name"] == "XX区"}) == 2, "two documents, two XX区"
    assert all(row["key"] == f"{row['name']}@{row['doc_id']}" for row in anonymized), "scoped to their document"
    linked = db.read(
        empty_db,
        "MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism {name: '河长+检察长'})-[:INVOLVES]->(x:Actor {name: '检察长'}) "
        "RETURN r.name AS region, size(a.evidence) > 0 AS has_evidence")
    assert linked == [{"region": "XX区", "has_evidence": True}]
    targets = db.read(
        empty_db,
        "MATCH (:Region {name: '忻州市'})-[q:MEASURES]->(:Indicator {name: '水土保持率'}) WHERE q.key <> '' "
        "RETURN q.value AS value, q.year AS year, q.kind AS kind ORDER BY q.year")
    assert targets == [{"value": 63.56, "year": 2025, "kind": "target"},
                       {"value": 66.22, "year": 2035, "kind": "target"}]
    no_evidence = db.read(empty_db, "MATCH ()-[r]->() WHERE NOT type(r) IN ['MENTIONS', 'REPORTS_ON'] "
                                    "AND size(coalesce(r.evidence, [])) = 0 RETURN count(r) AS n")
    assert no_evidence == [{"n": 0}]


def test_loading_twice_changes_nothing(empty_db, sample_records):
    load_records(empty_db, sample_records)
    before = dump(empty_db)
    again = load_records(empty_db, sample_records)
    assert (again.nodes_created, again.relationships_created) == (0, 0)
    nodes = db.read(empty_db, "MATCH (n) WHERE NOT n:Migration RETURN count(n) AS n")[0]["n"]
    assert again.nodes_updated >= nodes, "every node was merged again"
    assert again.relationships_updated > 0 and again.relationships_deleted == 0
    assert dump(empty_db) == before


def test_a_changed_document_replaces_its_old_version(empty_db, sample_records, tmp_path):
    load_records(empty_db, sample_records)
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    changed = changed_version(lines[4], "河长+警长")
    assert changed["doc"] == "004_afd50eb96374d14b.txt"
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(changed, ensure_ascii=False) + "\n", encoding="utf-8")
    stats = load_records(empty_db, path)
    assert stats.replaced == 1
    docs = db.read(empty_db, "MATCH (d:Document {name: $n}) RETURN d.doc_id AS id", {"n": changed["doc"]})
    assert docs == [{"id": "ffffffffffffffff"}]
    assert db.read(empty_db, "MATCH ()-[r:ADOPTS]->(:Mechanism {name: '河长+警长'}) RETURN count(r) AS n") == [{"n": 0}]
    old = db.read(empty_db, "MATCH (s:Sentence) WHERE s.id STARTS WITH 'a007' RETURN count(s) AS n")
    assert old == [{"n": 0}]
    others = db.read(empty_db, "MATCH (d:Document) RETURN count(d) AS n")
    assert others == [{"n": 5}]


def test_bad_records_are_reported_and_the_rest_loads(empty_db, sample_records, tmp_path):
    good = sample_records.read_text(encoding="utf-8").splitlines()[2]
    bad = json.loads(good)
    bad["doc"] = "broken.txt"
    bad["doc_id"] = "0000000000000001"
    bad["relations"].append(["忻州市", "ADOPTS", "不存在的机制", {"evidence": [0]}])
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([json.dumps(bad, ensure_ascii=False), "{not json", good]) + "\n", encoding="utf-8")
    stats = load_records(empty_db, path)
    assert stats.documents == 1
    assert stats.failures == [
        f"{path}:1: document 'broken.txt': relation ADOPTS tail '不存在的机制' is not among its Mechanism entities",
        f"{path}:2: not JSON (Expecting property name enclosed in double quotes at column 2)",
    ]


def test_full_text_index_finds_chinese_words_in_evidence(empty_db, sample_records):
    load_records(empty_db, sample_records)
    rows = db.read(
        empty_db,
        "CALL db.index.fulltext.queryNodes('sentence_text', $q) YIELD node RETURN node.text AS text LIMIT 5",
        {"q": "检察长"})
    assert rows and all("检察长" in row["text"] for row in rows)


def test_load_command_and_schema_commands(empty_db, neo4j_conn, sample_records, tmp_path):
    from typer.testing import CliRunner

    from etl.cli import app

    conn = ["--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    runner = CliRunner()
    applied = runner.invoke(app, ["schema", "apply", *conn])
    assert applied.output.splitlines() == ["applied 0001 constraints", "applied 0002 indexes", "applied 0003 fulltext"]
    assert runner.invoke(app, ["schema", "apply", *conn]).output == "schema is up to date\n"
    shown = runner.invoke(app, ["schema", "show", *conn]).output.splitlines()
    assert [line.split(":")[0] for line in shown] == ["0001 constraints", "0002 indexes", "0003 fulltext"]

    bad = tmp_path / "records.jsonl"
    bad.write_text(sample_records.read_text(encoding="utf-8") + "[]\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(bad), *conn])
    assert result.exit_code == 1
    assert f"failed: {bad}:6: a record is a JSON object, not list" in result.output
    assert "loaded 5 documents (0 replaced)" in result.output
    created = [line for line in result.output.splitlines() if line.startswith("nodes: ")]
    assert created and created[0].endswith(" updated, 0 deleted") and not created[0].startswith("nodes: 0 created")

    missing = runner.invoke(app, ["load", str(tmp_path / "none.jsonl"), *conn])
    assert (missing.exit_code, missing.output) == (1, f"Error: {tmp_path / 'none.jsonl'}: no such file; "
                                                       "run govgraph extract first\n")


def test_run_extracts_and_loads_a_corpus(empty_db, neo4j_conn, tmp_path):
    from typer.testing import CliRunner

    from etl.cli import app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sample = config.sample_corpus_dir() / "002_94f629d2cccb45b0.txt"
    (corpus / sample.name).write_bytes(sample.read_bytes())
    args = ["run", str(corpus), "--out", str(tmp_path / "out"), "--uri", neo4j_conn.uri, "--password",
            neo4j_conn.password]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"extracted 1 documents into {tmp_path / 'out' / 'records.jsonl'}"
    assert db.read(empty_db, "MATCH (d:Document)-[:REPORTS_ON]->(r:Region) RETURN r.name AS r") == [{"r": "忻州市"}]
    report = tmp_path / "out" / "report"
    assert f"report: {report / 'index.html'}" in result.output
    assert (report / "mechanism-matrix.png").stat().st_size > 0
    assert "忻州市,忻州市,水土保持率,target,2025,63.56,%" in (report / "targets.csv").read_text(encoding="utf-8")


def test_a_killed_load_rerun_equals_a_clean_load(empty_db, neo4j_conn, sample_records):
    """Kill the loading process after a random number of batches, load again, compare the graph."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    load_records(empty_db, sample_records)
    clean = dump(empty_db)
    wipe(empty_db)

    stop_after = random.Random().randint(1, 4)
    env = dict(os.environ, NEO4J_URI=neo4j_conn.uri, NEO4J_PASSWORD=neo4j_conn.password)
    process = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "load", str(sample_records), "--batch-size", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=config.PROJECT_ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        loaded = db.read(empty_db, "MATCH (d:Document) RETURN count(d) AS n")[0]["n"]
        if loaded >= stop_after:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait()
    interrupted = dump(empty_db)
    load_records(empty_db, sample_records)
    assert dump(empty_db) == clean
    assert process.returncode == -signal.SIGKILL or interrupted == clean
