"""Region resolution: administrative names in a document → China's current divisions.

Takes a document's normalized text; returns RegionMentions (name, level, adcode where the
division has one, the division's ancestors, and the region the text writes it under). The
tables it looks names up in are etl.extract.places' (jionlp's 2025 table of divisions:
province → city → county → town → village or community, adcodes for the top three levels,
and its list of renames); etl.extract.reporting_region chooses, from the mentions, the region
a document reports on and the nesting the text states.

- Provinces, cities and counties are found anywhere by their full names; old names from the
  rename list resolve to the current division's adcode (the text's name is kept).
- Towns, villages and communities are looked up only under the counties and cities the text
  names (and the county a 我县 report speaks of), so one of China's many 城关镇 is never
  taken for another; places the table lacks are still found by their suffix under the
  precision rules of schema/regions.yaml.
- A name written without its level word (盐城, 贡嘎, 万州) counts only where the prose marks it
  as a place: nested with a region the table puts above or below it (盐城滨海县, 山南市贡嘎),
  a list of siblings (潞城、屯留、平顺5个县), or a province or prefecture city opening a
  sentence (重庆积极探索…).
"""

from __future__ import annotations

import re
from dataclasses import replace

from etl.extract.places import (
    DIVISION_LEVELS,
    TOWN_LEVELS,
    VILLAGE_LEVELS,
    Division,
    RegionInfo,
    RegionMention,
    RegionRules,
    common_word,
    contains,
    first_characters,
    frequent,
    gazetteer,
    gazetteer_hits,
    is_han,
    jieba_words,
    level_stems,
    load_gazetteer,
    load_region_rules,
    parent_adcodes,
    place_info,
    place_word,
    region_names,
    short_hits,
    word_tag,
)

# --- finding regions in a text ------------------------------------------------------------

class _Found:
    """The mentions of one text, none overlapping another."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.mentions: list[RegionMention] = []
        self.taken: set[int] = set()

    def free(self, start: int, end: int) -> bool:
        return not self.taken.intersection(range(start, end))

    def add(self, start: int, end: int, info: RegionInfo) -> bool:
        if not self.free(start, end):
            return False
        self.mentions.append(RegionMention(start, end, self.text[start:end], info))
        self.taken.update(range(start, end))
        return True


def find_region_mentions(text: str) -> list[RegionMention]:
    """Regions a text names, in order: redacted ones (XX区), divisions by full name, towns and
    villages of the divisions it names, divisions by short name where the prose marks them as
    places, and towns and villages the gazetteer lacks by their suffix."""
    rules = load_region_rules()
    found = _Found(text)
    for match in rules.anonymized.finditer(text):
        name = re.sub(r"[xＸ×]", "X", match.group(0))
        found.add(match.start(), match.end(), RegionInfo(name, match["suffix"], None, True))
    held = _full_names(found, rules)
    short = short_name_region(text)
    scope = _Scope(found, short, held)
    _gazetteer_places(found, scope, rules)
    _take_held(found, held)
    _short_names(found, rules)
    scope = _Scope(found, short, held)
    _gazetteer_places(found, scope, rules)
    _bare_places(found, scope)
    _place_lists(found, scope, rules)
    _suffix_places(found, rules, scope)
    _take_held(found, held)
    _by_places(found)
    named = [m for m in found.mentions if not rules.organ_after.match(text, m.end)]
    named = _without_navigation(sorted(named, key=lambda m: m.start))
    return _nest_as_written(_one_name_per_division(named), rules)


def _without_navigation(mentions: list[RegionMention]) -> list[RegionMention]:
    """Divisions of one level written back to back, neither holding the other (保山市隆阳区施甸县
    腾冲市龙陵县: a site's list of links), are no places the prose names: prose separates them."""
    dropped: set[int] = set()
    for i, (previous, mention) in enumerate(zip(mentions, mentions[1:], strict=False)):
        outer, inner = previous.region, mention.region
        if previous.end == mention.start and outer.level == inner.level and outer.adcode and inner.adcode \
                and outer.name != inner.name and not contains(outer, inner) and not contains(inner, outer):
            dropped.update((i, i + 1))
    return [m for i, m in enumerate(mentions) if i not in dropped]


def _one_name_per_division(mentions: list[RegionMention]) -> list[RegionMention]:
    """A division the text writes two ways (海北藏族自治州 and 海北州, 长阳土家族自治县 and 长阳县) is
    one region of one name: where the text also writes the gazetteer's full name, every mention
    takes it."""
    table = load_gazetteer()
    written: dict[str, set[str]] = {}
    for mention in mentions:
        if mention.region.adcode and not mention.region.anonymized:
            written.setdefault(mention.region.adcode, set()).add(mention.region.name)
    full = {code: table.by_code[code].name for code, names in written.items()
            if len(names) > 1 and code in table.by_code and table.by_code[code].name in names}
    return [RegionMention(m.start, m.end, m.text, replace(m.region, name=full[m.region.adcode]))
            if m.region.adcode in full and m.region.name != full[m.region.adcode] else m for m in mentions]


def _full_names(found: _Found, rules: RegionRules) -> list[tuple[int, int, RegionInfo]]:
    """Divisions by full name; returns those held back because a character after them makes a
    word (县长, 区级, 市委), to be taken after all if another region's name starts there."""
    text, names = found.text, region_names()
    held = []
    for start, end, name in sorted(gazetteer_hits(text), key=lambda h: (h[1] - h[0], -h[0]), reverse=True):
        after = text[end:end + 1]
        before = text[start - 1:start] if start else ""
        if name in rules.not_regions or after in rules.word_after_level.get(name[-1], ""):
            continue  # 会同市场 is a market, 东城区域 an area
        # Two-character names (成县, 和县, 新县) hide inside words (建成县城, 示范县, 新县城): take
        # them only where no Chinese character but a function word runs into them from the left,
        # and not as the 县 of 县城.
        if len(name) == 2 and ((before and is_han(before) and before not in rules.short_division_after
                                and before not in rules.function_characters
                                and not _after_its_superior(text, start, names[name][0]))
                               or after == rules.short_division_not_before):
            continue
        if len(name) > 2 and _word_ends_in(text, start):
            continue  # 科学城北区: 城 ends the word before it, and 城北区 is no place here
        if after and after in rules.name_not_before:
            held.append((start, end, names[name][0]))
            continue
        found.add(start, end, names[name][0])
    return held


def _word_ends_in(text: str, start: int) -> bool:
    """A three-character noun written before ``start`` ends with the character at it (科学城 of
    科学城北区); not a place name. (Two-character words end in the first character of too many
    names: 年金 of 2023年金口河区, 中原 of 其中原州区.)"""
    if start < 2:
        return False
    tag = word_tag(text[start - 2:start + 1]) or ""
    return tag.startswith("n") and tag != "ns"


def _after_its_superior(text: str, start: int, info: RegionInfo) -> bool:
    """A province's or city's short name holding the division ends at ``start`` (安徽黟县, 甘肃成县):
    prose writes a two-character county after its superior with nothing between."""
    table = load_gazetteer()
    for length in (2, 3):
        short = text[max(start - length, 0):start]
        if len(short) == length and any(contains(table.info(d), info) for d in table.by_short.get(short, ())):
            return True
    return False


def _by_places(found: _Found) -> None:
    """A division whose name is found in several places (鼓楼区 of 南京, 福州, 徐州, 开封) is the one
    that holds the towns and villages the text names (鼓东街道 → 福州's)."""
    names = region_names()
    held = [m.region.within for m in found.mentions if not m.region.adcode and m.region.within]
    for i, mention in enumerate(found.mentions):
        candidates = names.get(mention.region.name, []) if mention.region.adcode else []
        if len(candidates) < 2:
            continue
        for candidate in candidates:
            parent = candidate.within[:1]
            if any(mention.region.name in within and within[within.index(mention.region.name) + 1:][:1] == parent
                   for within in held):
                found.mentions[i] = RegionMention(mention.start, mention.end, mention.text, candidate)
                break


def _take_held(found: _Found, held: list[tuple[int, int, RegionInfo]]) -> None:
    """Full names held back for the character after them (梧州市长…) where a region's name
    starts right there (梧州市长洲镇)."""
    starts = {m.start for m in found.mentions}
    for start, end, info in held:
        if end in starts:
            found.add(start, end, info)


class _Scope:
    """Towns and villages of the counties and cities the text names (and of the county a 我县
    report speaks of): the only ones it is searched for. The counties' tables are looked up
    in turn rather than merged: merging a city's few thousand names cost more than the search."""

    def __init__(self, found: _Found, short: RegionInfo | None, held: list[tuple[int, int, RegionInfo]]) -> None:
        table = load_gazetteer()
        regions = [m.region for m in found.mentions] + [info for _, _, info in held] + ([short] if short else [])
        self.named = {r.name for r in regions}
        codes: set[str] = set()
        names = region_names()
        for region in regions:
            # A name found in several places (鼓楼区) lends all of them: the towns it is
            # written with tell which one is meant (_by_places).
            candidates = names.get(region.name, [region]) if region.adcode else [region]
            for candidate in candidates:
                if candidate.adcode and candidate.adcode in table.by_code:
                    codes.update(table.counties_under(candidate.adcode))
        self.tables = [table.places(code) for code in sorted(codes)]
        indexes = [table.place_index(code) for code in sorted(codes)]
        self.stems = [stems for _, stems in indexes]
        self.lengths: dict[str, set[int]] = {}
        for endings, _ in indexes:
            for ch, found_lengths in endings.items():
                self.lengths.setdefault(ch, set()).update(found_lengths)

    def __bool__(self) -> bool:
        """Some named division holds towns in the table (可克达拉市 and development zones hold none)."""
        return any(self.tables)

    def __contains__(self, name: str) -> bool:
        return any(name in places for places in self.tables)

    def by_stem(self, stem: str) -> str | None:
        """The full name of a town or village written without its level word (杜家沟 → 杜家沟村)."""
        return next((stems[stem] for stems in self.stems if stem in stems), None)

    def pick(self, name: str, before: RegionInfo | None = None) -> RegionInfo:
        """The place of that name: the one under the region written right before it, else the
        one under a named region, else (城关镇 of two named counties) what they share."""
        candidates = [place_info(name, places[name]) for places in self.tables if name in places]
        if len(candidates) > 1 and before:
            candidates = [c for c in candidates if before.name in c.within] or candidates
        if len(candidates) > 1:
            candidates = [c for c in candidates if any(n in self.named for n in c.within[:2])] or candidates
        if len(candidates) == 1:
            return candidates[0]
        shared = tuple(n for n in candidates[0].within if all(n in c.within for c in candidates))
        return replace(candidates[0], within=shared)


def _gazetteer_places(found: _Found, scope: _Scope, rules: RegionRules) -> None:
    """Towns and villages of the scope written with their level word (林城镇, 小河塘村委会's 小河塘村)."""
    if not scope:
        return
    text = found.text
    lengths = scope.lengths
    ending = re.compile("[" + "".join(re.escape(ch) for ch in sorted(lengths)) + "]")
    candidates = []
    for match in ending.finditer(text):
        end = match.end()
        for length in sorted(lengths[match.group()], reverse=True):
            start = end - length
            name = text[start:end]
            if start < 0 or name not in scope or not found.free(start, end):
                continue
            if name in rules.not_regions or name[:-1].endswith(rules.generic_place_stems):
                break
            before = text[start - 1:start]
            if length == 2 and before and is_han(before) and not any(m.end == start for m in found.mentions):
                break  # 宋村 in 治理宋村, 中村 in 至中村: a one-character stem needs a clear left edge
            stops = next((s for suffix, s in rules.town_suffixes.items() if name.endswith(suffix)), "")
            if common_word(name[:-1]) and text[end:end + 1] in stops.replace(rules.common_stem_stop_exempt, ""):
                break  # 联合村民 is 联合 + 村民, though some county has a 联合村
            candidates.append((start, end, name))
            break
    # Longest first: 坪村镇 is the town, not its village 坪村 and a stray 镇; then in text order,
    # so that each knows the region written right before it (青云镇杜家沟村).
    taken: set[int] = set()
    chosen = []
    for start, end, name in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if not taken.intersection(range(start, end)):
            taken.update(range(start, end))
            chosen.append((start, end, name))
    for start, end, name in sorted(chosen):
        before = next((m.region for m in found.mentions if m.end == start), None)
        found.add(start, end, scope.pick(name, before))


def _short_names(found: _Found, rules: RegionRules) -> None:
    """Divisions written without their level word, where the prose marks them as places."""
    text, table = found.text, load_gazetteer()
    hits = [h for h in short_hits(text) if found.free(h[0], h[1])]
    if not hits:
        return
    by_start: dict[int, list[tuple[int, int, str]]] = {}
    for hit in hits:
        by_start.setdefault(hit[0], []).append(hit)
    accepted: dict[tuple[int, int], Division] = {}

    def nested(outer: Division, inner: Division) -> bool:
        return outer.adcode in parent_adcodes(inner.adcode) and outer.adcode != inner.adcode

    starting = {m.start: m.region for m in found.mentions}
    ending = {m.end: m.region for m in found.mentions}
    for start, end, short in sorted(hits, key=lambda h: (h[0], -h[1])):
        candidates = table.by_short[short]
        following = starting.get(end)
        preceding = ending.get(start)
        chosen = None
        for division in candidates:
            info = table.info(division)
            if (following and contains(info, following)) or _place_follows(division, text, end):
                chosen = division  # 盐城滨海县, 万州分水镇
            elif preceding and contains(preceding, info):
                chosen = division  # 山南市贡嘎
            elif any(nested(division, d) for h in by_start.get(end, []) for d in table.by_short[h[2]]):
                chosen = division  # 河北衡水: both short, one inside the other
            elif any(nested(d, division) for (s, e), d in accepted.items() if e == start):
                chosen = division
            if chosen:
                break
        if chosen:
            accepted[(start, end)] = chosen
    _sibling_lists(hits, accepted, text, rules)
    _sentence_openers(hits, accepted, text, rules)
    _provinces(hits, accepted, text, rules)
    for (start, end), division in sorted(accepted.items()):
        info = table.info(division)
        if text[start:end] in table.renamed_shorts:
            # The short name outlived a rename (潞城市 → 潞城区): which full name the text
            # means is not known, so the region keeps the name as written.
            info = replace(info, name=text[start:end])
        found.add(start, end, info)


def _place_follows(division: Division, text: str, at: int) -> bool:
    """A town or village the gazetteer lists under the division is written at ``at`` (万州分水镇)."""
    table = load_gazetteer()
    counties = table.counties_under(division.adcode)
    for length in range(3, 9):
        name = text[at:at + length]
        if len(name) == length and any(name in table.places(code) for code in counties):
            return True
    return False


def _sibling_lists(hits, accepted: dict, text: str, rules: RegionRules) -> None:
    """Short names listed together (潞城、屯留、平顺; 达川、通川和开江) that the gazetteer puts under
    one parent, or else under one province (古浪、民勤、玛曲、金塔: counties of three cities): three
    or more, or two and more followed by a count of places (两县, 等5个县(市), 等盟市); a count
    naming the level adds its full name to a short one's readings (若尔盖、阿坝、红原、松潘4县: 阿坝县,
    not the prefecture). A list continuing a name already taken (山南市贡嘎、扎囊) takes siblings of it."""
    table = load_gazetteer()
    for run in _short_runs(hits, text, rules):
        counted = rules.enumeration_count.match(text, run[-1][1])
        known = {accepted[start, end].parent for start, end, _ in run if (start, end) in accepted}
        if not known and len(run) < 3 and not counted:
            continue
        levels = [c for c in counted.group(0) if c in rules.level_characters] if counted else []
        readings = [table.by_short[short] + [d for c in levels for d in table.by_name.get(short + c, ())]
                    for _, _, short in run]
        chosen = _under_one(readings, lambda d: d.parent, known)
        if chosen is None and not known:
            chosen = _under_one(readings, lambda d: parent_adcodes(d.adcode)[-1] if d.parent else None, set())
        if chosen:
            accepted.update({(start, end): division for (start, end, _), division in zip(run, chosen, strict=True)})


def _short_runs(hits, text: str, rules: RegionRules) -> list[list[tuple[int, int, str]]]:
    """Runs of two or more short names written as a list: joined by an enumeration mark, the last
    also by a conjunction (甲、乙和丙)."""
    conjunctions = rules.list_conjunctions
    runs: list[list[tuple[int, int, str]]] = []
    for hit in sorted(hits):
        joined = runs and runs[-1][-1][1] + 1 == hit[0]
        between = text[runs[-1][-1][1]] if joined else ""
        if joined and (between in rules.enumeration_separators or (between in conjunctions and len(runs[-1]) > 1)):
            runs[-1].append(hit)
        elif not runs or hit[0] >= runs[-1][-1][1]:
            runs.append([hit])
    return [run for run in runs if len(run) > 1]


def _under_one(readings: list[list[Division]], holder, known: set) -> list[Division] | None:
    """One reading of each listed name, all held by one division (``holder`` of a reading: its
    parent, or its province), which must be among ``known`` when that is given; None when no
    holder or more than one fits, or a name reads two ways under it."""
    shared = set.intersection(*({holder(d) for d in options} - {None} for options in readings))
    if known:
        shared &= known
    if len(shared) != 1:
        return None
    code = shared.pop()
    chosen = [[d for d in options if holder(d) == code] for options in readings]
    return [options[0] for options in chosen] if all(len({d.adcode for d in options}) == 1 for options in chosen) \
        else None


def _sentence_openers(hits, accepted: dict, text: str, rules: RegionRules) -> None:
    """A province or prefecture city opening a sentence as its subject (重庆积极探索…) or after a
    word of place (在株洲召开, 赴湘潭考察, 位于郴州)."""
    table = load_gazetteer()
    for start, end, short in hits:
        opens = start == 0 or text[start - 1] in rules.sentence_starts
        if (start, end) in accepted or not (opens or rules.locative_before.search(text, max(0, start - 2), start)):
            continue
        divisions = [d for d in table.by_short[short] if d.level in rules.opener_levels]
        if len(divisions) != 1 or len(table.by_short[short]) != 1 or common_word(short):
            continue
        if _inside_word(text, start, end):
            continue  # the name runs into a longer word (大同小异)
        accepted[(start, end)] = divisions[0]


def _provinces(hits, accepted: dict, text: str, rules: RegionRules) -> None:
    """Provinces by short name (广西, 浙江): few, and seldom anything else, except where a river,
    lake or mountain runs into them (汾河北岸, 泰山东麓, 青海湖) and not where a river's name before
    them and a section word after them say whose stretch of the river it is (长江江西段)."""
    table = load_gazetteer()
    for start, end, short in hits:
        divisions = table.by_short[short]
        if (start, end) in accepted or len(divisions) != 1 or divisions[0].level != rules.province_level:
            continue
        before, after = text[start - 1:start] if start else "", text[end:end + 1]
        if before in rules.river_ends and short[-1] not in rules.river_ends and rules.river_section.match(text, end) \
                and not _inside_word(text, start, end):
            accepted[(start, end)] = divisions[0]  # 长江江西段, 黄河青海流域: the province's stretch of the river
            continue
        if after in rules.province_not_before or _inside_word(text, start, end) or rules.dateline.match(text, end):
            continue  # 黑龙江流域, 海南岛; 新华社北京3月5日电 is where a report was filed
        if short[0] in rules.landform_heads and before and is_han(before) and before not in rules.name_boundary:
            continue
        accepted[(start, end)] = divisions[0]


def _bare_places(found: _Found, scope: _Scope) -> None:
    """Towns and villages of the scope written without their level word right after the region
    the gazetteer puts them under, and before a boundary (青云镇杜家沟、… → 杜家沟村)."""
    if not scope:
        return
    text = found.text
    boundary = load_region_rules().name_boundary
    for mention in list(found.mentions):
        at = mention.end
        for length in (5, 4, 3, 2):
            stem = text[at:at + length]
            after = text[at + length:at + length + 1]
            if len(stem) < length or (after and is_han(after) and after not in boundary):
                continue  # 长汀县三洲湿地公园: the stem names a park, not the town
            name = scope.by_stem(stem)
            if name and found.free(at, at + length):
                info = scope.pick(name, mention.region)
                if mention.region.name in info.within[:1]:
                    found.add(at, at + length, info)
                    break


def _place_lists(found: _Found, scope: _Scope, rules: RegionRules) -> None:
    """Towns or villages of one parent listed without their level word (林城、团河等乡镇;
    林城镇、团河、坪村): taken when a count of places follows the list or one of them is written
    in full, all of one level under one parent in the gazetteer."""
    if not scope:
        return
    text = found.text
    tokens: dict[int, tuple[int, RegionInfo, bool]] = {m.start: (m.end, m.region, False) for m in found.mentions}
    for separator in rules.enumeration_pattern.finditer(text):
        at = separator.start()
        for length in (5, 4, 3, 2):  # the item before the separator
            name = scope.by_stem(text[at - length:at]) if at >= length else None
            if name and at - length not in tokens and found.free(at - length, at):
                tokens[at - length] = (at, scope.pick(name), True)
                break
        for length in (5, 4, 3, 2):  # the item after it
            stem, after = text[at + 1:at + 1 + length], at + 1 + length
            name = scope.by_stem(stem) if len(stem) == length else None
            ends_item = (text[after:after + 1] in rules.enumeration_separators
                         or rules.enumeration_count.match(text, after))
            if name and ends_item and at + 1 not in tokens and found.free(at + 1, after):
                tokens[at + 1] = (after, scope.pick(name), True)
                break
    run: list[tuple[int, int, RegionInfo, bool]] = []
    for start in sorted(tokens):
        end, info, bare = tokens[start]
        if run and not (run[-1][1] + 1 == start and text[run[-1][1]] in rules.enumeration_separators):
            _take_place_list(found, run, rules)
            run = []
        run.append((start, end, info, bare))
    _take_place_list(found, run, rules)


def _take_place_list(found: _Found, run: list[tuple[int, int, RegionInfo, bool]], rules: RegionRules) -> None:
    if len(run) < 2 or not any(bare for *_, bare in run):
        return
    kinds = {info.level in TOWN_LEVELS for _, _, info, _ in run}
    parents = {info.within[:1] for _, _, info, _ in run}
    if len(kinds) != 1 or len(parents) != 1 or parents == {()} or any(
            info.level not in (*TOWN_LEVELS, *VILLAGE_LEVELS) for _, _, info, _ in run):
        return
    if not (rules.enumeration_count.match(found.text, run[-1][1]) or not all(bare for *_, bare in run)):
        return
    for start, end, info, bare in run:
        if bare:
            found.add(start, end, info)


def _suffix_places(found: _Found, rules: RegionRules, scope: _Scope) -> None:
    """Towns and villages the gazetteer lacks, by their suffix under the precision rules."""
    text = found.text
    for match in rules.town_suffix.finditer(text):
        start = _town_start(text, match.start(), rules)
        if start is None:
            continue
        name = text[start:match.end()]
        if name in rules.not_regions or name[:-1].endswith(rules.generic_place_stems):
            continue
        if name.endswith(rules.generic_place_endings) and not (
                place_word(name[:-1]) and not frequent(text[start - 1:start + 1])):
            continue  # 美丽山村 is a kind of village; 鹊山村 is named after 鹊山, a place
        if common_word(name[:-1]) and not (
                name in load_gazetteer().town_names and (start == 0 or text[start - 1] in rules.sentence_starts)):
            continue  # 指导镇村: a word; 石门乡 opening a title is a township that exists
        found.add(start, match.end(), scope.pick(name) if name in scope else RegionInfo(name, match.group(0)))


def _town_start(text: str, suffix_at: int, rules: RegionRules) -> int | None:
    """Where the proper name before 镇/乡/村 begins: three characters when a boundary stands
    before them, else two; None when no proper name is there (城乡, 新农村, 干部包村)."""
    if text[suffix_at - 1:suffix_at] in rules.assignment_verbs and (
            common_word(text[suffix_at - 3:suffix_at - 1]) or common_word(text[suffix_at - 4:suffix_at - 1])):
        return None  # 乡镇干部包村, 工作队驻村: who is sent to villages, not a village
    for length in (3, 2):
        start = suffix_at - length
        if start < 0:
            continue
        stem = text[start:suffix_at]
        before = text[start - 1] if start > 0 else ","
        if not all(is_han(ch) for ch in stem) or stem[0] in rules.name_boundary:
            continue
        if length == 3 and not (before in rules.name_boundary or not is_han(before)):
            continue
        if length == 3 and stem[1] in rules.function_characters:
            continue  # 关于宁乡: a function word runs into the name
        if length == 3 and _clause_verb(stem[:2], rules):
            return None  # 共治理宋村: a common verb opens the clause, no name does (大成桥镇 does)
        if length == 2 and _clause_verb(text[start - 1:start + 1], rules):
            return None  # 组织治理宋村: the verb runs into the stem
        if stem[-1] in rules.stem_end_stops or stem[-1] in rules.function_characters:
            return None  # 我县, 各乡; 也为村里, 鱼米之乡: a function word before the suffix
        if length == 3 and stem[-1] in rules.level_characters and common_word(stem[:2]):
            return None  # 指导镇村工作: a word, then 镇村
        if stem[-1] in rules.level_characters and text[suffix_at + 1:suffix_at + 2] in rules.level_list_followers:
            return None  # 建立县镇村三级网络: a list of levels, not a town
        return start
    return None


def _clause_verb(word: str, rules: RegionRules) -> bool:
    """A verb as common as 治理 or 开展 (jieba's tag and frequency)."""
    return (word_tag(word) or "").startswith("v") and \
        int(jieba_words()[0].get(word, 0)) >= rules.clause_verb_frequency


def _nest_as_written(mentions: list[RegionMention], rules: RegionRules) -> list[RegionMention]:
    """A region written right before a lower one contains it (十堰市茅箭区, 榆阳区青云镇), unless the
    gazetteer places the lower one elsewhere; every mention of a name shares what was found, the
    innermost of its nestings where the text writes several (浙江磐安县, then 浙江金华市磐安县: 金华市)."""
    ranks = rules.level_ranks
    parent_of: dict[str, str] = {}
    parent_rank: dict[str, int] = {}
    for previous, mention in zip(mentions, mentions[1:], strict=False):
        outer, inner = previous.region, mention.region
        if previous.end != mention.start or parent_rank.get(inner.name, -1) >= ranks.get(outer.level, 9):
            continue
        if ranks.get(outer.level, 9) >= ranks.get(inner.level, 9) or outer.name == inner.name:
            continue
        if (inner.adcode or inner.within) and not outer.anonymized and not contains(outer, inner):
            continue
        parent_of[inner.name] = outer.name
        parent_rank[inner.name] = ranks.get(outer.level, 9)
    return [m if m.region.name not in parent_of else
            RegionMention(m.start, m.end, m.text, replace(m.region, nested_in=parent_of[m.region.name]))
            for m in mentions]


def resolve_regions(mentions: list[RegionMention]) -> list[RegionMention]:
    """Choose, for names that exist in several places, the candidate nested in another mentioned region."""
    names = region_names()
    codes = {m.region.adcode for m in mentions if m.region.adcode}
    resolved = []
    for mention in mentions:
        candidates = names.get(mention.region.name, []) if mention.region.adcode else []
        if len(candidates) > 1:
            nested = [c for c in candidates if set(parent_adcodes(c.adcode or "")) & codes]
            if nested:
                region = replace(nested[0], nested_in=mention.region.nested_in)
                mention = RegionMention(mention.start, mention.end, mention.text, region)
        resolved.append(mention)
    return resolved


def short_name_region(text: str, least: int = 2) -> RegionInfo | None:
    """A report speaking of 我县 and naming 会同 without its suffix reports on 会同县: the
    division of that level whose stem the text uses most often (``least`` times, twice unless
    asked otherwise), when unique.
    A 我镇/我乡 report has no such division (towns are found by name, under their county)."""
    match = load_region_rules().first_person.search(text)
    if not match or match["level"] not in DIVISION_LEVELS:
        return None
    stems = level_stems(match["level"])
    if not stems:
        return None  # no division of that level has a usable stem: nothing to count
    counts: dict[str, int] = {}
    for first in first_characters(match["level"]).finditer(text, 0, max(len(text) - 1, 0)):
        at = first.start()
        for length in stems.get(text[at:at + 2], ()):
            stem = text[at:at + length]
            if stem in stems[""] and not _inside_word(text, at, at + length):  # 共和 of 共和国 is no stem
                counts[stem] = counts.get(stem, 0) + 1
    if not counts:
        return None
    stem = max(counts, key=lambda s: (counts[s], s))
    return gazetteer()[stem + match["level"]][0] if counts[stem] >= least else None


def _inside_word(text: str, start: int, end: int) -> bool:
    """The name at text[start:end] is part of a longer dictionary word (共和 in 共和国, 大同 in
    大同小异); the name with its own level word (会同县, 石泉县) does not count."""
    frequencies = jieba_words()[0]
    for word in (text[start:end + 1], text[start:end + 2], text[max(start - 1, 0):end] if start else ""):
        if len(word) > end - start and word in frequencies and not (
                word.startswith(text[start:end]) and word[end - start:] in DIVISION_LEVELS):
            return True
    return False
