"""Dates: a document's own date, and the year a text says a region adopted a mechanism.

Takes normalized text (the normalize stage calls ``document_date``; assembly calls
``adoption_years`` for the ADOPTS relations) and returns ISO date strings and years. The
patterns are data in schema/patterns/dates.yaml. Nothing is guessed: a redacted date
(202X年) gives no date, a page whose text carries no date of its own gives None, and an
adoption year is only one the sentence states, never the document's year.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from etl import config
from etl.datafiles import compile_pattern, line_of, read_yaml
from etl.errors import DataFileError
from etl.graph.model import L
from etl.input.marks import load_marks


@dataclass(frozen=True)
class AdoptionRule:
    id: str
    where: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class DatePatterns:
    version: str
    date: re.Pattern[str]
    month: re.Pattern[str]
    chinese_year: re.Pattern[str]
    publish_cue: re.Pattern[str]
    title_year: re.Pattern[str]
    lines_after_title: int
    lines_before_title: int
    lines_for_signing_date: int
    national_subject: re.Pattern[str]
    adoption_rules: tuple[AdoptionRule, ...]
    data: dict


@functools.cache
def load_patterns(path: Path | None = None) -> DatePatterns:
    """The date and adoption-year patterns of schema/patterns/dates.yaml, checked as they load."""
    path = path or config.schema_dir() / "patterns" / "dates.yaml"
    data, text = read_yaml(path)
    for key in ("date", "month", "chinese_year", "publish_cue", "title_year", "adoption_verbs", "adoption_rules"):
        if key not in data:
            raise DataFileError(f"{path}:1: missing '{key}'")
    verbs = "|".join(sorted(map(re.escape, data["adoption_verbs"]), key=len, reverse=True))
    rules = []
    for item in data["adoption_rules"]:
        where = f"{path}:{line_of(text, 'adoption_rules')}: rule {item.get('id', '?')}"
        if item.get("where") not in ("before", "after"):
            raise DataFileError(f"{where}: 'where' must be 'before' or 'after'")
        regex = compile_pattern(str(item.get("regex", "")).replace("{verbs}", verbs), where)
        if "year" not in regex.groupindex:
            raise DataFileError(f"{where}: the regex needs a group named 'year'")
        rules.append(AdoptionRule(item["id"], item["where"], regex))
    return DatePatterns(
        version=str(data.get("version", "")),
        date=compile_pattern(data["date"], f"{path}:{line_of(text, 'date')}"),
        month=compile_pattern(data["month"], f"{path}:{line_of(text, 'month')}"),
        chinese_year=compile_pattern(data["chinese_year"], f"{path}:{line_of(text, 'chinese_year')}"),
        publish_cue=compile_pattern(data["publish_cue"], f"{path}:{line_of(text, 'publish_cue')}"),
        title_year=compile_pattern(data["title_year"], f"{path}:{line_of(text, 'title_year')}"),
        lines_after_title=int(data.get("lines_after_title", 6)),
        lines_before_title=int(data.get("lines_before_title", 3)),
        lines_for_signing_date=int(data.get("lines_for_signing_date", 25)),
        national_subject=compile_pattern(data.get("national_subject", "(?!)"),
                                         f"{path}:{line_of(text, 'national_subject')}"),
        adoption_rules=tuple(rules),
        data=data,
    )


# --- document dates ----------------------------------------------------------------------


def _digits(line: str) -> str:
    """The line with a date in Chinese numerals (二〇二三年五月十二日) written in digits."""
    patterns = load_patterns()
    if not patterns.chinese_year.search(line):
        return line
    import cn2an

    readable = line
    for written, read in load_marks().zero.items():
        readable = readable.replace(written, read)
    try:
        return cn2an.transform(readable, "cn2an")
    except (ValueError, KeyError):  # cn2an refuses some mixtures; the line then has no date for us
        return line


def _iso(match: re.Match[str]) -> str | None:
    """YYYY-MM-DD (or YYYY-MM for a month) from a match, None for an impossible month or day."""
    year, month = int(match["y"]), int(match["m"])
    day = int(match["d"]) if "d" in match.groupdict() and match["d"] else None
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return f"{year}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def first_date(text: str) -> str | None:
    """The first full date in a text (any of the written forms), as YYYY-MM-DD."""
    patterns = load_patterns()
    for match in patterns.date.finditer(_digits(text)):
        iso = _iso(match)
        if iso:
            return iso
    return None


def _title_line(lines: list[str], title: str) -> int | None:
    if not title:
        return None
    return next((i for i, line in enumerate(lines) if title in line or (len(line) >= 4 and line in title)), None)


def _labelled(text: str, search: bool = False) -> bool:
    """Whether a publishing label (来源:, 发布时间:) opens the text, or is in it with ``search``."""
    label = re.compile(rf"(?:{load_patterns().publish_cue.pattern}){load_marks().patterns['label_colon'].pattern}")
    return bool(label.search(text) if search else label.match(text))


def _line_date(line: str, title_line: bool, near: bool, early: bool) -> str | None:
    """The document date a line carries, by what kind of line it is, else None.

    A publishing line (来源/发布时间 … date) near the title, a line opening with a date and
    time near the title, a line that is a date and nothing else (a notice's signing date) in
    the first lines, or a full date inside the title line itself.
    """
    patterns = load_patterns()
    text = _digits(line)
    match = patterns.date.search(text)
    if match and _iso(match):
        before = text[:match.start()]
        rest = text[match.end():].strip()
        if near and _labelled(before, search=True):
            return _iso(match)
        if near and not before.strip() and (not rest or re.match(r"\d{1,2}:\d{2}", rest) or _labelled(rest)):
            return _iso(match)
        if early and not before.strip() and not rest:
            return _iso(match)
        if title_line:
            return _iso(match)
        return None
    month = patterns.month.search(text)
    if near and month and _labelled(text[:month.start()], search=True) and _iso(month):
        return _iso(month)
    return None


def document_date(text: str, title: str = "", meta_date: str | None = None) -> str | None:
    """The document's own date as YYYY-MM-DD (YYYY-MM when a publishing line gives only the month).

    ``text`` is the page before its junk lines are dropped (the publishing line is junk to the
    body but carries the date); ``title`` the chosen title; ``meta_date`` a date the reader or a
    junk pattern already took from the page. Page chrome lists other articles with their dates:
    only lines near the title count, and the nearest one after it wins.
    """
    if meta_date:
        found = first_date(meta_date)
        if found:
            return found
    patterns = load_patterns()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    anchor = _title_line(lines, title)
    top = anchor if anchor is not None else 0
    lo, hi = max(0, top - patterns.lines_before_title), top + patterns.lines_after_title
    found: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if i >= max(hi, patterns.lines_for_signing_date):
            break
        date = _line_date(line, title_line=(i == anchor), near=lo <= i <= hi,
                          early=i < patterns.lines_for_signing_date)
        if date:
            # Lines after the title first, nearest first; then those before it.
            found.append((i - top if i >= top else patterns.lines_for_signing_date + top - i, date))
    return min(found)[1] if found else None


# --- adoption years ----------------------------------------------------------------------


def document_year(date: str | None, title: str) -> int | None:
    """The year a document speaks from: its date's, else a year its title names (2023年工作总结)."""
    match = re.match(r"(20\d\d)", date or "") or load_patterns().title_year.search(title)
    return int(match.group(1)) if match else None


def adoption_year(sentence_text: str, mention_start: int, mention_end: int,
                  document_year: int | None) -> int | None:
    """The year the sentence says the mentioned mechanism was adopted, or None.

    ``mention_start``/``mention_end`` are offsets of the mechanism in ``sentence_text``. A year
    later than ``document_year`` is not an adoption (it is a plan); no rule, no year: the
    document's own year is never returned for want of one.
    """
    patterns = load_patterns()
    before, after = sentence_text[:mention_start], sentence_text[mention_end:]
    for rule in patterns.adoption_rules:
        match = rule.regex.search(before) if rule.where == "before" else rule.regex.match(after)
        if not match:
            continue
        between = before[match.start():] if rule.where == "before" else after[:match.end()]
        if patterns.national_subject.search(between):
            return None  # the nation's year (国家建立…), not the region's
        year = int(match["year"])
        if document_year is not None and year > document_year:
            return None
        return year
    return None


def adoption_years(mentions, sentences, document_year: int | None) -> dict[str, int]:
    """Per mechanism name, the earliest adoption year its mentions state.

    ``mentions`` and ``sentences`` are the record's (etl.graph.records.Mention and Sentence, offsets
    into the normalized text); only Mechanism mentions are read.
    """
    starts = {s.index: s for s in sentences}
    years: dict[str, int] = {}
    for m in mentions:
        sentence = starts.get(m.sentence)
        if m.type != L.Mechanism or sentence is None:
            continue
        # A mention may span the verb before the name (全面推行河长制): the rules read up to the name.
        start = m.start + max(m.text.rfind(m.name), 0)
        year = adoption_year(sentence.text, start - sentence.start, m.end - sentence.start, document_year)
        if year is not None and year < years.get(m.name, 10_000):
            years[m.name] = year
    return years
