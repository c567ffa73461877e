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
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

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
CONTEXT_MENTIONS = 3
# Open-vocabulary spans: at most this many words and characters, of Chinese characters alone.
SPAN_WORDS = 4
SPAN_LENGTH = 16
SPAN_CHARACTERS = re.compile(r"[\u4e00-\u9fff]+")


def models_dir() -> Path:
    """The folder of learned artifacts: GOVGRAPH_MODELS, else <project>/models."""
    value = os.environ.get("GOVGRAPH_MODELS")
    return Path(value).expanduser().resolve() if value else config.PROJECT_ROOT / "models"


@dataclass(frozen=True)
class NameCounts:  # not hashable: a cached_property stores into __dict__
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

    @functools.cached_property
    def _labels(self) -> dict[str, frozenset[str]]:
        labels: dict[str, set[str]] = defaultdict(set)
        for (label, name), n in self.gold.items():
            if n > 0:
                labels[name].add(label)
        return {name: frozenset(found) for name, found in labels.items()}

    def labels_of(self, name: str) -> frozenset[str]:
        return self._labels.get(name, frozenset())


@dataclass(frozen=True)
class DocumentView:
    """What features look at in a document besides the candidate's own mentions."""

    text: str
    title: str
    sentence_starts: list[int]
    subjects: frozenset[str]
    known: frozenset[tuple[str, str]]
    words: list = field(default_factory=list)  # the analyser's words (start, end, tag)

    @classmethod
    def of(cls, draft, known: frozenset[tuple[str, str]]) -> DocumentView:
        return cls(draft.norm.text, draft.norm.title or "", [s.start for s in draft.sentences],
                   frozenset(q.subject for q in draft.quantities), known, list(getattr(draft, "words", [])))

    @functools.cached_property
    def word_starts(self) -> list[int]:
        return [w.start for w in self.words]

    def word_at(self, offset: int) -> int | None:
        """The index of the word that starts at the offset, if one does."""
        i = bisect.bisect_left(self.word_starts, offset)
        return i if i < len(self.words) and self.words[i].start == offset else None

    def word_ending(self, offset: int) -> int | None:
        """The index of the word that ends at the offset, if one does."""
        i = bisect.bisect_right(self.word_starts, offset - 1) - 1
        return i if i >= 0 and self.words[i].end == offset else None


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    """The first edge n does not exceed, as a feature value (counts and positions grouped)."""
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


def features(label: str, name: str, mentions: list[Mention], view: DocumentView, counts: NameCounts,
             source: str, own: tuple[int, int] = (0, 0), inside: float = 0.0) -> dict[str, float]:
    """A candidate's features: string features with value 1, a few numeric ones, every one
    prefixed by its label so that each label learns its own weights. (Keys are gathered in a
    list and prefixed once: this runs for every candidate of every document.)"""
    text = view.text
    keys = ["bias", "source=" + source, "lexicon" if (label, name) in view.known else "open",
            "end1=" + name[-1:], "end2=" + name[-2:], "open1=" + name[:1], "open2=" + name[:2],
            "length=" + _bucket(len(name), (2, 3, 4, 5, 6, 8, 10, 14)),
            "count=" + _bucket(len(mentions), (1, 2, 3, 5, 9)),
            "first=" + _bucket(min((m.sentence for m in mentions), default=0), (0, 2, 5, 10, 20, 40))]
    numeric: dict[str, float] = {}
    if name in view.title:
        keys.append("in_title")
    if name in view.subjects:
        keys.append("quantity_subject")
    if any(c.isdigit() for c in name):
        keys.append("digit")
    if inside:
        numeric["inside_other"] = inside
        keys.append("inside=" + ("all" if inside == 1.0 else "some"))
    gold, seen = counts.prior(label, name, own)
    if seen <= 0 and gold <= 0:
        keys.append("unseen")
    else:
        rate = (gold + 0.5) / (max(seen, gold) + 1.0)
        numeric["prior"] = math.log(rate / (1 - rate))
        keys.append("prior_rate=" + _bucket(round(rate * 10), (0, 1, 3, 5, 7, 9, 10)))
        keys.append("prior_docs=" + _bucket(seen, (1, 2, 4, 8, 16)))
    if counts.labels_of(name) - {label}:
        keys.append("gold_as_other")
    for m in mentions[:2]:
        _word_features(keys, view, m)
    for m in mentions[:CONTEXT_MENTIONS]:
        keys.append("before=" + (text[m.start - 1:m.start] or "^"))
        keys.append("after=" + (text[m.end:m.end + 1] or "$"))
        keys.append("before2=" + text[max(m.start - 2, 0):m.start])
        keys.append("after2=" + text[m.end:m.end + 2])
    prefix = label + "|"
    f = dict.fromkeys([prefix + key for key in keys], 1.0)
    f.update({prefix + key: value for key, value in numeric.items()})
    return f


def _word_features(keys: list[str], view: DocumentView, m: Mention) -> None:
    """The analyser's reading of a mention: the tags of its first and last words and of the words
    around it, its head word, and whether its ends fall on word boundaries."""
    first, last = view.word_at(m.start), view.word_ending(m.end)
    if first is None or last is None:
        keys.append("unaligned")
        return
    words, text = view.words, view.text
    before = words[first - 1] if first > 0 else None
    keys += ["tags=" + words[first].tag + ">" + words[last].tag,
             "head=" + text[words[last].start:words[last].end],
             "opener=" + text[words[first].start:words[first].end],
             "words=" + _bucket(last - first + 1, (1, 2, 3, 4)),
             "tag_before=" + (before.tag if before else "^"),
             "word_before=" + (text[before.start:before.end] if before else "^"),
             "tag_after=" + (words[last + 1].tag if last + 1 < len(words) else "$")]


def score(weights: dict[str, float], feats: dict[str, float]) -> float:
    """The logistic model's probability that the candidate is an entity of its label."""
    get = weights.get
    z = sum(get(k, 0.0) * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


class Proposed(NamedTuple):
    """A mention a finder proposes, made a Mention (validated) only when the model keeps it."""

    type: str
    name: str
    text: str
    sentence: int
    start: int
    end: int

    def as_mention(self) -> Mention:
        return Mention(type=self.type, name=self.name, text=self.text, sentence=self.sentence,
                       start=self.start, end=self.end)


class Candidates:
    """A document's candidates: (label, name) → mentions, and whether rules found each."""

    def __init__(self) -> None:
        self.mentions: dict[tuple[str, str], list[Mention]] = defaultdict(list)
        self.ruled: set[tuple[str, str]] = set()
        self.mined: set[tuple[str, str]] = set()

    def source(self, key: tuple[str, str]) -> str:
        return "rule" if key in self.ruled else "mined" if key in self.mined else "span"

    def add(self, mentions: Iterable[Mention], mined: bool) -> None:
        """Mentions a finder proposes, for candidates the rules did not give."""
        for m in mentions:
            key = (m.type, m.name)
            if key not in self.ruled:
                self.mentions[key].append(m)
                if mined:
                    self.mined.add(key)

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
    def of(cls, view: DocumentView, mentions: Iterable[Mention], finder: NameFinder | None = None,
           proposer: SpanProposer | None = None) -> Candidates:
        found = cls()
        for m in mentions:
            if m.type in LABELS:
                found.mentions[m.type, m.name].append(m)
                found.ruled.add((m.type, m.name))
        if finder is not None:
            found.add(finder.find(view), mined=True)
        if proposer is not None:
            found.add(proposer.propose(view), mined=False)
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
                found.append(Proposed(label, name, name, sentence, start, end + 1))
        return found


class SpanProposer:
    """Runs of the analyser's words that end in a head word annotators' names of a label end in
    (…纳管, …整治, …审判), or in a word of the same tag and last character as such heads
    (…湿地 from …地, …工作组 from …组): open-vocabulary candidates for the model to judge.
    A label's runs are at most as many words as its annotated names mostly are."""

    def __init__(self, heads: dict[str, Iterable[str]], ends: dict[str, Iterable[str]] | None = None,
                 words: dict[str, int] | None = None) -> None:
        self.labels: dict[str, list[str]] = defaultdict(list)
        for label in sorted(heads):
            for head in heads[label]:
                self.labels[head].append(label)
        # An ending is "tag last-character", e.g. "n 湖".
        self.ends: dict[tuple[str, str], list[str]] = defaultdict(list)
        for label in sorted(ends or {}):
            for ending in (ends or {})[label]:
                tag, _, last = ending.partition(" ")
                self.ends[tag, last].append(label)
        self.max_words = {label: (words or {}).get(label, SPAN_WORDS) for label in LABELS}

    def labels_of(self, word: str, tag: str) -> list[str]:
        by_head, by_end = self.labels.get(word, ()), self.ends.get((tag, word[-1:]), ())
        return sorted(set(by_head) | set(by_end)) if by_end else list(by_head)

    def propose(self, view: DocumentView) -> list[Mention]:
        found = []
        words, text = view.words, view.text
        for i, word in enumerate(words):
            if word.tag == "w":
                continue
            labels = self.labels_of(text[word.start:word.end], word.tag)
            if not labels:
                continue
            longest = max(self.max_words[label] for label in labels)
            sentence = max(bisect.bisect_right(view.sentence_starts, word.start) - 1, 0)
            for j in range(i, max(i - longest, -1), -1):
                if words[j].tag == "w" or (j < i and words[j].end != words[j + 1].start):
                    break  # a mark or a gap ends the run
                span = text[words[j].start:word.end]
                if not SPAN_CHARACTERS.fullmatch(span):
                    break
                if 2 <= len(span) <= SPAN_LENGTH:
                    found.extend(Proposed(label, span, span, sentence, words[j].start, word.end)
                                 for label in labels if i - j < self.max_words[label])
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
        self.thresholds: dict[str, float] = data.get("thresholds", {})
        self.counts = NameCounts({(label, name): n for label, name, n in data["gold"]}, dict(data["seen"]),
                                 frozenset(tuple(triple) for triple in data.get("aliases", ())))
        names: dict[str, list[str]] = defaultdict(list)
        least = data.get("mine_least", 1)
        for label, name, n in data["gold"]:
            if n >= least:
                names[name].append(label)
        self.finder = NameFinder(dict(names))
        self.proposer = SpanProposer(data.get("heads", {}), data.get("ends", {}), data.get("span_words", {}))

    @classmethod
    def load(cls, path: Path) -> EntityModel:
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")), str(path))
        except (OSError, ValueError, KeyError) as exc:
            raise DataFileError(f"{path}: not a readable entity model ({exc}); run govgraph train again") from exc

    def scored(self, view: DocumentView, mentions: list[Mention]) -> tuple[Candidates, list[tuple]]:
        """The document's candidates and, for each, (label, name), its source and the model's
        probability; a quantity's subject the rules found is sure (its quantity hangs on it)."""
        found = Candidates.of(view, mentions, self.finder, self.proposer)
        inside = found.inside()
        out = []
        for key in sorted(found.mentions):
            label, name = key
            source = found.source(key)
            p = 1.0 if source == "rule" and name in view.subjects else score(
                self.weights, features(label, name, found.mentions[key], view, self.counts, source,
                                       inside=inside[key]))
            out.append((key, source, p))
        return found, out

    def threshold_of(self, key: tuple[str, str], view: DocumentView) -> float:
        """The probability a candidate needs: its label's, lower for a name the lexicon knows."""
        threshold = self.thresholds.get(key[0], self.threshold)
        return min(threshold, self.lexicon_threshold) if key in view.known else threshold

    def accept(self, view: DocumentView, mentions: list[Mention]) -> list[Mention]:
        """The mentions of the candidates the model accepts, with regions and others untouched,
        in text order."""
        found, scored = self.scored(view, mentions)
        kept = [m for m in mentions if m.type not in LABELS]
        accepted = [(source != "rule", source == "span", -p, key) for key, source, p in scored
                    if p >= self.threshold_of(key, view)]
        chosen: dict[str, list[str]] = defaultdict(list)
        taken: list[tuple[int, int]] = []
        for _, span, _, (label, name) in sorted(accepted):
            # Two names annotators gave one entity are one entity here too: the rules' or likelier one.
            if any(self.counts.alias(label, name, other) for other in chosen[label]):
                continue
            group = found.mentions[label, name]
            # An open span overlapping a name already kept is another cut of the same words.
            if span and any(s < m.end and m.start < e for m in group for s, e in taken):
                continue
            chosen[label].append(name)
            kept.extend(m.as_mention() if isinstance(m, Proposed) else m for m in group)
            taken.extend((m.start, m.end) for m in group)
        kept.sort(key=lambda m: (m.start, m.end, m.type, m.name))
        return kept


@functools.cache
def default_model() -> EntityModel | None:
    """The model in the models folder, or None (the rules alone) when there is none."""
    path = models_dir() / MODEL_FILE
    return EntityModel.load(path) if path.exists() else None
