"""The region tables: China's divisions (jionlp's 2025 table), the word lists of
schema/regions.yaml and jieba's dictionary, read once and cached.

Takes the installed jionlp package's data files and schema/regions.yaml; returns the
gazetteer (``gazetteer``, ``region_names``: every division by name, with level, adcode and
ancestors), the rules for how prose writes places (``load_region_rules``), and what jieba's
dictionary says of a word (``word_tag``, ``first_word``). etl.extract.regions finds the
mentions in a text with these; etl.extract.reporting_region chooses the region a document
reports on.

jionlp itself is not imported: that costs seconds, and its recognizer takes development zones
and slogans (东城…开发区, 清河…) for districts.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from etl import config, datafiles
from etl.errors import ConfigError, DataFileError

# The first and last character of the CJK Unified Ideographs block, for telling a Han character.
_HAN_FIRST, _HAN_LAST = chr(0x4E00), chr(0x9FFF)


@dataclass(frozen=True)
class RegionInfo:
    """A region as the document names it. ``within`` lists the division's ancestors in the
    gazetteer (nearest first); ``nested_in`` is the region the text writes right before it
    (梧州市 of 梧州市长洲镇). Neither takes part in equality: one place is one region."""

    name: str
    level: str
    adcode: str | None = None
    anonymized: bool = False
    within: tuple[str, ...] = field(default=(), compare=False, repr=False)
    nested_in: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RegionMention:
    start: int
    end: int
    text: str
    region: RegionInfo


# --- the word lists (schema/regions.yaml) -------------------------------------------------

_RULE_TYPES: dict[str, type | tuple[type, ...]] = {
    "version": str, "not_regions": list, "generic_place_stems": list, "generic_place_endings": list,
    "town_suffixes": dict, "name_boundary": str, "function_characters": str, "stem_end_stops": str,
    "common_word_frequency": int, "placeholders": list, "placeholder_levels": list, "placeholder_not_before": str,
    "first_person": list, "implied_parent": dict, "name_not_before": str, "word_after_level": dict,
    "town_levels": dict, "village_levels": dict, "written_endings": dict, "level_ranks": dict,
    "enumeration_count": str, "sentence_starts": str, "level_characters": str,
    "level_list_followers": str, "assignment_verbs": str, "province_not_before": str, "landform_heads": str,
    "river_ends": str, "river_section": str, "river_section_examples": list, "river_section_counterexamples": list,
    "clause_verb_frequency": int, "dateline": str, "locative_markers": list, "first_person_levels": dict,
    "anaphor": str, "media_words": list, "table_levels": list, "autonomous": dict, "nesting_gap": str,
    "speech_quotes": dict, "told_of_more": int, "province_level": str, "opener_levels": list, "town_holders": list,
    "short_division_after": str, "short_division_not_before": str, "common_stem_stop_exempt": str, "organ_after": str,
    "organ_after_examples": list, "organ_after_counterexamples": list, "visit_host": str, "visit_host_examples": list,
    "visit_host_counterexamples": list, "name_field": str, "lake_stem_ends": str,
}
# The levels of the kinds of place, derived from schema/regions.yaml (its table_levels, town_levels
# and village_levels) at their first use: module attributes, for the modules that test levels.
_LEVEL_KINDS = {"DIVISION_LEVELS": "division_levels", "TOWN_LEVELS": "town_level_words",
                "VILLAGE_LEVELS": "village_level_words"}


def __getattr__(name: str) -> tuple[str, ...]:
    """DIVISION_LEVELS (省, 市, 县, 区), TOWN_LEVELS and VILLAGE_LEVELS, read from the word lists."""
    if name in _LEVEL_KINDS:
        return getattr(load_region_rules(), _LEVEL_KINDS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RegionRules:
    """schema/regions.yaml, checked and compiled."""

    version: str
    not_regions: frozenset[str]
    generic_place_stems: tuple[str, ...]
    generic_place_endings: tuple[str, ...]
    town_suffix: re.Pattern[str]
    town_suffixes: dict[str, str]
    name_boundary: frozenset[str]
    function_characters: frozenset[str]
    stem_end_stops: frozenset[str]
    common_word_frequency: int
    anonymized: re.Pattern[str]
    first_person: re.Pattern[str]
    first_person_levels: dict[str, tuple[str, ...]]
    self_reference: re.Pattern[str]
    anaphor: str
    media_after: re.Pattern[str]
    implied_parent: dict[str, re.Pattern[str]]
    name_not_before: frozenset[str]
    word_after_level: dict[str, str]
    town_levels: dict[str, str]
    village_levels: dict[str, str]
    written_endings: dict[str, dict[str, tuple[str, ...]]]
    level_ranks: dict[str, int]
    enumeration_separators: frozenset[str]  # grammar.yaml's list_mark
    list_conjunctions: frozenset[str]  # grammar.yaml's
    enumeration_pattern: re.Pattern[str]
    enumeration_count: re.Pattern[str]
    sentence_starts: frozenset[str]
    level_characters: frozenset[str]
    level_list_followers: frozenset[str]
    assignment_verbs: frozenset[str]
    province_not_before: frozenset[str]
    landform_heads: frozenset[str]
    river_ends: frozenset[str]
    river_section: re.Pattern[str]
    clause_verb_frequency: int
    dateline: re.Pattern[str]
    locative_before: re.Pattern[str]
    placeholder_run: re.Pattern[str]
    table_levels: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]
    division_levels: tuple[str, ...]
    town_level_words: tuple[str, ...]
    village_level_words: tuple[str, ...]
    autonomous_marker: str
    autonomous_level_words: frozenset[str]
    table_digest: str
    nesting_gap: str
    speech_quotes: dict[str, str]
    told_of_more: int
    province_level: str
    opener_levels: tuple[str, ...]
    town_holders: tuple[str, ...]
    short_division_after: str
    short_division_not_before: str
    common_stem_stop_exempt: str
    organ_after: re.Pattern[str]
    visit_host: re.Pattern[str]
    name_field: re.Pattern[str]
    lake_stem_ends: frozenset[str]


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.cache
def load_region_rules(path: Path | None = None) -> RegionRules:
    """Read and check schema/regions.yaml: every key present with its type, every list of
    strings, the count pattern a valid regex; errors give path:line."""
    path = path or config.schema_dir() / "regions.yaml"
    data, text = datafiles.read_yaml(path)
    _check_rules(path, text, data)
    return _compile_rules(data, _list_marks())


def _list_marks() -> dict:
    """How a list is written, declared once in schema/patterns/grammar.yaml for every stage."""
    path = config.schema_dir() / "patterns" / "grammar.yaml"
    data, _ = datafiles.read_yaml(path)
    for key in ("list_mark", "list_conjunctions"):
        if not data.get(key):
            raise DataFileError(f"{path}:1: the grammar needs '{key}' (how a list is written; regions read it too)")
    return {"list_mark": str(data["list_mark"]), "list_conjunctions": list(data["list_conjunctions"])}


def _check_rules(path: Path, text: str, data) -> None:
    """Every key of _RULE_TYPES present with its type and non-empty entries; the count
    pattern a valid regex. Lines are looked up only when something is wrong."""
    def where(key: str) -> str:
        return f"{path}:{datafiles.line_of(text, key)}"

    if not isinstance(data, dict):
        raise DataFileError(f"{path}:1: the region word lists must be a mapping of the keys {sorted(_RULE_TYPES)}")
    for key in data:
        if key not in _RULE_TYPES:
            raise DataFileError(f"{where(key)}: unknown key {key!r}")
    for key, kind in _RULE_TYPES.items():
        if key not in data:
            raise DataFileError(f"{path}:1: missing key {key!r}")
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise DataFileError(f"{where(key)}: {key} must be a {kind.__name__}")
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for _, item in items:
            if isinstance(item, list):
                bad = not item or not all(isinstance(i, str) and i for i in item)
            elif isinstance(item, dict):  # written_endings: a province's endings → forms
                bad = not item or not all(isinstance(k, str) and isinstance(v, list) and v
                                          and all(isinstance(i, str) and i for i in v) for k, v in item.items())
            else:
                bad = not isinstance(item, str | int) or item == ""
            if bad:
                raise DataFileError(f"{where(key)}: {key} holds an empty or non-text entry: {item!r}")
    for key in ("enumeration_count", "dateline", "organ_after", "river_section", "visit_host", "name_field"):
        try:
            re.compile(data[key])
        except re.error as exc:
            raise DataFileError(f"{where(key)}: {key} is no regex ({exc})") from None
    if len(data["table_levels"]) != 3 or not isinstance(data["table_levels"][0], str):
        raise DataFileError(f"{where('table_levels')}: table_levels must hold the table's three tiers, "
                            "the first a level, the others mappings of level → endings")
    if set(data["autonomous"]) != {"marker", "level_words"}:
        raise DataFileError(f"{where('autonomous')}: autonomous must hold marker and level_words")


def _not_word_after(data: dict, level: str) -> str:
    """What may not follow a level word that ends a reference (该区 of 该区域 is no region):
    the characters word_after_level lists for it, as a lookahead."""
    stops = data["word_after_level"].get(level, "")
    return f"(?![{re.escape(stops)}])" if stops else ""


def _self_levels(data: dict) -> str:
    """The level words of first-person references (我县, 本市), from first_person_levels."""
    levels = dict.fromkeys(word[-1] for word in data["first_person_levels"])
    return "|".join(re.escape(level) + _not_word_after(data, level) for level in levels)


def _compile_rules(data: dict, lists: dict) -> RegionRules:
    suffixes = data["town_suffixes"]
    town_suffix = "|".join(f"{re.escape(s)}(?![{re.escape(stops)}])" for s, stops in suffixes.items())
    anonymized = (f"(?:{_alternation(data['placeholders'])})(?P<suffix>{_alternation(data['placeholder_levels'])})"
                  rf"(?![{re.escape(data['placeholder_not_before'])}])")
    # A tier that is one level takes every name (ending ""), the others a level by ending.
    tiers = tuple(((tier, ("",)),) if isinstance(tier, str)
                  else tuple((level, tuple(ends)) for level, ends in tier.items()) for tier in data["table_levels"])
    return RegionRules(
        version=data["version"],
        not_regions=frozenset(data["not_regions"]),
        generic_place_stems=tuple(data["generic_place_stems"]),
        generic_place_endings=tuple(data["generic_place_endings"]),
        town_suffix=re.compile(f"(?:{town_suffix})"),
        town_suffixes=dict(suffixes),
        name_boundary=frozenset(data["name_boundary"]),
        function_characters=frozenset(data["function_characters"]),
        stem_end_stops=frozenset(data["stem_end_stops"]),
        common_word_frequency=data["common_word_frequency"],
        anonymized=re.compile(anonymized),
        first_person=re.compile(f"(?:{_alternation(data['first_person'])})(?P<level>{_self_levels(data)})"),
        first_person_levels={word: tuple(levels) for word, levels in data["first_person_levels"].items()},
        self_reference=re.compile("|".join(
            re.escape(word) + _not_word_after(data, word[-1]) for word in data["first_person_levels"])),
        anaphor=data["anaphor"],
        media_after=re.compile(_alternation(data["media_words"])),
        implied_parent={level: re.compile(_alternation(words)) for level, words in data["implied_parent"].items()},
        name_not_before=frozenset(data["name_not_before"]),
        word_after_level=dict(data["word_after_level"]),
        town_levels=dict(data["town_levels"]),
        village_levels=dict(data["village_levels"]),
        written_endings={province: {ending: tuple(forms) for ending, forms in endings.items()}
                         for province, endings in data["written_endings"].items()},
        level_ranks={str(k): int(v) for k, v in data["level_ranks"].items()},
        enumeration_separators=frozenset(lists["list_mark"]),
        list_conjunctions=frozenset(lists["list_conjunctions"]),
        enumeration_pattern=re.compile(f"[{re.escape(lists['list_mark'])}]"),
        enumeration_count=re.compile(data["enumeration_count"]),
        sentence_starts=frozenset(data["sentence_starts"]),
        level_characters=frozenset(data["level_characters"]),
        level_list_followers=frozenset(data["level_list_followers"]),
        assignment_verbs=frozenset(data["assignment_verbs"]),
        province_not_before=frozenset(data["province_not_before"]),
        landform_heads=frozenset(data["landform_heads"]),
        river_ends=frozenset(data["river_ends"]),
        river_section=re.compile(data["river_section"]),
        clause_verb_frequency=data["clause_verb_frequency"],
        dateline=re.compile(data["dateline"]),
        locative_before=re.compile(f"(?:{_alternation(data['locative_markers'])})$"),
        placeholder_run=re.compile(f"(?:{_alternation(data['placeholders'])})+"),
        table_levels=tiers,
        division_levels=tuple(dict.fromkeys(level for tier in tiers for level, _ in tier)),
        town_level_words=tuple(dict.fromkeys(data["town_levels"].values())),
        village_level_words=tuple(dict.fromkeys(data["village_levels"].values())),
        autonomous_marker=data["autonomous"]["marker"],
        autonomous_level_words=frozenset(data["autonomous"]["level_words"]),
        table_digest=hashlib.sha256(json.dumps([data["table_levels"], data["autonomous"]], ensure_ascii=False,
                                               sort_keys=True).encode()).hexdigest()[:12],
        nesting_gap=data["nesting_gap"],
        speech_quotes=dict(data["speech_quotes"]),
        told_of_more=data["told_of_more"],
        province_level=data["province_level"],
        opener_levels=tuple(data["opener_levels"]),
        town_holders=tuple(data["town_holders"]),
        short_division_after=data["short_division_after"],
        short_division_not_before=data["short_division_not_before"],
        common_stem_stop_exempt=data["common_stem_stop_exempt"],
        organ_after=re.compile(data["organ_after"]),
        visit_host=re.compile(data["visit_host"]),
        name_field=re.compile(data["name_field"]),
        lake_stem_ends=frozenset(data["lake_stem_ends"]),
    )


# --- the gazetteer (jionlp's data files) --------------------------------------------------

@dataclass(frozen=True)
class Division:
    """A province, city or county of the table ("" level: a table's own grouping such as
    市直辖行政区划, which holds towns but names no region)."""

    name: str
    short: str
    level: str
    adcode: str
    parent: str | None


# Lines of the top three levels: name, adcode, short name (Taiwan's counties carry no adcode).
_TOP_LINE = re.compile(r"^(\t{0,2})([^\t\n]+)(?:\t(\d{6}))?(?:\t([^\t\n]*))?$", re.M)


def _jionlp_dictionary() -> Path:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the region gazetteer needs the jionlp package: run .venv/bin/pip install 'jionlp>=1.5.31'")
    return Path(spec.submodule_search_locations[0]) / "dictionary"


def _division_level(name: str, depth: int) -> str:
    """The level of a name at a tier of the table (0: provinces), by its ending; "" for a grouping."""
    tier = load_region_rules().table_levels[depth]
    return next((level for level, endings in tier if name.endswith(endings)), "")


def _tier(level: str) -> int:
    """The tier of the table a division's level stands at (0: provinces); a grouping's is the last."""
    tiers = load_region_rules().table_levels
    return next((depth for depth, tier in enumerate(tiers) if any(level == own for own, _ in tier)), len(tiers) - 1)


class Gazetteer:
    """jionlp's divisions by name, short name and adcode; each county's towns and villages
    are kept as the raw lines of its subtree and parsed only when a document names it
    (a city's report reads a few hundred lines, not 700,000)."""

    def __init__(self, table: str, changes: str) -> None:
        self.table = table
        self.by_code: dict[str, Division] = {}
        self.by_name: dict[str, list[Division]] = {}
        self.old_names: dict[str, Division] = {}
        self.renamed_shorts: set[str] = set()
        self.town_names: frozenset[str] = frozenset()
        self.by_short: dict[str, list[Division]] = {}
        self.children: dict[str, list[str]] = {}
        self.subtrees: dict[str, tuple[int, int]] = {}
        self._read_table()
        self._read_changes(changes)
        self._add_short_forms()

    def _read_table(self) -> None:
        stack: list[Division | None] = [None, None, None]
        open_county: tuple[str, int] | None = None
        for match in _TOP_LINE.finditer(self.table):
            if open_county:
                self.subtrees[open_county[0]] = (open_county[1], match.start())
                open_county = None
            depth, name, code, short = len(match[1]), match[2], match[3], match[4] or match[2]
            stack[depth:] = [None] * (3 - depth)
            parent = next((d for d in reversed(stack[:depth]) if d), None)
            if not code or (parent and parent.adcode == code):
                continue  # Taiwan's counties; a municipality's (or 香港's) city level is itself
            division = Division(name, short, _division_level(name, depth), code, parent.adcode if parent else None)
            stack[depth] = division
            self.by_code[code] = division
            if parent:
                self.children.setdefault(parent.adcode, []).append(code)
            if division.level:
                self.by_name.setdefault(name, []).append(division)
                if len(short) >= 2 and short != name:
                    self.by_short.setdefault(short, []).append(division)
            if depth == 2:
                open_county = (code, match.end() + 1)
        if open_county:
            self.subtrees[open_county[0]] = (open_county[1], len(self.table))
        # Every name of the town level, for telling a township's own report (石门乡…工作总结) from a word.
        self.town_names = frozenset(re.findall(r"^\t\t\t([^\t\n]+)$", self.table, re.M))

    def _read_changes(self, changes: str) -> None:
        """Old full and short names (宁乡县, 襄樊) → the current division, when unambiguous and
        not the current name of another."""
        for line in changes.splitlines():
            if "=>" not in line:
                continue
            old, new = line.split("=>", 1)
            old_fields, new_fields = old.split("\t")[2:], new.split("\t")
            current = self._find_path(new_fields)
            if not current or len(old_fields) < 2:
                continue
            old_name, old_short = old_fields[-2], old_fields[-1]
            if old_short == current.short and old_name != current.name:
                self.renamed_shorts.add(old_short)  # 潞城: 潞城市 until 2018, 潞城区 since
            if len(old_name) >= 3 and old_name not in self.by_name:
                self.old_names[old_name] = current
            if len(old_short) >= 2 and old_short not in self.by_short and old_short not in self.by_name:
                self.by_short[old_short] = [current]

    def _add_short_forms(self) -> None:
        """Autonomous prefectures and counties as prose writes them: the short name and the level
        word (湘西州 for 湘西土家族苗族自治州, 石柱县 for 石柱土家族自治县), or with the marker kept
        (沿河自治县 for 沿河土家族自治县)."""
        rules = load_region_rules()
        marker = rules.autonomous_marker
        for divisions in list(self.by_name.values()):
            for division in divisions:
                if marker not in division.name or division.name[-1] not in rules.autonomous_level_words:
                    continue
                for form in (division.short + division.name[-1], division.short + marker + division.name[-1]):
                    if len(form) >= 3 and form not in self.by_name and form not in self.old_names:
                        self.old_names[form] = division

    def _find_path(self, names: list[str]) -> Division | None:
        for division in self.by_name.get(names[-1], []):
            parent = self.by_code.get(division.parent or "")
            if len(names) == 1 or (parent and parent.name == names[-2]) or (
                    parent is None and names[-2] == division.name):
                return division
        return None

    def ancestors(self, division: Division) -> list[Division]:
        """Named divisions above one, nearest first."""
        found, code = [], division.parent
        while code:
            parent = self.by_code[code]
            if parent.level:
                found.append(parent)
            code = parent.parent
        return found

    def info(self, division: Division, name: str | None = None) -> RegionInfo:
        """The RegionInfo of a division, under the name the text uses (an old name keeps it)."""
        written = name or division.name
        level = _division_level(written, _tier(division.level)) or division.level
        return RegionInfo(written, level, division.adcode, False, tuple(d.name for d in self.ancestors(division)))

    def counties_under(self, code: str) -> list[str]:
        """The county-level codes (its own for a county) whose subtrees a division spans."""
        division = self.by_code[code]
        if code in self.subtrees:
            return [code]
        if _tier(division.level) == 0:
            return []  # a province spans too many towns to look them all up
        return [child for child in self.children.get(code, []) if child in self.subtrees]

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Gazetteer a process, kept for its life
    def place_index(self, county: str) -> tuple[dict[str, frozenset[int]], dict[str, str]]:
        return _place_index(self.places(county))

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Gazetteer a process, kept for its life
    def places(self, county: str) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Towns and villages of one county → (level, ancestors). A village name found under two
        towns keeps only the county's line of ancestors. Plain tuples: a document reads several
        counties' thousands of places and looks up a handful (``place_info`` makes those one)."""
        rules = load_region_rules()
        start, end = self.subtrees[county]
        chain = [self.by_code[county], *self.ancestors(self.by_code[county])]
        above = tuple(d.name for d in chain if d.level)
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        twice: set[str] = set()
        # Per line only what differs: the endings to try come by last character, and a village's
        # ancestors are its town's (a county has thousands of lines, a document several counties).
        town_endings, village_endings = _endings_by_last(rules.town_levels), _endings_by_last(rules.village_levels)
        village_within = above
        for line in self.table[start:end].split("\n"):
            name = line.strip()
            if not name:
                continue
            if not line.startswith("\t\t\t\t"):
                level = _level_by_ending(name, town_endings)
                village_within = (name, *above) if level else above
                if level and name not in found:
                    found[name] = (level, above)
                continue
            level = _level_by_ending(name, village_endings)
            if not level or len(name) < 2:
                continue
            if name in found:
                twice.add(name)
                continue
            found[name] = (level, village_within)
        for name in twice:
            if found[name][0] in rules.village_level_words:
                found[name] = (found[name][0], above)
        endings = next((rules.written_endings[name] for name in above if name in rules.written_endings), None)
        for name, place in list(found.items()) if endings else ():
            for written in _written_forms(name, endings):
                found.setdefault(written, place)
        return found


def _written_forms(name: str, endings: dict[str, tuple[str, ...]]) -> list[str]:
    """The other ways reports write a place the table names so (布尔陶亥苏木乡 → 布尔陶亥苏木)."""
    for ending, forms in endings.items():
        if name.endswith(ending) and len(name) - len(ending) >= 2:
            return [name[:-len(ending)] + form for form in forms]
    return []


def redacted_name(name: str, level: str) -> bool:
    """The name is a redacted one of the level: placeholders, then the level word (XX区, 某县)."""
    stem = name[:len(name) - len(level)]
    return name.endswith(level) and load_region_rules().placeholder_run.fullmatch(stem) is not None


def place_info(name: str, place: tuple[str, tuple[str, ...]]) -> RegionInfo:
    """A town or village of ``Gazetteer.places`` as a region."""
    level, within = place
    return RegionInfo(name, level, None, False, within)


def _place_index(places: dict[str, tuple[str, tuple[str, ...]]]) -> tuple[dict[str, frozenset[int]], dict[str, str]]:
    """Of one county's towns and villages: the name lengths behind each last character, and
    the names by stem (杜家沟 → 杜家沟村; stems of two characters or more)."""
    lengths: dict[str, set[int]] = {}
    stems: dict[str, str] = {}
    for name, (level, _) in places.items():
        lengths.setdefault(name[-1], set()).add(len(name))
        if name.endswith(level) and len(name) - len(level) >= 2:
            stems.setdefault(name[:-len(level)], name)
    return {ch: frozenset(n) for ch, n in lengths.items()}, stems


def _endings_by_last(levels: dict[str, str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Level words (镇, 街道, 苏木) → their level, grouped by last character in the rules' order."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for ending, level in levels.items():
        grouped.setdefault(ending[-1], []).append((ending, level))
    return {last: tuple(pairs) for last, pairs in grouped.items()}


def _level_by_ending(name: str, endings: dict[str, tuple[tuple[str, str], ...]]) -> str | None:
    """The level of the first level word (in the rules' order) a longer name ends with."""
    for ending, level in endings.get(name[-1], ()):
        if name.endswith(ending) and len(name) > len(ending):
            return level
    return None


# Bump when Gazetteer's attributes change, so an old cache file is not read as a new one.
_CACHE_FORMAT = 7


@functools.cache
def load_gazetteer() -> Gazetteer:
    """jionlp's table and renames, once a process. Unzipping and indexing them takes most of a
    second, loading the indexed form from the cache folder a few hundredths: the cache file is
    written at first use, one per jionlp version (its data version); an unreadable cache is
    rebuilt and an unwritable cache folder costs only the time."""
    levels = load_region_rules().table_digest  # the levels the table was read with
    path = config.cache_dir() / "gazetteer" / f"jionlp-{gazetteer_version()}-v{_CACHE_FORMAT}-{levels}.pickle"
    try:
        with path.open("rb") as handle:
            table = pickle.load(handle)  # noqa: S301 - a file this function wrote itself
        if isinstance(table, Gazetteer):
            return table
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        pass
    table = build_gazetteer()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            pickle.dump(table, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except OSError:
        pass
    return table


def build_gazetteer() -> Gazetteer:
    """Read jionlp's data files (china_location.zip, china_location_change.txt) into a Gazetteer."""
    folder = _jionlp_dictionary()
    try:
        with zipfile.ZipFile(folder / "china_location.zip") as archive:
            table = archive.read(archive.namelist()[0]).decode("utf-8").replace("\r\n", "\n")
        changes = (folder / "china_location_change.txt").read_text(encoding="utf-8")
    except (OSError, zipfile.BadZipFile, IndexError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{folder}: jionlp's division tables cannot be read ({exc}); "
                            "reinstall it: .venv/bin/pip install --force-reinstall 'jionlp>=1.5.31'") from None
    return Gazetteer(table, changes)


def gazetteer_version() -> str:
    """The installed jionlp version: the gazetteer's data version."""
    return importlib.metadata.version("jionlp")


@functools.cache
def gazetteer() -> dict[str, list[RegionInfo]]:
    """Current full names of provinces, cities and counties → candidates (朝阳区 is in Beijing and
    in Changchun)."""
    table = load_gazetteer()
    return {name: [table.info(d) for d in divisions] for name, divisions in table.by_name.items()}


@functools.cache
def region_names() -> dict[str, list[RegionInfo]]:
    """The full names the text is searched for: the current ones, the old ones of the rename
    list (宁乡县 → the division 宁乡市 now is: its adcode, the text's name) and the short forms
    of autonomous prefectures and counties (湘西州, 石柱县)."""
    table = load_gazetteer()
    names = dict(gazetteer())
    for old, division in table.old_names.items():
        names[old] = [table.info(division, old)]
    return names


@functools.cache
def _name_endings() -> tuple[re.Pattern[str], dict[str, tuple[int, ...]]]:
    """The characters region names end with (县, 区, 市, 旗 …) and the name lengths behind each.

    Every name ends in one of about ten characters, so looking back from those few positions
    finds every name; an automaton over the same names walks a root that fans out to a
    thousand first characters at every position.
    """
    lengths: dict[str, set[int]] = {}
    for name in region_names():
        lengths.setdefault(name[-1], set()).add(len(name))
    pattern = re.compile("[" + "".join(re.escape(ch) for ch in sorted(lengths)) + "]")
    return pattern, {ch: tuple(sorted(found, reverse=True)) for ch, found in lengths.items()}


def gazetteer_hits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every full region name in ``text``, overlapping ones included."""
    names = region_names()
    endings, lengths = _name_endings()
    hits = []
    for match in endings.finditer(text):
        end = match.end()
        for length in lengths[match.group()]:
            if length <= end and text[end - length:end] in names:
                hits.append((end - length, end, text[end - length:end]))
    return hits


@functools.cache
def _short_index() -> dict[str, tuple[int, ...]]:
    """First two characters of the divisions' short names (盐城, 贡嘎, 万州; 宁乡 of the renamed
    宁乡县) → the lengths of the names they open, longest first. Probing each position of a text
    with one set lookup is many times faster than an Aho-Corasick automaton whose root fans out
    to over a thousand first characters."""
    rules = load_region_rules()
    lengths: dict[str, set[int]] = {}
    for short in load_gazetteer().by_short:
        if short not in rules.not_regions:
            lengths.setdefault(short[:2], set()).add(len(short))
    return {first: tuple(sorted(n, reverse=True)) for first, n in lengths.items()}


@functools.cache
def first_characters(level: str | None) -> re.Pattern[str]:
    """The characters the divisions' short names (level None) or one level's stems begin with,
    as one character class: a regex scan passes over the positions no name begins at (three in
    five) instead of probing each position in Python."""
    index = _short_index() if level is None else level_stems(level)
    return re.compile("[" + "".join(sorted({re.escape(key[0]) for key in index if key})) + "]")


def short_hits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, short name) of every division's short name in ``text``, overlapping ones included."""
    index, shorts = _short_index(), load_gazetteer().by_short
    hits = []
    for first in first_characters(None).finditer(text, 0, max(len(text) - 1, 0)):
        at = first.start()
        lengths = index.get(text[at:at + 2])
        if lengths:
            hits.extend((at, at + n, text[at:at + n]) for n in lengths if text[at:at + n] in shorts)
    return hits


def parent_adcodes(adcode: str) -> list[str]:
    """The city and province adcodes above a county or city."""
    parents = []
    if not adcode.endswith("00"):
        parents.append(adcode[:4] + "00")
    if not adcode.endswith("0000"):
        parents.append(adcode[:2] + "0000")
    return parents


def contains(outer: RegionInfo, inner: RegionInfo) -> bool:
    """The gazetteer puts ``inner`` under ``outer`` (by adcode, or by its line of ancestors)."""
    if outer.adcode and inner.adcode and outer.adcode != inner.adcode:
        return outer.adcode in parent_adcodes(inner.adcode)
    return outer.name in inner.within


@functools.cache
def level_stems(level: str) -> dict[str, frozenset[str] | tuple[int, ...]]:
    """Stems (会同 of 会同县) of the unambiguous division names of one level: under "" the stems,
    under their first two characters the stem lengths, longest first (probed like short names)."""
    divisions = load_region_rules().division_levels
    found = {name[:-1] for name, infos in gazetteer().items()
             if name.endswith(level) and len(name) >= 3 and len(infos) == 1 and infos[0].level in divisions}
    index: dict[str, set[int]] = {}
    for stem in found:
        index.setdefault(stem[:2], set()).add(len(stem))
    table: dict[str, frozenset[str] | tuple[int, ...]] = {k: tuple(sorted(v, reverse=True)) for k, v in index.items()}
    table[""] = frozenset(found)
    return table if found else {}



# --- jieba's dictionary, for telling names from words -------------------------------------

@functools.cache
def jieba_words() -> tuple[dict[str, str], dict[str, str]]:
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


def word_tag(text: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (v for 提高, n for 装机容量), else None."""
    return jieba_words()[1].get(text)


def first_word(text: str) -> str:
    """The first word of a text as jieba segments it (有 of 有无公害农产品基地, 有机 of 有机…)."""
    frequencies, _ = jieba_words()
    if is_han(text[:1]) and not any(text[:end] in frequencies for end in range(2, len(text) + 1)):
        # No dictionary word begins the text, so jieba cuts the first character off alone;
        # knowing that without jieba spares loading its segmenter (a third of a second).
        return text[0]
    import jieba

    jieba.setLogLevel(60)
    return next(iter(jieba.cut(text, HMM=False)), "")


def splits_at(word: str, offset: int) -> bool:
    """jieba's segmenter puts a word boundary ``offset`` characters into ``word``: a second
    statistical reading of a compound the analyser took as one word (企业|损失|税利, but
    水土流失 whole)."""
    import jieba

    jieba.setLogLevel(60)
    at = 0
    for piece in jieba.cut(word, HMM=False):
        at += len(piece)
        if at >= offset:
            return at == offset
    return False


def known_word(text: str) -> bool:
    """jieba's dictionary holds the text as a word."""
    return text in jieba_words()[0]


def place_word(stem: str) -> bool:
    """jieba's dictionary knows the stem as a place name (ns)."""
    return jieba_words()[1].get(stem) == "ns"


def frequent(word: str) -> bool:
    return int(jieba_words()[0].get(word, 0)) >= load_region_rules().common_word_frequency


def common_word(stem: str) -> bool:
    return frequent(stem) and jieba_words()[1].get(stem) != "ns"


def is_han(ch: str) -> bool:
    return _HAN_FIRST <= ch <= _HAN_LAST


def load_tables() -> None:
    """Read the gazetteer, the word lists and jieba's tables now rather than at the first document."""
    load_region_rules()
    region_names()
    _name_endings()
    _short_index()
    first_characters(None)
    jieba_words()
