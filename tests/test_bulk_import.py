"""The bulk path: CSV files that neo4j-admin's full import turns into the graph a load gives."""

from __future__ import annotations

import os

import pytest

from etl import config
from etl.graph import db, migrations
from etl.graph.load import DEFAULT_BATCH, load_records
from etl.neo4j import server
from etl.outputs.export.neo4j_import import ImportFiles, write_import
from tests.conftest import free_port, wipe
from tests.query_answers import SAMPLE_RECORDS
from tests.test_load import dump


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("records") / "records.jsonl"
    path.write_bytes(SAMPLE_RECORDS.read_bytes())
    return path


def test_files_have_typed_headers_and_ids(sample_records, tmp_path):
    files = write_import(sample_records, tmp_path)
    regions = dict(files.nodes)["Region"].read_text(encoding="utf-8").splitlines()
    assert regions[0] == ("key:ID(Region),adcode,anonymized:boolean,claim_counts:long[],claims:string[],"
                          "doc_key,level,name")
    # The documents' one claim (level|adcode|corrected_by) and its count, then no doc_key: a shared region.
    claimed = [row for row in regions if row.startswith('"忻州市","140900","false","')]
    assert len(claimed) == 1 and claimed[0].endswith('","市|140900|",,"市","忻州市"'), claimed
    targets = [path for rtype, path in files.relationships if rtype == "MEASURES"][0]
    header = targets.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == [":START_ID(Region)", ":END_ID(Indicator)"]
    assert {"evidence:string[]", "doc_key", "value:double", "year:long", "redacted:boolean"} <= set(header)
    assert files.command.startswith("neo4j-admin database import full neo4j --nodes=Document=")
    assert files.command.endswith("\ngovgraph schema apply")
    again = ImportFiles.from_folder(tmp_path)
    assert sorted(again.arguments()) == sorted(files.arguments())
    assert ("REPORTS_ON", tmp_path / "relationships_REPORTS_ON_Document_Region.csv") in again.relationships


def test_import_gives_the_graph_a_load_gives(neo4j_driver, sample_records, tmp_path):
    wipe(neo4j_driver)
    load_records(neo4j_driver, sample_records)
    loaded = dump(neo4j_driver)

    files = write_import(sample_records, tmp_path / "csv")
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
            again = load_records(driver, sample_records)
            assert (again.nodes_created, again.relationships_created) == (0, 0), "a load after the import adds nothing"
    finally:
        server.stop(home)
        if old is not None:
            os.environ["NEO4J_PASSWORD"] = old
    assert imported == loaded


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

    # More documents than one batch of the batched loader (etl.graph.load.DEFAULT_BATCH), so
    # that shared nodes are met again across its transactions.
    count = DEFAULT_BATCH + 100
    records = generated_records(tmp_path / "build" / "records.jsonl", count)
    wipe(neo4j_driver)
    batched = load_records(neo4j_driver, records)
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
