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


def built(sentences: list[str], names: dict[str, list[str]], heading: str = ""):
    """The relations of a document whose sentences are given and whose entities are the names
    given by label, each found wherever its text stands in a sentence (first), its title and opening
    ``heading``."""
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
    return builder.build(entities, mentions, made, REPORTING, [], heading=heading)


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
    # 法院 is written inside 法院院长 but named as a body only in the second sentence.
    sentences = [Sentence(index=0, text="推行河湖长+法院院长机制。", start=0, end=13),
                 Sentence(index=1, text="各级法院提供司法保障。", start=14, end=25)]
    mentions = [Mention(type="Mechanism", name="河湖长+法院院长", text="河湖长+法院院长", sentence=0, start=2, end=10),
                Mention(type="Actor", name="法院", text="法院", sentence=1, start=16, end=18)]
    entities = {"Mechanism": {"河湖长+法院院长": [0]}, "Actor": {"法院": [1]}}
    builder = RelationBuilder(lexicon.load_lexicon(), lexicon.load_rules())
    built_pairs = builder.build(entities, mentions, sentences, REPORTING, [])
    pairs = {(r.head, r.tail) for r in built_pairs if r.type == "INVOLVES"}
    assert ("河湖长+法院院长", "法院") in pairs, "a body whose name the linked role's holds is still behind it"


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


def test_a_head_count_before_the_tiers_of_a_role_sets_it_up():
    assert established(["全县586名县乡村三级林长坚持巡山。"], {"Actor": ["林长"]}) == {"林长": 586}
    assert established(["共落实4885名各级林长。"], {"Actor": ["林长"]}) == {"林长": 4885}
    assert established(["构建县乡村三级林长体系。"], {"Actor": ["林长"]}) == {}, "tiers with no count set up no role"
    assert established(["推动河长与12家河长制成员单位联动。"], {"Actor": ["河长制成员单位"]}) == {"河长制成员单位": 12}


def test_a_system_built_in_tiers_involves_the_chiefs_of_its_tiers():
    pairs = involves(["构建市、乡、村三级林长体系。", "市级林长、村级林长带头巡林，护林员日常巡护，县级河长同步巡河。"],
                     {"Mechanism": ["三级林长体系"], "Actor": ["市级林长", "村级林长", "护林员", "县级河长"]})
    assert {("三级林长体系", "市级林长"), ("三级林长体系", "村级林长")} <= pairs
    assert ("三级林长体系", "护林员") not in pairs and ("三级林长体系", "县级河长") not in pairs


def test_a_chief_system_involves_its_member_units_but_not_another_systems():
    pairs = involves(["甲县全面推行河湖长制和林长制。", "各成员单位、林长制办公室成员单位按照分工抓好落实。"],
                     {"Mechanism": ["河湖长制", "林长制"], "Actor": ["成员单位", "林长制办公室成员单位"]})
    assert {("河湖长制", "成员单位"), ("林长制", "成员单位"), ("林长制", "林长制办公室成员单位")} <= pairs
    assert ("河湖长制", "林长制办公室成员单位") not in pairs


def test_hiring_cleaners_for_a_river_governs_it():
    governed = {r.tail for r in built(["甲县为罗干河、新寨河聘请了专职保洁员。", "甲县地处沅江上游。"],
                                      {"WaterBody": ["罗干河", "新寨河", "沅江"]}) if r.type == "GOVERNS"}
    assert governed == {"罗干河", "新寨河"}


def test_a_chief_system_off_the_list_involves_the_chief_it_is_named_after():
    pairs = involves(["甲县全面实行“库长制”。", "各库长每月巡库，护林员巡山。"],
                     {"Mechanism": ["库长制"], "Actor": ["库长", "护林员"]})
    assert ("库长制", "库长") in pairs and ("库长制", "护林员") not in pairs


def test_the_bodies_a_procedure_is_run_by_take_part_in_it():
    names = {"Mechanism": ["河长制工作考核"], "Actor": ["河长制办公室", "水务局", "财政局", "街道办事处"]}
    pairs = involves(["甲县开展河长制工作考核。",
                      "考核工作由县河长制办公室会同县水务局、县财政局等有关部门，按照方案对各街道办事处进行。"], names)
    assert {("河长制工作考核", "河长制办公室"), ("河长制工作考核", "水务局"), ("河长制工作考核", "财政局")} <= pairs
    assert ("河长制工作考核", "街道办事处") not in pairs, "the bodies it is done to take no part in running it"
    pairs = involves(["甲县开展河长制工作考核。", "由县河长制办公室会同县水务局等有关单位进行考核。"], names)
    assert ("河长制工作考核", "水务局") in pairs


def test_the_chief_a_mechanism_is_named_after_takes_no_part_by_its_clause():
    pairs = involves(["甲县组织志愿者宣讲河长令。"], {"Mechanism": ["河长令"], "Actor": ["河长", "志愿者"]})
    assert ("河长令", "志愿者") in pairs
    assert ("河长令", "河长") not in pairs, "河长 is written inside the order's name, not as who takes part"


def test_the_measures_of_a_plan_or_notice_the_document_issues_are_not_implemented():
    sentences = ["甲县修建淤地坝12座。"]
    names = {"Measure": ["淤地坝"]}

    def implemented(heading: str) -> set[str]:
        return {r.tail for r in built(sentences, names, heading) if r.type == "IMPLEMENTS"}

    assert implemented("甲县水利局关于印发《甲县水土保持规划》的通知\n") == set()
    assert implemented("甲县2024年水土保持工作总结\n为贯彻落实《国办印发〈关于加强水土保持工作的意见〉的通知》，") == {
        "淤地坝"}, "a notice cited inside a title is not this document's issuing"


def test_a_national_strategy_named_after_a_river_is_no_governance_of_it():
    sentences = ["甲县共抓长江大保护，落实黄河流域生态保护和高质量发展战略。", "甲县开展汾河流域生态修复。"]
    waters = {"WaterBody": ["长江", "黄河流域", "汾河流域"]}
    governed = {r.tail for r in built(sentences, waters) if r.type == "GOVERNS"}
    assert governed == {"汾河流域"}


def test_a_name_typed_both_mechanism_and_actor_does_not_involve_itself():
    pairs = involves(["双方建立联络员、联席会议等制度，县水利局参与。"],
                     {"Mechanism": ["联络员", "联席会议"], "Actor": ["联络员", "水利局"]})
    assert ("联络员", "联络员") not in pairs


def test_a_role_put_in_charge_of_named_waters_governs_them():
    def governed(sentence: str, names: dict[str, list[str]]) -> set[tuple[str, str]]:
        return {(r.head, r.tail) for r in built([sentence], names) if r.type == "GOVERNS" and r.head != "甲县"}

    hired = {"WaterBody": ["罗干河", "新寨河"], "Actor": ["专职保洁员"]}
    assert governed("甲镇为罗干河、新寨河河段聘请了专职保洁员。", hired) == {
        ("专职保洁员", "罗干河"), ("专职保洁员", "新寨河")}
    chiefs = {"WaterBody": ["沙河", "清水河"], "Actor": ["市级河长", "湖长"]}
    assert governed("沙河、清水河分别由市级河长担任湖长。", chiefs) == {
        ("市级河长", "沙河"), ("市级河长", "清水河")}, "the role 由 names is in charge, not the title it takes"
    assert governed("甲县聘请专职保洁员清理罗干河。", {"WaterBody": ["罗干河"], "Actor": ["专职保洁员"]}) == set()
