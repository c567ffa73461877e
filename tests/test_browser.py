"""Neo4j Browser: the :params line for running query packs as Favorites, on a query folder made
here (pure tests: the line is built from the query headers alone), and README's :style
instructions followed in the Browser the embedded server serves, in headless Chromium.
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


# --- README's :style instructions in a real Browser session ---------------------------------------


def _browser_url(http_port: int) -> str:
    """Neo4j Browser on the embedded server's HTTP port, once it answers (it opens after Bolt)."""
    import time
    import urllib.request

    url = f"http://127.0.0.1:{http_port}/browser/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                assert b"<title>Neo4j Browser</title>" in answer.read()
                return url
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


_SET_INPUT = """(selector, value) => { const input = document.querySelector(selector);
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, value);
    input.dispatchEvent(new Event('input', {bubbles: true})); }"""
# What a person's drop of a file gives the page: a drop event whose DataTransfer holds the file.
_DROP_FILE = """(element, name, text) => { const files = new DataTransfer();
    files.items.add(new File([text], name));
    for (const type of ['dragenter', 'dragover', 'drop'])
        element.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: files})); }"""


def _run(tab, command: str) -> None:
    """Type a command into Browser's editor and run it, as a person does."""
    tab.evaluate("document.querySelector('.monaco-editor textarea').focus()")
    tab.call("Input.insertText", text=command)
    tab.evaluate("document.querySelector('[data-testid=editor-Run]').click()")


def test_readmes_style_instructions_work_in_neo4j_browser(tmp_path, monkeypatch):
    """README: run :style and drop schema/browser/govgraph.grass on it. Done so in the Browser the
    embedded server serves: the style is Browser's, and a query's graph is drawn in it."""
    import json
    import re
    import shutil

    from etl import config
    from etl.graph import db
    from etl.graph import model as graph
    from etl.neo4j import server
    from tests.chromium import Chromium
    from tests.conftest import free_port

    readme = " ".join((config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "run `:style` and drop `schema/browser/govgraph.grass`" in readme
    grass = config.schema_dir() / "browser" / "govgraph.grass"
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    home = tmp_path / "home"
    info = server.start(home, free_port(), free_port())
    try:
        password = config.read_password_file(config.password_file(home))
        with db.connect(config.Connection(info.bolt_uri, "neo4j", password, "neo4j")) as driver:
            driver.execute_query("CREATE (:Region {key: '忻州市', name: '忻州市'})"
                                 "-[:ADOPTS]->(:Mechanism {name: '河长制'})")
        url = _browser_url(info.http_port)
        chromium = Chromium(shutil.which("chromium"), tmp_path / "profile", tmp_path / "chromium.log", (1280, 900))
        try:
            tab = chromium.open(url)
            tab.wait_for("document.querySelector('[data-testid=password]') !== null", 60)
            tab.evaluate(f"({_SET_INPUT})('[data-testid=username]', 'neo4j')")
            tab.evaluate(f"({_SET_INPUT})('[data-testid=password]', {json.dumps(password)})")
            tab.evaluate("document.querySelector('[data-testid=connect]').click()")
            tab.wait_for("document.body.innerText.includes('You are connected as user neo4j')", 90)
            _run(tab, ":style")
            frame = "Array.from(document.querySelectorAll('article')).find(a => a.innerText.startsWith(':style'))"
            tab.wait_for(f"{frame} !== undefined")
            tab.evaluate(f"({_DROP_FILE})({frame}, 'govgraph.grass', {json.dumps(grass.read_text(encoding='utf-8'))})")
            tab.wait_for("(localStorage.getItem('neo4j.grass') || '').includes('Mechanism')")
            style = json.loads(tab.evaluate("localStorage.getItem('neo4j.grass')"))
            colours = graph.label_colours()
            assert style["node.Mechanism"]["color"] == colours["Mechanism"]
            assert style["node.Region"]["color"] == colours["Region"]
            assert style["node.Sentence"]["caption"] == "{id}"
            _run(tab, "MATCH p = (:Region)-[:ADOPTS]->(:Mechanism) RETURN p")
            tab.wait_for("document.querySelectorAll('svg g.node').length === 2", 60)
            drawn = tab.evaluate("""Array.from(document.querySelectorAll('svg g.node')).map(g => [
                g.querySelector('circle.b-outline').getAttribute('fill'),
                g.querySelector('text.caption').textContent])""")
            assert sorted((fill.upper(), caption.strip()) for fill, caption in drawn) == sorted([
                (colours["Region"].upper(), "忻州市"), (colours["Mechanism"].upper(), "河长制")])
            shot = tab.screenshot()
            shot.save(tmp_path / "browser.png")  # kept for a person to look at
            uncaught = [e for e in tab.errors() if re.match(r"(Uncaught|TypeError|ReferenceError)", e)]
            assert uncaught == []
        finally:
            chromium.close()
    finally:
        server.stop(home)
