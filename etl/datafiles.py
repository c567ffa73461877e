"""Reading YAML files (schema/, corrections, packs) safely, with errors that name path:line.

One place for what every loader of a YAML file needs: the parsed data and its text, a YAML error
turned into a DataFileError at the line it points to, and the line of a key for later errors.
A file a user gives is read with bounds: at most ``MAX_YAML_BYTES``, no aliases (``*name``; 440
bytes of nested aliases expanded to 312 MB), and only plain YAML's tags (``!!python/…`` is
refused at its line).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from etl.errors import DataFileError

# The largest YAML file read: the project's rule files are a few kilobytes, a corrections file
# of ten thousand entries about one megabyte.
MAX_YAML_BYTES = 5_000_000


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases: an alias is an error at its line, never expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "an alias (*name) is not allowed here; "
                                              "write the value out", event.start_mark)
        return super().compose_node(parent, index)


def _error(path: Path | str, exc: yaml.YAMLError) -> DataFileError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    return DataFileError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML ({problem[:200]})")


def read_text(path: Path) -> str:
    """A YAML file's text, refused past ``MAX_YAML_BYTES``; an unreadable file is a DataFileError."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise DataFileError(f"{path}: {size:,} bytes, more than a YAML file may hold "
                                f"({MAX_YAML_BYTES:,}); split it")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None


def compose(text: str, path: Path | str) -> yaml.Node | None:
    """The node tree of a YAML text (lines kept, nothing constructed); an error names path:line."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _error(path, exc) from None


def construct(node: yaml.Node, path: Path | str) -> Any:
    """The Python value of a composed node; a tag outside plain YAML is an error at its line."""
    try:
        return _Loader("").construct_document(node)
    except yaml.YAMLError as exc:
        raise _error(path, exc) from None


def load_yaml(path: Path) -> Any:
    """The data of a YAML file, read with the bounds above."""
    return read_yaml(path)[0]


def read_yaml(path: Path) -> tuple[Any, str]:
    """(data, text) of a YAML file; a file that does not parse is a DataFileError at its line."""
    text = read_text(path)
    node = compose(text, path)
    return (None if node is None else construct(node, path)), text


def line_of(text: str, key: str) -> int:
    """The line where a key stands in a YAML text, a top-level one first (1 when it is not found)."""
    lines = text.splitlines()
    for line_matches in (str.startswith, lambda line, prefix: line.strip().startswith(prefix)):
        for number, line in enumerate(lines, start=1):
            if line_matches(line, key + ":"):
                return number
    return 1


def compile_pattern(pattern: object, where: str) -> re.Pattern[str]:
    """A rule file's regular expression; one that does not compile is a DataFileError at ``where``."""
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise DataFileError(f"{where}: not a regular expression ({exc})") from None
