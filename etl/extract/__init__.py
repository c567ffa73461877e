"""Extract stage: source files in, records.jsonl out.

Takes paths (files or folders); for each file runs read → normalize → segment → the spaCy
pipeline → resolve and assembly, and returns DocumentRecords. ``extract_corpus`` writes
them to <out>/records.jsonl in file-name order, whatever the number of worker processes,
and reports files that could not be read instead of stopping at them.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.errors import GovgraphError
from etl.read import find_sources, read_document
from etl.records import DocumentRecord


@dataclass
class ExtractSummary:
    documents: int = 0
    sentences: int = 0
    entities: Counter = field(default_factory=Counter)
    relations: int = 0
    quantities: int = 0
    failures: list[str] = field(default_factory=list)
    out: Path | None = None


def extract_text_document(path: Path) -> DocumentRecord:
    """Extract one file into its record; raises GovgraphError for a file that cannot be read."""
    from etl.extract.pipeline import build_nlp
    from etl.normalize import normalize
    from etl.segment import segment

    norm = normalize(read_document(path))
    sentences = segment(norm.text)
    doc = build_nlp()(norm.text)
    return _assembler().record(norm, sentences, doc)


def _warm_up() -> None:
    """Build the pipeline, the assembler and the word tables before the first document (and so
    before worker processes fork and share them), then leave them out of the garbage
    collector's full rounds: they live as long as the process, and walking their millions of
    objects again at every full collection cost a few percent of an extraction."""
    from etl import resolve
    from etl.extract.pipeline import build_nlp

    build_nlp()
    _assembler()
    resolve.load_tables()
    gc.freeze()


@functools.cache
def _assembler():
    """One Assembler a process: it reads the lexicon and rule files once."""
    from etl.extract.assemble import Assembler

    return Assembler()


@dataclass
class _Extracted:
    """One document's records.jsonl line and its counts: what a worker sends back.

    Workers serialize their record themselves, so the parent only writes text; sending
    pydantic models between processes made the parent the bottleneck of --workers 2.
    """

    line: str
    sentences: int
    relations: int
    quantities: int
    entities: dict[str, int]


def _work(path: Path) -> tuple[Path, _Extracted | None, str | None]:
    try:
        record = extract_text_document(path)
    except GovgraphError as exc:
        return path, None, str(exc)
    counts = {label: len(names) for label, names in record.entities.items()}
    return path, _Extracted(record.to_json(), len(record.sentences), len(record.relations),
                            len(record.quantities), counts), None


def extract_corpus(
    paths: list[Path],
    out: Path,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractSummary:
    """Extract every file under ``paths`` into ``out``/records.jsonl; return a summary."""
    sources = find_sources(paths)
    summary = ExtractSummary(out=out / "records.jsonl")
    if sources:
        _warm_up()
    results: dict[Path, _Extracted] = {}
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            iterator = pool.imap_unordered(_work, sources, chunksize=4)
            _collect(iterator, len(sources), results, summary, progress)
    else:
        _collect(map(_work, sources), len(sources), results, summary, progress)
    summary.out.parent.mkdir(parents=True, exist_ok=True)
    with summary.out.open("w", encoding="utf-8") as handle:
        for path in sorted(results):
            done = results[path]
            handle.write(done.line + "\n")
            summary.documents += 1
            summary.sentences += done.sentences
            summary.relations += done.relations
            summary.quantities += done.quantities
            for label, count in done.entities.items():
                summary.entities[label] += count
    summary.failures.sort()
    return summary


def _collect(iterator, total, results, summary, progress) -> None:
    for done, (path, extracted, error) in enumerate(iterator, start=1):
        if extracted is not None:
            results[path] = extracted
        else:
            summary.failures.append(error)
        if progress:
            progress(done, total)
