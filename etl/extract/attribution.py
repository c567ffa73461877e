"""Quantity attribution: which thing each number of a document counts.

Takes the document's text and sentences, the numbers the pipeline found (QuantitySpan), the
mentions kept so far and the analyser's words; returns one Quantity per attributed number
(subject, standardized value, actual or target, evidence) and the counted things that no
mention named yet (an Indicator or Measure found only as what a number counts). The counted
noun comes from the words around the number (the clause's verb, the classifier's noun, a
list shared with 分别), with the rule words of schema/ (lexicon.load_rules).
"""

from __future__ import annotations

import bisect
import collections
import re
import typing

from etl.extract import candidates, places
from etl.extract.lexicon import Lexicon
from etl.extract.quantities import QuantityFinder, QuantitySpan, standardize
from etl.extract.words import WordIndex
from etl.graph.model import L
from etl.graph.records import Mention, Quantity, Sentence

# How far back a number and its unit can reach from the 、 that follows them (12.5万平方公里、).
NUMBER_REACH = 24

NO_QUOTES = str.maketrans("", "", "“”‘’")
CHINESE_TAIL = re.compile(r"[\u4e00-\u9fff“”‘’]*$")
ENDS_IN_NUMBER = re.compile(r"[0-9X×]$")
ENDS_IN_LATIN = re.compile(r"[A-Za-z]$")
CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]{2,20}")
# The bounds of the CJK block: is a character Chinese.
_HAN_FIRST, _HAN_LAST = chr(0x4E00), chr(0x9FFF)
ALL_CHINESE = re.compile(r"[\u4e00-\u9fff]+")


def text_tail(noun: str, mention: Mention) -> str:
    """What a noun has after the mention that opens it."""
    return noun[len(mention.text):] if noun.startswith(mention.text) else ""


class Place(typing.NamedTuple):
    """Where a quantity stands in its document's text: its number, the words of its subject and the
    clause they are in (what etl.extract.quantity_model reads to rename the subject)."""

    number_start: int
    number_end: int
    subject_start: int
    subject_end: int
    clause: int


class MentionIndex:
    """A document's mentions in start order, for the quantity rules' many "which mentions stand
    between here and there" questions (one bisection instead of a scan of every mention)."""

    def __init__(self, mentions: list[Mention], words: WordIndex) -> None:
        self.words = words
        self.mentions = sorted(mentions, key=lambda m: m.start)
        self.starts = [m.start for m in self.mentions]
        self.indicator_starts = {m.start for m in mentions if m.type == L.Indicator}

    def starting_in(self, lo: int, hi: int) -> list[Mention]:
        """Mentions that start at lo or later and before hi, in document order."""
        return self.mentions[bisect.bisect_left(self.starts, lo):bisect.bisect_left(self.starts, hi)]


class QuantityAttributor:
    """The quantity rules of schema/, compiled once a process."""

    def __init__(self, lexicon: Lexicon, rules: dict, units) -> None:
        self.lexicon = lexicon
        self.rules = rules
        self.units = units
        grammar = candidates.load_grammar()
        self.breaking_tags = frozenset(rules["breaking_tags"])
        self.predicate_tags = frozenset(rules["predicate_tags"])
        self.metric_heads = tuple(rules["metric_heads"])
        self.place_time_tags = frozenset(rules["place_time_tags"])
        # The metrics the lexicon names (four characters or more), longest first.
        self.known_metrics = sorted((surface for surface, (label, _) in lexicon.by_surface.items()
                                     if label == L.Indicator and len(surface) >= 4), key=len, reverse=True)
        # What makes a counted thing a work done (grammar.yaml's Measure categories), and what keeps it a metric.
        categories = grammar.categories[L.Measure]
        self.built_words = sorted({word for words in categories.values() for word in words})
        self.not_built_heads = self.metric_heads + tuple(rules["attribute_nouns"] + rules["fund_heads"]
                                                         + rules["generic_nouns"] + rules["counted_item_heads"])
        self.clause_marks = set(rules["clause_marks"]) | {grammar.list_mark}
        words = rules["not_quantity_subjects"] + rules["not_noun_parts"]
        self.not_noun = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
        self.off_topic = re.compile("|".join(re.escape(w) for w in sorted(rules["off_topic_subjects"], key=len,
                                                                           reverse=True)))
        self.quantity_verbs = sorted(rules["quantity_verbs"], key=len, reverse=True)
        self.verb_endings = tuple(self.quantity_verbs)
        # Verbs that govern an object: one of them after a noun written after its number opens a predicate.
        self.governing_verbs = frozenset(self.quantity_verbs) | grammar.governing_verbs
        units_pattern = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
        self.amount = QuantityFinder(units).pattern  # a number with its unit (一亩, 200元)
        self.previous_number = re.compile(rf"[0-9０-９.X×]+(?:{units_pattern})$")
        self.coordinated = re.compile(rules["coordinated_subjects"])
        self.from_to = re.compile(rules["from_to"])
        self.reached = re.compile(rules["reached"])
        self.share = re.compile(rules["share"])
        self.water_class = re.compile(rules["water_class"])
        self.fund_source = re.compile("|".join(re.escape(w) for w in rules["fund_sources"])
                                      + "|" + rules["fund_source_level"])
        # What joins two counted things that share a number's sentence (35万亩和36万亩, 马尾松、楠竹).
        self.list_mark, self.list_closer = grammar.list_mark, grammar.list_closers
        self.list_joiners = (grammar.list_mark, *grammar.list_conjunctions)
        self.list_joiner = re.compile(r"\s*(?:" + "|".join(map(re.escape, self.list_joiners)) + r")\s*")
        self.head_after = re.compile(rules["head_after"])
        self.scope_break = re.compile(rules["scope_break"])
        self.issuer = re.compile(rules["issuer"])
        self.noun_break = re.compile(rules["noun_break"])
        self.respectively = re.compile(rules["respectively"])
        self.honorary = re.compile(rules["honorary_title"])
        self.ratio = re.compile(rules["ratio_subject"])
        self.verb_start = re.compile("|".join(re.escape(v) for v in self.quantity_verbs))
        # Lookahead finds every occurrence, overlapping ones too (立案查处 and 查处).
        self.verb_anywhere = re.compile("(?=(" + "|".join(re.escape(v) for v in self.quantity_verbs) + "))")
        self.target_cue = re.compile(rules["target_cue"])
        self.target_year = re.compile(rules["target_year"])
        self.target_achieved = re.compile(rules["target_achieved"])
        self.elision_lead = re.compile(rules["elision_lead"])
        self.light_verbs = frozenset(rules["light_verbs"])
        self.kept_verbs = frozenset(rules["kept_verbs"])
        self.event_verbs = frozenset(rules["event_verbs"])
        # Prepositions and particles inside a phrase make it a clause; the nouns that hold one of their
        # characters (植被, 方向) are taken out before the search.
        self.function_words = re.compile(rules["function_words"])
        self.function_word_nouns = re.compile("|".join(map(re.escape, rules["function_word_nouns"])))
        self.moved_to = re.compile(rules["moved_to"])
        self.change = re.compile(rules["change"])
        self.compared_change = re.compile(rules["compared_change"])
        self.ratio_change = re.compile(rules["ratio_change"])
        self.clause_stop = re.compile("[" + re.escape("".join(sorted(self.clause_marks))) + "》”]")
        self.verb_at_end = re.compile("(?:" + "|".join(re.escape(v) for v in self.quantity_verbs) + ")$")
        self.determiner = re.compile(rules["determiner"])
        self.noun_lead = re.compile(rules["noun_lead"])
        self.scope_lead = re.compile(rules["scope_lead"])
        self.linking_tail = re.compile(rules["linking_tail"])
        self.noun_tail_verbs = re.compile(rules["noun_tail_verbs"])
        # Marks that close a clause for a list shared with 分别.
        self.involve_mark = re.compile("[" + re.escape(rules["clause_marks"]) + "]")

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

    def attribute(self, text: str, sentences: list[Sentence], spans: list[QuantitySpan], found: list[Mention],
                  doc_year: int | None, words) -> tuple[list[Quantity], list[Mention], list[Place]]:
        """Each number's subject as a Quantity, the counted things no mention named yet as
        mentions of their own, and where each quantity stands (one Place a Quantity); ``words`` are
        the analyser's words of the document."""
        words = WordIndex(words, self.breaking_tags, self.predicate_tags)
        starts = [s.start for s in sentences]
        mentions = MentionIndex(found, words)
        out: list[Quantity] = []
        placed: list[Place] = []
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
            if self._is_change(text, q, clause, sentence.start) or self._inside_word(text, q, words) \
                    or self._names_a_class(text, q):
                continue
            if i + 1 < len(spans) and self._paired(text, q, spans[i + 1]) and q.start not in respectively:
                after = self._noun_after(text, spans[i + 1].end, mentions)
                if after:  # 149条、197公里黑臭河道: the noun after the pair is what both measure
                    respectively[q.start] = respectively[spans[i + 1].start] = [after]
            subjects = (respectively.pop(q.start, None) or self._share(text, q, clause, index, previous, mentions)
                        or self._coordinated(text, q, clause, mentions)
                        or self._ratio(text, q, clause, mentions) or self._moved(text, q, clause, mentions))
            if not subjects and i + 1 < len(spans):
                pair = self._respectively(text, q, spans[i + 1], clause, mentions)
                if pair:
                    subjects, respectively[spans[i + 1].start] = [pair[0]], [pair[1]]
            if not subjects and previous and previous[:2] == (index, q.unit) \
                    and self.moved_to.match(text[clause:q.start]):
                subjects = [previous[2]]  # …由80.47万平方公里，减少到如今的56.52万平方公里: the same noun's value
            if not subjects:
                subject = self._event_count(text, q, clause) or self._subject(text, q, clause, mentions)
                if subject:
                    subjects = [subject]
                elif previous and previous[:2] == (index, q.unit) and self._verb_only(text, clause, q):
                    subjects = [previous[2]]  # 计划造林2万亩，实际完成2.4万亩: the same thing, counted again
            if subjects:
                previous = (index, q.unit, subjects[-1])
                if i + 1 < len(spans) and self._paired(text, q, spans[i + 1]):
                    respectively.setdefault(spans[i + 1].start, subjects)  # 清理乱占民堤168条、516公里
            for label, name, start, end in subjects:
                if label not in (L.Indicator, L.Measure, L.Mechanism) or self.honorary.match(name) \
                        or self._head_count(q, name) or name in self.rules["bare_attributes"] \
                        or name in self.rules["background_subjects"] \
                        or name.removesuffix(self.rules["share_suffix"]) in self.rules["bare_attributes"]:
                    continue  # 总面积为28.54km2: the size of a whole, which counts no work
                if label == L.Indicator and name == text[start:end] and name not in self.lexicon.by_surface \
                        and (not words.nominal(start, end) and not name.endswith(self.metric_heads)
                             or words.cuts_name(start, text) and start != q.end):
                    # 工程一共分, 广阔和: a phrase the analyser reads as no noun counts nothing; nor does one
                    # that starts inside a word (土流失… of 水土流失; 个子 of 21个子项目 is the analyser's misreading)
                    continue
                if label == L.Indicator and name not in self.lexicon.by_surface \
                        and words.ends_in_tag(end, self.place_time_tags):
                    continue  # 去年50多亩, 1.5米之间: a time or a place, which counts nothing
                if label == L.Indicator and start not in mentions.indicator_starts and self._built(name, q.unit):
                    label = L.Measure  # 排水渠12公里, 森林抚育3万亩: a work done, counted by its extent
                if label == L.Indicator and self.fund_source.fullmatch(name) \
                        and self.units.get(q.unit, {}).get("dimension") == "money":
                    name += self.rules["fund_default_head"]  # 其中省级70万元、州级10万元: each level's funds
                # A mechanism that is counted (水土保持补偿费X万元) is an Indicator too (ONTOLOGY),
                # named as written: 审批水土保持方案X份 counts 水土保持方案, not the approval.
                if label == L.Mechanism:
                    name = text[start:end].translate(NO_QUOTES)
                if label != L.Measure and start not in mentions.indicator_starts:
                    new_mentions.append(Mention(type=L.Indicator, name=name, text=text[start:end],
                                                sentence=index, start=start, end=end))
                elif label == L.Measure and not any(m.type == L.Measure
                                                    for m in mentions.starting_in(start, start + 1)):
                    new_mentions.append(Mention(type=L.Measure, name=name, text=text[start:end],
                                                sentence=index, start=start, end=end))
                out.append(self._quantity(text, q, label, name, sentence, doc_year, cues_at))
                placed.append(Place(q.start, q.end, start, end, clause))
        return out, new_mentions, placed

    def _built(self, name: str, unit: str) -> bool:
        """A counted thing no lexicon entry names is a work done on land and water, a Measure (convention 7:
        a count of built things), when its words place it in one of the Measure's categories (渠, 林, 治理,
        监测 …: grammar.yaml's categories) or it is measured by its extent (a length, an area, a volume or a
        mass: 生态步道3公里), not money or a rate, and it does not end in the head of a metric or of a counted
        item (治理面积, 蓄积量, 治理项目, 破坏植被案件)."""
        dimension = self.units.get(unit, {}).get("dimension")
        if name in self.lexicon.by_surface or dimension in self.rules["not_built_dimensions"]:
            return False
        return not name.endswith(self.not_built_heads) and (
            dimension in self.rules["extent_dimensions"] or any(word in name for word in self.built_words))

    def _paired(self, text: str, q: QuantitySpan, following: QuantitySpan) -> bool:
        """Two numbers of one thing written side by side in units of different dimensions (168条、516公里):
        only the list mark stands between them."""
        dimensions = {self.units.get(s.unit, {}).get("dimension") for s in (q, following)}
        return text[q.end:following.start] == self.rules["pair_mark"] and None not in dimensions \
            and len(dimensions) == 2

    def _is_change(self, text: str, q: QuantitySpan, clause: int, sentence_start: int) -> bool:
        """A delta, no quantity (conventions 7 and 16): a number after a comparison (较2011年减少277.93
        平方公里, 比2020年提高2.1个百分点), or a rate after a verb of change (蓄水能力提高15%, 减幅为10.15%)."""
        if self.change.search(text, clause, q.start) or self.compared_change.search(text, sentence_start, q.start):
            return True
        return self.units.get(q.unit, {}).get("dimension") == "ratio" \
            and bool(self.ratio_change.search(text, clause, q.start))

    @staticmethod
    def _inside_word(text: str, q: QuantitySpan, words: WordIndex) -> bool:
        """A number in Chinese numerals that the analyser reads inside a longer word (七台 of 七台河市)
        or that follows a quoted name (“长治”四期: its fourth phase) is part of a name, not a count."""
        if q.text[0].isdigit() or q.text[0] in "Xx×":
            return False
        return words.cuts_word(q.start) or words.cuts_word(q.end) or text[q.start - 1:q.start] in ("”", "’")

    def _names_a_class(self, text: str, q: QuantitySpan) -> bool:
        """劣五类断面, 三类水: a water-quality class, not an amount (convention 7)."""
        return bool(self.water_class.match(text, max(q.start - 1, 0))) or bool(self.water_class.match(text, q.start))

    def _head_count(self, q: QuantitySpan, name: str) -> bool:
        """People counted (执法人员531人次, 惠及群众1000余人次) are participants, not work (convention 7);
        people trained or received (培训人员, 接待学生) are the work's own count."""
        return q.unit.endswith(tuple(self.rules["person_units"])) and name.endswith(tuple(self.rules["person_nouns"])) \
            and not any(verb in name for verb in self.rules["served_verbs"])

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
            subject=name, subject_type=L.Measure if label == L.Measure else L.Indicator,
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
        if not match or not self.list_joiner.fullmatch(text, q.end, following.start):
            return None
        first = match["a"][self._last_verb(match["a"])[1]:]  # 全县马尾松 → 马尾松
        subjects = []
        for noun, at in ((first + (match["head"] or ""), match.end("a") - len(first)), (match["b"], match.start("b"))):
            if not self.noun_phrase(noun):
                return None
            subjects.append(self._named(noun, at, mentions))
        return subjects

    def _ratio(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """争取资金是202X年的XX倍: a multiple belongs to the noun before 是."""
        match = self.ratio.search(text, clause, q.start)
        if not match or q.unit not in self.rules["ratio_units"] or not self.noun_phrase(match["a"]):
            return []
        return [self._named(match["a"], match.start("a"), mentions)]

    def _share(self, text: str, q: QuantitySpan, clause: int, index: int, previous, mentions: MentionIndex):
        """A part's share of a whole (水土流失面积374.7万亩，占土地总面积13.1%; 荒漠化土地面积占该省国土面积
        45.8%): the share of the noun before 占, or of what the sentence counted just before."""
        match = self.share.fullmatch(text, clause, q.start)
        if not match or self.units.get(q.unit, {}).get("dimension") != "ratio":
            return []
        noun = self.noun_lead.sub("", match["a"] or "")
        if noun and self.noun_phrase(noun):
            label, name, start, end = self._named(noun, match.end("a") - len(noun), mentions)
        elif not noun and previous and previous[0] == index:
            label, name, start, end = previous[2]
        else:
            return []
        # A second share of the same part (占流域总面积的73.1%，占全市总面积的76.9%) is of that part too.
        return [(L.Indicator, name.removesuffix(self.rules["share_suffix"]) + self.rules["share_suffix"], start, end)]

    def _moved(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """A value before and after it moved (水土保持率由52.3%提高到61.8%), or the level a noun rose
        to or is held at (森林覆盖率提升至78.9%, 用水总量控制在223亿立方米以内): the noun's."""
        match = self.from_to.search(text, clause, q.start) or self.reached.search(text, clause, q.start)
        if not match:
            return []
        # The noun is the last of the phrase (五个断面中劣五类断面 → 劣五类断面, 全县的森林覆盖率 → 森林覆盖率).
        last = self.scope_break.split(match["a"])[-1]
        start = match.end("a") - len(last)
        if len(last) == len(match["a"]) and mentions.words.word_start(start) >= clause:
            # The pattern's reach ended inside a word of a long name (…江河湖泊水功能区水质达标率由…):
            # the word is the name's.
            start = mentions.words.word_start(start)
            last = text[start:match.end("a")]
        noun = self.linking_tail.sub("", last)  # 森林覆盖率达到并稳定在66% → 森林覆盖率
        known = self._known_metric(noun)
        if known and not self.noun_phrase(noun):  # a name too long to be one ends in a metric the lexicon knows
            return [(L.Indicator, known, start + len(noun) - len(known), start + len(noun))]
        if not self.noun_phrase(noun) or mentions.words.cuts_word(start):
            return []  # …or the pattern's reach ends inside a word (土流失面积占… of 水土流失面积占…)
        return [self._named(noun, start, mentions)]

    def _coordinated(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """Two nouns that share one number (环评率和“三同时”执行率均达到100%): a subject each."""
        match = self.coordinated.search(text, clause, q.start)
        if not match:
            return []
        subjects = []
        for part in ("a", "b"):
            noun = match[part].translate(NO_QUOTES)
            if not self.noun_phrase(noun):
                return []
            subjects.append(self._named(noun, match.start(part), mentions))
        return subjects


    def _subject(self, text: str, q: QuantitySpan, clause: int, mentions: MentionIndex):
        """The thing a number counts: the nearest Indicator or Measure mention before it in its
        clause; else the noun between the clause's verb and the number (治理面积X平方公里);
        else, or when that noun is a list (…等X项) or a bare generic head (项目), the noun the
        number and its classifier run into (建成X个生态清洁小流域)."""
        at = q.start  # spaces before the number (森林蓄积量达到 850立方米) are no part of the phrase
        while at > clause and text[at - 1] in self.rules["number_spaces"]:
            at -= 1
        before = [m for m in mentions.starting_in(clause, at) if m.end <= at]
        if before:
            m = max(before, key=lambda m: m.end)
            gap = text[m.end:at]
            if m.type in (L.Indicator, L.Measure) and len(gap) <= 6:
                # …unless the gap is itself the counted attribute (小水电总装机容量 → 装机容量).
                attribute = self.noun_lead.sub("", self.linking_tail.sub("", gap))
                if not self._attribute(attribute):
                    whole = mentions.words.word_start(m.start)
                    crossing_end = mentions.words.word_end(m.start)
                    # A word that holds the work (营造林) or a verb of work across it; 修蓄|水池 is a misreading.
                    if crossing_end < m.end and text[whole:crossing_end] not in self.quantity_verbs:
                        whole = m.start
                    if whole == m.start and m.type == L.Measure:
                        whole = mentions.words.noun_before(m.start, clause)  # 林草生态修复, not its 生态修复
                        if self.noun_lead.fullmatch(text[whole:m.start]) \
                                or text[whole:m.start] in self.rules["generic_nouns"]:
                            whole = m.start  # …but 全县 says where (全县人工造林 → 人工造林), 任务 nothing
                    if m.type == L.Measure and whole < m.start and ALL_CHINESE.fullmatch(text, whole, m.end):
                        return m.type, text[whole:m.end], whole, m.end  # 营造林, not the 造林 inside it
                    return self._with_source(text, m, mentions)
                if m.type == L.Measure and gap == attribute and (
                        self.verb_start.match(m.text) or self.units.get(q.unit, {}).get("dimension") == "count"):
                    # A work named by its verb counts the object after it with it (清理河道垃圾X吨); a
                    # count of things after a work counts that kind of thing (视频监控点位X个).
                    return self._named(m.text + attribute, m.start, mentions)
                return self._named(attribute, m.end + gap.find(attribute), mentions)
            if m.type in (L.Actor, L.Region) and len(gap) <= 2 and not (
                    gap in self.rules["event_nouns"] and m.end < at):
                return m.type, m.name, m.start, m.end  # 河长13名: a head count, no quantity
        # Linking words before the number (达, 为, 约, 共计) end the phrase; they do not split it;
        # so does a number just before this one (基地3个14.5万亩: both count 基地).
        phrase = self.linking_tail.sub("", text[clause:at])
        phrase = self.previous_number.sub("", phrase)
        verb_start, verb_end = self._last_verb(phrase)
        # The counted noun is the run of Chinese characters after the verb (》等专题片 → 专题片).
        run = CHINESE_TAIL.search(phrase, verb_end).group(0)
        # Modifiers end with 的 and lists with 等: the head noun follows (有价值的调研文章, …等科技成果).
        run = self.head_after.split(run)[-1]
        noun = self.noun_lead.sub("", run.translate(NO_QUOTES))
        # 共有绿色农产品基地: 有 is the verb unless the analyser reads a word that begins with it (有机).
        if noun.startswith(self.rules["having_verb"]) and len(noun) > 3 \
                and mentions.words.length_at(clause + len(phrase) - len(noun)) < 2:
            noun = noun[1:]
        start = clause + len(phrase) - len(noun)
        verb = phrase[verb_start:verb_end]
        if verb in self.rules["removal_verbs"] and verb_end == len(phrase) - len(noun) \
                and self.off_topic.search(noun) and self.noun_phrase(noun, off_topic=True):
            return L.Measure, verb + noun, start - len(verb), start + len(noun)  # 关闭禁限养区养殖场23家
        if not noun and verb_start and verb_end == len(phrase):
            worked, at = self._object_and_verb(phrase, verb_start, clause, mentions)
            if worked:  # …unless the number runs into a noun of its own (安排10万元专项工作经费)
                return self._noun_after(text, q.end, mentions) or self._named(worked, at, mentions)
        if noun.startswith(tuple(self.units)) and ENDS_IN_NUMBER.search(phrase, 0, len(phrase) - len(noun)):
            noun = ""  # the tail of an earlier number's unit (35万亩和36万亩), not a noun
        listed = phrase[verb_end:].endswith(self.list_closer) \
            or text[clause:at].rstrip(self.rules["approximation_characters"]).endswith(self.list_closer)
        if ENDS_IN_LATIN.search(phrase, 0, len(phrase) - len(run)):
            noun = ""  # a name cut by Latin letters (国家AAA级景区) is no counted noun
        # A number right after an enumeration of names (黄河多沙粗沙区、太行山区2个…治理区; A、B、C三项
        #重点领域) sums the list up; it counts no work. Pairs (广场X处、道路X公里) are counts.
        # (…等12项 is no such sum: 等 leaves the list open; nor is a number that opens its item and
        # runs into a noun: 建成20座污水处理厂、94座农村污水处理站 counts what follows it, 300米见绿、500米见园
        # is a slogan.)
        if clause > 0 and text[clause - 1] == self.list_mark and verb_end == 0 and not listed \
                and (phrase or mentions.words.verb_at(q.end)) \
                and not self.previous_number.search(text, max(clause - 1 - NUMBER_REACH, 0), clause - 1):
            return None
        if noun in self.rules["attribute_nouns"] and verb_end and verb_end == len(phrase) - len(noun):
            noun, start = phrase[verb_start:], clause + verb_start  # 新增治理面积 → 治理面积
        verbal = mentions.words.ends_in_verb(start, start + len(noun))
        if listed or verbal or noun in self.rules["generic_nouns"] or not self.noun_phrase(noun):
            after = self._noun_after(text, q.end, mentions)
            if after:
                return after
            if noun in self.rules["generic_nouns"] and verb_end and verb_end == len(phrase) - len(noun):
                # A generic head keeps the verbs that make it specific (整改问题, 恢复治理工程).
                chain = verb_start
                while (prior := self.verb_at_end.search(phrase, 0, chain)) and prior.group() not in self.light_verbs:
                    chain = prior.start()  # the leftmost start: the longest verb ending there
                # …and the modifiers before them, back to the clause's own verb (播放生态创建新闻).
                while chain > 0 and _HAN_FIRST <= phrase[chain - 1] <= _HAN_LAST \
                        and phrase[chain - 1] not in self.rules["phrase_boundaries"] \
                        and not phrase[:chain].endswith(self.verb_endings):
                    chain -= 1
                extended = phrase[chain:]
                noun = self.noun_lead.sub("", extended)
                start = clause + chain + len(extended) - len(noun)
            if not noun and verb_start == 0 and verb_end == len(phrase) >= 4:
                # The clause is one verb compound counted as events (立案查处X起).
                return self._named(phrase, clause, mentions)
            if noun in self.rules["money_verbs"] and self.units.get(q.unit, {}).get("dimension") == "money":
                return L.Indicator, noun, start, start + len(noun)  # 共处罚743.77万元: the money is the verb's
            if listed or not self.noun_phrase(noun) or verbal and not mentions.words.has_noun(start, start + len(noun)):
                return None  # …and a phrase of verbs alone (持续推进4个…) counts nothing
        return self._with_verb(self._named(noun, start, mentions), phrase, verb_start, verb_end, noun, q, mentions)

    def _with_source(self, text: str, m: Mention, mentions: MentionIndex):
        """Money named by where it comes from (其中中央投资3770万元, 地方配套资金): the source word
        before a fund's name is part of what is counted; 总投资 is the fund itself. A level or period before
        a rate is not (市县污水处理率)."""
        if m.type == L.Indicator and m.name.endswith(tuple(self.rules["fund_heads"])):
            source = next((w for w in self.rules["fund_sources"] if text.endswith(w, 0, m.start)), None)
            if source and text[m.start - len(source) - 1:m.start - len(source)] not in self.list_joiners:
                return L.Indicator, source + m.text, m.start - len(source), m.end  # 中央、省级补助资金 is one fund
        if m.type == L.Indicator and m.name == m.text:
            known = self._known_metric(m.text)
            if known:  # 江河湖泊水功能区水质达标率, 出境水水质达标率: what stands before a known metric says where
                return m.type, known, m.end - len(known), m.end
            noun, start = self._without_scope(m.name, m.start, mentions.words)
            return m.type, noun, start, m.end
        return m.type, m.name, m.start, m.end

    def _known_metric(self, noun: str) -> str | None:
        """The metric the lexicon knows that ends a longer noun (水功能区水质达标率 of 江河湖泊水功能区水质达标率),
        or None when the lexicon knows the noun whole or none ends it."""
        if noun in self.lexicon.by_surface:
            return None
        return next((k for k in self.known_metrics if noun.endswith(k) and len(k) < len(noun)), None)

    def _without_scope(self, noun: str, start: int, words: WordIndex) -> tuple[str, int]:
        """A counted noun without the level or period before it (市县污水处理率, 年拦蓄径流), when the
        analyser reads those as words of their own."""
        scope = self.scope_lead.match(noun)
        if scope and not words.cuts_word(start + scope.end()):
            return noun[scope.end():], start + scope.end()
        return noun, start

    def _with_verb(self, named, phrase: str, verb_start: int, verb_end: int, noun: str, q: QuantitySpan,
                   mentions: MentionIndex):
        """What a removal or enforcement verb did is what is counted (清理非法采砂点442个, 拆除违法建筑
        2.94万平方米): the verb stays with a noun that names no known entity, and the two name an
        intervention, a Measure."""
        label, name, start, end = named
        verb = phrase[verb_start:verb_end]
        if label != L.Indicator or name != noun or verb_end != len(phrase) - len(noun):
            return named
        if verb in self.kept_verbs and self.noun_phrase(verb + noun) \
                and not noun.endswith(tuple(self.rules["attribute_nouns"]) + (self.rules["rate_suffix"],)):
            adverb = next((a for a in self.rules["work_adverbs"] if phrase.endswith(a, 0, verb_start)), "")
            if adverb:  # 综合治理小流域16条: the work is named noun first, as 坡耕地综合治理 is
                return L.Measure, noun + adverb + verb, start - len(verb) - len(adverb), end
            return L.Measure, verb + noun, start - len(verb), end  # a removal is an intervention
        return named

    def _event_count(self, text: str, q: QuantitySpan, clause: int):
        """巡河27.5万人次, 巡查不少于一次: a patrol or check counted in 次 is measured by its number."""
        if not q.unit or not q.unit.endswith(self.rules["event_unit"]):
            return None
        phrase = self.noun_lead.sub("", self.linking_tail.sub("", text[clause:q.start]))
        events = sorted(self.event_verbs, key=len, reverse=True)
        verb = next((v for v in events if phrase.endswith(v)), None)
        if verb is None:
            return None
        # Two patrols counted together (巡河巡湖19466人次) are one count of both.
        before = next((v for v in events if phrase.endswith(v + verb) and v != verb), "")
        verb = before + verb
        return L.Indicator, verb + self.rules["event_count_suffix"], q.start - len(verb), q.start

    def _verb_only(self, text: str, clause: int, q: QuantitySpan) -> bool:
        """The clause before a number is a verb and nothing it counts (实际完成, 其中新增)."""
        phrase = self.noun_lead.sub("", self.linking_tail.sub("", text[clause:q.start]))
        phrase = self.elision_lead.sub("", phrase)
        return bool(phrase) and self._last_verb(phrase) == (0, len(phrase))

    def _object_and_verb(self, phrase: str, verb_start: int, clause: int, mentions: MentionIndex) -> tuple[str, int]:
        """What a number right after a verb counts when the verb's object stands before it (实施沙棘
        种植12.5万亩 → 沙棘种植): the object and the verb, when the object holds a noun."""
        prior_end = self._last_verb(phrase[:verb_start])[1]
        obj = self.noun_lead.sub("", phrase[prior_end:verb_start])
        at = clause + verb_start - len(obj)
        if len(obj) >= 2 and self.noun_phrase(obj) and mentions.words.has_noun(at, clause + verb_start):
            return obj + phrase[verb_start:], at
        return "", clause + len(phrase)

    def _last_verb(self, phrase: str) -> tuple[int, int]:
        """Where the verb that ends last in a phrase stands (the longest where two end together);
        (0, 0) when there is none. What follows it is the counted noun."""
        return max(((m.start(1), m.end(1)) for m in self.verb_anywhere.finditer(phrase)),
                   key=lambda span: (span[1], -span[0]), default=(0, 0))

    def _attribute(self, text: str) -> bool:
        """A noun after a named thing that is what is counted of it (装机容量), not a verb (提高)."""
        if not self.noun_phrase(text) or text in self.rules["generic_nouns"] + self.rules["generic_tails"]:
            return False
        return (places.word_tag(text) or "n")[0] != "v" and not self.verb_start.match(text)

    def _noun_after(self, text: str, position: int, mentions: MentionIndex):
        """The noun a number and its classifier run into, up to punctuation or a function word."""
        after = CHINESE_RUN.match(text, position)
        if not after:
            return None
        noun = self.noun_break.split(after.group(0))[0]
        if mentions.words.cuts_word(position + len(noun)):
            return None  # a break character inside a word (事实以及): the phrase is misread, not a noun
        following = text[position + len(noun):position + len(noun) + 4]
        if following.startswith(self.rules["person_link"]) \
                and following[1:].startswith(tuple(self.rules["person_nouns"])):
            return None  # it modifies who is counted (XX个国家的代表): a head count, not a subject
        tail = self.noun_tail_verbs.search(noun, 2)
        noun = noun[:tail.start()] if tail else noun  # …水库全部落实管护责任 → …水库
        cut = mentions.words.predicate_start(position, position + len(noun), text, self.governing_verbs)
        if cut < position + len(noun) and mentions.words.ends_in_verb(position, cut):
            return None  # 两家企业需分别承担…: a modal before the predicate; the number counts who acts
        noun = noun[:cut - position]
        noun = noun[:mentions.words.without_adverbs(position, position + len(noun)) - position]  # …项目严格 → …项目
        # A noun phrase ends with its head (大型生产建设项目严格执行 → …项目).
        heads = [noun.rfind(h) + len(h) for h in self.rules["noun_heads"] if noun.rfind(h) > 0]
        if heads and not self.noun_phrase(noun):
            noun = noun[:max(heads)]
        verb = self.verb_at_end.search(noun)
        if verb and not self.noun_phrase(noun) and self.noun_phrase(noun[:verb.start()]):
            noun = noun[:verb.start()]  # 25个国有林场试点建设: the work done on what is counted ends it
        if noun.startswith(tuple(self.units)):
            return None
        if not self.noun_phrase(noun) or noun in self.rules["generic_nouns"]:
            return None
        return self._named(noun, position, mentions)

    def _named(self, noun: str, start: int, mentions: MentionIndex):
        """The entity a counted noun names: itself when the lexicon knows it, else a lexicon
        mention that ends it (高品质精品小流域 → 精品小流域), else a new Indicator. Who does it is
        no part of what is counted (组织民间河长业务学习2次 → 业务学习)."""
        lead = self.noun_lead.match(noun)
        at = start + (lead.end() if lead else 0)
        agent = next((m for m in mentions.starting_in(at, at + 1)
                      if m.type in (L.Actor, L.Region) and m.end - start <= len(noun) - 2), None)
        end = start + len(noun)
        if agent and agent.type == L.Region and any(
                m.type == L.Mechanism and m.end == end for m in mentions.starting_in(agent.end, end)):
            agent = None  # an order counted with the region that issued it is named so (梧州市总河长令)
        if agent and noun[agent.end - start:] in self.rules["event_nouns"]:
            agent = None  # a bare event keeps who holds it (总河长会议)
        if agent:  # …nor where (重庆森林覆盖率 → 森林覆盖率)
            noun, start = noun[agent.end - start:], agent.end
        noun, start = self._without_scope(noun, start, mentions.words)
        hit = self.lexicon.by_surface.get(noun)
        if hit:
            return hit[0], hit[1], start, start + len(noun)
        end = start + len(noun)
        # A mechanism counted with the level that issued it (6个自治区总河长令) is counted as written;
        # other words before it say what it is of (生产建设项目水土保持方案 counts 水土保持方案).
        heads = [m for m in mentions.starting_in(start, end)
                 if m.end == end and m.type in (L.Indicator, L.Measure, L.Mechanism)
                 and not (m.type == L.Mechanism and self.issuer.fullmatch(noun[:m.start - start]))]
        if heads:
            m = min(heads, key=lambda m: m.start)
            return m.type, m.name, m.start, m.end
        # A measure named with a generic tail (生态清洁型小流域治理项目) counts that measure.
        for m in mentions.starting_in(start, start + 1):
            if m.type == L.Measure and text_tail(noun, m) in self.rules["generic_tails"]:
                return m.type, m.name, m.start, m.end
        return L.Indicator, noun, start, end

    def noun_phrase(self, text: str, off_topic: bool = False) -> bool:
        """A plausible name of a counted thing: 2 to max_noun_length Chinese characters without function
        words (与, 对, 于 …), not background geography nor (unless ``off_topic``: what a removal removed)
        off topic, not ending in a verb."""
        if not 2 <= len(text) <= self.rules["max_noun_length"] or not ALL_CHINESE.fullmatch(text):
            return False
        if self.function_words.search(self.function_word_nouns.sub("", text)):
            return False
        if self.not_noun.search(text) or not off_topic and self.off_topic.search(text):
            return False
        if text[-1] in self.rules["not_noun_endings"] or self.amount.fullmatch(text):
            return False  # …nor an amount (200元一亩 counts nothing by 一亩)
        return not text.endswith(self.verb_endings)

