"""The bulk path: CSV files that neo4j-admin's full import turns into the graph a load gives."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from etl import config
from etl.graph import db, migrations
from etl.graph.load import DEFAULT_BATCH, load_records
from etl.graph.model import KEY
from etl.graph.records import DocumentRecord
from etl.neo4j import server
from etl.outputs.export.graph import graph_from_records
from etl.outputs.export.neo4j_import import ARRAY_DELIMITER, ImportFiles, write_import
from tests.conftest import free_port, wipe
from tests.query_answers import SAMPLE_RECORDS
from tests.test_load import dump


def tricky_records(path: Path) -> tuple[Path, int]:
    """The sample's records, then what writing the files as the records stream makes risky; returns
    the file and how many of its lines are hostile.

    - a shared mechanism named by six documents claiming three categories (the most claimed wins);
    - a replaced document: its first version mentions an actor that a later document names
      without a relationship; the replacement takes the old version out, and the actor with it
      (nothing reaches it), though that document names it: the loader's graph, not a graph of
      the last versions alone; a fourth document names the actor again afterwards;
    - a line given twice alike (the second changes nothing), and a version loaded back again;
    - two paths with one doc_id (one content: two documents);
    - quotes, commas, a line break and the array delimiter in a path, a title and a sentence;
    - hostile lines: cut, a property outside the whitelist, evidence outside the document,
      an integer beyond 64 bits.
    """
    lines = SAMPLE_RECORDS.read_text(encoding="utf-8").splitlines()
    out = list(lines)

    made = iter(range(1, 1000))

    def copy(n: int, doc_path: str, **changes) -> dict:
        record = json.loads(lines[n])
        record.update({"path": doc_path, "doc_id": f"{next(made):016x}", **changes})
        return record

    def line(record: dict) -> str:
        return json.dumps(record, ensure_ascii=False)

    mechanism = next(iter(json.loads(lines[1])["properties"]["Mechanism"]))
    for n, category in enumerate(["甲", "乙", "甲", "丙", "乙", "甲"]):
        record = copy(1, f"shared/{n}.txt")
        record["properties"]["Mechanism"][mechanism] = {"category": category}
        out.append(line(record))
    lonely = "孤立者"
    first = copy(2, "replaced.txt")
    first["entities"]["Actor"].append(lonely)
    first["properties"].setdefault("Actor", {})[lonely] = {"kind": "body"}
    first["mentions"].append({"type": "Actor", "name": lonely, "text": lonely, "sentence": 0, "start": 0, "end": 3})
    naming = copy(3, "naming.txt")
    naming["entities"]["Actor"].append(lonely)
    naming["properties"].setdefault("Actor", {})[lonely] = {"kind": "public"}
    second = copy(4, "replaced.txt")
    again = copy(0, "again.txt")
    again["entities"]["Actor"].append(lonely)
    out += [line(first), line(naming), line(second), line(naming), line(again), line(first)]
    # The same content hash under two paths is two documents (migration 0004 dropped 0001's
    # uniqueness of doc_id, which an import followed by the migrations must not create again).
    quoting = copy(0, "quoting, \"quoted\".txt", title='a "title", with a comma', doc_id=again["doc_id"])
    quoting["sentences"][0]["text"] = 'a line\nanother, "quoted"\x1f'
    out.append(line(quoting))
    hostile = [lines[0][:500], line(copy(0, "bad/property.txt", properties={"Actor": {"志愿者": {"name": "X"}}})),
               line(copy(1, "bad/evidence.txt", relations=[[*json.loads(lines[1])["relations"][0][:3],
                                                           {"evidence": [99999]}]])),
               line(copy(2, "bad/integer.txt", quantities=[{**json.loads(lines[2])["quantities"][0], "year": 10**20}]))]
    for n, bad in enumerate(hostile):
        out.insert(3 + 4 * n, bad)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path, len(hostile)


_FIELD = re.compile(r'(?:"((?:[^"]|"")*)"|([^,\n]*))(,|\n)')


def _value(text: str | None, kind: str) -> object:
    if text is None:
        return None
    if kind.endswith("[]"):
        return [_value(item, kind[:-2]) for item in text.split(ARRAY_DELIMITER)] if text else []
    return {"long": int, "double": float, "boolean": lambda t: t == "true"}.get(kind, str)(text)


def files_graph(files: ImportFiles) -> tuple[list[str], list[str]]:
    """What the files hold, read as the importer reads them (an unquoted empty field is null), as
    graph_canon writes a graph: nodes [label, properties], relationships [type, start, end, properties]."""
    nodes, rels = [], []
    for tables, out in ((files.nodes, nodes), (files.relationships, rels)):
        for name, path in tables:
            rows, row = [], []
            for match in _FIELD.finditer(path.read_text(encoding="utf-8")):
                quoted, bare, end = match.groups()
                row.append(quoted.replace('""', '"') if quoted is not None else (bare or None))
                if end == "\n":
                    rows.append(row)
                    row = []
            header = rows.pop(0)
            for values in rows:
                props, ends = {}, []
                for column, text in zip(header, values, strict=True):
                    prop, _, kind = column.partition(":")
                    if kind.startswith(("START_ID", "END_ID")):
                        ends.append([kind[kind.index("(") + 1:-1], text])
                    elif kind.startswith("ID("):
                        props[prop] = text
                    elif text is not None:
                        props[prop] = _value(text, kind)
                out.append(json.dumps([name, *ends, props], ensure_ascii=False, sort_keys=True))
    return sorted(nodes), sorted(rels)


def graph_canon(g) -> tuple[list[str], list[str]]:
    """A NetworkX graph of etl.outputs.export.graph, canonical as files_graph reads the files."""
    def key(nid):
        data = g.nodes[nid]
        return [data["label"], data["key"]]

    nodes = [json.dumps([d["label"], {**{k: v for k, v in d.items() if k not in ("label", "key")},
                                      KEY[d["label"]]: d["key"]}], ensure_ascii=False, sort_keys=True)
             for _, d in g.nodes(data=True)]
    rels = [json.dumps([d["type"], key(u), key(v), {k: x for k, x in d.items() if k != "type"}],
                       ensure_ascii=False, sort_keys=True) for u, v, d in g.edges(data=True)]
    return sorted(nodes), sorted(rels)


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("records") / "records.jsonl"
    path.write_bytes(SAMPLE_RECORDS.read_bytes())
    return path


def test_files_have_typed_headers_and_ids(sample_records, tmp_path):
    files = write_import(sample_records, tmp_path)
    regions = dict(files.nodes)["Region"].read_text(encoding="utf-8").splitlines()
    # Every property a Region may hold has its column, typed from the values (corrected_by has none).
    assert regions[0] == ("key:ID(Region),adcode,anonymized:boolean,claim_counts:long[],claims:string[],"
                          "corrected_by,doc_key,level,name")
    # The documents' one claim (level|adcode|corrected_by) and its count, then no doc_key: a shared region.
    claimed = [row for row in regions if row.startswith('"忻州市","140900","false","')]
    assert len(claimed) == 1 and claimed[0].endswith('","市|140900|",,,"市","忻州市"'), claimed
    targets = [path for rtype, path in files.relationships if rtype == "MEASURES"][0]
    header = targets.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == [":START_ID(Region)", ":END_ID(Indicator)"]
    assert {"evidence:string[]", "doc_key", "value:double", "year:long", "redacted:boolean"} <= set(header)
    assert files.command.startswith("neo4j-admin database import full neo4j --nodes=Document=")
    assert files.command.endswith("\ngovgraph schema apply")
    again = ImportFiles.from_folder(tmp_path)
    assert sorted(again.arguments()) == sorted(files.arguments())
    assert ("REPORTS_ON", tmp_path / "relationships_REPORTS_ON_Document_Region.csv") in again.relationships


def test_import_gives_the_graph_a_load_gives(neo4j_driver, tmp_path):
    """The files of tricky_records imported by neo4j-admin: the batched loader's graph, the same failures."""
    records, hostile = tricky_records(tmp_path / "records.jsonl")
    wipe(neo4j_driver)
    stats = load_records(neo4j_driver, records)
    loaded = dump(neo4j_driver)
    # The file loaded again replaces its replaced path twice more (and leaves the rest alone).
    load_records(neo4j_driver, records)
    loaded_twice = dump(neo4j_driver)

    files = write_import(records, tmp_path / "csv")
    assert files.failures == stats.failures and len(files.failures) == hostile
    assert files.multiline == [tmp_path / "csv" / "nodes_Sentence.csv"]
    assert ImportFiles.from_folder(tmp_path / "csv").multiline == files.multiline
    home = tmp_path / "home"
    report = server.import_full(files.arguments(), home)
    assert "IMPORT DONE" in report
    old = os.environ.pop("NEO4J_PASSWORD", None)
    try:
        info = server.start(home, free_port(), free_port(), exit_with_parent=True)
        password = config.read_password_file(config.password_file(home))
        conn = config.Connection(info.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
        with db.connect(conn) as driver:
            assert [m.id for m in migrations.apply(driver)] == ["0001", "0002", "0003", "0004", "model"]
            imported = dump(driver)
            load_records(driver, records)
            imported_and_loaded = dump(driver)
    finally:
        server.stop(home)
        if old is not None:
            os.environ["NEO4J_PASSWORD"] = old
    assert imported == loaded
    assert imported_and_loaded == loaded_twice, "a load after the import does what it does after a load"


def test_import_refuses_a_running_server(neo4j_conn, tmp_path):
    from etl.errors import ServerError

    home = tmp_path / "running"
    old = os.environ.pop("NEO4J_PASSWORD", None)
    try:
        server.start(home, free_port(), free_port(), exit_with_parent=True)
        with pytest.raises(ServerError, match="is running; stop it first: govgraph neo4j stop"):
            server.import_full([], home)
    finally:
        server.stop(home)
        if old is not None:
            os.environ["NEO4J_PASSWORD"] = old


def test_load_bulk_gives_the_batched_loaders_graph_on_generated_records(neo4j_driver, tmp_path, monkeypatch):
    """`govgraph load --bulk` into an empty embedded database: one command (files, stop, import,
    start, migrations) whose graph's canonical dump is the batched loader's; a later batched load
    adds nothing, and a second --bulk into the now full graph is refused."""
    from typer.testing import CliRunner

    from benchmarks.corpus import generated_records
    from etl.cli import app

    # More documents than one batch of the batched loader, so that shared nodes are met again
    # across its transactions: three batches of 50 (the import has no batches; a few hundred
    # documents more only made the test slower).
    count, batch = 130, 50
    assert batch < DEFAULT_BATCH
    records = generated_records(tmp_path / "build" / "records.jsonl", count)
    wipe(neo4j_driver)
    batched = load_records(neo4j_driver, records, batch_size=batch)
    assert batched.documents == count and not batched.failures
    expected = dump(neo4j_driver)

    home = tmp_path / "home"
    monkeypatch.setenv("GOVGRAPH_HOME", str(home))
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    info = server.start(home, free_port(), free_port(), exit_with_parent=True)
    try:
        result = CliRunner().invoke(app, ["load", str(records), "--bulk"])
        assert result.exit_code == 0, result.output
        assert f"loaded {count} documents" in result.output
        assert (tmp_path / "build" / "import" / "nodes_Document.csv").exists()
        running = server.status(home)
        assert running and running.bolt_port == info.bolt_port, "started again on its ports"
        password = config.read_password_file(config.password_file(home))
        conn = config.Connection(running.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
        with db.connect(conn) as driver:
            assert migrations.apply(driver) == [], "the command applied the migrations"
            assert dump(driver) == expected
            again = load_records(driver, records)
            assert (again.nodes_created, again.relationships_created) == (0, 0)
        refused = CliRunner().invoke(app, ["load", str(records), "--bulk"])
        assert refused.exit_code == 1
        assert "Error: --bulk replaces the whole database and the graph holds" in refused.output
    finally:
        server.stop(home)


def test_streamed_files_hold_the_graph_records_give(tmp_path):
    """Offline, the files hold what etl.outputs.export.graph builds from the records the way the
    loader writes them (a test in test_export compares that with Neo4j): replaced documents, a
    shared node's claims from many documents, the nodes a removal leaves without relationships,
    hostile records reported with file:line and reason; records given in memory alike."""
    records, hostile = tricky_records(tmp_path / "records.jsonl")
    expected = graph_canon(graph_from_records(records, sentences=True))
    files = write_import(records, tmp_path / "csv")
    assert files_graph(files) == expected
    assert len(files.failures) == hostile
    assert all(failure.startswith(f"{records}:") for failure in files.failures), files.failures
    assert any("not a property a record may set" in failure for failure in files.failures)
    # The naming document's claim went with the node when the replacement left it unreached.
    assert '["Actor", {"claim_counts": [1], "claims": ["body|"], "kind": "body", "name": "孤立者"}]' in expected[0]
    shared = next(node for node in expected[0] if '"claims": ["丙||", "乙||", "甲||"' in node)
    assert '"category": "甲"' in shared, shared
    assert not list((tmp_path / "csv").glob(".*")), "no hidden files left behind"

    in_memory = [DocumentRecord.model_validate_json(line) for line in records.read_text(encoding="utf-8").splitlines()
                 if line.endswith("}") and '"bad/' not in line]
    # (Their record hashes are those of their JSON, not of the file's lines.)
    assert files_graph(write_import(in_memory, tmp_path / "memory")) == graph_canon(
        graph_from_records(in_memory, sentences=True))
    assert not list((tmp_path / "memory").glob(".*"))
