"""Reading the project's YAML data files (schema/) with errors that name path:line.

One place for what every rule file's loader needs: the parsed data and its text, a YAML error
turned into a DataFileError at the line it points to, and the line of a key for later errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from etl.errors import DataFileError


def read_yaml(path: Path) -> tuple[Any, str]:
    """(data, text) of a YAML file; a file that does not parse is a DataFileError at its line."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataFileError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML") from None


def line_of(text: str, key: str) -> int:
    """The line where a key stands in a YAML text (1 when it is not found)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(key + ":"):
            return number
    return 1


def compile_pattern(pattern: object, where: str) -> re.Pattern[str]:
    """A rule file's regular expression; one that does not compile is a DataFileError at ``where``."""
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise DataFileError(f"{where}: not a regular expression ({exc})") from None
