"""Export stage against the real Neo4j loaded with the sample corpus: the graph read from Neo4j
equals the one built from records.jsonl, the projections carry the database's numbers, every
format × projection survives a NetworkX round trip with its Chinese text, and the CLI."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import networkx as nx
import pytest
from typer.testing import CliRunner

from etl.cli import app
from etl.errors import ExportError
from etl.graph import db
from etl.graph.load import load_records
from etl.outputs.export import graph
from tests.conftest import changed_version, wipe
from tests.query_answers import SAMPLE_RECORDS

FORMATS = ("graphml", "gexf", "json")
PROJECTIONS = ("full", "region-mechanism", "actors", "regions")


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("records") / "records.jsonl"
    path.write_bytes(SAMPLE_RECORDS.read_bytes())
    return path


@pytest.fixture(scope="module")
def loaded(neo4j_driver, sample_records):
    wipe(neo4j_driver)
    stats = load_records(neo4j_driver, sample_records)
    assert stats.failures == []
    return neo4j_driver


@pytest.fixture(scope="module")
def full(loaded):
    return graph.graph_from_neo4j(loaded)


def edge_set(g: nx.MultiDiGraph) -> set[tuple[str, str, str, str]]:
    return {(u, v, d["type"], k) for u, v, k, d in g.edges(keys=True, data=True)}


@pytest.mark.parametrize("sentences", [False, True])
def test_graph_from_records_equals_graph_from_neo4j(loaded, sample_records, sentences):
    from_db = graph.graph_from_neo4j(loaded, sentences=sentences)
    from_records = graph.graph_from_records(sample_records, sentences=sentences)
    assert set(from_db.nodes) == set(from_records.nodes)
    assert edge_set(from_db) == edge_set(from_records)
    # Not only the same shape: the same properties, evidence lists in the same order.
    assert dict(from_db.nodes(data=True)) == dict(from_records.nodes(data=True))
    assert {(u, v, k): d for u, v, k, d in from_db.edges(keys=True, data=True)} == {
        (u, v, k): d for u, v, k, d in from_records.edges(keys=True, data=True)}
    labels = {d["label"] for _, d in from_db.nodes(data=True)}
    assert ("Sentence" in labels) is sentences
    assert "Migration" not in labels
    counts = db.read(loaded, "MATCH (n) WHERE NOT n:Migration AND ($s OR NOT n:Sentence) RETURN count(n) AS n",
                     {"s": sentences})
    assert from_db.number_of_nodes() == counts[0]["n"]


def test_full_graph_nodes_and_quantity_edges(full):
    xinzhou = full.nodes["Region:忻州市"]
    assert (xinzhou["label"], xinzhou["key"], xinzhou["name"], xinzhou["level"]) == ("Region", "忻州市", "忻州市", "市")
    targets = sorted((d["year"], d["value"]) for u, v, k, d in full.edges(keys=True, data=True)
                     if (u, v) == ("Region:忻州市", "Indicator:水土保持率") and k.startswith("MEASURES:"))
    assert targets == [(2025, 63.56), (2035, 66.22)]
    keys = [k for u, v, k in full.edges(keys=True) if (u, v) == ("Region:忻州市", "Indicator:水土保持率")]
    owners = {d["doc_key"] for u, v, d in full.edges(data=True) if (u, v) == ("Region:忻州市", "Indicator:水土保持率")}
    assert all(k in {f"MEASURES@{o}" for o in owners} or (k.startswith("MEASURES:") and k.count(":") == 2)
               for k in keys), "one assertion a document, one edge a quantity"
    anonymized = [n for n, d in full.nodes(data=True) if d["label"] == "Region" and d.get("anonymized")]
    assert len({full.nodes[n]["doc_key"] for n in anonymized}) > 1
    assert all(n == f"Region:{full.nodes[n]['name']}@{full.nodes[n]['doc_key']}" for n in anonymized)


def test_region_mechanism_weight_is_the_evidence_count(loaded, full):
    rows = db.read(loaded, "MATCH (r:Region)-[a:ADOPTS]->(m:Mechanism) RETURN r.key AS r, m.name AS m, "
                           "sum(size(a.evidence)) AS n ORDER BY n DESC, r, m LIMIT 1")
    top = rows[0]
    assert top["n"] > 1, "a pair with several evidence sentences makes the check meaningful"
    projected = graph.region_mechanism(full)
    assert projected.edges[f"Region:{top['r']}", f"Mechanism:{top['m']}"]["weight"] == top["n"]
    total = db.read(loaded, "MATCH (r)-[a:ADOPTS]->(m) RETURN count(DISTINCT [r, m]) AS n, "
                            "sum(size(a.evidence)) AS e")[0]
    assert projected.number_of_edges() == total["n"]
    assert projected.size(weight="weight") == total["e"]
    assert {d["bipartite"] for n, d in projected.nodes(data=True) if d["label"] == "Region"} == {0}
    assert {d["bipartite"] for n, d in projected.nodes(data=True) if d["label"] == "Mechanism"} == {1}


def test_actor_coinvolvement_links_river_chief_and_procurator(full):
    actors = graph.actor_coinvolvement(full)
    link = actors.edges["Actor:河长", "Actor:检察长"]
    assert "河长+检察长" in link["mechanisms"]
    assert link["weight"] == len(link["mechanisms"])
    assert all(d["label"] == "Actor" for _, d in actors.nodes(data=True))


def test_region_similarity_is_jaccard_of_mechanism_sets(loaded, full):
    rows = db.read(loaded, "MATCH (r:Region)-[:ADOPTS]->(m:Mechanism) RETURN r.key AS r, collect(m.name) AS ms")
    sets = {f"Region:{row['r']}": set(row["ms"]) for row in rows}
    similar = graph.region_similarity(full)
    assert set(similar.nodes) == set(sets)
    expected = {frozenset((a, b)): len(sets[a] & sets[b]) / len(sets[a] | sets[b])
                for a in sets for b in sets if a < b and sets[a] & sets[b]}
    assert expected, "the sample has regions sharing a mechanism"
    assert {frozenset(e): d["weight"] for *e, d in similar.edges(data=True)} == pytest.approx(expected)
    anonymized = [n for n in similar if similar.nodes[n].get("anonymized")]
    assert len(anonymized) == len(set(anonymized)) > 1


def _decoded(value):
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _attr(g: nx.Graph, node: str, name: str, fmt: str):
    """A node attribute as written: a name the format reserves gets a trailing underscore."""
    return g.nodes[node][graph.written_name(name, fmt)]


@pytest.mark.parametrize("projection", PROJECTIONS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_and_projection_round_trips(full, tmp_path, fmt, projection):
    expected = graph.project(full, projection)
    written = graph.export(full, tmp_path / f"graph.{fmt}", fmt, projection)
    assert (written.nodes, written.edges) == (expected.number_of_nodes(), expected.number_of_edges())
    back = graph.read_graph(written.path, fmt)
    assert (back.number_of_nodes(), back.number_of_edges()) == (written.nodes, written.edges)
    assert set(back.nodes) == set(expected.nodes)
    if projection == "full":
        assert _attr(back, "Region:忻州市", "level", fmt) == "市"
        assert _attr(back, "Region:忻州市", "label", fmt) == "Region"
        multi = back if back.is_multigraph() else nx.MultiDiGraph(back)
        keys = {k for u, v, k in multi.edges(keys=True) if (u, v) == ("Region:忻州市", "Indicator:水土保持率")}
        assert keys == {k for u, v, k in full.edges(keys=True) if (u, v) == ("Region:忻州市", "Indicator:水土保持率")}
        u, v, k, edge = next((u, v, k, d) for u, v, k, d in full.edges(keys=True, data=True)
                             if (u, v) == ("Region:忻州市", "Indicator:水土保持率") and d.get("value") == 63.56)
        read = multi.edges[u, v, k]
        assert _decoded(read["evidence"]) == edge["evidence"] and len(edge["evidence"]) > 0
        assert read[graph.written_name("type", fmt, "edge")] == "MEASURES"
        assert read[graph.written_name("key", fmt, "edge")] == edge["key"] == k.removeprefix("MEASURES:")
        assert read["value"] == edge["value"]
    elif projection == "region-mechanism":
        u, v, weight = max(expected.edges(data="weight"), key=lambda e: (e[2], e[0], e[1]))
        assert back.edges[u, v]["weight"] == weight > 1
    elif projection == "actors":
        mechanisms = _decoded(back.edges["Actor:河长", "Actor:检察长"]["mechanisms"])
        assert "河长+检察长" in mechanisms
        assert _attr(back, "Actor:检察长", "name", fmt) == "检察长"
    else:
        u, v, weight = next(iter(expected.edges(data="weight")))
        assert back.edges[u, v]["weight"] == pytest.approx(weight)
        assert 0 < weight <= 1
    if fmt == "gexf":
        assert back.nodes[next(iter(expected.nodes))]["label"] == expected.nodes[next(iter(expected.nodes))]["name"]


def test_graphml_edge_ids_are_unique_and_gexf_holds_only_scalars(full, tmp_path):
    path = graph.write_graph(full, tmp_path / "full.graphml", "graphml")
    ids = [e.get("id") for e in ElementTree.parse(path).iter("{http://graphml.graphdrawing.org/xmlns}edge")]
    assert len(ids) == len(set(ids)) == full.number_of_edges(), "Gephi drops an edge whose id it has seen"
    flat = graph.file_graph(full, "gexf")
    values = [v for _, d in flat.nodes(data=True) for v in d.values()]
    values += [v for *_, d in flat.edges(data=True) for v in d.values()]
    assert values and all(isinstance(v, str | int | float | bool) for v in values)


def test_graphml_escapes_markup_and_drops_characters_xml_forbids(tmp_path):
    g = nx.MultiDiGraph(name="测试")
    g.add_node("Region:某区@1", label="Region", name="某区", text="A<B & \"C\"\x0b河长", anonymized=True, doc_id=None)
    g.add_node("Actor:河长", label="Actor", count=3)
    g.add_edges_from([("Region:某区@1", "Actor:河长", "ESTABLISHES", {"type": "ESTABLISHES", "evidence": ["1:0"]}),
                      ("Region:某区@1", "Actor:河长", "ESTABLISHES:1:0", {"type": "ESTABLISHES", "value": 2.5})])
    back = graph.read_graph(graph.write_graph(g, tmp_path / "g.graphml", "graphml"), "graphml")
    assert back.nodes["Region:某区@1"] == {"label": "Region", "name": "某区", "text": 'A<B & "C"河长',
                                          "anonymized": True}
    assert back.nodes["Actor:河长"]["count"] == 3
    assert set(back.edges(keys=True)) == set(g.edges(keys=True))
    assert json.loads(back.edges["Region:某区@1", "Actor:河长", "ESTABLISHES"]["evidence"]) == ["1:0"]
    assert back.graph["name"] == "测试"


def test_a_replaced_document_gives_the_same_graph_both_ways(loaded, sample_records, tmp_path):
    lines = sample_records.read_text(encoding="utf-8").splitlines()
    path = json.loads(lines[4])["doc"]
    changed = changed_version(lines[4], "河长+警长")
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps(changed, ensure_ascii=False) + "\n", encoding="utf-8")
    both = tmp_path / "both.jsonl"
    both.write_text("\n".join([*lines, json.dumps(changed, ensure_ascii=False)]) + "\n", encoding="utf-8")
    adopts = lambda g: [u for u, v, d in g.edges(data=True) if d["type"] == "ADOPTS" and v == "Mechanism:河长+警长"]  # noqa: E731
    assert adopts(graph.graph_from_records(sample_records)), "the old version adopts 河长+警长"
    try:
        assert load_records(loaded, new).replaced == 1
        from_db = graph.graph_from_neo4j(loaded, sentences=True)
        # The sample, then its new version, as the two loads above (at any batch size).
        from_records = graph.graph_from_records(both, sentences=True, batch_size=5)
        assert from_records.nodes[f"Document:{path}"]["doc_id"] == "ffffffffffffffff"
        assert adopts(from_records) == []
        assert dict(from_db.nodes(data=True)) == dict(from_records.nodes(data=True))
        assert {(u, v, k): d for u, v, k, d in from_db.edges(keys=True, data=True)} == {
            (u, v, k): d for u, v, k, d in from_records.edges(keys=True, data=True)}
    finally:
        wipe(loaded)
        load_records(loaded, sample_records)


def test_unknown_format_and_projection_are_refused(full, tmp_path):
    with pytest.raises(ExportError, match="unknown export format 'xml': use one of graphml, gexf, json"):
        graph.write_graph(full, tmp_path / "g.xml", "xml")
    with pytest.raises(ExportError, match="unknown projection 'towns': use one of full, region-mechanism"):
        graph.project(full, "towns")


def test_export_command_from_neo4j_and_from_records(loaded, neo4j_conn, sample_records, tmp_path):
    runner = CliRunner()
    out = tmp_path / "full.graphml"
    conn = ["--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    result = runner.invoke(app, ["export", "--format", "graphml", "--out", str(out), *conn])
    assert result.exit_code == 0, result.output
    back = nx.read_graphml(out)
    full = graph.graph_from_neo4j(loaded)
    assert result.output == (f"wrote {out} (graphml, full): {full.number_of_nodes()} nodes, "
                             f"{full.number_of_edges()} edges\n")
    assert back.number_of_nodes() == full.number_of_nodes()

    out = tmp_path / "actors.json"
    result = runner.invoke(app, ["export", "--format", "json", "--projection", "actors", "--out", str(out),
                                 "--records", str(sample_records.parent)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "检察长" in out.read_text(encoding="utf-8"), "Chinese is written as is, not escaped"
    assert {n["id"] for n in data["nodes"]} == set(graph.actor_coinvolvement(full).nodes)


def test_export_command_writes_neo4j_import_files(sample_records, tmp_path):
    out = tmp_path / "import"
    result = CliRunner().invoke(app, ["export", "--format", "neo4j-import", "--records", str(sample_records),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("neo4j-admin database import full neo4j --nodes=Document=")
    assert list(out.glob("*.csv"))


def test_export_command_refuses_bad_options(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["export", "--format", "xml", "--out", str(tmp_path / "g.xml"), "--records", "x"])
    assert (bad.exit_code, bad.output) == (
        1, "Error: --format 'xml' is not one of graphml, gexf, json, neo4j-import, qdpx\n")
    towns = runner.invoke(app, ["export", "--projection", "towns", "--out", str(tmp_path / "g.graphml")])
    assert (towns.exit_code, towns.output) == (
        1, "Error: --projection 'towns' is not one of full, region-mechanism, actors, regions\n")
    assert not (tmp_path / "g.xml").exists()
    missing = runner.invoke(app, ["export", "--out", str(tmp_path / "g.graphml"), "--records",
                                  str(tmp_path / "none.jsonl")])
    assert (missing.exit_code, missing.output) == (
        1, f"Error: {tmp_path / 'none.jsonl'}: no such file; run govgraph extract first\n")
    no_records = runner.invoke(app, ["export", "--format", "neo4j-import", "--out", str(tmp_path / "import")])
    assert no_records.exit_code == 1
    assert no_records.output.startswith("Error: --format neo4j-import writes the full graph from records.jsonl")
