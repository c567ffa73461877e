"""Neo4j Browser helpers: the ``:params`` line that lets a query pack run as Browser Favorites.

Takes the query packs (etl.outputs.queries.load_packs, so the queries/ folder or GOVGRAPH_QUERIES)
and a pack name; returns a BrowserParams whose ``line`` is a ``:params {…}`` command. Browser
binds ``$name`` in a Favorite from its own parameter map, so a researcher pastes this line
once, then clicks through the pack's queries dragged in as Favorites. Defaults are written
as Cypher literals; a parameter without a default is set to null and named in ``notes``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.errors import QueryError
from etl.outputs import queries

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BrowserParams:
    """The ``:params`` line, the parameter map behind it, and notes for the reader."""

    line: str
    params: dict[str, Any]
    notes: tuple[str, ...] = ()


def cypher_literal(value: Any) -> str:
    """A Python value (from a query header default) as a Cypher literal: null, true, 3, 1.5, "河长制", […]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        # A JSON string is a valid Cypher string literal (same escapes); keep CJK readable.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(item) for item in value) + "]"
    raise QueryError(f"cannot write {value!r} ({type(value).__name__}) as a Browser parameter")


def _key(name: str) -> str:
    return name if _IDENTIFIER.match(name) else "`" + name.replace("`", "``") + "`"


def pack_params(pack: str | None = None, folder: Path | None = None) -> BrowserParams:
    """The ``:params`` line for one pack's queries (every pack when PACK is None).

    Browser has one parameter map, so a name declared by two queries gets one value: the
    first default in pack/name order; a different default elsewhere, or a parameter no query
    gives a default, is reported in notes.
    """
    selected = [q for q in queries.load_packs(folder).values() if pack is None or q.pack == pack]
    if not selected:
        known = sorted({q.pack for q in queries.load_packs(folder).values()})
        raise QueryError(f"no query pack named {pack!r}; packs: {', '.join(known) or 'none'} "
                         f"(see: govgraph query list)")
    declared: dict[str, list[tuple[str, queries.Param]]] = {}
    for query in sorted(selected, key=lambda q: q.qualified):
        for param in query.params:
            declared.setdefault(param.name, []).append((query.qualified, param))
    params: dict[str, Any] = {}
    notes: list[str] = []
    for name, uses in declared.items():
        with_default = [(where, p) for where, p in uses if not p.required]
        if not with_default:
            params[name] = None
            notes.append(f"{uses[0][0]} needs ${name} ({uses[0][1].type}): replace its null in the :params line")
            continue
        first, chosen = with_default[0]
        params[name] = chosen.default
        for where, other in with_default[1:]:
            if other.default != chosen.default:
                notes.append(f"${name}: {where} defaults to {cypher_literal(other.default)}, "
                             f"{first} to {cypher_literal(chosen.default)}; the line uses the latter")
    body = ", ".join(f"{_key(name)}: {cypher_literal(value)}" for name, value in params.items())
    return BrowserParams(line=f":params {{{body}}}", params=params, notes=tuple(notes))
