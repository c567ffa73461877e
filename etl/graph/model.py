"""The graph model: labels, keys, relationship ends, the properties a record may set, value bounds.

Takes schema/ontology.yaml, the one declaration of the graph (etl.config.schema_dir(), so
GOVGRAPH_SCHEMA points it elsewhere); defines, once, what the loader writes and what the
records, the migrations, the exports, the bulk importer, the network pages, the Browser style
and the report read back:

- every node label and the property that keys it (``KEY``), backed by the constraints that
  ``constraint_statements`` derives;
- every relationship type and the labels it may join (``RELATION_ENDS``);
- per label and per relationship type, the properties a record may set (``NODE_PROPERTIES``,
  ``RELATION_PROPERTIES``, ``QUANTITY_PROPERTIES``). Keys, names and document ownership are
  never among them: the loader sets those itself, so no record can rename, re-key or claim a
  node that other documents share;
- ``L`` and ``R``, the labels and relationship types as attributes (``L.Region``,
  ``R.ADOPTS``): code names them through these, never as string literals, so a label added to
  the declaration needs no edit of the code that handles every label alike;
- the bounds every value must keep (``MAX_*``, int64, finite floats), so that Neo4j never sees
  a value it refuses (an integer past 64 bits, a name too long to index);
- document identity: a document is its path relative to the corpus root (``document_path``),
  and everything it asserts carries ``doc_key`` (a short hash of that path), which the
  relationship-property indexes find when a new version replaces it.

How a document owns its data: one relationship per document and assertion (an ADOPTS of 忻州市
→ 河长制 from each report that says so, with that report's evidence), so loading or removing a
document touches only its own relationships, found through the ``doc_key`` indexes; the query
packs aggregate over documents.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

from etl import config
from etl.datafiles import line_of, read_yaml
from etl.errors import DataFileError

ONTOLOGY_FILE = "ontology.yaml"
PROPERTY_TYPES = {"str": (str,), "bool": (bool,), "int": (int,), "float": (float,)}


def ontology_path() -> Path:
    return config.schema_dir() / ONTOLOGY_FILE


def _read_ontology(path: Path) -> dict[str, Any]:
    """The declaration, its names checked against each other; an error names path:line."""
    data, text = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise DataFileError(f"{path}:1: the ontology declares 'labels' (a mapping of label to its declaration)")
    labels = data["labels"]
    rels = data.get("relationships") or {}

    def need(names, known, key: str) -> None:
        for name in names:
            if name not in known:
                raise DataFileError(f"{path}:{line_of(text, key)}: {key}: {name!r} is not declared "
                                    f"(known: {', '.join(known)})")

    for label, spec in labels.items():
        kinds = ("document", "sentence", "entity")
        if not isinstance(spec, dict) or spec.get("kind") not in kinds or not spec.get("key"):
            raise DataFileError(f"{path}:{line_of(text, label)}: label {label}: needs a 'kind' (document, "
                                "sentence or entity) and a 'key'")
        for prop, kind in (spec.get("properties") or {}).items():
            if kind not in PROPERTY_TYPES:
                raise DataFileError(f"{path}:{line_of(text, label)}: {label}.{prop}: type {kind!r} is not one of "
                                    f"{', '.join(PROPERTY_TYPES)}")
    for rtype, spec in rels.items():
        ends = spec.get("to")
        need(spec.get("from") or [], labels, rtype)
        if ends != "entities":
            need(ends or [], labels, rtype)
    entities = [label for label, spec in labels.items() if spec["kind"] == "entity"]
    quantities = data.get("quantities") or {}
    need(quantities.get("relationships") or {}, entities, "quantities")
    need((quantities.get("relationships") or {}).values(), rels, "quantities")
    for key in ("categories", "lexicon_groups", "region_relations", "compared_without_tails"):
        need(data.get(key) or {}, entities, key)
    need((data.get("region_relations") or {}).values(), rels, "region_relations")
    for key in ("candidate_order", "qda_codes"):
        need(data.get(key) or [], entities, key)
    return data


ONTOLOGY = _read_ontology(ontology_path())
UNSORTED: str = ONTOLOGY["unsorted"]

NODE_LABELS = tuple(ONTOLOGY["labels"])
ENTITY_LABELS = tuple(label for label, spec in ONTOLOGY["labels"].items() if spec["kind"] == "entity")
DOCUMENT_LABEL = next(label for label, spec in ONTOLOGY["labels"].items() if spec["kind"] == "document")
SENTENCE_LABEL = next(label for label, spec in ONTOLOGY["labels"].items() if spec["kind"] == "sentence")
RELATIONSHIP_TYPES = tuple(ONTOLOGY["relationships"])
# The types a record's relations may have (shared ONTOLOGY.md's gold format): all but provenance.
RECORD_RELATION_TYPES = tuple(rtype for rtype, spec in ONTOLOGY["relationships"].items()
                              if spec["kind"] in ("assertion", "document"))
REPORTS_ON = next(rtype for rtype, spec in ONTOLOGY["relationships"].items() if spec["kind"] == "document")
MENTIONS = next(rtype for rtype, spec in ONTOLOGY["relationships"].items() if spec["kind"] == "provenance")

L = SimpleNamespace(**{label: label for label in NODE_LABELS})
R = SimpleNamespace(**{rtype: rtype for rtype in RELATIONSHIP_TYPES})

# The property that keys each label's nodes (uniqueness constraints, constraint_statements).
KEY: dict[str, str] = {label: spec["key"] for label, spec in ONTOLOGY["labels"].items()}

# Which labels each relationship type may join; the loader writes only these.
RELATION_ENDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    rtype: (tuple(spec["from"]), tuple(spec["to"]))
    for rtype, spec in ONTOLOGY["relationships"].items() if spec["kind"] == "assertion"
}
# Relationships the loader writes besides the record's relations (no doc_key: their ends are owned).
STRUCTURAL_TYPES = (REPORTS_ON, MENTIONS)
OWNED_TYPES = tuple(RELATION_ENDS)

# What a record may set on a shared entity node, with the Python types allowed.
NODE_PROPERTIES: dict[str, dict[str, tuple[type, ...]]] = {
    label: {prop: PROPERTY_TYPES[kind] for prop, kind in (ONTOLOGY["labels"][label].get("properties") or {}).items()}
    for label in ENTITY_LABELS
}
# Which corrections made or changed a node or relation ("corrections.yaml:12"; etl.research.corrections).
CORRECTED_BY = "corrected_by"
for _allowed in NODE_PROPERTIES.values():
    _allowed[CORRECTED_BY] = (str,)
# What a shared entity node says (a region's level, a mechanism's category …) is no single
# document's to set: each document's values for a node are its claim ("value|value…", values
# in CLAIMED's order). A node keeps its DISTINCT claims (``claims``, sorted) with how many
# documents make each (``claim_counts``), and each document keeps the claims it made on its own
# Document node (``claims`` entries "Label|value|value…|key"), so that its removal decrements
# exactly what it added. The state of a node grows with the distinct claims, not with the
# documents naming it (河长制 is named by nearly every report: one entry per document made each
# batch read and sort a list as long as the corpus). The node's properties are the claim the
# most documents make, a tie going to the claim first in sort order (etl.graph.rows.derive): the
# graph does not depend on load order, and a record changes a node only by being most of what
# names it. ``anonymized`` is not claimed: it decides the node's key (the document's own region).
CLAIMS, CLAIM_COUNTS = "claims", "claim_counts"
CLAIM_SEPARATOR = "|"
CLAIMED: dict[str, tuple[str, ...]] = {
    label: tuple(prop for prop in allowed if prop != "anonymized") for label, allowed in NODE_PROPERTIES.items()
}
for _label, _props in CLAIMED.items():
    if any(NODE_PROPERTIES[_label][prop] != (str,) for prop in _props):
        raise DataFileError(f"{ontology_path()}: {_label}: a property of an entity is a str "
                            "(documents' claims of it are kept as text)")
# What a relation of the record may carry besides its evidence (records.RelationProps).
RELATION_PROPERTIES: dict[str, frozenset[str]] = {
    rtype: frozenset(ONTOLOGY["relation_properties"]) | {CORRECTED_BY} for rtype in OWNED_TYPES
}
# Which relationship a quantity of each subject label becomes (Indicator: MEASURES, Measure: IMPLEMENTS).
QUANTITY_RELATION: dict[str, str] = dict(ONTOLOGY["quantities"]["relationships"])
# What a quantity puts on its relationship.
QUANTITY_PROPERTIES = tuple(ONTOLOGY["quantities"]["properties"])
QUANTITY_TYPES = frozenset(QUANTITY_RELATION.values())
# What the loader puts on every relationship a document owns: the owner, the quantity's key
# (doc_key:n, or "" for a relation) and the evidence sentence ids.
OWNER_PROPERTIES = frozenset({"doc_key", "key", "evidence"})
# Properties only the loader sets: keys, names, ownership.
RESERVED = frozenset({"key", "name", "path", "id", "doc_key", "doc_id", "evidence", "record_hash",
                      CLAIMS, CLAIM_COUNTS})

INT64 = (-(2**63), 2**63 - 1)
MAX_NAME = 200  # characters of an entity name or a short property value (they are indexed)
MAX_PATH = 1000  # characters of a document path (indexed; Neo4j's index key limit is about 8 kB)
MAX_TEXT = 50_000  # characters of a sentence, a title or a quantity's text
MAX_LIST = 10_000  # items of an evidence list


class Located(Protocol):
    """What names a document: a DocumentRecord (etl.graph.records, which derives its types from
    this module) or anything with its ``path`` and ``doc``."""

    path: str | None
    doc: str


def document_path(record: Located) -> str:
    """A document's identity: its path relative to the corpus root; older records give the file name."""
    return record.path or record.doc


@functools.lru_cache(maxsize=4096)  # asked for every row a document's batch writes
def doc_key(path: str) -> str:
    """The short key of a document path, carried by everything the document owns."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# What joins an anonymized region's name to its document's key. No Region name may hold it
# (records are refused otherwise), so no record or correction can write a key that is
# another document's region (XX区@<its doc_key>) and take that node over.
KEY_SEPARATOR = "@"


def region_key(name: str, anonymized: bool, owner: str) -> str:
    """A Region's key: its name, or name@doc_key for an anonymized region (a different place per document)."""
    return f"{name}{KEY_SEPARATOR}{owner}" if anonymized else name


def key_property(label: str) -> str:
    """The property that keys a label's nodes; raises KeyError for a label outside the model."""
    return KEY[label]


def bounded(value: Any, limit: int = MAX_NAME) -> str | None:
    """Why a scalar value cannot be stored (int64, finite, string length), or None when it can."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64[0] <= value <= INT64[1] else "an integer outside 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, str):
        return None if len(value) <= limit else f"{len(value)} characters (at most {limit})"
    return f"a {type(value).__name__}, not a number, string or boolean"


# --- what the extractor, the exports and the style take from the declaration ------------------

# Categories per label (mechanisms, measures); the lexicon's and the grammar's are among them.
CATEGORIES: dict[str, tuple[str, ...]] = {label: tuple(names) for label, names in ONTOLOGY["categories"].items()}
# The property a lexicon file's groups fill, per label, in the order the extractor sets them.
LEXICON_GROUPS: dict[str, str] = dict(ONTOLOGY["lexicon_groups"])
# The order in which the grammar's types claim a head that could end several.
CANDIDATE_ORDER: tuple[str, ...] = tuple(ONTOLOGY["candidate_order"])
# Which relation the reporting region has to each kind of entity the document mentions.
REGION_RELATIONS: dict[str, str] = dict(ONTOLOGY["region_relations"])
# The generic tails a label's names are compared without (the scorer's rule), in the order tried.
COMPARED_WITHOUT_TAILS: dict[str, tuple[str, ...]] = {
    label: tuple(tails) for label, tails in (ONTOLOGY.get("compared_without_tails") or {}).items()}
# The REFI-QDA code of each label's entities ("机制 Mechanism"), in the codebook's order.
QDA_CODES: dict[str, str] = {label: f"{ONTOLOGY['labels'][label]['zh']} {label}" for label in ONTOLOGY["qda_codes"]}


def constraint_statements() -> tuple[str, ...]:
    """The schema every label and owned relationship type needs, as idempotent Cypher.

    A uniqueness constraint on each label's key (``region_key``, ``actor_name``) and an index on
    ``doc_key`` for each type a document owns (``adopts_doc_key``), named as the numbered
    migrations first named them, so on a graph they made these statements change nothing.
    """
    constraints = tuple(f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS FOR (n:{label}) "
                        f"REQUIRE n.{key} IS UNIQUE" for label, key in KEY.items())
    indexes = tuple(f"CREATE INDEX {rtype.lower()}_doc_key IF NOT EXISTS FOR ()-[r:{rtype}]-() ON (r.doc_key)"
                    for rtype in OWNED_TYPES)
    return constraints + indexes


def label_colours() -> dict[str, str]:
    """Label → fill colour of its style; the plain node rule's colour under key ``*``."""
    return {"*": ONTOLOGY["style"]["node"]["color"]} | {
        label: spec["style"]["color"] for label, spec in ONTOLOGY["labels"].items()}


def grass_text() -> str:
    """The Neo4j Browser style (GraSS) of the declaration: schema/browser/govgraph.grass."""

    def rule(selector: str, props: dict[str, str]) -> str:
        lines = (f'  {name}: "{value}";\n' if name == "caption" else f"  {name}: {value};\n"
                 for name, value in props.items())
        return selector + " {\n" + "".join(lines) + "}\n"

    rules = [rule("node", ONTOLOGY["style"]["node"]), rule("relationship", ONTOLOGY["style"]["relationship"])]
    for label, spec in ONTOLOGY["labels"].items():
        caption = "{" + spec.get("caption", "name") + "}"
        rules.append(rule(f"node.{label}", {**spec["style"], "caption": caption}))
    return "\n".join(rules)
