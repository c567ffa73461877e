"""Leave-one-slice-out quality: train on nine slices of the annotated pool, score the tenth.

    .venv/bin/python -m benchmarks.quality --gold ../shared/train/gold.jsonl \
        --raw ../shared/train/raw --scorer ../shared/eval/score.py [--threshold 0.5] [--json] \
        [--records held_out.jsonl]

Reads every report with the rules once, then for each slice (the file name's two-letter prefix)
fits the entity model and the quantity filter on the other slices and finishes the slice's
records with them; --records writes those held-out records, for score.py --show-errors. Prints,
per type, the rules alone and the learned model, both scored by the scorer given (the one the
gold's owners use), over the pooled held-out records and averaged over slices.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from etl import train
from etl.extract import _assembler
from etl.train import quantities

KEYS = ("Region", "Actor", "Mechanism", "Measure", "WaterBody", "Indicator", "Policy",
        "entities_all", "relations", "quantities")


def load_scorer(path: Path):
    spec = importlib.util.spec_from_file_location("score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_docs(records) -> dict[str, dict]:
    return {r.doc: json.loads(r.to_json()) for r in records}


def write_records(path: Path, folds: dict) -> None:
    """Every slice's held-out records, sorted by document, one JSON line each."""
    records = sorted((r for held in folds.values() for r in held), key=lambda r: r.doc)
    path.write_text("".join(r.to_json() + "\n" for r in records), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--raw", type=Path, nargs="+", required=True)
    ap.add_argument("--scorer", type=Path, required=True)
    ap.add_argument("--threshold", type=float, default=train.DEFAULT_THRESHOLD)
    ap.add_argument("--c", type=float, default=train.DEFAULT_C)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--records", type=Path, help="write the learned model's held-out records here (jsonl)")
    args = ap.parse_args(argv)
    scorer = load_scorer(args.scorer)
    gold_docs = scorer.read_jsonl(args.gold)
    gold = train.read_gold(args.gold)
    started = time.perf_counter()
    drafts, failures = train.read_drafts(args.raw, wanted=gold.__contains__)
    read_seconds = time.perf_counter() - started
    if len({train.slice_of(doc) for doc in drafts}) < 2:
        for line in failures:
            print(f"failed: {line}", file=sys.stderr)
        print(f"Error: {len(drafts)} annotated reports read under {', '.join(map(str, args.raw))}, from fewer than "
              "two slices (file-name prefixes); leave-one-slice-out needs two or more", file=sys.stderr)
        return 1
    folds = train.loso(drafts, gold, args.threshold, args.c, quantities.read_gold([args.gold]))
    if args.records:
        write_records(args.records, folds)
    rules = {held: [_assembler().finish(drafts[r.doc], None) for r in records] for held, records in folds.items()}
    result = {"read_seconds": round(read_seconds, 1), "total_seconds": round(time.perf_counter() - started, 1),
              "failures": failures}
    for name, by_slice in (("rules", rules), ("learned", folds)):
        pooled = {}
        per_slice = []
        for records in by_slice.values():
            docs = as_docs(records)
            pooled.update(docs)
            scores, _, _ = scorer.score({d: gold_docs[d] for d in docs}, docs)
            per_slice.append({k: scores[k]["f1"] for k in KEYS})
        scores, _, _ = scorer.score({d: gold_docs[d] for d in pooled}, pooled)
        result[name] = {
            "pooled": {k: scores[k]["f1"] for k in KEYS},
            "pooled_pr": {k: (scores[k]["precision"], scores[k]["recall"]) for k in KEYS},
            "slice_mean": {k: round(sum(s[k] for s in per_slice) / len(per_slice), 4) for k in KEYS},
            "slices": dict(zip(sorted(by_slice), [s["entities_all"] for s in per_slice], strict=True)),
        }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"read {len(drafts)} reports in {result['read_seconds']} s, all in {result['total_seconds']} s")
    print(f"{'':14}" + "".join(f"{k[:10]:>11}" for k in KEYS))
    for name in ("rules", "learned"):
        for view in ("pooled", "slice_mean"):
            print(f"{name + ' ' + view[:6]:14}" + "".join(f"{result[name][view][k]:11.3f}" for k in KEYS))
    for name in ("rules", "learned"):
        print(f"{name} P/R     " + "".join(f"  {p:.2f}/{r:.2f}" for p, r in result[name]["pooled_pr"].values()))
        print(f"{name} slices  " + " ".join(f"{s}:{f:.3f}" for s, f in result[name]["slices"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
