"""Records checked and turned into graph rows, without Neo4j: what every sink writes.

Takes DocumentRecords (or a records.jsonl path / folder); returns them validated against
etl.graph.model (``validate``, ``iter_items``) and as the rows of nodes and relationships
(``*_rows``) that the loader writes to Neo4j, the bulk importer writes as CSV and the NetworkX
export builds a graph from. Nothing here talks to a database, so the offline exports,
corrections and review check a record as the loader does without importing it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError

from etl.errors import LoadError, RecordError
from etl.graph import model as graph
from etl.graph.model import L, R
from etl.graph.records import DocumentRecord, iter_record_lines, parse_record, record_of, shown

# (where it came from: path:line or <records>:n, the record, its record_hash)
Item = tuple[str, DocumentRecord, str]


# --- validation: what a record may put in the graph -------------------------------------------

# What a claimed value cannot hold: the separator of a claim's values, and control characters
# (the bulk importer's array delimiter is one).
_UNCLAIMABLE = re.compile("[" + re.escape(graph.CLAIM_SEPARATOR) + "\x00-\x1f\x7f]")


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
            if label == L.Region and graph.KEY_SEPARATOR in name:
                raise RecordError(f"entities.Region.{name[:40]}: a region's name holds no "
                                  f"{graph.KEY_SEPARATOR!r} (it joins an anonymized region's key)")
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
                if isinstance(value, str) and _UNCLAIMABLE.search(value):
                    raise RecordError(f"{where}: holds {graph.CLAIM_SEPARATOR!r} or a control character, "
                                      "which a node's claims cannot keep apart")


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
            if record.region.name not in sets.get(L.Region, ()):
                raise RecordError(f"region: {record.region.name[:40]!r} is not among its Region entities")
            _check(record.region.name, "region.name")
            _check(record.region.level, "region.level")
            _check(record.region.adcode, "region.adcode")
        for n, rel in enumerate(record.relations):
            where = f"relations.{n}"
            if rel.type != R.REPORTS_ON:
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
    props = record.properties.get(L.Region, {}).get(name, {})
    if props.get("anonymized") is not None:
        return bool(props["anonymized"])
    return bool(record.region and record.region.name == name and record.region.anonymized)


def entity_key(record: DocumentRecord, label: str, name: str) -> str:
    """The key of an entity node: the name, or name@doc_key for an anonymized region."""
    if label != L.Region:
        return name
    return graph.region_key(name, is_anonymized(record, name), graph.doc_key(graph.document_path(record)))


def record_hash(record: DocumentRecord, line: str | None = None) -> str:
    """What tells two loads of one path apart: a hash of the whole record (a re-extraction changes it).

    The hash of its records.jsonl ``line`` when it came from one: the line is the record's JSON
    as ``to_json`` writes it, so for our own files the two agree, and serializing every record
    again took a tenth of a load. A line written otherwise (spacing, key order) hashes alike
    at every load of that file.
    """
    try:
        text = line.strip() if line is not None else record.to_json()
    except PydanticSerializationError:  # a text holding a lone surrogate (records.record_of)
        raise RecordError(f"document {shown(record.doc[:200])}: holds half of a surrogate pair, "
                          "not a character") from None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# --- the graph rows of records: what every sink (Neo4j, bulk CSV, NetworkX) writes -------------


def _owner(record: DocumentRecord) -> str:
    return graph.doc_key(graph.document_path(record))


def document_rows(records: Iterable[DocumentRecord], hashes: dict[str, str] | None = None) -> list[dict]:
    """One row a document: its path (the key), doc_key, content hash, file name and metadata,
    and ``claims``, what it claims of shared nodes (``claim_entry``; None when nothing), which
    its removal takes back off those nodes.

    ``hashes`` are the records' hashes by path where known (record_hash otherwise).
    """
    return [{"path": graph.document_path(r), "doc_key": _owner(r), "doc_id": r.doc_id, "name": r.doc,
             "title": r.title, "date": r.date, "source": r.source, "lang_variant": r.lang_variant,
             "lexicon_version": r.lexicon_version,
             "record_hash": hashes[graph.document_path(r)] if hashes else record_hash(r),
             graph.CLAIMS: sorted((claim_entry(label, key, claim) for (label, key), claim in claims_of(r).items()),
                                  key=cypher_order) or None}
            for r in records]


def sentence_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    rows = []
    for r in records:
        owner = _owner(r)
        rows += [{"id": f"{owner}:{s.index}", "doc_key": owner, "index": s.index, "text": s.text,
                  "start": s.start, "end": s.end} for s in r.sentences]
    return rows


def entity_rows(records: Iterable[DocumentRecord]) -> dict[str, list[dict]]:
    """Per label, rows {key, name, props, claims, counts}: one per entity node the records name.

    ``props`` are what the key decides (an anonymized region's ``anonymized`` and owner); what
    the documents say of the node (level, category …) is not set from any one of them: each
    document's values are its claim (``claims_of``), and ``claims`` (distinct, sorted) with
    ``counts`` say how many of these documents make each, to be added to the node's counted
    claims (``merge_claims``), from which every sink derives its properties (``derive``).
    One row per entity, however many documents of the batch name it: each row is a locked write.
    """
    rows: dict[str, dict[str, dict]] = defaultdict(dict)
    counted: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in records:
        owner = _owner(r)
        for label in graph.ENTITY_LABELS:
            for name in r.entities.get(label, []):
                key = entity_key(r, label, name)
                if key in rows[label]:
                    continue
                props: dict[str, Any] = {}
                if label == L.Region:
                    anonymized = is_anonymized(r, name)
                    props["anonymized"] = anonymized
                    if anonymized:
                        props["doc_key"] = owner
                rows[label][key] = {"key": key, "name": name, "props": props}
        for (label, key), claim in claims_of(r).items():
            counted[label, key][claim] += 1
    for label, by_key in rows.items():
        for key, row in by_key.items():
            claims = sorted(counted[label, key], key=cypher_order)
            row["claims"], row["counts"] = claims, [counted[label, key][c] for c in claims]
    return {label: list(by_key.values()) for label, by_key in rows.items()}


def claims_of(record: DocumentRecord) -> dict[tuple[str, str], str]:
    """The record's claims: (label, node key) -> its values for that node; one per node (the first
    name giving the key decides), none where it gives no value."""
    claims: dict[tuple[str, str], str] = {}
    for label in graph.ENTITY_LABELS:
        given_by_name = record.properties.get(label, {})
        for name in record.entities.get(label, []):
            key = entity_key(record, label, name)
            if (label, key) in claims:
                continue
            claim = claim_of(label, given_by_name.get(name, {}))
            if claim is not None:
                claims[label, key] = claim
    return claims


def claim_of(label: str, given: dict[str, Any]) -> str | None:
    """A document's values for a node of the label, in etl.graph.model.CLAIMED's order; None when it gives none."""
    values = [given.get(prop) or "" for prop in graph.CLAIMED[label]]
    return graph.CLAIM_SEPARATOR.join(values) if any(values) else None


def claim_entry(label: str, key: str, claim: str) -> str:
    """A Document's ``claims`` entry: the label, the claim, then the node's key, "|"-separated.

    The claim has one field per property of etl.graph.model.CLAIMED[label] and no "|" in
    any (validate refuses it), so the key is what follows them, whatever it holds.
    """
    return graph.CLAIM_SEPARATOR.join((label, claim, key))


def merge_claims(claims: list[str], counts: list[int], more: dict[str, int]) -> tuple[list[str], list[int]]:
    """A node's counted claims (distinct, in sort order) with ``more`` added (a negative count
    takes back); a claim no document makes any more is dropped. The loader does the same in Cypher."""
    total = Counter(dict(zip(claims, counts, strict=True)))
    for claim, n in more.items():
        total[claim] += n
    kept = sorted((c for c, n in total.items() if n > 0), key=cypher_order)
    return kept, [total[c] for c in kept]


def cypher_order(text: str) -> bytes:
    """A sort key giving Cypher's order of strings (Java's, by UTF-16 code unit), which differs
    from Python's past U+FFFF; the claims are sorted alike in both."""
    return text.encode("utf-16-be", "surrogatepass")


def derive(label: str, claims: list[str], counts: list[int]) -> dict[str, str | None]:
    """A node's properties from its counted claims: the claim the most documents make, a tie
    going to the claim first in sort order, so that no load order and no lone document decides.

    The loader does the same in Cypher (etl.graph.load._derive); a test compares the two graphs.
    """
    winner = min(zip(claims, counts, strict=True), key=lambda cn: (-cn[1], cypher_order(cn[0])))[0] if claims else None
    values = winner.split(graph.CLAIM_SEPARATOR) if winner is not None else []
    return {prop: (values[n] or None) if n < len(values) else None
            for n, prop in enumerate(graph.CLAIMED[label])}


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


# What a MENTIONS relationship holds: where in its sentence the entity is named (mention_rows).
MENTION_PROPERTIES = ("end", "start")


def relation_properties(rtype: str) -> list[str]:
    """The properties a relationship of the type may hold, sorted: what the loader writes on it
    (an owned relationship's owner, key and evidence, what a relation or quantity may carry)."""
    if rtype == R.MENTIONS:
        return list(MENTION_PROPERTIES)
    if rtype not in graph.RELATION_ENDS:
        return []
    quantity = set(graph.QUANTITY_PROPERTIES) if rtype in graph.QUANTITY_TYPES else set()
    return sorted(graph.OWNER_PROPERTIES | graph.RELATION_PROPERTIES[rtype] | quantity)


def reports_on_rows(records: Iterable[DocumentRecord]) -> list[dict]:
    return [{"doc_key": _owner(r), "key": entity_key(r, L.Region, r.region.name)} for r in records if r.region]


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
            if rel.type == R.REPORTS_ON:
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
            rtype = graph.QUANTITY_RELATION[q.subject_type]
            props = {k: getattr(q, k) for k in graph.QUANTITY_PROPERTIES if getattr(q, k) is not None}
            groups[(rtype, L.Region, q.subject_type)].append({
                "head": entity_key(r, L.Region, r.region.name), "tail": q.subject,
                "props": {"doc_key": owner, "key": f"{owner}:{n}",
                          "evidence": [f"{owner}:{i}" for i in q.evidence], **props}})
    return groups


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
            digest = record_hash(record, item if isinstance(item, str) else None)
        except RecordError as exc:
            text = str(exc)
            failures.append(text if text.startswith(where + ":") else f"{where}: {text}")
            continue
        yield where, record, digest


def _as_record(item: Any, where: str) -> DocumentRecord:
    if isinstance(item, DocumentRecord):
        return item
    if isinstance(item, str):
        return parse_record(item, where=where)
    if isinstance(item, dict):
        return record_of(item, where)
    raise RecordError(f"{where}: a {type(item).__name__}, not a DocumentRecord")


def iter_records(source: Path | str | Iterable[DocumentRecord | dict], failures: list[str]) -> Iterator[DocumentRecord]:
    """The validated records of a source (see iter_items), without where they came from."""
    return (record for _, record, _ in iter_items(source, failures))
