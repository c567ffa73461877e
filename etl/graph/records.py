"""The record of one document: the contract between extraction, loading, export and scoring.

Takes nothing; defines the typed shape of one line of records.jsonl. The shape is
the gold format of shared ONTOLOGY.md ("doc", "region", "entities", "relations",
"quantities") plus what the loader needs: the document's metadata, its
normalized sentences with offsets, every mention, entity properties, and the
evidence (sentence indices) behind every relation and quantity.

A relation is written as a JSON array ``[head, TYPE, tail, {properties}]`` so
that tools reading the gold format (which look at the first three items) read
ours unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from etl.errors import RecordError
from etl.graph import model

RECORD_VERSION = "1"

# The labels and relationship types of the graph model (schema/ontology.yaml), as types.
LABELS = model.ENTITY_LABELS
RELATION_TYPES = model.RECORD_RELATION_TYPES
Label = Literal[LABELS]  # type: ignore[valid-type]
RelationType = Literal[RELATION_TYPES]  # type: ignore[valid-type]
QuantitySubject = Literal[tuple(model.QUANTITY_RELATION)]  # type: ignore[valid-type]

Scalar = str | int | float | bool | None


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sentence(Model):
    """One sentence of the normalized text; start/end are offsets into that text."""

    index: int
    text: str
    start: int
    end: int


class Mention(Model):
    """A span of a sentence that names an entity; start/end are offsets into the normalized text."""

    type: Label
    name: str
    text: str
    sentence: int
    start: int
    end: int


class RegionRef(Model):
    """The region a document reports on."""

    name: str
    level: str | None = None
    anonymized: bool = False
    adcode: str | None = None


class RelationProps(Model):
    """Properties of one relation; every relation carries its evidence sentence indices."""

    evidence: list[int] = Field(default_factory=list)
    year: int | None = None
    count: int | None = None
    # The corrections that made or changed the relation (corrections.yaml:12), set by etl.research.corrections.
    corrected_by: str | None = None


class Relation(Model):
    head: str
    type: RelationType
    tail: str
    props: RelationProps = Field(default_factory=RelationProps)

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, item: Any) -> Any:
        """[head, TYPE, tail] or [head, TYPE, tail, {properties}] as the fields; the fields' own
        validation stays pydantic-core's (a model built here per relation took a fifth of a load)."""
        if isinstance(item, dict | Relation):
            return item
        if not isinstance(item, list | tuple) or len(item) not in (3, 4):
            raise ValueError("a relation is [head, TYPE, tail] or [head, TYPE, tail, {properties}]")
        fields = {"head": item[0], "type": item[1], "tail": item[2]}
        if len(item) == 4:
            fields["props"] = item[3]
        return fields

    @model_serializer(mode="wrap")
    def _as_array(self, handler) -> list[Any]:
        """Serialized in the gold format's array shape, unset properties left out."""
        data = handler(self)
        props = {key: value for key, value in data["props"].items() if value is not None}
        return [data["head"], data["type"], data["tail"], props]


class Quantity(Model):
    """A reported number: of an Indicator (MEASURES) or of a Measure (IMPLEMENTS).

    ``value`` is None and ``redacted`` True when the text hides the number (X座, XX万元);
    ``value_std``/``unit_std`` are area in hectares (公顷) or money in yuan (元) where the unit allows.
    """

    subject: str
    subject_type: QuantitySubject = next(iter(model.QUANTITY_RELATION))
    value: float | None
    unit: str
    year: int | None = None
    kind: Literal["actual", "target"] = "actual"
    redacted: bool = False
    approx: str | None = None
    value_std: float | None = None
    unit_std: str | None = None
    text: str = ""
    evidence: list[int] = Field(default_factory=list)


class DocumentRecord(Model):
    """One line of records.jsonl."""

    record_version: str = RECORD_VERSION
    lexicon_version: str = ""
    doc: str
    doc_id: str
    # The document's identity: its POSIX path relative to the corpus root that was extracted
    # (the file name for a single file). ``doc`` stays the bare file name, which two folders
    # can share; ``doc_id`` (content hash) tells versions of one path apart.
    path: str | None = None
    title: str = ""
    date: str | None = None
    source: str | None = None
    lang_variant: Literal["simplified", "traditional"] = "simplified"
    region: RegionRef | None = None
    sentences: list[Sentence] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    entities: dict[str, list[str]] = Field(default_factory=dict)
    properties: dict[str, dict[str, dict[str, Scalar]]] = Field(default_factory=dict)
    relations: list[Relation] = Field(default_factory=list)
    quantities: list[Quantity] = Field(default_factory=list)

    @field_validator("entities", "properties")
    @classmethod
    def _known_labels(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(LABELS))
        if unknown:
            raise ValueError(f"unknown entity label(s) {unknown}; the ontology has {list(LABELS)}")
        return value

    def to_json(self) -> str:
        """One records.jsonl line (compact UTF-8 JSON, relations as arrays)."""
        return self.model_dump_json()


def parse_record(line: str, *, where: str = "<string>") -> DocumentRecord:
    """Validate one records.jsonl line; raise RecordError naming ``where`` and the reason."""
    try:
        # pydantic-core's own JSON parser is the fast path; a line it refuses is parsed again
        # below, so that the reason comes out in the words of json and of the model.
        return DocumentRecord.model_validate_json(line)
    except ValidationError:
        pass
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{where}: a record is a JSON object, not {type(data).__name__}")
    return record_of(data, where)


def shown(value: Any) -> str:
    """A value for an error message, a lone surrogate escaped (it cannot be printed or encoded)."""
    return repr(value).encode("utf-8", "backslashreplace").decode("utf-8")


def record_of(data: dict[str, Any], where: str) -> DocumentRecord:
    """Validate a record's JSON data; raise RecordError naming ``where`` and the reason.

    A text holding a lone surrogate (JSON's ``\\udcb0``, which Python's json reads but UTF-8
    cannot encode) is refused: a path holding one stopped the load and the exports.
    """
    doc = data.get("doc", "?")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(f"{where}: document {shown(str(doc)[:200])}: holds {shown(exc.object[exc.start])}, "
                          "half of a surrogate pair, not a character") from None
    try:
        return DocumentRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise RecordError(f"{where}: document {shown(doc)}: {loc}: {first['msg']}") from None


def iter_record_lines(path: Path) -> Iterator[tuple[str, str]]:
    """Yield (where, line) for every non-blank line of a records.jsonl file."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield f"{path}:{number}", line


def read_records(path: Path) -> Iterator[DocumentRecord]:
    """Read and validate every record of a records.jsonl file, failing on the first bad one."""
    for where, line in iter_record_lines(path):
        yield parse_record(line, where=where)
