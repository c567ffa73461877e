"""Review: what in the extracted records most needs a human look, as a CSV and a page.

Takes records.jsonl (or its folder) and returns ReviewItems, written as review.csv and
review.html. It starts a corrections file (etl/research/corrections.py): every item carries the
correction line a reviewer would paste if the extractor was wrong. The checks, most urgent
first:

- near-duplicate names of one type: a small edit distance (目标责任书 / 目标管理责任书) → merge,
  never between different chiefs (村级林长 / 村级河长), linkages of other parts (林长+检察长 /
  河长+检察长) or a general noun and a specific one (资金 / 中央资金); pairs that never share a
  document come first (two names one report uses side by side are likely two things), then the
  most widespread;
- entities outside the lexicon (schema/lexicon): found by the grammar, not by a word list → reject
  or rename (a linkage of lexicon entries, 河长+检察长, is the lexicon's);
- names seen once in the whole corpus → reject;
- relations resting on one sentence → reject the relation.

Regions are left out of the lexicon and seen-once checks (the gazetteer finds them, and most
appear once); anonymized regions (XX区) are left out of the near-duplicate check.
"""

from __future__ import annotations

import csv
import functools
import html
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from etl import config, datafiles, files
from etl.errors import GovgraphError
from etl.graph.model import L, R
from etl.graph.records import DocumentRecord

KINDS = ("near-duplicate", "outside-lexicon", "seen-once", "single-sentence")
COLUMNS = ("priority", "kind", "label", "name", "other", "documents", "mentions", "sentence", "correction")


@functools.cache
def settings(path: Path | None = None) -> dict:
    """What counts as a near duplicate (schema/corrections/review.yaml)."""
    path = path or config.schema_dir() / "corrections" / "review.yaml"
    data = datafiles.load_yaml(path)
    chiefs = sorted(data["chiefs"], key=len, reverse=True)
    return {"max_edits": int(data["max_edits"]), "level_prefix": re.compile(data["level_prefix"]),
            "chiefs": re.compile("|".join(map(re.escape, chiefs))), "linkage_mark": data["linkage_mark"]}


@functools.cache
def placeholders(path: Path | None = None) -> tuple[str, ...]:
    """The placeholders of redacted names (XX, 某), as schema/regions.yaml declares them."""
    path = path or config.schema_dir() / "regions.yaml"
    return tuple(datafiles.load_yaml(path)["placeholders"])


def _redacted(label: str, name: str) -> bool:
    """A redacted name (某县, XX区, XX县水利局): redacted places all look alike, so none is paired.
    A name opening with a placeholder is one; a region's name holding one anywhere is one too."""
    marks = placeholders()
    return name.startswith(marks) or label == L.Region and any(mark in name for mark in marks)


@dataclass
class ReviewItem:
    kind: str
    label: str
    name: str
    other: str
    documents: int
    mentions: int
    sentence: str
    correction: str
    # Within a kind, lower comes first: a near duplicate whose two names share a document is 1.
    rank: int = 0

    @property
    def priority(self) -> int:
        return KINDS.index(self.kind) + 1

    def row(self) -> dict:
        return {"priority": self.priority, **{c: getattr(self, c) for c in COLUMNS[1:]}}


@dataclass
class Seen:
    """What the corpus says about one entity: documents, mentions and one sentence that names it."""

    documents: set[str]
    mentions: int = 0
    sentence: str = ""


def _flow(items: dict) -> str:
    """A YAML flow mapping of a correction's fields, quoting what YAML would misread."""
    def value(v):
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        text = str(v)
        plain = text and not any(ch in text for ch in ":{}[],#&*!|>'\"%@`") and text.strip() == text
        return text if plain else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "{" + ", ".join(f"{k}: {value(v)}" for k, v in items.items()) + "}"


def _entities(records: Iterable[DocumentRecord]) -> tuple[dict[tuple[str, str], Seen], list[tuple]]:
    """Per (label, name), what the corpus says of it; and every relation with its evidence size."""
    seen: dict[tuple[str, str], Seen] = {}
    relations: list[tuple] = []
    for r in records:
        sentences = {s.index: s.text for s in r.sentences}
        for label, names in r.entities.items():
            for name in names:
                seen.setdefault((label, name), Seen(set())).documents.add(r.path or r.doc)
        for m in r.mentions:
            item = seen.setdefault((m.type, m.name), Seen(set()))
            item.mentions += 1
            item.sentence = item.sentence or sentences.get(m.sentence, "")
        for rel in r.relations:
            if rel.type != R.REPORTS_ON:
                text = sentences.get(rel.props.evidence[0], "") if rel.props.evidence else ""
                relations.append((r.path or r.doc, rel, len(set(rel.props.evidence)), text))
    return seen, relations


def _near_duplicates(seen: dict[tuple[str, str], Seen], canonical: set[tuple[str, str]]) -> list[ReviewItem]:
    """Pairs of names of one label a few edits apart, or one ending in the other (shared head).

    Two canonical names of the lexicon are distinct by decision (河长 and 总河长), never a pair.
    """
    from rapidfuzz.distance import Levenshtein

    by_label: dict[str, list[str]] = defaultdict(list)
    for label, name in seen:
        if not _redacted(label, name):
            by_label[label].append(name)
    items = []
    for label, names in sorted(by_label.items()):
        # Names are compared within groups sharing their last character: the head of a Chinese
        # noun phrase, which near duplicates keep; this keeps the comparison far from n².
        groups: dict[str, list[str]] = defaultdict(list)
        for name in sorted(names):
            groups[name[-1]].append(name)
        for group in groups.values():
            for i, a in enumerate(group):
                for b in group[i + 1:]:
                    if (label, a) in canonical and (label, b) in canonical or _distinct(a, b):
                        continue
                    shorter = min(a, b, key=len)
                    limit = min(settings()["max_edits"], len(shorter) // 4)
                    if limit == 0 or Levenshtein.distance(a, b, score_cutoff=limit) > limit:
                        continue
                    # The name seen more often is the one to keep.
                    keep, drop = sorted((a, b), key=lambda n: (-len(seen[(label, n)].documents), -len(n), n))
                    s = seen[(label, drop)]
                    merge = "merge: " + _flow({"type": label, "from": drop, "into": keep})
                    together = bool(s.documents & seen[(label, keep)].documents)
                    items.append(ReviewItem("near-duplicate", label, drop, keep, len(s.documents), s.mentions,
                                            s.sentence, merge, rank=int(together)))
    return items


def _distinct(a: str, b: str) -> bool:
    """Whether two names are different things by the ontology, however alike they look: a level
    apart, other chiefs, linkages of other parts, or one inside the other (general / specific)."""
    chiefs = settings()["chiefs"]
    mark = settings()["linkage_mark"]
    return (_levels_apart(a, b) or a in b or b in a
            or set(chiefs.findall(a)) != set(chiefs.findall(b))
            or (mark in a or mark in b) and set(a.split(mark)) != set(b.split(mark)))


def _levels_apart(a: str, b: str) -> bool:
    """Whether two names differ only by a level prefix (村级河长 / 区级河长 / 河长): different roles."""
    prefix = settings()["level_prefix"]
    return a != b and prefix.sub("", a) == prefix.sub("", b)


def review(records: Iterable[DocumentRecord]) -> list[ReviewItem]:
    """What most needs a human look, most urgent kind first, then the most widespread."""
    from etl.extract.lexicon import load_lexicon

    seen, relations = _entities(records)
    lexicon = load_lexicon()
    canonical = {(entry.label, entry.name) for entry in lexicon.entries}
    items = _near_duplicates(seen, canonical)
    lexicon = lexicon.by_surface
    for (label, name), s in sorted(seen.items()):
        if label == L.Region:
            continue
        reject = "reject: " + _flow({"type": label, "name": name})
        found = (len(s.documents), s.mentions, s.sentence, reject)
        if lexicon.get(name, (None,))[0] != label and not _linkage_of_lexicon(name, lexicon):
            items.append(ReviewItem("outside-lexicon", label, name, "", *found))
        if s.mentions <= 1:
            items.append(ReviewItem("seen-once", label, name, "", *found))
    for doc, rel, evidence, text in relations:
        if evidence == 1:
            correction = "reject: " + _flow({"relation": [rel.head, rel.type, rel.tail], "doc": doc})
            items.append(ReviewItem("single-sentence", rel.type, f"{rel.head} → {rel.tail}", doc, 1, 1, text,
                                    correction))
    return sorted(items, key=lambda it: (it.priority, it.rank, -it.documents, it.label, it.name, it.other))


def _linkage_of_lexicon(name: str, lexicon: dict) -> bool:
    """Whether a name joins two or more surface forms of the lexicon (河长+检察长)."""
    parts = name.split(settings()["linkage_mark"])
    return len(parts) > 1 and all(part in lexicon for part in parts)


def write_review(items: list[ReviewItem], out: Path, source: str = "") -> tuple[Path, Path]:
    """Write review.csv and review.html into ``out``; return their paths."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        csv_path, html_path = out / "review.csv", out / "review.html"
        with files.atomic_write(csv_path, encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8 then
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows({k: files.spreadsheet_cell(v) for k, v in item.row().items()} for item in items)
        files.write_text(html_path, _page(items, source))
    except OSError as exc:
        raise GovgraphError(f"cannot write the review into {out}: {exc.strerror}") from None
    return csv_path, html_path


def _page(items: list[ReviewItem], source: str) -> str:
    """A plain page: counts per kind, then one table row an item, the correction ready to copy."""
    import jinja2

    template = Path(__file__).resolve().parent / "templates" / "review.html"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    counts = Counter(item.kind for item in items)
    return env.get_template(template.name).render(
        items=items, counts=[(kind, counts.get(kind, 0)) for kind in KINDS], source=source, escape=html.escape)
