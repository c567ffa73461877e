"""Resolve stage: region names to gazetteer entries, the reporting region, nesting.

Takes sentences and the mentions found in them; returns regions with level and adcode,
the region whose work the document reports (我区/我县/本市 resolve to it), and the PART_OF
relations the text states or clearly implies.

The work is done in etl/extract/regions.py (jionlp's 2025 divisions down to villages, the
word lists of schema/regions.yaml); this module keeps the names the rest of the package
imports from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from etl.extract.regions import (
    RegionInfo,
    RegionMention,
    _jieba_words,
    find_region_mentions,
    first_word,
    gazetteer,
    gazetteer_hits,
    implied_parent_patterns,
    implied_parents,
    load_tables,
    parent_adcodes,
    part_of,
    region_names,
    reporting_region,
    resolve_regions,
    short_name_region,
    word_tag,
)


class _ImpliedParent(Mapping[str, re.Pattern[str]]):
    """Level → the words by which a report refers to its city or province (市委, 全省), read
    from schema/regions.yaml when first used rather than at import."""

    def __getitem__(self, level: str) -> re.Pattern[str]:
        return implied_parent_patterns()[level]

    def __iter__(self) -> Iterator[str]:
        return iter(implied_parent_patterns())

    def __len__(self) -> int:
        return len(implied_parent_patterns())


IMPLIED_PARENT: Mapping[str, re.Pattern[str]] = _ImpliedParent()

__all__ = [
    "IMPLIED_PARENT", "RegionInfo", "RegionMention", "_jieba_words", "find_region_mentions", "first_word",
    "gazetteer", "gazetteer_hits", "implied_parents", "load_tables", "parent_adcodes", "part_of",
    "region_names", "reporting_region", "resolve_regions", "short_name_region", "word_tag",
]
