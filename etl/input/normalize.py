"""Normalize stage: decoded text in, clean simplified text and metadata out.

Takes a RawDocument and returns a NormalizedDocument: traditional characters turned into
simplified ones with mainland phrasing (OpenCC tw2sp: 專案→项目, 資訊→信息, 建立→创建),
full-width letters, digits and symbols made half-width, whitespace tidied, and the
scraped page's junk lines (navigation, breadcrumbs, print bars, advertising) removed, with
the title, date and issuing body they carry kept as metadata. The junk patterns are data:
schema/normalize/junk.yaml. Pinyin that machine conversion prints after characters
(河長(zhǎng)制) is removed first, as schema/normalize/pinyin.yaml describes.

Offsets: sentences (etl.input.segment) are offsets into the normalized text this stage returns,
and evidence is sentence indices, so removing text here cannot make evidence point at the
wrong sentence; nothing downstream refers to offsets of the raw text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from etl import config
from etl.datafiles import load_yaml
from etl.errors import DataFileError
from etl.input import dates
from etl.input.marks import load_marks
from etl.input.read import RawDocument

# Share of CJK characters that OpenCC's t2s changes above which a text counts as traditional;
# simplified text changes almost nothing (a handful of variant characters), traditional a lot.
TRADITIONAL_SHARE = 0.04
# Chinese full-width punctuation kept as it is: segmentation and the rules read it.
KEEP_FULL_WIDTH = set(load_marks().keep_full_width)
# Control characters that break lines (str.splitlines), made newlines by half_width.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85"
# Runs of characters outside the CJK block: taken out in one pass (a findall of the CJK characters
# made one string a character).
_NOT_CJK = re.compile(r"[^\u4e00-\u9fff]+")


@dataclass(frozen=True)
class JunkPattern:
    id: str
    kind: str
    regex: re.Pattern[str]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]


@dataclass(frozen=True)
class NormalizedDocument:
    name: str
    doc_id: str
    text: str
    title: str
    date: str | None
    source: str | None
    lang_variant: str


@functools.cache
def junk_patterns(path: Path | None = None) -> tuple[str, tuple[JunkPattern, ...]]:
    """The version and patterns of schema/normalize/junk.yaml, checked as they load."""
    path = path or config.schema_dir() / "normalize" / "junk.yaml"
    data = load_yaml(path)
    patterns = []
    for number, item in enumerate(data.get("patterns", []), start=1):
        where = f"{path}: pattern {number} ({item.get('id', '?')})"
        if item.get("kind") not in ("drop", "meta", "lead"):
            raise DataFileError(f"{where}: kind must be 'drop', 'meta' or 'lead'")
        try:
            regex = re.compile(item["regex"])
        except (KeyError, re.error) as exc:
            raise DataFileError(f"{where}: bad or missing regex ({exc})") from None
        patterns.append(JunkPattern(item["id"], item["kind"], regex,
                                    tuple(item.get("examples", ())), tuple(item.get("counterexamples", ()))))
    return str(data.get("version", "")), tuple(patterns)


@dataclass(frozen=True)
class SpamRule:
    """Betting advertisements stuffed into a page's sentences (junk.yaml's inline_spam)."""

    run: re.Pattern[str]
    betting: re.Pattern[str]
    examples: tuple[tuple[str, str], ...]
    counterexamples: tuple[str, ...]


@functools.cache
def spam_rule(path: Path | None = None) -> SpamRule:
    """junk.yaml's inline_spam, compiled: a run of its words, Latin letters and digits, with
    joiners between them; a run is spam when it holds a betting word."""
    path = path or config.schema_dir() / "normalize" / "junk.yaml"
    spec = load_yaml(path).get("inline_spam") or {}
    missing = [key for key in ("betting", "betting_latin", "fillers", "joiners", "brackets") if not spec.get(key)]
    if missing:
        raise DataFileError(f"{path}: inline_spam needs {', '.join(missing)}")
    betting = "|".join(map(re.escape, sorted(spec["betting"], key=len, reverse=True)))
    betting += "|" + spec["betting_latin"]
    words = "|".join(map(re.escape, sorted(spec["betting"] + spec["fillers"], key=len, reverse=True)))
    token = f"(?:{words}|[A-Za-z0-9]+)"
    joiners = "[" + re.escape(spec["joiners"]) + "]*"
    opening, closing = (re.escape(mark) + "?" for mark in spec["brackets"][:2])
    return SpamRule(re.compile(f"{opening}{token}(?:{joiners}{token})*{closing}"), re.compile(betting),
                    tuple((str(a), str(b)) for a, b in spec.get("examples", ())),
                    tuple(spec.get("counterexamples", ())))


def strip_spam(line: str) -> str:
    """The line without the betting advertisements stuffed into it; where one stood between two
    equal marks (门源县、…、海晏县) one mark stays."""
    rule = spam_rule()
    if not rule.betting.search(line):
        return line
    kept, at = [], 0
    for match in rule.run.finditer(line):
        if not rule.betting.search(match[0]):
            continue
        kept.append(line[at:match.start()])
        at = match.end()
        before = kept[-1][-1:]
        if before and before == line[at:at + 1] and not before.isalnum():
            at += 1
    return "".join(kept) + line[at:]


@dataclass(frozen=True)
class PinyinRule:
    """Which parenthesized syllables after a Han character are pinyin (schema/normalize/pinyin.yaml)."""

    syllables: frozenset[str]
    neutral: frozenset[str]
    neutral_after: int
    examples: tuple[tuple[str, str], ...]
    counterexamples: tuple[str, ...]


# A parenthesized run of pinyin letters (ASCII or full-width brackets) right after a Han
# character; whether it is a syllable is decided against the data file, not here.
_PAREN_SYLLABLE = load_marks().patterns["pinyin_after_han"]
# A bracketed run of capitalized syllables right after a Han character (治理[ZhiLi]).
_BRACKET_WORD = load_marks().patterns["pinyin_word_after_han"]
_CAPITALIZED = re.compile(r"[A-Z][a-z]*")
_TONE_MARKS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜếề", "aaaaeeeeiiiioooouuuuüüüüêê")


@functools.cache
def pinyin_rule(path: Path | None = None) -> PinyinRule:
    """The syllables of schema/normalize/pinyin.yaml (every initial with every final), checked as they load."""
    path = path or config.schema_dir() / "normalize" / "pinyin.yaml"
    data = load_yaml(path)
    try:
        initials, finals = [""] + list(data["initials"]), list(data["finals"])
        neutral = frozenset(data["neutral"])
        after = int(data["neutral_after"])
        examples = tuple((str(a), str(b)) for a, b in data.get("examples", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: needs initials, finals, neutral, neutral_after and "
                            f"examples as [text, expected] pairs ({exc})") from None
    syllables = frozenset(i + f for i in initials for f in finals)
    unknown = sorted(neutral - syllables)
    if unknown:
        raise DataFileError(f"{path}: neutral syllables that are no syllable of the initials and finals: {unknown}")
    return PinyinRule(syllables, neutral, after, examples, tuple(data.get("counterexamples", ())))


def strip_pinyin(text: str) -> str:
    """Remove the pinyin a converter printed after characters: 河長(zhǎng)制 → 河長制.

    A syllable with a tone mark goes; an unmarked one only when it is a neutral-tone particle
    and the text carries at least ``neutral_after`` marked ones (so 他的(de) alone stays, as do
    ASCII words in brackets: 全球定位系统(GPS)).
    """
    rule = pinyin_rule()
    text = _strip_pinyin_words(text, rule)
    if "(" not in text and "（" not in text:
        return text
    marked: list[tuple[int, int]] = []
    neutral: list[tuple[int, int]] = []
    for match in _PAREN_SYLLABLE.finditer(text):
        word = match.group(1)
        plain = word.lower().translate(_TONE_MARKS)
        if plain not in rule.syllables:
            continue
        if plain != word.lower():
            marked.append(match.span())
        elif plain in rule.neutral:
            neutral.append(match.span())
    if not marked:
        return text
    spans = sorted(marked + neutral) if len(marked) >= rule.neutral_after else marked
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _strip_pinyin_words(text: str, rule: PinyinRule) -> str:
    """Remove a word's pinyin printed in capitalized syllables after it: 治理[ZhiLi] → 治理.

    Capitals split the syllables, and two or more that are all syllables of the data file make
    pinyin; an acronym (系统[GIS]) or a single name (王总[Wang]) stays.
    """
    def pinyin(match: re.Match[str]) -> str:
        parts = _CAPITALIZED.findall(match.group(1))
        return "" if all(p.lower() in rule.syllables for p in parts) else match.group(0)

    return _BRACKET_WORD.sub(pinyin, text)


@functools.cache
def _converters():
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("tw2sp")


SAMPLE_CHARS = 3000


def is_traditional(text: str) -> bool:
    """True when a noticeable share of the CJK characters are traditional forms."""
    # A few thousand characters tell a machine-converted text as well as the whole would.
    sample = _NOT_CJK.sub("", text[:SAMPLE_CHARS * 2])[:SAMPLE_CHARS]
    if not sample:
        return False
    t2s, _ = _converters()
    simplified = t2s.convert(sample)
    if simplified == sample:
        return False  # most documents: no character to count
    changed = sum(map(str.__ne__, sample, simplified))
    return changed / len(sample) > TRADITIONAL_SHARE


@functools.cache
def _keep_phrases(path: Path | None = None) -> re.Pattern[str] | None:
    path = path or config.schema_dir() / "normalize" / "opencc_keep.yaml"
    phrases = load_yaml(path).get("phrases") or {}
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))) if phrases else None


# Places where Taiwan vocabulary must be seen (專案, 軟體, 網路…) before a text counts as converted
# with Taiwan phrasing; fewer are the ambiguous words of mainland prose (建立, 新增).
TAIWAN_MARKS = 2
_CLAUSE_MARK = load_marks().patterns["clause_mark"]


def taiwan_phrased(text: str) -> bool:
    """True when a converter gave the text Taiwan vocabulary (專案 for 项目), not only traditional
    characters: OpenCC's Taiwan-phrase mapping (tw2sp) then changes words that character conversion
    (t2s) leaves, outside the phrases of opencc_keep.yaml, in TAIWAN_MARKS places or more. Mainland
    reports converted character by character mean 建立 and 新增 as written, which tw2sp would turn
    into 创建 and 添加."""
    t2s, tw2sp = _converters()
    sample = text[:SAMPLE_CHARS * 2]
    for phrases in (_keep_phrases(), _ambiguous_words()):
        if phrases is not None:
            sample = phrases.sub("\n", sample)
    plain, phrased = t2s.convert(sample), tw2sp.convert(sample)
    if plain == phrased:
        return False
    # Clause by clause: a clause the phrase mapping changes is one place (cheaper than a diff).
    clauses = zip(_CLAUSE_MARK.split(plain), _CLAUSE_MARK.split(phrased), strict=False)
    return sum(a != b for a, b in clauses) >= TAIWAN_MARKS


@functools.cache
def _ambiguous_words(path: Path | None = None) -> re.Pattern[str] | None:
    path = path or config.schema_dir() / "normalize" / "opencc_keep.yaml"
    words = load_yaml(path).get("ambiguous") or []
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))) if words else None


def to_simplified(text: str) -> str:
    """Traditional to simplified. A text converted with Taiwan phrasing gets mainland phrasing back
    (tw2sp), except the phrases of schema/normalize/opencc_keep.yaml, which keep their mainland
    sense; a text converted character by character is converted back character by character."""
    t2s, tw2sp = _converters()
    if not taiwan_phrased(text):
        return t2s.convert(text)
    keep = _keep_phrases()
    if keep is None:
        return tw2sp.convert(text)
    pieces, last = [], 0
    for match in keep.finditer(text):
        pieces.append(tw2sp.convert(text[last:match.start()]))
        pieces.append(t2s.convert(match.group(0)))
        last = match.end()
    pieces.append(tw2sp.convert(text[last:]))
    return "".join(pieces)


def half_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space to half-width, except Chinese punctuation;
    corner-bracket quotes to mainland quotes; control characters to a space or a line break.
    One character for one, so offsets hold."""
    table, present = _half_width_table()
    # str.translate looks every character up; most texts have nothing to change.
    return text.translate(table) if present.search(text) else text


@functools.cache
def _half_width_table() -> tuple[dict[int, str | None], re.Pattern[str]]:
    table: dict[int, str | None] = {
        code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F) if chr(code) not in KEEP_FULL_WIDTH
    }
    table[0x3000] = " "
    # Taiwan and Hong Kong texts quote with corner brackets; the rules read mainland quotes.
    table.update({ord(corner): mainland for corner, mainland in load_marks().corner_quotes.items()})
    table.update(dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff")))
    # Control characters (C0 but tab and newline, DEL, C1) and the two non-characters: a form
    # feed before ”机制 became part of an entity name, and XML exports (QDPX, GEXF) refuse them.
    # One for one, as a line break where the character breaks lines and a space elsewhere.
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0xFFFE, 0xFFFF):
        if chr(code) not in "\t\n":
            table[code] = "\n" if chr(code) in LINE_BREAKS else " "
    table.update(dict.fromkeys(map(ord, "\u2028\u2029"), "\n"))
    return table, re.compile("[" + re.escape("".join(map(chr, table))) + "]")


def collapse_spaces(line: str) -> str:
    return re.sub(r"[ \t\xa0]+", " ", line).strip()


def join_cjk(line: str) -> str:
    """Drop spaces between Chinese characters: scraping and PDF artefacts, never meaningful."""
    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", line)


def strip_junk(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """Cut stuffed advertisements out of lines and drop junk lines; keep the title, date and
    source that meta lines carry."""
    _, patterns = junk_patterns()
    kept: list[str] = []
    meta: dict[str, str] = {}
    for line in filter(None, map(strip_spam, lines)):
        pattern, match = next(((p, m) for p in patterns if (m := p.regex.match(line))), (None, None))
        if pattern is None:
            kept.append(line)
            continue
        if pattern.kind != "drop":
            for key, value in match.groupdict().items():
                if value and value.strip() and value.strip() != load_marks().no_title:
                    meta.setdefault(key, value.strip())
        if pattern.kind == "lead" and line[match.end():].strip():
            kept.append(line[match.end():].strip())  # a note that opens a line: the line goes on
    return kept, meta


def _looks_like_title(line: str) -> bool:
    patterns = load_marks().patterns
    numbered = patterns["title_numbered"].match(line)
    return (4 <= len(line) <= 60 and not patterns["title_end"].search(line) and not numbered
            and not patterns["title_chrome"].search(line))


def choose_title(lines: list[str], meta: dict[str, str]) -> str:
    """The first heading-like line, else the breadcrumb's last item, else the page title."""
    for line in lines[:5]:
        if _looks_like_title(line):
            return line
    title = meta.get("title", "")
    return "" if load_marks().patterns["title_chrome"].search(title) else title


def load_tables() -> None:
    """Read the rule files and build the converters now rather than at the first document, so that
    extraction's workers share them instead of each reading them again (50 ms a worker)."""
    junk_patterns()
    spam_rule()
    pinyin_rule()
    _converters()
    _keep_phrases()
    _ambiguous_words()
    _half_width_table()


def normalize(raw: RawDocument) -> NormalizedDocument:
    """Clean a RawDocument into simplified, half-width text without page junk, plus metadata."""
    text = strip_pinyin(raw.text)
    traditional = is_traditional(text)
    text = to_simplified(text) if traditional else text
    text = half_width(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [collapse_spaces(line) for line in text.split("\n")]
    lines, meta = strip_junk([line for line in lines if line])
    lines = [join_cjk(line) for line in lines]
    for key in ("title", "date", "sitename"):
        if raw.meta.get(key):
            value = half_width(to_simplified(raw.meta[key])).replace("\n", " ")
            meta.setdefault("source" if key == "sitename" else key, collapse_spaces(value))
    title = choose_title(lines, meta)
    # A scraped page repeats its title (page heading and article heading): keep the first.
    lines = [line for i, line in enumerate(lines) if line != title or lines.index(line) == i]
    # The document's own date from the page as scraped (its publishing line is junk to the body).
    date = dates.document_date(text, title, meta.get("date"))
    return NormalizedDocument(
        name=raw.name,
        doc_id=raw.doc_id,
        text="\n".join(lines),
        title=title,
        date=date,
        source=meta.get("source"),
        lang_variant="traditional" if traditional else "simplified",
    )
