"""The :params line for running query packs as Neo4j Browser Favorites, on a query folder made here.

Pure tests, no database: the line is built from the query headers alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from etl.cli import app
from etl.errors import QueryError
from etl.outputs import browser

runner = CliRunner()

BY_REGION = """// name: by-region
// description: Mechanisms a region adopts.
// param: region: string = 忻州市
// param: limit: int = 10
MATCH (r:Region {name: $region})-[:ADOPTS]->(m:Mechanism) RETURN m.name AS name LIMIT $limit
"""
SEARCH = """// name: search
// description: Sentences that contain a text.
// param: text: string
// param: limit: int = 20
// param: kinds: list = 河长制, 林长制
MATCH (s:Sentence) WHERE s.text CONTAINS $text AND size($kinds) > 0 RETURN s.id AS id LIMIT $limit
"""
SHARES = """// name: shares
// description: Regions whose share passes a threshold.
// param: ratio: float = 0.5
// param: strict: bool = true
// param: note: string = 黄河 "流域"
MATCH (r:Region) WHERE $strict AND $ratio > 0 AND $note <> '' RETURN r.name AS name
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for pack, name, text in (("compare", "by-region", BY_REGION), ("compare", "search", SEARCH),
                             ("quality", "shares", SHARES)):
        path = tmp_path / pack / f"{name}.cypher"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_one_pack_gives_one_line_of_its_defaults(folder):
    result = browser.pack_params("compare", folder)
    assert result.line == ':params {region: "忻州市", limit: 10, text: null, kinds: ["河长制", "林长制"]}'
    assert result.notes == (
        "$limit: compare/search defaults to 20, compare/by-region to 10; the line uses the latter",
        "compare/search needs $text (string): replace its null in the :params line",
    )


def test_literals_are_cypher(folder):
    result = browser.pack_params("quality", folder)
    assert result.line == ':params {ratio: 0.5, strict: true, note: "黄河 \\"流域\\""}'
    assert result.notes == ()
    assert browser.cypher_literal([1, None, False, "a'b"]) == "[1, null, false, \"a'b\"]"


def test_every_pack_when_none_is_named(folder):
    assert set(browser.pack_params(None, folder).params) == {"region", "limit", "text", "kinds", "ratio", "strict",
                                                             "note"}


def test_unknown_pack_names_the_known_ones(folder):
    with pytest.raises(QueryError, match=r"no query pack named 'nope'; packs: compare, quality"):
        browser.pack_params("nope", folder)


def test_cli_prints_the_line_and_notes(folder, monkeypatch):
    monkeypatch.setenv("GOVGRAPH_QUERIES", str(folder))
    result = runner.invoke(app, ["browser", "params", "compare"])
    assert result.exit_code == 0
    assert result.stdout.strip() == ':params {region: "忻州市", limit: 10, text: null, kinds: ["河长制", "林长制"]}'
    assert "note: compare/search needs $text (string)" in result.stderr
    missing = runner.invoke(app, ["browser", "params", "nope"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "Error: no query pack named 'nope'; packs: compare, quality " \
                                     "(see: govgraph query list)"
