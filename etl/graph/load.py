"""Load stage: records.jsonl in, a Neo4j graph out, one document all-or-nothing, idempotent.

Takes DocumentRecords (or a records.jsonl path / folder, as Path or str) and a driver; returns
LoadStats. The graph model is etl.graph.model's: a document is its path; everything it asserts (its
sentences, mentions, anonymized regions, and one relationship per assertion carrying its
``doc_key`` and ``evidence``) is its own, so loading or replacing a document touches only its
own data, found through indexes, and the time per document does not grow with the graph.

Every record is validated and turned into rows first, by etl.graph.rows (etl.graph.model's
whitelist and bounds, references inside the document); a record that fails is one line naming
``path:line`` and the field, and is not loaded. Documents are written in batches, a batch in one
write transaction; a batch Neo4j refuses is retried document by document, so one bad document
is reported and the others load. The next batch is parsed, validated and turned into rows in a
thread while Neo4j writes one. A document already in the graph with the same record (same record
hash) is left alone; a new version of a path replaces the old one: a transaction takes out the
batch's old versions (and the shared nodes only they held), the next writes the new ones.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue

import neo4j
from etl import config
from etl.errors import LoadError
from etl.graph import db, migrations
from etl.graph import model as graph
from etl.graph.records import DocumentRecord
from etl.graph.rows import (
    Item,
    document_rows,
    entity_rows,
    iter_items,
    mention_rows,
    records_path,
    relation_properties,
    relation_rows,
    reports_on_rows,
    sentence_rows,
)

# Documents per transaction. Until it commits, a transaction's state lives in the server's heap:
# this small, it fits a survivor space of the young generation (etl.neo4j.server) and dies there.
# At 500 documents (about 250 MiB) it was promoted at each young collection and the old
# generation compacted every other batch: the 10,000-report load spent 13-15 CPU s in GC threads
# and 11 full collections, against 3 s and none at 100 (benchmarks/README.md, Loading). More
# transactions cost the writing thread a little (each commit refreshes the full-text index).
DEFAULT_BATCH = config.DEFAULT_LOAD_BATCH
# At most this many items (sentences, mentions, relations, quantities, entity names) per
# transaction, whatever the number of documents: a generated report has about 300, and its
# transaction state takes about 0.5 MiB of the server's heap, so a batch of long reports stays
# near 50 MiB, within a survivor space of the embedded server (64 MiB at the smallest heap).
MAX_BATCH_ITEMS = 30_000

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
    # Documents removed in finishing an emptying (--fresh) that had been interrupted.
    emptied: int = 0

    def add(self, summary: neo4j.ResultSummary, merged_rows: int = 0) -> None:
        """Count a statement's changes; of ``merged_rows`` MERGEd nodes, those not created were updated."""
        c = summary.counters
        self.nodes_updated += max(0, merged_rows - c.nodes_created) if merged_rows else 0
        self.nodes_created += c.nodes_created
        self.nodes_deleted += c.nodes_deleted
        self.relationships_created += c.relationships_created
        self.relationships_deleted += c.relationships_deleted
        self.properties_set += c.properties_set


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
               "SET n.name = row.name SET n += row.props "
               f"WITH n, coalesce(n.{graph.CLAIMS}, []) + row.claims AS cs, "
               f"coalesce(n.{graph.CLAIM_COUNTS}, []) + row.counts AS ks "
               + _derive(label), rows, True)
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


def _derive(label: str) -> str:
    """Cypher that adds the counts ``ks`` of claims ``cs`` into node ``n``'s counted claims (as
    etl.graph.rows.merge_claims: summed by claim, those at 0 dropped, in sort order) and gives it
    the properties etl.graph.rows.derive finds in them: the claim the most documents make, a tie
    going to the first in sort order. Reads and writes as many entries as the node has distinct
    claims, however many documents name it."""
    values = ", ".join(f"n.{prop} = CASE WHEN v[{i}] = '' THEN null ELSE v[{i}] END"
                       for i, prop in enumerate(graph.CLAIMED[label]))
    return ("CALL (cs, ks) { UNWIND range(0, size(cs) - 1) AS i WITH cs[i] AS c, sum(ks[i]) AS k WHERE k > 0 "
            "WITH c, k ORDER BY c RETURN collect(c) AS claims, collect(k) AS counts } "
            "CALL (claims, counts) { UNWIND range(0, size(claims) - 1) AS i WITH claims[i] AS c, counts[i] AS k "
            "ORDER BY k DESC, c LIMIT 1 RETURN collect(c)[0] AS winner } "
            f"WITH n, claims, counts, split(coalesce(winner, ''), '{graph.CLAIM_SEPARATOR}') AS v "
            f"SET n.{graph.CLAIMS} = CASE WHEN claims = [] THEN null ELSE claims END, "
            f"n.{graph.CLAIM_COUNTS} = CASE WHEN claims = [] THEN null ELSE counts END"
            + (", " + values if values else ""))


def _unclaim(label: str) -> str:
    """Cypher that takes the claims the Documents of ``$keys`` made of nodes of the label (their
    ``claims`` entries, etl.graph.rows.claim_entry) back off those nodes, one document each."""
    sep = graph.CLAIM_SEPARATOR
    fields = len(graph.CLAIMED[label])
    claim = f" + '{sep}' + ".join(f"p[{i}]" for i in range(fields))
    prefix = f"{label}{sep}"
    return ("UNWIND $keys AS k MATCH (d:Document {doc_key: k}) WHERE d.removing AND d." + graph.CLAIMS
            + f" IS NOT NULL UNWIND d.{graph.CLAIMS} AS e WITH e WHERE e STARTS WITH '{prefix}' "
            f"WITH substring(e, {len(prefix)}) AS rest WITH rest, split(rest, '{sep}') AS p "
            f"WITH rest, {claim} AS claim "
            f"MATCH (n:{label} {{{graph.KEY[label]}: substring(rest, size(claim) + 1)}}) "
            "WITH n, collect(claim) AS gone "
            f"WITH n, coalesce(n.{graph.CLAIMS}, []) + gone AS cs, "
            f"coalesce(n.{graph.CLAIM_COUNTS}, []) + [g IN gone | -1] AS ks " + _derive(label))


def _relation_map(rtype: str) -> str:
    """The properties of a relationship row as a Cypher map ({doc_key: row.props.doc_key, …}).

    Written into the CREATE rather than ``SET r = row.props``: a SET of a whole map makes the
    planner buffer every row of the statement first (an Eager), in case it changed what the
    MATCHes read. A property a row lacks is null, and CREATE stores no null.
    """
    return "{" + ", ".join(f"{name}: row.props.{name}" for name in relation_properties(rtype)) + "}"


def _removals() -> Iterator[str]:
    """Statements that take out everything the documents of ``$keys`` own, each through an index.

    Each returns ``ends``: the element ids of the nodes its deleted relationships reached.
    """
    for rtype in graph.OWNED_TYPES:
        yield (f"UNWIND $keys AS k MATCH (h)-[r:{rtype} {{doc_key: k}}]->(t) DELETE r "
               "RETURN collect(DISTINCT elementId(h)) + collect(DISTINCT elementId(t)) AS ends")
    yield ("UNWIND $keys AS k MATCH (s:Sentence {doc_key: k}) OPTIONAL MATCH (s)-[:MENTIONS]->(n) "
           "WITH s, collect(elementId(n)) AS ends DETACH DELETE s "
           "RETURN reduce(acc = [], e IN collect(ends) | acc + e) AS ends")
    yield "UNWIND $keys AS k MATCH (n:Region {doc_key: k}) DETACH DELETE n RETURN collect(null) AS ends"
    yield ("UNWIND $keys AS k MATCH (d:Document {doc_key: k}) OPTIONAL MATCH (d)-[:REPORTS_ON]->(n) "
           "WITH d, collect(elementId(n)) AS ends DETACH DELETE d "
           "RETURN reduce(acc = [], e IN collect(ends) | acc + e) AS ends")


# A node that a removal's relationships reached and that nothing reaches any more.
_ORPHANS = "UNWIND $ids AS id MATCH (n) WHERE elementId(n) = id AND NOT (n)--() DELETE n"


# Locks the stored versions to take out, as they were seen (path key and record hash). A version
# shares its doc_key with every other version of its path; a concurrent load may have replaced
# the one seen since, and a removal by doc_key would then take out part of the new version.
_LOCK = ("UNWIND $docs AS d MATCH (doc:Document {doc_key: d.key}) WHERE d.hash IS NULL OR doc.record_hash = d.hash "
         "SET doc.removing = true RETURN collect(doc.doc_key) AS keys")


def _remove(tx: neo4j.ManagedTransaction, old: list[dict]) -> list[neo4j.ResultSummary]:
    """Take out everything the stored versions ``old`` ({key, hash}) own (``_removals``), and what only they held.

    Only the versions this transaction locked first (``_LOCK``): every writer of a path deletes or
    locks its stored version first, so while the lock is held nothing else of that doc_key is
    written. A shared node (a region, mechanism, actor …) that one of their relationships or
    mentions reached and that no relationship reaches any more is deleted too: a graph after a
    replacement or a correction must equal a clean load, without nodes left over from the old
    version (found by probing: 592 orphan regions in one run). First the claims each old version
    made of shared nodes (its Document's ``claims``) are taken back off them (``_unclaim``).
    """
    result = tx.run(_LOCK, docs=old)
    keys = result.single(strict=True)["keys"]
    summaries, touched = [result.consume()], set()
    if not keys:
        return summaries
    for label in graph.ENTITY_LABELS:
        summaries.append(tx.run(_unclaim(label), keys=keys).consume())
    for cypher in _removals():
        result = tx.run(cypher, keys=keys)
        touched.update(result.single(strict=True)["ends"])
        summaries.append(result.consume())
    if touched:
        summaries.append(tx.run(_ORPHANS, ids=sorted(touched)).consume())
    return summaries


class Rows(list):
    """A statement's rows as the driver sends them, shown by their number only.

    The driver formats every RUN's parameters for a debug line whether or not anything logs
    (neo4j 5.28, Bolt5x5.run: ``" ".join(map(repr, fields))``): the repr of a batch's 150,000
    rows took seconds of the client's time while Neo4j waited for the statement. A list
    subclass packs to the same bytes.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


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


def _stored(tx: neo4j.ManagedTransaction, batch: Batch) -> tuple[list[Item], list[dict]]:
    """The batch's documents not in the graph as they are, and their stored old versions ({key, hash})."""
    stored = {row["path"]: (row["doc_key"], row["hash"]) for row in tx.run(
        "UNWIND $paths AS p MATCH (d:Document {path: p}) RETURN d.path AS path, d.doc_key AS doc_key, "
        "d.record_hash AS hash", paths=list(batch.hashes))}
    fresh = [item for item in batch.items if stored.get(graph.document_path(item[1]), (None, None))[1] != item[2]]
    old = [stored[graph.document_path(r)] for _, r, _ in fresh if graph.document_path(r) in stored]
    return fresh, [{"key": key, "hash": digest} for key, digest in old]


def _clear_batch(tx: neo4j.ManagedTransaction, batch: Batch) -> tuple[list[neo4j.ResultSummary], int, int]:
    """One transaction: take out the stored old versions of the batch's changed documents.

    Before the transaction that writes them, not in it: every statement of a transaction that
    holds many deletions is slower (reloading 1,000 changed documents took 212 s against 7 s for
    a fresh load). Between the two transactions the changed documents are absent, never partial;
    a load killed there writes them at its next run. Returns the summaries, the old versions
    taken out and the documents to write.
    """
    fresh, old = _stored(tx, batch)
    return (_remove(tx, old) if old else []), len(old), len(fresh)


def _write_batch(tx: neo4j.ManagedTransaction, batch: Batch) -> _Outcome:
    """One transaction: skip documents already loaded alike, take out old versions, write the rest.

    Old versions are normally gone already (_clear_batch); one written meanwhile by a concurrent
    load is taken out here, under this transaction's locks.
    """
    fresh, old = _stored(tx, batch)
    summaries = [(summary, 0) for summary in _remove(tx, old)] if old else []
    # The statements made ready for the whole batch serve when every document is new or changed.
    statements = batch.statements if len(fresh) == len(batch.items) else _statements(
        [r for _, r, _ in fresh], batch.hashes)
    for cypher, rows, merges in statements:
        if rows:
            summaries.append((tx.run(cypher, rows=Rows(rows)).consume(), len(rows) if merges else 0))
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
                cleared, replaced, fresh = session.execute_write(_clear_batch, batch)
                # Every document already in the graph alike: nothing to write.
                outcome = session.execute_write(_write_batch, batch) if fresh else _Outcome(
                    [], [], 0, len(batch.items))
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
        for summary, merged in [(summary, 0) for summary in cleared] + outcome.summaries:
            self.stats.add(summary, merged)
        self.stats.documents += len(outcome.written)
        self.stats.replaced += replaced + outcome.replaced
        self.stats.unchanged += outcome.unchanged


# --- sources ----------------------------------------------------------------------------------


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
    if db.emptying_unfinished(driver, database):
        stats.emptied = db.empty_graph(driver, database)
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
