"""Every YAML file under schema/ is read through etl.datafiles' safe reader: a copy of a rule file
with an alias bomb appended is refused at the alias's line, naming the copy, by the function that
reads that file; and no module of etl parses YAML another way."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from etl import config
from etl.errors import DataFileError

# An alias bomb: each line names the one before it nine times (a billion strings at the end).
_BOMB = "".join(
    f"bomb{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9) if i else 'x'}]\n" for i in range(10)
)


def _readers():
    """(schema file, the function of etl that reads it given its path)."""
    from etl.extract import candidates, lexicon, places
    from etl.graph import model
    from etl.input import dates, marks, normalize
    from etl.outputs import queries
    from etl.research import corrections, review

    return [
        ("ontology.yaml", model._read_ontology),
        ("regions.yaml", places.load_region_rules.__wrapped__),
        ("units.yaml", lexicon.load_units.__wrapped__),
        ("query_guard.yaml", queries.guard.__wrapped__),
        ("patterns/rules.yaml", lexicon.load_rules.__wrapped__),
        ("patterns/grammar.yaml", candidates.load_grammar.__wrapped__),
        ("patterns/dates.yaml", dates.load_patterns.__wrapped__),
        ("patterns/text.yaml", marks.load_marks.__wrapped__),
        ("normalize/junk.yaml", normalize.junk_patterns.__wrapped__),
        ("normalize/pinyin.yaml", normalize.pinyin_rule.__wrapped__),
        ("normalize/opencc_keep.yaml", normalize._keep_phrases.__wrapped__),
        ("normalize/opencc_keep.yaml", normalize._ambiguous_words.__wrapped__),
        ("corrections/operations.yaml", corrections.operations.__wrapped__),
        ("corrections/review.yaml", review.settings.__wrapped__),
        ("lexicon/mechanisms.yaml", lambda path: lexicon.load_lexicon.__wrapped__(path.parent)),
    ]


def _schema_yaml_files() -> set[str]:
    root = config.schema_dir()
    return {str(path.relative_to(root)) for path in root.rglob("*.yaml")}


def test_every_schema_yaml_file_has_a_reader_in_this_test():
    """A new rule file must join the list below, so it is tested as the others are."""
    listed = {name for name, _ in _readers()}
    lexicon_files = {name for name in _schema_yaml_files() if name.startswith("lexicon/")}
    assert _schema_yaml_files() - lexicon_files == listed - {"lexicon/mechanisms.yaml"}


@pytest.mark.parametrize(("name", "reader"), _readers(), ids=lambda v: v if isinstance(v, str) else "")
def test_an_alias_bomb_in_a_copy_of_a_schema_file_is_refused_at_its_line(tmp_path, name, reader):
    source = config.schema_dir() / name
    copy = tmp_path / name
    copy.parent.mkdir(parents=True, exist_ok=True)
    if name.startswith("lexicon/"):  # the lexicon is read as a folder: copy it whole
        shutil.copytree(source.parent, copy.parent, dirs_exist_ok=True)
    text = source.read_text(encoding="utf-8")
    copy.write_text(text + "\n" + _BOMB, encoding="utf-8")
    bomb_line = len((text + "\n").splitlines()) + 2  # bomb0 holds no alias; bomb1 does
    with pytest.raises(DataFileError) as caught:
        reader(copy)
    assert str(caught.value) == (f"{copy}:{bomb_line}: not valid YAML (an alias (*name) is not "
                                 "allowed here; write the value out)")


def test_the_schema_files_themselves_read_cleanly():
    for name, reader in _readers():
        reader(config.schema_dir() / name)


def test_no_module_parses_yaml_but_the_safe_reader():
    """yaml.load / safe_load / compose / full_load anywhere but etl/datafiles.py would skip the bounds."""
    parsing = re.compile(r"^(safe_load|load|full_load|unsafe_load|compose|compose_all|load_all|safe_load_all)$")
    found = []
    for path in Path(config.PROJECT_ROOT, "etl").rglob("*.py"):
        if path.name == "datafiles.py" and path.parent.name == "etl":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "yaml" and parsing.match(node.attr)):
                found.append(f"{path.relative_to(config.PROJECT_ROOT)}:{node.lineno}: yaml.{node.attr}")
    assert found == []
