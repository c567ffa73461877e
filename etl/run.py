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
from dataclasses import dataclass, field, replace
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


# Documents of the graph at a path of the corpus whose content is another.
_REPLACED = ("MATCH (d:Document) WHERE d.path IN $paths AND d.doc_id <> $ids[d.path] "
             "RETURN d.path AS path, d.title AS title ORDER BY path")


@dataclass(frozen=True)
class Corpus:
    """The documents of a corpus as the graph identifies them: relative paths, and file names;
    ``found`` is the scan of its folders (etl.input.read.Scan) when it was read from them."""

    label: str
    paths: frozenset[str]
    names: frozenset[str]
    # Each path's content hash (the records' doc_id), to tell which graph documents a load replaces.
    ids: dict[str, str] = field(default_factory=dict, compare=False)
    found: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class GraphCheck:
    """How many documents the graph holds, and how many of them are not in the corpus."""

    documents: int
    foreign: int
    examples: tuple[str, ...] = ()
    # Documents of the graph at a path of the corpus with other content: (path, title) of each.
    replaced: tuple[tuple[str, str], ...] = ()
    # What a confirmation is asked for: "fresh" (emptying the graph) or "append" (replacing documents).
    question: str = "fresh"


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
    # <out>/failed.tsv when anything failed.
    failed_file: Path | None = None
    # Paths of the loaded documents that have no reporting region (after corrections).
    regionless: list[str] = field(default_factory=list)


# Documents without a region named in the run's summary; the rest are counted.
REGIONLESS_SHOWN = 20


def _noting_regionless(records, names: list[str]):
    """The records, passed on; the paths of those without a reporting region noted in ``names``."""
    for record in records:
        if record.region is None:
            names.append(record.path or record.doc)
        yield record


def regionless_documents(records: Path) -> list[str]:
    """Paths of the records of a records.jsonl that have no reporting region (read without validation)."""
    names = []
    with records.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and item.get("region") is None:
                names.append(str(item.get("path") or item.get("doc")))
    return names


def _load_row(line: str) -> tuple[str, str, str]:
    """(where, "load", reason) of a load failure line ``<records>:<line>: <reason>``."""
    where, _, reason = line.partition(": ")
    return where, "load", reason


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
    found = scan(paths)
    sources = found.sources
    if not sources:
        raise ReadError(f"no readable documents in {_label(paths)}; govgraph reads .txt, .html, .docx and .pdf files")
    from etl.extract.reuse import content_id

    return Corpus(_label(paths), frozenset(s.rel for s in sources), frozenset(s.name for s in sources),
                  {s.rel: content_id(s.path) or "" for s in sources}, found)


def corpus_of_records(source: Path) -> Corpus:
    """The corpus a records.jsonl describes (its documents' paths and names, read without validation)."""
    from etl.graph.rows import records_path

    path = records_path(source)
    paths: set[str] = set()
    names: set[str] = set()
    ids: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # the loader reports a bad line with its path:line
            if isinstance(item, dict) and isinstance(item.get("doc"), str):
                names.add(item["doc"])
                key = item["path"] if isinstance(item.get("path"), str) else item["doc"]
                paths.add(key)
                ids[key] = str(item.get("doc_id"))
    if not paths:
        raise ReadError(f"{path}: no document records to load; run govgraph extract first")
    return Corpus(str(path), frozenset(paths), frozenset(names), ids)


def check_graph(driver: neo4j.Driver, corpus: Corpus, database: str = config.DEFAULT_DATABASE) -> GraphCheck:
    """Count the graph's documents and those of them that are not in the corpus."""
    row = db.read(driver, _FOREIGN, {"paths": sorted(corpus.paths), "names": sorted(corpus.names),
                                     "examples": EXAMPLES}, database)[0]
    replaced = db.read(driver, _REPLACED, {"paths": sorted(corpus.ids), "ids": corpus.ids}, database)
    return GraphCheck(row["documents"], row["foreign"], tuple(row["examples"]),
                      tuple((r["path"], r["title"] or "") for r in replaced))


def decide(check: GraphCheck, corpus: Corpus, mode: str, confirm: Callable[[GraphCheck], bool]) -> bool:
    """Whether to empty the graph before loading; refuse to mix corpora unless told to.

    ``confirm`` is asked for ``fresh`` on a graph that holds documents, and for ``append`` when
    documents of the graph (of another corpus) have paths of this one with other content, which the
    load would replace (``check.question`` says which); it returns
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
    if mode == "append" and check.foreign and check.replaced:
        # Paths identify a document within its corpus: the same path in another corpus is another report.
        if not confirm(replace(check, question="append")):
            raise LoadError(f"the graph was left as it was ({check.documents} documents): --append would replace "
                            f"{_names(check.replaced)}, not confirmed")
        return False
    if mode != "fresh" or not check.documents:
        return False
    if not confirm(check):
        raise LoadError(f"the graph was left as it was ({check.documents} documents): --fresh not confirmed")
    return True


def _names(replaced: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{path} ({title})" if title else path for path, title in replaced)


def replacement_lines(check: GraphCheck) -> list[str]:
    """One line a document an --append replaces, for a person to read before confirming."""
    return [f"--append replaces {path}" + (f" ({title})" if title else "") + " of the graph with another file "
            "of the same path" for path, title in check.replaced]


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


# The corrections file the graph's documents of a corpus were last loaded with, if any.
_NAMED = ("MATCH (d:Document) WHERE d.path IN $paths AND d.corrections IS NOT NULL "
          "RETURN d.corrections AS file, count(*) AS n ORDER BY n DESC, file LIMIT 1")


def choose_corrections(driver: neo4j.Driver, corpus: Corpus, explicit: Path | None, beside: list[Path],
                       database: str = config.DEFAULT_DATABASE, mode: str = "check") -> tuple[Path | None, list[str]]:
    """The corrections file a load of ``corpus`` applies, and warnings about corrections it undoes.

    The file given, else corrections.yaml beside the corpus folders or the records (``beside``),
    else the file the graph names for the corpus's documents (the last one a load applied to
    them), whichever folder the records were written to. A load without that file, or with
    another, undoes what it corrected: said in a warning naming it and the fix (not for a
    ``fresh`` load, which empties the graph).
    """
    from etl.research.corrections import find_corrections

    chosen = find_corrections(explicit, beside)
    if mode == "fresh":
        return chosen, []
    rows = db.read(driver, _NAMED, {"paths": sorted(corpus.paths)}, database)
    named = Path(rows[0]["file"]) if rows else None
    if chosen is None and named is not None and named.is_file():
        return named, []
    if named is None or (chosen is not None and chosen.absolute() == named):
        return chosen, []
    how = f"applies {chosen} instead" if chosen else "finds no corrections file"
    gone = "" if named.is_file() else " (it is gone)"
    return chosen, [f"warning: {rows[0]['n']} documents of {corpus.label} were loaded with the corrections of "
                    f"{named}{gone}; this load {how}, so what that file corrected in them is undone "
                    f"(pass --corrections {named} to keep it)"]


def name_corrections(driver: neo4j.Driver, corpus: Corpus, path: Path | None,
                     database: str = config.DEFAULT_DATABASE) -> None:
    """Record on the corpus's documents the corrections file this load applied (or none), so a
    later load of the same corpus from another folder finds it."""
    db.write(driver, "MATCH (d:Document) WHERE d.path IN $paths SET d.corrections = $file",
             {"paths": sorted(corpus.paths), "file": str(path.absolute()) if path else None}, database)


@dataclass
class LoadResult:
    """What ``load_corpus`` did: the graph check, documents emptied, the load's statistics, and
    lines for the user about corrections (stale ones, undone ones)."""

    check: GraphCheck
    emptied: int
    stats: Any
    corrections: Path | None
    notes: list[str] = field(default_factory=list)


def load_corpus(
    driver: neo4j.Driver,
    source: Path,
    database: str = config.DEFAULT_DATABASE,
    *,
    mode: str = "check",
    confirm: Callable[[GraphCheck], bool] = lambda check: True,
    corrections: Path | None = None,
    batch_size: int = config.DEFAULT_LOAD_BATCH,
    progress: Callable[[int], None] | None = None,
    say: Callable[[str], None] = lambda line: None,
    bulk: bool = False,
) -> LoadResult:
    """Load a records.jsonl (or its folder) as ``govgraph load`` does: check the graph against
    its corpus, apply the corpus's corrections (found as ``choose_corrections`` says), load.
    ``say`` gets the check's line before the load starts. ``bulk``: through neo4j-admin import
    into the embedded server's emptied database (``bulk_import``), not the batched loader."""
    from etl.extract.reuse import corpus_folders
    from etl.graph.load import load_records
    from etl.graph.rows import records_path
    from etl.research.corrections import corrected_source

    corpus = corpus_of_records(source)
    path = records_path(source)
    chosen, notes = choose_corrections(driver, corpus, corrections, [*corpus_folders(path), path], database, mode)
    records, corrector = corrected_source(path, chosen)
    check, emptied = prepare_graph(driver, corpus, database, mode, confirm)
    say(f"the graph held {check.documents} documents, {check.foreign} of them not in {corpus.label}"
        + (f"; emptied first ({emptied} removed)" if emptied else ""))
    if bulk:
        stats = bulk_import(driver, records, path.parent / "import", database,
                            then=lambda fresh: name_corrections(fresh, corpus, chosen, database))
    else:
        stats = load_records(driver, records, database, batch_size, progress)
        name_corrections(driver, corpus, chosen, database)
    if corrector:  # records the corrector read and could not parse are failures of this load too
        stats.failures[:0] = corrector.failures
        notes += corrector.stale()
    return LoadResult(check, emptied, stats, chosen, notes)


def bulk_import(driver: neo4j.Driver, records, folder: Path, database: str = config.DEFAULT_DATABASE,
                then: Callable[[neo4j.Driver], None] = lambda driver: None):
    """A first load through Neo4j's offline importer, for a large corpus: the import files
    written into ``folder`` (etl.outputs.export.neo4j_import), the embedded server stopped,
    ``neo4j-admin database import full`` run over its database, the server started again on its
    ports and the migrations applied. The graph is the one the batched loader gives (a test
    compares canonical dumps); later loads use the batched loader. The database must hold no
    data, since the importer replaces it whole. ``then`` runs on a new driver after the start: a
    driver of before holds bookmarks of the replaced database, which the new one never reaches.
    Returns LoadStats with the graph's counts."""
    import time

    from etl.graph import migrations
    from etl.graph.load import LoadStats
    from etl.neo4j import server
    from etl.outputs.export.neo4j_import import write_import

    home = config.home_dir()
    info = server.status(home)
    if info is None or database != config.DEFAULT_DATABASE:
        raise ConfigError(f"--bulk imports into the database {config.DEFAULT_DATABASE!r} of the embedded Neo4j, "
                          "running here (govgraph neo4j start); for another server: "
                          "govgraph export --format neo4j-import")
    held = db.read(driver, "MATCH (n) WHERE NOT n:Migration RETURN count(n) AS n", database=database)[0]["n"]
    if held:
        raise ConfigError(f"--bulk replaces the whole database and the graph holds {held:,} nodes: "
                          "load without --bulk, or add --fresh to empty it first")
    began = time.perf_counter()
    files = write_import(records, folder)
    server.stop(home)
    server.import_full(files.arguments(), home)
    info = server.start(home, info.bolt_port, info.http_port)
    with db.connect(db.connection(bolt_port=info.bolt_port, database=database)) as fresh:
        migrations.apply(fresh, database)
        then(fresh)
        counts = db.read(fresh, "MATCH (n) WHERE NOT n:Migration WITH count(n) AS nodes "
                                "MATCH (d:Document) WITH nodes, count(d) AS documents "
                                "OPTIONAL MATCH ()-[r]->() RETURN nodes, documents, count(r) AS relationships",
                         database=database)[0]
    return LoadStats(documents=counts["documents"], nodes_created=counts["nodes"],
                     relationships_created=counts["relationships"], failures=files.failures,
                     seconds=time.perf_counter() - began)


def run_corpus(
    paths: list[Path],
    out: Path,
    *,
    workers: int = 1,
    engine: Callable | None = None,
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
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Extract the corpus into OUT/records.jsonl, load it into a graph that holds only it (unless
    ``mode`` says otherwise), and write the report into OUT/report.

    ``progress`` is told how far the long stages are, as (stage, documents done, documents in
    all), stage being "extracting" or "loading".

    ``engine`` extracts the documents (etl.extract.engines; the local one by default).
    Starts the embedded Neo4j when no URI names another server (on ``bolt_port`` and ``http_port``
    when given, else on the defaults or, when another program holds them, on free ports). ``say`` receives one line per
    step for a person watching, ``warn`` one line per document that failed or was skipped
    (also kept in ``result.failures``), as soon as it is known.
    """
    from etl.extract import extract_corpus, write_failed
    from etl.graph.load import load_records
    from etl.outputs.report import build_report
    from etl.research.corrections import corrected_source

    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    corpus = corpus_of_paths(paths)
    result = RunResult(server=db.ensure_embedded(uri, bolt_port, http_port))
    if result.server:
        say(f"Neo4j: {result.server.bolt_uri} (Browser {result.server.browser_url}), data in {result.server.home}")
    conn = db.connection(uri, user, password, database,
                             result.server.bolt_port if result.server else bolt_port)
    with db.connect(conn) as driver:
        result.check = check_graph(driver, corpus, conn.database)
        say(f"the graph holds {result.check.documents} documents, {result.check.foreign} of them not in "
            f"{corpus.label}")
        empty = decide(result.check, corpus, mode, confirm)
        result.extract = extract_corpus(paths, out, workers, found=corpus.found, engine=engine,
                                        progress=progress and (lambda done, total: progress("extracting", done, total)))
        result.failures += result.extract.failures
        for line in result.extract.warnings:
            warn(f"warning: {line}")
        for line in result.extract.failures:
            warn(f"failed: {line}")
        extracted = result.extract.documents - result.extract.reused
        say(f"extracted {extracted} documents into {result.extract.out}, reused {result.extract.reused} "
            "unchanged since the last extraction there")
        if not result.extract.documents:
            raise ReadError(f"no document of {corpus.label} could be extracted ({len(result.failures)} failed); "
                            "the graph was left as it was")
        # Corrections (as choose_corrections finds them), checked before the graph is touched and
        # applied to the records on their way to the loader (etl.research.corrections).
        chosen, notes = choose_corrections(driver, corpus, corrections, [*paths, result.extract.out],
                                           conn.database, mode)
        for line in notes:
            warn(line)
        records, corrector = corrected_source(result.extract.out, chosen)
        if corrector:
            records = _noting_regionless(records, result.regionless)
        else:
            result.regionless = regionless_documents(result.extract.out)
        if empty:
            result.emptied = db.empty_graph(driver, conn.database)
            say(f"emptied the graph ({result.emptied} documents removed)")
        documents = result.extract.documents
        result.load = load_records(driver, records, conn.database,
                                   progress=progress and (lambda done: progress("loading", done, documents)))
        name_corrections(driver, corpus, chosen, conn.database)
        if corrector:
            result.load.failures[:0] = corrector.failures
            for line in corrector.stale():
                warn(line)
        result.failures += result.load.failures
        for line in result.load.failures:
            warn(f"failed: {line}")
        say(f"loaded {result.load.documents} documents: nodes +{result.load.nodes_created}, "
            f"relationships +{result.load.relationships_created} in {result.load.seconds:.1f} s")
        if result.regionless:
            shown = ", ".join(result.regionless[:REGIONLESS_SHOWN])
            more = f" and {len(result.regionless) - REGIONLESS_SHOWN} more" if len(result.regionless) > \
                REGIONLESS_SHOWN else ""
            say(f"{len(result.regionless)} documents report on no region, so the compare pack leaves out what they "
                f"adopt (a region correction sets one: - region: {{doc: PATH, name: REGION}}): {shown}{more}")
        result.failed_file = write_failed(out, [*result.extract.failed, *map(_load_row, result.load.failures)])
        if result.failed_file:
            say(f"{len(result.failures)} failed (path, stage, reason): {result.failed_file}")
        result.report = build_report(driver, out / "report", conn.database)
    return result
