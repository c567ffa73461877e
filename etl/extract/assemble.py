"""From the pipeline's mentions and quantities to one DocumentRecord with its relations.

Takes the normalized document, its sentences and the spaCy Doc; returns the record:
entities by type, mentions with offsets and sentence indices, the reporting region, and
relations (ADOPTS, IMPLEMENTS, MEASURES, CITES, GOVERNS, ESTABLISHES, INVOLVES, PART_OF)
each with the sentences that support it, and quantities with their subject.
"""

from __future__ import annotations

import bisect
import collections
import functools
import re
from collections import defaultdict

import ahocorasick
from spacy.tokens import Doc

from etl import dates, resolve
from etl.extract import candidates
from etl.extract import lexicon as lexicon_data
from etl.extract.pipeline import SPANS_KEY, doc_text
from etl.extract.quantities import QuantitySpan, standardize
from etl.normalize import NormalizedDocument
from etl.records import DocumentRecord, Mention, Quantity, RegionRef, Relation, Sentence

# Which relation a region has to each kind of entity it mentions.
REGION_RELATION = {
    "Mechanism": "ADOPTS",
    "Measure": "IMPLEMENTS",
    "Indicator": "MEASURES",
    "Policy": "CITES",
    "WaterBody": "GOVERNS",
}


def text_tail(noun: str, mention: Mention) -> str:
    """What a noun has after the mention that opens it."""
    return noun[len(mention.text):] if noun.startswith(mention.text) else ""


# The longest span a mention can have (a linkage or a quoted name), in characters.
MAX_NAME = 100

# The category of a name no rule and no lexicon entry places (ONTOLOGY's tenth column).
UNSORTED = "未分类"

# How far back a number and its unit can reach from the 、 that follows them (12.5万平方公里、).
NUMBER_REACH = 24

NAMED_IN_TITLES = ("Region", "WaterBody", "Mechanism")
NO_QUOTES = str.maketrans("", "", "“”‘’")
LIST_JOINER = re.compile(r"\s*[和及与、]\s*")
CHINESE_TAIL = re.compile(r"[\u4e00-\u9fff“”‘’]*$")
HEAD_AFTER = re.compile(r"[的等](?=[\u4e00-\u9fff]{2})")
ENDS_IN_NUMBER = re.compile(r"[0-9X×]$")
ENDS_IN_LATIN = re.compile(r"[A-Za-z]$")
CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]{2,20}")
NOUN_BREAK = re.compile(r"[的和及与等，。；]")
ALL_CHINESE = re.compile(r"[\u4e00-\u9fff]+")
FUNCTION_WORDS = re.compile(r"[与于对向从把被将在使让的]|来自")


def _mentions(doc: Doc, starts: list[int]) -> list[Mention]:
    """Spans as mentions, nested ones dropped except actors inside a linkage."""
    text = doc_text(doc)
    spans = sorted(((s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans[SPANS_KEY]),
                   key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[Mention] = []
    containers: list[tuple[int, int, str]] = []
    for start, end, label, name in spans:
        # Spans come by start, so a container that ended before this one starts holds nothing more.
        containers = [c for c in containers if c[1] > start]
        inside = [c for c in containers if c[0] <= start and end <= c[1]]
        # A policy's 《title》 names regions, water bodies and mechanisms of its own (《XX区…以奖代补…
        # 方案》); a programme's name names its mechanism (公益诉讼专项行动), not a river (清河行动).
        if inside and not (label in NAMED_IN_TITLES and all(
                c[2] == "Policy" and (label == "Mechanism" or text[c[0] - 1:c[0]] == "《") for c in inside)):
            # The parts of a linkage (河长+检察长, 条田+路渠+防护林) are entities in their own right.
            linkage = any(c[2] == "linkage" for c in inside)
            # …and a place that names a body (七步镇政府) is a region of its own.
            in_body = label == "Region" and all(c[2] == "Actor" for c in inside)
            if not (linkage and label in ("Actor", "Measure")) and not in_body:
                continue
        kind = "linkage" if label == "Mechanism" and "+" in name else label
        containers.append((start, end, kind))
        sentence = bisect.bisect_right(starts, start) - 1
        kept.append(Mention(type=label, name=name, text=text[start:end], sentence=max(sentence, 0),
                            start=start, end=end))
    return kept


def category_by_rule(rules: dict[str, list[str]], name: str) -> str:
    """The first category (in the grammar's order) with a word in the name, else 未分类."""
    return next((category for category, words in rules.items() if any(w in name for w in words)), UNSORTED)


class ClauseMarks:
    """Where the marks that close a clause (，；。…) stand in each sentence, found once a
    sentence, for "where does this word's clause begin" asked of every mention."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.positions: dict[int, list[int]] = {}

    def last_before(self, sentence: Sentence, local: int) -> int:
        """The last mark before ``local`` (an offset into the sentence), or -1."""
        positions = self.positions.get(sentence.index)
        if positions is None:
            positions = self.positions[sentence.index] = [m.start() for m in self.pattern.finditer(sentence.text)]
        i = bisect.bisect_left(positions, local) - 1
        return positions[i] if i >= 0 else -1


class WordIndex:
    """The analyser's words of a document, for "is this phrase a noun" asked of counted things."""

    def __init__(self, words, breaking_tags: frozenset[str]) -> None:
        self.words = words
        self.starts = [w.start for w in words]
        self.breaking_tags = breaking_tags

    def length_at(self, start: int) -> int:
        """The length of the word that begins at ``start`` (0 when a word runs across it)."""
        i = bisect.bisect_left(self.starts, start)
        if i < len(self.words) and self.words[i].start == start:
            return self.words[i].end - start
        return 0

    def nominal(self, start: int, end: int) -> bool:
        """The phrase holds no preposition, particle, adverb or pronoun, nor a conjunction at its
        edge (工程一共分, 企业环境违法事实以, 广阔和 are no nouns). True without words."""
        if not self.words:
            return True
        first = bisect.bisect_left(self.starts, start)
        last = bisect.bisect_left(self.starts, end)
        inside = [w for w in self.words[first:last] if w.end <= end]
        for k, w in enumerate(inside):
            if w.tag in self.breaking_tags and not (w.tag == "c" and 0 < k < len(inside) - 1):
                return False  # 和 joins two names inside a subject (新闻稿件和水土保持论文), not at its edge
        return True


class MentionIndex:
    """A document's mentions in start order, for the quantity rules' many "which mentions stand
    between here and there" questions (one bisection instead of a scan of every mention)."""

    def __init__(self, mentions: list[Mention], words: WordIndex) -> None:
        self.words = words
        self.mentions = sorted(mentions, key=lambda m: m.start)
        self.starts = [m.start for m in self.mentions]
        self.indicator_starts = {m.start for m in mentions if m.type == "Indicator"}

    def starting_in(self, lo: int, hi: int) -> list[Mention]:
        """Mentions that start at lo or later and before hi, in document order."""
        return self.mentions[bisect.bisect_left(self.starts, lo):bisect.bisect_left(self.starts, hi)]


def _reporting(norm: NormalizedDocument, sentences: list[Sentence], doc: Doc):
    found = doc._.region_mentions
    region_mentions = resolve.resolve_regions(found if found is not None else resolve.find_region_mentions(norm.text))
    opening = " ".join(s.text for s in sentences[:3])
    reporting = resolve.reporting_region(norm.title, opening, region_mentions, norm.text)
    if reporting:
        implied = resolve.implied_parents(reporting, norm.text)
        region_mentions = region_mentions + [resolve.RegionMention(0, 0, p.name, p) for p in implied]
    return reporting, region_mentions


def _document_year(norm: NormalizedDocument) -> int | None:
    """The year a document speaks from: its date, else a year in its title (2023年工作总结)."""
    match = re.match(r"(20\d\d)", norm.date or "") or re.search(r"(20\d\d)年", norm.title)
    return int(match.group(1)) if match else None


def _same_region(mention: Mention, reporting: resolve.RegionInfo | None) -> bool:
    """A redacted document redacts its own name: an anonymized region of the reporting
    region's level is the reporting region (某区 and XX区 in one report are one place)."""
    return bool(
        reporting and reporting.anonymized and mention.type == "Region"
        and re.fullmatch(r"(X+|某)" + re.escape(reporting.level), mention.name)
    )


class Assembler:
    def __init__(self) -> None:
        self.lexicon = lexicon_data.load_lexicon()
        self.rules = lexicon_data.load_rules()
        self.units = lexicon_data.load_units()
        self.breaking_tags = frozenset(self.rules["breaking_tags"])
        self.clause_marks = set(self.rules["clause_marks"])
        words = self.rules["not_quantity_subjects"] + self.rules["not_noun_parts"] + self.rules["off_topic_subjects"]
        self.not_noun = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
        self.quantity_verbs = sorted(self.rules["quantity_verbs"], key=len, reverse=True)
        self.verb_endings = tuple(self.quantity_verbs)
        units = "|".join(re.escape(u) for u in sorted(self.units, key=len, reverse=True))
        self.previous_number = re.compile(rf"[0-9０-９.X×]+(?:{units})$")
        self.coordinated = re.compile(self.rules["coordinated_subjects"])
        self.respectively = re.compile(self.rules["respectively"])
        self.honorary = re.compile(self.rules["honorary_title"])
        self.ratio = re.compile(self.rules["ratio_subject"])
        self.verb_start = re.compile("|".join(re.escape(v) for v in self.quantity_verbs))
        # Lookahead finds every occurrence, overlapping ones too (立案查处 and 查处).
        self.verb_anywhere = re.compile("(?=(" + "|".join(re.escape(v) for v in self.quantity_verbs) + "))")
        self.establish = re.compile("|".join(self.rules["establish_verbs"]))
        self.role_count = re.compile(self.rules["role_count"])
        self.target_cue = re.compile(self.rules["target_cue"])
        self.target_year = re.compile(self.rules["target_year"])
        self.target_achieved = re.compile(self.rules["target_achieved"])
        self.elision_lead = re.compile(self.rules["elision_lead"])
        self.light_verbs = frozenset(self.rules["light_verbs"])
        self.kept_verbs = frozenset(self.rules["kept_verbs"])
        self.event_verbs = frozenset(self.rules["event_verbs"])
        self.change = re.compile(self.rules["change"])
        self.standing = re.compile(self.rules["standing_actors"])
        self.policy_kinds = [(kind, re.compile("|".join(f"(?:{p})" for p in patterns)))
                             for kind, patterns in self.rules["policy_kinds"].items()]
        self.clause_stop = re.compile("[" + re.escape(self.rules["clause_marks"]) + "》”]")
        self.verb_at_end = re.compile("(?:" + "|".join(re.escape(v) for v in self.quantity_verbs) + ")$")
        self.determiner = re.compile(self.rules["determiner"])
        self.noun_lead = re.compile(self.rules["noun_lead"])
        self.linking_tail = re.compile(self.rules["linking_tail"])
        self.noun_tail_verbs = re.compile(self.rules["noun_tail_verbs"])
        self.level_body = re.compile(self.rules["level_body"])
        self.superior_context = re.compile(self.rules["superior_context"])
        # Marks that close a clause for who-does-what (、 only joins a list).
        self.involve_mark = re.compile("[" + re.escape(self.rules["clause_marks"].replace("、", "")) + "]")

    def record(self, norm: NormalizedDocument, sentences: list[Sentence], doc: Doc) -> DocumentRecord:
        starts = [s.start for s in sentences]
        mentions = self._as_written(_mentions(doc, starts))
        reporting, region_mentions = _reporting(norm, sentences, doc)
        for i, m in enumerate(mentions):
            if _same_region(m, reporting):
                mentions[i] = m.model_copy(update={"name": reporting.name})
        quantities, extra_mentions = self._quantities(norm.text, sentences, doc._.quantities or [], mentions,
                                                      _document_year(norm),
                                                      WordIndex(doc._.words or [], self.breaking_tags))
        mentions.extend(extra_mentions)
        mentions.extend(self._instruments_in_rates(mentions) + self._actors_in_mechanisms(mentions))
        mentions = [m for m in mentions if not self._superior_body(m, reporting, sentences)]
        mentions.sort(key=lambda m: m.start)

        entities: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for m in mentions:
            entities[m.type].setdefault(m.name, []).append(m.sentence)
        if reporting:
            entities["Region"].setdefault(reporting.name, [])
            for m in region_mentions:
                if m.end == 0:
                    entities["Region"].setdefault(m.region.name, [])
        relations = self._relations(entities, mentions, sentences, reporting, region_mentions,
                                    _document_year(norm))
        properties = self._properties(entities, region_mentions, reporting)
        return DocumentRecord(
            lexicon_version=self.lexicon.version,
            doc=norm.name,
            doc_id=norm.doc_id,
            title=norm.title,
            date=norm.date,
            source=norm.source,
            lang_variant=norm.lang_variant,
            region=RegionRef(name=reporting.name, level=reporting.level, anonymized=reporting.anonymized,
                             adcode=reporting.adcode) if reporting else None,
            sentences=sentences,
            mentions=mentions,
            entities={label: sorted(names) for label, names in sorted(entities.items())},
            properties=properties,
            relations=relations,
            quantities=quantities,
        )

    def _as_written(self, mentions: list[Mention]) -> list[Mention]:
        """One name per entity of a document, in the document's own words: the lexicon's canonical
        name groups the surfaces of one entity (河长办, 河长制办公室), and the group is named by its
        most frequent surface, as readers and annotators name it. A surface that only wraps the
        canonical name in other words (全面推行河长制) is named by the canonical name, and so is an
        indicator: a metric has one name whatever the word order (治理水土流失面积 → 水土流失治理面积)."""
        surfaces: dict[tuple[str, str], collections.Counter] = defaultdict(collections.Counter)
        for m in mentions:
            if m.type not in ("Region", "Indicator") and "+" not in m.name:
                surfaces[m.type, m.name][self._surface_name(m)] += 1
        chosen = {key: counts.most_common(1)[0][0] for key, counts in surfaces.items()}
        return [m.model_copy(update={"name": chosen[m.type, m.name]}) if (m.type, m.name) in chosen else m
                for m in mentions]

    def _surface_name(self, mention: Mention) -> str:
        surface = mention.text.translate(NO_QUOTES)
        if mention.name in surface or self.lexicon.by_surface.get(surface) != (mention.type, mention.name):
            return mention.name
        return candidates.without_tail(candidates.finder().grammar, mention.type, surface)

    def _group(self, label: str, name: str) -> str | None:
        """The lexicon category of an entity named as written (via the surface it was found by)."""
        group = self.lexicon.group_of.get((label, name))
        if group is None:
            hit = self.lexicon.by_surface.get(name)
            if hit and hit[0] == label:
                group = self.lexicon.group_of.get((label, hit[1]))
        return group

    def _superior_body(self, mention: Mention, reporting: resolve.RegionInfo | None, sentences) -> bool:
        """A county's report addressed to 市委 (市委：) or done 在市委…的领导下 names a body above the
        region, not one of its actors; where 市委 acts in the text (市委将…) it stays."""
        match = self.level_body.match(mention.name) if mention.type == "Actor" else None
        if not match or not reporting:
            return False
        ranks = self.rules["level_ranks"]
        if ranks.get(match["level"], 99) >= ranks.get(reporting.level, -1):
            return False
        return self.superior_context.search(sentences[mention.sentence].text) is not None

    def _instruments_in_rates(self, mentions: list[Mention]) -> list[Mention]:
        """A rate of applying an instrument (环评率, 三同时执行率) says the instrument is in use:
        the mechanism inside an indicator that ends in 率 is mentioned there too."""
        rates = [m for m in mentions if m.type == "Indicator" and m.text.endswith(self.rules["rate_suffix"])]
        return self._inner(rates, "Mechanism")

    def _actors_in_mechanisms(self, mentions: list[Mention]) -> list[Mention]:
        """A mechanism named after its actor (行业主管部门协同监管, 政府和受益主体分摊机制) mentions
        that actor; linkages are split by their own rule."""
        return self._inner([m for m in mentions if m.type == "Mechanism" and "+" not in m.name], "Actor")

    def _inner(self, outer: list[Mention], label: str) -> list[Mention]:
        """The longest lexicon term of ``label`` inside each mention's text, as a mention of its own."""
        automaton = self._surfaces(label)
        found = []
        for m in outer:
            hits = [(end + 1 - len(surface), surface) for end, surface in automaton.iter(m.text)
                    if len(surface) < len(m.text)]
            if hits:
                i, surface = max(hits, key=lambda h: (len(h[1]), -h[0]))
                found.append(Mention(type=label, name=self.lexicon.by_surface[surface][1], text=surface,
                                     sentence=m.sentence, start=m.start + i, end=m.start + i + len(surface)))
        return found

    @functools.cache  # noqa: B019 - one Assembler a process (etl.extract._assembler)
    def _surfaces(self, label: str):
        """The lexicon's surfaces of one label, for one-pass search inside other names."""
        automaton = ahocorasick.Automaton()
        for surface, (hit_label, _) in self.lexicon.by_surface.items():
            if hit_label == label and len(surface) > 1:
                automaton.add_word(surface, surface)
        automaton.make_automaton()
        return automaton

    # --- quantities ---------------------------------------------------------------------

    def _clause_start(self, text: str, position: int, floor: int) -> int:
        """Where the clause of a position begins; marks inside 《titles》 and “quotes” do not end it."""
        last = collections.deque(self.clause_stop.finditer(text, floor, position), maxlen=1)
        if not last:
            return floor
        if last[0].group() not in "》”":
            return last[0].end()  # no title or quote closes after the mark: it ends the clause
        i, closers = position, []
        while i > floor:
            ch = text[i - 1]
            if ch in "》”":
                closers.append(ch)
            elif closers and ch == {"》": "《", "”": "“"}[closers[-1]]:
                closers.pop()
            elif not closers and ch in self.clause_marks:
                break
            i -= 1
        return i

    def _quantities(self, text, sentences, spans: list[QuantitySpan], found: list[Mention], doc_year: int | None,
                    words: WordIndex):
        starts = [s.start for s in sentences]
        mentions = MentionIndex(found, words)
        out: list[Quantity] = []
        new_mentions: list[Mention] = []
        respectively: dict[int, list] = {}
        previous = None  # (sentence index, unit, subject) of the last number with a subject
        cues_at: dict[tuple[str, int], list] = {}
        for i, q in enumerate(spans):
            if self.determiner.fullmatch(q.text) or text[q.start - 1:q.start] in ("“", "‘"):
                continue  # an article, or a number inside a quoted name (“三个文明”)
            index = max(bisect.bisect_right(starts, q.start) - 1, 0)
            sentence = sentences[index]
            clause = self._clause_start(text, q.start, sentence.start)
            change = self.change.search(text, clause, q.start)
            if change and q.unit not in self.rules["change_units"]:
                continue  # 较2011年减少277.93平方公里: a delta whose base is another quantity (convention 7)
            if change:  # 比2020年提高2.1个百分点: a change of what the clause or the one before counts
                subjects = self._changed(text, clause, change.start(), mentions) or (
                    [previous[2]] if previous and previous[0] == index else [])
            else:
                subjects = (respectively.pop(q.start, None) or self._coordinated(text, q, clause, mentions)
                            or self._ratio(text, q, clause, mentions))
            if not subjects and i + 1 < len(spans):
                pair = self._respectively(text, q, spans[i + 1], clause, mentions)
                if pair:
                    subjects, respectively[spans[i + 1].start] = [pair[0]], [pair[1]]
            if not subjects and not change:
                subject = self._event_count(text, q, clause) or self._subject(text, q, clause, mentions)
                if subject:
                    subjects = [subject]
                elif previous and previous[:2] == (index, q.unit) and self._verb_only(text, clause, q):
                    subjects = [previous[2]]  # 计划造林2万亩，实际完成2.4万亩: the same thing, counted again
            if subjects:
                previous = (index, q.unit, subjects[-1])
            for label, name, start, end in subjects:
                if label not in ("Indicator", "Measure", "Mechanism") or self.honorary.match(name):
                    continue
                if label == "Indicator" and name == text[start:end] and name not in self.lexicon.by_surface \
                        and not words.nominal(start, end):
                    continue  # 工程一共分, 广阔和: a phrase the analyser reads as no noun counts nothing
                # A mechanism that is counted (水土保持补偿费X万元) is an Indicator too (ONTOLOGY),
                # named as written: 审批水土保持方案X份 counts 水土保持方案, not the approval.
                if label == "Mechanism":
                    name = text[start:end].translate(NO_QUOTES)
                if label != "Measure" and start not in mentions.indicator_starts:
                    new_mentions.append(Mention(type="Indicator", name=name, text=text[start:end],
                                                sentence=index, start=start, end=end))
                elif label == "Measure" and not any(m.type == "Measure"
                                                    for m in mentions.starting_in(start, start + 1)):
                    new_mentions.append(Mention(type="Measure", name=name, text=text[start:end],
                                                sentence=index, start=start, end=end))
                out.append(self._quantity(text, q, label, name, sentence, doc_year, cues_at))
        return out, new_mentions

    def _target(self, text: str, q: QuantitySpan, sentence: Sentence, doc_year: int | None, cues_at: dict):
        """(is a target, its year): a paragraph opened with 到2025年 (…；…达到63.56%), or a cue earlier
        in the sentence (力争, 将建成); not when 已 or 实际 comes between, or the year is already past.
        ``cues_at`` keeps each paragraph's and sentence's cues for their other numbers."""
        paragraph = text.rfind("\n", 0, q.start) + 1
        if ("paragraph", paragraph) not in cues_at:
            end = text.find("\n", paragraph)
            cues_at["paragraph", paragraph] = list(
                self.target_year.finditer(text, paragraph, len(text) if end < 0 else end))
        if ("sentence", sentence.start) not in cues_at:
            cues_at["sentence", sentence.start] = list(self.target_cue.finditer(text, sentence.start, sentence.end))
        years = [m for m in cues_at["paragraph", paragraph] if m.end() <= q.start]
        cues = [m for m in cues_at["sentence", sentence.start] if m.end() <= q.start]
        last = max((m.end() for m in years[-1:] + cues[-1:]), default=None)
        if last is None or self.target_achieved.search(text, last, q.start):
            return False, None
        year = int(years[-1]["year"]) if years else None
        if year and doc_year and year < doc_year:
            return False, None  # a 2024 report's 到2023年底 tells what was done
        return True, year

    def _quantity(self, text: str, q: QuantitySpan, label: str, name: str, sentence: Sentence,
                  doc_year: int | None, cues_at: dict) -> Quantity:
        target, year = self._target(text, q, sentence, doc_year, cues_at)
        value_std, unit_std = standardize(q.value, q.unit, self.units)
        return Quantity(
            subject=name, subject_type="Measure" if label == "Measure" else "Indicator",
            value=q.value, unit=q.unit, year=year,
            kind="target" if target else "actual", redacted=q.redacted, approx=q.approx,
            value_std=value_std, unit_std=unit_std, text=q.text, evidence=[sentence.index],
        )

    def _respectively(self, text: str, q: QuantitySpan, following: QuantitySpan, clause: int, mentions: MentionIndex):
        """马尾松、楠竹面积分别达到35万亩和36万亩: the first noun gets the first number, the second
        the second, each with the shared head (面积)."""
        # The enumeration's 、 is inside the clause here: start at the last stronger mark.
        floor = max(clause - 40, 0)
        marks = [m.start() for m in self.involve_mark.finditer(text, floor, q.start)]
        start = (marks[-1] if marks else -1) + 1
        match = self.respectively.search(text, max(start, floor), q.start)
        if not match or not LIST_JOINER.fullmatch(text, q.end, following.start):
            return None
        first = match["a"][self._last_verb(match["a"])[1]:]  # 全县马尾松 → 马尾松
        subjects = []
        for noun, at in ((first + (match["head"] or ""), match.end("a") - len(first)), (match["b"], match.start("b"))):
            if not self._noun_phrase(noun):
                return None
            subjects.append(self._named(noun, at, mentions))
        return subjects

    def _ratio(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """争取资金是202X年的XX倍: a multiple belongs to the noun before 是."""
        match = self.ratio.search(text, clause, q.start)
        if not match or q.unit not in self.rules["ratio_units"] or not self._noun_phrase(match["a"]):
            return []
        return [self._named(match["a"], match.start("a"), mentions)]

    def _coordinated(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """Two nouns that share one number (环评率和“三同时”执行率均达到100%): a subject each."""
        match = self.coordinated.search(text, clause, q.start)
        if not match:
            return []
        subjects = []
        for part in ("a", "b"):
            noun = match[part].translate(NO_QUOTES)
            if not self._noun_phrase(noun):
                return []
            subjects.append(self._named(noun, match.start(part), mentions))
        return subjects


    def _subject(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """The thing a number counts: the nearest Indicator or Measure mention before it in its
        clause; else the noun between the clause's verb and the number (治理面积X平方公里);
        else, or when that noun is a list (…等X项) or a bare generic head (项目), the noun the
        number and its classifier run into (建成X个生态清洁小流域)."""
        before = [m for m in mentions.starting_in(clause, q.start) if m.end <= q.start]
        if before:
            m = max(before, key=lambda m: m.end)
            gap = text[m.end:q.start]
            if m.type in ("Indicator", "Measure") and len(gap) <= 6:
                # …unless the gap is itself the counted attribute (小水电总装机容量 → 装机容量).
                attribute = self.noun_lead.sub("", self.linking_tail.sub("", gap))
                if not self._attribute(attribute):
                    return self._with_source(text, m)
                return self._named(attribute, m.end + gap.find(attribute), mentions)
            if m.type in ("Actor", "Region") and len(gap) <= 2:
                return m.type, m.name, m.start, m.end
        # Linking words before the number (达, 为, 约, 共计) end the phrase; they do not split it;
        # so does a number just before this one (基地3个14.5万亩: both count 基地).
        phrase = self.linking_tail.sub("", text[clause:q.start])
        phrase = self.previous_number.sub("", phrase)
        verb_start, verb_end = self._last_verb(phrase)
        # The counted noun is the run of Chinese characters after the verb (》等专题片 → 专题片).
        run = CHINESE_TAIL.search(phrase, verb_end).group(0)
        # Modifiers end with 的 and lists with 等: the head noun follows (有价值的调研文章, …等科技成果).
        run = HEAD_AFTER.split(run)[-1]
        noun = self.noun_lead.sub("", run.translate(NO_QUOTES))
        # 共有绿色农产品基地: 有 is the verb unless the analyser reads a word that begins with it (有机).
        if noun.startswith("有") and len(noun) > 3 and mentions.words.length_at(clause + len(phrase) - len(noun)) < 2:
            noun = noun[1:]
        start = clause + len(phrase) - len(noun)
        if noun.startswith(tuple(self.units)) and ENDS_IN_NUMBER.search(phrase, 0, len(phrase) - len(noun)):
            noun = ""  # the tail of an earlier number's unit (35万亩和36万亩), not a noun
        listed = phrase[verb_end:].endswith("等") or text[clause:q.start].rstrip("约近达超过逾共计了").endswith("等")
        if ENDS_IN_LATIN.search(phrase, 0, len(phrase) - len(run)):
            noun = ""  # a name cut by Latin letters (国家AAA级景区) is no counted noun
        # A number right after an enumeration of names (黄河多沙粗沙区、太行山区2个…治理区; A、B、C三项
        #重点领域) sums the list up; it counts no work. Pairs (广场X处、道路X公里) are counts.
        # (…等12项 is no such sum: 等 leaves the list open.)
        if clause > 0 and text[clause - 1] == "、" and verb_end == 0 and not listed \
                and not self.previous_number.search(text, max(clause - 1 - NUMBER_REACH, 0), clause - 1):
            return None
        if listed or noun in self.rules["generic_nouns"] or not self._noun_phrase(noun):
            after = self._noun_after(text, q.end, mentions)
            if after:
                return after
            if noun in self.rules["generic_nouns"] and verb_end and verb_end == len(phrase) - len(noun):
                # A generic head keeps the verbs that make it specific (整改问题, 恢复治理工程).
                chain = verb_start
                while (prior := self.verb_at_end.search(phrase, 0, chain)) and prior.group() not in self.light_verbs:
                    chain = prior.start()  # the leftmost start: the longest verb ending there
                # …and the modifiers before them, back to the clause's own verb (播放生态创建新闻).
                while chain > 0 and "\u4e00" <= phrase[chain - 1] <= "\u9fff" \
                        and phrase[chain - 1] not in self.rules["phrase_boundaries"] \
                        and not phrase[:chain].endswith(self.verb_endings):
                    chain -= 1
                extended = phrase[chain:]
                noun = self.noun_lead.sub("", extended)
                start = clause + chain + len(extended) - len(noun)
            if not noun and verb_start == 0 and verb_end == len(phrase) >= 4:
                # The clause is one verb compound counted as events (立案查处X起).
                return self._named(phrase, clause, mentions)
            if listed or not self._noun_phrase(noun):
                return None
        return self._with_verb(self._named(noun, start, mentions), phrase, verb_start, verb_end, noun, q, mentions)

    def _with_source(self, text: str, m: Mention):
        """Money named by where it comes from (其中中央投资3770万元, 地方配套资金): the source word
        before a fund's name is part of what is counted; 总投资 is the fund itself."""
        if m.type == "Indicator" and m.name.endswith(tuple(self.rules["fund_heads"])):
            source = next((w for w in self.rules["fund_sources"] if text.endswith(w, 0, m.start)), None)
            if source and text[m.start - len(source) - 1:m.start - len(source)] not in ("、", "和", "及", "与"):
                return "Indicator", source + m.text, m.start - len(source), m.end  # 中央、省级补助资金 is one fund
        return m.type, m.name, m.start, m.end

    def _with_verb(self, named, phrase: str, verb_start: int, verb_end: int, noun: str, q: QuantitySpan,
                   mentions: MentionIndex):
        """What a removal or enforcement verb did is what is counted (清理非法采砂点442个, 拆除违法建筑
        2.94万平方米): the verb stays with a noun that names no known entity, and the two name an
        intervention, a Measure."""
        label, name, start, end = named
        verb = phrase[verb_start:verb_end]
        if label != "Indicator" or name != noun or verb_end != len(phrase) - len(noun):
            return named
        if verb in self.kept_verbs and self._noun_phrase(verb + noun):
            return "Measure", verb + noun, start - len(verb), end  # a removal is an intervention
        return named

    def _event_count(self, text: str, q: QuantitySpan, clause: int):
        """巡河27.5万人次, 巡查不少于一次: a patrol or check counted in 次 is measured by its number."""
        if not q.unit or not q.unit.endswith("次"):
            return None
        phrase = self.noun_lead.sub("", self.linking_tail.sub("", text[clause:q.start]))
        verb = next((v for v in sorted(self.event_verbs, key=len, reverse=True) if phrase.endswith(v)), None)
        if verb is None:
            return None
        return "Indicator", verb + "次数", q.start - len(verb), q.start

    def _changed(self, text: str, clause: int, change: int, mentions: MentionIndex):
        """The noun before a comparison (林草覆盖率比上年提高…), when the clause names one."""
        noun = self.noun_lead.sub("", text[clause:change])
        start = change - len(noun)
        if not noun:
            return []
        named = self._named(noun, start, mentions)
        if named[1] != noun or self._noun_phrase(noun):
            return [named]
        return []

    def _verb_only(self, text: str, clause: int, q: QuantitySpan) -> bool:
        """The clause before a number is a verb and nothing it counts (实际完成, 其中新增)."""
        phrase = self.noun_lead.sub("", self.linking_tail.sub("", text[clause:q.start]))
        phrase = self.elision_lead.sub("", phrase)
        return bool(phrase) and self._last_verb(phrase) == (0, len(phrase))

    def _last_verb(self, phrase: str) -> tuple[int, int]:
        """Where the verb that ends last in a phrase stands (the longest where two end together);
        (0, 0) when there is none. What follows it is the counted noun."""
        return max(((m.start(1), m.end(1)) for m in self.verb_anywhere.finditer(phrase)),
                   key=lambda span: (span[1], -span[0]), default=(0, 0))

    def _attribute(self, text: str) -> bool:
        """A noun after a named thing that is what is counted of it (装机容量), not a verb (提高)."""
        if not self._noun_phrase(text) or text in self.rules["generic_nouns"] + self.rules["generic_tails"]:
            return False
        return (resolve.word_tag(text) or "n")[0] != "v" and not self.verb_start.match(text)

    def _noun_after(self, text: str, position: int, mentions: MentionIndex):
        """The noun a number and its classifier run into, up to punctuation or a function word."""
        after = CHINESE_RUN.match(text, position)
        if not after:
            return None
        noun = NOUN_BREAK.split(after.group(0))[0]
        following = text[position + len(noun):position + len(noun) + 4]
        if following.startswith("的") and following[1:].startswith(tuple(self.rules["person_nouns"])):
            return None  # it modifies who is counted (XX个国家的代表): a head count, not a subject
        noun = self.noun_tail_verbs.sub("", noun)
        # A noun phrase ends with its head (大型生产建设项目严格执行 → …项目).
        heads = [noun.rfind(h) + len(h) for h in self.rules["noun_heads"] if noun.rfind(h) > 0]
        if heads and not self._noun_phrase(noun):
            noun = noun[:max(heads)]
        if noun.startswith(tuple(self.units)):
            return None
        if not self._noun_phrase(noun) or noun in self.rules["generic_nouns"]:
            return None
        return self._named(noun, position, mentions)

    def _named(self, noun: str, start: int, mentions: MentionIndex):
        """The entity a counted noun names: itself when the lexicon knows it, else a lexicon
        mention that ends it (高品质精品小流域 → 精品小流域), else a new Indicator. Who does it is
        no part of what is counted (组织民间河长业务学习2次 → 业务学习)."""
        lead = self.noun_lead.match(noun)
        at = start + (lead.end() if lead else 0)
        agent = next((m for m in mentions.starting_in(at, at + 1)
                      if m.type == "Actor" and m.end - start <= len(noun) - 2), None)
        if agent:
            noun, start = noun[agent.end - start:], agent.end
        hit = self.lexicon.by_surface.get(noun)
        if hit:
            return hit[0], hit[1], start, start + len(noun)
        end = start + len(noun)
        heads = [m for m in mentions.starting_in(start, end)
                 if m.end == end and m.type in ("Indicator", "Measure", "Mechanism")]
        if heads:
            m = min(heads, key=lambda m: m.start)
            return m.type, m.name, m.start, m.end
        # A measure named with a generic tail (生态清洁型小流域治理项目) counts that measure.
        for m in mentions.starting_in(start, start + 1):
            if m.type == "Measure" and text_tail(noun, m) in self.rules["generic_tails"]:
                return m.type, m.name, m.start, m.end
        return "Indicator", noun, start, end

    def _noun_phrase(self, text: str) -> bool:
        """A plausible name of a counted thing: 2 to max_noun_length Chinese characters without function
        words (与, 对, 于 …), not background geography, not ending in a verb."""
        if not 2 <= len(text) <= self.rules["max_noun_length"] or not ALL_CHINESE.fullmatch(text):
            return False
        if FUNCTION_WORDS.search(text):
            return False
        if self.not_noun.search(text):
            return False
        if text[-1] in self.rules["not_noun_endings"]:
            return False
        return not text.endswith(self.verb_endings)

    # --- relations ----------------------------------------------------------------------

    def _relations(self, entities, mentions, sentences, reporting, region_mentions, doc_year=None):
        relations: list[Relation] = []

        def add(head: str, rtype: str, tail: str, evidence, **props) -> None:
            relations.append(Relation(head=head, type=rtype, tail=tail,
                                      props={"evidence": sorted(set(evidence)), **props}))

        if reporting:
            # Issue 14: ADOPTS carries the adoption year its sentences state (etl.dates), else none.
            adopted = dates.adoption_years(mentions, sentences, doc_year)
            for label, rtype in REGION_RELATION.items():
                for name, evidence in entities.get(label, {}).items():
                    add(reporting.name, rtype, name, evidence,
                        **({"year": adopted.get(name)} if rtype == "ADOPTS" else {}))
            for actor, (evidence, count) in self._established(mentions, sentences).items():
                add(reporting.name, "ESTABLISHES", actor, evidence, count=count)
            regions = [m.region for m in region_mentions if m.region.name in entities.get("Region", {})]
            for child, parent in resolve.part_of(list(dict.fromkeys(regions + [reporting])), reporting):
                evidence = self._region_evidence(child, entities, sentences) + self._region_evidence(
                    parent, entities, sentences)
                add(child, "PART_OF", parent, evidence)
        for head, tail, evidence in self._involves(entities, mentions, sentences):
            add(head, "INVOLVES", tail, evidence)
        seen, unique = set(), []
        for r in relations:
            key = (r.head, r.type, r.tail)
            if key not in seen:
                seen.add(key)
                unique.append(r)
        return unique

    @staticmethod
    def _region_evidence(name: str, entities, sentences) -> list[int]:
        """Sentences naming a region; for one known by its short name (会同) or implied
        (市委, 全省), the sentences with that short name or those words."""
        found = entities.get("Region", {}).get(name)
        if found:
            return found
        level = name[-1]
        implied = resolve.IMPLIED_PARENT.get(level)
        return [s.index for s in sentences
                if (len(name) > 2 and name[:-1] in s.text) or (implied and implied.search(s.text))]

    def _established(self, mentions, sentences) -> dict[str, tuple[list[int], int | None]]:
        """Actors a region sets up or appoints: an establishing verb earlier in the clause,
        or a head count right after the role (区级河长13名)."""
        found: dict[str, tuple[list[int], int | None]] = {}
        marks = ClauseMarks(self.involve_mark)
        mechanisms = sorted((m.start, m.end) for m in mentions if m.type == "Mechanism")
        mechanism_starts = [start for start, _ in mechanisms]
        for m in mentions:
            if m.type != "Actor" or self.standing.search(m.name):
                continue
            # Mechanisms that start within a long name's reach before the actor (one bisection, not
            # a scan of every mechanism for every actor, which grew with the square of a document).
            lo = bisect.bisect_left(mechanism_starts, m.start - MAX_NAME)
            hi = bisect.bisect_right(mechanism_starts, m.start)
            if any(m.end <= end for _, end in mechanisms[lo:hi]):
                continue  # 建立“河长+检察长”协作机制 sets up the mechanism, not the roles named in it
            sentence = sentences[m.sentence]
            text = sentence.text
            local = m.start - sentence.start
            clause_from = marks.last_before(sentence, local)
            verb = self.establish.search(text, clause_from + 1, local)
            count_match = self.role_count.match(text[m.end - sentence.start:])
            if not verb and not count_match:
                continue
            evidence, count = found.get(m.name, ([], None))
            if count_match:
                count = (count or 0) + int(count_match["count"])
            found[m.name] = (evidence + [m.sentence], count)
        return found

    def _involves(self, entities, mentions, sentences):
        """Linkages involve each part that is an actor (and the bodies behind linked roles);
        a chief system involves the chiefs and offices the document names."""
        actors = entities.get("Actor", {})
        pairs = []
        for mechanism, evidence in entities.get("Mechanism", {}).items():
            for actor, actor_evidence in actors.items():
                if "+" not in mechanism and len(actor) >= 3 and actor in mechanism:
                    pairs.append((mechanism, actor, evidence + actor_evidence))
            if "+" in mechanism:
                for part in mechanism.split("+"):
                    hit = self.lexicon.by_surface.get(part)
                    actor = hit[1] if hit and hit[0] == "Actor" else (part if part in actors else None)
                    if actor is None:
                        continue
                    pairs.append((mechanism, actor, evidence + actors.get(actor, [])))
                    for body in self.rules["role_bodies"].get(actor, []):
                        if body in actors and body not in mechanism:
                            pairs.append((mechanism, body, evidence + actors[body]))
            system = self.rules["chief_systems"].get(mechanism)
            if system:
                for actor, actor_evidence in actors.items():
                    if system["chief"] in actor or actor in system["also"]:
                        pairs.append((mechanism, actor, evidence + actor_evidence))
        return pairs + self._clause_involves(mentions, sentences)

    def _clause_involves(self, mentions, sentences):
        """An actor named in the same clause as one mechanism takes part in it
        (组织志愿者开展义务植树; 与高等院校开展科研合作), when the clause names one mechanism only."""
        by_clause: dict[tuple[int, int], list[Mention]] = defaultdict(list)
        marks = ClauseMarks(self.involve_mark)
        for m in mentions:
            if m.type not in ("Mechanism", "Actor"):
                continue
            sentence = sentences[m.sentence]
            local = m.start - sentence.start
            by_clause[(m.sentence, marks.last_before(sentence, local))].append(m)
        pairs = []
        for (index, _), group in by_clause.items():
            mechanisms = {m.name for m in group if m.type == "Mechanism" and "+" not in m.name}
            if len(mechanisms) != 1:
                continue
            mechanism = mechanisms.pop()
            for actor in sorted({m.name for m in group if m.type == "Actor"}):  # same order every run
                pairs.append((mechanism, actor, [index]))
        return pairs

    def _properties(self, entities, region_mentions, reporting):
        properties: dict[str, dict[str, dict]] = defaultdict(dict)
        regions = {m.region.name: m.region for m in region_mentions}
        if reporting:
            regions[reporting.name] = reporting
        for name in entities.get("Region", {}):
            info = regions.get(name)
            if info:
                properties["Region"][name] = {"level": info.level, "adcode": info.adcode,
                                              "anonymized": info.anonymized}
        for label, key in (("Mechanism", "category"), ("Measure", "category"), ("Actor", "kind"),
                           ("WaterBody", "kind"), ("Indicator", "unit_group")):
            for name in entities.get(label, {}):
                group = self._group(label, name)
                if group:
                    properties[label][name] = {key: group}
        for name in entities.get("Mechanism", {}):
            # A linkage the lexicon does not list (河长+检察长) joins actors: a coordination tool.
            parts = name.split("+")
            if "category" not in properties["Mechanism"].get(name, {}) and len(parts) > 1 and any(
                    self.lexicon.by_surface.get(part, ("",))[0] == "Actor" for part in parts):
                properties["Mechanism"][name] = {"category": self.rules["linkage_category"]}
        for label, rules in candidates.finder().grammar.categories.items():
            for name in entities.get(label, {}):
                if "category" not in properties[label].get(name, {}):
                    properties[label][name] = {"category": category_by_rule(rules, name), "category_by": "rule"}
        for name in entities.get("Policy", {}):
            properties["Policy"][name] = {"kind": self._policy_kind(name)}
        return dict(properties)

    def _policy_kind(self, title: str) -> str:
        for kind, pattern in self.policy_kinds:
            if pattern.search(title):
                return kind
        return "programme"
