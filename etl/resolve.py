"""Resolve stage: region names to gazetteer entries, the reporting region, nesting.

Takes sentences and the mentions found in them; returns regions with level and adcode,
the region whose work the document reports (我区/我县/本市 resolve to it), and the PART_OF
relations the text states or clearly implies.

The gazetteer is the administrative-division table shipped by the maintained ``cpca``
package (adcodes of provinces, cities and counties; a 12-digit adcode's first 2 and 4
digits name its province and city). Towns and villages are not in it: they are taken
from the text by their suffix and nested under the reporting county.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import re
from dataclasses import dataclass

# Words that end like a region but are not one.
NOT_REGIONS = {
    "城乡", "乡村", "农村", "新农村", "县乡村", "全县", "全区", "全市", "全省", "全镇", "全乡", "全村",
    "我县", "我区", "我市", "我省", "我镇", "该县", "该区", "该市", "本县", "本区", "本市", "各县", "各区",
    "各市", "各乡", "各村", "市县", "县区", "省市", "地市", "城区", "市区", "县市区", "社区", "景区",
    "园区", "示范区", "保护区", "流域区", "片区", "山区", "库区", "灌区", "行政村", "自然村", "乡镇",
    "城镇", "村镇", "集镇", "重点区", "辖区", "新区", "先行区", "区县", "县城", "都市", "省级示范县",
    "先锋区", "治理区", "防治区", "主战场区", "功能区", "生态县", "生态市", "示范县", "示范市", "项目区",
}
ANONYMIZED = re.compile(r"(?:[XxＸ×]{1,3}|某)(?P<suffix>省|市|县|区|镇|乡|村|街道)(?![\u4e00-\u9fff]{0,1}[长级委])")
# Classes of villages and towns (示范村, 重点村, 特色小镇) rather than their names.
GENERIC_PLACE_STEMS = ("示范", "重点", "清洁", "文明", "美丽", "贫困", "生态", "卫生", "特色", "森林", "园林",
                       "中心", "小", "优美", "和美", "宜居", "先进", "试点", "样板", "绿色", "整洁")
GENERIC_PLACE_ENDINGS = ("乡村", "农村", "城乡", "城镇", "乡镇", "山村", "渔村")
TOWN_SUFFIX = re.compile(r"(镇|乡(?![村市县区])|村)(?![长级委民干落庄容规振])")
# Characters that cannot begin a place name but often stand just before one.
NAME_BOUNDARY = set("全各每个我该本农新美和与及在到的、,，。；:：对向从于由为是将把被共县市区省乡镇村")
# Function words that cannot stand inside a three-character place name (关于…, 对于…).
FUNCTION_CHARACTERS = set("于的在和与及对向从由为是将把被")
FIRST_PERSON = re.compile(r"(我|该|本)(区|县|市|省|镇|乡)")
# Words by which a county's report refers to its city or province (市委, 全省 …).
IMPLIED_PARENT = {"市": re.compile(r"市委|市政府|全市"), "省": re.compile(r"省委|省政府|全省|省级")}


@dataclass(frozen=True)
class RegionInfo:
    name: str
    level: str
    adcode: str | None = None
    anonymized: bool = False


@dataclass(frozen=True)
class RegionMention:
    start: int
    end: int
    text: str
    region: RegionInfo


@functools.cache
def gazetteer() -> dict[str, list[RegionInfo]]:
    """Full region name → candidates (names like 城关镇 or 朝阳区 exist in several places)."""
    table: dict[str, list[RegionInfo]] = {}
    resource = importlib.resources.files("cpca") / "resources" / "adcodes.csv"
    with resource.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name, adcode = row["name"], row["adcode"][:6]
            level = _level_of(name, adcode)
            if level and len(name) >= 2:
                table.setdefault(name, []).append(RegionInfo(name, level, adcode))
    return table


@functools.cache
def region_names() -> dict[str, list[RegionInfo]]:
    """The names the text is searched for: the gazetteer's, and the possible new names of its
    counties (宁乡县 → 宁乡市 in 2017, 邵东县 → 邵东市 in 2019), since cpca's table predates them.

    A new name carries the county's old adcode: the area and its parents (长沙市, 湖南省) are
    the same, which is what nesting and comparison by province need. Only unambiguous stems of
    two characters or more, and only names the gazetteer does not hold already. The possible
    names stay out of gazetteer() itself, which the short-name and parent lookups read: a
    name that may not exist must not claim a bare stem (会同) or an adcode there.
    """
    table = gazetteer()
    names = dict(table)
    counties: dict[str, list[RegionInfo]] = {}
    for name, infos in table.items():
        if name.endswith("县") and len(name) >= 3:
            counties.setdefault(name[:-1], []).extend(infos)
    for stem, infos in counties.items():
        if len(infos) != 1:
            continue
        for suffix in ("市", "区"):
            renamed = stem + suffix
            if renamed not in names:
                names[renamed] = [RegionInfo(renamed, _level_of(renamed, infos[0].adcode), infos[0].adcode)]
    return names


def _level_of(name: str, adcode: str) -> str | None:
    if adcode.endswith("0000"):
        return "省"
    if adcode.endswith("00"):
        return "市"
    for suffix in ("区", "县", "市", "旗"):
        if name.endswith(suffix):
            return {"市": "县", "旗": "县"}.get(suffix, suffix)
    return "县"


@functools.cache
def _name_endings() -> tuple[re.Pattern[str], dict[str, tuple[int, ...]]]:
    """The characters region names end with (县, 区, 市, 旗 …) and the name lengths behind each.

    Every name ends in one of about ten characters, so looking back from those few
    positions finds every name; an Aho-Corasick automaton over the same names spent a
    tenth of the whole extraction walking a root that fans out to a thousand first characters.
    """
    lengths: dict[str, set[int]] = {}
    for name in region_names():
        lengths.setdefault(name[-1], set()).add(len(name))
    pattern = re.compile("[" + "".join(re.escape(ch) for ch in sorted(lengths)) + "]")
    return pattern, {ch: tuple(sorted(found, reverse=True)) for ch, found in lengths.items()}


def gazetteer_hits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every region name in ``text``, overlapping ones included,
    by end position and, at one end, longest first."""
    names = region_names()
    endings, lengths = _name_endings()
    hits = []
    for match in endings.finditer(text):
        end = match.end()
        for length in lengths[match.group()]:
            if length <= end and text[end - length:end] in names:
                hits.append((end - length, end, text[end - length:end]))
    return hits


def parent_adcodes(adcode: str) -> list[str]:
    """The city and province adcodes above a county or city."""
    parents = []
    if not adcode.endswith("00"):
        parents.append(adcode[:4] + "00")
    if not adcode.endswith("0000"):
        parents.append(adcode[:2] + "0000")
    return parents


def find_region_mentions(text: str) -> list[RegionMention]:
    """Named regions (gazetteer names, towns and villages by suffix) and anonymized ones."""
    found: list[RegionMention] = []
    taken: set[int] = set()

    def add(start: int, end: int, info: RegionInfo) -> None:
        if not taken.intersection(range(start, end)):
            found.append(RegionMention(start, end, text[start:end], info))
            taken.update(range(start, end))

    for match in ANONYMIZED.finditer(text):
        suffix = match["suffix"]
        name = match.group(0).replace("x", "X").replace("Ｘ", "X").replace("×", "X")
        add(match.start(), match.end(), RegionInfo(name, suffix, None, True))
    names = region_names()
    for start, end, name in sorted(gazetteer_hits(text), key=lambda h: (h[1] - h[0]), reverse=True):
        after = text[end:end + 1]
        before = text[start - 1:start] if start else ""
        if after in ("长", "级", "委") or name in NOT_REGIONS or (after == "场" and name.endswith("市")):
            continue  # 县长, 区级, 市委; 会同市场 is a market
        # Two-character names (成县, 和县) hide inside words (建成县城, 示范县): take them
        # only where no Chinese character runs into them from the left.
        if len(name) == 2 and before and "\u4e00" <= before <= "\u9fff" and before not in "省市":
            continue
        add(start, end, names[name][0])
    for match in TOWN_SUFFIX.finditer(text):
        start = _town_start(text, match.start())
        if start is None:
            continue
        name = text[start:match.end()]
        if name in NOT_REGIONS or name[:-1].endswith(GENERIC_PLACE_STEMS):
            continue
        if name.endswith(GENERIC_PLACE_ENDINGS) and not (
                _place_word(name[:-1]) and not _frequent(text[start - 1:start + 1])):
            continue  # 美丽山村 is a kind of village; 鹊山村 is named after 鹊山, a place
        if _common_word(name[:-1]):
            continue
        add(start, match.end(), RegionInfo(name, match.group(1), None, False))
    return sorted(found, key=lambda m: m.start)


# A town or village stem that jieba's dictionary counts this often as an ordinary word (指导 in
# 指导镇村工作) is that word, not a name; place names (ns) and rare words pass.
COMMON_WORD_FREQUENCY = 100


@functools.cache
def _jieba_words() -> tuple[dict[str, str], dict[str, str]]:
    """jieba's dictionary: word → frequency (as written) and word → part-of-speech tag (ns = place name).

    Read straight from the dictionary file jieba ships: jieba.initialize() and jieba.posseg
    build the same two tables, but with the segmenter's prefix dictionary and HMM tables
    around them, which cost most of a second at every start and are not needed here.
    """
    import jieba

    with jieba.dt.get_dict_file() as handle:
        fields = handle.read().decode("utf-8").split()
    words = fields[0::3]
    return dict(zip(words, fields[1::3], strict=True)), dict(zip(words, fields[2::3], strict=True))


def load_tables() -> None:
    """Read the gazetteer and jieba's word tables now rather than at the first document."""
    region_names()
    _name_endings()
    _jieba_words()


def word_tag(text: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (v for 提高, n for 装机容量), else None."""
    return _jieba_words()[1].get(text)


def first_word(text: str) -> str:
    """The first word of a text as jieba segments it (有 of 有无公害农产品基地, 有机 of 有机…)."""
    frequencies, _ = _jieba_words()
    if "\u4e00" <= text[:1] <= "\u9fff" and not any(text[:end] in frequencies for end in range(2, len(text) + 1)):
        # No dictionary word begins the text, so jieba cuts the first character off alone;
        # knowing that without jieba spares loading its segmenter (a third of a second).
        return text[0]
    import jieba

    jieba.setLogLevel(60)
    return next(iter(jieba.cut(text, HMM=False)), "")


def _place_word(stem: str) -> bool:
    """jieba's dictionary knows the stem as a place name (ns)."""
    return _jieba_words()[1].get(stem) == "ns"


def _frequent(word: str) -> bool:
    return int(_jieba_words()[0].get(word, 0)) >= COMMON_WORD_FREQUENCY


def _common_word(stem: str) -> bool:
    return _frequent(stem) and _jieba_words()[1].get(stem) != "ns"


def _town_start(text: str, suffix_at: int) -> int | None:
    """Where the proper name before 镇/乡/村 begins: three characters when a boundary stands
    before them, else two; None when no proper name is there (城乡, 新农村)."""
    for length in (3, 2):
        start = suffix_at - length
        if start < 0:
            continue
        stem = text[start:suffix_at]
        before = text[start - 1] if start > 0 else ","
        if not all("\u4e00" <= ch <= "\u9fff" for ch in stem) or stem[0] in NAME_BOUNDARY:
            continue
        if length == 3 and not (before in NAME_BOUNDARY or not "\u4e00" <= before <= "\u9fff"):
            continue
        if length == 3 and stem[1] in FUNCTION_CHARACTERS:
            continue  # 关于宁乡: a function word runs into the name
        if stem[-1] in "全各每个我该本的、,，和与及":
            return None
        return start
    return None


def resolve_regions(mentions: list[RegionMention]) -> list[RegionMention]:
    """Choose, for names that exist in several places, the candidate nested in another mentioned region."""
    names = gazetteer()
    codes = {m.region.adcode for m in mentions if m.region.adcode}
    resolved = []
    for mention in mentions:
        candidates = names.get(mention.region.name, [])
        if len(candidates) > 1:
            nested = [c for c in candidates if set(parent_adcodes(c.adcode or "")) & codes]
            if nested:
                mention = RegionMention(mention.start, mention.end, mention.text, nested[0])
        resolved.append(mention)
    return resolved


def short_name_region(text: str) -> RegionInfo | None:
    """A report speaking of 我县 and naming 会同 without its suffix reports on 会同县: the
    gazetteer name of that level whose stem the text uses most often, when unique."""
    first = FIRST_PERSON.search(text)
    if not first:
        return None
    counts: dict[str, int] = {}
    for _, stem in _stem_automaton(first.group(2)).iter(text):
        counts[stem] = counts.get(stem, 0) + 1
    if not counts:
        return None
    stem = max(counts, key=lambda s: (counts[s], s))
    return gazetteer()[stem + first.group(2)][0] if counts[stem] >= 2 else None


@functools.cache
def _stem_automaton(level: str):
    """Stems (会同 of 会同县) of the unambiguous gazetteer names of one level, for one-pass counting."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for name, infos in gazetteer().items():
        if name.endswith(level) and len(name) >= 3 and len(infos) == 1:
            automaton.add_word(name[:-1], name[:-1])
    automaton.make_automaton()
    return automaton


def reporting_region(title: str, opening: str, mentions: list[RegionMention],
                     text: str = "") -> RegionInfo | None:
    """The region whose work the document reports: named in the title, else the first region
    the opening names as the actor (XX区聚焦…), else a short name with 我县/我区, else the
    most mentioned region."""
    for part in (title, opening):
        for mention in find_region_mentions(part):
            if mention.region.level in ("省", "市", "县", "区"):
                return _usual_placeholder(mention.region, mentions)
    short = short_name_region(text) if text else None
    if short:
        return short
    counted: dict[RegionInfo, int] = {}
    for mention in mentions:
        counted[mention.region] = counted.get(mention.region, 0) + 1
    return max(counted, key=counted.get) if counted else None


def _usual_placeholder(region: RegionInfo, mentions: list[RegionMention]) -> RegionInfo:
    """A redacted report names itself one way in the body (XX区) even when the site's title
    says 某区: the placeholder of that level the text uses most is the region's name."""
    if not region.anonymized:
        return region
    counts: dict[RegionInfo, int] = {}
    for mention in mentions:
        if mention.region.anonymized and mention.region.level == region.level:
            counts[mention.region] = counts.get(mention.region, 0) + 1
    return max(counts, key=lambda r: (counts[r], r == region)) if counts else region


@functools.cache
def _by_adcode() -> dict[str, RegionInfo]:
    return {info.adcode: info for infos in gazetteer().values() for info in infos if info.adcode}


def implied_parents(reporting: RegionInfo | None, text: str) -> list[RegionInfo]:
    """The city and province of a named reporting region, when the text refers to them
    (市委, 全市; 省级, 全省) without naming them."""
    if not reporting or not reporting.adcode:
        return []
    parents = []
    for code in parent_adcodes(reporting.adcode):
        parent = _by_adcode().get(code)
        if parent and reporting.name.endswith(parent.level):
            continue  # a county-level city's 全市 and 市委 are its own (宁乡市), not 长沙市's
        if parent and IMPLIED_PARENT[parent.level].search(text):
            parents.append(parent)
    return parents


def part_of(regions: list[RegionInfo], reporting: RegionInfo | None) -> list[tuple[str, str]]:
    """PART_OF pairs the text implies: towns and villages in the reporting county, and
    gazetteer nesting between regions that are both mentioned."""
    pairs: list[tuple[str, str]] = []
    by_code = {r.adcode: r for r in regions if r.adcode}
    for region in regions:
        if region.adcode:
            for code in parent_adcodes(region.adcode):
                parent = by_code.get(code)
                if parent and parent.name != region.name:
                    pairs.append((region.name, parent.name))
                    break
        elif reporting and region.level in ("镇", "乡", "村", "街道") and region != reporting:
            if reporting.level in ("县", "区", "市"):
                pairs.append((region.name, reporting.name))
    return list(dict.fromkeys(pairs))
