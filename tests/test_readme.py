"""README is for its readers: short, every command in it, and its graph model the ontology's.

The graph-model tables are rendered here from schema/ontology.yaml and must stand in README as
rendered; every query of that section (the example of each relationship type and the cypher
blocks) runs on the sample records in the real Neo4j and returns rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer

from etl.cli import app
from etl.graph import model, rows
from etl.graph.load import load_records
from etl.graph.records import DocumentRecord
from tests.conftest import wipe
from tests.query_answers import SAMPLE_RECORDS

README = Path(__file__).resolve().parents[1] / "README.md"
OWNER_ORDER = ("doc_key", "key", "evidence")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def section(title: str) -> str:
    text = readme()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _sample_record() -> DocumentRecord:
    return DocumentRecord.model_validate_json(SAMPLE_RECORDS.read_text(encoding="utf-8").splitlines()[0])


def label_table() -> str:
    """| label | key | properties |, a row a label in the ontology's order."""
    record = _sample_record()
    written = {model.DOCUMENT_LABEL: list(rows.document_rows([record])[0]),
               model.SENTENCE_LABEL: list(rows.sentence_rows([record])[0])}
    lines = ["| label | key | properties |", "|---|---|---|"]
    for label, key in model.KEY.items():
        if label in written:
            props = [p for p in written[label] if p != key]
        else:
            props = (["name"] if key != "name" else []) + list(model.NODE_PROPERTIES[label]) + [
                model.CLAIMS, model.CLAIM_COUNTS]
        lines.append(f"| {label} | {key} | {', '.join(props)} |")
    return "\n".join(lines)


def relationship_table() -> str:
    """| type | from → to | properties | example |, a row a relationship type in the ontology's order."""
    assert set(OWNER_ORDER) == model.OWNER_PROPERTIES
    lines = ["| type | from → to | properties | example |", "|---|---|---|---|"]
    for rtype, spec in model.ONTOLOGY["relationships"].items():
        ends = spec["to"] if spec["to"] != "entities" else ["any entity"]
        if spec["kind"] == "assertion":
            props = [*OWNER_ORDER, *model.ONTOLOGY["relation_properties"]]
            if rtype in model.QUANTITY_TYPES:
                props += [p for p in model.QUANTITY_PROPERTIES if p not in props]
        elif spec["kind"] == "provenance":
            props = [p for p in rows.mention_rows([_sample_record()]).popitem()[1][0] if p not in ("sentence", "key")]
        else:
            props = []
        lines.append(f"| {rtype} | {', '.join(spec['from'])} → {', '.join(ends)} | {', '.join(props)} | "
                     f"`{spec['example']}` |")
    return "\n".join(lines)


def test_readme_is_short():
    assert len(readme().splitlines()) <= 250


def test_the_graph_model_section_is_the_ontologys():
    text = section("The graph model")
    assert label_table() in text, "README's label table differs from the ontology; it should read:\n" + label_table()
    assert relationship_table() in text, ("README's relationship table differs from the ontology; it should "
                                          "read:\n" + relationship_table())


def test_the_tables_would_notice_a_change():
    assert "| Mechanism | name | category, category_by, corrected_by, claims, claim_counts |" in label_table()
    assert "| GOVERNS | Region, Actor → WaterBody |" in relationship_table()


def section_queries() -> list[str]:
    text = section("The graph model")
    examples = [spec["example"] for spec in model.ONTOLOGY["relationships"].values()]
    blocks = re.findall(r"```cypher\n(.*?)```", text, flags=re.S)
    assert blocks, "the graph model section shows a query beyond the table's"
    return examples + blocks


@pytest.fixture(scope="module")
def sample_graph(neo4j_driver):
    wipe(neo4j_driver)
    stats = load_records(neo4j_driver, SAMPLE_RECORDS)
    assert stats.failures == [] and stats.documents == 5
    return neo4j_driver


@pytest.mark.parametrize("query", section_queries())
def test_every_query_of_the_graph_model_runs_and_finds_rows(sample_graph, query):
    records = sample_graph.execute_query(query, routing_="r").records
    assert records, f"no rows on the sample records: {query}"


def commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
        else:
            found.append(prefix + name)
    return found


@pytest.mark.parametrize("command", commands(typer.main.get_command(app)))
def test_every_command_is_in_the_readme(command):
    first, _, rest = command.partition(" ")
    pattern = rf"govgraph {re.escape(first)}" + (rf" [^\n`]*\b{re.escape(rest)}\b" if rest else r"\b")
    assert re.search(pattern, readme()), f"README never shows `govgraph {command}`"
