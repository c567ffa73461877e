"""Do a researcher's corrections teach the extractor? One slice of the annotated pool, two models.

    .venv/bin/python -m benchmarks.corrections --gold ../shared/train/gold.jsonl \
        --raw ../shared/train/raw --scorer ../shared/eval/score.py --slice tj [--corrected 10]

The slice's first reports (by name) stand for what a researcher reviewed: their corrections are
written as `govgraph review` users write them (reject a name that is none, retype one of the
wrong label, rename one cut wrong to the annotated name it overlaps), from the difference
between the rules' record and the annotation, into a corrections.yaml. Both models are fitted
on the other nine slices; one also on the corrected reports (etl.train.corrected_gold, what
`govgraph train --corrections` does). Both then extract the slice's other reports, scored.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

from benchmarks.quality import KEYS, load_scorer
from etl import train
from etl.extract import _assembler, learned


def overlapping(a: str, b: str) -> bool:
    """One name holds the other and the shorter is at least half the longer (the scorer's view)."""
    short, long_ = sorted((a, b), key=len)
    return short in long_ and 2 * len(short) >= len(long_)


def corrections_for(name: str, record, gold: dict[str, list[tuple[str, ...]]]) -> list[dict]:
    """What a reviewer of one report writes: each extracted name the annotation does not hold is
    retyped (annotated under another label), renamed (an annotated name it overlaps), or rejected."""
    out = []
    for label in learned.LABELS:
        keys = {train.key_of(n, label) for group in gold.get(label, ()) for n in group}
        for extracted in record.entities.get(label, {}):
            if train.key_of(extracted, label) in keys:
                continue
            other = next((lab for lab in learned.LABELS if lab != label and extracted in
                          {n for group in gold.get(lab, ()) for n in group}), None)
            near = next((group[0] for group in gold.get(label, ()) if any(overlapping(extracted, n) for n in group)),
                        None)
            if other:
                out.append({"retype": {"name": extracted, "from": label, "to": other, "doc": name}})
            elif near and near not in record.entities.get(label, {}):
                out.append({"rename": {"type": label, "from": extracted, "to": near, "doc": name}})
            else:
                out.append({"reject": {"type": label, "name": extracted, "doc": name}})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, required=True)
    ap.add_argument("--raw", type=Path, nargs="+", required=True)
    ap.add_argument("--scorer", type=Path, required=True)
    ap.add_argument("--slice", default="tj")
    ap.add_argument("--corrected", type=int, default=10)
    ap.add_argument("--keep", type=Path, help="write the corrections file here")
    args = ap.parse_args(argv)
    scorer = load_scorer(args.scorer)
    gold_docs = scorer.read_jsonl(args.gold)
    gold = train.read_gold(args.gold)
    drafts, _ = train.read_drafts(args.raw, wanted=gold.__contains__)
    in_slice = sorted(d for d in drafts if train.slice_of(d) == args.slice)
    reviewed, scored = in_slice[:args.corrected], in_slice[args.corrected:]
    entries = [c for name in reviewed for c in corrections_for(name, _assembler().finish(drafts[name], None),
                                                               gold[name])]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "corrections.yaml"
        path.write_text(yaml.safe_dump({"corrections": entries}, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        corrected = train.corrected_gold(drafts, path)
    others = train.annotated(drafts, {d: g for d, g in gold.items() if train.slice_of(d) != args.slice})
    extra = train.annotated(drafts, corrected)
    for doc in extra:
        doc.reviewed = True
    known = train.known_names()
    result = {"slice": args.slice, "corrections": len(entries), "reviewed": reviewed, "scored": len(scored)}
    for name, docs in (("without", others), ("with", others + extra)):
        model = learned.EntityModel(train.fit(docs, known))
        records = {d: json.loads(_assembler().finish(drafts[d], model).to_json()) for d in scored}
        scores, _, _ = scorer.score({d: gold_docs[d] for d in scored}, records)
        result[name] = {k: scores[k]["f1"] for k in KEYS}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
