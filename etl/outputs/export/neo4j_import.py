"""Bulk export: records.jsonl as the header-annotated CSV files of ``neo4j-admin database import full``.

Takes records (a records.jsonl path, or DocumentRecords) and an output folder; writes one CSV a
node label and one a relationship type with its end labels, and returns ImportFiles with the
command line that imports them. The rows come from etl.outputs.export.graph.graph_from_records, the
graph that ``govgraph load`` leaves in an empty database (properties set by the last document,
one relationship per document and assertion, replaced documents taken out), so an import of
these files followed by ``govgraph schema apply`` gives that graph; the offline importer is the fast path for a first
load of a very large corpus.
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from etl.errors import ExportError
from etl.files import atomic_write
from etl.graph.model import KEY
from etl.graph.records import DocumentRecord
from etl.outputs.export.graph import graph_from_records

# The unit separator: it never occurs in a sentence id, a doc id or Chinese text.
ARRAY_DELIMITER = "\x1f"


@dataclass
class ImportFiles:
    """What write_import wrote, and how to import it."""

    folder: Path
    nodes: list[tuple[str, Path]] = field(default_factory=list)
    relationships: list[tuple[str, Path]] = field(default_factory=list)
    node_count: int = 0
    relationship_count: int = 0
    failures: list[str] = field(default_factory=list)

    @classmethod
    def from_folder(cls, folder: Path) -> ImportFiles:
        """The files a previous write_import left in ``folder``."""
        nodes = [(p.stem.split("_", 1)[1], p) for p in sorted(folder.glob("nodes_*.csv"))]
        # relationships_<TYPE>_<Head>_<Tail>.csv; a type may hold an underscore (REPORTS_ON).
        rels = [("_".join(p.stem.split("_")[1:-2]), p) for p in sorted(folder.glob("relationships_*.csv"))]
        if not nodes:
            raise ExportError(f"{folder}: no nodes_*.csv files; write them with: "
                              f"govgraph export --format neo4j-import --out {folder}")
        return cls(folder=folder, nodes=nodes, relationships=rels)

    def arguments(self) -> list[str]:
        """The importer's options after ``database import full neo4j``."""
        args = [f"--nodes={label}={path.resolve()}" for label, path in self.nodes]
        args += [f"--relationships={rtype}={path.resolve()}" for rtype, path in self.relationships]
        return args + ["--array-delimiter=U+001F", "--overwrite-destination=true"]

    @property
    def command(self) -> str:
        """The command lines to run with the DBMS stopped: the import, then the schema migrations."""
        args = " ".join(shlex.quote(a) for a in self.arguments())
        return f"neo4j-admin database import full neo4j {args}\ngovgraph schema apply"


def _type_of(column: Iterable[Any]) -> str:
    """The import type of a column, matching what the loader's parameters store."""
    values = list(column)
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return ":boolean"
    if kinds == {int}:
        return ":long"
    if kinds and kinds <= {int, float}:
        return ":double"
    if kinds == {list}:
        items = {type(item) for v in values if v for item in v}
        return ":long[]" if items == {int} else ":string[]"
    return ""


def _field(value: Any) -> str:
    """One CSV field: null as an empty unquoted field, everything else quoted, so '' stays a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ARRAY_DELIMITER.join(str(v) for v in value)
    else:
        text = str(value)
    return '"' + text.replace('"', '""') + '"'


def _write_csv(path: Path, ids: list[str], id_fields: list[str], rows: list[dict[str, Any]]) -> None:
    """A CSV whose first columns are the id columns, then every property with its type.

    Written by hand rather than with the csv module: the importer reads an unquoted empty
    field as null and a quoted one as the empty string, and Python 3.11's csv cannot quote
    every field but nulls.
    """
    props = sorted({k for row in rows for k in row} - set(id_fields))
    header = ids + [f"{p}{_type_of(row.get(p) for row in rows)}" for p in props]
    with atomic_write(path, newline="") as handle:
        handle.write(",".join(header) + "\n")
        for row in rows:
            handle.write(",".join(_field(row.get(c)) for c in id_fields + props) + "\n")


def _node_rows(g: nx.MultiDiGraph) -> dict[str, list[dict[str, Any]]]:
    """Per label, the nodes' properties with the id field (etl.graph.model.KEY: Region.key, Document.path, …)."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for data in g.nodes.values():
        label = data["label"]
        props = {k: v for k, v in data.items() if k not in ("label", "key")}
        props[KEY[label]] = data["key"]
        rows[label].append(props)
    return rows


def _relationship_rows(g: nx.MultiDiGraph) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Per (type, head label, tail label), the relationships' properties with their two end ids."""
    rows: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for u, v, data in g.edges(data=True):
        head, tail = g.nodes[u], g.nodes[v]
        props = {k: value for k, value in data.items() if k != "type"}
        rows[(data["type"], head["label"], tail["label"])].append(dict(props, _start=head["key"], _end=tail["key"]))
    return rows


def write_import(source: Path | Iterable[DocumentRecord], out: Path) -> ImportFiles:
    """Write the node and relationship CSV files of a full import into ``out``."""
    failures: list[str] = []
    g = graph_from_records(source, sentences=True, failures=failures)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}") from None
    files = ImportFiles(folder=out, failures=failures)
    for label, rows in _node_rows(g).items():
        id_field = KEY[label]
        path = out / f"nodes_{label}.csv"
        _write_csv(path, [f"{id_field}:ID({label})"], [id_field], rows)
        files.nodes.append((label, path))
        files.node_count += len(rows)
    for (rtype, head, tail), rows in _relationship_rows(g).items():
        path = out / f"relationships_{rtype}_{head}_{tail}.csv"
        _write_csv(path, [f":START_ID({head})", f":END_ID({tail})"], ["_start", "_end"], rows)
        files.relationships.append((rtype, path))
        files.relationship_count += len(rows)
    return files
