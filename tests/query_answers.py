"""Every compare, evidence and quality query's answer on a loaded graph, in a canonical form.

Used to freeze the answers on the sample corpus (tests/data/sample_answers.json) and to check
that a change of the graph model leaves them unchanged: rows sorted, document identifiers
(content hash, document key) replaced by the document's path, so that the answer says what a
reader sees and not how the store keys it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import neo4j
from etl.graph import db
from etl.outputs import queries

PACKS = ("compare", "evidence", "quality")
# The sample corpus's records as extracted when the answers were frozen: tests of loading and
# querying read these, so that a change of extraction does not move them.
SAMPLE_RECORDS = Path(__file__).resolve().parent / "data" / "sample_records.jsonl"
SEARCHES = ("检察长", "河长", "水土保持")
# Large enough to return every row of the sample; queries with a limit get it.
EVERYTHING = 100_000


def _identifiers(driver: neo4j.Driver) -> dict[str, str]:
    """Each document's doc_id (and key, where the graph has one) mapped to a stable label."""
    rows = db.read(driver, "MATCH (d:Document) RETURN d.doc_id AS doc_id, d.doc_key AS key, "
                           "coalesce(d.path, d.name) AS path")
    names = {}
    for row in rows:
        for ident in (row["doc_id"], row["key"]):
            if ident:
                names[ident] = f"<{row['path']}>"
    return names


def _canonical(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for ident, label in names.items():
            value = value.replace(ident, label)
        return value
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_canonical(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v, names) for k, v in value.items()}
    return value


def _param_sets(driver: neo4j.Driver, query: queries.Query) -> list[dict[str, Any]]:
    """The parameter sets a query is run with: its defaults, and every value of its required ones."""
    required = {p.name for p in query.params if p.required}
    base = {"limit": EVERYTHING} if any(p.name == "limit" for p in query.params) else {}
    if not required:
        return [base]
    if required == {"region"}:
        regions = db.read(driver, "MATCH (r:Region) RETURN DISTINCT r.name AS name ORDER BY name")
        return [{**base, "region": r["name"]} for r in regions]
    if required == {"region", "target"}:
        pairs = db.read(driver, "MATCH (r:Region)-[:ADOPTS|IMPLEMENTS|MEASURES|ESTABLISHES|CITES|GOVERNS]->(t) "
                                "RETURN DISTINCT r.name AS region, t.name AS target ORDER BY region, target")
        return [{**base, **p} for p in pairs]
    if required == {"text"}:
        return [{**base, "text": t} for t in SEARCHES]
    raise AssertionError(f"no values for the required parameters of {query.qualified}: {sorted(required)}")


def answers(driver: neo4j.Driver) -> dict[str, list[str]]:
    """Per query and parameter set, the sorted canonical rows as JSON lines."""
    names = _identifiers(driver)
    out: dict[str, list[str]] = {}
    for query in sorted(queries.load_packs().values(), key=lambda q: q.qualified):
        if query.pack not in PACKS:
            continue
        for params in _param_sets(driver, query):
            rows = queries.run_query(driver, query, {k: str(v) for k, v in params.items()})
            # Labelled without the limit: that everything came back is what matters.
            shown = {k: v for k, v in params.items() if k != "limit"}
            label = query.qualified + " " + json.dumps(shown, ensure_ascii=False, sort_keys=True)
            out[label] = sorted(json.dumps(_canonical(r, names), ensure_ascii=False, sort_keys=True) for r in rows)
    return out
