"""Which exporter writes which format: the one call behind ``govgraph export``.

Takes a format, a projection, where to write, and the graph's source (records.jsonl, or a
function that connects to Neo4j); returns an Exported: the line that says what was written
and the lines about records that were skipped or corrections that changed nothing. The
formats that read records (neo4j-import, qdpx) refuse to run without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.errors import ExportError

FORMATS = ("graphml", "gexf", "json", "neo4j-import", "qdpx")
PROJECTIONS = ("full", "region-mechanism", "actors", "regions")


@dataclass
class Exported:
    """What an export wrote (``summary``, one line), the notes for stderr (``notes``) and how many
    records it skipped as invalid (the command then exits 1, as a load does)."""

    summary: str
    notes: list[str] = field(default_factory=list)
    skipped: int = 0


def choice(value: str, choices: tuple[str, ...], option: str) -> str:
    """Refuse an option value outside its choices, naming them."""
    if value not in choices:
        raise ExportError(f"{option} {value!r} is not one of {', '.join(choices)}")
    return value


def export(out: Path, fmt: str = "graphml", projection: str = "full", *, records: Path | None = None,
           sentences: bool = False, corrections: Path | None = None,
           connect: Callable[[], tuple] | None = None) -> Exported:
    """Write the export ``fmt`` of the graph (read from ``records`` when given, else through
    ``connect``, which returns a driver and a database) to ``out``."""
    from etl.graph.rows import records_path

    choice(fmt, FORMATS, "--format")
    choice(projection, PROJECTIONS, "--projection")
    if fmt == "neo4j-import":
        if records is None or projection != "full":
            raise ExportError("--format neo4j-import writes the full graph from records.jsonl: "
                              "pass --records build/records.jsonl and no --projection")
        from etl.outputs.export.neo4j_import import write_import

        files = write_import(records_path(records), out)
        return Exported(files.command, [f"skipped: {failure}" for failure in files.failures], len(files.failures))
    if fmt == "qdpx":
        if records is None or projection != "full":
            raise ExportError("--format qdpx writes the documents and their coded evidence from records.jsonl: "
                              "pass --records build/records.jsonl and no --projection")
        return _qdpx(records_path(records), out, corrections)
    from etl.outputs.export import graph

    notes: list[str] = []
    skipped = 0
    if records is not None:
        failures: list[str] = []
        g = graph.graph_from_records(records_path(records), sentences=sentences, failures=failures)
        notes += [f"skipped: {failure}" for failure in failures]
        skipped = len(failures)
    else:
        if connect is None:
            raise ExportError("reading the graph from Neo4j needs a connection; or pass --records")
        driver, database = connect()
        with driver:
            g = graph.graph_from_neo4j(driver, database, sentences=sentences)
    written = graph.export(g, out, fmt, projection)
    return Exported(f"wrote {written.path} ({written.format}, {written.projection}): "
                    f"{written.nodes} nodes, {written.edges} edges", notes, skipped)


def _qdpx(records: Path, out: Path, corrections: Path | None) -> Exported:
    """The REFI-QDA project of the records as loaded: with the corrections applied."""
    from etl.graph.rows import iter_records
    from etl.outputs.export.qdpx import write_qdpx
    from etl.research.corrections import corrected_source

    failures: list[str] = []
    source, corrector = corrected_source(records, corrections)
    summary = write_qdpx(iter_records(source, failures) if corrector is None else source, out)
    skipped = corrector.failures if corrector else failures
    notes = [f"skipped: {failure}" for failure in skipped]
    notes += list(corrector.stale()) if corrector else []
    return Exported(f"wrote {summary.path} (REFI-QDA): {summary.sources} sources, {summary.codes} codes, "
                    f"{summary.selections} coded selections, {summary.codings} codings", notes, len(skipped))
