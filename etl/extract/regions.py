"""Region resolution: administrative names in a document → China's current divisions, the
region whose work the document reports, and the nesting the text states.

Takes a document's normalized text; returns RegionMentions (name, level, adcode where the
division has one, the division's ancestors, and the region the text writes it under), the
reporting region, and PART_OF pairs.

The gazetteer is jionlp's table of administrative divisions (2025: province → city → county →
town → village or community, adcodes for the top three levels) and its list of renames, read
as data files from the installed package. jionlp itself is not imported: that costs seconds,
and its recognizer takes development zones and slogans (东城…开发区, 清河…) for districts.

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

import functools
import importlib.metadata
import importlib.util
import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from etl import config
from etl.errors import ConfigError, DataFileError

DIVISION_LEVELS = ("省", "市", "县", "区")
TOWN_LEVELS = ("镇", "乡", "街道")
VILLAGE_LEVELS = ("村", "社区")


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
    "common_word_frequency": int, "placeholders": list, "placeholder_levels": list,
    "placeholder_not_before": str, "first_person": list, "implied_parent": dict, "name_not_before": str,
    "word_after_level": dict, "town_levels": dict, "village_levels": dict, "written_endings": dict, "level_ranks": dict,
    "enumeration_separators": str, "enumeration_count": str, "sentence_starts": str,
    "level_characters": str, "level_list_followers": str, "assignment_verbs": str, "province_not_before": str,
    "landform_heads": str,
    "clause_verb_frequency": int, "dateline": str, "locative_markers": list,
}


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
    implied_parent: dict[str, re.Pattern[str]]
    name_not_before: frozenset[str]
    word_after_level: dict[str, str]
    town_levels: dict[str, str]
    village_levels: dict[str, str]
    written_endings: dict[str, dict[str, tuple[str, ...]]]
    level_ranks: dict[str, int]
    enumeration_separators: frozenset[str]
    enumeration_pattern: re.Pattern[str]
    enumeration_count: re.Pattern[str]
    sentence_starts: frozenset[str]
    level_characters: frozenset[str]
    level_list_followers: frozenset[str]
    assignment_verbs: frozenset[str]
    province_not_before: frozenset[str]
    landform_heads: frozenset[str]
    clause_verb_frequency: int
    dateline: re.Pattern[str]
    locative_before: re.Pattern[str]


class _KeyLines(dict):
    """Line (1-based) of each top-level key of a YAML mapping, for path:line messages; composed
    only when a message needs one (composing costs a fifth of a second)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, key: str) -> int:
        node = yaml.compose(self.text)
        lines = {k.value: k.start_mark.line + 1 for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
        self.update(lines)
        return lines.get(key, 1)

    def get(self, key: str, default: int = 1) -> int:  # type: ignore[override]
        return self[key]


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.cache
def load_region_rules(path: Path | None = None) -> RegionRules:
    """Read and check schema/regions.yaml: every key present with its type, every list of
    strings, the count pattern a valid regex; errors give path:line."""
    path = path or config.schema_dir() / "regions.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{path}:1: cannot read the region word lists ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataFileError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML") from None
    _check_rules(path, text, data)
    return _compile_rules(data)


def _check_rules(path: Path, text: str, data) -> None:
    """Every key of _RULE_TYPES present with its type and non-empty entries; the count
    pattern a valid regex. Lines are looked up only when something is wrong."""
    if not isinstance(data, dict):
        raise DataFileError(f"{path}:1: the region word lists must be a mapping of the keys {sorted(_RULE_TYPES)}")
    lines = _KeyLines(text)
    for key in data:
        if key not in _RULE_TYPES:
            raise DataFileError(f"{path}:{lines.get(key, 1)}: unknown key {key!r}")
    for key, kind in _RULE_TYPES.items():
        if key not in data:
            raise DataFileError(f"{path}:1: missing key {key!r}")
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise DataFileError(f"{path}:{lines[key]}: {key} must be a {kind.__name__}")
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
                raise DataFileError(f"{path}:{lines[key]}: {key} holds an empty or non-text entry: {item!r}")
    for key in ("enumeration_count", "dateline"):
        try:
            re.compile(data[key])
        except re.error as exc:
            raise DataFileError(f"{path}:{lines[key]}: {key} is no regex ({exc})") from None


def _compile_rules(data: dict) -> RegionRules:
    suffixes = data["town_suffixes"]
    town_suffix = "|".join(f"{re.escape(s)}(?![{re.escape(stops)}])" for s, stops in suffixes.items())
    anonymized = (f"(?:{_alternation(data['placeholders'])})(?P<suffix>{_alternation(data['placeholder_levels'])})"
                  f"(?![\u4e00-\u9fff]{{0,1}}[{re.escape(data['placeholder_not_before'])}])")
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
        first_person=re.compile(f"(?:{_alternation(data['first_person'])})(?P<level>省|市|县|区|镇|乡)"),
        implied_parent={level: re.compile(_alternation(words)) for level, words in data["implied_parent"].items()},
        name_not_before=frozenset(data["name_not_before"]),
        word_after_level=dict(data["word_after_level"]),
        town_levels=dict(data["town_levels"]),
        village_levels=dict(data["village_levels"]),
        written_endings={province: {ending: tuple(forms) for ending, forms in endings.items()}
                         for province, endings in data["written_endings"].items()},
        level_ranks={str(k): int(v) for k, v in data["level_ranks"].items()},
        enumeration_separators=frozenset(data["enumeration_separators"]),
        enumeration_pattern=re.compile(f"[{re.escape(data['enumeration_separators'])}]"),
        enumeration_count=re.compile(data["enumeration_count"]),
        sentence_starts=frozenset(data["sentence_starts"]),
        level_characters=frozenset(data["level_characters"]),
        level_list_followers=frozenset(data["level_list_followers"]),
        assignment_verbs=frozenset(data["assignment_verbs"]),
        province_not_before=frozenset(data["province_not_before"]),
        landform_heads=frozenset(data["landform_heads"]),
        clause_verb_frequency=data["clause_verb_frequency"],
        dateline=re.compile(data["dateline"]),
        locative_before=re.compile(f"(?:{_alternation(data['locative_markers'])})$"),
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
    if depth == 0:
        return "省"
    if depth == 1:
        return "市" if name.endswith(("市", "州", "地区", "盟")) else ""
    if name.endswith("区"):
        return "区"
    return "县" if name.endswith(("县", "市", "旗")) else ""


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
        word (湘西州 for 湘西土家族苗族自治州, 石柱县 for 石柱土家族自治县)."""
        for divisions in list(self.by_name.values()):
            for division in divisions:
                form = division.short + division.name[-1]
                if "自治" in division.name and division.name[-1] in "州县旗" and len(form) >= 3 \
                        and form not in self.by_name and form not in self.old_names:
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
        depth = {"省": 0, "市": 1}.get(division.level, 2)
        level = _division_level(written, depth) or division.level
        return RegionInfo(written, level, division.adcode, False, tuple(d.name for d in self.ancestors(division)))

    def counties_under(self, code: str) -> list[str]:
        """The county-level codes (its own for a county) whose subtrees a division spans."""
        division = self.by_code[code]
        if code in self.subtrees:
            return [code]
        if division.level == "省":
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
            if found[name][0] in VILLAGE_LEVELS:
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
_CACHE_FORMAT = 6


@functools.cache
def load_gazetteer() -> Gazetteer:
    """jionlp's table and renames, once a process. Unzipping and indexing them takes most of a
    second, loading the indexed form from the cache folder a few hundredths: the cache file is
    written at first use, one per jionlp version (its data version); an unreadable cache is
    rebuilt and an unwritable cache folder costs only the time."""
    path = config.cache_dir() / "gazetteer" / f"jionlp-{gazetteer_version()}-v{_CACHE_FORMAT}.pickle"
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
def _first_characters(level: str | None) -> re.Pattern[str]:
    """The characters the divisions' short names (level None) or one level's stems begin with,
    as one character class: a regex scan passes over the positions no name begins at (three in
    five) instead of probing each position in Python."""
    index = _short_index() if level is None else _level_stems(level)
    return re.compile("[" + "".join(sorted({re.escape(key[0]) for key in index if key})) + "]")


def _short_hits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, short name) of every division's short name in ``text``, overlapping ones included."""
    index, shorts = _short_index(), load_gazetteer().by_short
    hits = []
    for first in _first_characters(None).finditer(text, 0, max(len(text) - 1, 0)):
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


def _contains(outer: RegionInfo, inner: RegionInfo) -> bool:
    """The gazetteer puts ``inner`` under ``outer`` (by adcode, or by its line of ancestors)."""
    if outer.adcode and inner.adcode and outer.adcode != inner.adcode:
        return outer.adcode in parent_adcodes(inner.adcode)
    return outer.name in inner.within


# --- jieba's dictionary, for telling names from words -------------------------------------

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
    return int(_jieba_words()[0].get(word, 0)) >= load_region_rules().common_word_frequency


def _common_word(stem: str) -> bool:
    return _frequent(stem) and _jieba_words()[1].get(stem) != "ns"


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def load_tables() -> None:
    """Read the gazetteer, the word lists and jieba's tables now rather than at the first document."""
    load_region_rules()
    region_names()
    _name_endings()
    _short_index()
    _first_characters(None)
    _jieba_words()


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
    return _nest_as_written(sorted(found.mentions, key=lambda m: m.start), rules)


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
        if len(name) == 2 and ((before and _is_han(before) and before not in "省市"
                                and before not in rules.function_characters) or after == "城"):
            continue
        if after and after in rules.name_not_before:
            held.append((start, end, names[name][0]))
            continue
        found.add(start, end, names[name][0])
    return held


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
            if length == 2 and before and _is_han(before) and not any(m.end == start for m in found.mentions):
                break  # 宋村 in 治理宋村, 中村 in 至中村: a one-character stem needs a clear left edge
            stops = next((s for suffix, s in rules.town_suffixes.items() if name.endswith(suffix)), "")
            if _common_word(name[:-1]) and text[end:end + 1] in stops.replace("委", ""):
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
    hits = [h for h in _short_hits(text) if found.free(h[0], h[1])]
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
            if (following and _contains(info, following)) or _place_follows(division, text, end):
                chosen = division  # 盐城滨海县, 万州分水镇
            elif preceding and _contains(preceding, info):
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
    """Short names listed together (潞城、屯留、平顺) that the gazetteer puts under one parent: three
    or more, or two and more followed by a count of places (两县, 等5个县(市)); a list continuing
    a name already taken (山南市贡嘎、扎囊) takes siblings of it."""
    table = load_gazetteer()
    by_start = {}
    for hit in hits:
        by_start.setdefault(hit[0], []).append(hit)
    runs: list[list[tuple[int, int, str]]] = []
    for hit in sorted(hits):
        if runs and runs[-1][-1][1] + 1 == hit[0] and text[runs[-1][-1][1]] in rules.enumeration_separators:
            runs[-1].append(hit)
        elif not runs or hit[0] >= runs[-1][-1][1]:
            runs.append([hit])
    for run in runs:
        if len(run) < 2:
            continue
        parents: dict[str, int] = {}
        for _, _, short in run:
            for code in {d.parent for d in table.by_short[short] if d.parent}:
                parents[code] = parents.get(code, 0) + 1
        shared = [code for code, n in parents.items() if n == len(run)]
        known = [d.parent for (s, e), d in accepted.items() if (s, e) in {(h[0], h[1]) for h in run}]
        counted = rules.enumeration_count.match(text, run[-1][1])
        if known:
            shared = [code for code in shared if code in known]
        elif len(run) < 3 and not counted:
            continue
        if len(shared) != 1:
            continue
        for start, end, short in run:
            division = next(d for d in table.by_short[short] if d.parent == shared[0])
            accepted[(start, end)] = division


def _sentence_openers(hits, accepted: dict, text: str, rules: RegionRules) -> None:
    """A province or prefecture city opening a sentence as its subject (重庆积极探索…) or after a
    word of place (在株洲召开, 赴湘潭考察, 位于郴州)."""
    table = load_gazetteer()
    for start, end, short in hits:
        opens = start == 0 or text[start - 1] in rules.sentence_starts
        if (start, end) in accepted or not (opens or rules.locative_before.search(text, max(0, start - 2), start)):
            continue
        divisions = [d for d in table.by_short[short] if d.level in ("省", "市")]
        if len(divisions) != 1 or len(table.by_short[short]) != 1 or _common_word(short):
            continue
        if _inside_word(text, start, end):
            continue  # the name runs into a longer word (大同小异)
        accepted[(start, end)] = divisions[0]


def _provinces(hits, accepted: dict, text: str, rules: RegionRules) -> None:
    """Provinces by short name (广西, 浙江): few, and seldom anything else, except where a river,
    lake or mountain runs into them (汾河北岸, 泰山东麓, 青海湖)."""
    table = load_gazetteer()
    for start, end, short in hits:
        divisions = table.by_short[short]
        if (start, end) in accepted or len(divisions) != 1 or divisions[0].level != "省":
            continue
        before, after = text[start - 1:start] if start else "", text[end:end + 1]
        if after in rules.province_not_before or _inside_word(text, start, end) or rules.dateline.match(text, end):
            continue  # 黑龙江流域, 海南岛; 新华社北京3月5日电 is where a report was filed
        if short[0] in rules.landform_heads and before and _is_han(before) and before not in rules.name_boundary:
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
            if len(stem) < length or (after and _is_han(after) and after not in boundary):
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
                _place_word(name[:-1]) and not _frequent(text[start - 1:start + 1])):
            continue  # 美丽山村 is a kind of village; 鹊山村 is named after 鹊山, a place
        if _common_word(name[:-1]) and not (
                name in load_gazetteer().town_names and (start == 0 or text[start - 1] in rules.sentence_starts)):
            continue  # 指导镇村: a word; 石门乡 opening a title is a township that exists
        found.add(start, match.end(), scope.pick(name) if name in scope else RegionInfo(name, match.group(0)))


def _town_start(text: str, suffix_at: int, rules: RegionRules) -> int | None:
    """Where the proper name before 镇/乡/村 begins: three characters when a boundary stands
    before them, else two; None when no proper name is there (城乡, 新农村, 干部包村)."""
    if text[suffix_at - 1:suffix_at] in rules.assignment_verbs and (
            _common_word(text[suffix_at - 3:suffix_at - 1]) or _common_word(text[suffix_at - 4:suffix_at - 1])):
        return None  # 乡镇干部包村, 工作队驻村: who is sent to villages, not a village
    for length in (3, 2):
        start = suffix_at - length
        if start < 0:
            continue
        stem = text[start:suffix_at]
        before = text[start - 1] if start > 0 else ","
        if not all(_is_han(ch) for ch in stem) or stem[0] in rules.name_boundary:
            continue
        if length == 3 and not (before in rules.name_boundary or not _is_han(before)):
            continue
        if length == 3 and stem[1] in rules.function_characters:
            continue  # 关于宁乡: a function word runs into the name
        if length == 3 and _clause_verb(stem[:2], rules):
            return None  # 共治理宋村: a common verb opens the clause, no name does (大成桥镇 does)
        if length == 2 and _clause_verb(text[start - 1:start + 1], rules):
            return None  # 组织治理宋村: the verb runs into the stem
        if stem[-1] in rules.stem_end_stops or stem[-1] in rules.function_characters:
            return None  # 我县, 各乡; 也为村里, 鱼米之乡: a function word before the suffix
        if length == 3 and stem[-1] in rules.level_characters and _common_word(stem[:2]):
            return None  # 指导镇村工作: a word, then 镇村
        if stem[-1] in rules.level_characters and text[suffix_at + 1:suffix_at + 2] in rules.level_list_followers:
            return None  # 建立县镇村三级网络: a list of levels, not a town
        return start
    return None


def _clause_verb(word: str, rules: RegionRules) -> bool:
    """A verb as common as 治理 or 开展 (jieba's tag and frequency)."""
    return (word_tag(word) or "").startswith("v") and \
        int(_jieba_words()[0].get(word, 0)) >= rules.clause_verb_frequency


def _nest_as_written(mentions: list[RegionMention], rules: RegionRules) -> list[RegionMention]:
    """A region written right before a lower one contains it (十堰市茅箭区, 榆阳区青云镇), unless the
    gazetteer places the lower one elsewhere; every mention of a name shares what was found."""
    ranks = rules.level_ranks
    parent_of: dict[str, str] = {}
    for previous, mention in zip(mentions, mentions[1:], strict=False):
        outer, inner = previous.region, mention.region
        if previous.end != mention.start or inner.name in parent_of:
            continue
        if ranks.get(outer.level, 9) >= ranks.get(inner.level, 9) or outer.name == inner.name:
            continue
        if (inner.adcode or inner.within) and not outer.anonymized and not _contains(outer, inner):
            continue
        parent_of[inner.name] = outer.name
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


# --- the reporting region -----------------------------------------------------------------

def short_name_region(text: str) -> RegionInfo | None:
    """A report speaking of 我县 and naming 会同 without its suffix reports on 会同县: the
    division of that level whose stem the text uses most often (twice at least), when unique.
    A 我镇/我乡 report has no such division (towns are found by name, under their county)."""
    match = load_region_rules().first_person.search(text)
    if not match or match["level"] not in DIVISION_LEVELS:
        return None
    stems = _level_stems(match["level"])
    if not stems:
        return None  # no division of that level has a usable stem: nothing to count
    counts: dict[str, int] = {}
    for first in _first_characters(match["level"]).finditer(text, 0, max(len(text) - 1, 0)):
        at = first.start()
        for length in stems.get(text[at:at + 2], ()):
            stem = text[at:at + length]
            if stem in stems[""] and not _inside_word(text, at, at + length):  # 共和 of 共和国 is no stem
                counts[stem] = counts.get(stem, 0) + 1
    if not counts:
        return None
    stem = max(counts, key=lambda s: (counts[s], s))
    return gazetteer()[stem + match["level"]][0] if counts[stem] >= 2 else None


def _inside_word(text: str, start: int, end: int) -> bool:
    """The name at text[start:end] is part of a longer dictionary word (共和 in 共和国, 大同 in
    大同小异); the name with its own level word (会同县, 石泉县) does not count."""
    frequencies = _jieba_words()[0]
    for word in (text[start:end + 1], text[start:end + 2], text[max(start - 1, 0):end] if start else ""):
        if len(word) > end - start and word in frequencies and not (
                word.startswith(text[start:end]) and word[end - start:] in DIVISION_LEVELS):
            return True
    return False


@functools.cache
def _level_stems(level: str) -> dict[str, frozenset[str] | tuple[int, ...]]:
    """Stems (会同 of 会同县) of the unambiguous division names of one level: under "" the stems,
    under their first two characters the stem lengths, longest first (probed like short names)."""
    found = {name[:-1] for name, infos in gazetteer().items()
             if name.endswith(level) and len(name) >= 3 and len(infos) == 1 and infos[0].level in DIVISION_LEVELS}
    index: dict[str, set[int]] = {}
    for stem in found:
        index.setdefault(stem[:2], set()).add(len(stem))
    table: dict[str, frozenset[str] | tuple[int, ...]] = {k: tuple(sorted(v, reverse=True)) for k, v in index.items()}
    table[""] = frozenset(found)
    return table if found else {}


def reporting_region(title: str, opening: str, mentions: list[RegionMention],
                     text: str = "") -> RegionInfo | None:
    """The region whose work the document reports: named in the title, else the first region
    the opening names as the actor (XX区聚焦…), the innermost where the text nests names
    (山东省泰安市 → 泰安市); else a town the title names; else a short name with 我县/我区; else
    the province, city or county mentioned most, else the place mentioned most."""
    for part in (title, opening):
        named = [m for m in find_region_mentions(part) if m.region.level in DIVISION_LEVELS]
        if named:
            chosen = named[0]
            for following in named[1:]:
                if following.start != chosen.end or part[following.end:following.end + 1] in \
                        load_region_rules().enumeration_separators or not (
                        _contains(chosen.region, following.region) or following.region.nested_in == chosen.region.name):
                    break
                chosen = following
            return _usual_placeholder(chosen.region, mentions)
    towns = [m for m in find_region_mentions(title) if m.region.level in TOWN_LEVELS]
    if towns:
        return towns[0].region  # 石门乡2023年工作总结: a township's own report
    short = short_name_region(text) if text else None
    if short:
        return short
    counted: dict[RegionInfo, int] = {}
    first: dict[RegionInfo, int] = {}
    for mention in mentions:
        counted[mention.region] = counted.get(mention.region, 0) + 1
        first.setdefault(mention.region, mention.start)
    divisions = {r: n for r, n in counted.items() if r.level in DIVISION_LEVELS}
    counted = divisions or counted
    ranks = load_region_rules().level_ranks
    # Equally often: the higher level (it holds the others), then the first named.
    return max(counted, key=lambda r: (counted[r], -ranks.get(r.level, 9), -first[r])) if counted else None


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
    pairs: list[tuple[str, str]] = []
    for region in regions:
        parent = None
        if region.nested_in in names:
            parent = region.nested_in
        elif region.adcode:
            parent = next((by_code[c].name for c in parent_adcodes(region.adcode)
                           if c in by_code and by_code[c].name != region.name), None)
        elif region.within:
            parent = next((name for name in region.within if name in names and name != region.name), None)
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
        and reporting.level in ("县", "区", "市")


def implied_parent_patterns() -> dict[str, re.Pattern[str]]:
    """Words by which a report refers to its city or province without naming them (市委, 全省)."""
    return load_region_rules().implied_parent
