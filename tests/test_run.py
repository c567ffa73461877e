"""A graph per corpus (issue 13): run and load on the real server, each case of the issue's bars.

The sample corpus is split into two researchers' corpora: ``ours`` (three reports) and
``theirs`` (two). Commands run through CliRunner against the session's Neo4j.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.graph import db
from tests.conftest import wipe

runner = CliRunner()
SAMPLE = sorted(config.sample_corpus_dir().glob("*.txt"))


def corpus(folder: Path, files: list[Path], sub: str = "") -> Path:
    (folder / sub).mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, folder / sub / path.name)
    return folder


def documents(driver) -> list[str]:
    return [row["path"] for row in db.read(driver, "MATCH (d:Document) RETURN d.path AS path ORDER BY path")]


def conn_args(conn) -> list[str]:
    return ["--uri", conn.uri, "--password", conn.password]


@pytest.fixture
def corpora(tmp_path, neo4j_driver):
    wipe(neo4j_driver)
    ours = corpus(tmp_path / "ours", SAMPLE[:2], "a") and corpus(tmp_path / "ours", SAMPLE[2:3], "b")
    theirs = corpus(tmp_path / "theirs", SAMPLE[3:])
    return ours, theirs


def invoke(*args: str, conn=None, **kwargs):
    return runner.invoke(app, [*args, *(conn_args(conn) if conn else [])], **kwargs)


def test_run_keeps_one_corpus_a_graph_unless_told(tmp_path, corpora, neo4j_conn, neo4j_driver):
    ours, theirs = corpora
    ours_paths = [f"a/{SAMPLE[0].name}", f"a/{SAMPLE[1].name}", f"b/{SAMPLE[2].name}"]
    theirs_paths = [SAMPLE[3].name, SAMPLE[4].name]

    first = invoke("run", str(ours), "--out", str(tmp_path / "o1"), conn=neo4j_conn)
    assert first.exit_code == 0, first.output
    assert f"the graph holds 0 documents, 0 of them not in {ours}" in first.output
    assert documents(neo4j_driver) == ours_paths

    # The same corpus again needs no flag.
    again = invoke("run", str(ours), "--out", str(tmp_path / "o2"), conn=neo4j_conn)
    assert again.exit_code == 0, again.output
    assert f"the graph holds 3 documents, 0 of them not in {ours}" in again.output

    # Another corpus stops before extracting, with one line naming the two ways on.
    mixed = invoke("run", str(theirs), "--out", str(tmp_path / "o3"), conn=neo4j_conn)
    assert mixed.exit_code == 1
    assert mixed.output.splitlines()[-1] == (
        f"Error: the graph holds 3 of its 3 documents that are not in {theirs} (a/{SAMPLE[0].name}, "
        f"a/{SAMPLE[1].name}, b/{SAMPLE[2].name}); run again with --fresh to empty the graph first "
        "(--yes to skip the question) or --append to add this corpus to them")
    assert not (tmp_path / "o3" / "records.jsonl").exists()
    assert documents(neo4j_driver) == ours_paths

    # --fresh off a terminal without --yes asks for it and changes nothing.
    unconfirmed = invoke("run", str(theirs), "--fresh", "--out", str(tmp_path / "o4"), conn=neo4j_conn)
    assert unconfirmed.exit_code == 1
    assert unconfirmed.output.splitlines()[-1] == (
        "Error: --fresh would delete the 3 documents the graph holds; add --yes to confirm when not on a terminal")
    assert documents(neo4j_driver) == ours_paths

    fresh = invoke("run", str(theirs), "--fresh", "--yes", "--out", str(tmp_path / "o5"), conn=neo4j_conn)
    assert fresh.exit_code == 0, fresh.output
    assert "emptied the graph (3 documents removed)" in fresh.output
    assert documents(neo4j_driver) == theirs_paths
    assert db.read(neo4j_driver, "MATCH (m:Migration) RETURN count(m) > 0 AS kept") == [{"kept": True}]

    # The same corpus with a document added and one changed needs no flag.
    shutil.copy(SAMPLE[0], theirs / "added.txt")
    changed = theirs / SAMPLE[3].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n河长制工作全面推行。\n", encoding="utf-8")
    grown = invoke("run", str(theirs), "--out", str(tmp_path / "o6"), conn=neo4j_conn)
    assert grown.exit_code == 0, grown.output
    assert f"the graph holds 2 documents, 0 of them not in {theirs}" in grown.output
    assert documents(neo4j_driver) == sorted([*theirs_paths, "added.txt"])

    appended = invoke("run", str(ours), "--append", "--out", str(tmp_path / "o7"), conn=neo4j_conn)
    assert appended.exit_code == 0, appended.output
    assert documents(neo4j_driver) == sorted([*ours_paths, *theirs_paths, "added.txt"])

    both = invoke("run", str(ours), "--fresh", "--append", conn=neo4j_conn)
    assert (both.exit_code, both.output) == (1, "Error: --fresh and --append exclude each other; choose one\n")


def test_load_has_the_same_choices(tmp_path, corpora, neo4j_conn, neo4j_driver):
    ours, theirs = corpora
    for name, folder in (("ours", ours), ("theirs", theirs)):
        result = invoke("extract", str(folder), "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    assert invoke("load", str(tmp_path / "ours"), conn=neo4j_conn).exit_code == 0
    records = tmp_path / "theirs" / "records.jsonl"

    mixed = invoke("load", str(tmp_path / "theirs"), conn=neo4j_conn)
    assert mixed.exit_code == 1
    assert mixed.output.splitlines()[-1].startswith(
        f"Error: the graph holds 3 of its 3 documents that are not in {records} (")
    assert "--fresh" in mixed.output and "--append" in mixed.output
    assert len(documents(neo4j_driver)) == 3

    appended = invoke("load", str(tmp_path / "theirs"), "--append", conn=neo4j_conn)
    assert appended.exit_code == 0, appended.output
    assert len(documents(neo4j_driver)) == 5

    fresh = invoke("load", str(records), "--fresh", "--yes", conn=neo4j_conn)
    assert fresh.exit_code == 0, fresh.output
    assert fresh.output.startswith(f"the graph held 5 documents, 3 of them not in {records}; emptied first (5 removed)")
    assert documents(neo4j_driver) == [SAMPLE[3].name, SAMPLE[4].name]


@pytest.fixture
def no_server_home(tmp_path, monkeypatch):
    """A working folder where a started embedded server would leave its traces."""
    home = tmp_path / "home"
    monkeypatch.setenv("GOVGRAPH_HOME", str(home))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    return home


def test_run_on_a_missing_path_starts_nothing(tmp_path, no_server_home):
    result = runner.invoke(app, ["run", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    assert (result.exit_code, result.output) == (1, f"Error: no such file or folder: {tmp_path / 'missing'}\n")
    assert not no_server_home.exists() and not (tmp_path / "out").exists()


def test_run_on_an_empty_folder_starts_nothing(tmp_path, no_server_home):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / ".hidden.txt").write_text("河长制", encoding="utf-8")
    result = runner.invoke(app, ["run", str(empty), "--out", str(tmp_path / "out")])
    assert (result.exit_code, result.output) == (
        1, f"Error: no readable documents in {empty}; govgraph reads .txt, .html, .docx and .pdf files\n")
    assert not no_server_home.exists() and not (tmp_path / "out").exists()


def test_append_names_each_document_it_would_replace_and_asks(tmp_path, neo4j_conn, neo4j_driver):
    """Issue 23, item 2: other2/d101.txt is another report than the loaded d101.txt."""
    wipe(neo4j_driver)
    first, other = tmp_path / "first", tmp_path / "other2"
    for folder, source in ((first, SAMPLE[0]), (other, SAMPLE[1])):
        folder.mkdir()
        shutil.copy(source, folder / "d101.txt")
    shutil.copy(SAMPLE[2], first / "d102.txt")
    shutil.copy(SAMPLE[3], other / "d103.txt")
    assert invoke("run", str(first), "--out", str(tmp_path / "o1"), conn=neo4j_conn).exit_code == 0
    before = db.read(neo4j_driver, "MATCH (d:Document {path: 'd101.txt'}) RETURN d.doc_id AS id, d.title AS title")
    named = "d101.txt" + (f" ({before[0]['title']})" if before[0]["title"] else "")

    asked = invoke("run", str(other), "--append", "--out", str(tmp_path / "o2"), conn=neo4j_conn)
    assert asked.exit_code == 1
    assert asked.stderr.splitlines() == [
        f"--append replaces {named} of the graph with another file of the same path",
        "Error: --append would replace 1 documents of the graph (above) with other files of the same paths; "
        "add --yes to confirm when not on a terminal"]
    assert db.read(neo4j_driver, "MATCH (d:Document {path: 'd101.txt'}) RETURN d.doc_id AS id, "
                                 "d.title AS title") == before
    assert not (tmp_path / "o2" / "records.jsonl").exists()

    confirmed = invoke("run", str(other), "--append", "--yes", "--out", str(tmp_path / "o3"), conn=neo4j_conn)
    assert confirmed.exit_code == 0, confirmed.output
    assert f"--append replaces {named} of the graph with another file of the same path" in confirmed.stderr
    assert documents(neo4j_driver) == ["d101.txt", "d102.txt", "d103.txt"]
    assert db.read(neo4j_driver, "MATCH (d:Document {path: 'd101.txt'}) RETURN d.doc_id AS id")[0]["id"] != \
        before[0]["id"]

    # The first corpus appended again would put its own d101.txt back: asked again.
    again = invoke("load", str(tmp_path / "o1"), "--append", conn=neo4j_conn)
    assert again.exit_code == 1 and "--append would replace 1 documents" in again.stderr


def test_the_corpus_is_scanned_once(tmp_path, monkeypatch):
    """run checks the corpus before anything starts and hands its scan to extraction, which
    then walks nothing again (a scan that is given is used, even an empty one)."""
    from etl import extract, run
    from etl.errors import ReadError
    from etl.input import read

    folder = corpus(tmp_path / "c", SAMPLE[:2])
    checked = run.corpus_of_paths([folder])
    assert [s.name for s in checked.found.sources] == [p.name for p in SAMPLE[:2]]

    def walked(paths):
        raise AssertionError(f"scanned again: {paths}")

    monkeypatch.setattr(extract, "scan", walked)
    monkeypatch.setattr(read, "scan", walked)
    with pytest.raises(ReadError, match="no files to extract"):
        extract.extract_corpus([folder], tmp_path / "out", found=read.Scan())


def test_run_tells_how_far_extraction_and_loading_are(tmp_path, neo4j_conn, neo4j_driver):
    """The long stages report (stage, documents done, documents in all) as they go."""
    from etl.run import run_corpus

    wipe(neo4j_driver)
    told: list[tuple[str, int, int]] = []
    run_corpus([corpus(tmp_path / "c", SAMPLE[:3])], tmp_path / "build", mode="fresh", uri=neo4j_conn.uri,
               user=neo4j_conn.user, password=neo4j_conn.password, database=neo4j_conn.database,
               progress=lambda *step: told.append(step))
    extracting = [step for step in told if step[0] == "extracting"]
    assert extracting == [("extracting", done, 3) for done in (1, 2, 3)]
    assert told[len(extracting):] and all(stage == "loading" and total == 3 for stage, _, total in told[3:])
    assert told[-1] == ("loading", 3, 3)
