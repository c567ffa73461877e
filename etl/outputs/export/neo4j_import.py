"""Bulk export: records.jsonl as the header-annotated CSV files of ``neo4j-admin database import full``.

Takes records (a records.jsonl path, or DocumentRecords) and an output folder; writes one CSV a
node label and one a relationship type with its end labels, and returns ImportFiles with the
command line that imports them. The files hold the graph that ``govgraph load`` leaves in an
empty database (the rows of etl.graph.rows, properties of shared nodes derived from the
documents' counted claims, one relationship per document and assertion, replaced documents
taken out), so an import of these files followed by ``govgraph schema apply`` gives that graph;
the offline importer is the fast path for a first load of a very large corpus.

The records are read as a stream and each document's rows are written as it is read: what a
document owns (its Document node, sentences, anonymized regions and relationships) is never
kept. Only the shared entity nodes (a region, a mechanism …: their key, name and counted
claims) and each path's record hash stay in memory until the end, when the shared nodes are
written. A path met again with another record is a replaced document: the loader then takes
the old version out, with the shared nodes only it reached, so the files are written again in
a second reading that follows those removals (``_Writer``); a corpus without replaced
documents is read once.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from etl.errors import ExportError
from etl.files import atomic_write
from etl.graph import model as graph
from etl.graph.model import KEY, L, R, document_path
from etl.graph.records import DocumentRecord
from etl.graph.rows import (
    Item,
    claims_of,
    cypher_order,
    derive,
    document_rows,
    entity_rows,
    iter_items,
    mention_rows,
    relation_properties,
    relation_rows,
    reports_on_rows,
    sentence_rows,
)

# The unit separator: it never occurs in a sentence id, a doc id or Chinese text.
ARRAY_DELIMITER = "\x1f"
# Where records given in memory are kept while they are read (a second reading needs them again).
SPOOL = ".records.spool.jsonl"


@dataclass
class ImportFiles:
    """What write_import wrote, and how to import it."""

    folder: Path
    nodes: list[tuple[str, Path]] = field(default_factory=list)
    relationships: list[tuple[str, Path]] = field(default_factory=list)
    node_count: int = 0
    relationship_count: int = 0
    failures: list[str] = field(default_factory=list)
    # The files with a line break in a field, which the importer must be told of (it reads the
    # others a line a row, much faster).
    multiline: list[Path] = field(default_factory=list)

    @classmethod
    def from_folder(cls, folder: Path) -> ImportFiles:
        """The files a previous write_import left in ``folder``."""
        nodes = [(p.stem.split("_", 1)[1], p) for p in sorted(folder.glob("nodes_*.csv"))]
        # relationships_<TYPE>_<Head>_<Tail>.csv; a type may hold an underscore (REPORTS_ON).
        rels = [("_".join(p.stem.split("_")[1:-2]), p) for p in sorted(folder.glob("relationships_*.csv"))]
        if not nodes:
            raise ExportError(f"{folder}: no nodes_*.csv files; write them with: "
                              f"govgraph export --format neo4j-import --out {folder}")
        multiline = [path for _, path in nodes + rels if _breaks_lines(path)]
        return cls(folder=folder, nodes=nodes, relationships=rels, multiline=multiline)

    def arguments(self) -> list[str]:
        """The importer's options after ``database import full neo4j``."""
        args = [f"--nodes={label}={path.resolve()}" for label, path in self.nodes]
        args += [f"--relationships={rtype}={path.resolve()}" for rtype, path in self.relationships]
        if self.multiline:
            args += ["--multiline-fields-format=v2",
                     "--multiline-fields=" + ",".join(str(path.resolve()) for path in self.multiline)]
        return args + ["--array-delimiter=U+001F", "--overwrite-destination=true"]

    @property
    def command(self) -> str:
        """The command lines to run with the DBMS stopped: the import, then the schema migrations."""
        args = " ".join(shlex.quote(a) for a in self.arguments())
        return f"neo4j-admin database import full neo4j {args}\ngovgraph schema apply"


# --- the CSV files --------------------------------------------------------------------------


def _breaks_lines(path: Path) -> bool:
    """Whether a CSV file of ours has a field with a line break: a line with an odd number of
    quotes (every field is quoted, a quote inside doubled) or a carriage return."""
    with path.open("rb") as handle:
        return any(line.count(b'"') % 2 or b"\r" in line for line in handle)


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


def _import_type(kinds: set[type], items: set[type]) -> str:
    """The import type of a column whose values had types ``kinds`` (lists' items ``items``),
    matching what the loader's parameters store."""
    if kinds == {bool}:
        return ":boolean"
    if kinds == {int}:
        return ":long"
    if kinds and kinds <= {int, float}:
        return ":double"
    if kinds == {list}:
        return ":long[]" if items == {int} else ":string[]"
    return ""


class _Table:
    """One CSV file being written: its id columns, then property columns fixed when it is opened.

    The rows go to a hidden file beside it as they come; the header, each column typed from
    every value written in it, is put in front when the table is closed. Written by hand
    rather than with the csv module: the importer reads an unquoted empty field as null and a
    quoted one as the empty string, and Python 3.11's csv cannot quote every field but nulls.
    """

    def __init__(self, path: Path, ids: list[str], columns: Iterable[str]):
        self.path, self.ids, self.columns = path, ids, list(columns)
        self.kinds: list[set[type]] = [set() for _ in self.columns]
        self.items: list[set[type]] = [set() for _ in self.columns]
        self.rows = 0
        self.multiline = False
        self.body = path.with_name(f".{path.name}.rows")
        self.handle: IO[str] = _open(self.body)

    def write(self, ids: list[Any], props: dict[str, Any]) -> None:
        """One row: the id values, then the row's value of each column (null where it has none)."""
        values = [props.get(column) for column in self.columns]
        for value, kinds, items in zip(values, self.kinds, self.items, strict=True):
            if value is not None:
                kinds.add(type(value))
                if type(value) is list:
                    items.update(map(type, value))
        text = ",".join(map(_field, ids + values))
        if "\n" in text or "\r" in text:
            self.multiline = True
        self.handle.write(text + "\n")
        self.rows += 1

    def close(self) -> None:
        """Write the file: the typed header, then the rows."""
        self.handle.close()
        header = self.ids + [f"{column}{_import_type(kinds, items)}"
                             for column, kinds, items in zip(self.columns, self.kinds, self.items, strict=True)]
        with atomic_write(self.path, newline="") as out, self.body.open(encoding="utf-8", newline="") as rows:
            out.write(",".join(header) + "\n")
            shutil.copyfileobj(rows, out, 1 << 20)
        self.body.unlink()

    def discard(self) -> None:
        """Drop the rows written so far (the file itself is not written)."""
        self.handle.close()
        self.body.unlink(missing_ok=True)


def _open(path: Path) -> IO[str]:
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}; choose another --out") from None


def _entity_columns(label: str) -> list[str]:
    """What an entity node of the label may hold besides its key: its name, what a record may
    say of it, its counted claims, and for a label with anonymized nodes their document."""
    allowed = set(graph.NODE_PROPERTIES[label])
    owned = {"doc_key"} if "anonymized" in allowed else set()
    return sorted({"name", graph.CLAIMS, graph.CLAIM_COUNTS} | allowed | owned)


class _Tables:
    """The CSV files of one writing, opened at their first row, in that order."""

    def __init__(self, out: Path):
        self.out = out
        self.nodes: dict[str, _Table] = {}
        self.relationships: dict[tuple[str, str, str], _Table] = {}

    def node(self, label: str, row: dict[str, Any], columns: Iterable[str] | None = None) -> None:
        """A node row; ``columns`` are the label's property columns (the row's keys when not given)."""
        key = KEY[label]
        table = self.nodes.get(label)
        if table is None:
            names = sorted(set(row if columns is None else columns) - {key})
            table = self.nodes[label] = _Table(self.out / f"nodes_{label}.csv", [f"{key}:ID({label})"], names)
        table.write([row[key]], row)

    def relationship(self, rtype: str, head: str, tail: str, start: str, end: str, props: dict[str, Any]) -> None:
        table = self.relationships.get((rtype, head, tail))
        if table is None:
            table = self.relationships[rtype, head, tail] = _Table(
                self.out / f"relationships_{rtype}_{head}_{tail}.csv", [f":START_ID({head})", f":END_ID({tail})"],
                relation_properties(rtype))
        table.write([start, end], props)

    def close(self, failures: list[str]) -> ImportFiles:
        """Write every file and return them; files of an earlier writing that this one has not are removed."""
        files = ImportFiles(folder=self.out, failures=failures)
        for label, table in self.nodes.items():
            table.close()
            files.nodes.append((label, table.path))
            files.node_count += table.rows
        for (rtype, _, _), table in self.relationships.items():
            table.close()
            files.relationships.append((rtype, table.path))
            files.relationship_count += table.rows
        files.multiline = [table.path for table in [*self.nodes.values(), *self.relationships.values()]
                           if table.multiline]
        written = {path for _, path in files.nodes + files.relationships}
        for stale in [*self.out.glob("nodes_*.csv"), *self.out.glob("relationships_*.csv")]:
            if stale not in written:
                stale.unlink()
        return files

    def discard(self) -> None:
        for table in [*self.nodes.values(), *self.relationships.values()]:
            table.discard()


# --- the graph's rows, document by document ---------------------------------------------------


@dataclass
class _Shared:
    """A shared entity node as the documents read so far leave it: what its key gives it (name,
    ``anonymized``), its counted claims, and how many relationship ends it has (counted only
    where documents are replaced: a node that none reaches any more goes with the old version)."""

    props: dict[str, Any]
    claims: Counter[str] = field(default_factory=Counter)
    ends: int = 0


@dataclass
class _Version:
    """What one loaded version of a path gave shared nodes, which its replacement takes back."""

    digest: str
    ends: Counter[tuple[str, str]]
    claims: list[tuple[str, str, str]]


class _Writer:
    """Writes documents' rows as the loader writes them into an empty database, in the order read.

    ``replaced`` maps each path met more than once to the position (among the valid records)
    of the version the loader leaves: only that version's rows are written, and the versions
    before it are loaded and taken out again on the shared nodes, as the loader does (etl.graph.load,
    and etl.outputs.export.graph._Builder, which a test compares with it), so that the shared
    nodes left and their claims are the loader's. A path met once is written as it is read.
    """

    def __init__(self, out: Path, replaced: dict[str, int]):
        self.tables = _Tables(out)
        self.replaced = replaced
        self.shared: dict[tuple[str, str], _Shared] = {}
        self.loaded: dict[str, _Version] = {}  # a replaced path -> its version in the graph

    def document(self, position: int, record: DocumentRecord, digest: str) -> None:
        path = document_path(record)
        if path not in self.replaced:
            self.add(record, digest, write=True)
            return
        old = self.loaded.get(path)
        if old is not None and old.digest == digest:
            return
        if old is not None:
            self.remove(old)
        self.loaded[path] = self.add(record, digest, write=position == self.replaced[path])

    def add(self, record: DocumentRecord, digest: str, write: bool) -> _Version:
        """Count the record's claims and relationship ends on shared nodes; write its own rows when ``write``."""
        batch, path = [record], document_path(record)
        counting = bool(self.replaced)
        version = _Version(digest, Counter(), [])
        if write:
            for row in document_rows(batch, {path: digest}):
                self.tables.node(L.Document, row)
            for row in sentence_rows(batch):
                self.tables.node(L.Sentence, row)
        owned: set[tuple[str, str]] = set()
        for label, rows in entity_rows(batch).items():
            for row in rows:
                claims = Counter(dict(zip(row["claims"], row["counts"], strict=True)))
                if row["props"].get("doc_key"):  # an anonymized region: its document's own node
                    owned.add((label, row["key"]))
                    if write:
                        props = {"name": row["name"], **row["props"]}
                        self.tables.node(label, _entity_row(label, row["key"], props, claims), _entity_columns(label))
                    continue
                node = self.shared.get((label, row["key"]))
                if node is None:
                    node = self.shared[label, row["key"]] = _Shared({"name": row["name"], **row["props"]})
                node.claims.update(claims)
        if counting:
            version.claims = [(label, key, claim) for (label, key), claim in claims_of(record).items()
                              if (label, key) not in owned]
        for head, tail, rtype, start, end, props in _relationships(record, path):
            if write:
                self.tables.relationship(rtype, head, tail, start, end, props)
            if counting:
                for label, key in ((head, start), (tail, end)):
                    if (label, key) in self.shared:
                        version.ends[label, key] += 1
        for nid, n in version.ends.items():
            self.shared[nid].ends += n
        return version

    def remove(self, old: _Version) -> None:
        """Take an old version's claims back off the shared nodes, and the nodes only it reached out."""
        for label, key, claim in old.claims:
            node = self.shared.get((label, key))
            if node is not None:
                node.claims[claim] -= 1
                if node.claims[claim] <= 0:
                    del node.claims[claim]
        for nid, n in old.ends.items():
            self.shared[nid].ends -= n
        for nid in old.ends:
            if not self.shared[nid].ends:
                del self.shared[nid]

    def close(self, failures: list[str]) -> ImportFiles:
        """Write the shared nodes, then every file."""
        for (label, key), node in self.shared.items():
            self.tables.node(label, _entity_row(label, key, node.props, node.claims), _entity_columns(label))
        return self.tables.close(failures)


def _entity_row(label: str, key: str, props: dict[str, Any], claims: Counter[str]) -> dict[str, Any]:
    """An entity node's row: its key, what the key gives it, and its counted claims with the
    properties derived from them (etl.graph.rows.derive), as the loader leaves the node."""
    kept = sorted((c for c, n in claims.items() if n > 0), key=cypher_order)
    counts = [claims[c] for c in kept]
    row = {**props, KEY[label]: key}
    row.update({prop: value for prop, value in derive(label, kept, counts).items() if value is not None})
    if kept:
        row[graph.CLAIMS], row[graph.CLAIM_COUNTS] = kept, counts
    return row


def _relationships(record: DocumentRecord, path: str) -> Iterator[tuple[str, str, str, str, str, dict[str, Any]]]:
    """(head label, tail label, type, start id, end id, properties) of every relationship the record writes."""
    batch = [record]
    for label, rows in mention_rows(batch).items():
        for row in rows:
            yield L.Sentence, label, R.MENTIONS, row["sentence"], row["key"], {"start": row["start"], "end": row["end"]}
    for row in reports_on_rows(batch):
        yield L.Document, L.Region, R.REPORTS_ON, path, row["key"], {}
    for (rtype, head, tail), rows in relation_rows(batch).items():
        for row in rows:
            yield head, tail, rtype, row["head"], row["tail"], row["props"]


# --- reading the source -------------------------------------------------------------------------


def _first_reading(items: Iterator[Item], writer: _Writer, spool: IO[str] | None) -> dict[str, int] | None:
    """Write every document as read, until a path comes again with another record; then only
    note, for each path, which version the loader would leave. Returns None when every path
    came once (or again alike: the loader leaves that alone), else the positions ``_Writer``
    needs for its second reading of the paths met more than once."""
    kept: dict[str, tuple[str, int]] = {}  # path -> (record hash, position) of the version loaded
    again: set[str] = set()
    replaced = False
    for position, (_, record, digest) in enumerate(items):
        if spool is not None:
            spool.write(record.to_json() + "\n")
        path = document_path(record)
        seen = kept.get(path)
        if seen is not None:
            again.add(path)
            if seen[0] == digest:
                continue
            replaced = True
        kept[path] = (digest, position)
        if not replaced:
            writer.document(position, record, digest)
    return {path: kept[path][1] for path in sorted(again)} if replaced else None


def write_import(source: Path | Iterable[DocumentRecord], out: Path) -> ImportFiles:
    """Write the node and relationship CSV files of a full import into ``out``.

    Records that fail validation are skipped and reported in ``failures`` (``path:line``, the
    document, the field and the reason), as the loader reports them.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}") from None
    failures: list[str] = []
    in_memory = not isinstance(source, str | Path)
    spool = out / SPOOL
    writer = _Writer(out, {})
    try:
        with _open(spool) if in_memory else contextlib.nullcontext() as handle:
            replaced = _first_reading(iter_items(source, failures), writer, handle)
        if replaced is not None:
            writer.tables.discard()
            writer = _Writer(out, replaced)
            for position, (_, record, digest) in enumerate(iter_items(spool if in_memory else source, [])):
                writer.document(position, record, digest)
        return writer.close(failures)
    except BaseException:
        writer.tables.discard()
        raise
    finally:
        spool.unlink(missing_ok=True)
