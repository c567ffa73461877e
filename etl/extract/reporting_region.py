"""The reporting region of a document and the nesting its text states.

Takes a document's title, opening and region mentions (etl.extract.regions); returns the region
whose work the document reports (``reporting_region``), the parents the text implies (市委,
全省: ``implied_parents``) and the PART_OF pairs (``part_of``).
"""

from __future__ import annotations

import re

from etl.extract.places import (
    DIVISION_LEVELS,
    TOWN_LEVELS,
    VILLAGE_LEVELS,
    RegionInfo,
    RegionMention,
    contains,
    load_gazetteer,
    load_region_rules,
    parent_adcodes,
)
from etl.extract.regions import find_region_mentions, short_name_region

# --- the reporting region -----------------------------------------------------------------

def reporting_region(title: str, opening: str, mentions: list[RegionMention],
                     text: str = "", source: str = "") -> RegionInfo | None:
    """The region whose work the document reports (``_named_region``), unless the text speaks of
    itself as a region of another level (``_first_person_region``: 我镇 in a report whose opening
    cites 《山东省…》). ``source`` is the page's 来源 line, which the text does not hold."""
    chosen = _named_region(title, opening, mentions, text)
    return _first_person_region(chosen, title, opening, mentions, text, source) if text else chosen


def _first_person_region(chosen: RegionInfo | None, title: str, opening: str,
                         mentions: list[RegionMention], text: str, source: str = "") -> RegionInfo | None:
    """A report that calls itself 我镇 (我市, 本县 …; else 该县 …) most often is a region of that
    level: when its title names no division and the region chosen by name has another level,
    the first of that level the title or the opening names, else the one of that level the
    text mentions most, else the one of the body its 来源 line names (来源:泉州市水利局), takes its
    place."""
    rules = load_region_rules()
    counts: dict[str, int] = {}
    for match in rules.self_reference.finditer(text):
        counts[match[0]] = counts.get(match[0], 0) + 1
    if not counts or any(m.region.level in DIVISION_LEVELS for m in find_region_mentions(title)):
        return chosen  # a division the title names is the reporter (衡阳市河长办对衡东县…督查)
    own = max(counts, key=lambda w: (not w.startswith(rules.anaphor), counts[w], w))
    levels = rules.first_person_levels[own]
    if chosen is not None and chosen.level in levels:
        return chosen
    counted, first = _tally(mentions)
    candidate = next((named[0] for part in (title, opening)
                      if (named := [m.region for m in find_region_mentions(part) if m.region.level in levels])),
                     None)
    if candidate is not None:
        candidate = _usual_placeholder(candidate, mentions)
    else:
        of_level = [r for r in counted if r.level in levels]
        candidate = max(of_level, key=lambda r: (counted[r], -first[r])) if of_level else None
    if candidate is None:
        candidate = next((m.region for m in find_region_mentions(source) if m.region.level in levels), None)
    if candidate is None and rules.province_level in levels:
        candidate = short_name_region(text, least=1)  # 我省 … 现代化江西: few provinces, one mention will do
        candidate = candidate if candidate is not None and candidate.level in levels else None
    if candidate is None:
        return chosen
    told = _told_counts(mentions, text)
    if chosen is not None and own.startswith(rules.anaphor) and told.get(candidate, counted.get(candidate, 0)) < \
            told.get(chosen, counted.get(chosen, 0)):
        return chosen  # 该镇 after a county's town is named (仁寿县宝飞镇…该镇还…) points at the town only
    return candidate


def _tally(mentions: list[RegionMention]) -> tuple[dict[RegionInfo, int], dict[RegionInfo, int]]:
    """How often each region is mentioned, and where it is first, in text order."""
    counted: dict[RegionInfo, int] = {}
    first: dict[RegionInfo, int] = {}
    for mention in mentions:
        counted[mention.region] = counted.get(mention.region, 0) + 1
        first.setdefault(mention.region, mention.start)
    return counted, first


def _named_region(title: str, opening: str, mentions: list[RegionMention],
                  text: str = "") -> RegionInfo | None:
    """The region whose work the document reports: named in the title (in full, else by the
    short name of a region the text names in full: 湘乡 of 湘乡市), else in the document name
    field of a disclosure page (名称: 芜湖市…方案), else the first region the
    opening names as the actor (XX区聚焦…; not one of a list or of quoted speech), the innermost
    where the text nests names (山东省泰安市 → 泰安市); else a town the title names; else a short
    name with 我县/我区; else the province, city or county told of most (its short name counting:
    平凉 of 平凉市), else the place mentioned most."""
    title = _host_of_visit(title)
    chosen = _first_named(title, in_opening=False) or _short_named(title, mentions)
    if chosen is None and (field := load_region_rules().name_field.search(text)):
        chosen = _first_named(field["value"], in_opening=False)
    if chosen is None:
        chosen = _first_named(opening, in_opening=True) or _short_named(opening, mentions)
        if chosen is not None:
            chosen = _told_of_more(chosen, mentions, text)
    if chosen:
        return _usual_placeholder(chosen, mentions)
    towns = [m for m in find_region_mentions(title) if m.region.level in TOWN_LEVELS]
    if towns:
        return towns[0].region  # 石门乡2023年工作总结: a township's own report
    short = short_name_region(text) if text else None
    if short:
        return short
    counted, first = _tally(mentions)
    counted = _told_counts(mentions, text) or counted
    ranks = load_region_rules().level_ranks
    # Equally often: the higher level (it holds the others), then the first named.
    return max(counted, key=lambda r: (counted[r], -ranks.get(r.level, 9), -first[r])) if counted else None


def _host_of_visit(title: str) -> str:
    """A title telling of visitors who came to a place (恩施州…来蕲春考察学习) is the host's news: the part
    naming the host, after 来, stands for the title (regions.yaml's visit_host)."""
    visit = load_region_rules().visit_host.search(title)
    return title[visit.end():] if visit else title


def _first_named(part: str, in_opening: bool) -> RegionInfo | None:
    """The first division a title or an opening names as the one whose work it tells, the
    innermost of names written nested (山东省泰安市, (丽水市)庆元县); in an opening, not one
    named inside a list or quoted speech."""
    rules = load_region_rules()
    named = [m for m in find_region_mentions(part)
             if m.region.level in DIVISION_LEVELS and not _names_a_medium(part, m)]
    if in_opening:
        quoted = _quoted_spans(part, rules.speech_quotes)
        named = [m for m in named if not _listed(part, m, rules)
                 and not any(start <= m.start < end for start, end in quoted)]
    if not named:
        return None
    chosen = named[0]
    for following in named[1:]:
        gap = part[chosen.end:following.start]
        if (gap and gap != rules.nesting_gap) or part[following.end:following.end + 1] in \
                rules.enumeration_separators or not (
                contains(chosen.region, following.region) or following.region.nested_in == chosen.region.name):
            break
        chosen = following
    return chosen.region


def _told_of_more(chosen: RegionInfo, mentions: list[RegionMention], text: str = "") -> RegionInfo:
    """A story may open on a place it names in passing (a villager's address, a city in a list of
    participants, the province a lake lies in) and tell of a division it names again and again: a
    region the opening names yields to the division the text names most, when that one is named
    region_rules' told_of_more times as often as it, and at least that often. A division counts
    where the text writes its short name too (长汀 of 长汀县)."""
    counted = _told_counts(mentions, text)
    if not counted:
        return chosen
    top = max(counted, key=lambda r: counted[r])  # the first named of equals (dicts keep order)
    times = load_region_rules().told_of_more
    return top if counted[top] >= times * max(counted.get(chosen, 0), 1) else chosen


def _told_counts(mentions: list[RegionMention], text: str) -> dict[RegionInfo, int]:
    """How often the text tells of each division it names: its mentions, or the times it writes
    its short name (长汀 of 长汀县, 沿河 of 沿河自治县), whichever is more; not a short name that is a
    lake's (梁子湖 of 梁子湖区, 巢湖 of 巢湖市), which the prose writes for the lake."""
    counted: dict[RegionInfo, int] = {}
    for mention in mentions:
        if mention.region.level in DIVISION_LEVELS:
            counted[mention.region] = counted.get(mention.region, 0) + 1
    lakes = load_region_rules().lake_stem_ends
    for region in counted:
        stem = short_name(region)
        if not region.anonymized and len(stem) >= 2 and stem[-1] not in lakes:
            counted[region] = max(counted[region], text.count(stem))
    return counted


def short_name(region: RegionInfo) -> str:
    """The name prose writes for a division without its level word (长汀 of 长汀县, 沿河 of
    沿河土家族自治县 or 沿河自治县): the gazetteer's short name, else the name without its last character."""
    division = load_gazetteer().by_code.get(region.adcode or "")
    return division.short if division is not None else region.name[:-1]


def _listed(part: str, mention: RegionMention, rules) -> bool:
    """The mention stands in a list of places (济南、淄博、泰安): a separator right before or after it."""
    return part[mention.end:mention.end + 1] in rules.enumeration_separators or (
        mention.start > 0 and part[mention.start - 1] in rules.enumeration_separators)


def _quoted_spans(part: str, quotes: dict[str, str]) -> list[tuple[int, int]]:
    """The spans between an opening quotation mark and its closing one (to the end if unclosed)."""
    spans = []
    at = 0
    while at < len(part):
        if part[at] in quotes:
            close = part.find(quotes[part[at]], at + 1)
            end = close if close >= 0 else len(part)
            spans.append((at, end))
            at = end + 1
        else:
            at += 1
    return spans


def _short_named(part: str, mentions: list[RegionMention]) -> RegionInfo | None:
    """A title or an opening may name the reporting county or city by its short name (湘乡:“林长制”
    实现“林长治”; 常德和张家界签订…协议): a division the text names in full whose name without its level
    word stands in that part; the first there, the lower level of two at one place."""
    ranks = load_region_rules().level_ranks
    found: dict[RegionInfo, int] = {}
    for mention in mentions:
        region = mention.region
        stem = region.name[:-1]
        if region.level in DIVISION_LEVELS and not region.anonymized and len(stem) >= 2 and stem in part:
            found.setdefault(region, part.index(stem))
    return min(found, key=lambda r: (found[r], -ranks.get(r.level, 9), r.name)) if found else None


def _names_a_medium(text: str, mention: RegionMention) -> bool:
    """The place begins a medium's name (香港商报, 西藏网): it says who published the report."""
    return load_region_rules().media_after.match(text, mention.end) is not None


def _usual_placeholder(region: RegionInfo, mentions: list[RegionMention]) -> RegionInfo:
    """A redacted report names itself one way in the body (XX区) even when the site's title
    says 某区: the placeholder of that level the text uses most is the region's name."""
    if not region.anonymized:
        return region
    counts: dict[RegionInfo, int] = {}
    for mention in mentions:
        if mention.region.anonymized and mention.region.level == region.level:
            counts[mention.region] = counts.get(mention.region, 0) + 1
    return max(counts, key=lambda r: (counts[r], r == region, r.name)) if counts else region


def implied_parents(reporting: RegionInfo | None, text: str) -> list[RegionInfo]:
    """Regions to add because the text refers to them without naming them: none. 市委 or 全省
    in a county's report do imply its city and province, but which ones only the gazetteer
    knows, and the ontology adds no region from a gazetteer (Settled conventions 1); the
    words still serve as evidence of a parent the text does name (IMPLIED_PARENT)."""
    return []


def part_of(regions: list[RegionInfo], reporting: RegionInfo | None) -> list[tuple[str, str]]:
    """PART_OF pairs the text states or implies: the region it is written under (梧州市长洲镇);
    else the nearest mentioned region the gazetteer puts it in (柱山乡 of 万州区, 杭州市 of
    浙江省); else, for a town or village the gazetteer lacks, the reporting county or city."""
    names = {r.name for r in regions}
    by_code = {r.adcode: r for r in regions if r.adcode}
    # A division the text writes otherwise than the table (沿河自治县 of 沿河土家族自治县; 芜湖县, now
    # 湾沚区) stands under the table's name in a town's line of ancestors.
    table = load_gazetteer()
    written = {table.by_code[code].name: r.name for code, r in by_code.items() if code in table.by_code}
    pairs: list[tuple[str, str]] = []
    for region in regions:
        parent = None
        if region.nested_in in names:
            parent = region.nested_in
        elif region.adcode:
            parent = next((by_code[c].name for c in parent_adcodes(region.adcode)
                           if c in by_code and by_code[c].name != region.name), None)
        elif region.within:
            parent = next((written.get(name, name) for name in region.within
                           if written.get(name, name) in names and written.get(name, name) != region.name), None)
        if parent is None and reporting and region.name != reporting.name and _below(region, reporting):
            parent = reporting.name
        if parent:
            pairs.append((region.name, parent))
    return list(dict.fromkeys(pairs))


def _below(region: RegionInfo, reporting: RegionInfo) -> bool:
    """A region with no named parent is in the reporting region: a town or village the gazetteer
    lacks, of a reporting county or city; any lower region of a redacted one (XX市's 潞城), whose
    real name cannot be checked."""
    ranks = load_region_rules().level_ranks
    if reporting.anonymized:
        return ranks.get(region.level, 0) > ranks.get(reporting.level, 9)
    return not region.adcode and not region.within and region.level in (*TOWN_LEVELS, *VILLAGE_LEVELS) \
        and reporting.level in load_region_rules().town_holders


def implied_parent_patterns() -> dict[str, re.Pattern[str]]:
    """Words by which a report refers to its city or province without naming them (市委, 全省)."""
    return load_region_rules().implied_parent
