"""Candidate generation: names of every type found by how official prose forms them.

Takes the normalized text and the analyser's words; returns candidate spans
(start, end, label, name). A candidate is a run of words ending in a head of its type
(…责任制, …委员会, …保洁员, …水库, …综合治理, …行动) that reaches left over nominal words until
a verb that opens the clause, a function word or a mark. The grammar is data:
schema/patterns/grammar.yaml, with examples and counterexamples that the tests run.

The lexicon names what it knows (its canonical name) and types it; a candidate it does not know
keeps the words as written, without the region or the lead words before it.
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

from etl import config
from etl.datafiles import compile_pattern, line_of, read_yaml
from etl.errors import DataFileError
from etl.extract.analyser import Word
from etl.extract.places import load_region_rules
from etl.graph.model import CANDIDATE_ORDER, L

START = operator.attrgetter("start")

# The order in which types claim a head that could end several (a place tag decides water bodies first).
TYPE_ORDER = CANDIDATE_ORDER
NUMBER_BEFORE = re.compile(r"[0-9０-９X]\s*$")
# Analyser tags of names: a verb after one is what the named thing does.
NAMED_TAGS = frozenset({"ORG", "LOC", "PER"})
# How far back a verb of adopting may stand from the arrangement it governs, in characters.
GOVERNED_REACH = 16


@dataclass(frozen=True)
class TypeGrammar:
    label: str
    heads: tuple[str, ...]
    max_length: int
    needs: dict[str, re.Pattern[str]]
    exclude: re.Pattern[str] | None
    needs_place_tag: bool
    examples: dict[str, str]
    counterexamples: tuple[str, ...]
    treatment_heads: frozenset[str] = frozenset()
    treatment_objects: re.Pattern[str] | None = None
    heads_are_names: bool = False
    drop_tails: tuple[str, ...] = ()
    joined_heads: tuple[str, ...] = ()
    strip_region: bool = False
    strip_level: bool = False
    governed_heads: frozenset[str] = frozenset()
    governors: tuple[str, ...] = ()
    place_after: tuple[str, ...] = ()
    verb_lead: str = ""  # "campaign": verbs of two characters or more; "rate": one character
    need_or_governed: frozenset[str] = frozenset()

    def head_of(self, phrase: str) -> str | None:
        """The longest head the phrase ends in."""
        for head in self.by_last.get(phrase[-1:], ()):
            if phrase.endswith(head):
                return head
        return None

    @functools.cached_property
    def by_last(self) -> dict[str, tuple[str, ...]]:
        """Heads by their last character, longest first: most words end in no head's character,
        and each word is asked once a type."""
        table: dict[str, list[str]] = {}
        for head in self.heads:
            table.setdefault(head[-1], []).append(head)
        return {last: tuple(heads) for last, heads in table.items()}


@dataclass(frozen=True)
class Grammar:
    version: str
    nominal_tags: frozenset[str]
    inner_tags: frozenset[str]
    governing_verbs: frozenset[str]
    leading_words: tuple[str, ...]
    generic_modifiers: re.Pattern[str]
    types: dict[str, TypeGrammar]
    enumeration: re.Pattern[str] | None = None
    enumeration_heads: dict[str, str] | None = None
    enumeration_examples: dict[str, list[str]] | None = None
    enumeration_counterexamples: tuple[str, ...] = ()
    patterns: tuple[tuple[str, re.Pattern[str], dict[str, str], tuple[str, ...]], ...] = ()
    categories: dict[str, dict[str, list[str]]] | None = None
    name_prefixes: frozenset[str] = frozenset()
    generic_words: frozenset[str] = frozenset()
    evaluative_words: frozenset[str] = frozenset()
    joining_verbs: frozenset[str] = frozenset()
    not_openers: tuple[str, ...] = ()
    enumeration_closing: re.Pattern[str] | None = None
    # The grammar's name_edges (admin_after, level_lead, …), compiled, with their examples.
    edges: dict[str, re.Pattern[str]] = field(default_factory=dict)
    edge_examples: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    list_conjunctions: tuple[str, ...] = ()
    aspect_particle: str = ""
    opening_prepositions: tuple[str, ...] = ()
    name_link: str = ""
    redacted_openers: tuple[str, ...] = ()
    bureau_conjunction: str = ""
    list_mark: str = ""
    clause_marks: str = ""
    list_closers: tuple[str, ...] = ()
    # Quoted runs the learned model is given as candidates of quoted_labels (grammar.yaml
    # quoted_name), with the texts whose run the pattern finds and those it does not match.
    quoted_name: re.Pattern[str] | None = None
    quoted_labels: tuple[str, ...] = ()
    quoted_examples: dict[str, str] = field(default_factory=dict)
    quoted_counterexamples: tuple[str, ...] = ()


@functools.cache
def load_grammar(path: Path | None = None) -> Grammar:
    """Read and check schema/patterns/grammar.yaml; DataFileError names path:line."""
    path = path or config.schema_dir() / "patterns" / "grammar.yaml"
    data, text = read_yaml(path)
    for key in ("nominal_tags", "inner_tags", "governing_verbs", "leading_words", "generic_modifiers", "types"):
        if key not in data:
            raise DataFileError(f"{path}:1: the grammar needs '{key}'")
    types = {}
    for label, spec in data["types"].items():
        where = f"{path}:{line_of(text, label)}"
        if label not in TYPE_ORDER:
            raise DataFileError(f"{where}: unknown type {label!r}; the grammar knows {', '.join(TYPE_ORDER)}")
        if not spec.get("heads"):
            raise DataFileError(f"{where}: type {label} needs 'heads'")
        if spec.get("verb_lead") not in (None, "campaign", "rate"):
            raise DataFileError(f"{where}: {label}.verb_lead is 'campaign' or 'rate', not {spec['verb_lead']!r}")
        needs = {head: compile_pattern(pattern, f"{path}: {label}.bare_head_needs.{head}")
                 for head, pattern in (spec.get("bare_head_needs") or {}).items()}
        exclude = compile_pattern(spec["exclude"], f"{path}: {label}.exclude") if spec.get("exclude") else None
        types[label] = TypeGrammar(
            label, tuple(sorted(spec["heads"], key=len, reverse=True)), int(spec.get("max_length", 12)),
            needs, exclude, bool(spec.get("needs_place_tag")), dict(spec.get("examples") or {}),
            tuple(spec.get("counterexamples") or ()), frozenset(spec.get("treatment_heads") or ()),
            re.compile("|".join(map(re.escape, spec["treatment_objects"]))) if spec.get("treatment_objects") else None,
            bool(spec.get("heads_are_names")), tuple(sorted(spec.get("drop_tails") or (), key=len, reverse=True)),
            tuple(spec.get("joined_heads") or ()), bool(spec.get("strip_region")), bool(spec.get("strip_level")),
            frozenset(spec.get("governed_heads") or ()), tuple(spec.get("governors") or ()),
            tuple(spec.get("place_after") or ()), str(spec.get("verb_lead") or ""),
            frozenset(spec.get("need_or_governed") or ()))
    generic = sorted(data["generic_modifiers"], key=len, reverse=True)
    heads = data.get("enumeration_heads") or {}
    unknown = sorted(set(heads.values()) - set(TYPE_ORDER))
    if unknown:
        raise DataFileError(f"{path}:{line_of(text, 'enumeration_heads')}: unknown type(s) {unknown}")
    head_words = "|".join(map(re.escape, sorted(heads, key=len, reverse=True)))
    closing = data["enumeration_closing"].replace("{heads}", head_words)
    items, after = data["enumeration_items"], data["enumeration_head_after"]
    enumeration = compile_pattern(
        "(?P<items>" + items + ")" + closing + "|(?P<items_after>" + items + ")" + after,
        f"{path}: enumeration_closing") if heads else None
    # The closings alone, found first: the list before one is looked for only near it.
    enumeration_closing = compile_pattern(
        closing.replace("?P<head>", "") + "|" + after.replace("?P<head_after>", ""),
        f"{path}: enumeration_closing") if heads else None
    edges, edge_examples = _edges(path, text, data.get("name_edges") or {})
    return Grammar(
        str(data.get("version", "")), frozenset(data["nominal_tags"]), frozenset(data["inner_tags"]),
        frozenset(data["governing_verbs"]), tuple(sorted(data["leading_words"], key=len, reverse=True)),
        re.compile("^(?:" + "|".join(map(re.escape, generic)) + ")+$"), types, enumeration, dict(heads),
        dict(data.get("enumeration_examples") or {}), tuple(data.get("enumeration_counterexamples") or ()),
        tuple(_pattern(path, text, number, spec) for number, spec in enumerate(data.get("patterns") or ())),
        _categories(path, text, data.get("categories") or {}), frozenset(data.get("name_prefixes") or ()),
        frozenset(generic), frozenset(data.get("evaluative_words") or ()), frozenset(data.get("joining_verbs") or ()),
        tuple(data.get("not_openers") or ()), enumeration_closing, edges, edge_examples,
        tuple(data["list_conjunctions"]), str(data["aspect_particle"]), tuple(data["opening_prepositions"]),
        str(data["name_link"]), tuple(data["redacted_openers"]), str(data["bureau_conjunction"]),
        str(data["list_mark"]), str(data["clause_marks"]), tuple(data["list_closers"]),
        *_quoted(path, text, data.get("quoted_name")))


def _quoted(path: Path, text: str, spec: dict | None) -> tuple:
    """grammar.yaml's quoted_name as Grammar's quoted_name, quoted_labels, quoted_examples and
    quoted_counterexamples; every label one the grammar knows."""
    if not spec:
        return None, (), {}, ()
    labels = tuple(spec.get("labels") or ())
    if not labels or not set(labels) <= set(TYPE_ORDER):
        raise DataFileError(f"{path}:{line_of(text, 'quoted_name')}: quoted_name needs 'labels', each of "
                            f"{', '.join(TYPE_ORDER)}; got {list(labels)}")
    _, compiled, examples, counter = _pattern(path, text, 0, {**spec, "label": labels[0]}, "quoted_name")
    return compiled, labels, examples, counter


def _edges(path: Path, text: str, data: dict) -> tuple[dict, dict]:
    """The name_edges patterns compiled, "{level}" replaced by regions.yaml's level characters
    (one declaration of the levels), with the texts each must and must not match at its start."""
    levels = "".join(sorted(load_region_rules().level_characters))
    edges, examples = {}, {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or "pattern" not in spec:
            raise DataFileError(f"{path}:{line_of(text, name)}: name_edges.{name} needs a 'pattern'")
        edges[name] = compile_pattern(spec["pattern"].replace("{level}", levels), f"{path}: name_edges.{name}")
        examples[name] = (tuple(spec.get("examples") or ()), tuple(spec.get("counterexamples") or ()))
    return edges, examples


def _categories(path: Path, text: str, data: dict) -> dict[str, dict[str, list[str]]]:
    """Category rules per label; each category a list of words."""
    for label, rules in data.items():
        if label not in TYPE_ORDER or not isinstance(rules, dict):
            raise DataFileError(f"{path}:{line_of(text, 'categories')}: categories are given per type "
                                f"({', '.join(TYPE_ORDER)}), each a mapping of category to words; got {label!r}")
    return {label: {category: [str(w) for w in words] for category, words in rules.items()}
            for label, rules in data.items()}


def _pattern(path: Path, text: str, number: int, spec: dict, key: str = "patterns"):
    """(label, compiled pattern, examples, counterexamples) of one construction in 'patterns'
    (or of the pattern under ``key``)."""
    where = f"{path}:{line_of(text, key)}" + (f": pattern {number + 1}" if key == "patterns" else "")
    if spec.get("label") not in TYPE_ORDER or "pattern" not in spec:
        raise DataFileError(f"{where}: needs a 'label' of {', '.join(TYPE_ORDER)} and a 'pattern'")
    compiled = compile_pattern(spec["pattern"], where)
    if "name" not in compiled.groupindex:
        raise DataFileError(f"{where}: the pattern needs a group (?P<name>…)")
    return spec["label"], compiled, dict(spec.get("examples") or {}), tuple(spec.get("counterexamples") or ())


class CandidateFinder:
    """Finds candidates in a text from its analysed words."""

    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        self.types = [grammar.types[label] for label in TYPE_ORDER if label in grammar.types]

    def find(self, text: str, words: list[Word],
             not_water: frozenset[str] = frozenset()) -> list[tuple[int, int, str, str]]:
        """Candidates of every type; ``not_water`` holds the short names of the document's regions
        (滨海 of 滨海县), which the analyser tags as places like rivers."""
        found = []
        types_by_last = self.types_by_last
        for i, word in enumerate(words):
            for grammar in types_by_last.get(text[word.end - 1], ()):
                hit = self._candidate(text, words, i, grammar)
                if hit and not (hit[2] == L.WaterBody and any(hit[3].endswith(n) for n in not_water)):
                    found.append(hit)
                    break
        return found + self.enumerated(text, words) + self.constructions(text)

    def constructions(self, text: str) -> list[tuple[int, int, str, str]]:
        """Names formed by a construction of the grammar's 'patterns' (一河一策, “两法衔接”); a
        counted campaign (“八大攻坚战”, “百日行动”) is a Policy (convention 9)."""
        policy = self.grammar.types.get(L.Policy)
        return [(m.start("name"), m.end("name"),
                 L.Policy if label == L.Mechanism and policy and policy.head_of(m["name"]) else label, m["name"])
                for label, pattern, _, _ in self.grammar.patterns for m in pattern.finditer(text)]

    @functools.cached_property
    def types_by_last(self) -> dict[str, tuple[TypeGrammar, ...]]:
        """The types (in TYPE_ORDER) with a head ending in each character: a word is tried only
        against the types whose heads could end it."""
        lasts = {head[-1] for grammar in self.types for head in grammar.heads}
        return {ch: tuple(g for g in self.types if any(head[-1] == ch for head in g.heads)) for ch in lasts}

    def enumerated(self, text: str, words: list[Word]) -> list[tuple[int, int, str, str]]:
        """The items of lists closed by 等 and a head (A、B、C等工作机制; A、B和C机制等), each of the
        head's type. 和, 及 and 与 join items only as words of their own (社会参与 holds a 与)."""
        g = self.grammar
        if g.enumeration is None:
            return []
        found = []
        for match in self._enumerations(text):
            group = "items" if match["items"] is not None else "items_after"
            label = g.enumeration_heads[match["head"] or match["head_after"]]
            at = match.start(group)
            # Bodies are listed with 、 only: 和 stands inside their names (发展和改革局).
            items = self._items(match[group], at, [] if label == L.Actor else words)
            if len(items) < 3:
                continue  # one item before 等 is a name with a tail (联席会议等制度 reads as one)
            for item in items:
                if item == g.list_mark or item in g.list_conjunctions:
                    at += len(item)
                    continue
                start, name = self._without_verbs(at, item)
                if label == L.Actor:
                    name, start = self._body_without_region(name, start)
                at += len(item)
                if 2 <= len(name) <= 10 and re.fullmatch(r"[\u4e00-\u9fff]+", name) \
                        and name not in g.generic_words:
                    found.append((start, start + len(name), label, name))
        return found

    def _enumerations(self, text: str):
        """The matches of the list pattern, looked for only within reach of a closing (等…工作机制):
        as many as ``finditer`` gives, without trying the pattern's lazy run at every character."""
        g, end = self.grammar, 0
        for closing in g.enumeration_closing.finditer(text):
            if closing.end() <= end:
                continue
            match = g.enumeration.search(text, max(end, closing.start() - 81), closing.end() + 1)
            if match:
                end = match.end()
                yield match

    def _items(self, phrase: str, at: int, words: list[Word]) -> list[str]:
        """A list cut at 、 and at the conjunctions the analyser reads as words, separators kept."""
        # Only the words inside the phrase (a bisection: a scan of all grew with the square of a long text).
        inside = words[bisect.bisect_left(words, at, key=START):bisect.bisect_left(words, at + len(phrase), key=START)]
        joins = {w.start - at for w in inside if w.end - w.start == 1}
        conjunctions = self.grammar.list_conjunctions
        items, begin = [], 0
        for k, char in enumerate(phrase):
            if char == self.grammar.list_mark or char in conjunctions and k in joins:
                items += [phrase[begin:k], char]
                begin = k + 1
        return items + [phrase[begin:]]

    def _without_verbs(self, at: int, item: str) -> tuple[int, str]:
        """An enumerated item without the verbs and lead words that open the list (建立联席会议 → 联席会议)."""
        changed = True
        while changed:
            changed = False
            for word in self._openers():
                if item.startswith(word) and len(item) - len(word) >= 2:
                    item, at, changed = item[len(word):], at + len(word), True
                    break
        return at, item

    def _candidate(self, text: str, words: list[Word], i: int, grammar: TypeGrammar):
        end = words[i].end
        word_text = text[words[i].start:end]
        head = self._head_across(text, words, i, grammar) or grammar.head_of(word_text)
        if head is None:
            return None
        if words[i].tag not in self.grammar.nominal_tags and words[i].tag not in ("a", "LOC", "ORG") \
                and not (words[i].tag == "PER" and grammar.place_after) \
                and not (head in grammar.treatment_heads
                         or len(head) == 1 and (grammar.label == L.Actor or head in grammar.needs)):
            return None  # 规定 as a verb (办公室规定乡级林长…) ends no name; 清淤 and 办 often are tagged verbs
        start_word = self._reach_left(text, words, i, grammar, end - len(head))
        if start_word is None:
            return None
        start = self._trim_lead(text, words, start_word, i, end - len(head), grammar.verb_lead)
        if start is None:
            return None
        if grammar.needs_place_tag:
            if not any(w.tag == "LOC" for w in words[start_word:i + 1] if w.end > start) \
                    and not (words[i].tag == "PER" and self._place_after(text, words, i, grammar)):
                return None
            if self.grammar.edges["admin_after"].match(text, end):
                return None
        openers = self._openers()
        if text.startswith(openers, start) and not text.startswith(self.grammar.not_openers, start):
            # one test of all 300 first: most names open with none
            for opener in openers:
                if text.startswith(opener, start) and end - start - len(opener) >= len(head) + 1:
                    start += len(opener)
                    break
        phrase = text[start:end]
        quoted = text[start - 1:start] == "“" and text[end:end + 1] == "”"
        link = self.grammar.name_link
        after_name = text[start - 1:start] in ("”", "》") \
            or text[start - 2:start] in ("”" + link, "》" + link) and end - start - len(head) <= 2
        if grammar.label == L.Mechanism and after_name:
            # The tail of a quoted or titled name (“河长+检察长”工作协作机制), or a kind word after it
            # (“以坝养坝”的管护模式); a longer name after 的 stays (…”的规划实施责任体系).
            return None
        if grammar.label == L.Actor:
            phrase, start = self._after_partner(phrase, start, grammar)
        if grammar.strip_region:
            phrase, start = self._without_region(phrase, start)
        level = self.grammar.edges["level_lead"].match(phrase) if grammar.strip_level else None
        if level and len(phrase) - level.end() > len(head):
            phrase, start = phrase[level.end():], start + level.end()  # 县级会议制度 → 会议制度
        if grammar.label == L.Measure:
            start = self._without_place(words, start_word, i, start, end - len(head))
            phrase = text[start:end]
        if phrase.startswith(self.grammar.redacted_openers):
            return None  # a redacted body or place (某学校) names nothing
        if not (quoted and grammar.label == L.Policy) and not self._acceptable(phrase, head, grammar) \
                and not (head in grammar.need_or_governed and self._acceptable(phrase, head, grammar, need=False)
                         and self._governed(text, start, grammar)):
            return None
        if head in grammar.governed_heads and not self._governed(text, start, grammar):
            return None
        return start, end, grammar.label, phrase

    @staticmethod
    def _head_across(text: str, words: list[Word], i: int, grammar: TypeGrammar) -> str | None:
        """A head written as two words (小/a 流域/n): the last two words together end in it."""
        if i == 0:
            return None
        pair = text[words[i - 1].start:words[i].end]
        head = grammar.head_of(pair)
        return head if head and len(head) > words[i].end - words[i].start else None

    def _reach_left(self, text: str, words: list[Word], i: int, grammar: TypeGrammar, head_start: int):
        """Index of the first word of the phrase, or None when the head stands alone and needs more."""
        g = self.grammar
        j = i
        while j > 0 and words[j].start > head_start:
            j -= 1  # a head written as two words (红乐河/小/流域) starts at its first word
        while j > 0:
            prev = words[j - 1]
            prev_text = text[prev.start:prev.end]
            if words[i].end - prev.start > grammar.max_length:
                break
            if self._joined_bureau(text, words, j, i, grammar):
                j -= 2  # 林业和草原局, 自然资源和规划局: bureaus merged in the 2018 reform keep their 和
                continue
            if prev_text in g.name_prefixes \
                    or grammar.verb_lead and self._lead_verb(text, words, j - 1, grammar.verb_lead):
                j -= 1  # 跨省市补偿; a campaign named by its verb (打击毁林专项行动)
                break
            if prev_text in g.governing_verbs and not self._nominal_use(text, words, j - 1):
                break
            if prev.tag in g.nominal_tags or self._kind(text, prev):
                j -= 1
                continue
            if prev.tag in g.inner_tags and j - 2 >= 0 and prev_text not in g.joining_verbs:
                before = words[j - 2]
                # A named body or place next to a verb is its subject or object (河长办设在县水利局),
                # not a modifier of a name.
                if before.tag in g.nominal_tags and NAMED_TAGS.isdisjoint((before.tag, words[j].tag)) \
                        and text[before.start:before.end] not in g.governing_verbs:
                    j -= 1
                    continue
            break
        return j

    def _lead_verb(self, text: str, words: list[Word], k: int, kind: str) -> bool:
        """A verb a name begins with (打击 of 打击毁林专项行动, 办 of 办结率): not one that governs the
        clause (开展), standing at the start of the phrase after no noun (水土/保持 is one word); one
        character only at the start of its clause."""
        word = words[k]
        word_text = text[word.start:word.end]
        if word.tag != "v" or word_text in self.grammar.governing_verbs:
            return False
        if kind == "rate":  # 办/结率: one character, at its clause's start (增加森林覆盖率 is no name)
            return len(word_text) == 1 and (k == 0 or words[k - 1].tag == "w")
        return len(word_text) >= 2 and (k == 0 or words[k - 1].tag not in self.grammar.nominal_tags)

    def _after_partner(self, phrase: str, start: int, grammar: TypeGrammar) -> tuple[str, int]:
        """The body after a verb of acting together that the analyser wrote into one word with it
        (县河长办 联合县检察院 → 检察院's phrase starts after 联合): a body's name ends before it."""
        for verb in self.grammar.joining_verbs:
            at = phrase.rfind(verb)
            if at > 0 and grammar.head_of(phrase[:at]) and len(phrase) - at - len(verb) >= 2:
                return phrase[at + len(verb):], start + at + len(verb)
        return phrase, start

    @staticmethod
    def _place_after(text: str, words: list[Word], i: int, grammar: TypeGrammar) -> bool:
        """The word after is a locative only a place takes (马金溪/PER 边/f), not an adverb (边走边说)."""
        after = words[i + 1] if i + 1 < len(words) else None
        return after is not None and after.tag in ("f", "s") and text[after.start:after.end] in grammar.place_after

    def _kind(self, text: str, word: Word) -> bool:
        """An adjective that names a kind (低效林, 高效, 次级) rather than judging (先进, 长效)."""
        word_text = text[word.start:word.end]
        return (word.tag == "a" and len(word_text) >= 2 and not self.grammar.edges["level_word"].match(word_text)
                and not word_text.startswith(self._judging) and word_text not in self.grammar.evaluative_words
                and word_text not in self.grammar.generic_words)

    @functools.cached_property
    def _judging(self) -> tuple[str, ...]:
        """Evaluative words of two characters or more, which judge a word they begin (幸福河湖)."""
        return tuple(w for w in self.grammar.evaluative_words if len(w) >= 2)

    def _nominal_use(self, text: str, words: list[Word], k: int) -> bool:
        """A verb used as a noun between two nouns belongs to the name (国家水土保持重点建设工程事务中心,
        水土保持专项实施方案): the analyser tags it vn and a noun or an attribute stands before it."""
        return (words[k].tag == "vn" and k > 0
                and (words[k - 1].tag in self.grammar.nominal_tags or words[k - 1].tag in ("a", "b"))
                and text[words[k - 1].start:words[k - 1].end] not in self.grammar.governing_verbs)

    def _joined_bureau(self, text: str, words: list[Word], j: int, i: int, grammar: TypeGrammar) -> bool:
        """A 和 inside a bureau's name: one short noun before it, the bureau's head word after it."""
        if grammar.label != L.Actor or j < 2 or i - j > 1 or text[words[j - 1].start:words[j - 1].end] \
                != self.grammar.bureau_conjunction:
            return False
        before = words[j - 2]
        return (before.tag in self.grammar.nominal_tags and before.end - before.start <= 4
                and text[words[i].start:words[i].end].endswith(grammar.joined_heads))

    def _trim_lead(self, text: str, words: list[Word], j: int, i: int, head_start: int,
                   verb_lead: str = "") -> int | None:
        """Where the name begins once lead words (全县, 各级, a verb) are dropped; never inside the
        head (公示/牌 keeps 公示), and a campaign keeps the verb it is named by (打击毁林专项行动)."""
        g = self.grammar
        def lead(k: int) -> bool:
            word = words[k]
            word_text = text[word.start:word.end]
            return ((word.tag in g.inner_tags or word_text in g.leading_words) and word_text not in g.name_prefixes
                    and not self._kind(text, word) and not (verb_lead and self._lead_verb(text, words, k, verb_lead)))

        while j < i and words[j].end <= head_start and lead(j):
            j += 1
        start = words[j].start
        if start < head_start < words[j].end and lead(j):
            start = head_start  # a lead word the analyser joined to the head's first character (修蓄/水池)
        if g.edges["classifier"].match(text, start) and NUMBER_BEFORE.search(text, max(start - 4, 0), start) \
                and start + 1 < head_start:
            start += 1  # 2335 名林长: LAC keeps the classifier with the noun
        if text.startswith(g.leading_words, start):  # one test of all first: most names open with none
            for lead in g.leading_words:
                if text.startswith(lead, start) and start + len(lead) < head_start:
                    start += len(lead)
                    break
        return start

    @staticmethod
    def _governed(text: str, start: int, grammar: TypeGrammar) -> bool:
        """An action noun names an arrangement when a verb of adopting governs it in its clause
        (纳入年度目标责任考核, 实行分区责任制和层级管理), not when it is only done (加强管理)."""
        clause = max(text.rfind(mark, max(start - GOVERNED_REACH, 0), start) for mark in "，。；：！？,;:!?\n")
        window = text[max(clause + 1, start - GOVERNED_REACH):start]
        return any(verb in window for verb in grammar.governors)

    @functools.cache  # noqa: B019 - one finder a process
    def _openers(self) -> tuple[str, ...]:
        """Words that open a phrase without belonging to a name: governing verbs (with the
        aspect particle they take, 建立了), lead words, and prepositions that LAC joins to the
        name after them (自林长制…以来)."""
        g = self.grammar
        verbs = [v + g.aspect_particle for v in g.governing_verbs] + list(g.governing_verbs)
        others = {g.aspect_particle, *g.opening_prepositions}
        return tuple(sorted(set(verbs) | set(g.leading_words) | others, key=len, reverse=True))

    @staticmethod
    def _without_place(words: list[Word], j: int, i: int, start: int, head_start: int) -> int:
        """A work without the place it is at (鄱阳湖湿地生态修复 → 湿地生态修复): leading words the
        analyser tags as places, while a modifier is left before the head."""
        for word in words[j:i]:
            if word.end <= start:
                continue
            if word.start == start and word.tag == "LOC" and word.end < head_start:
                start = word.end
            else:
                break
        return start

    def _body_without_region(self, name: str, start: int) -> tuple[str, int]:
        """A listed body without its region when what is left still names a body (县发展和改革局 →
        发展和改革局; 玛坑乡政府 stays, 政府 alone names none)."""
        bare, at = self._without_region(name, start)
        grammar = self.grammar.types.get(L.Actor)
        head = grammar.head_of(bare) if grammar and bare != name else None
        return (bare, at) if head and self._acceptable(bare, head, grammar) else (name, start)

    def _without_region(self, phrase: str, start: int) -> tuple[str, int]:
        """An actor without the region before it (县河长办 → 河长办, 商城县林业局 → 林业局)."""
        edges = self.grammar.edges
        match = edges["region_prefix"].match(phrase)
        if match and len(phrase) - match.end() >= 2 \
                and not (len(match.group()) == 1 and edges["level_body"].match(phrase, 1)):
            return phrase[match.end():], start + match.end()
        return phrase, start

    def _acceptable(self, phrase: str, head: str, grammar: TypeGrammar, need: bool = True) -> bool:
        if len(phrase) > grammar.max_length or not re.fullmatch(r"[\u4e00-\u9fff]+", phrase):
            return False
        if grammar.exclude and grammar.exclude.search(phrase):
            return False
        if head in grammar.treatment_heads and grammar.treatment_objects is not None:
            return grammar.treatment_objects.search(phrase[:-len(head)]) is not None
        modifier = phrase[:-len(head)]
        need = grammar.needs.get(head) if need else None
        if need is not None:
            # 重点工程, 专项行动 alone: the head's need met by a generic word names nothing.
            return need.search(phrase) is not None and not (
                grammar.label == L.Policy and modifier and self.grammar.generic_modifiers.match(modifier))
        if not modifier:
            return grammar.heads_are_names and len(head) >= 2
        return not self.grammar.generic_modifiers.match(modifier)


def without_tail(grammar: Grammar, label: str, name: str) -> str:
    """A name without the generic tail its type drops (协同监管机制 → 协同监管), when what is left
    is still a name: two characters or more, and not generic words alone (工作机制 stays)."""
    spec = grammar.types.get(label)
    for tail in spec.drop_tails if spec else ():
        rest = name[:-len(tail)]
        if name.endswith(tail) and len(rest) >= 2 and not grammar.generic_modifiers.match(rest):
            return without_tail(grammar, label, rest)  # 河湖长制工作模式: 模式, then 工作
    return name


@functools.cache
def finder() -> CandidateFinder:
    return CandidateFinder(load_grammar())
