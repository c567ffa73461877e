"""The ontology is declared once (schema/ontology.yaml): what derives from it and what is checked.

The last test adds a label (Fund, 专项资金) and a relationship (ALLOCATES) to a copy of the
declaration and shows that records, migrations, loading, the Browser style and the exports
take them up with no other edit.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from etl import config
from etl.extract import candidates
from etl.graph import db, migrations, model, records
from tests.conftest import wipe

ETL = Path(__file__).resolve().parents[1] / "etl"
# The graph model itself, where labels and relationship types are named.
MODEL_MODULES = {ETL / "graph" / "model.py"}


@pytest.fixture
def empty_db(neo4j_driver):
    wipe(neo4j_driver)
    return neo4j_driver


def test_grass_file_is_written_from_the_ontology():
    grass = config.schema_dir() / "browser" / "govgraph.grass"
    assert grass.read_text(encoding="utf-8") == model.grass_text(), (
        "schema/browser/govgraph.grass differs from the ontology's style; write it again: "
        "python -c 'from etl.graph import model; print(model.grass_text(), end=\"\")' > schema/browser/govgraph.grass")


def test_records_types_are_the_ontologys():
    assert typing.get_args(records.Mention.model_fields["type"].annotation) == model.ENTITY_LABELS
    assert typing.get_args(records.Relation.model_fields["type"].annotation) == model.RECORD_RELATION_TYPES
    subjects = typing.get_args(records.Quantity.model_fields["subject_type"].annotation)
    assert set(subjects) == set(model.QUANTITY_RELATION)
    assert set(model.QUANTITY_RELATION.values()) <= set(model.OWNED_TYPES)


def test_lexicon_and_grammar_categories_are_declared():
    """Every category the lexicon or the grammar gives is one of the ontology's."""
    for label, rules in candidates.finder().grammar.categories.items():
        assert set(rules) <= set(model.CATEGORIES[label]), label
    for path in sorted((config.schema_dir() / "lexicon").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["label"] in model.ENTITY_LABELS, path
        if "categories" in data:
            assert model.LEXICON_GROUPS[data["label"]] == "category", path
            assert set(data["categories"]) <= set(model.CATEGORIES[data["label"]]), path


def test_a_bad_declaration_names_the_file_and_the_reason(tmp_path):
    bad = yaml.safe_load((config.schema_dir() / "ontology.yaml").read_text(encoding="utf-8"))
    bad["relationships"]["ADOPTS"]["to"] = ["Mechanisms"]
    (tmp_path / "ontology.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", "import etl.graph.model"], capture_output=True, text=True,
                         env={**os.environ, "GOVGRAPH_SCHEMA": str(tmp_path)})
    assert run.returncode == 1
    assert f"{tmp_path / 'ontology.yaml'}:" in run.stderr
    assert "ADOPTS: 'Mechanisms' is not declared" in run.stderr


def test_the_model_migration_is_what_the_numbered_ones_made(empty_db):
    """On a graph the migration files made, the model's statements add no constraint or index."""
    files = [m for m in migrations.read_migrations() if not m.derived]
    for migration in files:
        for statement in migration.statements:
            db.write(empty_db, statement)

    def schema() -> set[str]:
        return {row["name"] for row in db.read(empty_db, "SHOW CONSTRAINTS YIELD name RETURN name")} | {
            row["name"] for row in db.read(empty_db, "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' "
                                                     "RETURN name")}

    before = schema()
    for statement in model.constraint_statements():
        db.write(empty_db, statement)
    assert schema() == before
    assert {f"{label.lower()}_{key}" for label, key in model.KEY.items()} <= before


def string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, value) of the string constants of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_module_outside_the_model_names_a_label_or_relationship_type():
    """Code names labels and types through model.L / model.R or the model's tables, never as a
    string, so that what the declaration says is said once (Cypher statements aside)."""
    names = set(model.NODE_LABELS) | set(model.RELATIONSHIP_TYPES)
    found = [f"{path.relative_to(ETL.parent)}:{line}: {value!r}"
             for path in sorted(ETL.rglob("*.py")) if path not in MODEL_MODULES
             for line, value in string_literals(path) if value in names]
    assert found == []


def test_the_literal_check_sees_a_literal(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""Region in a docstring."""\nX = {"Region": 1}\n', encoding="utf-8")
    assert string_literals(module) == [(2, "Region")]


FUND_SCRIPT = r'''
import json, sys
from etl.graph import db, migrations, model, rows
from etl.graph.load import load_records
from etl.graph.records import DocumentRecord
from etl.outputs import viz
from etl.outputs.export import graph as export_graph, qdpx
from etl.research import corrections

record = DocumentRecord.model_validate({
    "doc": "fund.txt", "doc_id": "0123456789abcdef", "path": "fund.txt",
    "region": {"name": "忻州市", "level": "市"},
    "sentences": [{"index": 0, "text": "忻州市安排水土保持专项资金。", "start": 0, "end": 14}],
    "mentions": [{"type": "Fund", "name": "水土保持专项资金", "text": "水土保持专项资金", "sentence": 0,
                  "start": 5, "end": 13}],
    "entities": {"Region": ["忻州市"], "Fund": ["水土保持专项资金"]},
    "properties": {"Fund": {"水土保持专项资金": {"category": "中央资金"}}},
    "relations": [["忻州市", "ALLOCATES", "水土保持专项资金", {"evidence": [0]}]],
})
rows.validate(record)
driver = db.connect(db.connection())
stats = load_records(driver, [record])
found = db.read(driver, "MATCH (:Region {name: '忻州市'})-[r:ALLOCATES]->(f:Fund) "
                        "RETURN f.name AS name, f.category AS category, r.evidence AS evidence")
constraints = [r["name"] for r in db.read(driver, "SHOW CONSTRAINTS YIELD name RETURN name")]
indexes = [r["name"] for r in db.read(driver, "SHOW INDEXES YIELD name RETURN name")]
driver.close()
g = export_graph.graph_from_records([record])
print(json.dumps({
    "failures": stats.failures, "found": found, "constraints": constraints, "indexes": indexes,
    "grass": "node.Fund {" in model.grass_text(), "colour": viz.label_colours().get("Fund"),
    "viz": "Fund" in viz.LABELS, "qda": qdpx.LABEL_CODES.get("Fund"),
    "networkx": sorted(d["type"] for _, _, d in g.edges(data=True)),
    "corrections": "Fund" in corrections.LABELS,
}))
'''


def test_a_new_label_is_one_edit_of_the_declaration(tmp_path, neo4j_conn, empty_db):
    schema = tmp_path / "schema"
    shutil.copytree(config.schema_dir(), schema)
    declared = yaml.safe_load((schema / "ontology.yaml").read_text(encoding="utf-8"))
    declared["labels"]["Fund"] = {"kind": "entity", "key": "name", "zh": "专项资金",
                                  "properties": {"category": "str"},
                                  "style": {"color": "#6DCE9E", "border-color": "#3FB77F",
                                            "text-color-internal": "#2A2C34"}}
    declared["relationships"]["ALLOCATES"] = {"kind": "assertion", "from": ["Region"], "to": ["Fund"],
                                              "says": "the region allocates the fund"}
    declared["qda_codes"].append("Fund")
    (schema / "ontology.yaml").write_text(yaml.safe_dump(declared, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    env = {**os.environ, "GOVGRAPH_SCHEMA": str(schema), "NEO4J_URI": neo4j_conn.uri,
           "NEO4J_USER": neo4j_conn.user, "NEO4J_PASSWORD": neo4j_conn.password,
           "NEO4J_DATABASE": neo4j_conn.database}
    run = subprocess.run([sys.executable, "-c", FUND_SCRIPT], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["failures"] == []
    assert out["found"] == [{"name": "水土保持专项资金", "category": "中央资金",
                             "evidence": [f"{model.doc_key('fund.txt')}:0"]}]
    assert "fund_name" in out["constraints"] and "allocates_doc_key" in out["indexes"]
    assert out["grass"] and out["colour"] == "#6DCE9E" and out["viz"]
    assert out["qda"] == "专项资金 Fund"
    assert out["networkx"] == ["ALLOCATES", "REPORTS_ON"]
    assert out["corrections"]
