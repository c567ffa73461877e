"""Benchmark: region resolution against plain jieba segmentation of the same text.

In one run, over the normalized text of the given reports (default: the five seeds and the
fifteen dev reports, repeated until about a megabyte), measures characters per second of:
  - jieba.lcut (the yardstick the extraction speed bar is stated against),
  - regions.find_region_mentions (full, old and short names, towns and villages of the named
    counties, suffix rules),
and the time to get the gazetteer: building it from jionlp's files, and loading the cached form.

    .venv/bin/python benchmarks/regions.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import config  # noqa: E402
from etl.extract import places, regions  # noqa: E402
from etl.input.normalize import normalize  # noqa: E402
from etl.input.read import find_sources, read_document  # noqa: E402

SHARED = config.PROJECT_ROOT.parent / "shared"


def rate(texts: list[str], work) -> float:
    chars = sum(map(len, texts))
    began = time.process_time()
    for text in texts:
        work(text)
    return chars / (time.process_time() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[SHARED / "seeds", SHARED / "dev" / "raw"])
    parser.add_argument("--megabytes", type=float, default=1.0)
    args = parser.parse_args()
    texts = [normalize(read_document(p)).text for p in find_sources(args.paths)]
    if not texts:
        sys.exit("no reports found")
    size = sum(map(len, texts))
    texts = texts * max(1, int(args.megabytes * 1e6 / 3 / size))  # about 3 bytes a character

    began = time.perf_counter()
    places.build_gazetteer()
    built = time.perf_counter() - began
    places.load_gazetteer.cache_clear()
    places.load_gazetteer()  # writes the cache file if missing
    places.load_gazetteer.cache_clear()
    began = time.perf_counter()
    places.load_gazetteer()
    cached = time.perf_counter() - began

    import jieba

    jieba.initialize()
    places.load_tables()
    jieba_rate = rate(texts, jieba.lcut)
    region_rate = rate(texts, regions.find_region_mentions)
    print(f"texts: {len(texts)} ({sum(map(len, texts)):,} characters)")
    print(f"gazetteer: built in {built:.2f} s, loaded from the cache in {cached:.2f} s")
    print(f"jieba.lcut            {jieba_rate:>12,.0f} chars/s CPU")
    print(f"find_region_mentions  {region_rate:>12,.0f} chars/s CPU ({region_rate / jieba_rate:.1f}x jieba)")


if __name__ == "__main__":
    main()
