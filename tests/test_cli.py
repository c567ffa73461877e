"""The command line: exact error lines, exit status, and output that fits the terminal.

Commands run through typer's CliRunner; those that need Neo4j use the real server of the
session fixture.
"""

from __future__ import annotations

import unicodedata

import pytest
from typer.testing import CliRunner

from etl.cli import app

runner = CliRunner()


def cells(line: str) -> int:
    """Terminal cells a line takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


# --- numbers out of range are one Error line --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-p", "limit=99999999999999999999"],
         "Error: parameter limit of p/top: 99999999999999999999 is outside the 64-bit integer range "
         "Neo4j stores (-9223372036854775808 to 9223372036854775807)"),
        (["--timeout", "inf"], "Error: --timeout must be between 0.1 and 3600 seconds, not inf"),
        (["--timeout", "1e308"], "Error: --timeout must be between 0.1 and 3600 seconds, not 1e+308"),
        (["--timeout", "-5"], "Error: --timeout must be between 0.1 and 3600 seconds, not -5.0"),
    ],
)
def test_numbers_out_of_range_are_one_error_line(tmp_path, args, line):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "top.cypher").write_text(
        "// name: top\n// description: d\n// param: limit: int = 10\nUNWIND range(1, 100) AS n RETURN n LIMIT $limit\n",
        encoding="utf-8")
    result = runner.invoke(app, ["query", "run", "top", *args, "--password", "unused-password"],
                           env={"GOVGRAPH_QUERIES": str(tmp_path)})
    assert (result.exit_code, result.output) == (1, line + "\n")


def test_a_pack_with_terminate_is_refused_naming_file_and_line(tmp_path):
    pack = tmp_path / "mine"
    pack.mkdir()
    (pack / "ok.cypher").write_text("// name: ok\n// description: d\nRETURN 1 AS one\n", encoding="utf-8")
    bad = pack / "kill.cypher"
    bad.write_text("// name: kill\n// description: d\nSHOW TRANSACTIONS YIELD transactionId AS id\n"
                   "TERMINATE TRANSACTIONS id\n", encoding="utf-8")
    for args in (["query", "list"], ["query", "run", "ok", "--password", "unused-password"]):
        result = runner.invoke(app, args, env={"GOVGRAPH_QUERIES": str(tmp_path)})
        assert (result.exit_code, result.output) == (
            1, f"Error: {bad}:4: 'TERMINATE TRANSACTIONS' ends other sessions' transactions; "
               "query packs only read the graph\n")


# --- terminal width ---------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 100])
def test_query_list_fits_the_terminal(columns):
    result = runner.invoke(app, ["query", "list"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cells(line) for line in lines) <= columns
    assert any("region-similarity" in line for line in lines)


def test_tables_fit_and_csv_json_keep_every_character(tmp_path, neo4j_conn):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "long.cypher").write_text(
        "// name: long\n// description: d\n// columns: region, text\n"
        "UNWIND range(1, 3) AS n\n"
        "RETURN '忻州市' + n AS region, reduce(s = '', i IN range(1, 60) | s + '河长制') AS text\n",
        encoding="utf-8")
    env = {"GOVGRAPH_QUERIES": str(tmp_path), "COLUMNS": "60"}
    base = ["query", "run", "long", "--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    table = runner.invoke(app, base, env=env)
    assert table.exit_code == 0, table.output
    assert max(cells(line) for line in table.output.splitlines()) <= 60
    assert "…" in table.output and "忻州市1" in table.output
    full = "河长制" * 60
    csv_text = runner.invoke(app, [*base, "-f", "csv"], env=env).output
    assert csv_text.splitlines() == ["region,text", f"忻州市1,{full}", f"忻州市2,{full}", f"忻州市3,{full}"]
    json_text = runner.invoke(app, [*base, "-f", "json"], env=env).output
    assert json_text.count(full) == 3


# --- flags and help -----------------------------------------------------------------------------


def _commands() -> list[list[str]]:
    """Every command and group of the CLI as the words that name it ([] for govgraph itself)."""
    import typer.main

    found: list[list[str]] = []

    def walk(command, words: list[str]) -> None:
        found.append(words)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*words, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("words", _commands(), ids=lambda words: " ".join(words) or "govgraph")
def test_every_help_shows_no_type_after_a_flag_and_h_is_help(words):
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert runner.invoke(app, [*words, "-h"], env={"COLUMNS": "120"}).output == result.output


def test_the_commands_walked_are_all_of_them():
    named = {" ".join(words) for words in _commands()}
    assert {"", "load", "query run", "neo4j start", "export", "run", "browser params"} <= named


@pytest.mark.parametrize(("args", "expected"), [
    (["--all", "true", "name"], ["--all", "name"]),
    (["--all", "false", "name"], ["name"]),
    (["--all", "YES"], ["--all"]),
    (["--all", "name"], ["--all", "name"]),
    (["--limit", "true"], ["--limit", "true"]),
    (["--", "--all", "true"], ["--", "--all", "true"]),
])
def test_a_flag_takes_a_boolean_word_as_its_value(args, expected):
    from types import SimpleNamespace

    from etl.cli_options import _flag_values

    flag = SimpleNamespace(opts=["--all"], is_bool_flag=True, secondary_opts=[])
    valued = SimpleNamespace(opts=["--limit"], is_bool_flag=False, secondary_opts=[])
    assert _flag_values([flag, valued], args) == expected


@pytest.mark.parametrize(("word", "sentences"), [("true", True), ("false", False)])
def test_export_sentences_true_and_false_are_the_flag_given_and_not(tmp_path, word, sentences):
    import json

    from tests.query_answers import SAMPLE_RECORDS

    out = tmp_path / "graph.json"
    result = runner.invoke(app, ["export", "--format", "json", "--records", str(SAMPLE_RECORDS),
                                 "--sentences", word, "--out", str(out)])
    assert result.exit_code == 0, result.output
    labels = {node.get("label") for node in json.loads(out.read_text(encoding="utf-8"))["nodes"]}
    assert ("Sentence" in labels) is sentences


def test_query_run_all_true_returns_every_row(neo4j_conn, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "many.cypher").write_text(
        "// name: many\n// description: d\n// param: limit: int = 2\n// columns: n\n"
        "UNWIND range(1, 5) AS n RETURN n LIMIT CASE WHEN $limit < 0 THEN 9223372036854775807 ELSE $limit END\n",
        encoding="utf-8")
    base = ["query", "run", "many", "--uri", neo4j_conn.uri, "--password", neo4j_conn.password, "-f", "csv"]
    env = {"GOVGRAPH_QUERIES": str(tmp_path)}
    assert runner.invoke(app, base, env=env).output.split() == ["n", "1", "2"]
    for args in (["--all"], ["--all", "true"]):
        result = runner.invoke(app, [*base, *args], env=env)
        assert result.exit_code == 0, result.output
        assert result.output.split() == ["n", "1", "2", "3", "4", "5"]


def test_every_query_with_a_limit_takes_minus_one_for_every_row():
    """--all sends limit -1, which a bare LIMIT $limit refuses (Neo4j: not a non-negative integer)."""
    from etl.outputs import queries

    with_limit = [q for q in queries.load_packs().values() if any(p.name == "limit" for p in q.params)]
    assert {q.qualified for q in with_limit} >= {"evidence/search", "evidence/pair-evidence"}
    for query in with_limit:
        assert "LIMIT $limit" not in query.cypher, f"{query.qualified}: LIMIT $limit refuses --all (limit -1)"
        assert "$limit < 0" in query.cypher, query.qualified
