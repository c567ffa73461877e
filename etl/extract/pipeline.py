"""The spaCy pipeline of the extract stage: a lexicon-aware tokenizer and rule components.

Takes normalized text; returns a spaCy Doc whose ``doc.spans["govgraph"]`` holds every
entity mention (label = entity type, ``id_`` = canonical name) and whose
``doc._.quantities`` holds the numbers found. Patterns come from the versioned data
files under schema/ and reach the components in ``initialize()``.

The tokenizer is written here on top of pyahocorasick rather than using jieba: jieba's
DAG and HMM search is what the speed target measures against, and the rules only need
lexicon terms kept whole (one token each) with every other character its own token, so
that any rule's character offsets fall on token boundaries.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterable

import ahocorasick
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from etl.extract import lexicon as lexicon_data
from etl.extract import quantities
from etl.extract.candidates import finder, without_tail
from etl.extract.regions import find_region_mentions
from etl.graph.model import L

SPANS_KEY = "govgraph"
TITLE = re.compile(r"《[^《》]{1,80}》")
_GAP_TOKEN = re.compile(r"[A-Za-z0-9.%²³]+|.", re.S)
_ASCII_PART = re.compile(r"[A-Za-z0-9.%²³]")

# What the stages of the pipeline hand each other on the Doc (registered, not user_data keys):
# the text as given (Doc.text rebuilds it token by token at every access), the tokens that are
# lexicon terms, the regions found, the analyser's words and the numbers found.
for _name in ("text", "lexicon_tokens", "region_mentions", "words", "quantities"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


class _Orths(dict):
    """Token text → its hash in the vocabulary (adding it the first time). spaCy's Doc takes
    hashes as words as well as strings, and hashing every character anew was a third of the
    tokenizer's time."""

    def __init__(self, vocab: Vocab) -> None:
        super().__init__()
        self.vocab = vocab

    def __missing__(self, word: str) -> int:
        orth = self[word] = self.vocab[word].orth
        return orth


class LexiconTokenizer:
    """Leftmost-longest lexicon matches as single tokens; ASCII runs and other characters as tokens."""

    def __init__(self, vocab: Vocab, terms: Iterable[str] = ()):
        self.vocab = vocab
        self.orths = _Orths(vocab)
        self.automaton = ahocorasick.Automaton()
        self.add_terms(terms)

    def add_terms(self, terms: Iterable[str]) -> None:
        for term in terms:
            if len(term) > 1:
                self.automaton.add_word(term, len(term))
        if len(self.automaton):
            self.automaton.make_automaton()

    def _matches(self, text: str) -> dict[int, int]:
        """start → end of the leftmost-longest non-overlapping lexicon matches."""
        best: dict[int, int] = {}
        if not len(self.automaton):
            return best
        for end, length in self.automaton.iter(text):
            start = end - length + 1
            if best.get(start, 0) < end + 1:
                best[start] = end + 1
        chosen, covered = {}, 0
        for start in sorted(best):
            if start >= covered:
                chosen[start] = best[start]
                covered = best[start]
        return chosen

    def __call__(self, text: str) -> Doc:
        words: list[int] = []
        lexicon_tokens: list[tuple[int, str]] = []
        ascii_at = [m.start() for m in _ASCII_PART.finditer(text)]
        last = 0
        for start, end in self._matches(text).items():
            self._gap_tokens(text, last, start, ascii_at, words)
            lexicon_tokens.append((len(words), text[start:end]))
            words.append(self.orths[text[start:end]])
            last = end
        self._gap_tokens(text, last, len(text), ascii_at, words)
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        doc._.text = text
        doc._.lexicon_tokens = lexicon_tokens
        return doc

    def _gap_tokens(self, text: str, start: int, end: int, ascii_at: list[int], words: list[int]) -> None:
        """Tokens between two lexicon terms: ASCII runs whole, every other character alone."""
        i = bisect.bisect_left(ascii_at, start)
        if i < len(ascii_at) and ascii_at[i] < end:
            words.extend(map(self.orths.__getitem__, _GAP_TOKEN.findall(text, start, end)))
        else:  # no ASCII in the gap: every character is a token
            words.extend(map(self.orths.__getitem__, text[start:end]))


def doc_text(doc: Doc) -> str:
    return doc._.text or doc.text


def _add_spans(doc: Doc, spans: list[Span]) -> None:
    """Add mentions to the Doc's span group without copying the spans already there."""
    if SPANS_KEY in doc.spans:
        doc.spans[SPANS_KEY].extend(spans)
    else:
        doc.spans[SPANS_KEY] = spans


@Language.factory("govgraph_lexicon", default_config={})
def make_lexicon_component(nlp: Language, name: str) -> LexiconComponent:
    return LexiconComponent()


class LexiconComponent:
    """Marks every lexicon term (already one token) as a mention with its canonical name."""

    def __init__(self) -> None:
        self.table: dict[str, tuple[str, str]] = {}

    def initialize(self, get_examples=None, *, nlp: Language | None = None, table=None, activities=(),
                   system_word: str = "(?!)") -> None:
        """``system_word``: what makes an activity a named system when it follows (rules.yaml); by
        default nothing does, and activities are never marked."""
        self.table = dict(table or {})
        self.activities = frozenset(activities)
        self.system_word = re.compile(system_word)

    def __call__(self, doc: Doc) -> Doc:
        candidates = doc._.lexicon_tokens
        if candidates is None:  # a Doc from another tokenizer: every token may be a term
            candidates = [(token.i, token.text) for token in doc]
        text = doc_text(doc)
        spans = []
        for i, surface in candidates:
            hit = self.table.get(surface)
            if hit and hit[1] in self.activities and not self.system_word.match(text, doc[i].idx + len(surface)):
                continue  # 加大资金投入 is an activity; 建立资金投入机制 names a mechanism
            if hit:
                spans.append(Span(doc, i, i + 1, label=hit[0], span_id=hit[1]))
        _add_spans(doc, spans)
        return doc


@Language.factory("govgraph_rules", default_config={})
def make_rules_component(nlp: Language, name: str) -> RulesComponent:
    return RulesComponent()


class RulesComponent:
    """Rules that generalize beyond the lexicon: linkages, quoted systems, 《titles》,
    level-prefixed chief roles, and regions (named, towns, anonymized)."""

    def __init__(self) -> None:
        self.rules: dict = {}
        self.table: dict[str, tuple[str, str]] = {}

    def initialize(self, get_examples=None, *, nlp: Language | None = None, rules=None, table=None) -> None:
        self.rules = dict(rules or {})
        self.table = dict(table or {})
        self.level_role = re.compile(self.rules["level_role"])
        self.linkage = re.compile(self.rules["linkage_quoted"])
        self.quoted = re.compile(self.rules["quoted_mechanism"])
        self.policy = re.compile(self.rules["policy"])
        self.policy_angled = re.compile(self.rules["policy_angled"])
        self.policy_tail = re.compile(self.rules["policy_tail"])
        self.redacted_lead = re.compile(self.rules["policy_redacted_lead"])
        self.qualifier = re.compile(self.rules["policy_qualifier"])
        self.redacted = re.compile(self.rules["policy_redacted"])
        self.kinds_named = frozenset(self.rules["quoted_kinds_named"])
        self.shared_suffix = re.compile(self.rules["shared_suffix"])

    def _linkage_measures(self, match: re.Match) -> list[tuple[int, int, str, str]]:
        """Parts of a linkage of measures (条田+路渠+防护林) that the lexicon does not know are
        measures too, when the parts it knows are all measures."""
        body, offset = match["body"], match.start("body")
        parts, at = [], 0
        for part in body.split("+"):
            parts.append((offset + at + len(part) - len(part.lstrip()), part.strip()))
            at += len(part) + 1
        known = [self.table.get(name, ("", ""))[0] for _, name in parts]
        if L.Measure not in known or any(label not in (L.Measure, "") for label in known):
            return []
        return [(start, start + len(name), L.Measure, name) for (start, name), label in zip(parts, known, strict=True)
                if not label and 2 <= len(name) <= 8]

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        found: list[tuple[int, int, str, str]] = []
        for match in itertools.chain(self.policy.finditer(text), self.policy_angled.finditer(text)):
            title = policy_name(match["title"], self.redacted_lead, self.qualifier, self.redacted)
            if title and self.policy_tail.search(title):
                found.append((match.start("title"), match.end("title"), L.Policy, title))
        for match in self.linkage.finditer(text):
            found.append((match.start("body"), match.end("body"), L.Mechanism, linkage_name(match["body"])))
            found.extend(self._linkage_measures(match))
        for match in self.shared_suffix.finditer(text):
            # 太行、吕梁两山 → 太行山, 吕梁山: the suffix after the count belongs to every part.
            suffix = match["suffix"]
            for part in ("a", "b"):
                found.append((match.start(part), match.end(part), L.WaterBody, match[part] + suffix))
        for match in self.quoted.finditer(text):
            name = match["name"]
            if "+" in name or name in self.table:
                continue
            # A quoted slogan (“谁签字、谁负责，谁审批，谁负责”制度) is the name; a word before 制度 needs it.
            slogan = re.search(r"[、，,]", name) is not None
            canonical = name + match["kind"] if match["kind"] in self.kinds_named and not slogan else name
            canonical = canonical.replace("，", ",")
            found.append((match.start("name"), match.end("name"), L.Mechanism, canonical))
        for match in self.level_role.finditer(text):
            found.append((match.start(), match.end(), L.Actor, match.group(0)))
        regions = find_region_mentions(text)
        # The assembler needs them again to find the reporting region; one gazetteer pass is enough.
        doc._.region_mentions = regions
        for mention in regions:
            found.append((mention.start, mention.end, L.Region, mention.region.name))
        # A rule's offsets may fall inside a lexicon token: the span takes the whole token.
        spans = [doc.char_span(start, end, label=label, alignment_mode="expand", span_id=name)
                 for start, end, label, name in found]
        _add_spans(doc, [span for span in spans if span is not None])
        return doc


def policy_name(title: str, redacted_lead: re.Pattern[str], qualifier: re.Pattern[str],
                redacted: re.Pattern[str]) -> str | None:
    """A 《title》 as a Policy's name: no spaces, no redacted opening region, no (试行); None when
    a redaction inside leaves it unreadable (中华(略)政诉讼法)."""
    name = qualifier.sub("", redacted_lead.sub("", re.sub(r"\s+", "", title)))
    return None if redacted.search(name) or len(name) < 3 else name  # 《公报》 alone refers back to a title


def linkage_name(body: str) -> str:
    """'河长 + 检察长' → '河长+检察长' (full width already made half width by normalize)."""
    return "+".join(part.strip() for part in body.split("+") if part.strip())


class Reach:
    """Spans (start, end), for "does one that starts before x end after y" asked of every
    candidate: one bisection instead of a scan of every span, which grew with the square of a
    long document."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [start for start, _ in spans]
        self.furthest = list(itertools.accumulate((end for _, end in spans), max))

    def past(self, before: int, beyond: int) -> bool:
        """Some span starts before ``before`` and ends after ``beyond``."""
        i = bisect.bisect_left(self.starts, before)
        return i > 0 and self.furthest[i - 1] > beyond


@Language.factory("govgraph_candidates", default_config={})
def make_candidates_component(nlp: Language, name: str) -> CandidatesComponent:
    return CandidatesComponent()


class CandidatesComponent:
    """Open-vocabulary names: the analyser's words through the head-noun grammars
    (etl/extract/candidates.py); the lexicon names and types what it knows."""

    def initialize(self, get_examples=None, *, nlp: Language | None = None, table=None, tails=(),
                   bodies=()) -> None:
        self.finder = finder()
        self.table = dict(table or {})
        self.bodies = frozenset(bodies)
        self.tails = tuple(sorted(tails, key=len, reverse=True))

    def two_terms(self, phrase: str) -> bool:
        """The phrase is two lexicon terms written one after the other."""
        return any(phrase[:cut] in self.table and phrase[cut:] in self.table for cut in range(2, len(phrase) - 1))

    def without_actor(self, label: str, start: int, phrase: str) -> tuple[int, str]:
        """A mechanism or work without the body that runs it (地方政府水土保持目标责任制 → 水土保持
        目标责任制, 行业主管部门协同监管 → 协同监管): the longest body the lexicon knows that opens
        the phrase, when three characters or more are left. A role stays (河长履职办法)."""
        if label not in (L.Mechanism, L.Measure):
            return start, phrase
        for cut in range(len(phrase) - 3, 1, -1):
            if phrase[:cut] in self.bodies:
                return start + cut, phrase[cut:]
        return start, phrase

    @staticmethod
    def without_region_stem(label: str, start: int, phrase: str, leads: dict[str, tuple[str, ...]]) -> tuple[int, str]:
        """A body without a region of the document written without its suffix (周宁生态环境局 →
        生态环境局), as the grammar drops 周宁县 before it; a mechanism without a region the document
        names (洱源县河湖长制 → 河湖长制). ``leads``: per label, those names, longest first."""
        for lead in leads.get(label, ()):
            if phrase.startswith(lead) and len(phrase) - len(lead) >= 3:
                return start + len(lead), phrase[len(lead):]
        return start, phrase

    def canonical(self, label: str, phrase: str) -> tuple[str, str]:
        """(label, name): the lexicon's when it knows the phrase, or the phrase without a generic
        tail (坡耕地综合治理工程 → 坡耕地综合治理); else the phrase as written."""
        hit = self.table.get(phrase)
        if hit:
            return hit
        for tail in self.tails:
            if phrase.endswith(tail) and len(phrase) > len(tail) + 1:
                hit = self.table.get(phrase[:-len(tail)])
                if hit and hit[0] == label:
                    return hit
        return label, without_tail(self.finder.grammar, label, phrase)

    def __call__(self, doc: Doc) -> Doc:
        from etl.extract.analyser import analyse

        text = doc_text(doc)
        words = analyse(text)
        doc._.words = words
        spans = []
        regions = doc._.region_mentions or []
        short_names = frozenset(m.region.name[:-1] for m in regions if len(m.region.name) >= 3)
        full_names = frozenset(text[m.start:m.end] for m in regions)
        by_length = functools.partial(sorted, key=len, reverse=True)
        leads = {L.Actor: tuple(by_length(n for n in short_names | full_names if len(n) >= 2)),
                 L.Mechanism: tuple(by_length(n for n in full_names if len(n) >= 2))}
        titles = Reach((m.start(), m.end()) for m in TITLE.finditer(text))
        candidates = self.finder.find(text, words, short_names)
        bodies = Reach((start, end) for start, end, label, _ in candidates if label == L.Actor)
        for start, end, label, phrase in candidates:
            if titles.past(start, end):
                continue  # a title is a Policy; the lexicon still names what it holds
            if label != L.Actor and bodies.past(end, end):
                continue  # a programme or work inside a body's name (…重点建设工程事务中心) is the body's
            start, phrase = self.without_actor(label, start, phrase)
            start, phrase = self.without_region_stem(label, start, phrase, leads)
            if self.two_terms(phrase):
                continue  # 河长制湖长制: two names the lexicon finds one by one
            label, name = self.canonical(label, phrase)
            span = doc.char_span(start, end, label=label, alignment_mode="expand", span_id=name)
            if span is not None:
                spans.append(span)
        _add_spans(doc, spans)
        return doc


@Language.factory("govgraph_quantities", default_config={})
def make_quantities_component(nlp: Language, name: str) -> QuantitiesComponent:
    return QuantitiesComponent()


class QuantitiesComponent:
    """Numbers with units (redacted ones included) in ``doc._.quantities``."""

    def initialize(self, get_examples=None, *, nlp: Language | None = None, units=None) -> None:
        self.finder = quantities.QuantityFinder(units or {})

    def __call__(self, doc: Doc) -> Doc:
        doc._.quantities = self.finder.find(doc_text(doc))
        return doc


@functools.cache
def build_nlp() -> Language:
    """A blank Chinese pipeline with the lexicon tokenizer and the rule components, initialized
    from the data files under schema/."""
    lex = lexicon_data.load_lexicon()
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.tokenizer = LexiconTokenizer(nlp.vocab, lex.by_surface)
    nlp.add_pipe("govgraph_lexicon")
    nlp.add_pipe("govgraph_rules")
    nlp.add_pipe("govgraph_candidates")
    nlp.add_pipe("govgraph_quantities")
    nlp.get_pipe("govgraph_lexicon").initialize(table=lex.by_surface, activities=lex.activities,
                                                system_word=lexicon_data.load_rules()["system_word"])
    nlp.get_pipe("govgraph_rules").initialize(rules=lexicon_data.load_rules(), table=lex.by_surface)
    nlp.get_pipe("govgraph_candidates").initialize(
        table=lex.by_surface, tails=lexicon_data.load_rules()["generic_tails"],
        bodies=[s for s, (label, name) in lex.by_surface.items()
                if label == L.Actor and lex.group_of.get((label, name)) == "body"])
    nlp.get_pipe("govgraph_quantities").initialize(units=lexicon_data.load_units())
    return nlp
