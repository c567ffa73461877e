"""Load stage: records.jsonl in, a Neo4j graph out, one document all-or-nothing, idempotent.

Takes DocumentRecords (or a records.jsonl path / folder, as Path or str) and a driver; returns
LoadStats. The graph model is etl.graph.model's: a document is its path; everything it asserts (its
sentences, mentions, anonymized regions, and one relationship per assertion carrying its
``doc_key`` and ``evidence``) is its own, so loading or replacing a document touches only its
own data, found through indexes, and the time per document does not grow with the graph.

Every record is validated first (etl.graph.model's whitelist and bounds, references inside the
document); a record that fails is one line naming ``path:line`` and the field, and is not
loaded. Documents are written in batches, a batch in one write transaction; a batch Neo4j
refuses is retried document by document, so one bad document is reported and the others load.
The next batch is parsed, validated and turned into rows in a thread while Neo4j writes one.
A document already in the graph with the same record (same record hash) is left alone; a new
version of a path replaces the old one in the same transaction that writes it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import Any

from pydantic import ValidationError

import neo4j
from etl import config
from etl.errors import LoadError, RecordError
from etl.graph import migrations
from etl.graph import model as graph
from etl.graph.records import DocumentRecord, iter_record_lines, parse_record

# Documents per transaction. Each write transaction also refreshes the full-text index (a
# Lucene segment that is merged again later), so larger ones are cheaper: 500 loaded
# generated reports about a fifth faster than 200 (README, Figures).
DEFAULT_BATCH = 500
# At most this many items (sentences, mentions, relations, quantities, entity names) per
# transaction, whatever the number of documents: a generated report has about 300, and its
# transaction state takes about 0.5 MiB of the server's heap, so a batch stays near 250 MiB,
# under the embedded server's transaction memory limit (etl.neo4j.server, at least 512 MiB).
MAX_BATCH_ITEMS = 150_000

# (where it came from: path:line or <records>:n, the record, its record_hash)
Item = tuple[str, DocumentRecord, str]


@dataclass
class LoadStats:
    """What a load did: documents written, replaced and left unchanged, Neo4j's counters, failures."""

    documents: int = 0
    replaced: int = 0
    unchanged: int = 0
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_updated: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, summary: neo4j.ResultSummary, merged_rows: int = 0) -> None:
        """Count a statement's changes; of ``merged_rows`` MERGEd nodes, those not created were updated."""
        c = summary.counters
        self.nodes_updated += max(0, merged_rows - c.nodes_created) if merged_rows else 0
        self.nodes_created += c.nodes_created
        self.nodes_deleted += c.nodes_deleted
        self.relationships_created += c.relationships_created
        self.relationships_deleted += c.relationships_deleted
        self.properties_set += c.properties_set


# --- validation: what a record may put in the graph -------------------------------------------


def _check(value: Any, where: str, limit: int = graph.MAX_NAME) -> None:
    # The common values (None, an int in 64 bits, a short string) are passed without a call:
    # a document has hundreds of them, checked on every load.
    kind = type(value)
    if value is None or (kind is int and graph.INT64[0] <= value <= graph.INT64[1]) or (
            kind is str and len(value) <= limit):
        return
    problem = graph.bounded(value, limit)
    if problem:
        raise RecordError(f"{where}: {problem}")


def _check_evidence(indices: list[int], sentences: set[int], where: str) -> None:
    if len(indices) > graph.MAX_LIST:
        raise RecordError(f"{where}: {len(indices)} evidence sentences (at most {graph.MAX_LIST})")
    outside = [i for i in indices if i not in sentences]
    if outside:
        raise RecordError(f"{where}: evidence sentence {outside[0]} is not a sentence of the document "
                          f"({len(sentences)} sentences)")


def _check_document(record: DocumentRecord) -> set[int]:
    """Bounds of the document's own fields and sentences; returns its sentence indices."""
    _check(graph.document_path(record), "path", graph.MAX_PATH)
    _check(record.doc, "doc", graph.MAX_PATH)
    _check(record.doc_id, "doc_id")
    for name in ("title", "date", "source", "lexicon_version"):
        _check(getattr(record, name), name, graph.MAX_TEXT)
    indices: set[int] = set()
    for n, sentence in enumerate(record.sentences):
        for name in ("index", "start", "end"):
            _check(getattr(sentence, name), f"sentences.{n}.{name}")
        _check(sentence.text, f"sentences.{n}.text", graph.MAX_TEXT)
        if sentence.index in indices:
            raise RecordError(f"sentences.{n}.index: sentence {sentence.index} appears twice")
        indices.add(sentence.index)
    return indices


def _check_entities(record: DocumentRecord) -> None:
    """Names bounded, properties from the whitelist with bounded values of the allowed type."""
    for label, names in record.entities.items():
        for name in names:
            if not name.strip():
                raise RecordError(f"entities.{label}: an empty name")
            _check(name, f"entities.{label}.{name[:40]}")
    for label, by_name in record.properties.items():
        allowed = graph.NODE_PROPERTIES[label]
        for name, props in by_name.items():
            for prop, value in props.items():
                where = f"properties.{label}.{name[:40]}.{prop}"
                if prop not in allowed:
                    raise RecordError(f"{where}: not a property a record may set on a {label} "
                                      f"(allowed: {', '.join(sorted(allowed))})")
                if value is not None and not isinstance(value, allowed[prop]):
                    raise RecordError(f"{where}: a {type(value).__name__}, not a {allowed[prop][0].__name__}")
                _check(value, where)


def validate(record: DocumentRecord) -> None:
    """Refuse a record that reaches beyond its document or holds a value Neo4j would refuse.

    Raises RecordError naming the document and the field: properties outside etl.graph.model's
    whitelist, values outside its bounds, relations and quantities naming entities the record
    does not list, evidence pointing outside the document's sentences.
    """
    try:
        sentences = _check_document(record)
        _check_entities(record)
        sets = entity_sets(record)
        if record.region:
            if record.region.name not in sets.get("Region", ()):
                raise RecordError(f"region: {record.region.name[:40]!r} is not among its Region entities")
            _check(record.region.name, "region.name")
            _check(record.region.level, "region.level")
            _check(record.region.adcode, "region.adcode")
        for n, rel in enumerate(record.relations):
            where = f"relations.{n}"
            if rel.type != "REPORTS_ON":
                heads, tails = graph.RELATION_ENDS[rel.type]
                if label_in(sets, rel.head, heads) is None:
                    raise RecordError(f"{where}: {rel.type} head {rel.head[:40]!r} is not among its "
                                      f"{'/'.join(heads)} entities")
                if label_in(sets, rel.tail, tails) is None:
                    raise RecordError(f"{where}: {rel.type} tail {rel.tail[:40]!r} is not among its "
                                      f"{'/'.join(tails)} entities")
            _check(rel.props.year, f"{where}.year")
            _check(rel.props.count, f"{where}.count")
            _check_evidence(rel.props.evidence, sentences, f"{where}.evidence")
        for n, q in enumerate(record.quantities):
            where = f"quantities.{n}"
            if q.subject not in sets.get(q.subject_type, ()):
                raise RecordError(f"{where}.subject: {q.subject[:40]!r} is not among its {q.subject_type} entities")
            for name in graph.QUANTITY_PROPERTIES:
                _check(getattr(q, name), f"{where}.{name}", graph.MAX_TEXT if name == "text" else graph.MAX_NAME)
            _check_evidence(q.evidence, sentences, f"{where}.evidence")
        for n, m in enumerate(record.mentions):
            where = f"mentions.{n}"
            if m.name not in sets.get(m.type, ()):
                raise RecordError(f"{where}: {m.type} {m.name[:40]!r} is not among its entities")
            _check_evidence([m.sentence], sentences, f"{where}.sentence")
            _check(m.start, f"{where}.start")
            _check(m.end, f"{where}.end")
    except RecordError as exc:
        raise RecordError(f"document {record.doc[:200]!r}: {exc}") from None


def entity_sets(record: DocumentRecord) -> dict[str, frozenset[str]]:
    """The record's entity names per label, as sets: relations look up both their ends in them."""
    return {label: frozenset(names) for label, names in record.entities.items()}


def label_in(sets: dict[str, frozenset[str]], name: str, allowed: tuple[str, ...]) -> str | None:
    """The first of the allowed labels under which a record's ``entity_sets`` list the entity."""
    for label in allowed:
        if name in sets.get(label, ()):
            return label
    return None


def is_anonymized(record: DocumentRecord, name: str) -> bool:
    """Whether a region of the record is anonymized (XX区), hence scoped to its document."""
    props = record.properties.get("Region", {}).get(name, {})
    if props.get("anonymized") is not None:
        return bool(props["anonymized"])
    return bool(record.region and record.region.name == name and record.region.anonymized)


def entity_key(record: DocumentRecord, label: str, name: str) -> str:
    """The key of an entity node: the name, or name@doc_key for an anonymized region."""
    if label != "Region":
        return name
    return graph.region_key(name, is_anonymized(record, name), graph.doc_key(graph.document_path(record)))


def record_hash(record: DocumentRecord, line: str | None = None) -> str:
    """What tells two loads of one path apart: a hash of the whole record (a re-extraction changes it).

    The hash of its records.jsonl ``line`` when it came from one: the line is the record's JSON
    as ``to_json`` writes it, so for our own files the two agree, and serializing every record
    again took a tenth of a load. A line written otherwise (spacing, key order) hashes alike
    at every load of that file.
    """
    text = line.strip() if line is not None else record.to_json()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# --- the graph rows of records: what every sink (Neo4j, bulk CSV, NetworkX) writes -------------


def _owner(record: DocumentRecord) -> str:
    return graph.doc_key(graph.document_path(record))


def document_rows(records: Iterable[DocumentRecord], hashes: dict[str, str] | None = None) -> list[dict]:
    """One row a document: its path (the key), doc_key, content hash, file name and metadata.

    ``hashes`` are the records' hashes by path where known (record_hash otherwise).
    """
    return [{"path": graph.document_path(r), "doc_key": _owner(r), "doc_id": r.doc_id, "name": r.doc,
             "title": r.title, "date": r.date, "source": r.source, "lang_variant": r.lang_variant,
             "lexicon_version": r.lexicon_version,
             "record_hash": hashes[graph.document_path(r)] if hashes else record_hash(r)} for r in records]


def sentence_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    rows = []
    for r in records:
        owner = _owner(r)
        rows += [{"id": f"{owner}:{s.index}", "doc_key": owner, "index": s.index, "text": s.text,
                  "start": s.start, "end": s.end} for s in r.sentences]
    return rows


def entity_rows(records: Iterable[DocumentRecord]) -> dict[str, list[dict]]:
    """Per label, rows {key, name, props}: whitelisted props without nulls; anonymized regions owned.

    One row per entity: when several documents name it, their props are merged in document
    order, the later value winning, which is what setting each document's props in turn gives;
    a batch of reports names a common mechanism dozens of times, and each row is a locked write.
    """
    rows: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in records:
        for label in graph.ENTITY_LABELS:
            allowed = graph.NODE_PROPERTIES[label]
            for name in r.entities.get(label, []):
                given = r.properties.get(label, {}).get(name, {})
                props = {k: v for k, v in given.items() if v is not None and k in allowed}
                if label == "Region":
                    anonymized = is_anonymized(r, name)
                    props["anonymized"] = anonymized
                    if anonymized:
                        props["doc_key"] = _owner(r)
                key = entity_key(r, label, name)
                if key in rows[label]:
                    rows[label][key]["props"].update(props)
                else:
                    rows[label][key] = {"key": key, "name": name, "props": props}
    return {label: list(by_key.values()) for label, by_key in rows.items()}


def mention_rows(records: Iterable[DocumentRecord]) -> dict[str, list[dict]]:
    """Per label, MENTIONS rows {sentence, key, start, end}; one per sentence, entity and start."""
    rows: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for r in records:
        owner = _owner(r)
        for m in r.mentions:
            row = {"sentence": f"{owner}:{m.sentence}", "key": entity_key(r, m.type, m.name),
                   "start": m.start, "end": m.end}
            rows[m.type][row["sentence"], row["key"], m.start] = row
    return {label: list(by_key.values()) for label, by_key in rows.items()}


def reports_on_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    return [{"doc_key": _owner(r), "key": entity_key(r, "Region", r.region.name)} for r in records if r.region]


def _merge_evidence(old: list[str], new: list[str]) -> list[str]:
    return old + [e for e in new if e not in old]


def relation_rows(records: Iterable[DocumentRecord]) -> dict[tuple[str, str, str], list[dict]]:
    """Per (type, head label, tail label), rows {head, tail, props}: one per document and assertion.

    A relation the record states twice is one relationship with both evidences (properties from
    the last); each quantity is its own MEASURES/IMPLEMENTS with ``key`` doc_key:n, a relation
    has key "". Every row's props carry ``doc_key`` and ``evidence`` (sentence ids).
    """
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in records:
        owner = _owner(r)
        sets = entity_sets(r)
        assertions: dict[tuple[str, str, str, str, str], dict] = {}
        for rel in r.relations:
            if rel.type == "REPORTS_ON":
                continue
            heads, tails = graph.RELATION_ENDS[rel.type]
            head_label, tail_label = label_in(sets, rel.head, heads), label_in(sets, rel.tail, tails)
            props = rel.props
            extra = {k: v for k in graph.RELATION_PROPERTIES[rel.type] if (v := getattr(props, k, None)) is not None}
            evidence = [f"{owner}:{i}" for i in dict.fromkeys(props.evidence)]
            ident = (rel.type, head_label, tail_label, entity_key(r, head_label, rel.head),
                     entity_key(r, tail_label, rel.tail))
            if ident in assertions:
                row = assertions[ident]
                row["props"].update(extra)
                row["props"]["evidence"] = _merge_evidence(row["props"]["evidence"], evidence)
            else:
                assertions[ident] = {"head": ident[3], "tail": ident[4],
                                     "props": {"doc_key": owner, "key": "", "evidence": evidence, **extra}}
        for ident, row in assertions.items():
            groups[ident[:3]].append(row)
        if not r.region:
            continue
        for n, q in enumerate(r.quantities):
            rtype = "IMPLEMENTS" if q.subject_type == "Measure" else "MEASURES"
            props = {k: getattr(q, k) for k in graph.QUANTITY_PROPERTIES if getattr(q, k) is not None}
            groups[(rtype, "Region", q.subject_type)].append({
                "head": entity_key(r, "Region", r.region.name), "tail": q.subject,
                "props": {"doc_key": owner, "key": f"{owner}:{n}",
                          "evidence": [f"{owner}:{i}" for i in q.evidence], **props}})
    return groups


# --- writing ----------------------------------------------------------------------------------


def _node_ref(label: str, var: str, key_field: str) -> str:
    """A MATCH pattern for a label of the model; the key value comes in as a parameter."""
    if label not in graph.KEY:
        raise LoadError(f"label {label!r} is not in the graph model")
    return f"({var}:{label} {{{graph.KEY[label]}: row.{key_field}}})"


def _statements(records: list[DocumentRecord], hashes: dict[str, str]) -> Iterator[tuple[str, list[dict], bool]]:
    """(Cypher, rows, merges nodes) for everything the documents assert, nodes before relationships."""
    yield "UNWIND $rows AS row CREATE (d:Document) SET d = row", document_rows(records, hashes), False
    yield "UNWIND $rows AS row CREATE (s:Sentence) SET s = row", sentence_rows(records), False
    for label, rows in entity_rows(records).items():
        key = graph.KEY[label]
        yield (f"UNWIND $rows AS row MERGE (n:{label} {{{key}: row.key}}) "
               "SET n.name = row.name SET n += row.props", rows, True)
    for label, rows in mention_rows(records).items():
        yield ("UNWIND $rows AS row MATCH (s:Sentence {id: row.sentence}) MATCH " + _node_ref(label, "n", "key")
               + " CREATE (s)-[:MENTIONS {start: row.start, end: row.end}]->(n)", rows, False)
    yield ("UNWIND $rows AS row MATCH (d:Document {doc_key: row.doc_key}) MATCH (n:Region {key: row.key}) "
           "CREATE (d)-[:REPORTS_ON]->(n)", reports_on_rows(records), False)
    for (rtype, head_label, tail_label), rows in relation_rows(records).items():
        if rtype not in graph.RELATION_ENDS:
            raise LoadError(f"relationship type {rtype!r} is not in the graph model")
        yield ("UNWIND $rows AS row MATCH " + _node_ref(head_label, "h", "head") + " MATCH "
               + _node_ref(tail_label, "t", "tail") + f" CREATE (h)-[r:{rtype} {_relation_map(rtype)}]->(t)",
               rows, False)


def _relation_map(rtype: str) -> str:
    """The properties of a relationship row as a Cypher map ({doc_key: row.props.doc_key, …}).

    Written into the CREATE rather than ``SET r = row.props``: a SET of a whole map makes the
    planner buffer every row of the statement first (an Eager), in case it changed what the
    MATCHes read. A property a row lacks is null, and CREATE stores no null.
    """
    names = sorted(graph.OWNER_PROPERTIES | graph.RELATION_PROPERTIES[rtype]
                   | (set(graph.QUANTITY_PROPERTIES) if rtype in graph.QUANTITY_TYPES else set()))
    return "{" + ", ".join(f"{name}: row.props.{name}" for name in names) + "}"


def _removals() -> Iterator[str]:
    """Statements that take out everything the documents of ``$keys`` own, each through an index."""
    for rtype in graph.OWNED_TYPES:
        yield f"UNWIND $keys AS k MATCH ()-[r:{rtype} {{doc_key: k}}]->() DELETE r"
    yield "UNWIND $keys AS k MATCH (s:Sentence {doc_key: k}) DETACH DELETE s"
    yield "UNWIND $keys AS k MATCH (n:Region {doc_key: k}) DETACH DELETE n"
    yield "UNWIND $keys AS k MATCH (d:Document {doc_key: k}) DETACH DELETE d"


@dataclass
class Batch:
    """Documents to write in one transaction, made ready before it starts.

    ``hashes`` are the records' hashes by path, ``statements`` what writing all of them takes
    (_statements), and ``failures`` the records refused by validation since the previous
    batch, reported when this one is written so that failures keep the order of the source.
    """

    items: list[Item]
    hashes: dict[str, str]
    statements: list[tuple[str, list[dict], bool]]
    failures: list[str] = field(default_factory=list)


def prepare(items: list[Item], failures: list[str] | None = None) -> Batch:
    """Hash the records and build the statements that write them all."""
    hashes = {graph.document_path(r): digest for _, r, digest in items}
    return Batch(items, hashes, list(_statements([r for _, r, _ in items], hashes)), failures or [])


@dataclass
class _Outcome:
    summaries: list[tuple[neo4j.ResultSummary, int]]
    written: list[Item]
    replaced: int
    unchanged: int


def _write_batch(tx: neo4j.ManagedTransaction, batch: Batch) -> _Outcome:
    """One transaction: skip documents already loaded alike, take out old versions, write the rest."""
    hashes = batch.hashes
    stored = {row["path"]: (row["doc_key"], row["hash"]) for row in tx.run(
        "UNWIND $paths AS p MATCH (d:Document {path: p}) RETURN d.path AS path, d.doc_key AS doc_key, "
        "d.record_hash AS hash", paths=list(hashes))}
    fresh = [item for item in batch.items if stored.get(graph.document_path(item[1]), (None, None))[1] != item[2]]
    old = [stored[graph.document_path(r)][0] for _, r, _ in fresh if graph.document_path(r) in stored]
    summaries = []
    if old:
        summaries += [(tx.run(cypher, keys=old).consume(), 0) for cypher in _removals()]
    # The statements made ready for the whole batch serve when every document is new or changed.
    statements = batch.statements if len(fresh) == len(batch.items) else _statements([r for _, r, _ in fresh], hashes)
    for cypher, rows, merges in statements:
        if rows:
            summaries.append((tx.run(cypher, rows=rows).consume(), len(rows) if merges else 0))
    return _Outcome(summaries, fresh, len(old), len(batch.items) - len(fresh))


class Loader:
    """Writes batches of validated records, a batch in one transaction, a failed batch document by document."""

    def __init__(self, driver: neo4j.Driver, database: str, stats: LoadStats):
        self.driver, self.database, self.stats = driver, database, stats

    def load(self, batch: Batch) -> None:
        """Write a batch; if Neo4j refuses it, write its documents one by one and report the one refused."""
        self.stats.failures += batch.failures
        batch.failures = []
        if not batch.items:
            return
        try:
            with self.driver.session(database=self.database) as session:
                outcome = session.execute_write(_write_batch, batch)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, ValueError, OverflowError,
                TypeError) as exc:
            if isinstance(exc, neo4j.exceptions.ServiceUnavailable | neo4j.exceptions.AuthError):
                raise LoadError(f"Neo4j stopped answering during the load: {exc}; nothing of the "
                                "unfinished batch was written, run the load again") from None
            if len(batch.items) > 1:
                for item in batch.items:
                    self.load(prepare([item]))
                return
            where, record, _ = batch.items[0]
            message = getattr(exc, "message", None) or str(exc)
            self.stats.failures.append(f"{where}: document {record.doc[:200]!r}: Neo4j refused it: "
                                       f"{message.splitlines()[0] if message else type(exc).__name__}")
            return
        for summary, merged in outcome.summaries:
            self.stats.add(summary, merged)
        self.stats.documents += len(outcome.written)
        self.stats.replaced += outcome.replaced
        self.stats.unchanged += outcome.unchanged


# --- sources ----------------------------------------------------------------------------------


def records_path(source: Path | str) -> Path:
    """The records.jsonl a source names (the file, or the one in a folder); it must exist."""
    source = Path(source)
    path = source / "records.jsonl" if source.is_dir() else source
    if not path.is_file():
        raise LoadError(f"{path}: no such file; run govgraph extract first")
    return path


def iter_items(source: Path | str | Iterable[DocumentRecord | dict], failures: list[str]) -> Iterator[Item]:
    """Validated (where, record, record hash) of a records.jsonl path or of records in memory.

    A record that fails parsing or validation is one line in ``failures`` (``path:line`` or
    ``<records>:n``, the document, the field and the reason) and is skipped.
    """
    if isinstance(source, str | Path):
        path = records_path(source)
        lines: Iterable[tuple[str, Any]] = iter_record_lines(path)
    elif isinstance(source, bytes | dict | DocumentRecord):
        raise LoadError(f"records to load are a records.jsonl path or an iterable of records, "
                        f"not a single {type(source).__name__}")
    else:
        lines = ((f"<records>:{n}", item) for n, item in enumerate(source, start=1))
    for where, item in lines:
        try:
            record = _as_record(item, where)
            validate(record)
        except RecordError as exc:
            text = str(exc)
            failures.append(text if text.startswith(where + ":") else f"{where}: {text}")
            continue
        yield where, record, record_hash(record, item if isinstance(item, str) else None)


def _as_record(item: Any, where: str) -> DocumentRecord:
    if isinstance(item, DocumentRecord):
        return item
    if isinstance(item, str):
        return parse_record(item, where=where)
    if isinstance(item, dict):
        try:
            return DocumentRecord.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise RecordError(f"{where}: document {str(item.get('doc', '?'))[:200]!r}: {loc}: {first['msg']}") from None
    raise RecordError(f"{where}: a {type(item).__name__}, not a DocumentRecord")


def iter_records(source: Path | str | Iterable[DocumentRecord | dict], failures: list[str]) -> Iterator[DocumentRecord]:
    """The validated records of a source (see iter_items), without where they came from."""
    return (record for _, record, _ in iter_items(source, failures))


def batches(items: Iterable[Item], size: int, max_items: int = MAX_BATCH_ITEMS) -> Iterator[list[Item]]:
    """Items in batches of ``size`` documents and at most ``max_items`` record items (one document at least).

    A path seen again starts a new batch, so its versions load in order.
    """
    batch: list[Item] = []
    paths: set[str] = set()
    weight = 0
    for item in items:
        path, items_in = graph.document_path(item[1]), record_items(item[1])
        if batch and (len(batch) >= size or path in paths or weight + items_in > max_items):
            yield batch
            batch, paths, weight = [], set(), 0
        batch.append(item)
        paths.add(path)
        weight += items_in
    if batch:
        yield batch


def record_items(record: DocumentRecord) -> int:
    """How much a record writes: its sentences, mentions, relations, quantities and entity names."""
    return (len(record.sentences) + len(record.mentions) + len(record.relations) + len(record.quantities)
            + sum(len(names) for names in record.entities.values()))


def prepared_batches(source: Path | str | Iterable[DocumentRecord | dict], size: int) -> Iterator[Batch]:
    """The source's validated records in prepared batches of ``size``, each carrying the failures before it.

    A last batch without items carries the failures after the last good record.
    """
    failures: list[str] = []
    for items in batches(iter_items(source, failures), size):
        yield prepare(items, failures[:])
        failures.clear()
    if failures:
        yield Batch([], {}, [], failures)


def ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The same batches, made ready in a thread up to ``depth`` ahead of the one being written.

    Parsing, validating and building rows is about as much work as Neo4j's writing them: done
    while the server writes the previous batch, it takes no time of its own. An exception in
    the thread is raised here, at the batch where it happened; a caller that stops early
    stops the thread.
    """
    queue: Queue = Queue(maxsize=depth)
    stopped = threading.Event()
    end = object()

    def put(item: object) -> None:
        while not stopped.is_set():
            try:
                queue.put(item, timeout=0.2)
                return
            except Full:
                continue

    def produce() -> None:
        try:
            for batch in batches:
                if stopped.is_set():
                    return
                put(batch)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)
        put(end)

    thread = threading.Thread(target=produce, name="govgraph-load-prepare", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        thread.join()


def _check_model(driver: neo4j.Driver, database: str) -> None:
    """Refuse a graph written by a loader before migration 0004 (documents without a path)."""
    old = driver.execute_query("MATCH (d:Document) WHERE d.path IS NULL RETURN count(*) AS n LIMIT 1",
                               database_=database, routing_=neo4j.RoutingControl.READ).records[0]["n"]
    if old:
        raise LoadError(f"the graph holds {old} documents loaded before documents were keyed by path "
                        "(migration 0004); empty the graph and load the records again (see README, Loading)")


# Python's full (oldest-generation) collections during a load: one in this many of the
# middle generation's instead of one in 10. Preparing a batch makes millions of dicts, lists and
# models that live until the batch is written, and every full collection walked all of them
# again: it took 45 % of preparing (README, Figures). Young garbage is still collected as often.
FULL_COLLECTION_EVERY = 1000


@contextlib.contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Python's garbage collector with rarer full collections, restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], max(before[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def load_records(
    driver: neo4j.Driver,
    source: Path | str | Iterable[DocumentRecord | dict],
    database: str = config.DEFAULT_DATABASE,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> LoadStats:
    """Apply pending migrations, then load the records in batches of ``batch_size`` documents.

    ``source`` is a records.jsonl file or its folder (Path or str), or records in memory
    (DocumentRecords or dicts); every record is validated the same way. Bad records are
    reported in ``stats.failures`` and skipped; the others load.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise LoadError(f"batch size must be a whole number of at least 1, not {batch_size!r}")
    if isinstance(source, str | Path):
        records_path(source)
    stats = LoadStats()
    began = time.perf_counter()
    migrations.apply(driver, database)
    _check_model(driver, database)
    loader = Loader(driver, database, stats)
    done = 0
    with fewer_full_collections():
        for batch in ahead(prepared_batches(source, batch_size)):
            loader.load(batch)
            done += len(batch.items)
            if progress and batch.items:
                progress(done)
    stats.seconds = time.perf_counter() - began
    return stats
