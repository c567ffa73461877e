"""The stages keep their layers: what each module of etl imports, lazily or not.

Every import statement of a module counts, including those inside functions (a command
imports what it needs when it runs), and what the imported modules import in turn: a
module "reaches" everything on that chain.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ETL = Path(__file__).resolve().parents[1] / "etl"


def module_name(path: Path) -> str:
    parts = path.relative_to(ETL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ETL.rglob("*.py")}


@functools.cache
def direct_imports(module: str) -> frozenset[str]:
    """The modules one module's import statements name (``from a import b`` names a.b when it is a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{module}: the house imports absolutely (line {node.lineno})"
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return frozenset(names)


@functools.cache
def reaches(module: str) -> frozenset[str]:
    """Everything a module imports, directly or through other modules of etl (with their packages)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in direct_imports(current):
            parts = name.split(".")
            for n in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                prefix = ".".join(parts[:n])
                if prefix not in seen:
                    seen.add(prefix)
                    if prefix in MODULES:
                        todo.append(prefix)
    return frozenset(seen)


@pytest.mark.parametrize("module", [
    "etl.graph.rows",
    "etl.outputs.export.qdpx",
    "etl.outputs.export.graph",
    "etl.outputs.export.neo4j_import",
    "etl.research.corrections",
    "etl.research.review",
])
def test_records_are_checked_without_the_loader(module):
    """Validation and graph rows live beside the model: offline exports, corrections and review
    check a record as the loader does without importing it."""
    assert "etl.graph.load" not in reaches(module)


def test_the_chain_is_followed():
    """The walk sees lazy imports and imports of imports (else the tests above prove nothing)."""
    assert "etl.outputs.export.formats" in reaches("etl.cli")  # inside the export command's function
    assert "etl.graph.load" in reaches("etl.run")  # inside load_corpus
    assert "etl.graph.records" in reaches("etl.graph.rows")
    assert "pydantic" in reaches("etl.graph.rows")  # through etl.graph.records


def package_modules(*packages: str) -> list[str]:
    return sorted(name for name in MODULES if any(name == p or name.startswith(p + ".") for p in packages))


def forbidden(module: str, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(name for name in reaches(module) if any(name == p or name.startswith(p + ".") for p in prefixes))


NEO4J = ("neo4j", "etl.graph.load", "etl.graph.db", "etl.graph.migrations", "etl.neo4j")
NLP = ("spacy", "LAC", "jieba", "ahocorasick", "etl.extract")


@pytest.mark.parametrize("module", package_modules("etl.input", "etl.extract"))
def test_extraction_never_imports_neo4j(module):
    assert forbidden(module, NEO4J) == []


@pytest.mark.parametrize("module", package_modules("etl.graph"))
def test_loading_never_imports_nlp(module):
    assert forbidden(module, NLP) == []


@pytest.mark.parametrize("module", package_modules("etl.outputs"))
def test_outputs_never_import_extraction(module):
    assert forbidden(module, ("etl.extract", "etl.input", *NLP)) == []


@pytest.mark.parametrize("path", sorted(ETL.rglob("*.py")), ids=lambda p: str(p.relative_to(ETL.parent)))
def test_no_module_is_over_800_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 800
