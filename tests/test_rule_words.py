"""Rule words are data: no Chinese word or pattern in etl/ outside messages and docstrings.

Chinese word lists and patterns belong in schema/ with their examples and counterexamples. A
string constant of a module of etl/ that holds a Han character is refused unless it is a
docstring, part of a raise statement (a message), or listed in tests/data/cjk_literals.yaml,
the allow-list of what must stay, each with the reason; an entry that no longer occurs must go.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ROOT / "tests" / "data" / "cjk_literals.yaml"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff〇]")
# Folders left out of the check (none: etl/extract's and etl/train's remaining literals are
# listed in the allow-list, so that no new one can be added).
PENDING: tuple[str, ...] = ()


def han_literals(path: Path) -> list[str]:
    """The Han-bearing string constants of a module, docstrings and raise statements left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.Raise):
            skip.update(id(inner) for inner in ast.walk(node))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and HAN.search(node.value)]


def covered(relative: str) -> bool:
    return not relative.startswith(PENDING)


def found() -> dict[str, Counter]:
    literals = {}
    for path in sorted((ROOT / "etl").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if covered(relative) and (values := han_literals(path)):
            literals[relative] = Counter(values)
    return literals


def allowed() -> dict[str, Counter]:
    data = yaml.safe_load(ALLOWED.read_text(encoding="utf-8")) or {}
    return {module: Counter(values) for module, values in data.items() if covered(module)}


def test_no_new_chinese_literal_in_etl():
    """A new word list or pattern goes to schema/ (with examples), a message into the raise."""
    new = {module: sorted((values - allowed().get(module, Counter())).elements())
           for module, values in found().items()}
    assert {module: values for module, values in new.items() if values} == {}


def test_the_allow_list_holds_only_what_is_there():
    stale = {module: sorted((values - found().get(module, Counter())).elements())
             for module, values in allowed().items()}
    assert {module: values for module, values in stale.items() if values} == {}


def test_the_check_sees_a_literal(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""河长制 in a docstring."""\nWORDS = ["河长"]\n\n\ndef f():\n'
                      '    raise ValueError("no 河长")\n', encoding="utf-8")
    assert han_literals(module) == ["河长"]
