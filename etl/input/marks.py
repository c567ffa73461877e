"""The marks and short patterns of the input stage, read from schema/patterns/text.yaml.

Takes the data file; returns TextMarks: sentence ends, quote pairs, the full-width marks that
stay, corner quotes, and compiled patterns by name, each checked against its examples and
counterexamples when the file is read (a failing one is a DataFileError at its line).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from etl import config
from etl.datafiles import compile_pattern, line_of, read_yaml
from etl.errors import DataFileError

KEYS = ("sentence_ends", "pairs", "closers_after_end", "keep_full_width", "corner_quotes", "no_title",
        "patterns", "zero")


@dataclass(frozen=True)
class TextMarks:
    sentence_ends: str
    pairs: dict[str, str]
    closers_after_end: str
    keep_full_width: str
    corner_quotes: dict[str, str]
    no_title: str
    patterns: dict[str, re.Pattern[str]]
    zero: dict[str, str]


def marks_path() -> Path:
    return config.schema_dir() / "patterns" / "text.yaml"


@functools.cache
def load_marks(path: Path | None = None) -> TextMarks:
    """The input stage's marks and patterns, checked against their examples as they load."""
    path = path or marks_path()
    data, text = read_yaml(path)
    missing = [key for key in KEYS if not isinstance(data, dict) or key not in data]
    if missing:
        raise DataFileError(f"{path}:1: missing {', '.join(missing)}")
    patterns = {}
    for name, spec in data["patterns"].items():
        where = f"{path}:{line_of(text, '  ' + name)}: {name}"
        pattern = compile_pattern(spec.get("pattern", ""), where)
        for example in spec.get("examples") or ():
            if not pattern.search(example):
                raise DataFileError(f"{where}: example {example!r} does not match")
        for counterexample in spec.get("counterexamples") or ():
            if pattern.search(counterexample):
                raise DataFileError(f"{where}: counterexample {counterexample!r} matches")
        patterns[name] = pattern
    return TextMarks(str(data["sentence_ends"]), dict(data["pairs"]), str(data["closers_after_end"]),
                     str(data["keep_full_width"]), dict(data["corner_quotes"]), str(data["no_title"]),
                     patterns, dict(data["zero"]))
