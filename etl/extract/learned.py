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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import ahocorasick

from etl import config
from etl.errors import DataFileError
from etl.extract import candidates
from etl.extract.words import WordIndex
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
# A quantity's subject is sure (its number hangs on it) unless it is an Indicator the rules named
# from the words around a number and the model gives it less than this: annotators take neither
# the name nor, then, the number (docs/extraction.md, quantities, third pass).
SUBJECT_THRESHOLD = 0.05
# Kinds of open span whose verdict a process keeps (SpanProposer._verdict): the 0.5 MB benchmark
# corpus has about 7,000; the bound keeps a run over a province's reports in a few MB.
VERDICTS = 100_000
Artifact = TypeVar("Artifact")


def models_dir() -> Path:
    """The folder of learned artifacts: GOVGRAPH_MODELS, else <project>/models."""
    value = os.environ.get("GOVGRAPH_MODELS")
    return Path(value).expanduser().resolve() if value else config.PROJECT_ROOT / "models"


def read_artifact(filename: str, kind: str, make: Callable[[dict, str], Artifact]) -> Artifact | None:
    """The artifact ``filename`` of the models folder, built by ``make`` from its JSON and where it
    is, or None when there is none. Read once a process, and again when GOVGRAPH_MODELS names
    another folder or the file changes, as retraining and tests do."""
    path = models_dir() / filename
    try:
        stamp = path.stat()
    except OSError:
        return None
    return _read_artifact(path, stamp.st_mtime_ns, stamp.st_size, kind, make)


@functools.cache
def _read_artifact(path: Path, mtime_ns: int, size: int, kind: str, make: Callable[[dict, str], Artifact]) -> Artifact:
    try:
        return make(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError(f"{path}: not a readable {kind} ({exc}); run govgraph train again") from exc


def check_format(data: dict, expected: int, where: str) -> None:
    """Refuse an artifact another version of govgraph wrote, naming it and what to do."""
    if data.get("format") != expected:
        raise DataFileError(f"{where}: format {data.get('format')!r}, this version reads {expected}; "
                            "run govgraph train again")


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

    def partners(self, label: str, name: str) -> frozenset[str]:
        """The names annotators listed as one entity of the label with this one: asked of a
        candidate once, rather than of each pair of it and a name already kept."""
        return self._partners.get((label, name), frozenset())

    @functools.cached_property
    def _partners(self) -> dict[tuple[str, str], frozenset[str]]:
        partners: dict[tuple[str, str], set[str]] = defaultdict(set)
        for label, a, b in self.aliases:
            partners[label, a].add(b)
            partners[label, b].add(a)
        return {key: frozenset(names) for key, names in partners.items()}

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
    def word_index(self) -> WordIndex:
        """The analyser's words looked up by offset."""
        return WordIndex(self.words)

    def sentence_of(self, offset: int) -> int:
        """The index of the sentence an offset of the text lies in."""
        return max(bisect.bisect_right(self.sentence_starts, offset) - 1, 0)

    def name_keys(self, name: str) -> tuple[list[str], list[str]]:
        """The features of a name itself in this document (its ends and length; whether the title
        names it, a quantity counts it, it holds a digit), computed once a name: a document's
        names are candidates of several labels and sources."""
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = _name_keys(name, self)
        return found

    def span_keys(self, start: int, end: int) -> tuple[list[str], list[str]]:
        """The features of a mention at (start, end): the analyser's reading of it and the
        characters around it, computed once a span (candidates of several labels share spans)."""
        found = self._spans.get((start, end))
        if found is None:
            found = self._spans[start, end] = (_word_keys(self, start, end), _context_keys(self.text, start, end))
        return found

    @functools.cached_property
    def _names(self) -> dict[str, tuple[list[str], list[str]]]:
        return {}

    @functools.cached_property
    def _spans(self) -> dict[tuple[int, int], tuple[list[str], list[str]]]:
        return {}


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    """The first edge n does not exceed, as a feature value (counts and positions grouped)."""
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


class _Buckets:
    """The keys "family=bucket" of a count grouped by its edges, made once: every candidate of
    every document takes several, and a made string keeps its hash for the weight lookups."""

    def __init__(self, family: str, edges: tuple[int, ...]) -> None:
        # n <= 0 falls in the first edge's bucket (no edge is negative); n past the last in ">last".
        self.keys = tuple(family + "=" + _bucket(n, edges) for n in range(edges[-1] + 2))

    def __call__(self, n: int) -> str:
        keys = self.keys
        return keys[n] if 0 <= n < len(keys) else keys[0] if n < 0 else keys[-1]


COUNT = _Buckets("count", (1, 2, 3, 5, 9))
FIRST = _Buckets("first", (0, 2, 5, 10, 20, 40))
PRIOR_RATE = _Buckets("prior_rate", (0, 1, 3, 5, 7, 9, 10))
PRIOR_DOCS = _Buckets("prior_docs", (1, 2, 4, 8, 16))
LENGTH = _Buckets("length", (2, 3, 4, 5, 6, 8, 10, 14))
WORDS = _Buckets("words", (1, 2, 3, 4))
_ZEROS = itertools.repeat(0.0)  # the weight of a feature the model has none for (an endless iterator)
SOURCES = {source: "source=" + source for source in ("rule", "mined", "span", "list", "quote")}


def features(label: str, name: str, mentions: list[Mention], view: DocumentView, counts: NameCounts,
             source: str, own: tuple[int, int] = (0, 0), inside: float = 0.0) -> dict[str, float]:
    """A candidate's features as training reads them: string features with value 1, a few numeric
    ones, every one prefixed by its label so that each label learns its own weights."""
    keys, numeric = feature_keys(label, name, mentions, view, counts, source, own, inside)
    prefix = label + "|"
    f = dict.fromkeys([prefix + key for key in keys], 1.0)
    f.update({prefix + key: value for key, value in numeric})
    return f


def feature_keys(label: str, name: str, mentions: list[Mention], view: DocumentView, counts: NameCounts,
                 source: str, own: tuple[int, int] = (0, 0), inside: float = 0.0
                 ) -> tuple[list[str], list[tuple[str, float]]]:
    """A candidate's features without its label: the keys of value 1, each once, and the
    numeric (key, value) pairs after them. The order is the order the model sums its weights in.
    What depends only on the name or on one mention's span is computed once a document
    (DocumentView.name_keys, span_keys): this runs for every candidate of every document."""
    own_keys, flags = view._names.get(name) or view.name_keys(name)
    first = mentions[0].sentence if len(mentions) == 1 else min((m.sentence for m in mentions), default=0)
    keys = ["bias", SOURCES.get(source) or "source=" + source, "lexicon" if (label, name) in view.known else "open",
            *own_keys, COUNT(len(mentions)), FIRST(first), *flags]
    numeric: list[tuple[str, float]] = []
    if inside:
        numeric.append(("inside_other", inside))
        keys.append("inside=all" if inside == 1.0 else "inside=some")
    gold, seen = counts.prior(label, name, own)
    if seen <= 0 and gold <= 0:
        keys.append("unseen")
    else:
        rate = (gold + 0.5) / (max(seen, gold) + 1.0)
        numeric.append(("prior", math.log(rate / (1 - rate))))
        keys.append(PRIOR_RATE(round(rate * 10)))
        keys.append(PRIOR_DOCS(seen))
    labels = counts.labels_of(name)
    if labels and (len(labels) > 1 or label not in labels):
        keys.append("gold_as_other")
    after = after_all(mentions, view.text)
    if after:
        keys.append("after_all=" + after)
    spans = view._spans
    if len(mentions) == 1:
        m = mentions[0]
        word_keys, context = spans.get((m.start, m.end)) or view.span_keys(m.start, m.end)
        keys += word_keys
        keys += context
        return keys, numeric
    both = [spans.get((m.start, m.end)) or view.span_keys(m.start, m.end) for m in mentions[:CONTEXT_MENTIONS]]
    for word_keys, _ in both[:2]:
        keys += word_keys
    for _, context in both:
        keys += context
    return list(dict.fromkeys(keys)), numeric  # mentions' surroundings repeat; one mention's never do


def after_all(mentions: list[Mention], text: str) -> str:
    """The character after every one of two mentions or more, when it is the same ("$" at the end
    of the text), else "": 林长 written only as the head of 林长制 says so."""
    if len(mentions) < 2:
        return ""
    after = {text[m.end:m.end + 1] for m in mentions}
    return (after.pop() or "$") if len(after) == 1 else ""


def _name_keys(name: str, view: DocumentView) -> tuple[list[str], list[str]]:
    """(the name's ends and length; whether the title holds it, a quantity counts it, it has a digit)."""
    own = ["end1=" + name[-1:], "end2=" + name[-2:], "open1=" + name[:1], "open2=" + name[:2], LENGTH(len(name))]
    flags = []
    if name in view.title:
        flags.append("in_title")
    if name in view.subjects:
        flags.append("quantity_subject")
    if not name.isalpha() and any(c.isdigit() for c in name):  # letters are no digits: most names
        flags.append("digit")
    return own, flags


def _word_keys(view: DocumentView, start: int, end: int) -> list[str]:
    """The analyser's reading of a mention: the tags of its first and last words and of the words
    around it, its head word, and whether its ends fall on word boundaries."""
    first, last = view.word_index.index_at(start), view.word_index.index_ending(end)
    if first is None or last is None:
        return ["unaligned"]
    words, text = view.words, view.text
    before = words[first - 1] if first > 0 else None
    return ["tags=" + words[first].tag + ">" + words[last].tag,
            "head=" + text[words[last].start:words[last].end],
            "opener=" + text[words[first].start:words[first].end],
            WORDS(last - first + 1),
            "tag_before=" + (before.tag if before else "^"),
            "word_before=" + (text[before.start:before.end] if before else "^"),
            "tag_after=" + (words[last + 1].tag if last + 1 < len(words) else "$")]


def _context_keys(text: str, start: int, end: int) -> list[str]:
    """The characters just before and after a mention."""
    return ["before=" + (text[start - 1:start] or "^"), "after=" + (text[end:end + 1] or "$"),
            "before2=" + text[max(start - 2, 0):start], "after2=" + text[end:end + 2]]


def probability(weights: dict[str, float], keys: list[str], numeric: list[tuple[str, float]]) -> float:
    """The logistic model's probability that a candidate is an entity of its label, from its
    features (feature_keys) and the label's weights (EntityModel.by_label): the terms are summed
    in the features' order, as the artifact's weights were always applied."""
    get = weights.get
    # One running sum, as sum() of the terms in a list makes it (the same additions in the same
    # order, so the same bits), without the list.
    z = sum(map(get, keys, _ZEROS))
    for key, value in numeric:
        z += get(key, 0.0) * value
    return 1.0 / (1.0 + math.exp(-(40.0 if z > 40.0 else -40.0 if z < -40.0 else z)))


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
        self.listed: set[tuple[str, str]] = set()
        self.quoted: set[tuple[str, str]] = set()

    def source(self, key: tuple[str, str]) -> str:
        if key in self.ruled:
            return "rule"
        if key in self.mined:
            return "mined"
        return "list" if key in self.listed else "quote" if key in self.quoted else "span"

    def add(self, mentions: Iterable[Mention], mined: bool, listed: bool = False, quoted: bool = False) -> None:
        """Mentions a finder proposes, for candidates the rules did not give."""
        for m in mentions:
            key = (m.type, m.name)
            if key not in self.ruled:
                self.mentions[key].append(m)
                if mined:
                    self.mined.add(key)
                elif listed:
                    self.listed.add(key)
                elif quoted:
                    self.quoted.add(key)

    def add_open(self, view: DocumentView, proposer: SpanProposer) -> None:
        """The open proposals after the rules' and the mined names: the other items of the lists
        the rules named an item of, quoted runs, and the proposer's spans."""
        self.add(list_items(view, self.ruled_mentions()), mined=False, listed=True)
        self.add(quoted_names(view), mined=False, quoted=True)
        self.add(proposer.propose(view), mined=False)

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

        shares = {span: int(within(*span)) for span in spans}  # candidates of several labels share spans
        return {key: sum(shares[m.start, m.end] for m in group) / len(group) for key, group in self.mentions.items()}

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
            found.add_open(view, proposer)
        return found

    def ruled_mentions(self) -> list[Mention]:
        """The rules' mentions, in text order."""
        return sorted((m for key in self.ruled for m in self.mentions[key]), key=lambda m: (m.start, m.end, m.type))


# The sources of open proposals: one overlapping a name of its label already kept is another cut of it.
OPEN_SOURCES = ("span", "list", "quote")
# A list's items run at most this many words where the list does not mark where they begin or end.
LIST_ITEM_WORDS = 5
# An Indicator is what a number counts (attribution.py), not a name a list gives; bodies are listed
# with their regions and levels (县水利局、市林业局), which the Actor grammar already cuts off.
LIST_LABELS = tuple(label for label in LABELS if label not in (L.Indicator, L.Actor))


class ListMarks(NamedTuple):
    """What marks a list in grammar.yaml: its items' mark, what ends its clause, and the one-character
    words that close its last item (等 and the list conjunctions)."""

    mark: str
    clause: re.Pattern[str]
    closers: frozenset[str]


@functools.cache
def list_marks() -> ListMarks:
    grammar = candidates.load_grammar()
    return ListMarks(grammar.list_mark, re.compile("[" + re.escape(grammar.clause_marks) + r"\s]"),
                     frozenset(grammar.list_closers) | frozenset(grammar.list_conjunctions))


def list_items(view: DocumentView, ruled: Iterable[Mention]) -> list[Proposed]:
    """The other items of a list (A、B、C) one of whose items the rules named: each a candidate of
    the named item's label. An item between two marks is taken whole; the first and the last, whose
    outer edge the list does not mark, are taken at every word boundary up to LIST_ITEM_WORDS words
    (开展A、B、C等工作: A without its verb, C without what follows), for the model to judge."""
    text, found, seen = view.text, [], set()
    marks = list_marks()
    for m in ruled:
        if m.type not in LIST_LABELS or marks.mark not in (text[m.start - 1:m.start], text[m.end:m.end + 1]):
            continue
        begin, end = _clause(marks.clause, text, m.start, m.end)
        if (begin, end, m.type) in seen:
            continue
        seen.add((begin, end, m.type))
        parts, at = [], begin
        for piece in text[begin:end].split(marks.mark):
            parts.append((at, at + len(piece)))
            at += len(piece) + 1
        sentence = view.sentence_of(m.start)
        for k, (start, stop) in enumerate(parts):
            closed = False
            if k == len(parts) - 1:
                cut = next((w.start for w in view.word_index.starting_within(start, stop)
                            if w.end - w.start == 1 and text[w.start] in marks.closers), None)
                stop, closed = (cut, True) if cut is not None else (stop, False)
            for s, e in _item_cuts(view, start, stop, first=k == 0, last=k == len(parts) - 1 and not closed):
                name = text[s:e]
                if 2 <= len(name) <= SPAN_LENGTH and SPAN_CHARACTERS.fullmatch(name):
                    found.append(Proposed(m.type, name, name, sentence, s, e))
    return found


def quoted_names(view: DocumentView) -> list[Proposed]:
    """Every quoted run grammar.yaml's quoted_name finds (“林长+”, “绿满山川”, “草方格”), as a
    candidate of each of its labels: prose quotes what it names, and the model tells a system, a
    campaign and a work apart, and all three from a slogan."""
    grammar = candidates.load_grammar()
    if grammar.quoted_name is None:
        return []
    found = []
    for match in grammar.quoted_name.finditer(view.text):
        start, end = match.span("name")
        sentence = view.sentence_of(start)
        name = match["name"]
        found.extend(Proposed(label, name, name, sentence, start, end) for label in grammar.quoted_labels)
    return found


def _clause(marks: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch around a mention up to the nearest clause marks on either side."""
    before = marks.search(text[max(start - 120, 0):start][::-1])
    after = marks.search(text, end, end + 120)
    begin = start - before.start() if before else max(start - 120, 0)
    return begin, after.start() if after else min(end + 120, len(text))


def _item_cuts(view: DocumentView, start: int, stop: int, first: bool, last: bool) -> list[tuple[int, int]]:
    """An item whole, or for the list's first item its word-boundary suffixes and for its last its
    prefixes, of at most LIST_ITEM_WORDS words."""
    if not (first or last):
        return [(start, stop)]  # marked on both sides (a last item closed by 等 or 和 is too)
    bounds = sorted({start, stop} | {w.start for w in view.word_index.starting_within(start, stop)})
    words = len(bounds) - 1
    if first and not last:
        return [(b, stop) for i, b in enumerate(bounds[:-1]) if words - i <= LIST_ITEM_WORDS]
    if last and not first:
        return [(start, b) for j, b in enumerate(bounds[1:], 1) if j <= LIST_ITEM_WORDS]
    return []


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
            sentence = view.sentence_of(start)
            for label in self.labels[name]:
                found.append(Proposed(label, name, name, sentence, start, end + 1))
        return found


class SpanProposer:
    """Runs of the analyser's words that end in a head word annotators' names of a label end in
    (…纳管, …整治, …审判), or in a word of the same tag and last character as such heads
    (…湿地 from …地, …工作组 from …组): open-vocabulary candidates for the model to judge.
    A label's runs are at most as many words as its annotated names mostly are."""

    def __init__(self, heads: dict[str, Iterable[str]], ends: dict[str, Iterable[str]] | None = None,
                 words: dict[str, int] | None = None, cuts: dict[tuple, bool] | None = None) -> None:
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
        self._ends = {ending: sorted(set(labels)) for ending, labels in self.ends.items()}
        self._both: dict[tuple[str, str], list[str]] = {}  # (head word, tag) → its labels and its ending's
        # The last characters of the heads and endings: a word ending otherwise ends no span.
        self.lasts = frozenset(head[-1:] for head in self.labels) | frozenset(last for _, last in self.ends)
        # Kinds of span (cut_keys) → whether training ever scored one of them near acceptance: a
        # kind that never came near is not proposed (most spans are of such kinds: judging them
        # was most of the model's time). A kind training did not see enough of is proposed.
        self.cuts = cuts or {}
        self._verdicts: dict[tuple[str, str, str, int, str, str], bool] = {}  # see _verdict

    def labels_of(self, word: str, tag: str) -> list[str]:
        """The labels a word ends spans of: those of the head word it is, and of its (tag, last
        character). Asked for every word of every document: made once a head word and tag."""
        by_end = self._ends.get((tag, word[-1:]))
        by_head = self.labels.get(word)
        if by_head is None or by_end is None:
            return by_end or by_head or []
        both = self._both.get((word, tag))
        if both is None:
            both = self._both[word, tag] = sorted(set(by_head) | set(by_end))
        return both

    def propose(self, view: DocumentView) -> list[Mention]:
        """The open spans of the document worth judging (``worth``), by head word in text order
        and from the shortest. Runs every word of every document: a run's characters are checked
        a word at a time as it grows, and a span is cut from the text only when proposed."""
        found = []
        words, text = view.words, view.text
        max_words, verdicts, labels_of, lasts = self.max_words, self._verdicts, self.labels_of, self.lasts
        chinese = SPAN_CHARACTERS.fullmatch
        for i, word in enumerate(words):
            tag = word.tag
            if tag == "w" or text[word.end - 1] not in lasts:
                continue
            head = text[word.start:word.end]
            labels = labels_of(head, tag)
            if not labels or not chinese(head):
                continue
            longest = max(max_words[label] for label in labels)
            sentence = None
            end = word.end
            for j in range(i, max(i - longest, -1), -1):
                first = words[j]
                if j < i and (first.tag == "w" or first.end != words[j + 1].start
                              or not chinese(text, first.start, first.end)):
                    break  # a mark, a gap or a character other than a Chinese one ends the run
                if end - first.start > SPAN_LENGTH:
                    break  # and so would every longer run
                if end - first.start >= 2:
                    n, before, span = i - j + 1, words[j - 1].tag if j > 0 else "^", None
                    for label in labels:
                        if n > max_words[label]:
                            continue
                        kind = (label, head, tag, n, first.tag, before)
                        worth = verdicts.get(kind)
                        if worth is None:
                            worth = self._verdict(kind)
                        if worth:
                            if span is None:
                                span = text[first.start:end]
                                if sentence is None:
                                    sentence = view.sentence_of(word.start)
                            found.append(Proposed(label, span, span, sentence, first.start, end))
        return found

    def _verdict(self, kind: tuple[str, str, str, int, str, str]) -> bool:
        """``worth`` of a span of this kind (label, head word, its tag, number of words, the first
        word's tag, the tag before it: what cut_keys reads), kept for the next span of the kind:
        documents repeat a few thousand kinds, and most words end spans of several."""
        if len(self._verdicts) >= VERDICTS:
            self._verdicts.clear()  # a bound on memory over a long run; a verdict is cheap to make again
        worth = self._verdicts[kind] = self.worth(_span_kinds(*kind))
        return worth

    def worth(self, keys: tuple[tuple, ...]) -> bool:
        """Whether a span of these kinds (cut_keys, the most specific first) is proposed: the
        verdict of the most specific kind training saw enough of, else yes."""
        cuts = self.cuts
        if cuts:
            for key in keys:
                verdict = cuts.get(key)
                if verdict is not None:
                    return verdict
        return True


def cut_keys(label: str, words: list, text: str, first: int, last: int) -> tuple[tuple, ...]:
    """The kinds of an open span of a label over words first..last, the most specific first: its
    head word, number of words, the tags of its first word and of the word before it; the same
    without the word before; without the first word's tag; its head's tag and last character
    instead of the head word."""
    return _span_kinds(label, text[words[last].start:words[last].end], words[last].tag, last - first + 1,
                       words[first].tag, words[first - 1].tag if first > 0 else "^")


def _span_kinds(label: str, head: str, tag: str, n: int, opener: str, before: str) -> tuple[tuple, ...]:
    """cut_keys of a span given by what they read: its head word and that word's tag, its number
    of words, its first word's tag and the tag before it ("^" at the text's start)."""
    return ((label, head, n, opener, before), (label, head, n, opener), (label, head, n), (label, tag, head[-1:], n))


class EntityModel:
    """The artifact: weights, the acceptance threshold, and the names mined from annotations."""

    def __init__(self, data: dict, where: str = MODEL_FILE) -> None:
        check_format(data, FORMAT, where)
        self.weights: dict[str, float] = data["weights"]
        # The weights by label, keyed as feature_keys names them: no key is prefixed to score.
        self.by_label: dict[str, dict[str, float]] = defaultdict(dict)
        for key, weight in self.weights.items():
            label, _, feature = key.partition("|")
            self.by_label[label][feature] = weight
        self.threshold: float = data["threshold"]
        self.lexicon_threshold: float = data.get("lexicon_threshold", self.threshold)
        self.thresholds: dict[str, float] = data.get("thresholds", {})
        self.subject_threshold: float = data.get("subject_threshold", SUBJECT_THRESHOLD)
        # (label, character): a candidate every mention of which runs on into the character is
        # never kept; training found no annotated name of the label among enough such candidates.
        self.never_after: frozenset[tuple[str, str]] = frozenset(map(tuple, data.get("never_after", ())))
        # (label, name): what a researcher's corrections took out and no annotation or correction kept.
        self.rejected: frozenset[tuple[str, str]] = frozenset(map(tuple, data.get("rejected", ())))
        self.counts = NameCounts({(label, name): n for label, name, n in data["gold"]}, dict(data["seen"]),
                                 frozenset(tuple(triple) for triple in data.get("aliases", ())))
        names: dict[str, list[str]] = defaultdict(list)
        least = data.get("mine_least", 1)
        for label, name, n in data["gold"]:
            if n >= least:
                names[name].append(label)
        self.finder = NameFinder(dict(names))
        self.proposer = SpanProposer(data.get("heads", {}), data.get("ends", {}), data.get("span_words", {}),
                                     {tuple(key): bool(reached) for *key, reached in data.get("span_cuts", ())})

    def scored(self, view: DocumentView, mentions: list[Mention]) -> tuple[Candidates, list[tuple], frozenset[str]]:
        """The document's candidates and, for each, (label, name), its source and the model's
        probability; a quantity's subject the rules found is sure (its quantity hangs on it) unless
        the model doubts it (``doubts``). Last, the names of the subjects it doubts."""
        found = Candidates.of(view, mentions, self.finder, self.proposer)
        inside = found.inside()
        out, doubted = [], set()
        groups, counts, by_label, subjects = found.mentions, self.counts, self.by_label, view.subjects
        for key in sorted(groups):
            label, name = key
            source = found.source(key)
            subject = source == "rule" and name in subjects
            if subject and label != L.Indicator:
                out.append((key, source, 1.0))
                continue
            if not subject and (key in self.rejected or self.never_after
                                and (label, after_all(groups[key], view.text)) in self.never_after):
                out.append((key, source, 0.0))
                continue
            p = probability(by_label[label], *feature_keys(label, name, groups[key], view, counts, source,
                                                           inside=inside[key]))
            if subject and self.doubts(label, p):
                doubted.add(name)
            elif subject:
                p = 1.0  # an Indicator subject the model does not doubt is sure as the others
            out.append((key, source, p))
        return found, out, frozenset(doubted)

    def doubts(self, label: str, p: float) -> bool:
        """An Indicator named only as what a number counts, at probability below subject_threshold:
        a phrase around a spurious or misread number, which neither the entities nor the
        quantities should keep (its candidate is rejected here, its numbers in assembly)."""
        return label == L.Indicator and p < self.subject_threshold

    def threshold_of(self, key: tuple[str, str], view: DocumentView) -> float:
        """The probability a candidate needs: its label's, lower for a name the lexicon knows."""
        threshold = self.thresholds.get(key[0], self.threshold)
        return min(threshold, self.lexicon_threshold) if key in view.known else threshold

    def accept(self, view: DocumentView, mentions: list[Mention]) -> list[Mention]:
        """The mentions of the candidates the model accepts, with regions and others untouched,
        in text order."""
        return self.judge(view, mentions)[0]

    def judge(self, view: DocumentView, mentions: list[Mention]) -> tuple[list[Mention], frozenset[str]]:
        """The mentions the model accepts (as ``accept``) and the quantity subjects it doubts
        (``doubts``): the Indicators whose numbers assembly drops."""
        found, scored, doubted = self.scored(view, mentions)
        kept = [m for m in mentions if m.type not in LABELS]
        least = min(self.lexicon_threshold, self.threshold, *self.thresholds.values())  # most candidates fall short
        accepted = [(source != "rule", source in OPEN_SOURCES, -p, key) for key, source, p in scored
                    if p >= least and p >= self.threshold_of(key, view)]
        chosen: dict[str, list[str]] = defaultdict(list)
        taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for _, span, _, (label, name) in sorted(accepted):
            # Two names annotators gave one entity are one entity here too: the rules' or likelier one.
            partners = self.counts.partners(label, name)
            if partners and not partners.isdisjoint(chosen[label]):
                continue
            group = found.mentions[label, name]
            # An open span overlapping a name of its label already kept is another cut of the same
            # words; one of another label is not (三级河长体系 around the Actor 河长).
            if span and any(s < m.end and m.start < e for m in group for s, e in taken[label]):
                continue
            chosen[label].append(name)
            kept.extend(m.as_mention() if isinstance(m, Proposed) else m for m in group)
            taken[label].extend((m.start, m.end) for m in group)
        kept.sort(key=lambda m: (m.start, m.end, m.type, m.name))
        return kept, doubted


def default_model() -> EntityModel | None:
    """The entity model in the models folder, or None (the rules alone) when there is none."""
    return read_artifact(MODEL_FILE, "entity model", EntityModel)
