"""The head-noun grammars and the analyser under them: every example of schema/patterns/grammar.yaml
yields its name, no counterexample yields a name of that type, and the data file's errors name
path:line."""

from __future__ import annotations

import pytest

from etl.errors import DataFileError
from etl.extract import analyser
from etl.extract.candidates import CandidateFinder, finder, load_grammar, without_tail

GRAMMAR = load_grammar()


def names(text: str, label: str) -> set[str]:
    return {name for _, _, found, name in finder().find(text, analyser.analyse(text)) if found == label}


TYPE_EXAMPLES = [(label, text, name) for label, spec in GRAMMAR.types.items() for text, name in spec.examples.items()]
TYPE_COUNTER = [(label, text) for label, spec in GRAMMAR.types.items() for text in spec.counterexamples]


@pytest.mark.parametrize(("label", "text", "name"), TYPE_EXAMPLES)
def test_type_examples_yield_their_name(label, text, name):
    assert name in names(text, label)


@pytest.mark.parametrize(("label", "text"), TYPE_COUNTER)
def test_type_counterexamples_yield_no_name_of_the_type(label, text):
    assert names(text, label) == set()


@pytest.mark.parametrize(("text", "items"), list(GRAMMAR.enumeration_examples.items()))
def test_enumerations_name_every_item(text, items):
    found = [name for _, _, _, name in CandidateFinder(GRAMMAR).enumerated(text, analyser.analyse(text))]
    assert found == items


@pytest.mark.parametrize("text", GRAMMAR.enumeration_counterexamples)
def test_enumeration_counterexamples(text):
    assert CandidateFinder(GRAMMAR).enumerated(text, analyser.analyse(text)) == []


CONSTRUCTION_EXAMPLES = [(label, text, name) for label, _, examples, _ in GRAMMAR.patterns
                         for text, name in examples.items()]
CONSTRUCTION_COUNTER = [(label, pattern, text) for label, pattern, _, counter in GRAMMAR.patterns for text in counter]


@pytest.mark.parametrize(("label", "text", "name"), CONSTRUCTION_EXAMPLES)
def test_constructions_yield_their_name(label, text, name):
    assert (label, name) in {(found, n) for _, _, found, n in CandidateFinder(GRAMMAR).constructions(text)}


@pytest.mark.parametrize(("label", "pattern", "text"), CONSTRUCTION_COUNTER)
def test_construction_counterexamples(label, pattern, text):
    assert pattern.search(text) is None


@pytest.mark.parametrize(("text", "name"), sorted(GRAMMAR.quoted_examples.items()))
def test_quoted_runs_are_found_whole(text, name):
    assert [match["name"] for match in GRAMMAR.quoted_name.finditer(text)] == [name]


@pytest.mark.parametrize("text", GRAMMAR.quoted_counterexamples)
def test_quoted_run_counterexamples(text):
    assert GRAMMAR.quoted_name.search(text) is None


def test_quoted_runs_need_labels_the_grammar_knows(tmp_path):
    from etl import config

    text = (config.schema_dir() / "patterns" / "grammar.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "grammar.yaml"
    bad.write_text(text.replace("labels: [Mechanism, Policy]", "labels: [Mechanism, Gadget]"), encoding="utf-8")
    line = text[:text.index("\nquoted_name:")].count("\n") + 2
    with pytest.raises(DataFileError, match=rf"{bad}:{line}: quoted_name needs 'labels'"):
        load_grammar(bad)


EDGE_CASES = [(name, text, True) for name, (examples, _) in GRAMMAR.edge_examples.items() for text in examples] \
    + [(name, text, False) for name, (_, counter) in GRAMMAR.edge_examples.items() for text in counter]


@pytest.mark.parametrize(("name", "text", "matches"), EDGE_CASES)
def test_name_edges_match_their_examples_only(name, text, matches):
    assert bool(GRAMMAR.edges[name].match(text)) is matches


def test_name_edges_take_the_levels_of_regions_yaml():
    """"{level}" is regions.yaml's level_characters: every level character is a suffix of a region."""
    from etl.extract.places import load_region_rules
    assert all(GRAMMAR.edges["admin_after"].match(c) for c in load_region_rules().level_characters)


def test_analyser_offsets_cover_the_text_and_tag_places():
    text = "沩水流经全县，县河长办牵头。\n聘请河道保洁员"
    words = analyser.analyse(text)
    assert "".join(text[w.start:w.end] for w in words) == text.replace("\n", "")
    assert ("沩水", "LOC") in {(text[w.start:w.end], w.tag) for w in words}


def test_long_runs_are_cut_at_clause_marks():
    text = "，".join(["建设淤地坝"] * 120) + "。"
    runs = analyser._runs(text)
    assert max(end - start for start, end in runs) <= analyser.MAX_RUN
    assert runs[0][0] == 0 and runs[-1][1] == len(text)


def test_region_short_names_are_no_water_bodies():
    text = "滨海位于黄海之滨，沩水流经"
    found = finder().find(text, analyser.analyse(text), frozenset({"滨海"}))
    assert "滨海" not in {name for *_, name in found}


def test_actor_loses_its_region_and_the_number_before_it():
    assert "河长办" in names("县河长办组织巡查", "Actor")
    assert "名护林员" not in names("设立了892 名护林员", "Actor")
    assert "护林员" in names("设立了892 名护林员", "Actor")


def test_bad_grammar_file_names_path_and_line(tmp_path):
    bad = tmp_path / "grammar.yaml"
    bad.write_text("nominal_tags: [n]\ninner_tags: [v]\ngoverning_verbs: []\nleading_words: []\n"
                   "generic_modifiers: [工作]\ntypes:\n  Gadget:\n    heads: [机]\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=rf"{bad}:7: unknown type 'Gadget'"):
        load_grammar(bad)


def test_names_outside_the_lexicon_get_a_category_by_rule_or_none():
    from etl.extract.assemble import UNSORTED, category_by_rule

    rules = GRAMMAR.categories["Mechanism"]
    assert category_by_rule(rules, "跨省市补偿") == "市场激励"
    assert category_by_rule(rules, "联合督查督办") == "协同联动", "the first category in the grammar's order wins"
    assert category_by_rule(rules, "保密措施") == UNSORTED
    assert category_by_rule(GRAMMAR.categories["Measure"], "水土保持综合观测站") == "监测与信息化"


def test_a_record_says_which_categories_a_rule_gave(tmp_path):
    from etl.extract import extract_text_document

    path = tmp_path / "report.txt"
    path.write_text("甲县水土保持工作总结\n甲县探索建立跨省市补偿机制，实行河长制。\n", encoding="utf-8")
    record = extract_text_document(path)
    mechanisms = record.properties["Mechanism"]
    assert mechanisms["跨省市补偿"] == {"category": "市场激励", "category_by": "rule"}
    assert mechanisms["河长制"] == {"category": "组织领导"}, "the lexicon's category carries no category_by"


def test_a_verb_next_to_a_named_body_ends_the_name():
    assert names("县河长办设在县水利局", "Actor") == {"河长办", "水利局"}


def test_generic_tails_go_one_after_another():
    assert without_tail(GRAMMAR, "Mechanism", "林长制工作模式") == "林长制"
    assert without_tail(GRAMMAR, "Mechanism", "工作机制") == "工作机制"


def test_a_verb_of_acting_together_separates_two_bodies():
    text = "县河长办联合县农业农村局开展专项行动"
    actors = names(text, "Actor")
    assert "农业农村局" in actors and not any("联合" in name for name in actors)


def test_a_counted_quoted_campaign_is_a_policy():
    text = "打好“三大攻坚战”，落实“三同时”制度"
    found = {(label, name) for _, _, label, name in CandidateFinder(GRAMMAR).constructions(text)}
    assert ("Policy", "三大攻坚战") in found and ("Mechanism", "三同时") in found


def test_a_preposition_is_cut_only_where_it_is_one():
    text = "持续推进自治区总河长令落实"
    assert names(text, "Mechanism") == {"总河长令"}
