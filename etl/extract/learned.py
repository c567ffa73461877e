"""The learned part of the extractor: which candidate entities a document keeps.

Takes a document as the rules read it (etl.extract.assemble.Draft) and the artifact that
``govgraph train`` wrote (models/entities.json); returns the document's mentions with the
candidates the model accepts, plus names mined from annotations where the model accepts
them in this document. Loaded, never trained, here: etl/train builds the artifact.

The model is a logistic regression over one candidate (a label and a name in one document):
the rule that found it, how often and where the document names it, the characters that end
and open it and stand around it, whether the lexicon knows it, and how often annotators
took the name for that label in the training reports where it occurs. The weights are a
plain {feature: weight} table so that applying them needs no learning library; with no
artifact in the models folder the extractor keeps every candidate, as the rules alone did.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from etl import config
from etl.errors import DataFileError
from etl.graph.model import ENTITY_LABELS, L
from etl.graph.records import Mention

MODEL_FILE = "entities.json"
FORMAT = 1
# Labels the model judges; regions stay with the gazetteer (etl.extract.regions).
LABELS = tuple(label for label in ENTITY_LABELS if label != L.Region)
# Mentions of a candidate whose surroundings become features (the first few carry the most).
CONTEXT_MENTIONS = 6


def models_dir() -> Path:
    """The folder of learned artifacts: GOVGRAPH_MODELS, else <project>/models."""
    value = os.environ.get("GOVGRAPH_MODELS")
    return Path(value).expanduser().resolve() if value else config.PROJECT_ROOT / "models"


@dataclass(frozen=True)
class NameCounts:
    """How a name fared in the training reports: the documents that annotate it with a label,
    and the documents whose text contains it."""

    gold: dict[tuple[str, str], int]
    seen: dict[str, int]
    aliases: frozenset[tuple[str, str, str]] = frozenset()  # (label, a, b), a < b: one entity's names

    def prior(self, label: str, name: str, own: tuple[int, int] = (0, 0)) -> tuple[int, int]:
        """(documents annotating it with the label, documents containing it), without ``own``
        (a training document's own contribution, so its features are as a new report's)."""
        return self.gold.get((label, name), 0) - own[0], self.seen.get(name, 0) - own[1]

    def alias(self, label: str, a: str, b: str) -> bool:
        """Annotators listed both names as one entity of the label."""
        return (label, min(a, b), max(a, b)) in self.aliases

    def labels_of(self, name: str) -> set[str]:
        return {label for label in LABELS if self.gold.get((label, name), 0) > 0}


@dataclass(frozen=True)
class DocumentView:
    """What features look at in a document besides the candidate's own mentions."""

    text: str
    title: str
    sentence_starts: list[int]
    subjects: frozenset[str]
    known: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, draft, known: frozenset[tuple[str, str]]) -> DocumentView:
        return cls(draft.norm.text, draft.norm.title or "", [s.start for s in draft.sentences],
                   frozenset(q.subject for q in draft.quantities), known)


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    """The first edge n does not exceed, as a feature value (counts and positions grouped)."""
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


def features(label: str, name: str, mentions: list[Mention], view: DocumentView, counts: NameCounts,
             ruled: bool, own: tuple[int, int] = (0, 0), inside: float = 0.0) -> dict[str, float]:
    """A candidate's features: string features with value 1, a few numeric ones, every one
    prefixed by its label so that each label learns its own weights."""
    f: dict[str, float] = {}

    def on(key: str, value: float = 1.0) -> None:
        f[f"{label}|{key}"] = value

    on("bias")
    on("source=" + ("rule" if ruled else "mined"))
    on("lexicon" if (label, name) in view.known else "open")
    on("end1=" + name[-1:])
    on("end2=" + name[-2:])
    on("open1=" + name[:1])
    on("open2=" + name[:2])
    on("length=" + _bucket(len(name), (2, 3, 4, 5, 6, 8, 10, 14)))
    on("count=" + _bucket(len(mentions), (1, 2, 3, 5, 9)))
    first = min((m.sentence for m in mentions), default=0)
    on("first=" + _bucket(first, (0, 2, 5, 10, 20, 40)))
    if name in view.title:
        on("in_title")
    if name in view.subjects:
        on("quantity_subject")
    if any(c.isdigit() for c in name):
        on("digit")
    if inside:
        on("inside_other", inside)
        on("inside=" + ("all" if inside == 1.0 else "some"))
    gold, seen = counts.prior(label, name, own)
    if seen <= 0 and gold <= 0:
        on("unseen")
    else:
        rate = (gold + 0.5) / (max(seen, gold) + 1.0)
        on("prior", math.log(rate / (1 - rate)))
        on("prior_rate=" + _bucket(round(rate * 10), (0, 1, 3, 5, 7, 9, 10)))
        on("prior_docs=" + _bucket(seen, (1, 2, 4, 8, 16)))
    others = counts.labels_of(name) - {label}
    if others:
        on("gold_as_other")
    for m in mentions[:CONTEXT_MENTIONS]:
        before = view.text[m.start - 1:m.start] or "^"
        after = view.text[m.end:m.end + 1] or "$"
        on("before=" + before)
        on("after=" + after)
        on("before2=" + view.text[max(m.start - 2, 0):m.start])
        on("after2=" + view.text[m.end:m.end + 2])
    return f


def score(weights: dict[str, float], feats: dict[str, float]) -> float:
    """The logistic model's probability that the candidate is an entity of its label."""
    z = sum(weights.get(k, 0.0) * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


class Candidates:
    """A document's candidates: (label, name) → mentions, and whether rules found each."""

    def __init__(self) -> None:
        self.mentions: dict[tuple[str, str], list[Mention]] = defaultdict(list)
        self.ruled: set[tuple[str, str]] = set()

    def inside(self) -> dict[tuple[str, str], float]:
        """Per candidate, the share of its mentions that lie within a longer mention of another
        (水土保持法 inside 中华人民共和国水土保持法): a name inside a name is seldom one itself."""
        spans = sorted({(m.start, m.end) for group in self.mentions.values() for m in group})
        starts = [start for start, _ in spans]
        furthest = list(itertools.accumulate((end for _, end in spans), max))

        def within(start: int, end: int) -> bool:
            # Some span starting at or before ``start`` ends after ``end``, or one starting before
            # ``start`` ends at ``end`` or after.
            i = bisect.bisect_right(starts, start)
            j = bisect.bisect_left(starts, start)
            return (i > 0 and furthest[i - 1] > end) or (j > 0 and furthest[j - 1] >= end)

        return {key: sum(within(m.start, m.end) for m in group) / len(group)
                for key, group in self.mentions.items()}

    @classmethod
    def of(cls, view: DocumentView, mentions: Iterable[Mention], finder: NameFinder | None) -> Candidates:
        found = cls()
        for m in mentions:
            if m.type in LABELS:
                found.mentions[m.type, m.name].append(m)
                found.ruled.add((m.type, m.name))
        if finder is not None:
            for m in finder.find(view):
                key = (m.type, m.name)
                if key not in found.ruled:
                    found.mentions[key].append(m)
        return found


class NameFinder:
    """Names annotated in the training reports, found in a new text (each a candidate of every
    label annotators gave it; the model decides in context)."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.labels = names
        self.automaton = ahocorasick.Automaton()
        for name in names:
            if len(name) >= 2:
                self.automaton.add_word(name, name)
        if len(self.automaton):
            self.automaton.make_automaton()

    def find(self, view: DocumentView) -> list[Mention]:
        if not len(self.automaton):
            return []
        found = []
        for end, name in self.automaton.iter(view.text):
            start = end + 1 - len(name)
            sentence = max(bisect.bisect_right(view.sentence_starts, start) - 1, 0)
            for label in self.labels[name]:
                found.append(Mention(type=label, name=name, text=name, sentence=sentence, start=start, end=end + 1))
        return found


class EntityModel:
    """The artifact: weights, the acceptance threshold, and the names mined from annotations."""

    def __init__(self, data: dict, where: str = MODEL_FILE) -> None:
        if data.get("format") != FORMAT:
            raise DataFileError(f"{where}: format {data.get('format')!r}, this version reads {FORMAT}; "
                                "run govgraph train again")
        self.weights: dict[str, float] = data["weights"]
        self.threshold: float = data["threshold"]
        self.lexicon_threshold: float = data.get("lexicon_threshold", self.threshold)
        self.counts = NameCounts({(label, name): n for label, name, n in data["gold"]}, dict(data["seen"]),
                                 frozenset(tuple(triple) for triple in data.get("aliases", ())))
        names: dict[str, list[str]] = defaultdict(list)
        for label, name, _ in data["gold"]:
            if data.get("mine", True):
                names[name].append(label)
        self.finder = NameFinder(dict(names))

    @classmethod
    def load(cls, path: Path) -> EntityModel:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError, KeyError) as exc:
            raise DataFileError(f"{path}: not a readable entity model ({exc}); run govgraph train again") from exc

    def accept(self, view: DocumentView, mentions: list[Mention]) -> list[Mention]:
        """The mentions of the candidates the model accepts, with regions and others untouched,
        in text order; a quantity's subject is kept (its quantity hangs on it)."""
        found = Candidates.of(view, mentions, self.finder)
        kept = [m for m in mentions if m.type not in LABELS]
        accepted = []
        inside = found.inside()
        for key in sorted(found.mentions):
            label, name = key
            ruled = key in found.ruled
            p = 1.0 if ruled and name in view.subjects else score(
                self.weights, features(label, name, found.mentions[key], view, self.counts, ruled, inside=inside[key]))
            if p >= (self.lexicon_threshold if key in view.known else self.threshold):
                accepted.append((not ruled, -p, key))
        chosen: dict[str, list[str]] = defaultdict(list)
        for _, _, (label, name) in sorted(accepted):
            # Two names annotators gave one entity are one entity here too: the rules' or likelier one.
            if not any(self.counts.alias(label, name, other) for other in chosen[label]):
                chosen[label].append(name)
                kept.extend(found.mentions[label, name])
        kept.sort(key=lambda m: (m.start, m.end, m.type, m.name))
        return kept


@functools.cache
def default_model() -> EntityModel | None:
    """The model in the models folder, or None (the rules alone) when there is none."""
    path = models_dir() / MODEL_FILE
    return EntityModel.load(path) if path.exists() else None
