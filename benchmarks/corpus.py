"""A synthetic corpus for benchmarks: the sample reports with regions and numbers varied.

Each generated document is one sample text (normalized first, so traditional and scraped
inputs count once) in which the reporting region is replaced by a real county, district or
city of the gazetteer and every Arabic number is rescaled at random; reproducible by seed.

    .venv/bin/python benchmarks/corpus.py --docs 2000 --out build/bench-corpus
    .venv/bin/python benchmarks/corpus.py --megabytes 20 --out build/bench-20mb

``generated_records`` does the same at the level of records, for the load benchmarks: the
sample's records (tests/data/sample_records.jsonl) copied with their reporting region replaced
by a gazetteer region and their quantities rescaled, one path each, so that 10,000 documents
load without first extracting 29 million characters.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import config  # noqa: E402
from etl.extract import places  # noqa: E402
from etl.input import read  # noqa: E402
from etl.input.normalize import normalize  # noqa: E402

REDACTED = re.compile(r"(?:XX|X|某)(区|县|市)")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _templates() -> list[str]:
    return [normalize(read.read_document(p)).text for p in read.find_sources([config.sample_corpus_dir()])]


def _regions(level: str) -> list[str]:
    return sorted(name for name, infos in places.gazetteer().items()
                  if infos[0].level == level and len(name) >= 3 and len(infos) == 1)


def _vary_number(match: re.Match, rng: random.Random) -> str:
    text = match.group(0)
    if len(text) == 4 and text.startswith(("19", "20")):
        return text
    value = float(text) * rng.uniform(0.5, 2.0)
    return f"{value:.2f}" if "." in text else str(max(1, round(value)))


def generate(out: Path, docs: int | None = None, megabytes: float | None = None, seed: int = 7) -> list[Path]:
    """Write documents until ``docs`` files or ``megabytes`` of UTF-8 text; return their paths."""
    rng = random.Random(seed)
    templates = _templates()
    by_level = {level: _regions(level) for level in ("区", "县", "市")}
    out.mkdir(parents=True, exist_ok=True)
    paths, size, i = [], 0, 0
    while (docs is not None and i < docs) or (megabytes is not None and size < megabytes * 2**20):
        text = templates[i % len(templates)]
        text = REDACTED.sub(lambda m: rng.choice(by_level[m.group(1)]), text)
        text = NUMBER.sub(lambda m: _vary_number(m, rng), text)
        path = out / f"doc{i:06d}.txt"
        data = text.encode("utf-8")
        path.write_bytes(data)
        paths.append(path)
        size += len(data)
        i += 1
    return paths


SAMPLE_RECORDS = Path(__file__).resolve().parent.parent / "tests" / "data" / "sample_records.jsonl"


def _renamed(line: str, name: str, new: str) -> str:
    """A records.jsonl line with every string that is exactly ``name`` replaced by ``new``."""
    return line.replace(json.dumps(name, ensure_ascii=False), json.dumps(new, ensure_ascii=False))


def generated_records(out: Path, docs: int, seed: int = 7, prefix: str = "gen") -> Path:
    """Write ``docs`` records to ``out`` (a records.jsonl) from the sample's records; return it."""
    rng = random.Random(seed)
    templates = SAMPLE_RECORDS.read_text(encoding="utf-8").splitlines()
    by_level = {level: _regions(level) for level in ("区", "县", "市")}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for i in range(docs):
            line = templates[i % len(templates)]
            region = json.loads(line)["region"]
            if region:
                new = rng.choice(by_level.get(region["level"], by_level["县"]))
                line = _renamed(line, region["name"], new)
            record = json.loads(line)
            if region:
                record["region"].update(anonymized=False, name=new)
                record["properties"].setdefault("Region", {})[new] = {"level": region["level"], "anonymized": False}
            for q in record["quantities"]:
                if q["value"] is not None:
                    q["value"] = round(q["value"] * rng.uniform(0.5, 2.0), 2)
                    q["value_std"] = None
            record["doc"] = f"doc{i:06d}.txt"
            record["path"] = f"{prefix}/{record['doc']}"
            record["doc_id"] = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:16]
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def extracted(work: Path, docs: int) -> Path:
    """records.jsonl of a generated corpus of ``docs`` documents in ``work`` (generated once)."""
    from etl.extract import extract_corpus

    corpus = work / "corpus"
    if len(list(corpus.glob("*.txt"))) != docs:
        shutil.rmtree(corpus, ignore_errors=True)  # a corpus of another size would be mixed in
        generate(corpus, docs=docs)
    return extract_corpus([corpus], work, workers=2).out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--docs", type=int)
    parser.add_argument("--megabytes", type=float)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.docs is None and args.megabytes is None:
        parser.error("give --docs or --megabytes")
    paths = generate(args.out, args.docs, args.megabytes, args.seed)
    print(f"{len(paths)} documents in {args.out}")


if __name__ == "__main__":
    main()
