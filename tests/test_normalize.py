"""Normalize stage: traditional→simplified, widths, page junk, metadata of the sample corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import config
from etl.input import normalize, read

SAMPLE = config.sample_corpus_dir()


def normalized(name: str) -> normalize.NormalizedDocument:
    return normalize.normalize(read.read_document(SAMPLE / name))


def raw(text: str, name: str = "t.txt") -> read.RawDocument:
    return read.RawDocument(name, Path(name), text, "utf_8", "txt", "0" * 16)


_, PATTERNS = normalize.junk_patterns()


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_every_junk_pattern_matches_its_examples_and_spares_its_counterexamples(pattern):
    assert pattern.examples and pattern.counterexamples, f"{pattern.id} needs both kinds of case"
    for line in pattern.examples:
        assert pattern.regex.match(normalize.collapse_spaces(line)), (pattern.id, line)
    for line in pattern.counterexamples:
        assert not any(p.regex.match(line) for p in PATTERNS), (pattern.id, line)


def test_traditional_input_is_converted_with_mainland_phrasing():
    doc = normalize.normalize(raw("全市生態建立工作彙報\n本專案的資訊系統已上線，軟體由縣水利局維護。"))
    assert doc.lang_variant == "traditional"
    assert doc.text == "全市生态创建工作汇报\n本项目的信息系统已上线，软件由县水利局维护。"


def test_phrases_with_a_taiwan_sense_keep_their_mainland_one():
    doc = normalize.normalize(raw("編印簡報9期，散發宣傳資料1萬餘份，三同時執行率達100%。"))
    assert doc.text == "编印简报9期，散发宣传资料1万余份，三同时执行率达100%。"


def test_simplified_input_is_left_alone():
    text = "县水利局建立了联席会议制度，乾隆年间修建的水渠仍在使用。"
    doc = normalize.normalize(raw(text))
    assert doc.lang_variant == "simplified"
    assert doc.text == text


def test_widths_and_spaces():
    text = "　　推行“河长＋检察长”模式，水土保持率达到６３．５６％（２０２５年）。 \n\n  河 长 制"
    doc = normalize.normalize(raw(text))
    assert doc.text == "推行“河长+检察长”模式，水土保持率达到63.56%(2025年)。\n河长制"


def test_sample_policy_interpretation_keeps_metadata_and_drops_chrome():
    doc = normalized("002_94f629d2cccb45b0.txt")
    assert doc.title == "忻州市加强新时代水土保持工作实施方案的政策解读"
    assert (doc.date, doc.source) == ("2024-02-18", "忻州市政府")
    for chrome in ("当前位置", "中国政府网", "大中小"):
        assert chrome not in doc.text


def test_sample_traditional_report_is_simplified_without_its_site_menu():
    doc = normalized("003_0f280d93b210b4c0.txt")
    assert doc.lang_variant == "traditional"
    assert doc.title == "全市生态创建工作汇报"
    assert "网站首页" not in doc.text and "人气" not in doc.text
    assert doc.text.count("全市生态创建工作汇报") == 1


def test_sample_breadcrumb_is_dropped_but_the_title_kept():
    doc = normalized("004_afd50eb96374d14b.txt")
    assert doc.title == "某区关于落实“河长制”工作情况的报告"
    assert "报告范文" not in doc.text
    assert doc.text.startswith("某区关于落实“河长制”工作情况的报告\n市委:")


@pytest.mark.parametrize("path", sorted(SAMPLE.glob("*.txt")), ids=lambda p: p.name)
def test_no_body_paragraph_of_the_samples_is_lost(path):
    """Every paragraph that ends like a sentence survives junk removal."""
    doc = normalize.normalize(read.read_document(path))
    source = path.read_text(encoding="utf-8")
    if doc.lang_variant == "traditional":
        source = normalize.to_simplified(source)
    source = normalize.half_width(source)
    for line in source.splitlines():
        line = normalize.join_cjk(normalize.collapse_spaces(line))
        if len(line) > 30 and line.endswith("。"):
            assert line in doc.text


# --- pinyin printed after characters ------------------------------------------------------

RULE = normalize.pinyin_rule()
SPAM = normalize.spam_rule()
# Each cleaning rule file's cases, with the function that applies it: pinyin after characters
# (pinyin.yaml) and betting spam stuffed into lines (junk.yaml's inline_spam).
CLEANERS = ((normalize.strip_pinyin, RULE), (normalize.strip_spam, SPAM))


@pytest.mark.parametrize(("clean", "text", "expected"),
                         [(clean, text, expected) for clean, rule in CLEANERS for text, expected in rule.examples])
def test_pinyin_and_stuffed_spam_are_cut_out(clean, text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(("clean", "text"),
                         [(clean, text) for clean, rule in CLEANERS for text in rule.counterexamples])
def test_brackets_that_are_not_pinyin_and_words_spam_uses_alone_stay(clean, text):
    assert clean(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("梧州市長(zhǎng)洲鎮(zhèn)正陽(yáng)村", "梧州市长洲镇正阳村"),  # ASCII brackets
    ("全面推行河長（zhǎng）制", "全面推行河长制"),  # full-width brackets
    ("綠(lǜ)色發(fā)展", "绿色发展"),  # ü with a tone mark
    ("河長(zhǎng)制、湖長(zhǎng)制和林長(zhǎng)制的(de)成效", "河长制、湖长制和林长制的成效"),  # neutral tone
    ("他的(de)成效", "他的(de)成效"),  # a lone unmarked syllable may be anything: kept
    ("配備全球定位系統(GPS)和河長(zhǎng)巡河終端", "配备全球定位系统(GPS)和河长巡河终端"),
])
def test_normalize_removes_pinyin_before_simplifying(text, expected):
    assert normalize.normalize(raw(text)).text == expected


def test_a_report_with_pinyin_reads_as_without_and_evidence_points_at_its_sentence(tmp_path):
    from etl.extract import extract_text_document

    plain = "梧州市全面落实河长制湖长制，持续推进河湖治理。\n梧州市长洲镇正阳村建成生态清洁小流域2条。"
    marked = ("梧州市全面落實河長(zhǎng)制湖長(zhǎng)制，持續(xù)推進(jìn)河湖治理。\n"
              "梧州市長(zhǎng)洲鎮(zhèn)正陽(yáng)村建成生態(tài)清潔小流域2條(tiáo)。")
    (tmp_path / "plain.txt").write_text(plain, encoding="utf-8")
    (tmp_path / "marked.txt").write_text(marked, encoding="utf-8")
    a = extract_text_document(tmp_path / "plain.txt")
    b = extract_text_document(tmp_path / "marked.txt")
    assert [s.text for s in b.sentences] == [s.text for s in a.sentences]
    assert b.entities == a.entities and b.relations == a.relations
    text = normalize.normalize(read.read_document(tmp_path / "marked.txt")).text
    assert all(text[s.start:s.end] == s.text for s in b.sentences)
    named = [r for r in b.relations if r.type in ("ADOPTS", "IMPLEMENTS")]
    assert {r.type for r in named} == {"ADOPTS", "IMPLEMENTS"}
    assert all(r.tail in b.sentences[i].text for r in named for i in r.props.evidence)


def test_character_converted_mainland_text_keeps_its_words():
    """A mainland report converted to traditional character by character means 建立 and 新增 as
    written; only a text given Taiwan vocabulary (專案, 軟體, 網路) gets mainland phrasing back."""
    plain = "全縣建立河長制，新增水土流失治理面積12平方公里。"
    assert not normalize.taiwan_phrased(plain)
    assert normalize.to_simplified(plain) == "全县建立河长制，新增水土流失治理面积12平方公里。"
    phrased = "全縣建立河長制，推動專案管理，升級軟體與網路系統。"
    assert normalize.taiwan_phrased(phrased)
    assert normalize.to_simplified(phrased) == "全县创建河长制，推动项目管理，升级软件与网络系统。"


def test_corner_bracket_quotes_become_mainland_quotes():
    doc = normalize.normalize(raw("洱源縣河長制工作\n實行「一河一長一警一員」管理模式，開展『清四亂』行動。\n"))
    assert "“一河一长一警一员”" in doc.text and "‘清四乱’" in doc.text
    assert len(normalize.half_width("「一河一策」")) == len("「一河一策」")


def test_a_title_is_not_the_pages_chrome():
    """Issue 23, item 10: breadcrumbs, greetings and notices' labels are not titles."""
    from etl.input.normalize import choose_title

    assert choose_title(["资讯 > 创业 >", "温馨提示:", "郑州市召开河(湖)长制工作推进会", "正文。"], {}) == \
        "郑州市召开河(湖)长制工作推进会"
    assert choose_title(["欢迎访问“中国水利”网", "全面推行河长制。"], {"title": "中国西藏网 > 生态"}) == ""
    assert choose_title(["全面推行河长制。"], {"title": "遂溪部署2022年全面推行林长制工作"}) == \
        "遂溪部署2022年全面推行林长制工作"


def test_a_spam_title_goes_and_the_sentences_it_was_stuffed_into_stay():
    """A page whose title spam replaced (ta01 of the training pool) keeps its sentences, the
    policy's title whole; a line that was only spam is no title."""
    doc = normalize.normalize(raw("足球直播360,足球现场直播\n全面推行河长制工作情况汇报\n"
                                  "国务院办公厅印发《足球直播360,足球现场直播全面推行河长制的意见》后,"
                                  "文安县成立领导小组。\n"))
    assert doc.title == "全面推行河长制工作情况汇报"
    assert "《全面推行河长制的意见》后,文安县成立领导小组。" in doc.text
    assert "足球" not in doc.text and "360" not in doc.text


def test_a_repost_note_opening_a_line_is_the_source_and_the_line_goes_on():
    """(转自恩施州水利厅网)(刘阿敏) names where a page took its article from, not the region whose
    work it tells of: it is the document's source, and its sentence stays."""
    doc = normalize.normalize(raw("利川市推进河长制\n"
                                  "(转自恩施州水利厅网)(刘阿敏)为开展河道综合整治,利川市积极推进“河长制”。\n"))
    assert doc.source == "恩施州水利厅网"
    assert "为开展河道综合整治,利川市积极推进“河长制”。" in doc.text.splitlines()
    assert "转自" not in doc.text and "刘阿敏" not in doc.text
