"""The graph model: labels, keys, relationship ends, the properties a record may set, value bounds.

Takes nothing; defines, once, what the loader writes and what the exports, the bulk importer, the
network pages and the report read back:

- every node label and the property that keys it (``KEY``), backed by the constraints of
  schema/migrations;
- every relationship type and the labels it may join (``RELATION_ENDS``);
- per label and per relationship type, the properties a record may set (``NODE_PROPERTIES``,
  ``RELATION_PROPERTIES``, ``QUANTITY_PROPERTIES``). Keys, names and document ownership are
  never among them: the loader sets those itself, so no record can rename, re-key or claim a
  node that other documents share;
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
from typing import Any

from etl.graph.records import LABELS, DocumentRecord

ENTITY_LABELS = LABELS
NODE_LABELS = ("Document", "Sentence", *ENTITY_LABELS)

# The property that keys each label's nodes (uniqueness constraints of the migrations).
KEY = {"Document": "path", "Sentence": "id", "Region": "key"} | {
    label: "name" for label in ENTITY_LABELS if label != "Region"
}

# Which labels each relationship type may join; the loader writes only these.
RELATION_ENDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "PART_OF": (("Region",), ("Region",)),
    "ADOPTS": (("Region",), ("Mechanism",)),
    "IMPLEMENTS": (("Region",), ("Measure",)),
    "INVOLVES": (("Mechanism",), ("Actor",)),
    "ESTABLISHES": (("Region",), ("Actor",)),
    "MEASURES": (("Region",), ("Indicator",)),
    "GOVERNS": (("Region", "Actor"), ("WaterBody",)),
    "CITES": (("Region",), ("Policy",)),
}
# Relationships the loader writes besides the record's relations (no doc_key: their ends are owned).
STRUCTURAL_TYPES = ("REPORTS_ON", "MENTIONS")
OWNED_TYPES = tuple(RELATION_ENDS)

# What a record may set on a shared entity node, with the Python types allowed.
NODE_PROPERTIES: dict[str, dict[str, tuple[type, ...]]] = {
    "Region": {"level": (str,), "adcode": (str,), "anonymized": (bool,)},
    "Actor": {"kind": (str,)},
    # category_by: "rule" where the extractor's grammar (not the lexicon) gave the category.
    "Mechanism": {"category": (str,), "category_by": (str,)},
    "Measure": {"category": (str,), "category_by": (str,)},
    "WaterBody": {"kind": (str,)},
    "Indicator": {"unit": (str,), "unit_group": (str,)},
    "Policy": {"kind": (str,)},
}
# Which corrections made or changed a node or relation ("corrections.yaml:12"; etl.research.corrections).
CORRECTED_BY = "corrected_by"
for _allowed in NODE_PROPERTIES.values():
    _allowed[CORRECTED_BY] = (str,)
# What a relation of the record may carry besides its evidence (records.RelationProps).
RELATION_PROPERTIES: dict[str, frozenset[str]] = {
    rtype: frozenset({"year", "count", CORRECTED_BY}) for rtype in OWNED_TYPES
}
# What a quantity puts on its MEASURES / IMPLEMENTS relationship.
QUANTITY_PROPERTIES = ("value", "unit", "year", "kind", "redacted", "approx", "value_std", "unit_std", "text")
QUANTITY_TYPES = frozenset({"MEASURES", "IMPLEMENTS"})
# What the loader puts on every relationship a document owns: the owner, the quantity's key
# (doc_key:n, or "" for a relation) and the evidence sentence ids.
OWNER_PROPERTIES = frozenset({"doc_key", "key", "evidence"})
# Properties only the loader sets: keys, names, ownership.
RESERVED = frozenset({"key", "name", "path", "id", "doc_key", "doc_id", "evidence", "record_hash"})

INT64 = (-(2**63), 2**63 - 1)
MAX_NAME = 200  # characters of an entity name or a short property value (they are indexed)
MAX_PATH = 1000  # characters of a document path (indexed; Neo4j's index key limit is about 8 kB)
MAX_TEXT = 50_000  # characters of a sentence, a title or a quantity's text
MAX_LIST = 10_000  # items of an evidence list


def document_path(record: DocumentRecord) -> str:
    """A document's identity: its path relative to the corpus root; older records give the file name."""
    return record.path or record.doc


@functools.lru_cache(maxsize=4096)  # asked for every row a document's batch writes
def doc_key(path: str) -> str:
    """The short key of a document path, carried by everything the document owns."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def region_key(name: str, anonymized: bool, owner: str) -> str:
    """A Region's key: its name, or name@doc_key for an anonymized region (a different place per document)."""
    return f"{name}@{owner}" if anonymized else name


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
