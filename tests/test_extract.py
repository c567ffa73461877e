"""Extract stage: each rule with a positive and a negative case, reports written in the style
of other regions, the CLI's bad-input behaviour, worker invariance and the seed scores."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.extract import extract_corpus, extract_text_document, lexicon, places, regions, reporting_region
from etl.extract.lexicon import load_units
from etl.extract.pipeline import SPANS_KEY, build_nlp
from etl.extract.quantities import QuantityFinder, parse_number, standardize

SHARED = config.PROJECT_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def rules_alone(request, monkeypatch, tmp_path_factory):
    """The rules' tests see the rules alone (no learned model accepting candidates); tests marked
    ``learned`` run the extractor as shipped, with models/entities.json."""
    if request.node.get_closest_marker("learned") is None:
        monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path_factory.mktemp("no-models")))
    yield


def mentions(text: str) -> set[tuple[str, str]]:
    doc = build_nlp()(text)
    return {(span.label_, span.id_) for span in doc.spans[SPANS_KEY]}


def write_report(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- tokenizer ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("修建淤地坝3座", ["修", "建", "淤地坝", "3", "座"]),
        ("推行河长制", ["推", "行", "河长制"]),
        ("生态清洁型小流域2个", ["生态清洁型小流域", "2", "个"]),
    ],
)
def test_tokenizer_keeps_lexicon_terms_whole(text, tokens):
    assert [t.text for t in build_nlp().make_doc(text)] == tokens


# --- rules: positive and negative --------------------------------------------------------

def test_linkage_is_one_mechanism():
    found = mentions("全面推行“河湖长+法院院长+检察长+警长”协作模式。")
    assert ("Mechanism", "河湖长+法院院长+检察长+警长") in found
    assert ("Actor", "检察长") in found


def test_a_linkage_of_actors_is_a_coordination_mechanism(tmp_path):
    text = "乙县2024年工作总结\n乙县建立“河长+检察长”协作机制，推行“条田+路渠”模式。\n"
    record = extract_text_document(write_report(tmp_path, "l.txt", text))
    categories = record.properties["Mechanism"]
    assert categories["河长+检察长"]["category"] == "协同联动"
    assert categories["条田+路渠"] == {"category": "未分类", "category_by": "rule"}, \
        "parts that are not actors: no coordination guessed"


def test_text_without_plus_is_no_linkage():
    assert not any("+" in name for _, name in mentions("推进“四水同治”，落实河长制。"))


def test_quoted_name_before_a_system_word_is_a_mechanism():
    assert ("Mechanism", "一月一督办制度") in mentions("建立“一月一督办”制度，压实责任。")
    assert ("Mechanism", "清四乱") in mentions("开展“清四乱”专项行动机制。")


def test_quoted_slogan_is_not_a_mechanism():
    assert not any(label == "Mechanism" for label, _ in mentions("围绕“山青、水净、村美”的目标推进。"))


def test_titles_are_policies():
    found = mentions("贯彻《中华人民共和国水土保持法》，编制《平利县水土保持规划(2021—2030年)》。")
    assert ("Policy", "中华人民共和国水土保持法") in found
    assert ("Policy", "平利县水土保持规划(2021—2030年)") in found
    assert not any(label == "Policy" for label, _ in mentions("水土保持法规定了补偿费的征收。"))
    films = mentions("制作专题片《青山绿水看平利》，出版《水保丰碑——治理纪实》。")
    assert not any(label == "Policy" for label, _ in films)


def test_titles_in_angle_brackets_and_titles_of_duties_and_rules_are_policies():
    found = mentions("印发〈郑州市全面推行河长制工作方案〉，执行《河南省实施<中华人民共和国水土保持法>办法》。")
    assert ("Policy", "郑州市全面推行河长制工作方案") in found
    assert ("Policy", "河南省实施<中华人民共和国水土保持法>办法") in found
    found = mentions("制定《县级林长工作职责》和《林长制运行规则(试行)》。")
    assert {("Policy", "县级林长工作职责"), ("Policy", "林长制运行规则")} <= found
    assert not any(label == "Policy" for label, _ in mentions('<p id="x1">治理方案</p>，流量<5立方米每秒>。'))


def test_level_roles():
    found = mentions("全县设立县级林长15名、乡级林长126名、村级林长498名。")
    assert {("Actor", "县级林长"), ("Actor", "乡级林长"), ("Actor", "村级林长")} <= found
    assert not any(name.endswith("级林长") for _, name in mentions("林长制工作全面推进。"))


def test_regions_named_redacted_and_towns():
    found = {(m.region.name, m.region.anonymized) for m in regions.find_region_mentions(
        "某县地处陕西省安康市，平利县城关镇、老县镇和XX乡均已建成示范村。")}
    assert ("某县", True) in found and ("XX乡", True) in found
    assert {("陕西省", False), ("安康市", False), ("平利县", False), ("城关镇", False), ("老县镇", False)} <= found
    assert not any(name in ("示范村", "城乡", "美丽乡村") for name, _ in found)


def test_generic_words_are_not_regions():
    text = "统筹城乡发展，建设美丽乡村，县乡村三级管护，全县各乡镇，建成县城污水厂。"
    assert regions.find_region_mentions(text) == []


def test_a_common_word_before_a_town_suffix_is_no_town():
    names = {m.region.name for m in regions.find_region_mentions("加强指导镇村两级落实，林路村和团河镇完成治理。")}
    assert "指导镇" not in names
    assert {"林路村", "团河镇"} <= names, "rare words and place names stay names"


@pytest.mark.parametrize("text", ["有机农产品基地", "有无公害农产品基地", "有绿色农产品基地", "有效灌溉面积",
                                  "有林地面积", "有害生物防治", "有水土保持方案", "有关部门", "河长制"])
def test_first_word_is_jiebas_first_word(text):
    import jieba

    assert places.first_word(text) == next(iter(jieba.cut(text, HMM=False)))


def test_dictionary_tables_are_jiebas():
    import jieba
    import jieba.posseg

    jieba.initialize()
    frequencies, tags = places.jieba_words()
    assert tags == jieba.posseg.dt.word_tag_tab
    assert {w: int(f) for w, f in frequencies.items()} == {w: f for w, f in jieba.dt.FREQ.items() if w in frequencies}
    assert places.word_tag("装机容量")[0] == "n" and places.word_tag("提高")[0] == "v"


def test_renamed_counties_are_found_by_their_current_and_old_names():
    found = {m.region.name: m.region for m in regions.find_region_mentions("关于宁乡市推进河长制工作的情况汇报")}
    assert set(found) == {"宁乡市"}, "宁乡市 is the county 宁乡县 (2017), and 关于宁乡 is no township"
    assert found["宁乡市"].level == "县" and found["宁乡市"].adcode.startswith("4301")
    old = {m.region.name: m.region for m in regions.find_region_mentions("2015年宁乡县完成治理")}
    assert old["宁乡县"].adcode == found["宁乡市"].adcode, "an old name is the current division, named as written"
    assert [m.text for m in regions.find_region_mentions("沩山乡、灰汤镇开展河道保洁")] == ["沩山乡", "灰汤镇"]
    assert regions.find_region_mentions("规范会同市场秩序") == [], "a market is no city"
    assert [m.text for m in regions.find_region_mentions("大成桥镇鹊山村建成小流域，建设美丽山村")] == \
        ["大成桥镇", "鹊山村"], "a village named after a place (鹊山) is a village; 美丽山村 is not"
    assert places.gazetteer()["长沙市"][0].level == "市", "a real city keeps its own entry"
    assert "会同市" not in places.region_names(), "no name the table lacks is made up"
    assert regions.short_name_region("我市在会同召开现场会，会同经验全市推广。") is None, \
        "会同 is a county's stem, not a city's: no 会同市 is made up"


def test_no_parent_is_added_from_the_gazetteer_alone():
    pingli = places.gazetteer()["平利县"][0]
    assert reporting_region.implied_parents(pingli, "贯彻市委部署，全省推广。") == [], \
        "市委 implies a city, but only the gazetteer names it (Settled conventions 1)"


def test_ambiguous_county_is_resolved_by_context():
    mentions_ = regions.resolve_regions(regions.find_region_mentions("吉林省长春市朝阳区开展河湖保洁。"))
    chaoyang = next(m.region for m in mentions_ if m.region.name == "朝阳区")
    assert chaoyang.adcode.startswith("2201")


# --- quantities --------------------------------------------------------------------------

FINDER = QuantityFinder(load_units())


@pytest.mark.parametrize(
    ("text", "value", "unit", "approx", "redacted"),
    [
        ("修建淤地坝X座", None, "座", None, True),
        ("争取资金XX万元", None, "万元", None, True),
        ("张贴标语1100余份", 1100.0, "份", "余", False),
        ("散发宣传资料1万余份", 1.0, "万份", "余", False),
        ("完成治理面积12.6平方公里", 12.6, "平方公里", None, False),
        ("新建谷坊二十六座", 26.0, "座", None, False),
        ("水土保持率达到63.56%", 63.56, "%", None, False),
        ("累计投资3167.6万元", 3167.6, "万元", None, False),
        ("治理水土流失XXkm²", None, "km²", None, True),
        ("新增治理面积30平方公里以上", 30.0, "平方公里", None, False),
        ("完成3个项目", 3.0, "个", None, False),
        ("守护24 个责任区", 24.0, "个", None, False),
        ("清运垃圾17.46万吨", 17.46, "万吨", None, False),
        ("打击非法采砂船只21艘", 21.0, "艘", None, False),
    ],
)
def test_quantities(text, value, unit, approx, redacted):
    (q,) = FINDER.find(text)
    assert (q.value, q.unit, q.approx, q.redacted) == (value, unit, approx, redacted)


@pytest.mark.parametrize("text", ["第12位", "一是加强领导", "十四五时期", "党的二十大",
                                  "经过3个小时讨论", "用了6个月时间", "从5个方面提出要求",
                                  "对面积50平方公里以上的河流", "坡度25度以上且面积10亩以上的地块"])
def test_ordinals_and_names_are_not_quantities(text):
    assert FINDER.find(text) == []


def test_chinese_numerals_and_standard_units():
    assert parse_number("两") == 2 and parse_number("十二") == 12 and parse_number("XX") is None
    units = load_units()
    assert standardize(35, "万亩", units) == (pytest.approx(23333.3345), "公顷")
    assert standardize(2.86, "亿元", units) == (286000000.0, "元")
    assert standardize(12, "座", units) == (None, None)
    assert standardize(None, "万元", units) == (None, None)


# --- whole reports in the style of other regions ------------------------------------------

FOREST_REPORT = """平利县全面推行林长制工作情况汇报
今年以来，平利县深入贯彻落实省委、省政府决策部署，全面推行林长制。
一是健全组织体系。成立县林长制办公室，设立县级林长15名、镇级林长86名、村级林长312名，聘请生态护林员420名。
二是强化生态修复。全年完成植树造林1.2万亩，实施退耕还林3500亩，新建淤地坝12座、谷坊26座，治理水土流失面积45.6平方公里。
三是压实责任。签订目标责任书，将林长制工作纳入年度考核，严格落实考核问责，对履职不力的林长进行约谈。
四是创新机制。推行“林长+检察长”协作模式，联合县检察院开展公益诉讼；建立“林长+警长”联动机制，公安机关配合巡山执法。
到2025年，全县森林覆盖率达到72.5%，水土保持率达到80.2%。
"""


def test_a_forest_chief_report(tmp_path):
    record = extract_text_document(write_report(tmp_path, "pingli.txt", FOREST_REPORT))
    assert record.region.name == "平利县" and record.region.adcode.startswith("6109")
    entities = record.entities
    assert {"林长制", "目标责任书", "考核问责", "林长+检察长", "林长+警长", "公益诉讼"} <= set(entities["Mechanism"])
    assert {"县级林长", "镇级林长", "村级林长", "林长制办公室", "护林员", "检察长", "警长"} <= set(entities["Actor"])
    assert {"植树造林", "退耕还林", "淤地坝", "谷坊", "水土流失治理面积"} <= set(entities["Measure"]) | set(
        entities["Indicator"])
    triples = {(r.head, r.type, r.tail) for r in record.relations}
    assert ("平利县", "ADOPTS", "林长+检察长") in triples
    assert ("林长+检察长", "INVOLVES", "检察长") in triples
    assert ("林长+警长", "INVOLVES", "公安机关") in triples
    assert ("平利县", "IMPLEMENTS", "淤地坝") in triples
    established = {r.tail: r.props.count for r in record.relations if r.type == "ESTABLISHES"}
    assert established["县级林长"] == 15 and established["村级林长"] == 312
    quantities = {(q.subject, q.value, q.unit, q.kind, q.year) for q in record.quantities}
    assert ("淤地坝", 12.0, "座", "actual", None) in quantities
    assert ("森林覆盖率", 72.5, "%", "target", 2025) in quantities
    assert ("水土保持率", 80.2, "%", "target", 2025) in quantities
    every = [r for r in record.relations if not r.props.evidence]
    assert every == [], "every relation carries its evidence"


LAKE_REPORT = """都昌县2023年湖长制工作总结
2023年，都昌县以鄱阳湖保护为重点，全面深化湖长制。
全县共设立县级湖长12名、乡级湖长48名、村级湖长236名，聘请民间湖长56名、湖泊巡查员320名。县委书记、县长担任县级总湖长，县湖长制办公室设在县水利局。
“清四乱”常态化开展，全年累计排查整治“四乱”问题87个。
实施鄱阳湖湿地生态修复工程，完成退田还湖3200亩。
推行“湖长+检察长+警长”协作机制，与县人民检察院联合开展公益诉讼专项行动，发出检察建议书15份。建立湖长述职制度，将湖长制工作纳入乡镇综合考核。
"""


def test_a_lake_chief_report(tmp_path):
    record = extract_text_document(write_report(tmp_path, "duchang.txt", LAKE_REPORT))
    assert record.region.name == "都昌县" and record.region.adcode.startswith("3604")
    entities = record.entities
    assert {"湖长制", "清四乱", "述职制度", "检察建议", "公益诉讼", "湖长+检察长+警长"} <= set(entities["Mechanism"])
    assert {"民间湖长", "巡查员", "湖长制办公室", "总湖长", "水利局"} <= set(entities["Actor"])
    assert {"湿地生态修复", "退田还湖"} <= set(entities["Measure"]), "a work named as written, without its place"
    established = {r.tail: r.props.count for r in record.relations if r.type == "ESTABLISHES"}
    assert established["民间湖长"] == 56 and established["巡查员"] == 320 and established["村级湖长"] == 236
    assert not {"县委书记", "县长", "水利局", "乡镇", "检察长", "警长"} & set(established), \
        "office-holders, standing organs and a linkage's parts are not set up by the report"
    counted = {(q.subject, q.value, q.unit) for q in record.quantities}
    assert {("四乱问题", 87.0, "个"), ("退田还湖", 3200.0, "亩"), ("检察建议书", 15.0, "份")} <= counted


REDACTED_NEWS = """XX市推进河湖长制见实效
近日，XX市召开总河湖长会议。全市已设立市级河湖长9名、县级河湖长42名，建立“一河一策”工作机制，完成河道清淤疏浚XX公里，
投入资金XX万元。202X年，XX市将建成生态清洁小流域X条。
"""


def test_redactions_are_never_filled_in(tmp_path):
    record = extract_text_document(write_report(tmp_path, "news.txt", REDACTED_NEWS))
    assert record.region.name == "XX市" and record.region.anonymized
    assert "一河一策" in record.entities["Mechanism"]
    redacted = [q for q in record.quantities if q.redacted]
    assert redacted and all(q.value is None and q.value_std is None for q in redacted)
    assert all(q.year is None for q in record.quantities)


TARGETS_REPORT = """某县2024年水土保持工作总结
目前，全县水土保持率达到76.3%，森林覆盖率达到58.1%。
截至2023年底，全县累计建成淤地坝120座。
到2023年底，全县已治理水土流失面积310平方公里。
全年计划营造水土保持林2万亩，实际完成2.4万亩。
到2030年，全县水土保持率达到80%，新建生态清洁小流域12条。
下一步，我县将建成示范小流域3条，力争梯田面积达到5万亩。
"""


def test_targets_are_told_from_what_was_done(tmp_path):
    record = extract_text_document(write_report(tmp_path, "targets.txt", TARGETS_REPORT))
    kinds = {(q.subject, q.value): (q.kind, q.year) for q in record.quantities}
    assert kinds[("水土保持率", 76.3)] == ("actual", None), "达到 alone is no target"
    assert kinds[("森林覆盖率", 58.1)] == ("actual", None)
    assert kinds[("淤地坝", 120.0)] == ("actual", None), "截至 looks back"
    assert kinds[("水土流失治理面积", 310.0)] == ("actual", None), "already done, and 2023 is before the report"
    assert kinds[("水土保持林", 2.0)] == ("target", None) and kinds[("水土保持林", 2.4)] == ("actual", None)
    assert kinds[("水土保持率", 80.0)] == ("target", 2030)
    assert kinds[("生态清洁小流域", 12.0)] == ("target", 2030)
    assert kinds[("梯田", 5.0)][0] == "target"


CHANGES_REPORT = """某区2023年河湖长制工作总结
全区水土保持率达到91.3%，比2020年提高2.1个百分点。
全区林草覆盖率比上年提高1.5个百分点。
比上年提高3个百分点。
累计排查整治“四乱”问题87个，推动整改问题76个，发出检察建议书15份，移交问题线索18条。
全年审批生产建设项目水土保持方案2846个。
"""


def test_changes_and_the_verbs_before_a_counted_noun(tmp_path):
    record = extract_text_document(write_report(tmp_path, "changes.txt", CHANGES_REPORT))
    counted = {(q.subject, q.value, q.unit) for q in record.quantities}
    changes = {q.value for q in record.quantities} & {2.1, 1.5, 3.0}
    assert not changes, "a change against an earlier figure is a delta, no quantity (convention 16)"
    assert {("四乱问题", 87.0, "个"), ("整改问题", 76.0, "个"), ("检察建议书", 15.0, "份"),
            ("问题线索", 18.0, "条")} <= counted, "verbs (排查整治, 推动, 发出, 移交) are not part of the noun"
    assert not any("年提高" in name for name in record.entities.get("Indicator", []))
    assert ("水土保持方案", 2846.0, "个") in counted, "a counted mechanism ending the noun, named as written"


NOT_COUNTED = """丙县2023年河湖长制工作总结
河长制工作是一件大事，七台河市派员来县交流，五个断面中劣五类断面由3个减少为1个。
万宝河全长11公里，流域面积46平方公里，全镇总面积为28.54平方公里。
湿地蓄水能力提高15%，水土流失面积减幅为10.15%。
行动期间共出动执法船53艘次、执法人员531人次，惠及群众1000余人次。
全县查处涉水违法行为81件，市县污水处理率达90%，年拦蓄径流1188.47万立方米，实施“长治”四期小流域工程。
"""


def test_what_counts_no_work(tmp_path):
    record = extract_text_document(write_report(tmp_path, "uncounted.txt", NOT_COUNTED))
    counted = {(q.subject, q.value, q.unit) for q in record.quantities}
    values = {q.value for q in record.quantities}
    assert 7.0 not in values and all(q.text != "一件" for q in record.quantities), \
        "一件 is an article; 七台 of 七台河市 is part of a name"
    assert ("劣五类断面", 1.0, "个") in counted, "由3个减少为1个: the level it fell to"
    assert not values & {11.0, 46.0, 28.54}, "a river's length and basin, a town's size are background"
    assert not values & {15.0, 10.15}, "a rate that rose or fell by so much is a change (convention 16)"
    assert not values & {53.0, 531.0, 1000.0}, "trips of equipment and people deployed count no work"
    assert not any(q.unit == "期" for q in record.quantities), "a phase in a quoted name is no amount"
    assert {("涉水违法行为", 81.0, "件"), ("污水处理率", 90.0, "%"), ("拦蓄径流", 1188.47, "万立方米")} <= counted, \
        "为 of 行为 stays; a level or a period before the noun says where or per what"


STATUS_AND_FUNDS = """丁县2023年水土保持工作总结
制定印发了13项河长制工作制度，全县共处罚743.77万元，累计巡河巡湖19466人次。
全县森林覆盖率提升至78.9%，用水总量控制在2.3亿立方米以内。
水土流失面积由1980年的11187平方公里下降到如今的6865.55平方公里。
完成投资5500万元，其中省级70万元、州级10万元、县级350万元。
全县水土流失面积374.7万亩，占土地总面积13.1%，先后召开总河长会议3次。
全年治理退化草原84万亩，治理水土流失面积30平方公里。
水土流失初步治理程度接近40%，湿地面积由上世纪80年代的8.5万亩恢复到如今的9.2万亩。
"""


def test_status_levels_fines_and_funds_by_level(tmp_path):
    record = extract_text_document(write_report(tmp_path, "status.txt", STATUS_AND_FUNDS))
    counted = {(q.subject, q.value, q.unit) for q in record.quantities}
    assert ("河长制工作制度", 13.0, "项") in counted, "a named kind of rule is counted; a bare 制度 is generic"
    assert ("处罚", 743.77, "万元") in counted, "money right after a fining verb is the fine"
    assert ("巡河巡湖次数", 19466.0, "人次") in counted, "two patrols counted together"
    assert {("森林覆盖率", 78.9, "%"), ("用水总量", 2.3, "亿立方米")} <= counted, "the level it rose to or is held at"
    assert ("水土流失面积", 6865.55, "平方公里") in counted, "下降到如今的: the status it fell to"
    assert {("省级资金", 70.0, "万元"), ("州级资金", 10.0, "万元"), ("县级资金", 350.0, "万元")} <= counted
    assert not any(q.subject in ("以内", "提升至") for q in record.quantities)
    assert ("水土流失面积占比", 13.1, "%") in counted, "占…的N%: the share of what was counted just before"
    assert ("总河长会议", 3.0, "次") in counted, "meetings held are counted"
    assert ("治理退化草原", 84.0, "万亩") in counted, "a treatment stays with what it treated"
    assert any(q.subject.endswith("治理程度") and q.value == 40.0 for q in record.quantities), "接近 links"
    assert ("湿地面积", 8.5, "万亩") in counted, "上世纪80年代的 dates the value before it moved"
    assert not any(q.subject.startswith("治理水土流失") for q in record.quantities), "…but not with an area"


WHO_AND_WHERE = """会同县河长制工作总结
会同县地处黄河流域，沙河全长30公里。
全县构建县乡村三级河长体系，由县委书记、县长担任总河长，县级河长巡河57人次，乡级河长巡河437人次。
推行“河长+警长”联动机制，县公安局与河长制办公室联合执法。
全年开展汾河流域生态修复，强化2203名河长履职。
"""


def test_who_is_set_up_who_takes_part_and_what_is_governed(tmp_path):
    record = extract_text_document(write_report(tmp_path, "who.txt", WHO_AND_WHERE))
    triples = {(r.head, r.type, r.tail) for r in record.relations}
    region = record.region.name
    governed = {t for h, rt, t in triples if rt == "GOVERNS"}
    assert "黄河流域" not in governed, "a basin named as where the county lies is background (convention 12)"
    if "汾河流域" in record.entities.get("WaterBody", []):
        assert "汾河流域" in governed, "a basin restored is governed"
    established = {t for h, rt, t in triples if rt == "ESTABLISHES" and h == region}
    assert {"县级河长", "乡级河长"} <= established, "a chief system in tiers sets up each tier's chiefs"
    assert "总河长" in established, "由…担任总河长 appoints the role"
    counts = {r.tail: r.props.count for r in record.relations if r.type == "ESTABLISHES"}
    assert counts.get("河长") == 2203, "a head count before the role goes on ESTABLISHES"
    involved = {t for h, rt, t in triples if rt == "INVOLVES" and h == "河长+警长"}
    assert "公安局" in involved, "a partner named where the linkage is set up takes part in it"


# --- the command: bad input, workers ------------------------------------------------------

def test_cli_reports_bad_files_and_goes_on(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_report(corpus, "a.txt", FOREST_REPORT)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blob.txt").write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(app, ["extract", str(corpus), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"failed: {corpus / 'blob.txt'}: read: ReadError: binary file, not text" in result.output
    assert f"failed: {corpus / 'empty.txt'}: read: ReadError: empty file" in result.output
    lines = (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["doc"] for line in lines] == ["a.txt"]


def test_missing_path_is_one_error_line(tmp_path):
    result = CliRunner().invoke(app, ["extract", str(tmp_path / "nope")])
    assert (result.exit_code, result.output) == (1, f"Error: no such file or folder: {tmp_path / 'nope'}\n")


@pytest.mark.learned
def test_two_workers_write_the_same_records(tmp_path):
    one = extract_corpus([config.sample_corpus_dir()], tmp_path / "one", workers=1)
    two = extract_corpus([config.sample_corpus_dir()], tmp_path / "two", workers=2)
    assert one.out.read_bytes() == two.out.read_bytes()
    assert one.documents == 5


@pytest.mark.learned
def test_records_are_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """String hashing differs between processes; nothing in a record may follow set order."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("0", "1", "2", "3", "4", "5"):
        out = tmp_path / seed
        subprocess.run([sys.executable, "-m", "etl.cli", "extract", str(config.sample_corpus_dir()), "--out", str(out)],
                       env=dict(os.environ, PYTHONHASHSEED=seed), cwd=config.PROJECT_ROOT, check=True,
                       capture_output=True)
        outputs.append((out / "records.jsonl").read_bytes())
    assert all(output == outputs[0] for output in outputs)


@pytest.mark.learned
@pytest.mark.skipif(not (SHARED / "train" / "raw").exists(), reason="shared/ is not beside the repo")
def test_every_record_is_one_the_loader_takes(tmp_path):
    """Reports whose records the loader refused once (a quantity's subject the learned model turned
    down, 水土流失面积占比; an INVOLVES partner no mention found, 乡镇): every relation and quantity
    of every record names entities the record lists, so no document is lost at load."""
    from etl.graph import rows

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("ta09.txt", "tc16.txt", "td04.txt", "ti09.txt"):
        (corpus / name).write_bytes((SHARED / "train" / "raw" / name).read_bytes())
    summary = extract_corpus([corpus], tmp_path / "out")
    failures: list[str] = []
    records = list(rows.iter_records(summary.out, failures))
    assert failures == []
    assert len(records) == 4


# --- quality on the hand-annotated seeds ---------------------------------------------------

def _scorer():
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.learned
@pytest.mark.skipif(not (SHARED / "gold" / "seeds.jsonl").exists(), reason="shared/ is not beside the repo")
def test_seed_scores_do_not_fall(tmp_path):
    """Floors at the scores reached on the seed gold as audited for conventions 12-17, with the
    learned model (models/entities.json); raise them as the extractor improves. The seeds were read
    while writing rules, so they overstate unseen reports (the model, fitted to the 200-report
    pool, keeps fewer of the rules' seed-tuned names: 0.896 / 0.841 with the rules alone)."""
    summary = extract_corpus([config.sample_corpus_dir()], tmp_path)
    score = _scorer()
    result, _, missing = score.score(score.read_jsonl(SHARED / "gold" / "seeds.jsonl"),
                                     score.read_jsonl(summary.out))
    assert missing == []
    assert result["entities_all"]["f1"] >= 0.81
    assert result["relations"]["f1"] >= 0.77
    assert result["quantities"]["f1"] >= 0.89


@pytest.mark.learned
@pytest.mark.skipif(not (SHARED / "gold" / "dev.jsonl").exists(), reason="shared/ is not beside the repo")
def test_dev_scores_do_not_fall(tmp_path):
    """The fifteen dev reports, as scraped, annotated by people who never saw our output: floors at
    the scores reached with the learned model (0.820 / 0.711 / 0.661 with the rules alone, which were
    written from these reports)."""
    summary = extract_corpus([SHARED / "dev" / "raw"], tmp_path)
    assert summary.failures == []
    score = _scorer()
    result, _, missing = score.score(score.read_jsonl(SHARED / "gold" / "dev.jsonl"), score.read_jsonl(summary.out))
    assert missing == []
    assert result["entities_all"]["f1"] >= 0.76
    assert result["relations"]["f1"] >= 0.66
    assert result["quantities"]["f1"] >= 0.67


@pytest.mark.parametrize(("phrase", "is_noun"), [
    ("科研课题", True), ("水土保持业务培训班", True),
    ("区内分布着", False), ("工作是", False), ("水土保持项目进行了专", False), ("与来自", False), ("今后", False),
    ("一亩", False), ("两吨", False), ("一河一策", True),
])
def test_what_a_number_can_count(phrase, is_noun):
    from etl.extract import _assembler

    assert _assembler().attributor.noun_phrase(phrase) is is_noun


COUNTED = """甲县2024年水土保持工作总结
2024年，甲县建成5个生态清洁小流域，完成砖瓦建材、采石等12项大型生产建设项目验收。
发现并整改问题18项，征收水土保持补偿费共计120万元。
水土保持率达到75.3%，新增水土流失治理面积40平方公里。
水土保持是一项长期而艰巨的任务。
在县电视台播放生态创建新闻85条，与来自12个国家的代表签署了3项合作协议。
将生态创建工作纳入“三个文明”考核，马尾松、楠竹面积分别达到35万亩和36万亩。
形成有价值的调研文章20余篇，取得“梯田建设技术示范”等科技成果5项，全县共有绿色农产品基地6个25万亩，有机农产品基地1个25万亩，全县共有无公害农产品基地3个。
小水电总装机容量1.5万千瓦，关停企业损失税利300万元。
发布《山川秀美、生态治理》等水土保持论文12篇，争取资金是2020年的3倍，受理违法案件9起，立案查处7起。

重点突出对5家市控企业的治理，收集到各类建议及反馈信息90余条，组织志愿者参与各类水土保持活动16次。
新建项目环评率和“三同时”执行率均达到98%，实施4个淤地坝除险加固工程。
全年共申报各类重点建设项目22个，以黄河多沙粗沙区、太行山区2个国家级水土流失重点治理区为重点，建成国家AAA级景区3个。
护林队伍坚持巡护，看护38 个管护片区。
全年清理河道垃圾3500吨，引进植物油企业1家，年产2.5万吨。
林草覆盖率由2018年的41.2%提高到2023年的47.9%。
清理非法网具1.6万余张，开展净滩活动56场次，治理程度达到73.3%。
实现辖区17条河道全覆盖，修订巡河、述职等11项制度。
布设视频监控点位146个。
力争到2026年全县新增治理面积3.6万亩。
持续推进4个自治区总林长令落实、落地。
督促9项风电建设项目严格落实“三同时”制度要求。
发现并交办问题1130个，办结率98.6%。
全县27座小型水库全部落实管护责任，恢复河道岸线12.6公里。
在北部各乡镇实施沙棘种植12.5万亩。
执法人员分别通报了两家企业排污违法事实以及处罚决定。
"""


@pytest.mark.parametrize(("subject", "value", "unit"), [
    ("生态清洁小流域", 5.0, "个"),       # the number and classifier run into the noun
    ("大型生产建设项目", 12.0, "项"),    # a list (…等12项) counts the noun after it
    ("整改问题", 18.0, "项"),            # a generic head keeps its verb
    ("水土保持补偿费", 120.0, "万元"),   # 共计 links the noun to its number
    ("水土保持率", 75.3, "%"),           # the noun before the number
    ("水土流失治理面积", 40.0, "平方公里"),
    ("生态创建新闻", 85.0, "条"),         # a generic head keeps its modifiers back to the verb
    ("合作协议", 3.0, "项"),
    ("调研文章", 20.0, "篇"),             # the head after 的
    ("科技成果", 5.0, "项"),              # the head after a list's 等
    ("绿色农产品基地", 6.0, "个"),
    ("绿色农产品基地", 25.0, "万亩"),     # a second number shares the first one's noun
    ("有机农产品基地", 1.0, "个"),         # 有 starts a word here, it is not the verb
    ("无公害农产品基地", 3.0, "个"),       # …and here it is the verb (jieba: 有 / 无公害)
    ("装机容量", 1.5, "万千瓦"),           # 总 is a modifier
    ("税利", 300.0, "万元"),
    ("水土保持论文", 12.0, "篇"),           # 、 inside a 《title》 ends no clause
    ("争取资金", 3.0, "倍"),               # A是B的N倍: the multiple is A's
    ("立案查处", 7.0, "起"),               # a clause that is one verb compound counts events
    ("违法案件", 9.0, "起"),
    ("市控企业", 5.0, "家"),              # 的治理 is no head count
    ("建议及反馈信息", 90.0, "条"),
    ("水土保持活动", 16.0, "次"),
    ("重点建设项目", 22.0, "个"),          # 项 opens a word here, not a unit; 各类 is no part of it
    ("三同时执行率", 98.0, "%"),           # two nouns share one number (…和…均达到)
    ("淤地坝除险加固", 4.0, "个"),          # a measure named with a generic tail (…工程)
    ("马尾松面积", 35.0, "万亩"),          # 分别: the first noun, with the shared head, gets the first
    ("楠竹面积", 36.0, "万亩"),            # …and the second noun the second
    ("管护片区", 38.0, "个"),              # a verb alone before the number counts nothing; a space before 个
    ("清理河道垃圾", 3500.0, "吨"),         # a work named by its verb counts its object with it
    ("林草覆盖率", 41.2, "%"),              # 由A提高到B: the value before…
    ("林草覆盖率", 47.9, "%"),              # …and after it moved
    ("清理非法网具", 1.6, "万张"),
    ("净滩活动", 56.0, "场次"),
    ("治理程度", 73.3, "%"),                # a generic attribute keeps the verb that makes it specific
    ("河道", 17.0, "条"),                   # a jurisdiction says where, not what is counted
    ("视频监控点位", 146.0, "个"),           # a count after a work counts that kind of thing
    ("治理面积", 3.6, "万亩"),               # an attribute takes the one verb before it, not the clause
    ("自治区总林长令", 4.0, "个"),           # a mechanism counted with who issued it, as written
    ("风电建设项目", 9.0, "项"),              # the adverb and verb after a counted noun are no part of it
    ("交办问题", 1130.0, "个"),               # 并 joins two verbs; it opens no noun
    ("办结率", 98.6, "%"),                    # a rate keeps the one-character verb the analyser cut off
    ("小型水库", 27.0, "座"),                 # 全部落实 closes the counted noun
    ("恢复河道岸线", 12.6, "公里"),            # restoring is the work counted
    ("沙棘种植", 12.5, "万亩"),               # an object and its verb before the number, no noun after
])
def test_what_each_number_counts(tmp_path, subject, value, unit):
    record = extract_text_document(write_report(tmp_path, "counted.txt", COUNTED))
    found = {(q.subject, q.value, q.unit) for q in record.quantities}
    assert (subject, value, unit) in found


def test_wrong_subjects_are_not_taken(tmp_path):
    record = extract_text_document(write_report(tmp_path, "counted.txt", COUNTED))
    subjects = {q.subject for q in record.quantities}
    assert not subjects & {"砖瓦建材", "采石", "问题", "长期而艰巨", "艰巨", "国家", "万亩和", "工作纳入",
                           "太行山区", "级景区", "各类重点建设项目", "国家级水土流失重点治理区"}
    assert all(q.value != 2.0 for q in record.quantities), "A、B2个… sums a list up, it counts no work"
    assert all(q.text != "三个" for q in record.quantities), "a number inside a quoted name is no count"
    assert all(q.text != "一项" for q in record.quantities), "一项 is an article, not a count"
    assert not any(q.subject.endswith("以") for q in record.quantities), "以 of 以及 ends no counted noun"
    assert all(q.value != 2.5 for q in record.quantities), "a company's output is no work of the region"
    assert all(q.text != "11项" for q in record.quantities), "a count of the rules a list names is no quantity"


RULE_PATTERNS = sorted(key[: -len("_examples")] for key in lexicon.load_rules() if key.endswith("_examples"))


@pytest.mark.parametrize("name", RULE_PATTERNS)
def test_every_rule_pattern_matches_its_examples_and_spares_its_counterexamples(name):
    rules = lexicon.load_rules()
    pattern = re.compile(rules[name])
    assert rules[f"{name}_examples"] and rules[f"{name}_counterexamples"], f"{name} needs both kinds of case"
    for text in rules[f"{name}_examples"]:
        assert pattern.search(text), f"{name} misses its example {text!r}"
    for text in rules[f"{name}_counterexamples"]:
        assert not pattern.search(text), f"{name} matches its counterexample {text!r}"


def test_coordinated_names_share_their_suffix():
    found = mentions("本县地跨太行、吕梁两山，分属黄河、海河两大流域。")
    assert {("WaterBody", "太行山"), ("WaterBody", "吕梁山"), ("WaterBody", "海河流域")} <= found
    assert not {name for label, name in mentions("坚持治山、治水两手抓。") if label == "WaterBody"}


def test_unknown_parts_of_a_linkage_of_measures_are_measures():
    found = mentions("推行“梯田+路渠+防护林”治理模式，落实“河长+巡河员”制度。")
    assert ("Measure", "路渠") in found
    assert ("Measure", "巡河员") not in found, "a linkage with an actor is not a linkage of measures"


def test_a_quoted_slogan_keeps_its_name_with_half_width_commas():
    found = mentions("落实“谁签字、谁负责，谁审批，谁负责”制度，建立“三查三清”制度。")
    assert ("Mechanism", "谁签字、谁负责,谁审批,谁负责") in found
    assert ("Mechanism", "三查三清制度") in found


def test_an_actor_in_a_mechanisms_clause_takes_part_in_it(tmp_path):
    text = "丙县2024年工作总结\n丙县组织志愿者开展义务植树，联席会议制度和河长制同步推进，检察机关参加。\n"
    record = extract_text_document(write_report(tmp_path, "c.txt", text))
    involves = {(r.head, r.tail) for r in record.relations if r.type == "INVOLVES"}
    assert ("义务植树", "志愿者") in involves
    assert not {pair for pair in involves if pair[1] == "检察机关"}, "another clause, and two mechanisms: no pair"


SUPERIORS = """平利县水土保持工作汇报
市委：
在市委、市政府的坚强领导下，平利县认真贯彻落实省委决策部署，建立行业主管部门协同监管机制。
市委将平利县列为试点，新建项目环评率达到100%。
"""


def test_bodies_inside_names_and_superiors(tmp_path):
    record = extract_text_document(write_report(tmp_path, "superiors.txt", SUPERIORS))
    triples = {(r.head, r.type, r.tail) for r in record.relations}
    assert ("协同监管", "INVOLVES", "行业主管部门") in triples, \
        "the body that runs a mechanism takes part, its name apart"
    assert "环境影响评价" in record.entities["Mechanism"], "a rate of an instrument mentions the instrument"
    mentioned = [(m.name, m.sentence) for m in record.mentions if m.name in ("市委", "省委")]
    acting = next(s.text for s in record.sentences if s.text.startswith("市委将"))
    assert mentioned and all(record.sentences[i].text == acting for _, i in mentioned), \
        "市委 as addressee, as leader or in 贯彻…部署 is dropped; 市委 that acts stays"


def test_honorary_titles_and_off_topic_counts_are_no_quantities(tmp_path):
    text = ("戊县2024年工作总结\n全县创建省级森林小镇2个、国家级森林乡村3个，改建户用卫生厕所1200座，"
            "新建日光温室40座，建成淤地坝12座。\n")
    record = extract_text_document(write_report(tmp_path, "titles.txt", text))
    subjects = {q.subject for q in record.quantities}
    assert not subjects & {"省级森林小镇", "国家级森林乡村", "户用卫生厕所", "日光温室"}
    assert ("淤地坝", 12.0) in {(q.subject, q.value) for q in record.quantities}


FUNDS_AND_DELTAS = """乙县2023年水土保持工作总结
全年完成投资5386万元，其中中央投资3770万元，争取到位中央、省级补助资金120万元。
全县水土流失面积为1464.7平方公里，较2011年减少277.93平方公里。
水土保持率达到91.3%，比2020年提高2.1个百分点。
共清理非法采砂点442个，拆除违法建筑2.94万平方米，组织民间河长业务学习2次。
"""


def test_funds_by_source_removals_and_deltas(tmp_path):
    record = extract_text_document(write_report(tmp_path, "funds.txt", FUNDS_AND_DELTAS))
    counted = {(q.subject, q.value, q.unit) for q in record.quantities}
    assert ("中央投资", 3770.0, "万元") in counted, "a fund keeps its source"
    assert ("补助资金", 120.0, "万元") in counted, "a list of sources is no part of the fund's name"
    assert not any(q.value == 277.93 for q in record.quantities), "a delta of an amount is no quantity"
    assert not any(q.unit == "个百分点" for q in record.quantities), "percentage points are a change (convention 16)"
    assert {("清理非法采砂点", 442.0, "个"), ("拆除违法建筑", 2.94, "万平方米")} <= counted
    assert {"清理非法采砂点", "拆除违法建筑"} <= set(record.entities["Measure"]), "a removal is an intervention"


def test_who_does_it_is_no_part_of_what_is_counted(tmp_path):
    record = extract_text_document(write_report(tmp_path, "agent.txt", FUNDS_AND_DELTAS))
    assert ("业务学习", 2.0, "次") in {(q.subject, q.value, q.unit) for q in record.quantities}


NAMES_INSIDE_NAMES = """丙县2024年水土保持工作总结
县水土保持重点建设工程管理中心负责项目实施。全县实施坡耕地水土流失综合治理，坡耕地水土流失综合治理完成后，
又启动了坡耕地水土流失治理二期。
"""


def test_a_body_holds_the_programme_in_its_name_and_one_work_has_one_name(tmp_path):
    record = extract_text_document(write_report(tmp_path, "inside.txt", NAMES_INSIDE_NAMES))
    assert "水土保持重点建设工程管理中心" in record.entities["Actor"]
    assert not any("重点建设工程" in name for name in record.entities.get("Policy", {})), \
        "the programme named inside a body's name is the body's, not a Policy of its own"
    works = [name for name in record.entities["Measure"] if "坡耕地" in name]
    assert works == ["坡耕地水土流失综合治理"], "a work written with and without 综合 is one work"


def test_a_body_loses_its_regions_short_name(tmp_path):
    text = "平利县2024年林长制工作总结\n平利县全面推行林长制，平利林业局牵头，县林业局负责巡护。\n"
    record = extract_text_document(write_report(tmp_path, "stem.txt", text))
    assert "林业局" in record.entities["Actor"] and "平利林业局" not in record.entities["Actor"]


def test_a_mechanism_named_with_and_without_where_it_runs_is_one(tmp_path):
    text = ("丁县2024年水土保持工作总结\n丁县探索建立黄河流域横向生态补偿机制，横向生态补偿机制运行后，"
            "上下游共同治理。全面推行河湖长制，河长制、湖长制落实到村。\n")
    record = extract_text_document(write_report(tmp_path, "qualified.txt", text))
    mechanisms = set(record.entities["Mechanism"])
    assert "横向生态补偿" in mechanisms and "黄河流域横向生态补偿" not in mechanisms
    assert {"河湖长制", "湖长制"} <= mechanisms, "a name of three characters inside another stays apart"


def test_a_programme_or_work_written_two_ways_is_one(tmp_path):
    text = ("戊市2023年水土保持工作总结\n戊市实施国家水土保持重点建设工程，国家水土保持重点工程涉及3个县，"
            "水土保持重点工程全部完工。同时推进高标准农田建设，新增高标准农田2万亩。\n")
    record = extract_text_document(write_report(tmp_path, "programme.txt", text))
    programmes = [name for name in record.entities.get("Policy", {}) if "重点" in name]
    assert len(programmes) == 1 and programmes[0].startswith("国家水土保持重点"), programmes
    assert "国家水土保持重点工程" not in record.entities.get("Measure", {}), "a national programme is a Policy"
    assert [n for n in record.entities["Measure"] if "高标准农田" in n] in (["高标准农田"], ["高标准农田建设"])


def test_taiwan_written_chief_systems_and_campaigns(tmp_path):
    text = ("桐梓縣河湖長制工作\n桐梓縣全面落實河（湖）長制，設立三級河（湖）長208名，實行「一河一策」，"
            "打好「三大攻堅戰」。\n")
    record = extract_text_document(write_report(tmp_path, "tw.txt", text))
    assert "河湖长制" in record.entities["Mechanism"] and "一河一策" in record.entities["Mechanism"]
    assert not any("(" in name or name.startswith("桐梓") for names in record.entities.values() for name in names
                   if name != "桐梓县")
    assert "三大攻坚战" in record.entities["Policy"], "a counted campaign is a Policy (convention 9)"
    assert "河湖长" in record.entities["Actor"]


def test_a_value_reached_is_no_target_and_a_slogan_no_mechanism(tmp_path):
    text = ("庚县水土保持工作汇报\n庚县推行淤地坝“坝长制”，每座骨干坝明确一名坝长，探索“以坝养坝”的管护模式，"
            "纳入乡镇年度综合考核，守护“一湖清水”。林草覆盖率由1999年的12.3%提高到2023年的47%。\n")
    record = extract_text_document(write_report(tmp_path, "reached.txt", text))
    kinds = {(q.subject, q.value): q.kind for q in record.quantities}
    assert kinds[("林草覆盖率", 47.0)] == "actual", "提高到2023年 reaches a value; it sets no deadline"
    mechanisms = set(record.entities["Mechanism"])
    assert {"坝长制", "以坝养坝"} <= mechanisms
    assert not mechanisms & {"管护", "一湖清水", "镇年度综合考核"}
    assert "坝长" in record.entities["Actor"]
