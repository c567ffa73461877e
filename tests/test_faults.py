"""Fault suite of issue 22: data lost or corrupted, inputs that stopped a run, runaways, files
written where they must not be. Each test is one probed defect, on real files and the real Neo4j.

Probe families, rerun on this branch (2026-12-07), and what they give now. Those that held last turn:

- same file name in two folders: two documents (test_load, same_file_name_in_two_folders): holds;
- values Neo4j refuses, records reaching beyond their document: one failed record each, the rest
  loads (test_load, test_load_faults with 5 % hostile records): holds;
- 我乡 / 我镇 reports (test_regions): hold;
- kill -9 while writing records.jsonl, a full disk (test_extract_reliability): the previous
  records stay whole; the two tests fail on their last line, which lists the output folder and
  does not expect the extraction.json that extract now writes beside records.jsonl;
- TERMINATE / LOAD CSV in packs (test_query_safety): refused, hold;
- a stale pid in server.json (test_neo4j_server, stale_server_json): holds;
- kill -9 of a load, then a rerun (test_load_faults, two kills of 60 documents): equals a clean load;
- concurrent loads, now that replacement takes two transactions a batch: two loaders of old and
  new versions at once, then a load, equal a clean load (two_loads_of_two_versions below);
- loads under concurrent queries: a load of 120 generated documents while the report and the
  compare pack run in two threads against the same server: all finish without an error, and the
  graph and the answers after it are a clean load's (load_under_concurrent_reports_and_queries).

The new ones, each a test below that failed before its fix: a forged region key (record and
correction), --fresh killed while emptying, two names made one path, orphans after replacement,
a correction's head_type outside the model, a lone surrogate in load and exports, a !!python tag
and aliases in a corrections file, a control character in a text, CALL IN TRANSACTIONS in a pack,
a renamed docx part, a query name that is a path, formula cells in CSVs, a server.json copied
from another folder, a record claiming other properties (level, adcode, category) for shared
nodes that other documents name (it still decides a tie: a node one other document names goes
to the claim first in sort order), an alias bomb in a schema/ rule file (test_datafiles).
Replacement speed is benchmarks/reload.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from etl import config
from etl.graph import db
from etl.graph import model as graph
from etl.graph.load import load_records
from etl.graph.records import read_records
from tests.conftest import changed_version, wipe
from tests.query_answers import SAMPLE_RECORDS
from tests.test_load import dump


@pytest.fixture
def empty_db(neo4j_driver):
    wipe(neo4j_driver)
    return neo4j_driver


def _lines() -> list[str]:
    return SAMPLE_RECORDS.read_text(encoding="utf-8").splitlines()


def _write(path, lines) -> object:
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
                              for line in lines) + "\n", encoding="utf-8")
    return path


def _clean(driver, records) -> tuple:
    wipe(driver)
    load_records(driver, records)
    return dump(driver)


# --- data lost or corrupted ---------------------------------------------------------------------


def test_an_emptying_killed_half_way_is_finished_by_the_next_load(empty_db, neo4j_conn, tmp_path):
    """A --fresh killed while deleting, then a plain load: the graph of a clean load, no partial document."""
    clean = _clean(empty_db, SAMPLE_RECORDS)
    total = db.read(empty_db, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    env = dict(os.environ, NEO4J_URI=neo4j_conn.uri, NEO4J_USER=neo4j_conn.user,
               NEO4J_PASSWORD=neo4j_conn.password, PYTHONPATH=str(config.PROJECT_ROOT))
    emptier = subprocess.Popen(
        [sys.executable, "-c", "from etl.graph import db; db.empty_graph(db.connect(db.connection()), batch=1)"],
        env=env, cwd=config.PROJECT_ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and emptier.poll() is None:
        if db.read(empty_db, "MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"] < total * 0.8:
            emptier.kill()
            break
        time.sleep(0.05)
    emptier.wait()
    assert emptier.returncode == -9, "the emptying was killed while it ran"
    stats = load_records(empty_db, SAMPLE_RECORDS)
    assert (stats.documents, stats.emptied) == (5, 5)
    assert dump(empty_db) == clean


def test_a_replacement_leaves_no_node_only_the_old_version_held(empty_db, tmp_path):
    lines = _lines()
    load_records(empty_db, SAMPLE_RECORDS)
    changed = changed_version(lines[4], "河长+警长")
    final = _write(tmp_path / "final.jsonl", lines[:4] + [changed])
    stats = load_records(empty_db, final)
    assert (stats.replaced, stats.unchanged) == (1, 4)
    after = dump(empty_db)
    assert db.read(empty_db, "MATCH (m:Mechanism {name: '河长+警长'}) RETURN count(m) AS n") == [{"n": 0}]
    assert after == _clean(empty_db, final), "equal to a clean load of the new versions"



def _hostile_region(lines: list[str]) -> tuple[dict, str]:
    """A record of a new path naming, as a shared region, the key of another document's XX区."""
    victim = next(json.loads(line) for line in lines if json.loads(line)["region"]["anonymized"])
    key = f"{victim['region']['name']}@{graph.doc_key(victim['path'] or victim['doc'])}"
    hostile = json.loads(lines[0])
    hostile["path"] = hostile["doc"] = "hostile.txt"
    hostile["entities"]["Region"].append(key)
    hostile["properties"]["Region"][key] = {"anonymized": False}
    hostile["relations"].append([key, "ADOPTS", hostile["entities"]["Mechanism"][0], {"evidence": [0]}])
    return hostile, key


def test_no_record_can_take_over_another_documents_anonymized_region(empty_db, tmp_path):
    lines = _lines()
    hostile, key = _hostile_region(lines)
    load_records(empty_db, SAMPLE_RECORDS)
    before = db.read(empty_db, "MATCH (r:Region {key: $k}) RETURN r.anonymized AS a, COUNT { (r)--() } AS degree",
                     {"k": key})
    stats = load_records(empty_db, _write(tmp_path / "hostile.jsonl", [hostile]))
    assert stats.documents == 0
    assert stats.failures == [f"{tmp_path / 'hostile.jsonl'}:1: document 'hostile.txt': entities.Region."
                              f"{key[:40]}: a region's name holds no '@' (it joins an anonymized region's key)"]
    assert db.read(empty_db, "MATCH (r:Region {key: $k}) RETURN r.anonymized AS a, COUNT { (r)--() } AS degree",
                   {"k": key}) == before == [{"a": True, "degree": before[0]["degree"]}]



def _copy(line: str, path: str, change=None) -> dict:
    """A record of another path with the same content, changed by ``change``."""
    record = json.loads(line)
    record["path"] = record["doc"] = path
    if change:
        change(record)
    return record


def _relevel(record: dict) -> None:
    """The hostile claims: 忻州市 a village with another adcode, every mechanism 宣传教育 by rule."""
    record["properties"]["Region"]["忻州市"].update(level="村", adcode="000000")
    for props in record["properties"]["Mechanism"].values():
        props.update(category="宣传教育", category_by="rule")


def _says(driver) -> list[dict]:
    """What the shared nodes of 忻州市's report say: the region's and its mechanisms' properties."""
    return db.read(driver, "MATCH (r:Region {key: '忻州市'})-[:ADOPTS]->(m:Mechanism) "
                           "WITH DISTINCT r, m ORDER BY m.name RETURN r.level AS level, r.adcode AS adcode, "
                           "collect([m.name, m.category, m.category_by]) AS mechanisms")


def test_a_record_cannot_change_what_shared_nodes_say(empty_db, tmp_path):
    """A record claiming 忻州市 is a village, and other categories for its mechanisms, changes
    neither the nodes nor by-level's answers: two documents name them otherwise."""
    from etl.outputs import queries

    lines = _lines()
    honest = _write(tmp_path / "honest.jsonl", [*lines, _copy(lines[2], "twin/002.txt")])
    load_records(empty_db, honest)
    by_level = queries.find_query("by-level")
    before, answers = _says(empty_db), queries.run_query(empty_db, by_level)
    assert before[0]["level"] == "市" and before[0]["adcode"] == "140900"
    stats = load_records(empty_db, _write(tmp_path / "hostile.jsonl", [_copy(lines[2], "hostile.txt", _relevel)]))
    assert (stats.documents, stats.failures) == (1, [])
    assert _says(empty_db) == before
    assert queries.run_query(empty_db, by_level) == answers
    node = db.read(empty_db, "MATCH (r:Region {key: '忻州市'}) RETURN r.claims AS c, r.claim_counts AS n")[0]
    assert dict(zip(node["c"], node["n"], strict=True)) == {"市|140900|": 2, "村|000000|": 1}, \
        "each document's claim is counted, the node says the most documents' one"


def test_the_graph_does_not_depend_on_the_order_documents_load_in(empty_db, tmp_path):
    """Disagreeing claims loaded in two orders, in one batch or one document a batch, give one graph;
    the graph the NetworkX export builds from the records is the same."""
    from etl.outputs.export.graph import graph_from_neo4j, graph_from_records

    lines = _lines()
    records = [*lines, _copy(lines[2], "twin/002.txt"), _copy(lines[2], "hostile.txt", _relevel)]
    forward = _clean(empty_db, _write(tmp_path / "forward.jsonl", records))
    wipe(empty_db)
    load_records(empty_db, _write(tmp_path / "backward.jsonl", records[::-1]), batch_size=1)
    assert dump(empty_db) == forward
    exported = graph_from_records(tmp_path / "backward.jsonl", sentences=True)
    assert dict(exported.nodes(data=True)) == dict(graph_from_neo4j(empty_db, sentences=True).nodes(data=True))
    xinzhou = exported.nodes["Region:忻州市"]
    assert (xinzhou["level"], xinzhou["adcode"]) == ("市", "140900")


def test_a_replacement_takes_its_old_claims_out(empty_db, tmp_path):
    """The hostile document replaced by an honest version: the claims are those of a clean load."""
    lines = _lines()
    honest = [*lines, _copy(lines[2], "twin/002.txt")]
    load_records(empty_db, _write(tmp_path / "a.jsonl", [*honest, _copy(lines[2], "hostile.txt", _relevel)]))
    final = _write(tmp_path / "b.jsonl", [*honest, _copy(lines[2], "hostile.txt", lambda r: r.update(doc_id="b"))])
    load_records(empty_db, final)
    assert dump(empty_db) == _clean(empty_db, final)


def test_two_loads_of_two_versions_at_once_then_a_load_give_a_clean_graph(empty_db, neo4j_conn, tmp_path):
    """Replacement is two transactions a batch: concurrent loads of old and new versions leave no
    partial document and no orphan once the new versions are loaded again."""
    lines = _lines()
    old = _write(tmp_path / "old.jsonl", lines)
    new = _write(tmp_path / "new.jsonl", [changed_version(line, json.loads(line)["entities"]["Mechanism"][0],
                                                          doc_id=f"{n:016x}") for n, line in enumerate(lines)])
    clean = _clean(empty_db, new)
    wipe(empty_db)
    load_records(empty_db, old)
    env = dict(os.environ, NEO4J_URI=neo4j_conn.uri, NEO4J_USER=neo4j_conn.user,
               NEO4J_PASSWORD=neo4j_conn.password, PYTHONPATH=str(config.PROJECT_ROOT))
    script = ("import sys; from etl.graph import db; from etl.graph.load import load_records; "
              "driver = db.connect(db.connection()); "
              "[load_records(driver, sys.argv[1 + n % 2], batch_size=2) for n in range(4)]")
    loaders = [subprocess.Popen([sys.executable, "-c", script, *order], env=env, cwd=config.PROJECT_ROOT)
               for order in ((str(new), str(old)), (str(old), str(new)))]
    assert [loader.wait(timeout=600) for loader in loaders] == [0, 0]
    load_records(empty_db, new)
    got = dump(empty_db)
    assert (sorted(set(got[0]) - set(clean[0])), sorted(set(clean[0]) - set(got[0])),
            sorted(set(got[1]) - set(clean[1]))[:5], sorted(set(clean[1]) - set(got[1]))[:5]) == ([], [], [], [])
    assert got == clean


def _compare_answers(driver) -> dict[str, list]:
    """Every compare query without a required parameter, its rows as the report gets them."""
    from etl.outputs import queries

    packs = queries.load_packs().values()
    return {q.name: queries.run_query(driver, q) for q in packs
            if q.pack == "compare" and not any(p.required for p in q.params)}


def test_a_load_under_concurrent_reports_and_queries_loses_nothing(empty_db, tmp_path, monkeypatch):
    """A load while the report and the query packs run against the same server: all finish
    without an error, the graph and the answers after it are a clean load's.

    The schema is in place before the readers start, as it is for a researcher querying a graph
    while more reports load: here the wipe dropped it, and a compare query that started while the
    load's migrations created constraints once waited out its whole timeout in CI. The queries
    run with ten minutes' timeout, not the default 30 s (a compare query beside the load on a
    loaded machine once took longer), and not an hour, so a hang fails in minutes."""
    import functools
    import threading

    from benchmarks.corpus import generated_records
    from etl.graph import migrations
    from etl.outputs import queries
    from etl.outputs.report import build_report

    monkeypatch.setattr(queries, "run_query", functools.partial(queries.run_query, timeout=600.0))
    migrations.apply(empty_db)
    records = generated_records(tmp_path / "records.jsonl", 120)
    loading = threading.Event()
    runs: dict[str, int] = {"report": 0, "queries": 0}
    errors: list[BaseException] = []

    def repeat(name: str, work) -> None:
        while loading.is_set():
            try:
                work(runs[name])
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
                return
            runs[name] += 1

    readers = [threading.Thread(target=repeat, args=("report", lambda n: build_report(empty_db, tmp_path / f"r{n}"))),
               threading.Thread(target=repeat, args=("queries", lambda n: _compare_answers(empty_db)))]
    loading.set()
    for reader in readers:
        reader.start()
    try:
        stats = load_records(empty_db, records, batch_size=10)
        # Readers that had not finished a run while the load wrote go on until they have.
        while loading.is_set() and min(runs.values()) < 1 and not errors:
            time.sleep(0.2)
    finally:
        loading.clear()
        for reader in readers:
            reader.join()
    assert errors == []
    assert (stats.documents, stats.failures) == (120, [])
    assert min(runs.values()) >= 1
    after, answers = dump(empty_db), _compare_answers(empty_db)
    assert after == _clean(empty_db, records), "nothing lost: the graph of a clean load"
    assert answers == _compare_answers(empty_db), "the answers of a clean load"


@pytest.mark.parametrize(("entry", "reason"), [
    ("rename: {type: Region, from: 忻州市, to: \"XX区@0123456789abcdef\"}",
     "a region's name holds no '@' (it joins an anonymized region's key)"),
    ("add: {relation: [忻州市, ADOPTS, 新机制], head_type: Mechanism, doc: d.txt, sentence: 忻州市}",
     "head_type Mechanism cannot be the head of ADOPTS (it joins Region)"),
    ("add: {relation: [忻州市, ADOPTS, 新机制], tail_type: Actor, doc: d.txt, sentence: 忻州市}",
     "tail_type Actor cannot be the tail of ADOPTS (it joins Mechanism)"),
])
def test_a_correction_the_graph_model_refuses_is_a_path_line_error(tmp_path, entry, reason):
    from etl.errors import DataFileError
    from etl.research.corrections import read_corrections

    path = tmp_path / "corrections.yaml"
    path.write_text(f"corrections:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_corrections(path)
    assert str(caught.value) == f"{path}:2: {reason}"


def test_two_file_names_never_become_one_path(tmp_path):
    from etl.input import read

    names = ["new\nline.txt", "new\\nline.txt", os.fsdecode(b"\xb0a.txt"), "\\xb0a.txt"]
    for name in names:
        (tmp_path / name).write_text("忻州市推行河长制。", encoding="utf-8")
    rels = [source.rel for source in read.scan([tmp_path]).sources]
    assert len(rels) == len(set(rels)) == 4, rels


# --- inputs that stopped a run ------------------------------------------------------------------


def _surrogate_path_line() -> str:
    record = json.loads(_lines()[0])
    record["path"] = record["doc"] = "bad\udcb0name.txt"
    return json.dumps(record)  # ASCII JSON: the surrogate as \udcb0, as Python's json writes it


def test_a_lone_surrogate_in_a_path_is_one_failed_record_and_the_rest_loads(empty_db, tmp_path):
    path = _write(tmp_path / "records.jsonl", [_surrogate_path_line(), *_lines()[1:]])
    stats = load_records(empty_db, path)
    assert stats.documents == 4
    assert stats.failures == [f"{path}:1: document 'bad\\udcb0name.txt': holds '\\udcb0', "
                              "half of a surrogate pair, not a character"]


@pytest.mark.parametrize("fmt", ["graphml", "json", "qdpx", "neo4j-import"])
def test_a_lone_surrogate_in_a_path_does_not_stop_an_export(tmp_path, fmt):
    """The rest is exported, the skipped record named, and the exit status says one was skipped."""
    from typer.testing import CliRunner

    from etl.cli import app

    records = _write(tmp_path / "records.jsonl", [_surrogate_path_line(), *_lines()[1:]])
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(app, ["export", "--format", fmt, "--records", str(records), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"skipped: {records}:1: document 'bad\\udcb0name.txt'" in result.output
    written = list(out.glob("nodes_*.csv")) if fmt == "neo4j-import" else [out]
    assert written and all(path.stat().st_size > 0 for path in written)


@pytest.mark.parametrize(("text", "reason"), [
    ("corrections:\n  - rename: !!python/object/apply:os.system [echo hi]\n",
     "2: not valid YAML (could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system')"),
    ("a: &a [x, x, x]\nb: &b [*a, *a, *a]\ncorrections:\n  - rename: {type: Actor, from: *b, to: y}\n",
     "2: not valid YAML (an alias (*name) is not allowed here; write the value out)"),
])
def test_a_corrections_file_with_python_tags_or_aliases_is_one_path_line_error(tmp_path, text, reason):
    from etl.errors import DataFileError
    from etl.research.corrections import read_corrections

    path = tmp_path / "corrections.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_corrections(path)
    assert str(caught.value) == f"{path}:{reason}"


def test_a_yaml_file_past_the_size_bound_is_refused_unread(tmp_path):
    from etl import datafiles
    from etl.errors import DataFileError
    from etl.research.corrections import read_corrections

    path = tmp_path / "corrections.yaml"
    path.write_text("corrections:\n" + "# padding\n" * (datafiles.MAX_YAML_BYTES // 10 + 1), encoding="utf-8")
    with pytest.raises(DataFileError, match="more than a YAML file may hold"):
        read_corrections(path)


def test_control_characters_are_spaces_or_line_breaks_after_normalize_and_offsets_hold(tmp_path):
    from etl.extract import extract_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ff.txt").write_text("忻州市建立\x0c“河长+检察长”\x01机制。\x1b全市推行河长制。", encoding="utf-8")
    summary = extract_corpus([corpus], tmp_path / "out")
    (record,) = list(read_records(summary.out))
    controls = [ch for ch in record.to_json() if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0]
    assert controls == []
    assert "河长+检察长" in record.entities["Mechanism"]
    for sentence in record.sentences:
        for mention in (m for m in record.mentions if m.sentence == sentence.index):
            assert sentence.text[mention.start - sentence.start:mention.end - sentence.start] == mention.text


# --- writing where it must not --------------------------------------------------------------------


def test_neo4j_stop_ignores_a_server_json_copied_from_another_folder(neo4j_driver, tmp_path_factory, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from etl.cli import app

    found = sorted(tmp_path_factory.getbasetemp().glob("neo4j-home*/neo4j/server.json"))
    if not found:
        pytest.skip("the session's server is not the embedded one (NEO4J_URI is set)")
    home = tmp_path / "home"
    (home / "neo4j").mkdir(parents=True)
    shutil.copy(found[0], home / "neo4j" / "server.json")
    result = CliRunner().invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert (result.exit_code, result.output) == (0, "Neo4j is not running\n")
    assert neo4j_driver.execute_query("RETURN 1 AS one").records[0]["one"] == 1, "the session's server runs on"


def test_a_query_name_that_is_a_path_is_refused_at_its_line(tmp_path):
    from etl.errors import DataFileError
    from etl.outputs.queries import load_packs

    pack = tmp_path / "queries" / "mine"
    pack.mkdir(parents=True)
    (pack / "x.cypher").write_text("// description: escapes\n// name: ../../../../tmp/x\nMATCH (n) RETURN n LIMIT 1\n",
                                   encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_packs(tmp_path / "queries")
    assert str(caught.value) == (f"{pack / 'x.cypher'}:2: query name '../../../../tmp/x' is not lowercase letters, "
                                 "digits and '-' (it names the query's CSV file)")


def test_csv_cells_that_a_spreadsheet_would_run_are_text(tmp_path):
    import csv

    from etl.outputs.queries import format_rows
    from etl.research.review import ReviewItem, write_review

    rows = [{"name": "=HYPERLINK(\"http://x\")", "n": -3, "other": "@SUM(A1)", "t": "\tx", "plain": "河长制"}]
    text = format_rows(rows, ("name", "n", "other", "t", "plain"), "csv")
    assert list(csv.reader(text.splitlines())) == [
        ["name", "n", "other", "t", "plain"], ["'=HYPERLINK(\"http://x\")", "-3", "'@SUM(A1)", "'\tx", "河长制"]]
    item = ReviewItem("seen-once", "Mechanism", "+cmd|' /C calc'!A0", "-1+1", 1, 1, "=1", "")
    csv_path, _ = write_review([item], tmp_path)
    (row,) = csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines())
    assert (row["name"], row["other"], row["sentence"], row["priority"]) == (
        "'+cmd|' /C calc'!A0", "'-1+1", "'=1", "3")


def test_a_read_only_call_in_transactions_in_a_pack_is_one_clean_error(neo4j_driver, tmp_path):
    from etl.errors import DataFileError, QueryError
    from etl.outputs.queries import Query, load_packs, run_query

    pack = tmp_path / "queries" / "mine"
    pack.mkdir(parents=True)
    path = pack / "batched.cypher"
    path.write_text("// name: batched\n// description: reads in batches\n"
                    "MATCH (n)\nCALL (n) { RETURN n.name AS name } IN TRANSACTIONS OF 10 ROWS\nRETURN name\n",
                    encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_packs(tmp_path / "queries")
    assert str(caught.value) == (f"{path}:4: 'IN TRANSACTIONS' commits transactions of its own, which a "
                                 "read-only query cannot open; query packs only read the graph")
    query = Query(pack="mine", name="batched", description="", params=(), columns=(), path=path, body_line=3,
                  cypher=path.read_text(encoding="utf-8").split("\n", 2)[2])
    with pytest.raises(QueryError, match=f"{path}:4: 'IN TRANSACTIONS'"):
        run_query(neo4j_driver, query)


# --- runaways -----------------------------------------------------------------------------------


def test_a_docx_part_renamed_in_its_content_types_counts_as_the_xml_it_is(tmp_path, monkeypatch):
    """The main part as word/document.bin: parsed by python-docx all the same, so counted as XML."""
    import zipfile

    from benchmarks.docx_limits import RELS, TYPES, W
    from etl.errors import ReadError
    from etl.input import read

    monkeypatch.setattr(read, "MAX_DOCX_XML", read.MB)
    run = '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>河长制</w:t></w:r></w:p>'
    body = f'<w:document xmlns:w="{W}"><w:body>' + run * (2 * read.MB // len(run)) + "</w:body></w:document>"
    path = tmp_path / "renamed.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", TYPES.replace("/word/document.xml", "/word/document.bin"))
        package.writestr("_rels/.rels", RELS.replace("word/document.xml", "word/document.bin"))
        package.writestr("word/document.bin", body)
    with pytest.raises(ReadError, match=r"renamed\.docx: unpacks to 2 MB \(2 MB of XML\), over the limits of "
                                        r"256 MB \(1 MB of XML\) per \.docx; save it as \.txt$"):
        read.read_document(path)
