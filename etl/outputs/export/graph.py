"""The graph as NetworkX: read from Neo4j or built from records.jsonl, projected, written to files.

Takes a neo4j.Driver (``graph_from_neo4j``) or records.jsonl / DocumentRecords
(``graph_from_records``); returns a ``networkx.MultiDiGraph`` that both build alike, so a
researcher can work without a database and a test can check the two agree:

- a node per Document, Region, Actor, Mechanism, Measure, WaterBody, Indicator and Policy
  (Sentence too with ``sentences=True``), with id ``"Label:key"`` where the key is the
  property etl.graph.model.KEY names (``Document.path``, ``Region.key`` – ``XX区@<doc_key>`` for an
  anonymized region –, ``Sentence.id``, else ``name``); attributes ``label``, ``key`` and every
  property;
- an edge per relationship: one per document and assertion, keyed ``TYPE@<doc_key>``, a
  quantity ``TYPE:<key>`` (``MEASURES:<doc_key>:<n>``), a mention ``MENTIONS:<start>``, with
  attribute ``type`` and every property (``doc_key``, ``key``, ``evidence``, ``value`` …).

Projections (``region_mechanism``, ``actor_coinvolvement``, ``region_similarity``) return
weighted undirected ``networkx.Graph``s; ``write_graph`` writes any of them as GraphML, GEXF
or node-link JSON.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

import neo4j
from etl import config
from etl.errors import ExportError
from etl.files import atomic_write
from etl.graph.model import CLAIM_COUNTS, CLAIMS, KEY, OWNED_TYPES, L, R, doc_key, document_path
from etl.graph.records import LABELS, RELATION_TYPES, DocumentRecord
from etl.graph.rows import (
    claims_of,
    derive,
    document_rows,
    entity_rows,
    iter_items,
    mention_rows,
    merge_claims,
    relation_rows,
    reports_on_rows,
    sentence_rows,
)

NODE_LABELS = (L.Document, *LABELS)
FORMATS = ("graphml", "gexf", "json")


def node_id(label: str, key: str) -> str:
    """The NetworkX id of a node: ``"Label:key"``, unique across labels."""
    return f"{label}:{key}"


def edge_key(rtype: str, props: dict[str, Any]) -> str:
    """The MultiDiGraph key of a relationship, unique between its two ends.

    A quantity is keyed by its ``key`` (``MEASURES:<doc_key>:<n>``); an assertion, one per
    document, by its document (``ADOPTS@<doc_key>``); a mention by its start (the loader writes
    one per sentence, entity and start); REPORTS_ON by its type.
    """
    if rtype == R.MENTIONS:
        return f"MENTIONS:{props.get('start')}"
    if props.get("key"):
        return f"{rtype}:{props['key']}"
    return f"{rtype}@{props['doc_key']}" if props.get("doc_key") else rtype


def _new_graph(source: str) -> nx.MultiDiGraph:
    return nx.MultiDiGraph(name="govgraph", source=source, projection="full")


# --- from Neo4j -----------------------------------------------------------------------------


def _values(driver: neo4j.Driver, cypher: str, database: str) -> list[list[Any]]:
    """A read query's rows as lists of values, in a managed read transaction like etl.graph.db.read.

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
    labels = NODE_LABELS + ((L.Sentence,) if sentences else ())
    types = RELATION_TYPES + ((R.MENTIONS,) if sentences else ())
    g = _new_graph("neo4j")
    ids: dict[str, str] = {}
    # Labels and types come from the graph model, never from data.
    nodes = _values(driver, f"MATCH (n:{'|'.join(labels)}) RETURN elementId(n), labels(n), properties(n)", database)
    for eid, node_labels, props in nodes:
        label = next(lb for lb in node_labels if lb in labels)
        key = props[KEY[label]]
        ids[eid] = nid = node_id(label, key)
        g.add_nodes_from([(nid, {"label": label, "key": key, **props})])
    rels = _values(driver, f"MATCH (a)-[r:{'|'.join(types)}]->(b) RETURN elementId(a), elementId(b), type(r), "
                           "properties(r)", database)
    g.add_edges_from((ids[a], ids[b], edge_key(rtype, props), {"type": rtype, **props})
                     for a, b, rtype, props in rels if a in ids and b in ids)
    return g


# --- from records.jsonl ---------------------------------------------------------------------


class _Builder:
    """Builds the graph the way etl.graph.load writes it, document by document, from the same rows
    (etl.graph.rows.*_rows).

    Like the loader, a document already there with the same record is left alone, and a new
    version of a path first takes out what the old one owned: its relationships, sentences,
    anonymized regions and Document node, and the shared nodes they reached that nothing
    reaches any more (mentions count, whether sentences are drawn or not). Other shared entity
    nodes stay, with the properties their remaining documents' claims give them.
    """

    def __init__(self, sentences: bool):
        self.sentences = sentences
        self.g = _new_graph("records")
        self.hashes: dict[str, str] = {}  # path -> record hash of the version in the graph
        self.owned_edges: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        self.owned_nodes: dict[str, list[str]] = defaultdict(list)
        # Sentence mentions of each node, and the nodes each document mentions: a node only
        # mentioned is not an orphan, though without sentences the graph has no edge for it.
        self.mentions: Counter[str] = Counter()
        self.owned_mentions: dict[str, list[str]] = defaultdict(list)
        # The claims each document made of shared nodes (label, node id, claim): its removal takes them back.
        self.claimed: dict[str, list[tuple[str, str, str]]] = {}

    def document(self, record: DocumentRecord, digest: str) -> None:
        path = document_path(record)
        if self.hashes.get(path) == digest:
            return
        owner = doc_key(path)
        if path in self.hashes:
            self.remove(owner)
        self.hashes[path] = digest
        batch = [record]
        for row in document_rows(batch, {path: digest}):
            self.node(L.Document, row["path"], row, owner)
        if self.sentences:
            for row in sentence_rows(batch):
                self.node(L.Sentence, row["id"], row, owner)
        for label, rows in entity_rows(batch).items():
            for row in rows:
                self.node(label, row["key"], {"name": row["name"], **row["props"]},
                          row["props"].get("doc_key"))
                self.claim(label, node_id(label, row["key"]), dict(zip(row["claims"], row["counts"], strict=True)))
        self.claimed[owner] = [(label, node_id(label, key), claim) for (label, key), claim in claims_of(record).items()]
        for label, rows in mention_rows(batch).items():
            for row in rows:
                target = node_id(label, row["key"])
                self.mentions[target] += 1
                self.owned_mentions[owner].append(target)
                if self.sentences:
                    mention = {"type": R.MENTIONS, "start": row["start"], "end": row["end"]}
                    self.edge(node_id(L.Sentence, row["sentence"]), target, mention)
        for row in reports_on_rows(batch):
            self.edge(node_id(L.Document, path), node_id(L.Region, row["key"]), {"type": R.REPORTS_ON})
        for (rtype, head_label, tail_label), rows in relation_rows(batch).items():
            for row in rows:
                self.edge(node_id(head_label, row["head"]), node_id(tail_label, row["tail"]),
                          {"type": rtype, **row["props"]}, owner)

    def remove(self, owner: str) -> None:
        """Take out what a document owns, and the nodes only it reached, as the loader's removal does."""
        edges = [e for e in self.owned_edges.pop(owner, []) if self.g.has_edge(*e)]
        owned = self.owned_nodes.pop(owner, [])
        mentioned = self.owned_mentions.pop(owner, [])
        self.mentions.subtract(mentioned)
        touched = {end for e in edges for end in e[:2]} | set(mentioned)
        touched |= {v for nid in owned if nid in self.g for v in self.g.successors(nid)}
        for label, nid, claim in self.claimed.pop(owner, []):
            if nid in self.g:
                self.claim(label, nid, {claim: -1})
        self.g.remove_edges_from(edges)
        self.g.remove_nodes_from(owned)
        self.g.remove_nodes_from([nid for nid in touched
                                  if nid in self.g and not self.g.degree(nid) and self.mentions[nid] <= 0])

    def node(self, label: str, key: str, props: dict[str, Any], owner: str | None = None) -> None:
        """MERGE on the key, then SET each property; a node with an owner goes with its document."""
        nid = node_id(label, key)
        if nid not in self.g:
            self.g.add_node(nid, label=label, key=key)
            if owner:
                self.owned_nodes[owner].append(nid)
        self.g.nodes[nid].update({k: v for k, v in props.items() if v is not None})

    def claim(self, label: str, nid: str, more: dict[str, int]) -> None:
        """Add ``more`` (counts by claim, negative to take back) to the node's counted claims and
        derive its properties from them, as the loader does (etl.graph.rows.merge_claims, derive)."""
        data = self.g.nodes[nid]
        claims, counts = merge_claims(data.get(CLAIMS, []), data.get(CLAIM_COUNTS, []), more)
        for prop, value in derive(label, claims, counts).items():
            if value is None:
                data.pop(prop, None)
            else:
                data[prop] = value
        if claims:
            data[CLAIMS], data[CLAIM_COUNTS] = claims, counts
        else:
            data.pop(CLAIMS, None)
            data.pop(CLAIM_COUNTS, None)

    def edge(self, head: str, tail: str, data: dict[str, Any], owner: str | None = None) -> None:
        """CREATE a relationship between two existing nodes; one a document owns goes with it."""
        if head in self.g and tail in self.g:
            key = edge_key(data["type"], data)
            self.g.add_edges_from([(head, tail, key, data)])
            if owner and data["type"] in OWNED_TYPES:
                self.owned_edges[owner].append((head, tail, key))


def graph_from_records(source: Path | str | Iterable[DocumentRecord], sentences: bool = False,
                       failures: list[str] | None = None, batch_size: int | None = None) -> nx.MultiDiGraph:
    """Build the graph etl.graph.load would load from records.jsonl (a file or its folder) or from records.

    Records are read as a stream and validated as the loader validates them, so the result is
    what loading them into an empty database gives (at any batch size), replaced documents
    included; records that fail are skipped and reported in ``failures`` when a list is given.
    ``batch_size`` is accepted for symmetry with load_records and does not change the result.
    """
    failures = [] if failures is None else failures
    builder = _Builder(sentences)
    for _, record, digest in iter_items(source, failures):
        builder.document(record, digest)
    return builder.g


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
    for u, v, d in _edges_of_type(g, R.ADOPTS):
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
    for u, v, _ in _edges_of_type(g, R.INVOLVES):
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
    for u, v, _ in _edges_of_type(g, R.ADOPTS):
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

    with atomic_write(path) as out:
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
    (evidence, mechanisms) are written as JSON text. See RESERVED for renamed attributes.
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
            with atomic_write(path, "wb") as handle:
                nx.write_gexf(file_graph(g, fmt), handle, encoding="utf-8")
        else:
            data = nx.node_link_data(file_graph(g, fmt), edges="edges")
            with atomic_write(path) as handle:
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
