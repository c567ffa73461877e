"""Region resolution on jionlp's 2025 divisions: full, old and short names, towns and villages
under the regions a text names, nesting as written, the reporting region, the word lists as a
checked data file, and reports that speak of 我乡/我镇 (which once stopped a whole run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from etl import config
from etl.errors import DataFileError
from etl.extract import extract_text_document, places, regions, reporting_region


def found(text: str) -> dict[str, places.RegionInfo]:
    return {m.region.name: m.region for m in regions.find_region_mentions(text)}


def nesting(text: str, reporting: str | None = None) -> set[tuple[str, str]]:
    mentions = regions.resolve_regions(regions.find_region_mentions(text))
    infos = list(dict.fromkeys(m.region for m in mentions))
    chosen = next((i for i in infos if i.name == reporting), None) if reporting else None
    return set(reporting_region.part_of(infos, chosen))


# --- divisions: current names, old names, adcodes ------------------------------------------

def test_current_divisions_carry_adcodes_and_levels():
    names = places.gazetteer()
    assert names["临平区"][0].adcode == "330113", "a district created in 2021 is there under its own name"
    assert names["宁乡市"][0].level == "县", "a county-level city is a county"
    assert names["怀化市"][0].level == "市" and names["湖南省"][0].level == "省"
    assert "宁乡县" not in names, "gazetteer() holds current names only"


def test_autonomous_prefectures_and_counties_by_their_usual_short_form():
    names = found("湘西州、凉山州和长阳县推进坡耕地治理")
    assert names["湘西州"].adcode == places.gazetteer()["湘西土家族苗族自治州"][0].adcode
    assert names["长阳县"].level == "县" and names["长阳县"].adcode.startswith("4205")


def test_a_district_name_found_in_several_cities_is_the_one_holding_the_town_named():
    names = found("鼓楼区鼓东街道开展河道保洁")
    assert names["鼓楼区"].adcode.startswith("3501"), "鼓东街道 is in 福州's 鼓楼区, not 南京's"
    assert nesting("鼓楼区鼓东街道开展河道保洁") == {("鼓东街道", "鼓楼区")}


def test_two_character_county_names_need_a_clear_left_edge():
    assert set(found("现场会在泾县召开，和县、萧县参加")) == {"泾县", "和县", "萧县"}
    assert set(found("建成县城污水厂，打造示范县，推进新县城建设")) == set()
    assert set(found("安徽黟县科学治水，甘肃成县建成梯田")) == {"安徽省", "黟县", "甘肃省", "成县"}, \
        "the short name of the province holding it is a clear left edge"
    assert set(found("山东黟县")) == {"山东省"}, "a province that does not hold it is not"


def test_a_name_whose_first_character_ends_a_noun_before_it_is_no_region():
    assert set(found("推进科学城北区蓝绿空间融合研究，海淀区完成治理")) == {"海淀区"}, "科学城 + 北区"
    assert set(found("西宁市城北区推进河长制，2023年金口河区全面加强治理")) == {"西宁市", "城北区", "金口河区"}


@pytest.mark.parametrize(("text", "expected"), [
    ("XX镇村级河湖专管员管理制度", {"XX镇"}),  # the town's village-level keepers
    ("XX区河长巡河", {"XX区"}),
    ("某县长带队巡河，X市级河长和某县委到场", set()),  # roles and levels, no region
])
def test_a_placeholder_is_a_region_unless_a_role_or_level_word_follows_it(text, expected):
    assert set(found(text)) == expected


def test_an_old_name_is_the_current_division_under_the_name_written():
    old = found("2009年襄樊市启动水土保持示范区建设")
    assert old["襄樊市"].adcode == places.gazetteer()["襄阳市"][0].adcode
    assert old["襄樊市"].level == "市"


# --- towns and villages --------------------------------------------------------------------

def test_a_town_is_taken_from_the_county_the_text_names():
    town = found("会同县林城镇完成坡耕地治理。")["林城镇"]
    assert town.within[:1] == ("会同县",), "林城镇 also exists in 长兴县; the named county's is meant"
    assert nesting("会同县林城镇完成坡耕地治理。") == {("林城镇", "会同县")}


def test_village_and_town_nest_as_written_and_as_the_table_confirms():
    text = "宁乡市大成桥镇鹊山村建成生态清洁小流域，大成桥镇另有两个村完成改厕。"
    assert nesting(text) == {("大成桥镇", "宁乡市"), ("鹊山村", "大成桥镇")}


def test_a_town_of_a_named_county_nests_in_it_though_written_apart():
    text = "会同县召开河长会议。林城镇、团河镇开展河道保洁。"
    assert nesting(text) >= {("林城镇", "会同县"), ("团河镇", "会同县")}


def test_a_town_the_table_lacks_is_still_found_by_its_suffix_and_nests_in_the_reporting_county():
    text = "某县石门坎镇组织清河行动。"
    mentions = regions.find_region_mentions(text)
    assert "石门坎镇" in {m.region.name for m in mentions}
    infos = list(dict.fromkeys(m.region for m in mentions))
    reporting = next(i for i in infos if i.name == "某县")
    assert ("石门坎镇", "某县") in reporting_region.part_of(infos, reporting)


def test_a_village_stem_needs_a_clear_left_edge():
    names = set(found("会同县坚持治理中村落环境，城中村改造完成"))
    assert names == {"会同县"}, "中村 of 城中村 or 村落 is no village even if a village of that name exists"


def test_a_bare_town_name_after_its_county_counts_only_before_a_boundary():
    assert "林城镇" in found("会同县林城、团河等乡镇")
    assert "林城镇" not in found("会同县林城湿地公园开园"), "the stem names a park here"


def test_towns_listed_without_their_level_word_count_with_a_count_or_a_full_sibling():
    names = found("会同县召开会议。林城、团河等乡镇开展清河，坪村镇、高椅、若水完成治理。")
    assert {"林城镇", "团河镇", "坪村镇", "高椅乡"} <= set(names)
    assert names["坪村镇"].level == "镇", "the town 坪村镇, not its village 坪村 and a stray 镇"
    assert set(found("会同县召开会议。推进林城、团河建设")) == {"会同县"}, "a bare list with no count is words"


def test_lists_of_levels_and_verbs_are_not_towns():
    assert set(found("建立县镇村三级河长体系")) == set()
    assert set(found("坚持山水田林路村舍统一规划")) == set(), "村舍 is a word"
    assert set(found("加强指导，指导镇村工作。打造江南水乡、鱼米之乡")) == set()
    assert set(found("开展河湖清四乱，东城区域内无违建")) == set(), "区域 is a word"
    assert set(found("共治理宋村、石门等小流域")) == set(), "a common verb opens no name"
    assert set(found("组织治理宋村小流域")) == set(), "nor runs into one"


# --- short names ----------------------------------------------------------------------------

def test_short_names_count_where_the_prose_marks_them_as_places():
    assert set(found("十堰郧阳区推进小流域综合治理")) == {"十堰市", "郧阳区"}
    assert nesting("十堰郧阳区推进小流域综合治理") == {("郧阳区", "十堰市")}
    listed = found("怀化市沅陵、辰溪、溆浦三县开展清河行动")
    assert {"沅陵县", "辰溪县", "溆浦县"} <= set(listed)
    assert nesting("怀化市沅陵、辰溪、溆浦三县开展清河行动") >= {("辰溪县", "怀化市"), ("溆浦县", "怀化市")}
    assert set(found("湖南、湖北两省签订协议")) == {"湖南省", "湖北省"}
    assert set(found("襄阳出台河湖长制考核办法")) == {"襄阳市"}, "a prefecture city opening a sentence"
    assert set(found("全省现场会在株洲召开，代表赴郴州考察")) == {"株洲市", "郴州市"}, "after a word of place"


def test_a_list_of_short_names_of_one_province_or_closed_by_a_count_is_places():
    across = found("重点推进古浪、民勤、玛曲、金塔等重点地区沙化地治理")
    assert set(across) == {"古浪县", "民勤县", "玛曲县", "金塔县"}, "counties of three cities of one province"
    assert set(found("在湘阴、益阳、沅江交界水域开展联合执法")) == {"湘阴县", "益阳市", "沅江市"}
    assert {"达川区", "通川区", "开江县"} <= set(found("项目布局在达州市的达川、通川和开江3县(区)")), \
        "the last joined by 和"
    assert set(found("在若尔盖、阿坝、红原、松潘4县实施草原保护修复")) == {"若尔盖县", "阿坝县", "红原县", "松潘县"}, \
        "4县 reads 阿坝 as the county, not the prefecture the short name alone means"
    assert set(found("包头、呼伦贝尔等盟市制定了保护条例")) == {"包头市", "呼伦贝尔市"}
    assert set(found("重点在桂林、梧州等城市实施")) == {"桂林市", "梧州市"}
    assert found("包头、呼伦贝尔的经验值得学习") == {}, "two names with no count of places"
    assert found("推广古浪、通川等县的做法") == {}, "counted, but counties of two provinces: no list of one"


def test_short_names_without_a_marker_are_words():
    assert found("县水利局会同生态环境局开展联合执法") == {}, "会同 is 'together with' here"
    assert found("在会同各方努力下，于大同小异的方案中选优") == {}, "county shorts need more than 在"
    assert found("沿汾河北岸和泰山东麓栽植水保林，青海湖畔禁牧") == {}
    assert found("大力弘扬平安、和谐、文明新风") == {}
    assert found("新华社北京3月5日电 黑龙江流域和海南岛的生态保护") == {}, "a dateline, a river, an island"
    assert set(found("北京、天津、河北协同治理永定河")) == {"北京市", "天津市", "河北省"}


def test_a_short_name_that_outlived_a_rename_keeps_the_name_as_written():
    names = found("长治市屯留、潞城、平顺三县区开展淤地坝安全度汛检查")
    assert {"屯留", "潞城", "平顺县"} <= set(names), "屯留 was 屯留县 until 2018: which full name is meant is unknown"
    assert names["屯留"].adcode == places.gazetteer()["屯留区"][0].adcode


# --- the reporting region ------------------------------------------------------------------

def test_the_reporting_region_is_the_innermost_of_a_nested_title():
    region = reporting_region.reporting_region("2022年湖南省怀化市水土保持公报", "", [])
    assert region is not None and region.name == "怀化市"


def test_without_a_named_title_a_county_outranks_a_village_mentioned_more_often():
    text = "余家坝村位于会同县。余家坝村修建塘坝，余家坝村完成清淤。会同县验收。"
    region = reporting_region.reporting_region("工作动态", "工作动态", regions.find_region_mentions(text), text)
    assert region is not None and region.name == "会同县"


def test_a_township_title_names_the_reporting_region():
    text = "高椅乡2023年河长制工作总结\n会同县河长办督导，高椅乡完成河道清障。"
    title = "高椅乡2023年河长制工作总结"
    region = reporting_region.reporting_region(title, "", regions.find_region_mentions(text), text)
    assert region is not None and region.name == "高椅乡" and region.level == "乡"


def test_equally_named_regions_yield_to_the_higher_level():
    text = "XX市组织开展检查。平顺、黎城两县完成治理。XX市通报，平顺、黎城两县整改。"
    region = reporting_region.reporting_region("", "", regions.find_region_mentions(text), text)
    assert region is not None and region.name == "XX市"


def test_a_stem_inside_a_longer_word_is_not_the_reporting_county():
    text = "我县贯彻《中华人民共和国水土保持法》，依照共和国法律，会同经验在会同推广。"
    assert regions.short_name_region(text).name == "会同县", "共和 of 共和国 is no 共和县"


def _reporting_of(title: str, text: str):
    """The reporting region the way extraction asks for it: title, opening, mentions, text."""
    mentions = regions.resolve_regions(regions.find_region_mentions(text))
    return reporting_region.reporting_region(title, text.split("。")[0], mentions, text)


@pytest.mark.parametrize(("title", "text", "expected"), [
    # The opening cites a province's document; the report calls itself 我镇.
    ("沙镇镇全面实行河长制工作实施方案",
     "按照《山东省全面实行河长制工作方案》要求，加强我镇河渠管理。全镇实行河长制。", "沙镇镇"),
    # The opening names the county holding the township; the report calls itself 我乡.
    ("工作动态", "中牟县刁家乡人民政府召开河长制会议。会上通报了我乡清洁行动进展。", "刁家乡"),
    # The opening cites a province's document, then names the city that calls itself 我市.
    ("工作方案", "根据《吉林省全面推行河长制实施工作方案》，结合长春市实际，做好我市河长制工作。", "长春市"),
])
def test_a_report_calling_itself_by_another_level_is_the_region_of_that_level(title, text, expected):
    region = _reporting_of(title, text)
    assert region is not None and region.name == expected


@pytest.mark.parametrize(("title", "text", "expected"), [
    # A division the title names is the reporter, though it quotes a county's 我县.
    ("衡阳市河长办对衡东县开展督查", "市河长办督查组深入衡东县。衡东县表示我县将立行立改。", "衡阳市"),
    # A province's own 我省 outweighs 该镇 about a town it praises, however often.
    ("工作动态", "安徽省河长制体系建设走在前列。朱马店镇清理河道，该镇建成护岸，该镇获表彰，我省推广。", "安徽省"),
    # The region chosen by name already has the level the report calls itself.
    ("工作动态", "会同县召开河长会议。高椅乡完成清淤，我县河长巡河。", "会同县"),
])
def test_a_report_naming_itself_does_not_displace_the_reporter_otherwise(title, text, expected):
    region = _reporting_of(title, text)
    assert region is not None and region.name == expected


@pytest.mark.parametrize(("title", "text", "expected"), [
    # A site's name in the breadcrumb title: the region is the one the crumbs name after it.
    ("香港商报官网 > 辽宁 > 商报专稿", "辽宁推动河湖长制有能有效。辽宁省建立健全河湖长履职制度。", "辽宁省"),
    # A channel's name in the dateline: the district the report tells of.
    ("", "中新网福建新闻5月16日电 近日，厦门市海沧区人民检察院参加普法宣导。", "海沧区"),
])
def test_a_place_naming_the_medium_is_not_the_reporting_region(title, text, expected):
    region = _reporting_of(title, text)
    assert region is not None and region.name == expected


def test_a_place_before_an_ordinary_word_still_names_the_reporter():
    region = _reporting_of("福建省河长制工作要点", "福建省全面推行河长制。")
    assert region is not None and region.name == "福建省"


# --- 我乡 / 我镇 reports --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["我乡共清理河道5条。", "我镇建成护岸2公里，该镇河长巡河30次。"])
def test_a_township_speaking_of_itself_has_no_short_name_county(text):
    assert regions.short_name_region(text) is None


def test_a_traditional_township_report_is_extracted(tmp_path):
    path = tmp_path / "township.txt"
    path.write_text(
        "石門鄉2023年河長制工作總結\n"
        "今年以來，我鄉深入推進河長制，全鄉設立鄉級河長5名、村級河長12名。"
        "我鄉共清理河道8條，該鎮協同開展聯合巡河。\n", encoding="utf-8")
    record = extract_text_document(path)
    assert record.region is not None and record.region.name == "石门乡"
    assert "河长制" in record.entities.get("Mechanism", [])


# --- the word lists as data ----------------------------------------------------------------

def _rules_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (config.schema_dir() / "regions.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "regions.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _line_of(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


def test_region_word_lists_are_checked_with_their_line(tmp_path):
    path = _rules_with(tmp_path, "common_word_frequency: 100", "common_word_frequency: many")
    with pytest.raises(DataFileError, match=rf"regions.yaml:{_line_of(path, 'common_word_frequency')}: "
                                            r"common_word_frequency must be a int"):
        places.load_region_rules(path)
    path = _rules_with(tmp_path, "sentence_starts:", "sentence_start:")
    with pytest.raises(DataFileError, match=rf"regions.yaml:{_line_of(path, 'sentence_start:')}: unknown key"):
        places.load_region_rules(path)
    path = _rules_with(tmp_path, 'enumeration_count: "(?:', 'enumeration_count: "((?:')
    with pytest.raises(DataFileError, match=rf"regions.yaml:{_line_of(path, 'enumeration_count')}: .* no regex"):
        places.load_region_rules(path)
    path = _rules_with(tmp_path, "landform_heads: 河湖江山海", "landform_heads: [河, '']")
    with pytest.raises(DataFileError, match=rf"regions.yaml:{_line_of(path, 'landform_heads')}: landform_heads must"):
        places.load_region_rules(path)


def test_the_shipped_word_lists_load():
    rules = places.load_region_rules(config.schema_dir() / "regions.yaml")
    assert "乡镇" in rules.not_regions and rules.common_word_frequency > 0


@pytest.mark.parametrize(("name", "tier", "level"), [
    ("山西省", 0, "省"), ("内蒙古自治区", 0, "省"), ("湘西土家族苗族自治州", 1, "市"), ("大兴安岭地区", 1, "市"),
    ("忻州市", 1, "市"), ("潞城区", 2, "区"), ("准格尔旗", 2, "县"), ("介休市", 2, "县"), ("会同县", 2, "县"),
    ("市辖区", 1, ""), ("省直辖县级行政区划", 1, ""), ("林区", 1, ""), ("神农架林区", 2, "区"),
])
def test_the_table_levels_of_the_word_lists_give_each_tier_its_level(name, tier, level):
    assert places._division_level(name, tier) == level


def test_the_levels_of_the_kinds_of_place_come_from_the_word_lists():
    assert set(places.DIVISION_LEVELS) == {"省", "市", "县", "区"}
    assert set(places.TOWN_LEVELS) == {"镇", "乡", "街道"} and set(places.VILLAGE_LEVELS) == {"村", "社区"}
    names = places.region_names()
    assert names["湘西州"][0].adcode == names["湘西土家族苗族自治州"][0].adcode
    assert "石柱县" in names and "湘西县" not in names
    assert places.load_region_rules().first_person.fullmatch("本镇")["level"] == "镇"


def test_table_levels_need_the_three_tiers(tmp_path):
    path = _rules_with(tmp_path, "  - {区: [区], 县: [县, 市, 旗]}\n", "")
    with pytest.raises(DataFileError, match=rf"regions.yaml:{_line_of(path, 'table_levels')}: table_levels must"):
        places.load_region_rules(path)


# --- loading --------------------------------------------------------------------------------

def test_the_gazetteer_cache_holds_the_same_table(tmp_path):
    built = places.build_gazetteer()
    cached = places.load_gazetteer()
    assert cached.by_code.keys() == built.by_code.keys() and cached.old_names == built.old_names
    assert cached.places("431225") == built.places("431225")
    assert any(config.cache_dir().joinpath("gazetteer").glob(f"jionlp-{places.gazetteer_version()}-*.pickle"))


def test_region_finding_does_not_import_jionlp():
    code = ("import sys; from etl.extract import places, regions; places.load_tables(); "
            "regions.find_region_mentions('会同县林城镇'); print('jionlp' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=config.PROJECT_ROOT)
    assert result.stdout.strip() == "False"


def test_who_is_sent_to_villages_names_no_village():
    names = list(found("实行县级领导包乡镇、乡镇干部包村，第一书记驻村，石包村、王家村同步推进"))
    assert "干部包村" not in names and "书记驻村" not in names and "石包村" in names


def test_mongolian_townships_and_gachas_as_reports_write_them():
    names = found("准格尔旗水土保持工作汇报\n在布尔陶亥苏木、巴润哈岱嘎查实施沙棘种植")
    assert names["布尔陶亥苏木"].level == "乡" and names["巴润哈岱嘎查"].level == "村"
    assert "准格尔旗" in names["布尔陶亥苏木"].within


def test_a_division_without_towns_in_the_table_is_no_failure(tmp_path):
    """可克达拉市 and 成都高新技术产业开发区 are divisions whose table lists no town: a report naming
    one is extracted like any other (it failed with a regex error and lost the document)."""
    path = tmp_path / "kkdl.txt"
    path.write_text("关于水土保持工作的交流材料\n近年来，可克达拉市深入开展水土保持生态建设，"
                    "新增水土流失治理面积12平方公里。\n", encoding="utf-8")
    record = extract_text_document(path)
    assert record.region.name == "可克达拉市"
    assert [(q.subject, q.value) for q in record.quantities] == [("水土流失治理面积", 12.0)]


@pytest.mark.parametrize(("title", "text", "expected"), [
    # The opening lists cities (济南、淄博…等地): the reporter is the one the report goes on to tell of.
    ("", "活动得到了济南、淄博、济宁等地民间河长的响应。在济宁，济宁市义工协会常态化护河，济宁市河长巡河。",
     "济宁市"),
    # A place in quoted speech opening a story is the speaker's, not the reporter.
    ("", "“在广东打拼十几年，我决定回家。”南宁市河长制工作开展以来，南宁市河湖水质改善。", "南宁市"),
    # A parenthesised superior before the county the plan is for.
    ("(丽水市)庆元县水土保持规划(2015-2030)", "庆元县水土保持规划是重要基础。", "庆元县"),
    # The title names the county by its short name; the text names it in full.
    ("湘乡:“林长制”实现“林长治”", "(转载自湖南日报·新湖南客户端)湘乡市构建三级林长体系。湘乡市设立林长。", "湘乡市"),
    # A vendor's page title; the opening names the city by its short name, the text in full.
    ("水质检测仪", "水质检测仪厂家 EN\n常德和张家界签订澧水流域生态保护补偿协议。常德市和张家界市正式签订补偿协议，"
                   "常德市将补偿张家界市80万元。", "常德市"),
    # Visitors came (来) to the host: the host's news.
    ("恩施州水利和湖泊局来蕲春考察学习小库管护经验", "恩施州考察组一行来到蕲春县。蕲春县介绍小库管护经验。", "蕲春县"),
    # Those who went (赴) tell their own news.
    ("会同县赴怀化市考察学习河长制", "会同县考察组赴怀化市学习。", "会同县"),
    # A disclosure page: the document's name field, not the publishing district's bureau.
    ("信息分类: | 工作规划 |", "发布机构: | 湾沚区自然资源和规划分局 |\n名称: | 芜湖市林业保护发展规划任务分工方案 |\n"
     "实现芜湖市林业保护发展目标。芜湖市森林覆盖率达到27%。", "芜湖市"),
    # A works table's 项目名称 is no document name field.
    ("工作动态", "会同县推进水土保持。会同县完成治理，会同县验收。\n项目名称: 怀化市水土保持工程", "会同县"),
])
def test_the_opening_and_title_name_the_reporter_as_prose_does(title, text, expected):
    region = _reporting_of(title, text)
    assert region is not None and region.name == expected


def test_visit_host_matches_its_examples_and_spares_its_counterexamples():
    rules = places.load_region_rules()
    data = yaml.safe_load((config.schema_dir() / "regions.yaml").read_text(encoding="utf-8"))
    assert all(rules.visit_host.search(text) for text in data["visit_host_examples"])
    assert not any(rules.visit_host.search(text) for text in data["visit_host_counterexamples"])


@pytest.mark.parametrize(("source", "expected"), [("泉州市水利局", "泉州市"), ("", "鲤城区")])
def test_a_report_calling_itself_our_city_is_the_city_its_source_line_names(source, expected):
    text = "我市在全省率先实现湖长制全覆盖。我市11个县(市、区)(鲤城区无湖库)均已出台方案，全市实施湖长制。"
    mentions = regions.find_region_mentions(text)
    region = reporting_region.reporting_region(text.split("。")[0], text.split("。")[0], mentions, text, source)
    assert region is not None and region.name == expected


def test_a_region_word_inside_another_word_is_no_self_reference():
    text = "凤城市人民检察院联合元宝区人民法院验收补植复绿。凤城市检察院起诉，对该区域生态环境造成破坏。"
    region = _reporting_of("", text)
    assert region is not None and region.name == "凤城市", "该区域 is an area, not 该区"


def test_an_anaphor_for_a_town_named_once_keeps_the_county_named_more():
    text = ("记者走进仁寿县宝飞镇永固村。宝飞镇河长介绍，该镇还注重修复生态。仁寿县探索治理新模式，"
            "仁寿县将目标任务分解，仁寿县设立河长。")
    region = _reporting_of("", text)
    assert region is not None and region.name == "仁寿县"


def test_organ_after_matches_its_examples_and_spares_its_counterexamples():
    rules = places.load_region_rules()
    data = yaml.safe_load((config.schema_dir() / "regions.yaml").read_text(encoding="utf-8"))
    assert all(rules.organ_after.match(text) for text in data["organ_after_examples"])
    assert not any(rules.organ_after.match(text) for text in data["organ_after_counterexamples"])


def test_a_place_beginning_a_medium_or_company_name_is_no_region_mention():
    text = "来源:湖南日报。中国电信广元分公司维护网站。湖南省水利厅督查衡东县河长制，广元市网格化管理。"
    names = [m.region.name for m in regions.find_region_mentions(text)]
    assert names.count("湖南省") == 1 and names.count("广元市") == 1 and "衡东县" in names


def test_an_autonomous_county_written_with_its_short_name_and_autonomy():
    names = {m.region.name for m in regions.find_region_mentions("沿河自治县统筹推进水生态保护。")}
    assert names == {"沿河自治县"}


def test_a_region_the_opening_names_once_yields_to_one_the_story_tells_of():
    text = ("隆安县布泉乡村民庞荣海对记者说。南宁市河长制工作开展以来，河湖水质明显改善。"
            "南宁市全面落实河长制。南宁市各地清水长流。")
    region = _reporting_of("河清岸绿带旺乡村旅游", text)
    assert region is not None and region.name == "南宁市"


@pytest.mark.parametrize(("title", "text", "expected"), [
    # The opening names the province a lake lies in twice; the story tells of the city four times, and
    # 梁子湖 is the lake, not 梁子湖区.
    ("", "梁子湖位于湖北省东南部，是湖北省最大的湖泊。鄂州日报讯 河湖长制在鄂州落地生根。梁子湖区设立湖长。"
         "鄂州市印发方案，鄂州市设立五级湖长。梁子湖水质稳定，梁子湖湖长巡湖，梁子湖鸟类增多。", "鄂州市"),
    # Nothing named in the title or the opening: the division told of most, its short name counting.
    ("澎湃Logo", "下载客户端登录。甘肃省推行库长制。甘肃省水利厅部署。平凉市水库库长上岗。平凉市泾川县水库巡查。"
                 "守护平凉的水库安全，建设美丽平凉。", "平凉市"),
])
def test_a_region_told_of_twice_as_often_is_the_reporter(title, text, expected):
    region = _reporting_of(title, text)
    assert region is not None and region.name == expected


def test_a_region_the_opening_names_again_stays_the_reporter():
    text = "甘肃省全面推进水土保持。甘肃省治理水土流失，秦州区建成梯田，秦州区建成淤地坝，秦州区植树。"
    region = _reporting_of("", text)
    assert region is not None and region.name == "甘肃省"


def test_a_city_by_its_short_name_opening_a_clause_is_a_place():
    names = {m.region.name for m in regions.find_region_mentions("近年来，泉州持续加大水土流失治理力度。")}
    assert names == {"泉州市"}


def test_a_province_calling_itself_our_province_is_found_by_its_short_name_once():
    text = ("记者从省河长办获悉，我省组织开展了河长制工作考核。全省地表水质达标率提升。"
            "位列前3名的设区市依次为九江市、宜春市、鹰潭市。为建设富裕美丽幸福现代化江西作出贡献。")
    region = _reporting_of("", text)
    assert region is not None and region.name == "江西省"


def test_a_county_told_of_by_its_short_name_outweighs_a_province_the_opening_names_once():
    text = ("“世界上最神秘的鸟”海南鳽来了，斑头雁首次在福建被记录到。长汀县水土流失治理成效显著。"
            "长汀累计综合治理水土流失146.8万亩。长汀步履不停，长汀的故事没有结束。")
    region = _reporting_of("", text)
    assert region is not None and region.name == "长汀县"


def test_a_province_after_a_river_and_before_a_section_word_is_its_stretch_of_the_river():
    data = yaml.safe_load((config.schema_dir() / "regions.yaml").read_text(encoding="utf-8"))
    expected = {"长江江西段": "江西省", "黄河青海流域": "青海省", "黄河河南段": "河南省"}
    assert set(expected) == set(data["river_section_examples"])
    for text, province in expected.items():
        assert set(found("开展" + text + "治理")) == {province}, text
    for text in data["river_section_counterexamples"]:
        assert not found("开展" + text + "治理"), text


def test_a_region_nested_twice_as_written_takes_the_innermost_parent():
    text = "浙江磐安县深化落实河长制。浙江金华市磐安县冷水镇潘潭村村民说。"
    pairs = nesting(text, reporting="磐安县")
    assert ("磐安县", "金华市") in pairs and ("磐安县", "浙江省") not in pairs
    assert ("金华市", "浙江省") in pairs


def test_a_division_written_in_full_and_short_is_one_region_of_its_full_name():
    text = "2020年，海北藏族自治州不断增强河湖管护。海北州印发了方案。"
    names = [m.region.name for m in regions.find_region_mentions(text)]
    assert names == ["海北藏族自治州", "海北藏族自治州"]
    assert [m.region.name for m in regions.find_region_mentions("海北州印发了方案。")] == ["海北州"], \
        "written only short, it keeps the name as written"


def test_an_anaphor_for_a_county_told_of_by_its_short_name_outweighs_a_province_named_more():
    text = ("贵州的母亲河乌江流经沿河自治县。贵州，沿河统筹推进水生态保护。沿河是母亲河的守护者，"
            "该县投资3亿余元建设水库，该县设立河长，沿河的河流清了。")
    region = _reporting_of("", text)
    assert region is not None and region.name == "沿河自治县"


def test_a_count_of_towns_after_a_list_is_no_town():
    assert set(found("可解决中寨镇、思渠镇等两镇域内10余个村的用水。")) == {"中寨镇", "思渠镇"}


def test_a_sites_list_of_divisions_written_back_to_back_names_no_region():
    text = "您可以选择访问: 保山市隆阳区施甸县腾冲市龙陵县昌宁县。苏州市吴江区地处江苏省最南端。"
    assert set(found(text)) == {"保山市", "隆阳区", "苏州市", "吴江区", "江苏省"}


def test_a_medium_after_a_dot_and_a_dateline_after_news_name_no_region():
    assert not found("新甘肃·甘肃日报通讯员刘瑾报道。")
    assert set(found("中新网福建新闻5月16日电 莆田市推进河长制。")) == {"莆田市"}


def test_a_town_of_a_county_written_otherwise_than_the_table_nests_in_it_as_written():
    text = "贵州省沿河自治县统筹推进水生态保护。谯家镇、中寨镇开展河道保洁。"
    pairs = nesting(text, reporting="沿河自治县")
    assert {("谯家镇", "沿河自治县"), ("中寨镇", "沿河自治县")} <= pairs
    assert ("谯家镇", "贵州省") not in pairs


def test_regions_read_how_a_list_is_written_from_the_grammar(tmp_path, monkeypatch):
    """The list mark is declared once, in grammar.yaml: regions take theirs from it, and a grammar
    without it is an error naming the grammar file."""
    source = config.schema_dir()

    def schema_with(name: str, old: str, new: str) -> Path:
        schema = tmp_path / name
        shutil.copytree(source, schema)
        grammar = schema / "patterns" / "grammar.yaml"
        grammar.write_text(grammar.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        monkeypatch.setenv("GOVGRAPH_SCHEMA", str(schema))
        return schema / "regions.yaml"

    rules = places.load_region_rules(schema_with("marked", "list_mark: 、", "list_mark: ；"))
    assert rules.enumeration_separators == {"；"}
    with pytest.raises(DataFileError, match=r"grammar.yaml:1: the grammar needs 'list_mark'"):
        places.load_region_rules(schema_with("unmarked", "list_mark: 、\n", ""))
