"""A researcher's day (issue 23): incremental extraction, failures on disk, parameters that match nothing."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time

from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.extract import extract_corpus, reuse

runner = CliRunner()
SAMPLE = sorted(config.sample_corpus_dir().glob("*.txt"))


def test_an_unchanged_document_is_not_extracted_again(tmp_path):
    """Item 9: same bytes, same extractor: the record is kept; a changed file is extracted again."""
    corpus = tmp_path / "corpus"
    shutil.copytree(config.sample_corpus_dir(), corpus)
    out = tmp_path / "build"
    first = extract_corpus([corpus], out)
    assert (first.documents, first.reused) == (5, 0)
    records = (out / "records.jsonl").read_bytes()

    began = time.perf_counter()
    second = extract_corpus([corpus], out)
    assert (second.documents, second.reused) == (5, 5)
    assert time.perf_counter() - began < 5
    assert (out / "records.jsonl").read_bytes() == records
    assert (second.sentences, second.relations, second.entities) == (first.sentences, first.relations,
                                                                    first.entities)

    changed = corpus / SAMPLE[0].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n全面推行河长制。\n", encoding="utf-8")
    third = extract_corpus([corpus], out)
    assert (third.documents, third.reused) == (5, 4)
    assert (out / "records.jsonl").read_bytes() != records

    # Another extractor (here: its version stamp) extracts everything again.
    manifest = out / "extraction.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"extractor": "', '"extractor": "x'),
                        encoding="utf-8")
    assert extract_corpus([corpus], out).reused == 0


def test_failures_are_written_to_failed_tsv(tmp_path):
    """Item 8: build/failed.tsv (path, stage, reason), named in the summary; gone when nothing fails."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE[0], corpus / "good.txt")
    (corpus / "broken.docx").write_bytes(b"not a zip file")
    out = tmp_path / "build"
    result = runner.invoke(app, ["extract", str(corpus), "--out", str(out)])
    assert result.exit_code == 1
    assert f"1 failed (path, stage, reason): {out / 'failed.tsv'}" in result.stdout
    with (out / "failed.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    assert rows[0] == ["path", "stage", "reason"]
    assert rows[1:] == [[str(corpus / "broken.docx"), "read", "ReadError: not a readable .docx file (BadZipFile)"]]

    (corpus / "broken.docx").unlink()
    again = runner.invoke(app, ["extract", str(corpus), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert not (out / "failed.tsv").exists()


def test_a_parameter_that_names_nothing_gets_did_you_mean(tmp_path, neo4j_conn, neo4j_driver):
    """Item 8: region=忻州 returns no rows; stderr says which name was meant."""
    from etl.graph.load import load_records

    summary = extract_corpus([config.sample_corpus_dir()], tmp_path)
    load_records(neo4j_driver, summary.out, neo4j_conn.database)
    conn = ["--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    result = runner.invoke(app, ["query", "run", "targets", "-p", "region=忻州", "-f", "csv", *conn])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["note: region=忻州 names no Region in the graph; did you mean: 忻州市?"]
    named = runner.invoke(app, ["query", "run", "targets", "-p", "region=忻州市", "-f", "csv", *conn])
    assert named.exit_code == 0 and named.stderr == ""


def test_query_results_open_in_excel(tmp_path, neo4j_conn, neo4j_driver):
    """Item 7: CSV with a byte-order mark, -f xlsx through openpyxl, lists joined readably."""
    import openpyxl

    from etl.graph.load import load_records

    summary = extract_corpus([config.sample_corpus_dir()], tmp_path / "build")
    load_records(neo4j_driver, summary.out, neo4j_conn.database)
    conn = ["--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    as_csv = runner.invoke(app, ["query", "run", "mechanism-matrix", "-f", "csv", "--out", str(tmp_path / "m.csv"),
                                 *conn])
    assert as_csv.exit_code == 0, as_csv.output
    raw = (tmp_path / "m.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfregion,")
    with (tmp_path / "m.csv").open(encoding="utf-8-sig") as handle:
        table = list(csv.DictReader(handle))
    assert table and not any(value.startswith("[") for row in table for value in row.values())

    as_xlsx = runner.invoke(app, ["query", "run", "mechanism-matrix", "-f", "xlsx", "--out",
                                  str(tmp_path / "m.xlsx"), *conn])
    assert as_xlsx.exit_code == 0, as_xlsx.output
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx").active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == list(table[0].keys())
    assert len(cells) == len(table) + 1
    assert [str(v) if v is not None else "" for v in cells[1]] == list(table[0].values())

    # Item 10: the targets table's first page is stated values, not the redacted reports' rows.
    page = runner.invoke(app, ["query", "run", "targets", "-p", "limit=10", "-f", "json", *conn])
    assert page.exit_code == 0, page.output
    first = json.loads(page.stdout)
    assert first and not [row for row in first if row["redacted"] or "@" in row["region_key"]]

    no_file = runner.invoke(app, ["query", "run", "mechanism-matrix", "-f", "xlsx", *conn])
    assert (no_file.exit_code, no_file.output) == (1, "Error: --format xlsx writes a file: add --out FILE.xlsx\n")


WOXIAN = "我县全面推行河长制，建立河长+检察长协作机制。2021年，我县实施生态清洁小流域建设。\n"


def test_a_region_correction_sets_the_reporting_region(tmp_path, neo4j_conn, neo4j_driver):
    """Item 6: a report that says only 我县 has no region; the summary names it; a region
    correction gives it one, and its adoptions reach the compare pack."""
    from etl.graph import db
    from etl.run import run_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d101.txt").write_text(WOXIAN, encoding="utf-8")
    said: list[str] = []
    conn = {"uri": neo4j_conn.uri, "user": neo4j_conn.user, "password": neo4j_conn.password,
            "database": neo4j_conn.database}
    first = run_corpus([corpus], tmp_path / "build", mode="fresh", say=said.append, **conn)
    assert first.regionless == ["d101.txt"]
    assert ("1 documents report on no region, so the compare pack leaves out what they adopt (a region "
            "correction sets one: - region: {doc: PATH, name: REGION}): d101.txt") in said

    (tmp_path / "corrections.yaml").write_text(
        "corrections:\n  - region: {doc: d101.txt, name: 滨海县, level: 县}\n", encoding="utf-8")
    said.clear()
    second = run_corpus([corpus], tmp_path / "build", say=said.append, **conn)
    assert second.regionless == [] and not [line for line in said if "no region" in line]
    rows = db.read(neo4j_driver, "MATCH (r:Region {name: '滨海县'})-[a:ADOPTS]->(m:Mechanism) "
                                 "RETURN m.name AS name, a.corrected_by AS tag ORDER BY name")
    assert {"name": "河长制", "tag": "corrections.yaml:2"} in rows
    assert db.read(neo4j_driver, "MATCH (:Document {path: 'd101.txt'})-[:REPORTS_ON]->(r:Region) "
                                 "RETURN r.name AS name, r.level AS level") == [{"name": "滨海县", "level": "县"}]


def test_help_takes_h_and_flags_show_no_type():
    """Item 10: -h is help; a flag shows no <bool>, which made `--all true` look right."""
    short = runner.invoke(app, ["query", "run", "-h"])
    assert short.exit_code == 0 and "Usage: govgraph query run" in short.output
    for command in (["query", "run"], ["load"], ["run"], ["export"]):
        text = runner.invoke(app, [*command, "--help"], terminal_width=200).output
        flags = [line for line in text.splitlines() if any(f"--{flag} " in line for flag in
                                                            ("all", "fresh", "append", "yes", "sentences"))]
        assert flags and not [line for line in flags if "<bool>" in line], text


def test_setup_without_root_says_what_it_needs():
    """Item 10: bin/setup run by a user without root or sudo names the package and goes on."""
    import subprocess

    script = (config.PROJECT_ROOT / "bin" / "setup").read_text(encoding="utf-8")
    function = script[script.index("system_package() {"):script.index("\n}\n", script.index("system_package() {")) + 3]
    shell = ("id() { echo 1000; }; sudo() { return 1; }; " + function
             + 'system_package fonts-wqy-microhei "Chinese labels in the report\'s charts"; echo went-on')
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "went-on\n")
    assert done.stderr == ("bin/setup: fonts-wqy-microhei is not installed (Chinese labels in the report's charts); "
                           "as root run: apt-get install -y fonts-wqy-microhei\n")


def test_the_extractor_version_covers_every_module_an_extraction_runs(tmp_path):
    """A record is reused only while the code that made it is unchanged: every module of the
    package that extracting a document loads must be among the files the version hashes."""
    probe = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from etl import config\n"
        "from etl.extract import extract_text_document\n"
        "extract_text_document(sorted(config.sample_corpus_dir().glob('*.txt'))[0])\n"
        "print(json.dumps(sorted(str(Path(m.__file__).resolve()) for n, m in list(sys.modules.items())\n"
        "    if n.startswith('etl') and getattr(m, '__file__', None))))\n")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True).stdout)
    hashed = {str(p.resolve()) for p in reuse.extraction_files()}
    assert loaded and set(loaded) <= hashed, sorted(set(loaded) - hashed)
