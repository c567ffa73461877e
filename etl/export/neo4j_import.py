"""Bulk export: records.jsonl as the header-annotated CSV files of ``neo4j-admin database import full``.

Takes records (a records.jsonl path, or DocumentRecords) and an output folder; writes one CSV a
node label and one a relationship type with its end labels, and returns ImportFiles with the
command line that imports them. The rows are the loader's own (etl.load's row functions),
merged as the loader's MERGE statements merge them: node properties set by the last document
that lists the node, a relationship's evidence and documents accumulated in load order. An
import of these files followed by ``govgraph schema apply`` therefore gives the graph that
``govgraph load`` gives; the offline importer is the fast path for a first load of a very
large corpus.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl import load
from etl.errors import ExportError
from etl.records import DocumentRecord

# The unit separator: it never occurs in a sentence id, a doc id or Chinese text.
ARRAY_DELIMITER = "\x1f"
ID_PROPERTY = {"Document": "doc_id", "Sentence": "id", "Region": "key"}


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


def _type_of(values: Iterable[Any]) -> str:
    """The import type of a column, matching what the loader's parameters store."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return ":boolean"
    if kinds == {int}:
        return ":long"
    if kinds and kinds <= {int, float}:
        return ":double"
    if kinds == {list}:
        return ":string[]"
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
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(header) + "\n")
        for row in rows:
            handle.write(",".join(_field(row.get(c)) for c in id_fields + props) + "\n")


def _merge_nodes(records: list[DocumentRecord]) -> dict[str, dict[str, dict[str, Any]]]:
    """Label → key → properties, the last document's values winning as in ``SET n += props``."""
    nodes: dict[str, dict[str, dict[str, Any]]] = {"Document": {}, "Sentence": {}}
    for row in load.document_rows(records):
        nodes["Document"][row["doc_id"]] = {k: v for k, v in row.items() if v is not None}
    for row in load.sentence_rows(records):
        nodes["Sentence"][row["id"]] = row
    for label, rows in load.entity_rows(records).items():
        merged = nodes.setdefault(label, {})
        for row in rows:
            props = merged.setdefault(row["key"], {"name": row["name"]})
            props.update(row["props"])
    return nodes


def _merge_relationships(records: list[DocumentRecord]) -> dict[tuple[str, str, str], dict[tuple, dict]]:
    """(type, head label, tail label) → (head, tail, key) → properties, merged as the loader merges."""
    merged: dict[tuple[str, str, str], dict[tuple, dict]] = {}
    for label, rows in load.mention_rows(records).items():
        group = merged.setdefault(("MENTIONS", "Sentence", label), {})
        for row in rows:
            group[(row["sentence"], row["key"], row["start"])] = {"start": row["start"], "end": row["end"]}
    group = merged.setdefault(("REPORTS_ON", "Document", "Region"), {})
    for row in load.reports_on_rows(records):
        group[(row["doc_id"], row["key"], None)] = {}
    for ends, rows in load.relation_rows(records).items():
        group = merged.setdefault(ends, {})
        for row in rows:
            props = group.setdefault((row["head"], row["tail"], row["rkey"]),
                                     {"key": row["rkey"], "evidence": [], "docs": []})
            props.update(row["props"])
            props["evidence"] += [e for e in row["evidence"] if e not in props["evidence"]]
            if row["doc_id"] not in props["docs"]:
                props["docs"].append(row["doc_id"])
    return merged


def _latest_versions(records: list[DocumentRecord]) -> list[DocumentRecord]:
    """One version a file name, the last, as loading them in order leaves it."""
    latest = {r.doc: r for r in records}
    return [r for r in records if latest[r.doc] is r]


def write_import(source: Path | Iterable[DocumentRecord], out: Path) -> ImportFiles:
    """Write the node and relationship CSV files of a full import into ``out``."""
    failures: list[str] = []
    records = list(load.iter_records(source, failures)) if isinstance(source, Path) else list(source)
    records = _latest_versions(records)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}") from None
    files = ImportFiles(folder=out, failures=failures)
    for label, nodes in _merge_nodes(records).items():
        if nodes:
            id_field = ID_PROPERTY.get(label, "name")
            path = out / f"nodes_{label}.csv"
            _write_csv(path, [f"{id_field}:ID({label})"], [id_field],
                       [dict(props, **{id_field: key}) for key, props in nodes.items()])
            files.nodes.append((label, path))
            files.node_count += len(nodes)
    for (rtype, head, tail), rels in _merge_relationships(records).items():
        if rels:
            path = out / f"relationships_{rtype}_{head}_{tail}.csv"
            _write_csv(path, [f":START_ID({head})", f":END_ID({tail})"], ["_start", "_end"],
                       [dict(props, _start=h, _end=t) for (h, t, _), props in rels.items()])
            files.relationships.append((rtype, path))
            files.relationship_count += len(rels)
    return files
