"""Benchmark: a .docx at the reader's limits is read and extracted within 600 MB and 60 s.

Writes .docx files whose main part is as much XML as the limit allows (etl.input.read
MAX_DOCX_XML), in the shape that costs python-docx most per byte: short runs, each with its
own formatting, of the sample reports' text. Each file is read (read_document), and then
extracted (govgraph extract, one worker), in a process of its own, whose peak resident memory
(the largest process, children included) and wall time are printed. The yardstick in the same
run is the same text as a plain .txt file. The bar: every .docx within 600 MB and 60 s.

    .venv/bin/python benchmarks/docx_limits.py --megabytes 8 16 32
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.neo4j_start import machine  # noqa: E402
from etl import config  # noqa: E402
from etl.input import read  # noqa: E402

MEMORY_BAR = 600  # MB
TIME_BAR = 60.0  # s
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
         'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
         'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
         'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
         'wordprocessingml.document.main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
# Runs of a few characters, each with its own formatting: the most XML per character of text.
RUN = '<w:r><w:rPr><w:b/><w:sz w:val="24"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r>'
MEASURE = """
import json, resource, sys, time
from pathlib import Path
began = time.perf_counter()
if sys.argv[1] == "read":
    from etl.input.read import read_document
    chars = len(read_document(Path(sys.argv[2])).text)
else:
    from etl.extract import extract_corpus
    summary = extract_corpus([Path(sys.argv[2])], Path(sys.argv[3]), workers=1)
    assert summary.documents == 1, summary.failures
    chars = summary.documents
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": time.perf_counter() - began, "mb": peak / 1024, "chars": chars}))
"""


def sample_text() -> str:
    return "\n".join(read.read_document(p).text for p in read.find_sources([config.sample_corpus_dir()]))


def write_docx(path: Path, text: str, xml_bytes: int) -> int:
    """A .docx whose document part is about ``xml_bytes`` of XML; returns the characters of text."""
    paragraphs, size, chars, at = [], 0, 0, 0
    while size < xml_bytes - 4096:
        runs = []
        for _ in range(20):
            piece = text[at:at + 3].replace("\n", "。")
            at = (at + 3) % max(1, len(text) - 3)
            runs.append(RUN.format(escape(piece)))
            chars += len(piece)
        paragraph = "<w:p>" + "".join(runs) + "</w:p>"
        paragraphs.append(paragraph)
        size += len(paragraph.encode("utf-8"))
    body = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'
            + "".join(paragraphs) + "</w:body></w:document>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", TYPES)
        package.writestr("_rels/.rels", RELS)
        package.writestr("word/document.xml", body)
    return chars


def measure(step: str, path: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, step, str(path), str(out)], capture_output=True, text=True,
                          cwd=config.PROJECT_ROOT)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, nargs="+", default=[read.MAX_DOCX_XML / read.MB])
    args = parser.parse_args()
    text = sample_text()
    print(f"machine: {machine()}")
    print(f"limit: {read.MAX_DOCX_XML / read.MB:.0f} MB of XML; bar: {MEMORY_BAR} MB, {TIME_BAR:.0f} s")
    print(f"{'file':>14} {'XML MB':>7} {'chars':>9} {'read s':>7} {'read MB':>8} {'extract s':>10} {'extract MB':>11}")
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for megabytes in args.megabytes:
            docx = Path(work) / f"big-{megabytes:g}.docx"
            chars = write_docx(docx, text, int(megabytes * read.MB))
            plain = Path(work) / f"big-{megabytes:g}.txt"
            plain.write_text(read.read_document(docx).text if megabytes * read.MB <= read.MAX_DOCX_XML else "",
                             encoding="utf-8")
            for path in (plain, docx) if plain.stat().st_size else (docx,):
                began = time.perf_counter()
                got = measure("read", path, Path(work) / "out")
                ext = measure("extract", path, Path(work) / f"out-{path.suffix[1:]}") if "error" not in got else got
                wall = time.perf_counter() - began
                if "error" in got or "error" in ext:
                    print(f"{path.name:>14} {megabytes:7.1f} {chars:9,} {(got.get('error') or ext['error'])[:80]}")
                    continue
                print(f"{path.name:>14} {megabytes:7.1f} {got['chars']:9,} {got['seconds']:7.1f} {got['mb']:8.0f} "
                      f"{ext['seconds']:10.1f} {ext['mb']:11.0f}   ({wall:.0f} s in all)", flush=True)
                if path.suffix == ".docx" and (ext["mb"] > MEMORY_BAR or ext["seconds"] > TIME_BAR):
                    failed = True
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
