"""The analyser's words of one document, looked up by offset and asked what quantity attribution asks of a phrase.

Takes the analyser's words (etl.extract.analyser.Word, in text order, none overlapping) and answers by
bisection: which word begins or ends at an offset, which begin within a stretch, is a phrase a noun, where
does its predicate begin, does a position cut a word. Used by etl.extract.learned for features and list
items, by etl.extract.attribution to find what a number counts and by etl.extract.quantity_model to
describe it.
"""

from __future__ import annotations

import bisect

from etl.extract import places


class WordIndex:
    """The analyser's words of a document looked up by offset: for the entity model's features and
    spans, and for "is this phrase a noun" asked of counted things."""

    def __init__(self, words, breaking_tags: frozenset[str] = frozenset(),
                 predicate_tags: frozenset[str] = frozenset()) -> None:
        self.words = words
        self.starts = [w.start for w in words]
        self.breaking_tags = breaking_tags
        self.predicate_tags = predicate_tags

    def index_at(self, position: int) -> int | None:
        """The index of the word that begins at ``position``, or None (a word runs across it, or none is there)."""
        i = bisect.bisect_left(self.starts, position)
        return i if i < len(self.words) and self.starts[i] == position else None

    def index_ending(self, position: int) -> int | None:
        """The index of the word that ends at ``position``, or None."""
        k = bisect.bisect_left(self.starts, position) - 1
        return k if k >= 0 and self.words[k].end == position else None

    def at(self, position: int):
        """The word that begins at ``position``, or None."""
        i = self.index_at(position)
        return None if i is None else self.words[i]

    def ending(self, position: int):
        """The word that ends at ``position``, or None."""
        k = self.index_ending(position)
        return None if k is None else self.words[k]

    def starting_within(self, start: int, stop: int) -> list:
        """The words that begin within [start, stop)."""
        return self.words[bisect.bisect_left(self.starts, start):bisect.bisect_left(self.starts, stop)]

    def length_at(self, start: int) -> int:
        """The length of the word that begins at ``start`` (0 when a word runs across it)."""
        word = self.at(start)
        return word.end - start if word else 0

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


    def predicate_start(self, start: int, end: int, text: str, verbs: frozenset[str]) -> int:
        """Where a predicate begins inside the phrase (分段 of 骨干渠道分段设立河长, 采取 of 采砂船采取…管理):
        the first word after the phrase's first that the analyser reads as an adverb, or as a verb
        that is one of ``verbs`` (verbs that govern an object) or has two characters; ``end`` when there
        is none. A verb before one noun of two characters that ends the phrase is part of a compound
        noun (污水|收集|管网; 重点河湖|明确|市 is not), and a verb of one character that governs
        nothing another word's part (制 of 河长|制|工作制度)."""
        first = bisect.bisect_right(self.starts, start)
        last = bisect.bisect_left(self.starts, end)
        for k in range(first, last):
            w = self.words[k]
            if w.end > end:
                break
            if w.tag not in self.predicate_tags:
                continue
            if w.tag != "v":
                return w.start
            governing = text[w.start:w.end] in verbs
            head = self.words[k + 1] if k + 2 == last and self.words[k + 1].end == end else None
            if head and head.tag[0] == "n" and (head.end - head.start >= 2 or not governing):
                continue  # 污水|收集|管网: a compound noun
            if governing or w.end - w.start >= 2:
                return w.start
        return end

    def across(self, position: int):
        """The word that runs across ``position`` (begins before it and ends after it), or None."""
        k = bisect.bisect_right(self.starts, position) - 1
        return self.words[k] if 0 <= k < len(self.words) and self.words[k].start < position < self.words[k].end \
            else None

    def cuts_word(self, position: int) -> bool:
        """A word of the analyser runs across ``position`` (以 of 以及): a phrase ending there is cut."""
        return self.across(position) is not None

    def noun_before(self, position: int, floor: int) -> int:
        """Where a noun of two characters or more that ends at ``position`` begins (林草 of 林草生态修复);
        ``position`` when the word there is no such noun or starts before ``floor``."""
        word = self.ending(position)
        if word and word.start >= floor and word.tag in ("n", "vn") and word.end - word.start >= 2:
            return word.start
        return position

    def ends_in_tag(self, position: int, tags: frozenset[str]) -> bool:
        """The analyser's word that ends at ``position`` has one of ``tags``."""
        word = self.ending(position)
        return word is not None and word.tag in tags

    def verb_at(self, position: int) -> bool:
        """The analyser's word that begins at ``position`` is a verb (见园 of 500米见园)."""
        word = self.at(position)
        return word is not None and word.tag == "v"

    def word_end(self, position: int) -> int:
        """Where the word that runs across ``position`` ends (``position`` when none does)."""
        word = self.across(position)
        return word.end if word else position

    def word_start(self, position: int) -> int:
        """Where the word that runs across ``position`` begins (``position`` when none does)."""
        word = self.across(position)
        return word.start if word else position

    def cuts_name(self, position: int, text: str) -> bool:
        """A word other than a verb runs across ``position`` (水土流失 at 土): a name starting there is cut.
        A verb that took the next word's first character (损失税|利 of 损失税利) cuts no name, nor does
        a compound that jieba's segmenter splits there into a dictionary word of two characters or
        more (企业损失税利 at 税: 企业|损失|税利)."""
        word = self.across(position)
        if word is None:
            return False
        rest = text[position:word.end]
        return word.tag != "v" and not (len(rest) >= 2 and places.known_word(rest)
                                        and places.splits_at(text[word.start:word.end], position - word.start))

    def without_adverbs(self, start: int, end: int) -> int:
        """Where the phrase ends once the adverbs that close it are dropped (大型生产建设项目严格)."""
        k = bisect.bisect_left(self.starts, end) - 1
        while k >= 0 and self.words[k].end == end and self.words[k].start > start \
                and self.words[k].tag in ("d", "ad", "vd"):
            end = self.words[k].start
            k -= 1
        return end

    def has_noun(self, start: int, end: int) -> bool:
        """Some word of the phrase is a noun of the analyser's (地方配套, 业务学习; not 持续推进)."""
        if not self.words:
            return True
        inside = self.words[bisect.bisect_left(self.starts, start):bisect.bisect_left(self.starts, end)]
        return any(w.tag[0] in "nNLOS" or w.tag in ("vn", "an") for w in inside if w.end <= end)

    def ends_in_verb(self, start: int, end: int) -> bool:
        """The phrase ends in a word the analyser reads as a verb (守护 of 守护24个责任区, 会上通报了
        3家…): it names no thing; what the number counts follows it."""
        word = self.ending(end)
        return start < end and word is not None and word.start >= start and word.tag == "v"
