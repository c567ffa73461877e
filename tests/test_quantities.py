"""Quantity attribution on constructions of official prose: which thing a number counts, and
which numbers count nothing (ONTOLOGY conventions 7 and 16). Each case is a sentence written in
the style of the reports, with the subject the annotators' guideline gives it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from etl.extract import extract_text_document, learned
from etl.extract.lexicon import load_numbers


@pytest.fixture(autouse=True)
def rules_alone(monkeypatch, tmp_path_factory):
    """Quantities come from the rules alone; the learned entity model plays no part in them."""
    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path_factory.mktemp("no-models")))
    yield


def counted(tmp_path: Path, body: str) -> set[tuple[str, float | None, str]]:
    """The (subject, value, unit) of every quantity of a one-paragraph report."""
    path = tmp_path / "report.txt"
    path.write_text("某县2023年工作总结\n" + body + "\n", encoding="utf-8")
    return {(q.subject, q.value, q.unit) for q in extract_text_document(path).quantities}


def test_a_whole_jurisdiction_is_no_part_of_the_counted_noun(tmp_path):
    assert ("用水总量", 223.0, "亿立方米") in counted(tmp_path, "全省用水总量控制在223亿立方米以内。")


def test_counts_of_kinds_are_no_quantities(tmp_path):
    found = counted(tmp_path, "保护区内有维管束植物340多种，实施矿山生态环境整治4类，建成淤地坝12座。")
    assert ("淤地坝", 12.0, "座") in found
    assert not {unit for _, _, unit in found} & {"种", "类"}, "a count of kinds sorts things, it measures no work"


def test_bare_classes_of_places_are_background(tmp_path):
    found = counted(tmp_path, "全省共有设区市11个、湖泊10多个，辖区行政村214个。全年建成省级美丽河湖8条。")
    assert ("省级美丽河湖", 8.0, "条") in found, "a qualified place counted is work"
    assert not {s for s, _, _ in found} & {"设区市", "湖泊", "行政村"}, "a bare class of places describes the territory"


def test_a_change_against_a_comparison_in_an_earlier_clause_is_a_delta(tmp_path):
    found = counted(tmp_path, "与2011年相比，全区水土流失面积减少了6.39万平方公里。全年治理水土流失面积30平方公里。")
    assert not any(value == 6.39 for _, value, _ in found), "a change against an earlier figure (convention 16)"
    assert any(value == 30.0 for _, value, _ in found)


def test_the_share_of_a_bare_area_is_background(tmp_path):
    found = counted(tmp_path, "丽水市境内瓯江流域范围，面积13306余平方千米，"
                              "占整个瓯江流域总面积的73.1%，占丽水市总面积的76.9%。全市水土流失面积374.7万亩，占土地总面积13.1%。")
    assert ("水土流失面积占比", 13.1, "%") in found
    assert not any(value in (73.1, 76.9) for _, value, _ in found), "the share of a whole's size is background"


def test_approximation_before_the_scale(tmp_path):
    found = counted(tmp_path, "全市河长巡河累计242余万次，推动解决问题18余万个。")
    assert {("巡河次数", 242.0, "万次"), ("解决问题", 18.0, "万个")} <= found, "余 before 万; 累计 links"


def test_words_holding_a_function_character_and_bare_degree_attributes(tmp_path):
    found = counted(tmp_path, "全县植被综合盖度达85%，治理度达到94%，清理动物牲畜尸体230余具。")
    assert ("植被综合盖度", 85.0, "%") in found, "被 of 植被 is no preposition"
    assert ("治理度", 94.0, "%") in found, "度 after its verb names the attribute"
    assert ("清理动物牲畜尸体", 230.0, "具") in found


NUMBER_PATTERNS = sorted(key.removesuffix("_examples") for key in load_numbers() if key.endswith("_examples"))


@pytest.mark.parametrize("name", NUMBER_PATTERNS)
def test_number_patterns_match_their_examples_and_spare_their_counterexamples(name):
    numbers = load_numbers()
    pattern = re.compile(numbers[name])
    assert numbers[f"{name}_examples"] and numbers[f"{name}_counterexamples"]
    assert all(pattern.match(text) for text in numbers[f"{name}_examples"])
    assert not any(pattern.match(text) for text in numbers[f"{name}_counterexamples"])


def test_a_treatment_with_its_adverb_is_named_object_first(tmp_path):
    found = counted(tmp_path, "全年共开展水土流失综合治理项目区12个，综合治理小流域16条。")
    assert ("小流域综合治理", 16.0, "条") in found


def test_passing_rivers_directions_income_and_overshoots_count_no_work(tmp_path):
    found = counted(tmp_path, "黄河过境190公里。集体经济经营收入达到60多万元。"
                              "全年完成造林366.7万亩，超出年度任务37.3%。")
    assert ("造林", 366.7, "万亩") in found
    assert not any(value in (190.0, 60.0, 37.3) for _, value, _ in found)


def test_a_move_told_over_two_clauses_and_names_cut_inside_a_word(tmp_path):
    found = counted(tmp_path, "全区水土流失面积由上世纪80年代的80.47万平方公里，减少到如今的56.52万平方公里，"
                              "水土流失面积占国土面积比例由68.02%下降到约47.77%。")
    assert ("水土流失面积", 56.52, "万平方公里") in found, "the value it moved to, in a clause of its own"
    assert not any(subject.startswith("土流失") for subject, _, _ in found), "no name starts inside a word"


def test_linking_words_end_a_noun_that_reaches_its_level(tmp_path):
    found = counted(tmp_path, "完成封山育林800万亩，森林覆盖率达到并稳定在66%。")
    assert ("森林覆盖率", 66.0, "%") in found


def test_removing_what_is_off_topic_is_work(tmp_path):
    found = counted(tmp_path, "关闭禁限养区养殖场23家，拆除违建羊肚菌大棚680余平方米，新建日光温室40座。")
    assert {("关闭禁限养区养殖场", 23.0, "家"), ("拆除违建羊肚菌大棚", 680.0, "平方米")} <= found
    assert not any(subject.endswith("温室") for subject, _, _ in found), "building greenhouses stays off topic"


def test_a_noun_after_its_number_ends_before_the_work_done_on_it(tmp_path):
    found = counted(tmp_path, "完成集体林地改革等任务，稳步推进25个国有林场试点建设，探索经营新模式。")
    assert ("国有林场试点", 25.0, "个") in found


def test_a_known_work_cut_out_of_a_longer_word_is_named_whole(tmp_path):
    found = counted(tmp_path, "全年完成营造林560万亩。")
    assert ("营造林", 560.0, "万亩") in found, "the analyser's word 营造林, not the lexicon's 造林 inside it"


def test_a_known_work_keeps_the_noun_before_it_but_not_the_jurisdiction(tmp_path):
    found = counted(tmp_path, "过去五年，累计完成林草生态修复1069.7万亩。全县人工造林126万亩。")
    assert ("林草生态修复", 1069.7, "万亩") in found, "林草 says which restoration"
    assert ("人工造林", 126.0, "万亩") in found, "全县 says where"


def test_generic_nouns_and_misread_verbs_stay_out_of_a_known_work(tmp_path):
    found = counted(tmp_path, "全年完成治理任务坡改梯2.5万亩，新修蓄水池3座。")
    assert ("坡改梯", 2.5, "万亩") in found, "任务 says nothing of which work"
    assert ("蓄水池", 3.0, "座") in found


def test_a_number_that_opens_a_list_item_counts_what_follows_it(tmp_path):
    found = counted(tmp_path, "全年在库区建成12座污水处理厂、86座农村污水处理站、3600公里污水收集管网。"
                              "重点治理黄土丘陵区、风沙区2个片区。打造300米见绿、500米见园街头绿地。")
    assert {("农村污水处理站", 86.0, "座"), ("污水收集管网", 3600.0, "公里")} <= found
    assert not any(value == 2.0 for _, value, _ in found), "a number after a list of names sums the list up"
    assert not any(value == 500.0 for _, value, _ in found), "a number that runs into a verb is a slogan's"


def test_a_reservoirs_design_figures_are_background(tmp_path):
    found = counted(tmp_path, "该水库总库容1200万立方米，兴利库容800万立方米，最大坝高35米，正常蓄水位860米，"
                              "湖区水面面积约12km²，贮水量约2亿立方米。全年清淤疏浚河道15公里。")
    assert ("清淤疏浚河道", 15.0, "公里") in found or any(value == 15.0 for _, value, _ in found)
    assert not any(value in (1200.0, 800.0, 860.0, 12.0, 2.0) for _, value, _ in found), "a reservoir's design"


def test_what_a_place_has_is_background_and_spaces_before_a_number_join(tmp_path):
    found = counted(tmp_path, "境内水库众多，其中小型水库有90座。\n2.森林蓄积量达到 120万立方米。")
    assert not any(value == 90.0 for _, value, _ in found), "a count of what a place has"
    assert ("森林蓄积量", 120.0, "万立方米") in found, "spaces a page leaves before the number"


def test_a_measured_amount_the_analyser_misreads_is_still_a_noun(tmp_path):
    found = counted(tmp_path, "全市天然林保有量达到3.2万公顷，湿地保有量达到12万亩。")
    assert ("天然林保有量", 3.2, "万公顷") in found, "天然|林保|有量: the analyser reads an adverb in it"
    assert ("湿地保有量", 12.0, "万亩") in found


def test_a_noun_after_its_number_ends_where_its_predicate_begins(tmp_path):
    found = counted(tmp_path, "对全县18条骨干渠道分段设立河长，对沿江40艘采砂船采取集中停靠管理，"
                              "建成9座污水处理厂、2100公里污水收集管网，印发13项河长制工作制度。")
    assert {("骨干渠道", 18.0, "条"), ("采砂船", 40.0, "艘")} <= found, "分段 and 采取 open what is said of the noun"
    assert ("污水收集管网", 2100.0, "公里") in found, "a verb before the noun's last word is part of the noun"
    assert ("河长制工作制度", 13.0, "项") in found, "制 of 河长制, a one-character verb of the analyser's, cuts nothing"
    found = counted(tmp_path, "3家企业需分别承担生态环境损害赔偿费用。")
    assert not any(value == 3.0 for _, value, _ in found), "a modal before the predicate: who acts, not what is counted"


def test_two_numbers_of_one_thing_share_their_noun(tmp_path):
    found = counted(tmp_path, "全年清理侵占河道堤埝45条、120公里；全域85条、160公里黑臭河道完成整治。")
    subjects = {value: subject for subject, value, _ in found}
    assert subjects[45.0] == subjects[120.0], "the second number of a pair has the first's noun"
    assert {("黑臭河道", 85.0, "条"), ("黑臭河道", 160.0, "公里")} <= found, "the noun after the pair is both's"


def test_a_bare_fund_keeps_the_verb_that_raised_it_and_a_scale_alone_is_one_of_it(tmp_path):
    found = counted(tmp_path, "全年累计投入资金2.3亿元，累计投入治理资金4000万元。"
                              "环湖湿地总投资近千万元，数千亩林地得到管护。")
    assert {("投入资金", 2.3, "亿元"), ("治理资金", 4000.0, "万元")} <= found, "the one verb, not the chain"
    assert ("总投资", 1000.0, "万元") in found or any(value == 1000.0 and unit == "万元" for _, value, unit in found)
    assert not any(unit == "亩" for _, _, unit in found), "数千 is a vague amount, no number"


def test_a_work_counted_by_its_extent_is_a_measure_and_a_metric_an_indicator(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("某县2023年工作总结\n全年修建排水渠12公里，完成河道底泥清理3.5万立方米，补植树木2.1万株。"
                    "发现破坏植被案件9起，建成水土流失综合治理项目区3个，落实林草生态修复资金800万元。\n",
                    encoding="utf-8")
    record = extract_text_document(path)
    types = {q.subject: q.subject_type for q in record.quantities}
    assert {types[s] for s in ("排水渠", "河道底泥清理", "补植树木")} == {"Measure"}, "works done on land and water"
    assert "排水渠" in record.entities["Measure"] and "排水渠" not in record.entities.get("Indicator", {})
    fund = next(s for s in types if s.endswith("资金"))
    assert {types["破坏植被案件"], types["水土流失综合治理项目区"], types[fund]} == {"Indicator"}, \
        "an item counted, a metric or money is an Indicator whatever its words"


def test_a_thing_measured_by_its_extent_is_a_work_done_and_a_metric_of_extent_an_indicator(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("某县2023年工作总结\n全年建成生态步道3.2公里，铺设污水管网20公里，清运河道垃圾600吨；"
                    "全县水土流失治理面积30平方公里，森林蓄积量达850万立方米。\n", encoding="utf-8")
    types = {q.subject: q.subject_type for q in extract_text_document(path).quantities}
    assert types["生态步道"] == "Measure", "a length built is a work, whatever its words"
    assert {types[s] for s in types if s.endswith("污水管网")} == {"Measure"}
    assert {types["水土流失治理面积"], types["森林蓄积量"]} == {"Indicator"}, "a metric of extent ends in its head"


def test_a_time_or_a_place_counts_nothing(tmp_path):
    found = counted(tmp_path, "淤积厚度在0.5米到1.5米之间。去年50多亩玉米获得丰收。全年清淤河道3条。")
    assert not {s for s, _, _ in found} & {"之间", "去年"}, "a locative or a time word says where or when"
    assert ("清淤河道", 3.0, "条") in found


def test_a_long_name_that_moved_is_named_by_the_metric_that_ends_it(tmp_path):
    found = counted(tmp_path, "全市重要江河湖泊水功能区水质达标率由2018年的86.5%提升至2022年的97.2%。")
    assert {("水功能区水质达标率", 86.5, "%"), ("水功能区水质达标率", 97.2, "%")} <= found, \
        "a name longer than the move's reach keeps the metric the lexicon knows, as written"


def test_what_stands_before_a_known_metric_says_where(tmp_path):
    found = counted(tmp_path, "全县重要江河湖泊水功能区水质达标率达到92%，出境水水质达标率为100%，"
                              "饮用水水源地水质达标率为100%。")
    assert {("水功能区水质达标率", 92.0, "%"), ("水质达标率", 100.0, "%")} <= found, "the lexicon's metric, as written"
    assert ("饮用水水源地水质达标率", 100.0, "%") in found, "a metric the lexicon names whole stays whole"


def _model_with(tmp_path: Path, weights: dict[str, float]) -> Path:
    """A models folder holding an entity model of the given weights and nothing learned besides."""
    folder = tmp_path / "models"
    folder.mkdir()
    data = {"format": learned.FORMAT, "weights": weights, "threshold": 0.35, "gold": [], "seen": {}}
    (folder / learned.MODEL_FILE).write_text(json.dumps(data), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("indicator_bias", "kept"), [(-5.0, False), (0.0, True)])
def test_a_number_goes_with_the_subject_the_model_doubts(tmp_path, monkeypatch, indicator_bias, kept):
    """An Indicator named only as what a number counts, which the entity model gives less than its
    subject_threshold, is neither an entity nor a quantity; a Measure's count stays (its thing is
    named by the lexicon), and every quantity left names an entity of the record."""
    from etl.graph import rows

    monkeypatch.setenv("GOVGRAPH_MODELS", str(_model_with(tmp_path, {"Indicator|bias": indicator_bias})))
    path = tmp_path / "report.txt"
    path.write_text("某县2023年工作总结\n全年建成淤地坝12座，治理水土流失面积30平方公里。\n", encoding="utf-8")
    record = extract_text_document(path)
    found = {(q.subject, q.value) for q in record.quantities}
    assert ("淤地坝", 12.0) in found
    assert any(value == 30.0 for _, value in found) is kept
    assert ("水土流失治理面积" in record.entities.get("Indicator", [])) is kept
    rows.validate(record)


def test_a_subject_whose_numbers_the_filter_drops_is_judged_as_any_name(tmp_path, monkeypatch):
    """A subject is sure only while a number hangs on it: once the quantity filter drops its every
    number, the entity model judges it at its threshold like any candidate (here it scores 0.18:
    above the doubt of subject_threshold, under the 0.35 that keeps a name)."""
    from etl.extract import quantity_model

    folder = _model_with(tmp_path, {"Indicator|bias": -1.5})
    dropping = {"format": quantity_model.FORMAT, "weights": {"unit=万元": -10.0}, "threshold": 0.1}
    (folder / quantity_model.MODEL_FILE).write_text(json.dumps(dropping), encoding="utf-8")
    monkeypatch.setenv("GOVGRAPH_MODELS", str(folder))
    path = tmp_path / "report.txt"
    path.write_text("某县2023年工作总结\n全年落实补助资金300万元，治理水土流失面积30平方公里。\n", encoding="utf-8")
    record = extract_text_document(path)
    assert {(q.subject, q.value) for q in record.quantities} == {("水土流失治理面积", 30.0)}
    indicators = record.entities.get("Indicator", {})
    assert "水土流失治理面积" in indicators, "a subject with its number stays sure"
    assert not any(name.endswith("资金") for name in indicators), "the dropped money's subject went with it"
