"""The main job as one library call: a corpus in, a graph that holds it and a report out.

Takes corpus paths (or a records.jsonl, for ``load``) and a connection; returns RunResult.
``run_corpus`` chains the stages (extract → load → report) after checking two things
before any of them starts: that the corpus exists and holds files, and that the graph does
not hold documents of another corpus. A graph is one corpus's unless the caller says
otherwise: ``fresh`` empties it first (in batches; the caller confirms), ``append`` adds to
it. Re-running on the same corpus, with documents added or changed, needs neither.

A document's identity is the path relative to the corpus root that extraction records
(``Document.path``); a Document loaded before paths existed is compared by file name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j
from etl import config
from etl.errors import ConfigError, LoadError, ReadError
from etl.graph import db

MODES = ("check", "fresh", "append")
# Documents of another corpus named in the refusal, so a reader recognizes them.
EXAMPLES = 3

# Documents of the graph, and those not in the corpus (by path; by file name for a Document
# loaded before paths existed), with the first few of them by path.
_FOREIGN = (
    "MATCH (d:Document) WITH d, coalesce(d.path, d.name) AS id ORDER BY id "
    "WITH id, CASE WHEN d.path IS NULL THEN d.name IN $names ELSE d.path IN $paths END AS ours "
    "RETURN count(*) AS documents, count(CASE WHEN NOT ours THEN 1 END) AS foreign, "
    "collect(CASE WHEN NOT ours THEN id END)[..$examples] AS examples"
)


@dataclass(frozen=True)
class Corpus:
    """The documents of a corpus as the graph identifies them: relative paths, and file names."""

    label: str
    paths: frozenset[str]
    names: frozenset[str]


@dataclass(frozen=True)
class GraphCheck:
    """How many documents the graph holds, and how many of them are not in the corpus."""

    documents: int
    foreign: int
    examples: tuple[str, ...] = ()


@dataclass
class RunResult:
    """What a run did, stage by stage (None for a stage that did not run)."""

    server: Any = None
    check: GraphCheck | None = None
    emptied: int = 0
    extract: Any = None
    load: Any = None
    report: Any = None
    failures: list[str] = field(default_factory=list)


def _label(paths: list[Path]) -> str:
    from etl.input.read import escape_name

    return ", ".join(escape_name(str(p)) for p in paths)


def corpus_of_paths(paths: list[Path]) -> Corpus:
    """The corpus under the paths; a missing path or a corpus without files is an error, raised
    before anything starts."""
    from etl.input.read import escape_name, scan

    missing = [escape_name(str(p)) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"no such file or folder: {', '.join(missing)}")
    sources = scan(paths).sources
    if not sources:
        raise ReadError(f"no readable documents in {_label(paths)}; govgraph reads .txt, .html, .docx and .pdf files")
    return Corpus(_label(paths), frozenset(s.rel for s in sources), frozenset(s.name for s in sources))


def corpus_of_records(source: Path) -> Corpus:
    """The corpus a records.jsonl describes (its documents' paths and names, read without validation)."""
    from etl.graph.rows import records_path

    path = records_path(source)
    paths: set[str] = set()
    names: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # the loader reports a bad line with its path:line
            if isinstance(item, dict) and isinstance(item.get("doc"), str):
                names.add(item["doc"])
                paths.add(item["path"] if isinstance(item.get("path"), str) else item["doc"])
    if not paths:
        raise ReadError(f"{path}: no document records to load; run govgraph extract first")
    return Corpus(str(path), frozenset(paths), frozenset(names))


def check_graph(driver: neo4j.Driver, corpus: Corpus, database: str = config.DEFAULT_DATABASE) -> GraphCheck:
    """Count the graph's documents and those of them that are not in the corpus."""
    row = db.read(driver, _FOREIGN, {"paths": sorted(corpus.paths), "names": sorted(corpus.names),
                                     "examples": EXAMPLES}, database)[0]
    return GraphCheck(row["documents"], row["foreign"], tuple(row["examples"]))


def decide(check: GraphCheck, corpus: Corpus, mode: str, confirm: Callable[[GraphCheck], bool]) -> bool:
    """Whether to empty the graph before loading; refuse to mix corpora unless told to.

    ``confirm`` is asked only for ``fresh`` on a graph that holds documents; it returns
    False (or raises) to stop with the graph untouched. The library's default says yes (a
    caller asking for ``fresh`` means it); the CLI asks on a terminal or wants --yes.
    """
    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if mode == "check" and check.foreign:
        shown = ", ".join(check.examples) + (", …" if check.foreign > len(check.examples) else "")
        raise LoadError(
            f"the graph holds {check.foreign} of its {check.documents} documents that are not in {corpus.label} "
            f"({shown}); run again with --fresh to empty the graph first (--yes to skip the question) "
            f"or --append to add this corpus to them"
        )
    if mode != "fresh" or not check.documents:
        return False
    if not confirm(check):
        raise LoadError(f"the graph was left as it was ({check.documents} documents): --fresh not confirmed")
    return True


def prepare_graph(
    driver: neo4j.Driver,
    corpus: Corpus,
    database: str = config.DEFAULT_DATABASE,
    mode: str = "check",
    confirm: Callable[[GraphCheck], bool] = lambda check: True,
) -> tuple[GraphCheck, int]:
    """Before a load: check the graph against the corpus, refuse to mix unless ``mode`` allows,
    and empty the graph for ``fresh``; return the check and the documents removed."""
    check = check_graph(driver, corpus, database)
    emptied = db.empty_graph(driver, database) if decide(check, corpus, mode, confirm) else 0
    return check, emptied


def run_corpus(
    paths: list[Path],
    out: Path,
    *,
    workers: int = 1,
    mode: str = "check",
    confirm: Callable[[GraphCheck], bool] = lambda check: True,
    uri: str | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    say: Callable[[str], None] = lambda line: None,
    warn: Callable[[str], None] = lambda line: None,
    corrections: Path | None = None,
    bolt_port: int | None = None,
    http_port: int | None = None,
) -> RunResult:
    """Extract the corpus into OUT/records.jsonl, load it into a graph that holds only it (unless
    ``mode`` says otherwise), and write the report into OUT/report.

    Starts the embedded Neo4j when no URI names another server (on ``bolt_port`` and ``http_port``
    when given, else on the defaults or, when another program holds them, on free ports). ``say`` receives one line per
    step for a person watching, ``warn`` one line per document that failed or was skipped
    (also kept in ``result.failures``), as soon as it is known.
    """
    from etl.extract import extract_corpus
    from etl.graph.load import load_records
    from etl.outputs.report import build_report
    from etl.research.corrections import corrected_source

    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    corpus = corpus_of_paths(paths)
    result = RunResult(server=db.ensure_embedded(uri, bolt_port, http_port))
    if result.server:
        say(f"Neo4j: {result.server.bolt_uri} (Browser {result.server.browser_url}), data in {result.server.home}")
    conn = config.connection(uri, user, password, database,
                             result.server.bolt_port if result.server else bolt_port)
    with db.connect(conn) as driver:
        result.check = check_graph(driver, corpus, conn.database)
        say(f"the graph holds {result.check.documents} documents, {result.check.foreign} of them not in "
            f"{corpus.label}")
        empty = decide(result.check, corpus, mode, confirm)
        result.extract = extract_corpus(paths, out, workers)
        result.failures += result.extract.failures
        for line in result.extract.warnings:
            warn(f"warning: {line}")
        for line in result.extract.failures:
            warn(f"failed: {line}")
        say(f"extracted {result.extract.documents} documents into {result.extract.out}")
        if not result.extract.documents:
            raise ReadError(f"no document of {corpus.label} could be extracted ({len(result.failures)} failed); "
                            "the graph was left as it was")
        # Corrections (the file given, or corrections.yaml beside the corpus), checked before the graph
        # is touched and applied to the records on their way to the loader (etl.research.corrections).
        records, corrector = corrected_source(result.extract.out, corrections, paths)
        if empty:
            result.emptied = db.empty_graph(driver, conn.database)
            say(f"emptied the graph ({result.emptied} documents removed)")
        result.load = load_records(driver, records, conn.database)
        if corrector:
            result.load.failures[:0] = corrector.failures
            for line in corrector.stale():
                warn(line)
        result.failures += result.load.failures
        for line in result.load.failures:
            warn(f"failed: {line}")
        say(f"loaded {result.load.documents} documents: nodes +{result.load.nodes_created}, "
            f"relationships +{result.load.relationships_created} in {result.load.seconds:.1f} s")
        result.report = build_report(driver, out / "report", conn.database)
    return result
