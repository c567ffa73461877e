"""Corrections that survive re-extraction: a researcher's YAML file applied to records before loading.

Takes a corrections file (``--corrections FILE``, or corrections.yaml beside the corpus) and
DocumentRecords; returns the records corrected. The file says, one entry a correction:

    corrections:
      - merge: {type: Mechanism, from: 河长检察长协作, into: 河长+检察长}
      - rename: {type: Actor, from: 河长办, to: 河长制办公室}
      - retype: {name: 日常巡查, from: Mechanism, to: Measure}
      - reject: {type: Mechanism, name: 协作机制}                        # everywhere
      - reject: {relation: [滨海县, ADOPTS, 公益诉讼], doc: d101.txt}      # in one document
      - add: {relation: [衡水市, ADOPTS, 河湖长+检察长], doc: d109.txt,
              sentence: 日前,衡水市印发了关于建立“河湖长+检察长”协作机制的意见, year: 2021}

The operations and their fields are data (schema/corrections/operations.yaml); the file is
validated as it loads, every error naming ``path:line``. Corrections apply in file order to
each record, so the same records and file give the same result; every node or relationship a
correction made or changed carries ``corrected_by`` ("corrections.yaml:12"). A correction whose
target no record holds any more is *stale*: it is reported as one ``path:line`` line and
changes nothing; nothing else is dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl import config, datafiles
from etl.errors import DataFileError
from etl.graph.model import KEY_SEPARATOR, RELATION_ENDS, L, R
from etl.graph.records import LABELS, RELATION_TYPES, DocumentRecord

FILE_NAME = "corrections.yaml"


@dataclass(frozen=True)
class Correction:
    """One entry of a corrections file: its operation, fields and where it was written."""

    op: str
    fields: dict[str, Any]
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def tag(self) -> str:
        """What ``corrected_by`` says: the file's name and the entry's line."""
        return f"{self.path.name}:{self.line}"

    def applies_to(self, record: DocumentRecord) -> bool:
        doc = self.fields.get("doc")
        return doc is None or doc in (record.path, record.doc)

    def describe(self) -> str:
        """The operation and its fields as one line (relation=[忻州市, ADOPTS, 河长制])."""
        def shown(value: Any) -> str:
            return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)

        return f"{self.op} " + ", ".join(f"{k}={shown(v)}" for k, v in self.fields.items())


@functools.cache
def operations(path: Path | None = None) -> dict[str, Any]:
    """The operations a corrections file may use (schema/corrections/operations.yaml)."""
    path = path or config.schema_dir() / "corrections" / "operations.yaml"
    return datafiles.load_yaml(path)


# --- reading and validating the file ----------------------------------------------------------


def _check_value(kind: str, value: Any, where: str, key: str) -> None:
    if kind == "label":
        if value not in LABELS:
            raise DataFileError(f"{where}: {key} {value!r} is not a label; use one of {', '.join(LABELS)}")
    elif kind == "name":
        if not isinstance(value, str) or not value.strip():
            raise DataFileError(f"{where}: {key} must be a non-empty text")
    elif kind in ("year", "count"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataFileError(f"{where}: {key} must be a whole number, not {value!r}")
    elif kind == "triple":
        if (not isinstance(value, list) or len(value) != 3
                or not all(isinstance(v, str) and v.strip() for v in value)):
            raise DataFileError(f"{where}: {key} must be [head, TYPE, tail]")
        if value[1] not in RELATION_ENDS:
            types = ", ".join(t for t in RELATION_TYPES if t in RELATION_ENDS)
            raise DataFileError(f"{where}: relation type {value[1]!r} is not one of {types}")


def _check_entry(op: str, fields: Any, where: str) -> dict[str, Any]:
    spec = operations()["operations"][op]
    if not isinstance(fields, dict):
        raise DataFileError(f"{where}: '{op}' takes fields, e.g. {op}: {{{', '.join(spec['required'])}}}")
    allowed = {**spec.get("required", {}), **spec.get("optional", {})}
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise DataFileError(f"{where}: {op} has no field {unknown[0]!r}; its fields are {', '.join(allowed)}")
    missing = [k for k in spec.get("required", {}) if k not in fields]
    if missing:
        raise DataFileError(f"{where}: {op} needs {', '.join(missing)}")
    groups = spec.get("one_of")
    if groups and sum(all(k in fields for k in group) for group in groups) != 1:
        choices = " or ".join("{" + ", ".join(g) + "}" for g in groups)
        raise DataFileError(f"{where}: {op} takes exactly one of {choices}")
    for key, value in fields.items():
        _check_value(allowed[key], value, where, key)
    _check_against_model(op, fields, where)
    return fields


def _check_against_model(op: str, fields: dict[str, Any], where: str) -> None:
    """What the graph model refuses: a label at an end its relationship type does not join
    (an ADOPTS with head_type Mechanism made a Mechanism named 忻州市), a region name that
    holds the key separator (a rename to XX区@<doc_key> took another document's region over)."""
    if op == "add":
        ends = RELATION_ENDS[fields["relation"][1]]
        for n, side in enumerate(("head", "tail")):
            label = fields.get(f"{side}_type")
            if label is not None and label not in ends[n]:
                raise DataFileError(f"{where}: {side}_type {label} cannot be the {side} of "
                                    f"{fields['relation'][1]} (it joins {'/'.join(ends[n])})")
    regions = [fields.get("to"), fields.get("into")] if fields.get("type") == L.Region else []
    if op == "add":
        ends = RELATION_ENDS[fields["relation"][1]]
        regions += [fields["relation"][2 * n] for n, side in enumerate(("head", "tail"))
                    if fields.get(f"{side}_type", L.Region) == L.Region and L.Region in ends[n]]
    for name in regions:
        if isinstance(name, str) and KEY_SEPARATOR in name:
            raise DataFileError(f"{where}: a region's name holds no {KEY_SEPARATOR!r} "
                                "(it joins an anonymized region's key)")


def read_corrections(path: Path) -> list[Correction]:
    """Read and validate a corrections file; raise DataFileError with path:line on the first problem."""
    root = datafiles.compose(datafiles.read_text(path), path)
    if root is None:
        return []
    entries = root
    if isinstance(root, yaml.MappingNode):
        found = [value for key, value in root.value if key.value == "corrections"]
        if not found:
            raise DataFileError(f"{path}:{root.start_mark.line + 1}: a corrections file holds 'corrections:', "
                                "a list of entries")
        entries = found[0]
    if not isinstance(entries, yaml.SequenceNode):
        raise DataFileError(f"{path}:{entries.start_mark.line + 1}: 'corrections' must be a list of entries")
    known = operations()["operations"]
    corrections = []
    for node in entries.value:
        line = node.start_mark.line + 1
        where = f"{path}:{line}"
        item = datafiles.construct(node, path)
        if not isinstance(item, dict) or len(item) != 1:
            raise DataFileError(f"{where}: an entry is one operation ({', '.join(known)}) with its fields")
        (op, fields), = item.items()
        if op not in known:
            raise DataFileError(f"{where}: unknown operation {op!r}; use one of {', '.join(known)}")
        corrections.append(Correction(op, _check_entry(op, fields, where), path, line))
    return corrections


def find_corrections(explicit: Path | None, beside: Iterable[Path]) -> Path | None:
    """The corrections file to use: the one given, else corrections.yaml beside the first of
    ``beside`` that has one (in the folder that holds the corpus folder, the file or records.jsonl:
    inside a corpus folder it would be read as a document), else None."""
    if explicit is not None:
        if not explicit.is_file():
            raise DataFileError(f"{explicit}: no such corrections file")
        return explicit
    for place in beside:
        candidate = place.absolute().parent / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


# --- applying corrections to a record (on its JSON form, re-validated afterwards) -------------


def _mark(props: dict[str, Any], tag: str) -> None:
    tags = [t for t in (props.get("corrected_by") or "").split(", ") if t]
    if tag not in tags:
        tags.append(tag)
    props["corrected_by"] = ", ".join(tags)


def _fits(rtype: str, end: int, label: str) -> bool:
    """Whether ``label`` may stand at the head (end 0) or tail (end 2) of ``rtype``."""
    if rtype == R.REPORTS_ON:
        return end == 2 and label == L.Region
    heads, tails = RELATION_ENDS[rtype]
    return label in (heads if end == 0 else tails)


def _dedupe_relations(relations: list[list]) -> list[list]:
    """One relation per (head, type, tail): evidence joined, the earliest year, every tag kept."""
    merged: dict[tuple[str, str, str], list] = {}
    for rel in relations:
        key = (rel[0], rel[1], rel[2])
        if key not in merged:
            merged[key] = [rel[0], rel[1], rel[2], dict(rel[3] if len(rel) > 3 else {})]
            continue
        props, other = merged[key][3], rel[3] if len(rel) > 3 else {}
        props["evidence"] = sorted(set(props.get("evidence", [])) | set(other.get("evidence", [])))
        years = [y for y in (props.get("year"), other.get("year")) if y is not None]
        if years:
            props["year"] = min(years)
        for tag in (other.get("corrected_by") or "").split(", "):
            if tag:
                _mark(props, tag)
        if props.get("count") is None and other.get("count") is not None:
            props["count"] = other["count"]
    return list(merged.values())


def _rename(data: dict, label: str, old: str, new: str, tag: str) -> bool:
    names = data["entities"].get(label, [])
    if old not in names or old == new:
        return False
    data["entities"][label] = sorted({*names, new} - {old})
    by_name = data["properties"].setdefault(label, {})
    old_props = by_name.pop(old, {})
    new_props = by_name.setdefault(new, {})
    for key, value in old_props.items():
        new_props.setdefault(key, value)
    _mark(new_props, tag)
    for m in data["mentions"]:
        if m["type"] == label and m["name"] == old:
            m["name"] = new
    for rel in data["relations"]:
        for end in (0, 2):
            if rel[end] == old and _fits(rel[1], end, label):
                rel[end] = new
                _mark(rel[3], tag)
    data["relations"] = _dedupe_relations(data["relations"])
    for q in data["quantities"]:
        if q["subject"] == old and q["subject_type"] == label:
            q["subject"] = new
    if label == L.Region and data.get("region") and data["region"]["name"] == old:
        data["region"]["name"] = new
    return True


def _retype(data: dict, name: str, old: str, new: str, tag: str) -> bool:
    if name not in data["entities"].get(old, []) or old == new:
        return False
    data["entities"][old] = [n for n in data["entities"][old] if n != name]
    data["entities"][new] = sorted({*data["entities"].get(new, []), name})
    data["properties"].get(old, {}).pop(name, None)
    _mark(data["properties"].setdefault(new, {}).setdefault(name, {}), tag)
    for m in data["mentions"]:
        if m["type"] == old and m["name"] == name:
            m["type"] = new
    region_relation = operations()["region_relation"]
    kept = []
    for rel in data["relations"]:
        if rel[2] == name and rel[1] == region_relation.get(old) and region_relation.get(new):
            rel[1] = region_relation[new]
            _mark(rel[3], tag)
        touches = [end for end in (0, 2) if rel[end] == name and _fits(rel[1], end, old)]
        if any(not _fits(rel[1], end, new) for end in touches):
            continue  # the relation cannot join a node of the new label (INVOLVES from a Measure)
        kept.append(rel)
    data["relations"] = _dedupe_relations(kept)
    quantities = []
    for q in data["quantities"]:
        if q["subject"] == name and q["subject_type"] == old:
            if new not in (L.Indicator, L.Measure):
                continue
            q["subject_type"] = new
        quantities.append(q)
    data["quantities"] = quantities
    return True


def _reject_entity(data: dict, label: str, name: str) -> bool:
    if name not in data["entities"].get(label, []):
        return False
    data["entities"][label] = [n for n in data["entities"][label] if n != name]
    data["properties"].get(label, {}).pop(name, None)
    data["mentions"] = [m for m in data["mentions"] if not (m["type"] == label and m["name"] == name)]
    data["relations"] = [rel for rel in data["relations"]
                         if not any(rel[end] == name and _fits(rel[1], end, label) for end in (0, 2))]
    data["quantities"] = [q for q in data["quantities"] if not (q["subject"] == name and q["subject_type"] == label)]
    if label == L.Region and data.get("region") and data["region"]["name"] == name:
        data["region"] = None
    return True


def _reject_relation(data: dict, triple: list[str]) -> bool:
    kept = [rel for rel in data["relations"] if rel[:3] != triple]
    found = len(kept) < len(data["relations"])
    data["relations"] = kept
    return found


def _add(data: dict, fields: dict, tag: str) -> bool:
    head, rtype, tail = fields["relation"]
    wanted = fields["sentence"].strip()
    sentence = next((s for s in data["sentences"] if s["text"] == wanted), None) or next(
        (s for s in data["sentences"] if wanted in s["text"]), None)
    if sentence is None:
        return False
    heads, tails = RELATION_ENDS[rtype]
    for name, label, allowed in ((head, fields.get("head_type"), heads), (tail, fields.get("tail_type"), tails)):
        label = label or next((lb for lb in allowed if name in data["entities"].get(lb, [])), allowed[0])
        if name not in data["entities"].get(label, []):
            data["entities"][label] = sorted({*data["entities"].get(label, []), name})
            _mark(data["properties"].setdefault(label, {}).setdefault(name, {}), tag)
            at = sentence["text"].find(name)
            if at >= 0:
                start = sentence["start"] + at
                data["mentions"].append({"type": label, "name": name, "text": name, "sentence": sentence["index"],
                                         "start": start, "end": start + len(name)})
    props = {"evidence": [sentence["index"]]}
    props.update({k: fields[k] for k in ("year", "count") if k in fields})
    _mark(props, tag)
    data["relations"] = _dedupe_relations([*data["relations"], [head, rtype, tail, props]])
    data["mentions"].sort(key=lambda m: (m["start"], m["end"]))
    return True


def _set_region(data: dict, name: str, level: str | None, tag: str) -> bool:
    """Make ``name`` the document's reporting region: the region's relations move to it, or, for a
    document that had none, it is linked to what the document names (``region_links``)."""
    old = data.get("region")
    if old and old["name"] == name and (level is None or old.get("level") == level):
        return False
    data["entities"][L.Region] = sorted({*data["entities"].get(L.Region, []), name})
    region_props = data["properties"].setdefault(L.Region, {}).setdefault(name, {})
    _mark(region_props, tag)
    if level is not None:
        region_props["level"] = level
    if level is None and old and old["name"] == name:
        level = old.get("level")
    data["region"] = {"name": name, "level": level, "anonymized": False, "adcode": None}
    region_types = set(operations()["region_relation"].values())
    if old:
        for rel in data["relations"]:
            if rel[0] == old["name"] and rel[1] in region_types:
                rel[0] = name
                _mark(rel[3], tag)
        data["relations"] = _dedupe_relations(data["relations"])
        return True
    evidence: dict[tuple[str, str], set[int]] = {}
    for m in data["mentions"]:
        evidence.setdefault((m["type"], m["name"]), set()).add(m["sentence"])
    added = []
    for label in operations()["region_links"]:
        rtype = operations()["region_relation"][label]
        for entity in data["entities"].get(label, []):
            props = {"evidence": sorted(evidence.get((label, entity), ()))}
            _mark(props, tag)
            added.append([name, rtype, entity, props])
    data["relations"] = _dedupe_relations([*data["relations"], *added])
    return True


def _apply_one(data: dict, c: Correction) -> bool:
    f = c.fields
    if c.op == "region":
        return _set_region(data, f["name"], f.get("level"), c.tag)
    if c.op == "merge":
        return _rename(data, f["type"], f["from"], f["into"], c.tag)
    if c.op == "rename":
        return _rename(data, f["type"], f["from"], f["to"], c.tag)
    if c.op == "retype":
        return _retype(data, f["name"], f["from"], f["to"], c.tag)
    if c.op == "reject":
        return _reject_relation(data, f["relation"]) if "relation" in f else _reject_entity(data, f["type"], f["name"])
    return _add(data, f, c.tag)


@dataclass
class Corrector:
    """Applies a file's corrections to records one at a time, remembering which ever found their target."""

    corrections: list[Correction]
    hit: set[int] = field(default_factory=set)
    # Records that could not be read (path:line and why), when the corrector reads them itself.
    failures: list[str] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path) -> Corrector:
        return cls(read_corrections(path))

    def apply(self, record: DocumentRecord) -> DocumentRecord:
        """The record with every correction that applies to it made, in file order."""
        data = record.model_dump()
        data.setdefault("properties", {})
        for rel in data["relations"]:
            if len(rel) == 3:
                rel.append({})
        changed = False
        for n, correction in enumerate(self.corrections):
            if correction.applies_to(record) and _apply_one(data, correction):
                self.hit.add(n)
                changed = True
        return DocumentRecord.model_validate(data) if changed else record

    def apply_all(self, records: Iterable[DocumentRecord]) -> Iterator[DocumentRecord]:
        for record in records:
            yield self.apply(record)

    def stale(self) -> list[str]:
        """One ``path:line`` line for each correction that found no target in the records seen."""
        return [f"{c.where}: stale correction, nothing to {c.op}: {c.describe().split(' ', 1)[1]}"
                for n, c in enumerate(self.corrections) if n not in self.hit]



def corrected_source(source: Path, explicit: Path | None = None, beside: Iterable[Path] = ()):
    """What to load from ``source`` (records.jsonl or its folder): the path itself when no
    corrections file is given or found beside it (or beside ``beside``), else the records
    corrected, with the Corrector that reports stale corrections and unreadable lines once
    they have been read.

    The file is read and validated here, before anything touches the graph.
    """
    from etl.graph.rows import iter_records, records_path

    path = find_corrections(explicit, [*beside, records_path(source)])
    if path is None:
        return source, None
    corrector = Corrector.from_file(path)
    return corrector.apply_all(iter_records(source, corrector.failures)), corrector
