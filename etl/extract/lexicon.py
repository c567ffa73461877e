"""The versioned lexicon: canonical names, aliases and categories per entity label.

Reads schema/lexicon/*.yaml (one file a label; entries grouped by category or kind, each
line "canonical|alias|alias") and returns Lexicon objects the extractor's components
use. The lexicon version is the newest of the files' version strings and is stamped on
every record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from etl import config
from etl.datafiles import load_yaml
from etl.errors import DataFileError


@dataclass(frozen=True)
class Entry:
    label: str
    name: str
    aliases: tuple[str, ...]
    group: str


@dataclass(frozen=True)
class Lexicon:
    version: str
    entries: tuple[Entry, ...]
    # Canonical names that are activities, named only when a system word follows (建立资金投入机制).
    activities: frozenset[str] = frozenset()

    @functools.cached_property
    def by_surface(self) -> dict[str, tuple[str, str]]:
        """Every surface form (name or alias) → (label, canonical name)."""
        table: dict[str, tuple[str, str]] = {}
        for entry in self.entries:
            for surface in (entry.name, *entry.aliases):
                table.setdefault(surface, (entry.label, entry.name))
        return table

    @functools.cached_property
    def group_of(self) -> dict[tuple[str, str], str]:
        return {(e.label, e.name): e.group for e in self.entries}


def _parse_file(path: Path) -> tuple[str, list[Entry], list[str]]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise DataFileError(f"{path}:1: a lexicon file is a mapping with 'label' and 'categories'")
    label = data.get("label")
    groups = next((data[k] for k in ("categories", "kinds", "units") if k in data), None)
    if not label or not isinstance(groups, dict):
        raise DataFileError(f"{path}:1: a lexicon file needs 'label' and 'categories' (or 'kinds'/'units')")
    entries = []
    for group, lines in groups.items():
        for line in lines or ():
            names = [n.strip() for n in str(line).split("|") if n.strip()]
            if not names:
                raise DataFileError(f"{path}: empty entry in group {group!r}")
            entries.append(Entry(label, names[0], tuple(names[1:]), str(group)))
    activities = data.get("activities") or []
    if not isinstance(activities, list):
        raise DataFileError(f"{path}:1: 'activities' is a list of canonical names")
    return str(data.get("version", "")), entries, [str(a) for a in activities]


@functools.cache
def load_lexicon(folder: Path | None = None) -> Lexicon:
    """Read every lexicon file of the folder (default schema/lexicon)."""
    folder = folder or config.schema_dir() / "lexicon"
    versions, entries, activities = [], [], []
    for path in sorted(folder.glob("*.yaml")):
        version, found, listed = _parse_file(path)
        versions.append(version)
        entries.extend(found)
        activities.extend(listed)
    if not entries:
        raise DataFileError(f"{folder}: no lexicon files (*.yaml); set GOVGRAPH_SCHEMA to the schema/ folder")
    names = {e.name for e in entries}
    unknown = sorted(set(activities) - names)
    if unknown:
        raise DataFileError(f"{folder}: 'activities' names {unknown}, which no lexicon entry has")
    return Lexicon(max(versions), tuple(entries), frozenset(activities))


@functools.cache
def load_rules(path: Path | None = None) -> dict:
    """The rule patterns of schema/patterns/rules.yaml."""
    path = path or config.schema_dir() / "patterns" / "rules.yaml"
    return load_yaml(path)


@functools.cache
def load_units(path: Path | None = None) -> dict[str, dict]:
    """Units as written → {dimension, factor, std} from schema/units.yaml."""
    path = path or config.schema_dir() / "units.yaml"
    return load_yaml(path)["units"]


def load_numbers(path: Path | None = None) -> dict:
    """How numbers are written before their unit (numerals, approximation words, scales) from
    schema/units.yaml's ``numbers``."""
    path = path or config.schema_dir() / "units.yaml"
    return load_yaml(path)["numbers"]
