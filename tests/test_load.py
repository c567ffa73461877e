"""Load stage against the real Neo4j: migrations, counts, idempotence, identity by path,
replacement, records that try to reach beyond their document, values Neo4j would refuse,
retries document by document, the library API's validation and the CJK full-text index."""

from __future__ import annotations

import json

import pytest

from etl import config
from etl.errors import LoadError
from etl.graph import db, migrations
from etl.graph import model as graph
from etl.graph.load import load_records
from etl.graph.records import DocumentRecord
from tests.conftest import changed_version, wipe
from tests.query_answers import SAMPLE_RECORDS


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("records") / "records.jsonl"
    path.write_bytes(SAMPLE_RECORDS.read_bytes())
    return path


@pytest.fixture
def empty_db(neo4j_driver):
    wipe(neo4j_driver)
    return neo4j_driver


def dump(driver) -> tuple[list, list]:
    """Every node and relationship with its properties, sorted: two equal dumps are one graph."""
    nodes = db.read(driver, "MATCH (n) WHERE NOT n:Migration RETURN labels(n) AS l, properties(n) AS p")
    rels = db.read(driver, "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, "
                           "coalesce(a.key, a.name, a.id, a.path) AS a, coalesce(b.key, b.name, b.id) AS b")
    canon = lambda rows: sorted(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) for row in rows)  # noqa: E731
    return canon(nodes), canon(rels)


def without_claims(nodes: list[str]) -> set[str]:
    """A dump's nodes without the counted claims (etl.graph.model.CLAIMS, CLAIM_COUNTS): what the nodes say."""
    rows = (json.loads(node) for node in nodes)
    counted = (graph.CLAIMS, graph.CLAIM_COUNTS)
    return {json.dumps({**row, "p": {k: v for k, v in row["p"].items() if k not in counted}},
                       ensure_ascii=False, sort_keys=True) for row in rows}


def test_migrations_apply_once(empty_db):
    first = migrations.apply(empty_db)
    assert [m.id for m in first] == ["0001", "0002", "0003", "0004", "model"]
    assert migrations.apply(empty_db) == []
    names = {row["name"] for row in db.read(empty_db, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"document_path", "document_doc_key", "region_key", "mechanism_name"} <= names
    assert "document_doc_id" not in names, "identical content under two paths is two documents"
    indexes = {row["name"] for row in db.read(empty_db, "SHOW INDEXES YIELD name RETURN name")}
    assert "document_doc_id" in indexes, "0004 makes 0001's constraint an index of the same name"


def test_sample_corpus_loads_with_its_evidence(empty_db, sample_records):
    stats = load_records(empty_db, sample_records)
    assert stats.documents == 5 and stats.failures == []
    counts = db.read(empty_db, "MATCH (d:Document) RETURN count(d) AS docs")[0]
    assert counts == {"docs": 5}
    anonymized = db.read(empty_db, "MATCH (r:Region {anonymized: true}) RETURN r.name AS name, r.key AS key, "
                                   "r.doc_key AS doc_key")
    assert {"XX区", "X县"} <= {row["name"] for row in anonymized}
    assert len({row["key"] for row in anonymized if row["name"] == "XX区"}) == 2, "two documents, two XX区"
    assert all(row["key"] == f"{row['name']}@{row['doc_key']}" for row in anonymized), "scoped to their document"
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
    assert (again.documents, again.unchanged, again.failures) == (0, 5, [])
    assert (again.nodes_created, again.relationships_created, again.relationships_deleted) == (0, 0, 0)
    assert dump(empty_db) == before


def test_records_read_from_their_file_and_held_in_memory_are_the_same_version(empty_db, sample_records):
    # A record from records.jsonl is hashed by its line, one in memory by its JSON: for the
    # lines extract writes the two agree, so neither replaces the other.
    load_records(empty_db, sample_records)
    before = dump(empty_db)
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    records = [DocumentRecord.model_validate_json(line) for line in lines]
    again = load_records(empty_db, records, batch_size=2)
    assert (again.documents, again.replaced, again.unchanged) == (0, 0, 5)
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
    docs = db.read(empty_db, "MATCH (d:Document {name: $n}) RETURN d.doc_id AS id, d.doc_key AS key",
                   {"n": changed["doc"]})
    assert [d["id"] for d in docs] == ["ffffffffffffffff"]
    assert db.read(empty_db, "MATCH ()-[r:ADOPTS]->(:Mechanism {name: '河长+警长'}) RETURN count(r) AS n") == [{"n": 0}]
    sentences = db.read(empty_db, "MATCH (s:Sentence {doc_key: $k}) RETURN count(s) AS n", {"k": docs[0]["key"]})
    assert sentences == [{"n": len(changed["sentences"])}], "the old version's sentences went"
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
        f"{path}:1: document 'broken.txt': relations.{len(bad['relations']) - 1}: ADOPTS tail '不存在的机制' "
        "is not among its Mechanism entities",
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
    assert applied.output.splitlines() == ["applied 0001 constraints", "applied 0002 indexes", "applied 0003 fulltext",
                                           "applied 0004 documents_own_their_data", "applied model ontology_keys"]
    assert runner.invoke(app, ["schema", "apply", *conn]).output == "schema is up to date\n"
    shown = runner.invoke(app, ["schema", "show", *conn]).output.splitlines()
    assert [line.split(":")[0] for line in shown] == ["0001 constraints", "0002 indexes", "0003 fulltext",
                                                      "0004 documents_own_their_data", "model ontology_keys"]

    bad = tmp_path / "records.jsonl"
    bad.write_text(sample_records.read_text(encoding="utf-8") + "[]\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(bad), *conn])
    assert result.exit_code == 1
    assert f"failed: {bad}:6: a record is a JSON object, not list" in result.output
    assert "loaded 5 documents (0 replaced, 0 unchanged)" in result.output
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
    assert f"extracted 1 documents into {tmp_path / 'out' / 'records.jsonl'}, reused 0 unchanged since the last " \
           "extraction there" in result.output.splitlines()
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


# --- identity: a document is its path -----------------------------------------------------------


def _record(line: str, **changes) -> dict:
    record = json.loads(line)
    record.update(changes)
    return record


def _write(path, records: list[dict]):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.parametrize("batch_size", [1, 100])
def test_same_file_name_in_two_folders_is_two_documents_and_reloads_change_nothing(
        empty_db, sample_records, tmp_path, batch_size):
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    a = _record(lines[2], doc="report.txt", path="a/report.txt")
    b = _record(lines[4], doc="report.txt", path="b/report.txt")
    path = _write(tmp_path / "records.jsonl", [a, b])
    first = load_records(empty_db, path, batch_size=batch_size)
    assert (first.documents, first.replaced, first.failures) == (2, 0, [])
    before = dump(empty_db)
    docs = db.read(empty_db, "MATCH (d:Document) RETURN d.path AS path, d.name AS name ORDER BY path")
    assert docs == [{"path": "a/report.txt", "name": "report.txt"}, {"path": "b/report.txt", "name": "report.txt"}]
    for size in (1, 100):
        again = load_records(empty_db, path, batch_size=size)
        assert (again.documents, again.replaced, again.unchanged) == (0, 0, 2)
        assert (again.relationships_created, again.relationships_deleted, again.nodes_deleted) == (0, 0, 0)
        assert dump(empty_db) == before


def test_identical_content_under_two_paths_is_two_documents(empty_db, sample_records, tmp_path):
    line = sample_records.read_text(encoding="utf-8").splitlines()[2]
    path = _write(tmp_path / "records.jsonl", [_record(line, path="x/a.txt"), _record(line, path="y/a.txt")])
    stats = load_records(empty_db, path, batch_size=1)
    assert (stats.documents, stats.failures) == (2, [])
    rows = db.read(empty_db, "MATCH (d:Document) RETURN d.doc_id AS doc_id, count(*) AS n")
    assert rows == [{"doc_id": json.loads(line)["doc_id"], "n": 2}]
    adopts = db.read(empty_db, "MATCH (:Region {name: '忻州市'})-[a:ADOPTS]->(:Mechanism {name: '三同时'}) "
                               "RETURN count(a) AS n")
    assert adopts == [{"n": 2}], "one ADOPTS a document"


def test_a_record_without_path_falls_back_to_its_file_name(empty_db, sample_records):
    line = sample_records.read_text(encoding="utf-8").splitlines()[0]
    record = DocumentRecord.model_validate(_record(line, path=None))
    load_records(empty_db, [record])
    assert db.read(empty_db, "MATCH (d:Document) RETURN d.path AS path") == [{"path": record.doc}]


# --- records cannot reach beyond their document ---------------------------------------------------


def _hostile(line: str) -> list[tuple[dict, str]]:
    """Records that try to rename, re-key or claim shared nodes, or hold values Neo4j refuses."""
    base = json.loads(line)
    region = base["region"]["name"]
    actor = base["entities"]["Actor"][0]
    cases = []

    def case(name: str, change, field: str):
        record = json.loads(line)
        record["doc"], record["path"], record["doc_id"] = f"{name}.txt", f"hostile/{name}.txt", name
        change(record)
        cases.append((record, f"document '{name}.txt': {field}"))

    case("rename", lambda r: r["properties"].setdefault("Actor", {}).setdefault(actor, {}).update(name="HIJACKED"),
         f"properties.Actor.{actor}.name: not a property a record may set on a Actor (allowed: corrected_by, kind)")
    case("rekey", lambda r: r["properties"]["Region"].setdefault(region, {}).update(key="X"),
         f"properties.Region.{region}.key: not a property a record may set on a Region "
         "(allowed: adcode, anonymized, corrected_by, level)")
    case("claim", lambda r: r["properties"]["Region"].setdefault(region, {}).update(doc_id="claimed"),
         f"properties.Region.{region}.doc_id: not a property a record may set on a Region "
         "(allowed: adcode, anonymized, corrected_by, level)")
    case("year", lambda r: r["quantities"][0].update(year=10**20), "quantities.0.year: an integer outside 64 bits")
    case("long", lambda r: (r["entities"]["Actor"].append("长" * 20000)),
         f"entities.Actor.{'长' * 40}: 20000 characters (at most {graph.MAX_NAME})")
    case("nan", lambda r: r["quantities"][0].update(value=float("nan")),
         "quantities.0.value: nan is not a finite number")
    case("evidence", lambda r: r["relations"][0][3].update(evidence=[99999]),
         f"relations.0.evidence: evidence sentence 99999 is not a sentence of the document "
         f"({len(base['sentences'])} sentences)")
    case("region", lambda r: r["region"].update(name="别处县"), "region: '别处县' is not among its Region entities")
    case("subject", lambda r: r["quantities"][0].update(subject="不存在"),
         f"quantities.0.subject: '不存在' is not among its {base['quantities'][0]['subject_type']} entities")
    return cases


def test_records_that_reach_beyond_their_document_are_refused_and_the_others_load(empty_db, sample_records, tmp_path):
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    xinzhou = lines[2]
    load_records(empty_db, sample_records)
    before = dump(empty_db)
    cases = _hostile(xinzhou)
    good = _record(lines[0], path="late/000.txt")
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False, allow_nan=True) + "\n" for r, _ in cases)
                    + json.dumps(good, ensure_ascii=False) + "\n", encoding="utf-8")
    stats = load_records(empty_db, path)
    assert stats.failures == [f"{path}:{n}: {reason}" for n, (_, reason) in enumerate(cases, start=1)]
    assert stats.documents == 1, "the good document after them loads"
    load_records(empty_db, [DocumentRecord.model_validate(good)])
    nodes, rels = dump(empty_db)
    # The good document's claims join the nodes' claims lists; what the nodes say is unchanged.
    assert without_claims(before[0]) <= without_claims(nodes), "no shared node was renamed, re-keyed or claimed"
    assert not any("HIJACKED" in n for n in nodes)


def test_a_batch_neo4j_refuses_is_retried_document_by_document(empty_db, sample_records, tmp_path):
    """A stray Sentence holding the id of one document's first sentence makes that document fail."""
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    victim = json.loads(lines[3])
    migrations.apply(empty_db)
    owner = graph.doc_key(victim["doc"])
    db.write(empty_db, "CREATE (:Sentence {id: $id, doc_key: 'stray'})", {"id": f"{owner}:0"})
    stats = load_records(empty_db, sample_records, batch_size=100)
    assert stats.documents == 4
    assert len(stats.failures) == 1
    assert stats.failures[0].startswith(f"{sample_records}:4: document '{victim['doc']}': Neo4j refused it: ")
    assert db.read(empty_db, "MATCH (d:Document) RETURN count(d) AS n") == [{"n": 4}]
    left = db.read(empty_db, "MATCH (s:Sentence {doc_key: $k}) RETURN count(s) AS n", {"k": owner})
    assert left == [{"n": 0}], "the refused document left nothing: all or nothing"
    related = db.read(empty_db, "MATCH ()-[r {doc_key: $k}]->() RETURN count(r) AS n", {"k": owner})
    assert related == [{"n": 0}]


# --- the library API validates whatever it is given ------------------------------------------------


def test_load_records_takes_a_str_path_and_validates_records_in_memory(empty_db, sample_records):
    stats = load_records(empty_db, str(sample_records))
    assert (stats.documents, stats.failures) == (5, [])
    line = sample_records.read_text(encoding="utf-8").splitlines()[2]
    (hostile, reason), *_ = _hostile(line)
    record = DocumentRecord.model_validate(hostile)
    stats = load_records(empty_db, [record, hostile, "not a record", 7])
    assert stats.failures == [f"<records>:1: {reason}", f"<records>:2: {reason}",
                              "<records>:3: not JSON (Expecting value at column 1)",
                              "<records>:4: a int, not a DocumentRecord"]
    assert stats.documents == 0
    with pytest.raises(LoadError, match="not a single DocumentRecord"):
        load_records(empty_db, record)
    with pytest.raises(LoadError, match="no such file"):
        load_records(empty_db, str(sample_records) + ".missing")
    with pytest.raises(LoadError, match="batch size"):
        load_records(empty_db, sample_records, batch_size=0)


def test_replacing_a_document_reads_only_its_own_data_through_indexes(empty_db):
    """Every statement that takes a document out starts from an index seek on its doc_key, never a scan."""
    from etl.graph.load import _removals

    migrations.apply(empty_db)

    def operators(plan) -> list[str]:
        return [plan["operatorType"].split("@")[0]] + [o for c in plan.get("children", []) for o in operators(c)]

    for cypher in _removals():
        plan = empty_db.execute_query("EXPLAIN " + cypher, {"keys": ["k"]}).summary.plan
        found = operators(plan)
        assert any("IndexSeek" in o for o in found), (cypher, found)
        assert not any("Scan" in o for o in found), (cypher, found)


def test_a_load_makes_full_collections_rarer_and_restores_the_collector(empty_db, sample_records):
    import gc

    before = gc.get_threshold()
    during = []
    load_records(empty_db, sample_records, batch_size=2, progress=lambda n: during.append(gc.get_threshold()))
    assert during and all(t[:2] == before[:2] and t[2] >= 1000 for t in during)
    assert gc.get_threshold() == before


def test_batches_are_cut_by_documents_and_by_items(sample_records):
    """A batch ends at its size in documents, or earlier when its records' items would pass the cap."""
    from etl.graph.load import batches, record_items
    from etl.graph.rows import iter_items

    items = list(iter_items(sample_records, []))
    sizes = [record_items(record) for _, record, _ in items]
    assert [len(b) for b in batches(items, 2)] == [2, 2, 1]
    cap = sizes[0] + sizes[1]
    cut = list(batches(items, 100, max_items=cap))
    assert [len(b) for b in cut][0] == 2
    assert all(sum(record_items(r) for _, r, _ in b) <= cap or len(b) == 1 for b in cut)
    assert [w for b in cut for w, _, _ in b] == [w for w, _, _ in items], "every record, in order"
    assert [len(b) for b in batches(items, 100, max_items=1)] == [1] * 5, "one document at least"


def test_statement_rows_are_shown_by_their_number_not_formatted():
    """The driver formats each RUN's parameters for a debug line even when nothing logs: the
    loader's rows must not be formatted row by row (seconds a batch), yet stay a list."""
    from etl.graph.load import Rows

    rows = Rows([{"id": f"d:{i}", "text": "河长" * 50} for i in range(1000)])
    assert isinstance(rows, list) and rows == [{"id": f"d:{i}", "text": "河长" * 50} for i in range(1000)]
    assert repr(rows) == "<1000 rows>" and repr({"rows": rows}) == "{'rows': <1000 rows>}"
