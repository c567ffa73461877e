"""Query files: header parsing, load-time validation with file:line, parameter binding.

Pure tests, no database: everything here happens before a query is sent.
"""

import re
from pathlib import Path

import pytest

from etl.errors import DataFileError, QueryError
from etl.outputs import queries

GOOD = """// name: targets
// description: Indicator targets by region.
// param: region: string = null
// param: limit: int = 10
// columns: region, value
MATCH (r:Region) WHERE $region IS NULL OR r.name = $region
RETURN r.name AS region, 1 AS value LIMIT $limit
"""


def write(folder: Path, pack: str, name: str, text: str) -> Path:
    path = folder / pack / f"{name}.cypher"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_header_is_parsed(tmp_path):
    write(tmp_path, "compare", "targets", GOOD)
    query = queries.load_packs(tmp_path)["compare/targets"]
    assert query.description == "Indicator targets by region."
    assert [(p.name, p.type, p.default, p.required) for p in query.params] == [
        ("region", "string", None, False),
        ("limit", "int", 10, False),
    ]
    assert query.columns == ("region", "value")
    assert query.cypher.startswith("MATCH (r:Region)")
    assert query.body_line == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("// description: d\nRETURN 1", ":1: missing '// name: …' header line"),
        ("// name: a\nRETURN 1", ":1: missing '// description: …' header line"),
        ("// name: a\n// description: d\n", ":3: the query has no Cypher body"),
        (
            "// name: a\n// description: d\nRETURN $x",
            ":3: the Cypher uses undeclared parameter(s) $x; add '// param: NAME: TYPE' lines",
        ),
        ("// name: a\n// description: d\n// param: x: int = 1\nRETURN 1", ":4: declared parameter(s) never used: x"),
        ("// name: a\n// description: d\n// param: x: date\nRETURN $x", ":3: unknown parameter type 'date'"),
        ("// name: a\n// description: d\n// param: x int\nRETURN $x", ":3: a parameter line reads"),
        ("// name: a\n// description: d\n// param: x: int = many\nRETURN $x", ":3: 'many' is not a valid int"),
    ],
)
def test_bad_headers_name_the_file_and_line(tmp_path, text, message):
    path = write(tmp_path, "p", "a", text)
    with pytest.raises(DataFileError) as info:
        queries.load_packs(tmp_path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_parameters_inside_strings_and_comments_do_not_count(tmp_path):
    text = "// name: a\n// description: d\nRETURN '$notaparam' AS s // $nor_this\n"
    write(tmp_path, "p", "a", text)
    assert queries.load_packs(tmp_path)["p/a"].params == ()


def test_duplicate_names_across_packs_are_rejected(tmp_path):
    write(tmp_path, "one", "targets", GOOD)
    second = write(tmp_path, "two", "targets", GOOD)
    with pytest.raises(DataFileError, match=f"^{second}:1: query name 'targets' is already used by"):
        queries.load_packs(tmp_path)


def test_bind_converts_and_checks_before_sending(tmp_path):
    write(tmp_path, "compare", "targets", GOOD)
    query = queries.find_query("targets", tmp_path)
    assert queries.bind_params(query, {"limit": "3"}) == {"region": None, "limit": 3}
    with pytest.raises(QueryError, match="'three' is not a valid int"):
        queries.bind_params(query, {"limit": "three"})
    with pytest.raises(QueryError, match="has no parameter\\(s\\) regoin; it takes: region, limit"):
        queries.bind_params(query, {"regoin": "忻州市"})


def test_required_parameter_must_be_given(tmp_path):
    write(tmp_path, "p", "a", "// name: a\n// description: d\n// param: region: string\nRETURN $region")
    query = queries.find_query("p/a", tmp_path)
    with pytest.raises(QueryError, match=r"query p/a needs --param region=<string>"):
        queries.bind_params(query, {})


def test_unknown_query_names_the_fix(tmp_path):
    write(tmp_path, "compare", "targets", GOOD)
    with pytest.raises(QueryError, match="no query named 'nope'; see: govgraph query list"):
        queries.find_query("nope", tmp_path)


def test_param_options_need_key_value():
    assert queries.parse_param_options(["region=忻州市", "x=a=b"]) == {"region": "忻州市", "x": "a=b"}
    with pytest.raises(QueryError, match="--param takes key=value, not 'region'"):
        queries.parse_param_options(["region"])


def test_formats_render_rows():
    rows = [{"region": "忻州市", "mechanisms": ["三同时", "河长制"]}, {"region": "X|县", "mechanisms": []}]
    columns = ("region", "mechanisms")
    assert queries.format_rows(rows, columns, "csv").splitlines() == [
        "region,mechanisms",
        "忻州市,三同时; 河长制",
        "X|县,",
    ]
    markdown = queries.format_rows(rows, columns, "markdown").splitlines()
    assert markdown[2] == "| 忻州市 | 三同时; 河长制 |"
    assert markdown[3] == "| X\\|县 |  |"
    assert '"region": "忻州市"' in queries.format_rows(rows, columns, "json")



def test_guard_rules_match_their_examples_only():
    import yaml

    from etl import config

    data = yaml.safe_load((config.schema_dir() / "query_guard.yaml").read_text(encoding="utf-8"))
    for rule in data["text"]:
        for example in rule["examples"]:
            with pytest.raises(DataFileError, match=re.escape(rule["reason"])):
                queries.check_text(example, "q.cypher")
        for counterexample in rule["counterexamples"]:
            queries.check_text(counterexample, "q.cypher")


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("MATCH (n)\nWITH count(n) AS n\nTERMINATE TRANSACTIONS 'neo4j-transaction-1'",
         8, "'TERMINATE TRANSACTIONS' ends other sessions' transactions"),
        ("SHOW TRANSACTIONS YIELD transactionId AS id\n  TERMINATE TRANSACTIONS id",
         7, "'TERMINATE TRANSACTIONS' ends other sessions' transactions"),
        ("LOAD CSV FROM 'http://127.0.0.1:9/x.csv' AS row RETURN row", 6, "'LOAD CSV' reads files or URLs"),
        ("MATCH (n) RETURN n\n;CREATE DATABASE other", 7, "'CREATE DATABASE' administers the server"),
        ("RETURN 1 AS one\n;GRANT ROLE admin TO bob", 7, "'GRANT' changes privileges"),
        ("CALL dbms.setConfigValue('a', 'b')", 6, "'CALL dbms.setConfigValue' is not among the procedures allowed"),
        ("CALL `db`.`createLabel`('X')", 6, "'CALL db.createLabel' is not among the procedures allowed"),
        ("RETURN apoc.load.json('http://x') AS x", 6, "'apoc.load' reaches outside the graph"),
    ],
)
def test_pack_with_admin_or_outside_reads_is_refused_at_load(tmp_path, body, line, message):
    path = write(tmp_path, "p", "a", "// name: a\n// description: d\n\n// a comment\n\n" + body + "\n")
    with pytest.raises(DataFileError) as info:
        queries.load_packs(tmp_path)
    assert str(info.value).startswith(f"{path}:{line}: {message}")
    assert str(info.value).endswith("; query packs only read the graph")


def test_quoted_admin_words_and_allowed_procedures_load(tmp_path):
    text = ("// name: a\n// description: d\n// param: text: string\n"
            "CALL db.index.fulltext.queryNodes('sentence_text', $text) YIELD node\n"
            "RETURN node.text AS `TERMINATE TRANSACTIONS`, 'LOAD CSV FROM x' AS s // GRANT ROLE x TO y\n")
    write(tmp_path, "p", "a", text)
    assert queries.load_packs(tmp_path)["p/a"].body_line == 4


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"limit": "99999999999999999999"}, "parameter limit of compare/targets: 99999999999999999999 is outside "
                                            "the 64-bit integer range Neo4j stores"),
        ({"limit": 2**63}, f"parameter limit of compare/targets: {2**63} is outside the 64-bit integer range"),
        ({"limit": "-9223372036854775809"}, "-9223372036854775809 is outside the 64-bit integer range"),
    ],
)
def test_integers_beyond_64_bits_are_refused_before_sending(tmp_path, given, message):
    write(tmp_path, "compare", "targets", GOOD)
    query = queries.find_query("targets", tmp_path)
    with pytest.raises(QueryError, match=message):
        queries.bind_params(query, given)
    assert queries.bind_params(query, {"limit": str(2**63 - 1)})["limit"] == 2**63 - 1


def test_floats_must_be_finite(tmp_path):
    write(tmp_path, "p", "a", "// name: a\n// description: d\n// param: x: float = 1.5\nRETURN $x AS x")
    query = queries.find_query("a", tmp_path)
    assert queries.bind_params(query, {"x": "1e308"}) == {"x": 1e308}
    for text in ("1e309", "inf", "-inf", "nan"):
        with pytest.raises(QueryError, match="parameter x of p/a: .* is not a finite number"):
            queries.bind_params(query, {"x": text})


@pytest.mark.parametrize("timeout", [float("inf"), 1e308, -1.0, 0.0, float("nan"), 3600.5])
def test_timeout_out_of_range_is_refused(timeout):
    with pytest.raises(QueryError) as info:
        queries.check_timeout(timeout)
    assert str(info.value) == f"--timeout must be between 0.1 and 3600 seconds, not {timeout}"
    assert queries.check_timeout(0.1) == 0.1
