"""Standalone interactive network pages of a neighbourhood of the graph.

Takes a driver and a choice (a region, a mechanism, or neither for the region–mechanism
network) and returns a VizGraph: the nodes with their label and canonical name, the edges
with their type, the first evidence sentences and any reported quantities. ``render_html``
turns it into one HTML page whose JavaScript and CSS (vis-network, shipped inside the pyvis
package) are inline, so the page opens offline and can be mailed as one file.

Colours are the ontology's (schema/ontology.yaml), from which the Neo4j Browser style
schema/browser/govgraph.grass is written, so a page and Browser agree; the page layout is the
Jinja2 template etl/outputs/templates/viz.html.
Every Cypher statement is parameterized; labels and relationship types come from fixed lists.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j
from etl import config, files
from etl.errors import DataFileError, VizError
from etl.graph import db, model
from etl.graph.model import L

LABELS = model.NODE_LABELS
DEFAULT_LIMIT = 200
EVIDENCE_SHOWN = 3
SENTENCE_CHARS = 300
# Node properties worth a line in a node's tooltip, in this order.
NODE_FACTS = ("level", "category", "kind", "unit", "adcode", "key")
FOCUS_SIZE = 28
NODE_SIZE = 14
EDGE_LABELS_UP_TO = 40
# A node's label is its name cut to this many characters (…); the tooltip has it whole. Whole
# development-zone names (临沂高新技术产业开发区) lay on their neighbours' in a network of 200 links.
LABEL_CHARS = 7

# Each neighbourhood is a UNION of (a)-[rel]->(b) rows; _AGGREGATE then folds the
# relationships of one pair and type together (quantities are one relationship each).
_REGION_ROWS = """
MATCH (r:Region {name: $name})-[rel:ADOPTS|IMPLEMENTS|ESTABLISHES|MEASURES|GOVERNS|CITES]->(b)
RETURN r AS a, rel, b
UNION ALL
MATCH (:Region {name: $name})-[:ADOPTS]->(a:Mechanism)-[rel:INVOLVES]->(b:Actor)
RETURN a, rel, b
"""
_MECHANISM_ROWS = """
MATCH (a:Region)-[rel:ADOPTS]->(b:Mechanism {name: $name})
RETURN a, rel, b
UNION ALL
MATCH (a:Mechanism {name: $name})-[rel:INVOLVES]->(b:Actor)
RETURN a, rel, b
"""
_NETWORK_ROWS = """
MATCH (a:Region)-[rel:ADOPTS]->(b:Mechanism)
RETURN a, rel, b
"""
_AGGREGATE = """
CALL {{ {rows} }}
WITH a, b, type(rel) AS type, collect(rel) AS rels
WITH a, b, type, rels,
     reduce(ev = [], x IN rels | ev + [i IN coalesce(x.evidence, []) WHERE NOT i IN ev]) AS evidence
RETURN {{id: elementId(a), labels: labels(a), props: properties(a)}} AS source,
       {{id: elementId(b), labels: labels(b), props: properties(b)}} AS target,
       type, evidence,
       [x IN rels WHERE coalesce(x.key, '') <> '' |
        {{value: x.value, unit: x.unit, year: x.year, kind: x.kind, redacted: x.redacted}}] AS quantities
ORDER BY size(evidence) DESC, type, source.props.name, target.props.name
LIMIT $limit
"""
_FOCUS = {
    L.Region: "MATCH (n:Region {name: $name}) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props",
    L.Mechanism: "MATCH (n:Mechanism {name: $name}) RETURN elementId(n) AS id, labels(n) AS labels, "
                 "properties(n) AS props",
}
_SIMILAR = {
    L.Region: "MATCH (n:Region) WHERE n.name CONTAINS $name OR $name CONTAINS n.name "
              "RETURN DISTINCT n.name AS name ORDER BY size(n.name), name LIMIT 5",
    L.Mechanism: "MATCH (n:Mechanism) WHERE n.name CONTAINS $name OR $name CONTAINS n.name "
                 "RETURN DISTINCT n.name AS name ORDER BY size(n.name), name LIMIT 5",
}
_SENTENCES = """
MATCH (s:Sentence) WHERE s.id IN $ids
OPTIONAL MATCH (d:Document {doc_key: s.doc_key})
RETURN s.id AS id, s.text AS text, d.name AS doc
"""


@dataclass(frozen=True)
class VizNode:
    """One node of the page: its label picks the colour, its canonical name is the caption."""

    id: str
    label: str
    name: str
    facts: tuple[tuple[str, Any], ...] = ()
    focus: bool = False


@dataclass(frozen=True)
class VizEdge:
    """One (source, type, target) link, with the first evidence sentences and any quantities."""

    source: str
    target: str
    type: str
    sentences: tuple[str, ...] = ()
    more_sentences: int = 0
    quantities: tuple[str, ...] = ()


@dataclass
class VizGraph:
    """What a page shows: nodes, edges, a heading, and whether --limit cut links off."""

    heading: str
    nodes: dict[str, VizNode] = field(default_factory=dict)
    edges: list[VizEdge] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True)
class VizPage:
    """A written page: where, and how much it shows."""

    path: Path
    nodes: int
    edges: int
    truncated: bool


def canonical_name(name: str) -> str:
    """Full-width and half-width forms are one and spaces go, as in the graph (河长＋检察长 → 河长+检察长)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def neighbourhood(driver: neo4j.Driver, *, region: str | None = None, mechanism: str | None = None,
                  limit: int = DEFAULT_LIMIT, database: str = config.DEFAULT_DATABASE) -> VizGraph:
    """Read the neighbourhood to draw: a region's, a mechanism's, or the region–mechanism network.

    Raises VizError naming a region or mechanism that is not in the graph, and when both are given.
    """
    if region and mechanism:
        raise VizError("give --region or --mechanism, not both")
    if limit < 1:
        raise VizError(f"--limit must be at least 1, not {limit}")
    if region or mechanism:
        label, name = (L.Region, region) if region else (L.Mechanism, mechanism)
        name = canonical_name(name or "")
        focus = _focus_nodes(driver, label, name, database)
        rows_cypher = _REGION_ROWS if label == L.Region else _MECHANISM_ROWS
        heading = (f"{name}: its mechanisms, measures, actors and indicators" if label == L.Region
                   else f"{name}: the regions that adopt it and the actors involved")
    else:
        focus, name, rows_cypher = [], "", _NETWORK_ROWS
        heading = "Regions and the mechanisms they adopt"
    rows = db.read(driver, _AGGREGATE.format(rows=rows_cypher), {"name": name, "limit": limit + 1}, database)
    if not focus and not rows:
        raise VizError("the graph has no Region-[:ADOPTS]->Mechanism links to draw; "
                       "load documents first: govgraph run corpus/sample")
    graph = VizGraph(heading=heading, truncated=len(rows) > limit)
    for node in focus:
        graph.nodes[node.id] = node
    texts = _sentence_texts(driver, [i for row in rows[:limit] for i in row["evidence"][:EVIDENCE_SHOWN]], database)
    for row in rows[:limit]:
        _add_row(graph, row, texts)
    if graph.truncated:
        graph.heading += f" (the {limit} best-evidenced links; raise --limit for more)"
    return graph


def _focus_nodes(driver: neo4j.Driver, label: str, name: str, database: str) -> list[VizNode]:
    """The nodes named by --region/--mechanism (anonymized regions share a name), or a VizError."""
    rows = db.read(driver, _FOCUS[label], {"name": name}, database)
    if rows:
        return [_node(row, focus=True) for row in rows]
    similar = [row["name"] for row in db.read(driver, _SIMILAR[label], {"name": name}, database)]
    hint = (f"did you mean: {', '.join(similar)}?" if similar else
            "give the canonical name (a region with its level suffix, e.g. 忻州市; a mechanism as in "
            "schema/lexicon/mechanisms.yaml) or load the documents that report on it")
    raise VizError(f"no {label.lower()} named {name!r} in the graph; {hint}")


def _node(entity: dict[str, Any], focus: bool = False) -> VizNode:
    labels = [label for label in entity["labels"] if label in LABELS]
    props = entity["props"]
    label = labels[0] if labels else (entity["labels"] or ["?"])[0]
    name = props.get("name") or props.get("id") or props.get("doc_id") or "?"
    facts = tuple((key, props[key]) for key in NODE_FACTS if props.get(key) not in (None, "", name))
    return VizNode(id=entity["id"], label=label, name=str(name), facts=facts, focus=focus)


def _sentence_texts(driver: neo4j.Driver, ids: list[str], database: str) -> dict[str, str]:
    """Sentence id → its text (cut to SENTENCE_CHARS) and the document it comes from."""
    if not ids:
        return {}
    texts = {}
    for row in db.read(driver, _SENTENCES, {"ids": sorted(set(ids))}, database):
        text = row["text"] or ""
        if len(text) > SENTENCE_CHARS:
            text = text[:SENTENCE_CHARS] + "…"
        texts[row["id"]] = f"“{text}”" + (f" ({row['doc']})" if row["doc"] else "")
    return texts


def _add_row(graph: VizGraph, row: dict[str, Any], texts: dict[str, str]) -> None:
    for end in (row["source"], row["target"]):
        if end["id"] not in graph.nodes:
            graph.nodes[end["id"]] = _node(end)
    shown = [texts[i] for i in row["evidence"][:EVIDENCE_SHOWN] if i in texts]
    graph.edges.append(VizEdge(
        source=row["source"]["id"], target=row["target"]["id"], type=row["type"],
        sentences=tuple(shown), more_sentences=max(0, len(row["evidence"]) - len(shown)),
        quantities=tuple(_quantity(q) for q in row["quantities"]),
    ))


def _quantity(q: dict[str, Any]) -> str:
    """One reported quantity as a reader says it: 63.56 % (2025, target); a redacted value stays redacted."""
    value = "redacted" if q.get("redacted") or q.get("value") is None else f"{q['value']:g}"
    context = ", ".join(str(part) for part in (q.get("year"), q.get("kind")) if part not in (None, ""))
    return f"{value} {q.get('unit') or ''}".strip() + (f" ({context})" if context else "")


# --- styles and the page ---------------------------------------------------------------------


def template_path() -> Path:
    """The page layout, shipped with the package beside the report's template."""
    return Path(__file__).resolve().parent / "templates" / "viz.html"


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_RULE = re.compile(r"(node(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\{([^}]*)\}")
_COLOR = re.compile(r"(?:^|;)\s*color\s*:\s*(#[0-9A-Fa-f]{6})\s*(?:;|$)")


def label_colours(path: Path | None = None) -> dict[str, str]:
    """Label → fill colour from a GraSS file; the plain ``node`` rule gives the fallback under key ``*``.

    Without a file, the colours the ontology declares (schema/browser/govgraph.grass is written
    from them).
    """
    if path is None:
        return model.label_colours()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read the style file ({exc.strerror}); "
                            f"set GOVGRAPH_SCHEMA to the schema/ folder") from None
    colours: dict[str, str] = {}
    # Quoted captions ("{name}") hold braces; blank them so a rule ends at its own brace.
    for selector, body in _RULE.findall(_QUOTED.sub('""', text)):
        match = _COLOR.search(body.strip())
        if match:
            colours[selector.partition(".")[2] or "*"] = match.group(1).upper()
    if not colours:
        raise DataFileError(f"{path}:1: no 'node.<Label> {{ color: #RRGGBB; }}' rule found")
    return colours


def _vis_assets() -> tuple[str, str]:
    """vis-network's JavaScript and CSS as shipped inside pyvis (so no CDN is needed)."""
    try:
        import pyvis
    except ImportError:
        raise VizError("pyvis is not installed; run: pip install pyvis") from None
    lib = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    try:
        return (lib / "vis-network.min.js").read_text(encoding="utf-8"), (lib / "vis-network.css").read_text(
            encoding="utf-8")
    except OSError:
        raise VizError(f"vis-network is missing from pyvis ({lib}); run: pip install --force-reinstall pyvis") from None


def _edge_title(edge: VizEdge, nodes: dict[str, VizNode]) -> str:
    lines = [f"{edge.type}: {nodes[edge.source].name} → {nodes[edge.target].name}"]
    lines += list(edge.quantities)
    lines += list(edge.sentences)
    if edge.more_sentences:
        lines.append(f"… and {edge.more_sentences} more sentence(s)")
    return "\n".join(lines)


def _node_title(node: VizNode) -> str:
    return "\n".join([f"{node.label}: {node.name}"] + [f"{key}: {value}" for key, value in node.facts])


def node_label(node: VizNode) -> str:
    """The label drawn under a node: its name, cut to LABEL_CHARS unless it is the page's focus."""
    if node.focus or len(node.name) <= LABEL_CHARS:
        return node.name
    return node.name[:LABEL_CHARS - 1] + "…"


def _network(graph: VizGraph, colours: dict[str, str]):
    """The nodes and edges as a pyvis Network (it checks that every edge has both ends)."""
    from pyvis.network import Network

    net = Network(directed=True, cdn_resources="in_line")
    fallback = colours.get("*", "#A5ABB6")
    degree = Counter(end for edge in graph.edges for end in (edge.source, edge.target))
    for node in graph.nodes.values():
        # Hubs (a region in the region–mechanism network) grow with their links, up to the focus size.
        size = FOCUS_SIZE if node.focus else min(FOCUS_SIZE, NODE_SIZE + 2 * math.isqrt(max(0, degree[node.id] - 1)))
        net.add_node(node.id, label=node_label(node), title=_node_title(node), color=colours.get(node.label, fallback),
                     size=size)
    # A type written on every spoke of a dense star is unreadable; there the tooltip carries it.
    labelled = len(graph.edges) <= EDGE_LABELS_UP_TO
    for edge in graph.edges:
        net.add_edge(edge.source, edge.target, title=_edge_title(edge, graph.nodes),
                     **({"label": edge.type} if labelled else {}))
    return net


def render_html(graph: VizGraph, grass: Path | None = None, template: Path | None = None) -> str:
    """The page as one self-contained HTML string."""
    import jinja2

    colours = label_colours(grass)
    template = template or template_path()
    if not template.is_file():
        raise DataFileError(f"{template}: no page template; reinstall govgraph: pip install -e .")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    # Names and sentences stay readable (and searchable) in the page; tojson still escapes < > & '.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    net = _network(graph, colours)
    vis_js, vis_css = _vis_assets()
    present = sorted({node.label for node in graph.nodes.values()}, key=lambda label: (
        LABELS.index(label) if label in LABELS else len(LABELS), label))
    return env.get_template(template.name).render(
        title=f"govgraph · {graph.heading}", heading=graph.heading,
        legend=[(label, colours.get(label, colours.get("*", "#A5ABB6"))) for label in present],
        nodes=net.nodes, edges=net.edges, vis_js=vis_js, vis_css=vis_css,
    )


def write_page(graph: VizGraph, out: Path) -> VizPage:
    """Write the page to OUT (its folder is created) and say what it shows."""
    html = render_html(graph)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(out, html)
    except OSError as exc:
        raise VizError(f"cannot write {out}: {exc.strerror}; choose another --out") from None
    return VizPage(path=out, nodes=len(graph.nodes), edges=len(graph.edges), truncated=graph.truncated)
