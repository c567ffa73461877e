"""Load stage: records.jsonl in, a Neo4j graph out, batched, idempotent and evidence-keeping.

Takes DocumentRecords (or a records.jsonl path / folder) and a driver; returns LoadStats.
Every write is an ``UNWIND $rows … MERGE`` on constraint-backed keys in a managed write
transaction, nodes before relationships. Labels and relationship types come only from the
ontology's whitelist in etl.records, never from document text. Each relationship keeps the
sentence ids that support it (``evidence``) and the documents they come from (``docs``);
loading the same record again adds nothing. A document whose content changed (same file
name, new doc_id) first takes its old version out: its sentences, its evidence on every
relationship (a relationship left without evidence goes), its anonymized regions.

Quantities become their own MEASURES / IMPLEMENTS relationships (key = doc_id:n) with value,
unit, value_std, unit_std, year, kind, redacted and evidence; the entity-level relationship of
the same type has key "".
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import neo4j
from etl import config, migrations
from etl.errors import LoadError, RecordError
from etl.records import LABELS, RELATION_ENDS, DocumentRecord, iter_record_lines, parse_record

# Fastest of the sizes benchmarks/load.py tried on 2,000 documents (50 and 200); see README.
DEFAULT_BATCH = 200


@dataclass
class LoadStats:
    documents: int = 0
    replaced: int = 0
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_updated: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, summary: neo4j.ResultSummary, merged: str | None = None, rows: int = 0) -> None:
        """Count a statement's changes; ``merged`` rows ("nodes" or "relationships") not created were updated."""
        c = summary.counters
        if merged == "nodes":
            self.nodes_updated += rows - c.nodes_created
        elif merged == "relationships":
            self.relationships_updated += rows - c.relationships_created
        self.nodes_created += c.nodes_created
        self.nodes_deleted += c.nodes_deleted
        self.relationships_created += c.relationships_created
        self.relationships_deleted += c.relationships_deleted
        self.properties_set += c.properties_set


def region_key(name: str, anonymized: bool, doc_id: str) -> str:
    return f"{name}@{doc_id}" if anonymized else name


def is_anonymized(record: DocumentRecord, name: str) -> bool:
    """Whether a region of the record is anonymized (XX区), hence scoped to its document."""
    props = record.properties.get("Region", {}).get(name, {})
    if "anonymized" in props:
        return bool(props["anonymized"])
    return bool(record.region and record.region.name == name and record.region.anonymized)


def label_of(record: DocumentRecord, name: str, allowed: tuple[str, ...]) -> str | None:
    """The first of the allowed labels under which the record lists the entity."""
    return next((label for label in allowed if name in record.entities.get(label, [])), None)


def validate(record: DocumentRecord) -> None:
    """Refuse a record whose relations or quantities name entities it does not list."""
    for rel in record.relations:
        if rel.type == "REPORTS_ON":
            continue
        heads, tails = RELATION_ENDS[rel.type]
        if label_of(record, rel.head, heads) is None:
            raise RecordError(f"document {record.doc!r}: relation {rel.type} head {rel.head!r} "
                              f"is not among its {'/'.join(heads)} entities")
        if label_of(record, rel.tail, tails) is None:
            raise RecordError(f"document {record.doc!r}: relation {rel.type} tail {rel.tail!r} "
                              f"is not among its {'/'.join(tails)} entities")
    for quantity in record.quantities:
        if quantity.subject not in record.entities.get(quantity.subject_type, []):
            raise RecordError(f"document {record.doc!r}: quantity of {quantity.subject!r} "
                              f"is not among its {quantity.subject_type} entities")


def entity_key(record: DocumentRecord, label: str, name: str) -> str:
    """The key of an entity node: the name, or name@doc_id for an anonymized region."""
    return region_key(name, is_anonymized(record, name), record.doc_id) if label == "Region" else name


# --- the graph rows of records: what every sink (Neo4j, bulk CSV, NetworkX) writes -------------


def document_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    return [{"doc_id": r.doc_id, "name": r.doc, "title": r.title, "date": r.date, "source": r.source,
             "lang_variant": r.lang_variant, "lexicon_version": r.lexicon_version} for r in records]


def sentence_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    return [{"id": f"{r.doc_id}:{s.index}", "doc_id": r.doc_id, "index": s.index, "text": s.text,
             "start": s.start, "end": s.end} for r in records for s in r.sentences]


def entity_rows(records: Iterable[DocumentRecord]) -> dict[str, list[dict]]:
    """Per label, rows {key, name, props}; props without nulls, regions with anonymized (and doc_id)."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        for label in LABELS:
            for name in r.entities.get(label, []):
                props = {k: v for k, v in r.properties.get(label, {}).get(name, {}).items() if v is not None}
                if label == "Region":
                    anonymized = is_anonymized(r, name)
                    props.update(anonymized=anonymized)
                    if anonymized:
                        props["doc_id"] = r.doc_id
                rows[label].append({"key": entity_key(r, label, name), "name": name, "props": props})
    return rows


def mention_rows(records: Iterable[DocumentRecord]) -> dict[str, list[dict]]:
    """Per label, MENTIONS rows {sentence, key, start, end}."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        for m in r.mentions:
            rows[m.type].append({"sentence": f"{r.doc_id}:{m.sentence}", "key": entity_key(r, m.type, m.name),
                                 "start": m.start, "end": m.end})
    return rows


def reports_on_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    return [{"doc_id": r.doc_id, "key": region_key(r.region.name, r.region.anonymized, r.doc_id)}
            for r in records if r.region]


def relation_rows(records: Iterable[DocumentRecord]) -> dict[tuple[str, str, str], list[dict]]:
    """Per (type, head label, tail label), rows {head, tail, rkey, evidence, doc_id, props}.

    Relations have rkey ""; each quantity is its own MEASURES/IMPLEMENTS row with rkey doc_id:n.
    """
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in records:
        for rel in r.relations:
            if rel.type == "REPORTS_ON":
                continue
            heads, tails = RELATION_ENDS[rel.type]
            head_label, tail_label = label_of(r, rel.head, heads), label_of(r, rel.tail, tails)
            props = {k: v for k, v in rel.props.model_dump().items() if k != "evidence" and v is not None}
            groups[(rel.type, head_label, tail_label)].append({
                "head": entity_key(r, head_label, rel.head), "tail": entity_key(r, tail_label, rel.tail),
                "rkey": "", "evidence": [f"{r.doc_id}:{i}" for i in rel.props.evidence],
                "doc_id": r.doc_id, "props": props})
        if not r.region:
            continue
        for n, q in enumerate(r.quantities):
            rtype = "IMPLEMENTS" if q.subject_type == "Measure" else "MEASURES"
            props = q.model_dump(exclude={"subject", "subject_type", "evidence"})
            groups[(rtype, "Region", q.subject_type)].append({
                "head": entity_key(r, "Region", r.region.name), "tail": q.subject, "rkey": f"{r.doc_id}:{n}",
                "evidence": [f"{r.doc_id}:{i}" for i in q.evidence], "doc_id": r.doc_id,
                "props": {k: v for k, v in props.items() if v is not None}})
    return groups


def _node_ref(label: str, var: str, key_field: str) -> str:
    """A MATCH pattern for a whitelisted label; the key comes in as a parameter."""
    assert label in LABELS
    key = "key" if label == "Region" else "name"
    return f"({var}:{label} {{{key}: row.{key_field}}})"


class Loader:
    def __init__(self, driver: neo4j.Driver, database: str, stats: LoadStats):
        self.driver, self.database, self.stats = driver, database, stats

    def write(self, cypher: str, rows: list[dict], merged: str | None = None) -> None:
        if rows:
            _, summary, _ = self.driver.execute_query(
                cypher, {"rows": rows}, database_=self.database, routing_=neo4j.RoutingControl.WRITE
            )
            self.stats.add(summary, merged, len(rows))

    def replace_old_versions(self, records: list[DocumentRecord]) -> None:
        rows = [{"name": r.doc, "doc_id": r.doc_id} for r in records]
        old = self.driver.execute_query(
            "UNWIND $rows AS row MATCH (d:Document {name: row.name}) WHERE d.doc_id <> row.doc_id "
            "RETURN d.doc_id AS doc_id", {"rows": rows}, database_=self.database,
        ).records
        for record in old:
            self.remove_document(record["doc_id"])
            self.stats.replaced += 1

    def remove_document(self, doc_id: str) -> None:
        prefix = [{"prefix": doc_id + ":", "doc_id": doc_id}]
        self.write(
            "UNWIND $rows AS row MATCH ()-[r]->() WHERE row.doc_id IN r.docs "
            "SET r.evidence = [e IN r.evidence WHERE NOT e STARTS WITH row.prefix], "
            "r.docs = [d IN r.docs WHERE d <> row.doc_id] "
            "WITH r WHERE size(r.evidence) = 0 DELETE r", prefix)
        self.write("UNWIND $rows AS row MATCH (s:Sentence {doc_id: row.doc_id}) DETACH DELETE s", prefix)
        self.write("UNWIND $rows AS row MATCH (n:Region {doc_id: row.doc_id}) DETACH DELETE n", prefix)
        self.write("UNWIND $rows AS row MATCH (d:Document {doc_id: row.doc_id}) DETACH DELETE d", prefix)

    def load(self, records: list[DocumentRecord]) -> None:
        self.replace_old_versions(records)
        self.write(
            "UNWIND $rows AS row MERGE (d:Document {doc_id: row.doc_id}) "
            "SET d.name = row.name, d.title = row.title, d.date = row.date, d.source = row.source, "
            "d.lang_variant = row.lang_variant, d.lexicon_version = row.lexicon_version",
            document_rows(records), "nodes")
        self.write(
            "UNWIND $rows AS row MERGE (s:Sentence {id: row.id}) "
            "SET s.doc_id = row.doc_id, s.index = row.index, s.text = row.text, s.start = row.start, s.end = row.end",
            sentence_rows(records), "nodes")
        for label, rows in entity_rows(records).items():
            key = "key" if label == "Region" else "name"
            extra = "SET n.name = row.name " if label == "Region" else ""
            self.write(f"UNWIND $rows AS row MERGE (n:{label} {{{key}: row.key}}) {extra}SET n += row.props",
                       rows, "nodes")
        for label, rows in mention_rows(records).items():
            self.write(
                "UNWIND $rows AS row MATCH (s:Sentence {id: row.sentence}) MATCH " + _node_ref(label, "n", "key")
                + " MERGE (s)-[m:MENTIONS {start: row.start}]->(n) SET m.end = row.end", rows, "relationships")
        self.write(
            "UNWIND $rows AS row MATCH (d:Document {doc_id: row.doc_id}) MATCH (n:Region {key: row.key}) "
            "MERGE (d)-[:REPORTS_ON]->(n)", reports_on_rows(records), "relationships")
        for (rtype, head_label, tail_label), rows in relation_rows(records).items():
            assert rtype in RELATION_ENDS
            self.write(
                "UNWIND $rows AS row MATCH " + _node_ref(head_label, "h", "head") + " MATCH "
                + _node_ref(tail_label, "t", "tail")
                + f" MERGE (h)-[r:{rtype} {{key: row.rkey}}]->(t) "
                "SET r += row.props, "
                "r.evidence = coalesce(r.evidence, []) + [e IN row.evidence WHERE NOT e IN coalesce(r.evidence, [])], "
                "r.docs = coalesce(r.docs, []) + CASE WHEN row.doc_id IN coalesce(r.docs, []) "
                "THEN [] ELSE [row.doc_id] END",
                rows, "relationships")


def records_path(source: Path) -> Path:
    """The records.jsonl a source names (the file, or the one in a folder); it must exist."""
    path = source / "records.jsonl" if source.is_dir() else source
    if not path.exists():
        raise LoadError(f"{path}: no such file; run govgraph extract first")
    return path


def iter_records(source: Path, failures: list[str]) -> Iterable[DocumentRecord]:
    """Records of a records.jsonl file (or a folder holding one); bad lines go to failures."""
    path = records_path(source)
    for where, line in iter_record_lines(path):
        try:
            record = parse_record(line, where=where)
            validate(record)
        except RecordError as exc:
            failures.append(str(exc) if str(exc).startswith(str(path)) else f"{where}: {exc}")
            continue
        yield record


def load_records(
    driver: neo4j.Driver,
    source: Path | Iterable[DocumentRecord],
    database: str = config.DEFAULT_DATABASE,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> LoadStats:
    """Apply pending migrations, then load the records in batches of ``batch_size`` documents."""
    stats = LoadStats()
    began = time.perf_counter()
    migrations.apply(driver, database)
    records = iter_records(source, stats.failures) if isinstance(source, Path) else source
    loader = Loader(driver, database, stats)
    batch: list[DocumentRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            loader.load(batch)
            stats.documents += len(batch)
            batch = []
            if progress:
                progress(stats.documents)
    if batch:
        loader.load(batch)
        stats.documents += len(batch)
        if progress:
            progress(stats.documents)
    stats.seconds = time.perf_counter() - began
    return stats
