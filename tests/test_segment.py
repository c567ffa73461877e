"""Segment stage: a golden table of inputs and their sentences, and the offset contract."""

from __future__ import annotations

import pytest

from etl.input.segment import segment

GOLDEN = [
    ("一是坚持规划引领。二是凝聚合力。", ["一是坚持规划引领。", "二是凝聚合力。"]),
    ("完成治理面积12平方公里；新建淤地坝3座！", ["完成治理面积12平方公里；", "新建淤地坝3座！"]),
    ("围绕“山青、水净。村美、民富”的目标推进。", ["围绕“山青、水净。村美、民富”的目标推进。"]),
    ("制定《关于全面推行河长制的意见。试行》等文件。", ["制定《关于全面推行河长制的意见。试行》等文件。"]),
    ("他强调：要压实责任。", ["他强调：要压实责任。"]),
    ("一、提升政治觉悟\n今年以来成效显著。", ["一、提升政治觉悟", "今年以来成效显著。"]),
    ("号召“人人参与！”。随后开展巡河。", ["号召“人人参与！”。", "随后开展巡河。"]),
    ("真的吗？！是的。", ["真的吗？！", "是的。"]),
    ("\n\n  \n", []),
    ("Done; next", ["Done;", "next"]),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_sentences(text, expected):
    assert [s.text for s in segment(text)] == expected


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_offsets_point_into_the_text(text, expected):
    sentences = segment(text)
    assert [s.index for s in sentences] == list(range(len(expected)))
    for sentence in sentences:
        assert text[sentence.start:sentence.end] == sentence.text


def test_an_unclosed_quote_does_not_swallow_the_document():
    text = "他说“开始。" + "这是一句很长的话。" * 60
    assert len(segment(text)) > 20


def test_the_input_marks_are_checked_against_their_examples(tmp_path):
    """schema/patterns/text.yaml: a pattern whose counterexample matches is refused at its line."""
    import pytest

    from etl import config
    from etl.errors import DataFileError
    from etl.input.marks import load_marks

    marks = load_marks()
    assert marks.patterns["title_numbered"].match("一、工作开展情况")
    assert "。" in marks.sentence_ends and marks.pairs["《"] == "》"
    text = (config.schema_dir() / "patterns" / "text.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "text.yaml"
    bad.write_text(text.replace('counterexamples: ["忻州市水土保持工作总结"]', 'counterexamples: ["一、总结"]'),
                   encoding="utf-8")
    with pytest.raises(DataFileError, match=r"text\.yaml:\d+: title_numbered: counterexample '一、总结' matches"):
        load_marks(bad)


def test_an_unclosed_quote_does_not_make_one_long_sentence():
    """Issue 23, item 10: the end marks after a “ that never closes end their sentences."""
    from etl.input.segment import segment

    clause = "河长制全面推行，各级河长巡河。"
    sentences = segment("他说“" + clause * 40 + "\n第二行。")
    assert [s.text for s in sentences] == ["他说“" + clause, *[clause] * 39, "第二行。"]
    assert segment("他说“全面推行河长制。”然后完成。")[0].text == "他说“全面推行河长制。”然后完成。"
