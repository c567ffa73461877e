"""Document dates and adoption years (etl/input/dates.py): the examples of schema/patterns/dates.yaml,
and scores on the dev texts against tests/data/dev_dates.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from etl.errors import DataFileError
from etl.input import dates
from etl.input.read import read_document
from tests.conftest import SHARED

PATTERNS = dates.load_patterns().data
ANNOTATIONS = Path(__file__).parent / "data" / "dev_dates.yaml"
DEV = SHARED / "dev" / "raw"


@pytest.mark.parametrize("case", PATTERNS["date_examples"], ids=lambda c: c["date"])
def test_date_examples(case):
    assert dates.document_date(case["text"], case["title"]) == case["date"]


@pytest.mark.parametrize("case", PATTERNS["date_counterexamples"], ids=lambda c: c["text"][:12])
def test_date_counterexamples(case):
    assert dates.document_date(case["text"], case["title"]) is None


@pytest.mark.parametrize("case", PATTERNS["title_year_examples"], ids=lambda c: c["title"][:12])
def test_title_year_examples(case):
    assert dates.document_year(case.get("date"), case["title"]) == case["year"]


@pytest.mark.parametrize("case", PATTERNS["title_year_counterexamples"], ids=lambda c: c["title"][:12])
def test_title_year_counterexamples(case):
    assert dates.document_year(case.get("date"), case["title"]) is None


def _span(case: dict) -> tuple[int, int]:
    start = case["sentence"].index(case["mention"])
    return start, start + len(case["mention"])


@pytest.mark.parametrize("case", PATTERNS["adoption_examples"], ids=lambda c: c["sentence"][:14])
def test_adoption_examples(case):
    assert dates.adoption_year(case["sentence"], *_span(case), case["doc_year"]) == case["year"]


@pytest.mark.parametrize("case", PATTERNS["adoption_counterexamples"], ids=lambda c: c["sentence"][:14])
def test_adoption_counterexamples(case):
    assert dates.adoption_year(case["sentence"], *_span(case), case["doc_year"]) is None


def test_meta_date_wins_and_chinese_numerals():
    assert dates.document_date("标题\n正文", "标题", "2024/2/18") == "2024-02-18"
    assert dates.first_date("二〇二三年五月十二日") == "2023-05-12"
    assert dates.first_date("2023年13月40日") is None


def test_normalize_sets_the_date_from_the_publishing_line(tmp_path):
    from etl.input.normalize import normalize

    path = tmp_path / "a.txt"
    path.write_text("首页 新闻\n某县河长制工作报告\n来源:某县政府 发布时间:2022-03-04 10:00\n"
                    "今年以来,我县全面推行河长制。", encoding="utf-8")
    norm = normalize(read_document(path))
    assert norm.date == "2022-03-04"
    assert "发布时间" not in norm.text


def test_bad_rule_is_a_path_line_error(tmp_path):
    bad = tmp_path / "dates.yaml"
    good = yaml.safe_load((dates.config.schema_dir() / "patterns" / "dates.yaml").read_text(encoding="utf-8"))
    good["adoption_rules"] = [{"id": "x", "where": "before", "regex": "(\\d{4})年"}]
    bad.write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"{bad}:\d+: rule x: the regex needs a group named 'year'"):
        dates.load_patterns(bad)


# --- the dev set ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_records(tmp_path_factory):
    """The dev reports as the rules read them: adoption years are the date rules' work, and which
    mechanisms a learned model keeps (fewer on dev, whose names the rules were tuned to) is not."""
    if not DEV.exists():
        pytest.skip("shared/dev is not beside the repo")
    from etl.extract import extract_text_document

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOVGRAPH_MODELS", str(tmp_path_factory.mktemp("no-models")))
        return {path.name: extract_text_document(path) for path in sorted(DEV.glob("*.txt"))}


@pytest.fixture(scope="module")
def annotations():
    return yaml.safe_load(ANNOTATIONS.read_text(encoding="utf-8"))["documents"]


def test_annotations_cover_the_dev_set(annotations):
    if DEV.exists():
        assert set(annotations) == {p.name for p in DEV.glob("*.txt")}
    for name, item in annotations.items():
        for adopt in item["adopts"]:
            assert set(adopt) == {"region", "mechanism", "year", "sentence"}, name
            if DEV.exists():
                text = (DEV / name).read_text(encoding="utf-8")
                # the sentence is in the text (traditional texts are annotated in simplified characters)
                assert str(adopt["year"]) in text


def test_dev_document_dates(dev_records, annotations):
    """Every report whose text carries a date gets it, and no report gets one it does not carry."""
    found = {name: record.date for name, record in dev_records.items()}
    expected = {name: item["date"] for name, item in annotations.items()}
    assert sum(1 for d in expected.values() if d) == 5
    assert found == expected


def test_dev_adoption_year_precision(dev_records, annotations):
    """ADOPTS years on the dev reports: precision ≥ 0.9 against the annotations, never the document's year."""
    predicted, correct = 0, 0
    for name, record in dev_records.items():
        # A year is right when an annotation states it for that mechanism: named by one of its
        # variants, or as the extractor names it within the annotated sentence.
        stated = [(set(a["mechanism"].split("|")), a["sentence"], a["year"]) for a in annotations[name]["adopts"]]
        for rel in record.relations:
            if rel.type != "ADOPTS" or rel.props.year is None:
                continue
            predicted += 1
            correct += any((rel.tail in names or rel.tail in sentence) and rel.props.year == year
                           for names, sentence, year in stated)
    assert predicted >= 3
    assert correct / predicted >= 0.9


# --- the diffusion query (real Neo4j) --------------------------------------------------------

GENERATED = [("会同县", 2018), ("滨海县", 2019), ("开化县", 2019), ("商城县", 2021)]


def _generated_corpus(folder: Path) -> Path:
    """Reports that state when a county set up 河长+检察长, and one that states no year."""
    folder.mkdir()
    for n, (county, year) in enumerate(GENERATED):
        (folder / f"g{n}.txt").write_text(
            f"{county}关于河长制工作情况的报告\n{year}年,{county}建立了“河长+检察长”协作机制,全面推行河长制。\n"
            f"近年来,{county}河湖面貌明显改善。\n", encoding="utf-8")
    (folder / "g9.txt").write_text("巧家县关于河长制工作情况的报告\n巧家县建立了“河长+检察长”协作机制。\n",
                                   encoding="utf-8")
    return folder


def _cli(conn, *args: str):
    from typer.testing import CliRunner

    from etl.cli import app

    options = ["--uri", conn.uri, "--user", conn.user, "--password", conn.password, "--database", conn.database]
    return CliRunner().invoke(app, [*args, *options])


def _diffusion(conn, mechanism: str) -> list[dict]:
    import json

    result = _cli(conn, "query", "run", "diffusion", "-p", f"mechanism={mechanism}", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_diffusion_on_the_sample_and_a_generated_corpus(neo4j_conn, neo4j_driver, tmp_path):
    from etl import config
    from etl.extract import extract_corpus

    sample = extract_corpus([config.sample_corpus_dir()], tmp_path / "sample")
    loaded = _cli(neo4j_conn, "load", str(sample.out))
    assert loaded.exit_code == 0, loaded.output
    # No sample report states a year of adoption (their years are redacted or absent): the one
    # adopter of 河长+检察长 comes with year null, never with the document's year passed off as one.
    rows = _diffusion(neo4j_conn, "河长+检察长")
    assert [(r["year"], r["adopters"], r["new_regions"], r["regions"]) for r in rows] == [(None, ["XX区"], 1, 1)]
    assert all(r["year"] is None for r in _diffusion(neo4j_conn, "null"))

    generated = extract_corpus([_generated_corpus(tmp_path / "generated")], tmp_path / "gen")
    loaded = _cli(neo4j_conn, "load", str(generated.out), "--append")
    assert loaded.exit_code == 0, loaded.output
    rows = _diffusion(neo4j_conn, "河长+检察长")
    assert [(r["year"], sorted(r["adopters"]), r["new_regions"], r["regions"]) for r in rows] == [
        (2018, ["会同县"], 1, 1), (2019, ["开化县", "滨海县"], 2, 3), (2021, ["商城县"], 1, 4),
        (None, ["XX区", "巧家县"], 2, 6)]
    assert {r["mechanism"] for r in rows} == {"河长+检察长"}
    # Without a mechanism: every mechanism, 河长制 among them, cumulative counts rising by year.
    everything = _diffusion(neo4j_conn, "null")
    chief = [(r["year"], r["regions"]) for r in everything if r["mechanism"] == "河长制"]
    assert chief[:3] == [(2018, 1), (2019, 3), (2021, 4)]
    assert chief[3][0] is None and chief[3][1] > 4

    # The report draws the query's cumulative counts as the adoption chart.
    from etl.outputs.report import build_report

    result = build_report(neo4j_driver, tmp_path / "report", neo4j_conn.database)
    chart = tmp_path / "report" / "diffusion.png"
    assert chart in result.files and chart.stat().st_size > 5_000
    assert 'src="diffusion.png"' in result.html.read_text(encoding="utf-8")
