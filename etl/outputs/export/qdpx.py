"""Export to REFI-QDA (.qdpx): the coded evidence, for NVivo, ATLAS.ti and MAXQDA.

Takes records.jsonl (DocumentRecords) and writes one .qdpx file: a zip holding project.qde
(XML of the REFI-QDA Project standard, namespace urn:QDA-XML:project:1.0) and each document's
normalized text as a plain-text source (sources/<guid>.txt, UTF-8). The codebook has one code
a label, the mechanisms beneath their category (the nine policy-instrument classes), measures
beneath theirs, and the other entities (actors, indicators, policies, water bodies, regions)
directly beneath their label's code. Every evidence sentence of a document (a sentence some
relation or quantity rests on) is one PlainTextSelection at its character offsets, coded with
the entities its relations join.

Records keep sentences with offsets into the normalized text but not the text between them;
a source is rebuilt by putting each sentence at its offsets and a line break in every gap, so
the selection's positions (Python str indices, which count characters as REFI-QDA does) select
exactly the sentence's text. GUIDs are UUID5 of what they name, so exporting the same records
twice gives the same project.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from etl.errors import ExportError
from etl.files import atomic_write
from etl.graph.model import CATEGORIES, QDA_CODES, UNSORTED, R
from etl.graph.records import DocumentRecord

NAMESPACE = "urn:QDA-XML:project:1.0"
# The root of every GUID this exporter makes (a UUID5 namespace of its own).
GUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, "govgraph:refi-qda")
# The code under which each label's entities sit, in the codebook's order.
LABEL_CODES = QDA_CODES
# Labels whose entities sit beneath a category code (records' properties[label][name]["category"]).
GROUPED = tuple(CATEGORIES)
UNGROUPED = UNSORTED


def guid(*parts: str) -> str:
    """A GUID in the standard's form (8-4-4-4-12 hex digits), the same for the same parts."""
    return str(uuid.uuid5(GUID_ROOT, "\x1f".join(parts)))


@dataclass(frozen=True)
class QdpxSummary:
    path: Path
    sources: int
    codes: int
    selections: int
    codings: int


def source_text(record: DocumentRecord) -> str:
    """The normalized text rebuilt from the record's sentences at their offsets, gaps as line breaks."""
    length = max((s.end for s in record.sentences), default=0)
    chars = ["\n"] * length
    for s in record.sentences:
        if len(s.text) != s.end - s.start:
            raise ExportError(f"document {record.doc!r}: sentence {s.index} spans {s.start}..{s.end} "
                              f"but has {len(s.text)} characters; extract the corpus again")
        chars[s.start:s.end] = s.text
    return "".join(chars)


def _category(record: DocumentRecord, label: str, name: str) -> str:
    value = record.properties.get(label, {}).get(name, {}).get("category")
    return str(value) if value else UNGROUPED


def _evidence_codes(record: DocumentRecord) -> dict[int, set[tuple[str, str]]]:
    """Per evidence sentence, the (label, name) of the entities its relations and quantities join."""
    from etl.graph.model import RELATION_ENDS
    from etl.graph.rows import entity_sets, label_in

    codes: dict[int, set[tuple[str, str]]] = {}
    sets = entity_sets(record)
    for rel in record.relations:
        if rel.type == R.REPORTS_ON:
            continue
        heads, tails = RELATION_ENDS[rel.type]
        ends = [(label_in(sets, rel.head, heads), rel.head), (label_in(sets, rel.tail, tails), rel.tail)]
        for index in rel.props.evidence:
            codes.setdefault(index, set()).update((label, name) for label, name in ends if label)
    for q in record.quantities:
        for index in q.evidence:
            codes.setdefault(index, set()).add((q.subject_type, q.subject))
    return codes


class _Project:
    """The project.qde tree being built: a codebook of codes found so far, and sources."""

    def __init__(self, name: str, created: str) -> None:
        ET.register_namespace("", NAMESPACE)
        self.user = guid("user", "govgraph")
        self.created = created
        self.root = ET.Element(self.tag("Project"), {
            "name": name, "origin": "govgraph", "creatingUserGUID": self.user, "creationDateTime": created})
        users = ET.SubElement(self.root, self.tag("Users"))
        ET.SubElement(users, self.tag("User"), {"guid": self.user, "name": "govgraph"})
        self.codes_element = ET.SubElement(ET.SubElement(self.root, self.tag("CodeBook")), self.tag("Codes"))
        self.sources = ET.SubElement(self.root, self.tag("Sources"))
        self.code_elements: dict[tuple[str, ...], ET.Element] = {}
        self.selections = self.codings = 0

    @staticmethod
    def tag(name: str) -> str:
        return f"{{{NAMESPACE}}}{name}"

    def code(self, path: tuple[str, ...]) -> str:
        """The GUID of the code at ``path`` (label code, [category], name), made with its parents."""
        if path not in self.code_elements:
            parent = self.codes_element
            if len(path) > 1:
                self.code(path[:-1])
                parent = self.code_elements[path[:-1]]
            self.code_elements[path] = ET.SubElement(parent, self.tag("Code"), {
                "guid": guid("code", *path), "name": path[-1], "isCodable": "true"})
        return self.code_elements[path].get("guid")

    def entity_code(self, record: DocumentRecord, label: str, name: str) -> str:
        top = LABEL_CODES[label]
        path = (top, _category(record, label, name), name) if label in GROUPED else (top, name)
        return self.code(path)

    def add_source(self, record: DocumentRecord, text_guid: str) -> None:
        doc = record.path or record.doc
        source = ET.SubElement(self.sources, self.tag("TextSource"), {
            "guid": text_guid, "name": doc, "plainTextPath": f"internal://{text_guid}.txt",
            "creatingUser": self.user, "creationDateTime": self.created})
        sentences = {s.index: s for s in record.sentences}
        for index, entities in sorted(_evidence_codes(record).items()):
            sentence = sentences.get(index)
            if sentence is None or not entities:
                continue
            selection = ET.SubElement(source, self.tag("PlainTextSelection"), {
                "guid": guid("selection", doc, record.doc_id, str(index)), "name": sentence.text[:60],
                "startPosition": str(sentence.start), "endPosition": str(sentence.end),
                "creatingUser": self.user, "creationDateTime": self.created})
            self.selections += 1
            for label, name in sorted(entities):
                code = self.entity_code(record, label, name)
                coding = ET.SubElement(selection, self.tag("Coding"), {
                    "guid": guid("coding", doc, record.doc_id, str(index), label, name),
                    "creatingUser": self.user, "creationDateTime": self.created})
                ET.SubElement(coding, self.tag("CodeRef"), {"targetGUID": code})
                self.codings += 1

    def ordered_codebook(self) -> None:
        """Top-level codes in LABEL_CODES order, the rest by name, so the codebook reads the same every time."""
        order = {name: n for n, name in enumerate(LABEL_CODES.values())}

        def sort(element: ET.Element, top: bool) -> None:
            children = sorted(element, key=lambda c: (order.get(c.get("name"), 99) if top else 0, c.get("name")))
            for child in children:
                element.remove(child)
            for child in children:
                element.append(child)
                sort(child, False)

        sort(self.codes_element, True)


def write_qdpx(records: Iterable[DocumentRecord], out: Path, name: str = "govgraph",
               created: datetime | None = None) -> QdpxSummary:
    """Write the records as a REFI-QDA project archive at ``out`` (.qdpx); return what it holds."""
    created_at = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    project = _Project(name, created_at)
    texts: list[tuple[str, str]] = []
    for record in records:
        text_guid = guid("source", record.path or record.doc, record.doc_id)
        texts.append((text_guid, source_text(record)))
        project.add_source(record, text_guid)
    if not texts:
        raise ExportError("no records to export; run govgraph extract first")
    project.ordered_codebook()
    if len(project.sources) == 0:  # the standard's Sources holds at least one source
        project.root.remove(project.sources)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(out, "wb") as handle, \
                zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.qde", ET.tostring(project.root, encoding="utf-8", xml_declaration=True))
            for text_guid, text in texts:
                archive.writestr(f"sources/{text_guid}.txt", text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    return QdpxSummary(out, len(texts), len(project.code_elements), project.selections, project.codings)

