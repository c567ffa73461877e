"""The graph as NetworkX: read from Neo4j or built from records.jsonl, projected, written to files.

Takes a neo4j.Driver (``graph_from_neo4j``) or records.jsonl / DocumentRecords
(``graph_from_records``); returns a ``networkx.MultiDiGraph`` that both build alike, so a
researcher can work without a database and a test can check the two agree:

- a node per Document, Region, Actor, Mechanism, Measure, WaterBody, Indicator and Policy
  (Sentence too with ``sentences=True``), with id ``"Label:key"`` where the key is
  ``Region.key`` (``XX区@<doc_id>`` for an anonymized region), ``Document.doc_id``,
  ``Sentence.id``, else ``name``; attributes ``label``, ``key`` and every property;
- an edge per relationship, keyed ``TYPE`` for an entity-level one and ``TYPE:<key>`` for a
  quantity (``MEASURES:<doc_id>:<n>``; ``MENTIONS:<start>`` for mentions), with attribute
  ``type`` and every property (``key``, ``evidence``, ``docs``, ``value`` …).

Projections (``region_mechanism``, ``actor_coinvolvement``, ``region_similarity``) return
weighted undirected ``networkx.Graph``s; ``write_graph`` writes any of them as GraphML, GEXF
or node-link JSON.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

import neo4j
from etl import config, load
from etl.errors import ExportError, RecordError
from etl.load import DEFAULT_BATCH, iter_records, validate
from etl.records import LABELS, RELATION_TYPES, DocumentRecord

# The property that keys each label's nodes (constraints of migration 0001); the rest use name.
KEY_PROPERTY = {"Document": "doc_id", "Sentence": "id", "Region": "key"}
NODE_LABELS = ("Document", *LABELS)
FORMATS = ("graphml", "gexf", "json")


def node_id(label: str, key: str) -> str:
    """The NetworkX id of a node: ``"Label:key"``, unique across labels."""
    return f"{label}:{key}"


def edge_key(rtype: str, props: dict[str, Any]) -> str:
    """The MultiDiGraph key of a relationship: its type, plus its ``key`` property when not empty.

    MENTIONS have no ``key`` property; the loader merges them on ``start``, so that keys them.
    """
    if rtype == "MENTIONS":
        return f"MENTIONS:{props.get('start')}"
    key = props.get("key")
    return f"{rtype}:{key}" if key else rtype


def _new_graph(source: str) -> nx.MultiDiGraph:
    return nx.MultiDiGraph(name="govgraph", source=source, projection="full")


# --- from Neo4j -----------------------------------------------------------------------------


def _values(driver: neo4j.Driver, cypher: str, database: str) -> list[list[Any]]:
    """A read query's rows as lists of values, in a managed read transaction like etl.db.read.

    Lists rather than db.read's dicts: building a dict per row is a third of a large read's time.
    """
    return driver.execute_query(cypher, database_=database, routing_=neo4j.RoutingControl.READ,
                                result_transformer_=neo4j.Result.values)


def graph_from_neo4j(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE,
                     sentences: bool = False) -> nx.MultiDiGraph:
    """Read the whole graph (without :Migration, and without Sentence/MENTIONS unless asked).

    Two read queries, one for nodes and one for relationships; relationship ends are matched
    to nodes by element id, so a relationship whose end is not exported is left out.
    """
    labels = NODE_LABELS + (("Sentence",) if sentences else ())
    types = RELATION_TYPES + (("MENTIONS",) if sentences else ())
    g = _new_graph("neo4j")
    ids: dict[str, str] = {}
    # Labels and types come from the ontology's whitelist, never from data.
    nodes = _values(driver, f"MATCH (n:{'|'.join(labels)}) RETURN elementId(n), labels(n), properties(n)", database)
    for eid, node_labels, props in nodes:
        label = next(lb for lb in node_labels if lb in labels)
        key = props[KEY_PROPERTY.get(label, "name")]
        ids[eid] = nid = node_id(label, key)
        g.add_nodes_from([(nid, {"label": label, "key": key, **props})])
    rels = _values(driver, f"MATCH (a)-[r:{'|'.join(types)}]->(b) RETURN elementId(a), elementId(b), type(r), "
                           "properties(r)", database)
    g.add_edges_from((ids[a], ids[b], edge_key(rtype, props), {"type": rtype, **props})
                     for a, b, rtype, props in rels if a in ids and b in ids)
    return g


# --- from records.jsonl ---------------------------------------------------------------------


class _Builder:
    """Builds the graph the way etl.load writes it, batch by batch, from the same rows (etl.load.*_rows).

    Like Loader.load, a batch first takes out older versions of its documents (same file name,
    other doc_id), then merges nodes, then relationships whose two ends exist by then.
    """

    def __init__(self, sentences: bool):
        self.sentences = sentences
        self.g = _new_graph("records")
        self.documents: dict[str, set[str]] = defaultdict(set)  # file name -> doc_ids in the graph
        # Each relationship's data dict in the graph, with its evidence and docs as sets: one like
        # INVOLVES(河长+检察长, 检察长) gathers evidence from every document, and testing
        # membership in its lists would make building quadratic.
        self.rels: dict[tuple[str, str, str], tuple[dict[str, Any], set[str], set[str]]] = {}

    def load(self, batch: list[DocumentRecord]) -> None:
        for record in batch:
            for old in sorted(self.documents[record.doc] - {record.doc_id}):
                self.remove(old)
        for row in load.document_rows(batch):
            self.documents[row["name"]].add(row["doc_id"])
            self.node("Document", row["doc_id"], row)
        if self.sentences:
            for row in load.sentence_rows(batch):
                self.node("Sentence", row["id"], row)
        for label, rows in load.entity_rows(batch).items():
            for row in rows:
                self.node(label, row["key"], {"name": row["name"], **row["props"]})
        if self.sentences:
            for label, rows in load.mention_rows(batch).items():
                for row in rows:
                    mention = {"type": "MENTIONS", "start": row["start"], "end": row["end"]}
                    self.edge(node_id("Sentence", row["sentence"]), node_id(label, row["key"]),
                              f"MENTIONS:{row['start']}", mention)
        for row in load.reports_on_rows(batch):
            self.edge(node_id("Document", row["doc_id"]), node_id("Region", row["key"]), "REPORTS_ON",
                      {"type": "REPORTS_ON"})
        for (rtype, head_label, tail_label), rows in load.relation_rows(batch).items():
            for row in rows:
                self.relation(node_id(head_label, row["head"]), rtype, node_id(tail_label, row["tail"]), row)

    def remove(self, doc_id: str) -> None:
        """Take an old version out, as Loader.remove_document does."""
        prefix = doc_id + ":"
        gone = []
        for u, v, k, d in self.g.edges(keys=True, data=True):
            if doc_id in d.get("docs", []):
                d["evidence"] = [e for e in d["evidence"] if not e.startswith(prefix)]
                d["docs"] = [x for x in d["docs"] if x != doc_id]
                self.rels[u, v, k] = (d, set(d["evidence"]), set(d["docs"]))
                if not d["evidence"]:
                    gone.append((u, v, k))
        self.g.remove_edges_from(gone)
        for edge in gone:
            del self.rels[edge]
        nodes = {n for n, d in self.g.nodes(data=True)
                 if d["label"] in ("Sentence", "Region", "Document") and d.get("doc_id") == doc_id}
        self.g.remove_nodes_from(nodes)
        self.rels = {e: rel for e, rel in self.rels.items() if e[0] not in nodes and e[1] not in nodes}
        for doc_ids in self.documents.values():
            doc_ids.discard(doc_id)

    def node(self, label: str, key: str, props: dict[str, Any]) -> None:
        """MERGE on the key, then SET each property; a None removes it, as SET n.p = null does."""
        nid = node_id(label, key)
        if nid not in self.g:
            self.g.add_node(nid, label=label, key=key)
        data = self.g.nodes[nid]
        for name, value in props.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value

    def edge(self, head: str, tail: str, key: str, data: dict[str, Any]) -> None:
        """A relationship without evidence (MENTIONS, REPORTS_ON), merged on its key; ends must exist."""
        if head in self.g and tail in self.g:
            if self.g.has_edge(head, tail, key):
                self.g.edges[head, tail, key].update(data)
            else:
                self.g.add_edges_from([(head, tail, key, data)])

    def relation(self, head: str, rtype: str, tail: str, row: dict[str, Any]) -> None:
        """MERGE on (head, type, key, tail), SET its properties, append evidence and doc ids not yet there."""
        key = edge_key(rtype, {"key": row["rkey"]})
        if head not in self.g or tail not in self.g:
            return
        if (head, tail, key) not in self.rels:
            self.g.add_edges_from([(head, tail, key, {"type": rtype, "key": row["rkey"], "evidence": [], "docs": []})])
            self.rels[head, tail, key] = (self.g.succ[head][tail][key], set(), set())
        data, known, docs = self.rels[head, tail, key]
        data.update(row["props"])
        new = [e for e in row["evidence"] if e not in known]
        data["evidence"].extend(new)
        known.update(new)
        if row["doc_id"] not in docs:
            data["docs"].append(row["doc_id"])
            docs.add(row["doc_id"])


def graph_from_records(source: Path | Iterable[DocumentRecord], sentences: bool = False,
                       failures: list[str] | None = None, batch_size: int = DEFAULT_BATCH) -> nx.MultiDiGraph:
    """Build the graph etl.load would load from records.jsonl (a file or its folder) or from records.

    Records are read as a stream in the loader's batches, so the result is what loading them
    into an empty database gives, replaced documents included. Records that fail validation are
    skipped, as the loader skips them, and reported in ``failures`` when a list is given.
    """
    failures = [] if failures is None else failures
    if isinstance(source, Path | str):
        records: Iterable[DocumentRecord] = iter_records(Path(source), failures)
    else:
        records = _validated(source, failures)
    builder = _Builder(sentences)
    batch: list[DocumentRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            builder.load(batch)
            batch = []
    builder.load(batch)
    return builder.g


def _validated(records: Iterable[DocumentRecord], failures: list[str]) -> Iterable[DocumentRecord]:
    for record in records:
        try:
            validate(record)
        except RecordError as exc:
            failures.append(str(exc))
            continue
        yield record


# --- projections ----------------------------------------------------------------------------


def _edges_of_type(g: nx.MultiDiGraph, rtype: str) -> Iterable[tuple[str, str, dict[str, Any]]]:
    return ((u, v, d) for u, v, d in g.edges(data=True) if d.get("type") == rtype)


def _copy_node(target: nx.Graph, g: nx.MultiDiGraph, nid: str, **extra: Any) -> None:
    if nid not in target:
        target.add_node(nid, **g.nodes[nid], **extra)


def region_mechanism(g: nx.MultiDiGraph) -> nx.Graph:
    """Bipartite Region–Mechanism graph of ADOPTS (Region ``bipartite=0``, Mechanism ``bipartite=1``).

    An edge's ``weight`` is the number of evidence sentences behind the adoption, so a mechanism
    a region reports again and again weighs more than one mentioned once.
    """
    out = nx.Graph(name="govgraph", projection="region-mechanism")
    for u, v, d in _edges_of_type(g, "ADOPTS"):
        _copy_node(out, g, u, bipartite=0)
        _copy_node(out, g, v, bipartite=1)
        weight = len(d.get("evidence", []))
        if out.has_edge(u, v):
            out.edges[u, v]["weight"] += weight
        else:
            out.add_edge(u, v, weight=weight)
    return out


def actor_coinvolvement(g: nx.MultiDiGraph) -> nx.Graph:
    """Actor–Actor graph: two actors are linked when one Mechanism INVOLVES both.

    ``weight`` is the number of such mechanisms and ``mechanisms`` their sorted names
    (河长 — 检察长 through 河长+检察长). Every involved actor is a node, linked or not.
    """
    involved: dict[str, set[str]] = defaultdict(set)
    for u, v, _ in _edges_of_type(g, "INVOLVES"):
        involved[u].add(v)
    out = nx.Graph(name="govgraph", projection="actors")
    for mechanism in sorted(involved):
        actors = sorted(involved[mechanism])
        for actor in actors:
            _copy_node(out, g, actor)
        for a, b in itertools.combinations(actors, 2):
            if not out.has_edge(a, b):
                out.add_edge(a, b, weight=0, mechanisms=[])
            out.edges[a, b]["weight"] += 1
            out.edges[a, b]["mechanisms"].append(g.nodes[mechanism].get("name", mechanism))
    return out


def region_similarity(g: nx.MultiDiGraph) -> nx.Graph:
    """Region–Region graph weighted by the Jaccard similarity of the mechanisms they adopt.

    Only pairs sharing at least one mechanism are linked (``weight`` > 0, ``shared`` the count);
    every region that adopts something is a node. Anonymized regions stay one node per document.
    """
    adopted: dict[str, set[str]] = defaultdict(set)
    for u, v, _ in _edges_of_type(g, "ADOPTS"):
        adopted[u].add(v)
    adopters: dict[str, list[str]] = defaultdict(list)
    regions = sorted(adopted)
    for region in regions:
        for mechanism in adopted[region]:
            adopters[mechanism].append(region)
    out = nx.Graph(name="govgraph", projection="regions")
    for region in regions:
        _copy_node(out, g, region)
    for a in regions:
        # Only regions sharing a mechanism are candidates, so pairs with nothing in common cost nothing.
        candidates = {b for m in adopted[a] for b in adopters[m] if b > a}
        for b in sorted(candidates):
            shared = len(adopted[a] & adopted[b])
            out.add_edge(a, b, weight=shared / len(adopted[a] | adopted[b]), shared=shared)
    return out


PROJECTIONS: dict[str, Callable[[nx.MultiDiGraph], nx.Graph]] = {
    "full": lambda g: g,
    "region-mechanism": region_mechanism,
    "actors": actor_coinvolvement,
    "regions": region_similarity,
}


def project(g: nx.MultiDiGraph, projection: str) -> nx.Graph:
    """Apply a projection by its name (full, region-mechanism, actors, regions)."""
    if projection not in PROJECTIONS:
        raise ExportError(f"unknown projection {projection!r}: use one of {', '.join(PROJECTIONS)}")
    return PROJECTIONS[projection](g)


# --- writers --------------------------------------------------------------------------------

_GEXF = frozenset({"id", "label", "pid", "start", "end", "type", "key", "viz", "parents", "slices", "spells"})
# Attribute names a format keeps for itself (node names, edge names). Ours of these names are
# written with a trailing underscore (label_, key_) so that they survive a round trip: GEXF puts
# id/label/type/start/end on its elements and the multigraph key in "key"; node-link JSON uses a
# node's "id" and an edge's "key"/"source"/"target", and NetworkX cannot read an edge attribute "key";
# our GraphML keeps a multigraph edge's key in "edge_key".
RESERVED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "graphml": (frozenset(), frozenset({"edge_key"})),
    "gexf": (_GEXF, _GEXF),
    "json": (frozenset({"id"}), frozenset({"key", "source", "target"})),
}


def written_name(name: str, fmt: str, scope: str = "node") -> str:
    """The name an attribute is written under in ``fmt`` (``scope`` node or edge)."""
    reserved = RESERVED[fmt][0 if scope == "node" else 1]
    return f"{name}_" if name in reserved else name


def _scalar(value: Any) -> Any:
    """GraphML and GEXF take str/int/float/bool only: lists and dicts become JSON text."""
    if isinstance(value, list | tuple | dict | set):
        return json.dumps(sorted(value) if isinstance(value, set) else value, ensure_ascii=False)
    return value


def _attrs(data: dict[str, Any], reserved: frozenset[str], scalars: bool) -> dict[str, Any]:
    """Attributes renamed where the format reserves the name; for XML formats scalars only, None dropped."""
    if not scalars:
        return {(f"{k}_" if k in reserved else k): v for k, v in data.items()}
    return {(f"{k}_" if k in reserved else k): _scalar(v) for k, v in data.items() if v is not None}


def _edges(g: nx.Graph) -> Iterable[tuple[Any, Any, Any, dict[str, Any]]]:
    """(u, v, key, data) for every edge; key is None in a graph that is not a multigraph."""
    if g.is_multigraph():
        return g.edges(keys=True, data=True)
    return ((u, v, None, d) for u, v, d in g.edges(data=True))


def file_graph(g: nx.Graph, fmt: str) -> nx.Graph:
    """A copy of ``g`` ready for ``gexf`` or ``json``: reserved names renamed; for GEXF scalars only, None dropped.

    In GEXF the visible node label is the node's name and the edge label its type, which is
    what Gephi shows; the Neo4j label is kept as the attribute ``label_``.
    """
    nodes_reserved, edges_reserved = RESERVED[fmt]
    scalars = fmt != "json"
    out = g.__class__()
    out.graph.update(_attrs(g.graph, frozenset(), scalars))
    for n, d in g.nodes(data=True):
        data = _attrs(d, nodes_reserved, scalars)
        if fmt == "gexf":
            data["label"] = str(d.get("name", d.get("key", n)))
        out.add_nodes_from([(n, data)])
    for u, v, k, d in _edges(g):
        data = _attrs(d, edges_reserved, scalars)
        if fmt == "gexf" and "type" in d:
            data["label"] = d["type"]
        out.add_edges_from([(u, v, k, data) if g.is_multigraph() else (u, v, data)])
    return out


# Characters XML 1.0 does not allow, even escaped; scraped text can hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GRAPHML_TYPE = {bool: "boolean", int: "long", float: "double", str: "string"}


def _graphml_types(items: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The GraphML type of each attribute name: boolean, long or double when all values agree, else string."""
    types: dict[str, str] = {}
    for data in items:
        for name, value in data.items():
            kind, seen = _GRAPHML_TYPE.get(type(value), "string"), types.get(name)
            if seen is None or seen == kind:
                types[name] = kind
            else:
                types[name] = "double" if {seen, kind} == {"long", "double"} else "string"
    return types


def _graphml_value(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "double":
        return repr(float(value))
    return escape(_NOT_XML.sub("", str(value)))


def _write_graphml(g: nx.Graph, path: Path) -> None:
    """Stream GraphML to ``path``: every attribute a <key>, lists as JSON text, None left out.

    Edge ids must be unique in a GraphML file (Gephi drops an edge whose id it has seen), so a
    multigraph's edges get ids e0, e1 … and their NetworkX key goes in the attribute ``edge_key``.
    Written by hand rather than with nx.write_graphml, which builds the whole XML tree in memory
    first and takes about as long again.
    """
    multigraph = g.is_multigraph()
    edges_reserved = RESERVED["graphml"][1]
    nodes = [(n, _attrs(d, frozenset(), True)) for n, d in g.nodes(data=True)]
    edges = [(u, v, k, _attrs(d, edges_reserved, True)) for u, v, k, d in _edges(g)]
    if multigraph:
        for _, _, k, d in edges:
            d["edge_key"] = str(k)
    graph_data = _attrs(g.graph, frozenset(), True)
    keys: dict[tuple[str, str], tuple[str, str]] = {}  # (scope, name) -> (key id, type)
    for scope, items in (("graph", [graph_data]), ("node", (d for _, d in nodes)), ("edge", (e[3] for e in edges))):
        for name, kind in _graphml_types(items).items():
            keys[scope, name] = (f"d{len(keys)}", kind)

    def data(scope: str, attrs: dict[str, Any]) -> str:
        parts = []
        for name, value in attrs.items():
            key, kind = keys[scope, name]
            parts.append(f'<data key="{key}">{_graphml_value(value, kind)}</data>')
        return "".join(parts)

    def attr(value: Any) -> str:
        return quoteattr(_NOT_XML.sub("", str(value)))

    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
                  '"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        for (scope, name), (key, kind) in keys.items():
            out.write(f'<key id="{key}" for="{scope}" attr.name={attr(name)} attr.type="{kind}"/>\n')
        direction = "directed" if g.is_directed() else "undirected"
        out.write(f'<graph edgedefault="{direction}">{data("graph", graph_data)}\n')
        out.writelines(f"<node id={attr(n)}>{data('node', d)}</node>\n" for n, d in nodes)
        ids = (f' id="e{i}"' if multigraph else "" for i in itertools.count())
        out.writelines(f"<edge{edge_id} source={attr(u)} target={attr(v)}>{data('edge', d)}</edge>\n"
                       for edge_id, (u, v, _, d) in zip(ids, edges, strict=False))
        out.write("</graph>\n</graphml>\n")


def write_graph(g: nx.Graph, path: Path, fmt: str) -> Path:
    """Write a graph as ``graphml``, ``gexf`` or ``json`` (UTF-8; Chinese text as is).

    JSON is NetworkX node-link data with ``edges="edges"`` (read it back with
    ``nx.node_link_graph(data, edges="edges")``). GraphML and GEXF hold scalars only, so lists
    (evidence, docs, mechanisms) are written as JSON text. See RESERVED for renamed attributes.
    ``read_graph`` reads any of them back as NetworkX, with the edge keys.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "graphml":
            _write_graphml(g, path)
        elif fmt == "gexf":
            nx.write_gexf(file_graph(g, fmt), path, encoding="utf-8")
        else:
            data = nx.node_link_data(file_graph(g, fmt), edges="edges")
            with path.open("w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, default=str)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}; choose another --out") from None
    return path


def read_graph(path: Path, fmt: str) -> nx.Graph:
    """Read back a file ``write_graph`` wrote, as NetworkX reads that format, with its edge keys."""
    if fmt == "graphml":
        return _keyed(nx.read_graphml(path))
    if fmt == "gexf":
        return nx.read_gexf(path)
    if fmt == "json":
        with Path(path).open(encoding="utf-8") as handle:
            return nx.node_link_graph(json.load(handle), edges="edges")
    raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def _keyed(g: nx.Graph) -> nx.Graph:
    """A GraphML multigraph read back with its edges keyed by ``edge_key`` again (see file_graph)."""
    if not any("edge_key" in d for *_, d in g.edges(data=True)):
        return g
    out = nx.MultiDiGraph() if g.is_directed() else nx.MultiGraph()
    out.graph.update(g.graph)
    out.add_nodes_from(g.nodes(data=True))
    # A file without parallel edges comes back as a DiGraph whose edges carry the file's "id".
    out.add_edges_from((u, v, d["edge_key"], {k: x for k, x in d.items() if k not in ("edge_key", "id")})
                       for u, v, d in g.edges(data=True))
    return out


@dataclass(frozen=True)
class Written:
    """What an export wrote."""

    path: Path
    format: str
    projection: str
    nodes: int
    edges: int


def export(g: nx.MultiDiGraph, path: Path, fmt: str, projection: str = "full") -> Written:
    """Project the full graph and write it; return the file with its node and edge counts."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = project(g, projection)
    write_graph(out, path, fmt)
    return Written(Path(path), fmt, projection, out.number_of_nodes(), out.number_of_edges())
