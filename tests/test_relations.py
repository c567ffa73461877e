"""Relation rules on hand-made documents: which actors a mechanism involves.

Each test builds a document's entities and mentions the way assembly hands them over (name →
sentence indices, spans in the text) and asks etl.extract.relations for the INVOLVES pairs.
"""

from __future__ import annotations

from etl.extract import lexicon
from etl.extract.places import RegionInfo
from etl.extract.relations import RelationBuilder
from etl.graph.records import Mention, Sentence

REPORTING = RegionInfo(name="甲县", level="县")


def built(sentences: list[str], names: dict[str, list[str]]):
    """The relations of a document whose sentences are given and whose entities are the names
    given by label, each found wherever its text stands in a sentence."""
    made, mentions, at = [], [], 0
    entities: dict[str, dict[str, list[int]]] = {}
    for index, text in enumerate(sentences):
        made.append(Sentence(index=index, text=text, start=at, end=at + len(text)))
        for label, found in names.items():
            for name in found:
                start = text.find(name)
                if start >= 0:
                    mentions.append(Mention(type=label, name=name, text=name, sentence=index,
                                            start=at + start, end=at + start + len(name)))
                    entities.setdefault(label, {}).setdefault(name, []).append(index)
        at += len(text) + 1
    mentions.sort(key=lambda m: m.start)
    builder = RelationBuilder(lexicon.load_lexicon(), lexicon.load_rules())
    return builder.build(entities, mentions, made, REPORTING, [])


def involves(sentences: list[str], names: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The (mechanism, actor) pairs of such a document."""
    return {(r.head, r.tail) for r in built(sentences, names) if r.type == "INVOLVES"}


def established(sentences: list[str], names: dict[str, list[str]]) -> dict[str, int | None]:
    """The actors such a document's region sets up, with their head counts."""
    return {r.tail: r.props.count for r in built(sentences, names) if r.type == "ESTABLISHES"}


def test_a_river_and_lake_chief_system_involves_the_river_chiefs_and_their_office():
    pairs = involves(["甲县全面推行河湖长制。", "县总河长召开会议，河长办督办问题。"],
                     {"Mechanism": ["河湖长制"], "Actor": ["总河长", "河长办"]})
    assert {("河湖长制", "总河长"), ("河湖长制", "河长办")} <= pairs


def test_a_procuratorial_procedure_involves_the_procuratorate_named_anywhere():
    pairs = involves(["县人民检察院与县林长办签订协议。", "对问题线索发出检察建议。"],
                     {"Mechanism": ["检察建议"], "Actor": ["县人民检察院", "县林长办"]})
    assert ("检察建议", "县人民检察院") in pairs
    assert ("检察建议", "县林长办") not in pairs, "only the procuratorate runs the procedure"


def test_a_linked_role_brings_the_body_behind_it():
    pairs = involves(["推行“河长+警长”机制。", "县公安局配合开展巡河。"],
                     {"Mechanism": ["河长+警长"], "Actor": ["河长", "警长", "公安局"]})
    assert ("河长+警长", "公安局") in pairs


def test_a_part_of_another_linkage_in_the_sentence_is_no_partner():
    pairs = involves(["推行“林长+管护员”“林长+检察长”机制，县林业局参与。"],
                     {"Mechanism": ["林长+管护员", "林长+检察长"], "Actor": ["林长", "管护员", "检察长", "林业局"]})
    assert ("林长+检察长", "检察长") in pairs and ("林长+管护员", "管护员") in pairs
    assert ("林长+检察长", "管护员") not in pairs and ("林长+管护员", "检察长") not in pairs
    assert ("林长+检察长", "林业局") in pairs, "a partner no linkage joins still takes part"


def test_a_verb_whose_object_is_a_duty_or_system_sets_up_no_role():
    found = established(["甲县明确各级河长职责，建立政府、部门、河长和河长办“四位一体”考评体系。",
                         "甲县设立村级河长，配备管护员。"],
                        {"Actor": ["各级河长", "河长办", "村级河长", "管护员"]})
    assert "村级河长" in found and "管护员" in found
    assert "各级河长" not in found and "河长办" not in found


def test_a_head_count_of_many_before_the_role_sets_it_up():
    assert established(["全县4300多名河湖长坚持一线巡河。"], {"Actor": ["河湖长"]}) == {"河湖长": 4300}


def test_the_parts_of_linkages_take_no_part_in_the_system_their_clause_names():
    names = {"Mechanism": ["河长+检察长", "河长+志愿者", "联防联治"], "Actor": ["河长", "检察长", "志愿者"]}
    # The linkages' parts are mentions inside the linkages' spans, as assembly hands them over.
    pairs = involves(["创新“河长+检察长”“河长+志愿者”等联防联治模式，打开治理新格局。"], names)
    assert ("河长+检察长", "检察长") in pairs and ("河长+志愿者", "志愿者") in pairs
    assert not {p for p in pairs if p[0] == "联防联治"}


def test_a_system_named_in_a_documents_title_takes_no_part_from_its_issuers():
    pairs = involves(["根据省委办公厅、省政府办公厅《关于全面深化落实河长制的意见》，特制定本方案。"],
                     {"Mechanism": ["河长制"], "Actor": ["省委办公厅", "省政府办公厅"],
                      "Policy": ["关于全面深化落实河长制的意见"]})
    assert not pairs


def test_carrying_out_sets_up_no_role_but_a_head_count_does():
    assert established(["甲县落实河长巡河。"], {"Actor": ["河长"]}) == {}
    assert established(["甲县落实各级林长4885人。"], {"Actor": ["各级林长"]}) == {"各级林长": 4885}
