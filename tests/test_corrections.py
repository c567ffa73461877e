"""Corrections that survive re-extraction (etl/research/corrections.py): validation with path:line, each
operation on the sample's records, stale corrections, and the CLI against the real Neo4j."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.errors import DataFileError
from etl.graph.records import read_records
from etl.research.corrections import Corrector, read_corrections

SENTENCE = "近日,市政府办公室印发了《忻州市加强新时代水土保持工作实施方案》"
# A merge, a reject and an add, on the sample; line 7 is stale (no document names 不存在的机制).
CORRECTIONS = f"""\
# corrections of the sample
corrections:
  - merge: {{type: Mechanism, from: 目标责任书, into: 目标管理责任书}}
  - reject: {{type: Mechanism, name: 信用评价, doc: 002_94f629d2cccb45b0.txt}}
  - add: {{relation: [忻州市, ADOPTS, 协调推进机制], doc: 002_94f629d2cccb45b0.txt,
          sentence: "{SENTENCE}", year: 2024}}
  - reject: {{type: Mechanism, name: 不存在的机制}}
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    from etl.extract import extract_corpus

    summary = extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("sample"))
    assert summary.documents == 5, summary.failures
    return summary.out


@pytest.fixture
def corrections_file(tmp_path) -> Path:
    path = tmp_path / "corrections.yaml"
    path.write_text(CORRECTIONS, encoding="utf-8")
    return path


def _by_doc(records) -> dict:
    return {r.doc[:3]: r for r in records}


# --- the file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("corrections:\n  - merge: {type: Mechanism, from: a}\n", r":2: merge needs into$"),
    ("corrections:\n  - fold: {type: Mechanism}\n", r":2: unknown operation 'fold'; use one of merge, rename"),
    ("corrections:\n  - rename: {type: Mechanism, from: a, to: b}\n  - retype: {name: x, from: Mechanism, to: Tool}\n",
     r":3: to 'Tool' is not a label"),
    ("corrections:\n  - reject: {relation: [a, USES, b]}\n", r":2: relation type 'USES' is not one of"),
    ("corrections:\n  - reject: {name: a}\n", r":2: reject takes exactly one of \{type, name\} or \{relation\}"),
    ("corrections:\n  - add: {relation: [a, ADOPTS, b], doc: x.txt}\n", r":2: add needs sentence$"),
    ("corrections:\n  - add: {relation: [a, ADOPTS, b], doc: x.txt, sentence: s, year: soon}\n",
     r":2: year must be a whole number"),
    ("corrections: [\n", r":2: not valid YAML"),
])
def test_a_bad_file_is_one_path_line_error(tmp_path, text, message):
    path = tmp_path / "corrections.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"^{path}{message}"):
        read_corrections(path)


def test_entries_keep_their_lines(corrections_file):
    found = read_corrections(corrections_file)
    assert [(c.op, c.line) for c in found] == [("merge", 3), ("reject", 4), ("add", 5), ("reject", 7)]
    assert found[0].tag == "corrections.yaml:3"


# --- applying them ------------------------------------------------------------------------------


def test_merge_reject_add_on_the_sample(sample, corrections_file):
    before = _by_doc(read_records(sample))
    corrector = Corrector.from_file(corrections_file)
    after = _by_doc(corrector.apply(r) for r in read_records(sample))

    assert "目标责任书" in before["003"].entities["Mechanism"]
    assert "目标责任书" not in after["003"].entities["Mechanism"]
    assert "目标管理责任书" in after["003"].entities["Mechanism"]
    merged = [r for r in after["003"].relations if r.tail == "目标管理责任书"]
    assert merged and all(r.props.corrected_by == "corrections.yaml:3" for r in merged)
    assert after["003"].properties["Mechanism"]["目标管理责任书"]["corrected_by"] == "corrections.yaml:3"
    assert {m.name for m in after["003"].mentions} >= {"目标管理责任书"}

    assert "信用评价" in before["002"].entities["Mechanism"]
    assert "信用评价" not in after["002"].entities["Mechanism"]
    assert not [r for r in after["002"].relations if "信用评价" in (r.head, r.tail)]
    assert not [m for m in after["002"].mentions if m.name == "信用评价"]

    added = [r for r in after["002"].relations if (r.head, r.type, r.tail) == ("忻州市", "ADOPTS", "协调推进机制")]
    assert len(added) == 1
    evidence = added[0].props.evidence
    assert [after["002"].sentences[i].text.startswith(SENTENCE) for i in evidence] == [True]
    assert (added[0].props.year, added[0].props.corrected_by) == (2024, "corrections.yaml:5")

    # Nothing else changed: the other documents are the records as extracted.
    for key in ("000", "001", "004"):
        assert after[key] == before[key]
    untouched = [r for r in before["002"].relations if "信用评价" not in (r.head, r.tail)]
    assert [r for r in after["002"].relations if r.props.corrected_by is None] == untouched

    stale = corrector.stale()
    assert stale == [f"{corrections_file}:7: stale correction, nothing to reject: type=Mechanism, name=不存在的机制"]


def test_applying_is_deterministic_and_idempotent(sample, corrections_file):
    once = [Corrector.from_file(corrections_file).apply(r).to_json() for r in read_records(sample)]
    again = [Corrector.from_file(corrections_file).apply(r).to_json() for r in read_records(sample)]
    assert once == again
    corrector = Corrector.from_file(corrections_file)
    twice = [corrector.apply(r).to_json() for r in (corrector.apply(r) for r in read_records(sample))]
    assert [json.loads(line)["entities"] for line in twice] == [json.loads(line)["entities"] for line in once]


def test_retype_and_rename(sample, tmp_path):
    """A mechanism the extractor adopted in the first seed becomes a Measure it implements (whichever
    mechanism that is: the learned model decides what is found, the correction is what is tested)."""
    first = _by_doc(read_records(sample))["000"]
    adopted = next(r.tail for r in first.relations if r.type == "ADOPTS")
    path = tmp_path / "corrections.yaml"
    path.write_text("corrections:\n"
                    f"  - retype: {{name: {adopted}, from: Mechanism, to: Measure, doc: {first.doc}}}\n"
                    "  - rename: {type: Region, from: 忻州市, to: 忻州市(晋)}\n", encoding="utf-8")
    after = _by_doc(Corrector.from_file(path).apply(r) for r in read_records(sample))
    assert adopted in after["000"].entities["Measure"]
    assert adopted not in after["000"].entities.get("Mechanism", [])
    assert [r.type for r in after["000"].relations if r.tail == adopted] == ["IMPLEMENTS"]
    assert after["002"].region.name == "忻州市(晋)"
    assert not [r for r in after["002"].relations if "忻州市" in (r.head, r.tail)]


# --- the CLI and the graph -----------------------------------------------------------------------


def _cli(conn, *args: str):
    options = ["--uri", conn.uri, "--user", conn.user, "--password", conn.password, "--database", conn.database]
    return CliRunner().invoke(app, [*args, *options])


def _graph_changes(driver) -> dict:
    rows, _, _ = driver.execute_query(
        "OPTIONAL MATCH (:Region {name: '会同县'})-[m:ADOPTS]->(:Mechanism {name: '目标管理责任书'}) "
        "WITH collect(m.corrected_by) AS merged "
        "OPTIONAL MATCH (old:Mechanism {name: '目标责任书'})<-[:ADOPTS]-() WITH merged, count(old) AS old "
        "OPTIONAL MATCH (:Region {name: '忻州市'})-[r:ADOPTS]->(:Mechanism {name: '信用评价'}) "
        "WITH merged, old, count(r) AS rejected "
        "OPTIONAL MATCH (:Region {name: '忻州市'})-[a:ADOPTS]->(:Mechanism {name: '协调推进机制'}) "
        "RETURN merged, old, rejected, collect([a.year, a.corrected_by]) AS added")
    return dict(rows[0])


def test_corrections_survive_extracting_and_loading_again(neo4j_conn, neo4j_driver, sample, tmp_path):
    from etl.extract import extract_corpus

    fixes = tmp_path / "fixes.yaml"
    fixes.write_text(CORRECTIONS, encoding="utf-8")
    first = _cli(neo4j_conn, "load", str(sample), "--corrections", str(fixes), "--fresh", "--yes")
    assert first.exit_code == 0, first.output
    # The stale correction is one path:line line, and the only one about corrections.
    assert [line for line in first.stderr.splitlines() if "fixes.yaml" in line] == [
        f"{fixes}:7: stale correction, nothing to reject: type=Mechanism, name=不存在的机制"]
    expected = {"merged": ["fixes.yaml:3"], "old": 0, "rejected": 0, "added": [[2024, "fixes.yaml:5"]]}
    assert _graph_changes(neo4j_driver) == expected

    # Extract the corpus again (the records know nothing of the corrections) and load it again.
    again = extract_corpus([config.sample_corpus_dir()], tmp_path / "again").out
    assert "目标责任书" in again.read_text(encoding="utf-8")
    second = _cli(neo4j_conn, "load", str(again), "--corrections", str(fixes))
    assert second.exit_code == 0, second.output
    assert _graph_changes(neo4j_driver) == expected

    # corrections.yaml beside the records is found without --corrections.
    (again.parent / "corrections.yaml").write_text(CORRECTIONS, encoding="utf-8")
    third = _cli(neo4j_conn, "load", str(again))
    assert third.exit_code == 0, third.output
    assert f"{again.parent / 'corrections.yaml'}:7: stale correction" in third.stderr


def test_a_bad_corrections_file_loads_nothing(neo4j_conn, sample, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("corrections:\n  - merge: {type: Mechanism, from: a}\n", encoding="utf-8")
    result = _cli(neo4j_conn, "load", str(sample), "--corrections", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}:2: merge needs into"


# --- review: what to correct ----------------------------------------------------------------------


def test_review_lists_what_needs_a_look_with_its_correction(sample, tmp_path):
    import csv

    result = CliRunner().invoke(app, ["review", str(sample), "--out", str(tmp_path / "review")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "review" / "review.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    kinds = [row["kind"] for row in rows]
    assert set(kinds) == {"near-duplicate", "outside-lexicon", "seen-once", "single-sentence"}
    assert kinds == sorted(kinds, key=["near-duplicate", "outside-lexicon", "seen-once", "single-sentence"].index)
    pairs = {(row["label"], row["name"], row["other"]) for row in rows if row["kind"] == "near-duplicate"}
    assert ("Measure", "生态清洁小流域", "生态清洁型小流域") in pairs
    # A level prefix makes another role, and two canonical names of the lexicon are never a pair.
    assert not [p for p in pairs if {p[1], p[2]} & {"河长", "总河长", "村级河长", "区级河长"}]
    # Every suggested correction is a valid entry of a corrections file.
    fixes = tmp_path / "corrections.yaml"
    fixes.write_text("corrections:\n" + "".join(f"  - {row['correction']}\n" for row in rows), encoding="utf-8")
    assert len(read_corrections(fixes)) == len(rows)
    page = (tmp_path / "review" / "review.html").read_text(encoding="utf-8")
    assert "生态清洁型小流域" in page and page.count("<tr") == len(rows) + 1


def test_run_finds_corrections_beside_the_corpus(neo4j_conn, neo4j_driver, tmp_path):
    import shutil

    from etl.run import run_corpus

    corpus = tmp_path / "corpus" / "sample"
    shutil.copytree(config.sample_corpus_dir(), corpus)
    (corpus.parent / "corrections.yaml").write_text(CORRECTIONS, encoding="utf-8")
    warnings: list[str] = []
    result = run_corpus([corpus], tmp_path / "build", mode="fresh", uri=neo4j_conn.uri, user=neo4j_conn.user,
                        password=neo4j_conn.password, database=neo4j_conn.database, warn=warnings.append)
    assert result.failures == []
    assert warnings == [f"{corpus.parent / 'corrections.yaml'}:7: stale correction, nothing to reject: "
                        "type=Mechanism, name=不存在的机制"]
    assert _graph_changes(neo4j_driver) == {"merged": ["corrections.yaml:3"], "old": 0, "rejected": 0,
                                            "added": [[2024, "corrections.yaml:5"]]}


def test_reject_a_relation_in_one_document_and_a_stale_add(sample, tmp_path):
    records = list(read_records(sample))
    target = next(r for r in _by_doc(records)["004"].relations if r.type == "ADOPTS")
    path = tmp_path / "corrections.yaml"
    path.write_text("corrections:\n"
                    f"  - reject: {{relation: [{target.head}, ADOPTS, {target.tail}], doc: 004_afd50eb96374d14b.txt}}\n"
                    "  - add: {relation: [忻州市, ADOPTS, 河长制], doc: 002_94f629d2cccb45b0.txt,"
                    " sentence: 没有这句话}\n",
                    encoding="utf-8")
    corrector = Corrector.from_file(path)
    after = _by_doc(corrector.apply(r) for r in records)
    assert (target.head, target.type, target.tail) not in {(r.head, r.type, r.tail) for r in after["004"].relations}
    assert target.tail in after["004"].entities["Mechanism"], "the entity stays; only the relation goes"
    assert after["002"] == _by_doc(records)["002"]
    assert corrector.stale() == [f"{path}:3: stale correction, nothing to add: relation=[忻州市, ADOPTS, 河长制], "
                                 "doc=002_94f629d2cccb45b0.txt, sentence=没有这句话"]


def test_corrections_belong_to_the_corpus_wherever_the_records_lie(neo4j_conn, neo4j_driver, tmp_path):
    """Issue 23, item 1: run applies corrections.yaml beside the corpus; extracting elsewhere and
    loading keeps them; a file named once is remembered; a load that undoes them says so."""
    import shutil

    corpus = tmp_path / "my-corpus"
    shutil.copytree(config.sample_corpus_dir(), corpus)
    beside = tmp_path / "corrections.yaml"
    beside.write_text(CORRECTIONS, encoding="utf-8")
    expected = {"merged": ["corrections.yaml:3"], "old": 0, "rejected": 0, "added": [[2024, "corrections.yaml:5"]]}

    ran = _cli(neo4j_conn, "run", str(corpus), "--out", str(tmp_path / "build"), "--fresh", "--yes")
    assert ran.exit_code == 0, ran.output
    assert _graph_changes(neo4j_driver) == expected

    # The usual next step: extract into another folder, load from there.
    assert CliRunner().invoke(app, ["extract", str(corpus), "--out", str(tmp_path / "other")]).exit_code == 0
    loaded = _cli(neo4j_conn, "load", str(tmp_path / "other" / "records.jsonl"))
    assert loaded.exit_code == 0, loaded.output
    assert _graph_changes(neo4j_driver) == expected

    # A file named once is what the graph remembers for these documents.
    named = tmp_path / "fixes" / "mine.yaml"
    named.parent.mkdir()
    shutil.move(beside, named)
    once = _cli(neo4j_conn, "load", str(tmp_path / "other"), "--corrections", str(named))
    assert once.exit_code == 0, once.output
    assert CliRunner().invoke(app, ["extract", str(corpus), "--out", str(tmp_path / "third")]).exit_code == 0
    again = _cli(neo4j_conn, "load", str(tmp_path / "third"))
    assert again.exit_code == 0, again.output
    assert _graph_changes(neo4j_driver) == {**expected, "merged": ["mine.yaml:3"], "added": [[2024, "mine.yaml:5"]]}

    # Without the file the load undoes them, and says so.
    named.unlink()
    undone = _cli(neo4j_conn, "load", str(tmp_path / "third"))
    assert undone.exit_code == 0, undone.output
    assert (f"warning: 5 documents of {tmp_path / 'third' / 'records.jsonl'} were loaded with the corrections of "
            f"{named} (it is gone); this load finds no corrections file, so what that file corrected in them is "
            f"undone (pass --corrections {named} to keep it)") in undone.stderr.splitlines()
    assert _graph_changes(neo4j_driver)["old"] > 0


def test_the_review_page_says_where_corrections_are_found(sample, tmp_path):
    result = CliRunner().invoke(app, ["review", str(sample), "--out", str(tmp_path / "review")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "review" / "review.html").read_text(encoding="utf-8")
    assert "apply it on every load" not in page
    assert "in the folder that holds the corpus folder" in page
