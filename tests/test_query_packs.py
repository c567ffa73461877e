"""The shipped query packs against the real Neo4j: empty and loaded with the sample corpus,
concrete rows, read-only runs, parameters as data, and the query and report commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.errors import QueryError
from etl.extract import extract_corpus
from etl.graph import db, migrations
from etl.graph.load import load_records
from etl.outputs import queries
from tests.conftest import wipe
from tests.query_answers import SAMPLE_RECORDS, answers

SHIPPED = queries.load_packs()
# Values for required parameters when every query is run in a loop.
REQUIRED = {"region": "忻州市", "target": "三同时", "text": "检察长"}


def _params(query: queries.Query) -> dict[str, str]:
    return {p.name: REQUIRED[p.name] for p in query.params if p.required}


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    return extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("records")).out


@pytest.fixture
def loaded(neo4j_driver, sample_records):
    """The sample corpus in the database; loaded again only when a test emptied it (tests here only read)."""
    if db.read(neo4j_driver, "MATCH (d:Document) RETURN count(d) AS n") != [{"n": 5}]:
        wipe(neo4j_driver)
        load_records(neo4j_driver, sample_records)
    return neo4j_driver


def run(driver, name: str, **params):
    return queries.run_query(driver, queries.find_query(name), params)


def test_packs_are_the_documented_ones():
    names = {q.qualified for q in SHIPPED.values()}
    assert {"compare/mechanism-matrix", "compare/region-similarity", "compare/distinctive-mechanisms",
            "compare/linkages", "compare/chief-hierarchy", "compare/measures", "compare/targets",
            "compare/by-level", "evidence/pair-evidence", "evidence/search",
            "quality/entities-without-evidence", "quality/documents-without-region",
            "quality/redacted-quantities"} <= names


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_query_declares_description_and_columns(name):
    query = SHIPPED[name]
    assert len(query.description) > 20 and query.columns


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_query_runs_on_an_empty_database(neo4j_driver, name):
    wipe(neo4j_driver)
    migrations.apply(neo4j_driver)
    assert queries.run_query(neo4j_driver, SHIPPED[name], _params(SHIPPED[name])) == []


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_query_returns_its_declared_columns_on_the_sample(loaded, name):
    query = SHIPPED[name]
    rows = queries.run_query(loaded, query, _params(query))
    for row in rows:
        assert tuple(row) == query.columns
    if query.pack in ("compare", "evidence"):
        assert rows, f"{name} found nothing in the sample corpus"


def test_answers_are_those_before_documents_owned_their_relationships(neo4j_driver):
    """The frozen sample records give the answers frozen before migration 0004 (sorted rows)."""
    wipe(neo4j_driver)
    stats = load_records(neo4j_driver, SAMPLE_RECORDS)
    assert (stats.documents, stats.failures) == (5, [])
    frozen = json.loads((SAMPLE_RECORDS.parent / "sample_answers.json").read_text(encoding="utf-8"))
    now = answers(neo4j_driver)
    wipe(neo4j_driver)
    assert {label: now.get(label) for label in frozen} == frozen


def test_targets_of_xinzhou(loaded):
    rows = run(loaded, "targets", region="忻州市", indicator="水土保持率", kind="target")
    assert [(r["year"], r["value"], r["unit"]) for r in rows] == [(2025, 63.56, "%"), (2035, 66.22, "%")]
    assert {r["document"] for r in rows} == {"002_94f629d2cccb45b0.txt"}


def test_the_river_chief_report_adopts_its_linkages(loaded):
    rows = run(loaded, "mechanism-matrix")
    river_report = [r for r in rows if r["region"] == "XX区" and r["mechanism"] == "河长+检察长"]
    assert len(river_report) == 1
    key = river_report[0]["region_key"]
    adopted = {r["mechanism"] for r in rows if r["region_key"] == key}
    assert {"河长+警长", "河长+检察长", "河长+志愿者", "河长制"} <= adopted
    assert all(r["sentences"] >= 1 for r in rows)


def test_linkages_list_the_actors_they_join(loaded):
    rows = {r["linkage"]: r for r in run(loaded, "linkages")}
    assert {"检察长", "河长"} <= set(rows["河长+检察长"]["actors"])
    assert {"警长", "河长"} <= set(rows["河长+警长"]["actors"])
    assert rows["河长+检察长"]["regions"] == ["XX区"]


def test_similarity_is_jaccard_of_the_mechanism_sets(loaded):
    matrix = run(loaded, "mechanism-matrix")
    sets: dict[str, set[str]] = {}
    for row in matrix:
        sets.setdefault(row["region_key"], set()).add(row["mechanism"])
    pairs = run(loaded, "region-similarity", limit=100)
    assert pairs
    for pair in pairs:
        a, b = sets[pair["key_a"]], sets[pair["key_b"]]
        assert pair["jaccard"] == round(len(a & b) / len(a | b), 3)
        assert set(pair["shared"]) == a & b and set(pair["only_a"]) == a - b and set(pair["only_b"]) == b - a
    assert [p["jaccard"] for p in pairs] == sorted((p["jaccard"] for p in pairs), reverse=True)


def test_distinctive_mechanisms_are_rare_elsewhere(loaded):
    rows = run(loaded, "distinctive-mechanisms", region="忻州市", max_share=0.0)
    assert rows and all(r["other_regions"] == 0 for r in rows)
    names = {r["mechanism"] for r in rows}
    assert "三同时" not in names, "三同时 is shared with other sample regions"
    assert "信用评价" in names


def test_chief_hierarchy_orders_levels(loaded):
    rows = run(loaded, "chief-hierarchy")
    chiefs = [r["chief"] for r in rows if r["region"] == "XX区"]
    assert "总河长" in chiefs and "村级河长" in chiefs
    assert chiefs.index("总河长") < chiefs.index("村级河长")
    assert {r["level"] for r in rows if r["chief"] == "村级河长"} == {"村级"}


def test_measures_standardize_and_count_redactions_apart(loaded):
    rows = run(loaded, "measures", region="忻州市")
    slope = [r for r in rows if r["measure"] == "坡耕地综合治理" and r["kind"] == "target"]
    assert slope and slope[0]["unit"] == "公顷" and slope[0]["total"] == pytest.approx(23333.33, rel=1e-4)
    redacted = run(loaded, "measures", category="工程措施")
    dams = [r for r in redacted if r["measure"] == "淤地坝" and r["region"] == "X县" and r["redacted"]]
    assert dams and dams[0]["total"] is None and dams[0]["reported"] == 0


def test_by_level_shares_sum_to_one_per_level(loaded):
    rows = run(loaded, "by-level")
    levels = {r["level"] for r in rows}
    assert {"市级", "县级"} <= levels
    for level in levels:
        assert sum(r["share"] for r in rows if r["level"] == level) == pytest.approx(1.0, abs=0.01)
    order = [r["level"] for r in rows]
    assert order.index("市级") < order.index("县级")


def test_pair_evidence_gives_the_sentences(loaded):
    rows = run(loaded, "pair-evidence", region="忻州市", target="三同时")
    assert rows and all("三同时" in r["sentence"] for r in rows)
    assert {r["relation"] for r in rows} == {"ADOPTS"}
    assert rows[0]["date"] == "2024-02-18"


def test_search_finds_chinese_words_and_treats_syntax_as_text(loaded):
    rows = run(loaded, "search", text="检察长")
    assert rows and all("检察长" in r["sentence"] for r in rows)
    for hostile in ['检察长" OR "河长', "检察长\\", "*", "x') RETURN 1 //"]:
        assert all(isinstance(r["sentence"], str) for r in run(loaded, "search", text=hostile))


def test_a_parameter_that_tries_to_inject_cypher_comes_back_as_data(loaded):
    before = db.read(loaded, "MATCH (n) RETURN count(n) AS n")
    for hostile in ["忻州市' OR 1=1 //", "忻州市\"}) DETACH DELETE r //", "' UNION MATCH (n) DETACH DELETE n //"]:
        assert run(loaded, "targets", region=hostile) == []
        assert run(loaded, "pair-evidence", region=hostile, target=hostile) == []
    assert db.read(loaded, "MATCH (n) RETURN count(n) AS n") == before


def test_quality_pack_on_the_sample(loaded):
    assert run(loaded, "documents-without-region") == []
    redacted = {r["document"]: r for r in run(loaded, "redacted-quantities")}
    assert redacted["001_34d4e15b2f6e5e70.txt"]["redacted"] >= 10
    assert redacted["002_94f629d2cccb45b0.txt"]["redacted"] == 0


def test_a_query_that_writes_is_refused(loaded, tmp_path):
    pack = tmp_path / "bad"
    pack.mkdir()
    (pack / "w.cypher").write_text("// name: w\n// description: writes\nCREATE (n:Region {key: 'x'}) RETURN n\n",
                                   encoding="utf-8")
    query = queries.load_packs(tmp_path)["bad/w"]
    with pytest.raises(QueryError, match="would write to the database"):
        queries.run_query(loaded, query)
    assert db.read(loaded, "MATCH (n:Region {key: 'x'}) RETURN count(n) AS n") == [{"n": 0}]


def test_rows_as_a_dataframe(loaded):
    pandas = pytest.importorskip("pandas", reason="pandas is an optional extra for notebooks")
    query = queries.find_query("targets")
    frame = queries.rows_to_dataframe(queries.run_query(loaded, query, {"region": "忻州市"}), query.columns)
    assert isinstance(frame, pandas.DataFrame) and list(frame.columns) == list(query.columns)


# --- the commands -----------------------------------------------------------------------------


def conn_args(conn) -> list[str]:
    return ["--uri", conn.uri, "--password", conn.password]


def test_query_list_and_show():
    runner = CliRunner()
    listed = runner.invoke(app, ["query", "list"])
    assert listed.exit_code == 0
    for query in SHIPPED.values():
        assert query.name in listed.output
    shown = runner.invoke(app, ["query", "show", "compare/targets"])
    assert shown.exit_code == 0
    assert "param region: string (default None)" in shown.output
    assert "MATCH (r:Region)-[q:MEASURES]->(i:Indicator)" in shown.output


def test_query_run_formats_and_file(loaded, neo4j_conn, tmp_path):
    runner = CliRunner()
    args = ["query", "run", "targets", "--param", "region=忻州市", "--param", "indicator=水土保持率",
            *conn_args(neo4j_conn)]
    as_json = runner.invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert [r["value"] for r in json.loads(as_json.output)] == [63.56, 66.22]
    out = tmp_path / "t.csv"
    written = runner.invoke(app, [*args, "--format", "csv", "--out", str(out)])
    assert written.output == f"2 rows written to {out}\n"
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("忻州市,忻州市,水土保持率,target,2025,63.56,%")
    table = runner.invoke(app, [*args])
    assert "63.56" in table.output and "2 rows" in table.output


def test_query_run_errors_come_before_sending(neo4j_conn):
    runner = CliRunner()
    missing = runner.invoke(app, ["query", "run", "pair-evidence", "--param", "region=忻州市", *conn_args(neo4j_conn)])
    assert (missing.exit_code, missing.output) == (
        1, "Error: query evidence/pair-evidence needs --param target=<string>\n")
    typo = runner.invoke(app, ["query", "run", "region-similarity", "-p", "limit=ten", *conn_args(neo4j_conn)])
    assert typo.output == "Error: parameter limit of compare/region-similarity: 'ten' is not a valid int\n"
    unknown = runner.invoke(app, ["query", "run", "no-such-query"])
    assert unknown.output == "Error: no query named 'no-such-query'; see: govgraph query list\n"


def test_regions_with_one_mechanism_set_are_a_perfect_pair(neo4j_driver, tmp_path):
    """Two reports alike but for the region: similarity 1.0, found through the grouped sets."""
    text = (config.sample_corpus_dir() / "002_94f629d2cccb45b0.txt").read_text(encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(text, encoding="utf-8")
    (corpus / "b.txt").write_text(text.replace("忻州", "大同"), encoding="utf-8")
    wipe(neo4j_driver)
    load_records(neo4j_driver, extract_corpus([corpus], tmp_path / "out").out)
    rows = run(neo4j_driver, "region-similarity", min_mechanisms=2)
    assert (rows[0]["region_a"], rows[0]["region_b"], rows[0]["jaccard"]) == ("大同市", "忻州市", 1.0)
    assert rows[0]["only_a"] == rows[0]["only_b"] == []
    assert run(neo4j_driver, "region-similarity", region="大同市", limit=1)[0]["key_b"] == "忻州市"


def test_large_compare_queries_return_top_rows_and_everything_on_request(loaded, neo4j_conn):
    cells = db.read(loaded, "MATCH (r:Region)-[:ADOPTS]->(m:Mechanism) RETURN count(DISTINCT [r, m]) AS n")[0]["n"]
    assert cells > 3
    top = run(loaded, "mechanism-matrix", limit=3)
    assert len(top) == 3
    assert [(-r["documents"], -r["sentences"]) for r in top] == sorted((-r["documents"], -r["sentences"]) for r in top)
    everything = run(loaded, "mechanism-matrix", limit=-1)
    assert len(everything) == cells and top == everything[:3]
    runner = CliRunner()
    listed = runner.invoke(app, ["query", "run", "mechanism-matrix", "--all", "-f", "json", *conn_args(neo4j_conn)])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == cells
    refused = runner.invoke(app, ["query", "run", "by-level", "--all", *conn_args(neo4j_conn)])
    assert (refused.exit_code, refused.output) == (
        1, "Error: --all: query compare/by-level has no limit; it returns every row already\n")
