"""govgraph viz against the real Neo4j loaded with the sample corpus, and the pages as a person sees them.

The pages are opened in headless Chromium (Debian's chromium package, installed by bin/setup),
driven over the DevTools protocol on a pipe by tests/chromium.py (no extra package): the test
waits in real time until the network is laid out, collects every exception and console error the
page raised, reads the page's own error box, takes a screenshot, and moves the mouse onto an edge
to read its tooltip.
"""

from __future__ import annotations

import re

import pytest
from PIL import Image
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.extract import extract_corpus
from etl.graph import db
from etl.graph.load import load_records
from etl.outputs import viz
from tests.chromium import Tab, browser_fixture
from tests.conftest import wipe

runner = CliRunner()

WINDOW = (1200, 900)
HEADER_PX = 60  # the page's header (title and legend, 56 px) is not part of the network canvas
REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
                    r"|url\(\s*[\"']?(?:https?:)?//|@import\s+[\"']?(?:https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def loaded(neo4j_driver, tmp_path_factory):
    """The sample corpus, extracted and loaded into an emptied database."""
    wipe(neo4j_driver)
    records = extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("records")).out
    stats = load_records(neo4j_driver, records)
    assert stats.documents == 5 and stats.failures == []
    return neo4j_driver


@pytest.fixture
def cli(neo4j_conn, loaded):
    """Run govgraph with the test server's connection options appended."""
    def invoke(*args: str):
        return runner.invoke(app, [*args, "--uri", neo4j_conn.uri, "--password", neo4j_conn.password])
    return invoke


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


chromium = browser_fixture(WINDOW)


def laid_out(tab: Tab) -> Tab:
    tab.wait_for("document.body.getAttribute('data-laid-out') === 'yes'")
    return tab


def colour_pixels(image: Image.Image) -> tuple[int, dict[str, int]]:
    """In the canvas area: how many pixels are not background, and how many have each label's colour."""
    canvas = image.crop((0, HEADER_PX, image.width, image.height))
    counts = canvas.getcolors(maxcolors=canvas.width * canvas.height)
    drawn = sum(n for n, rgb in counts if min(rgb) < 240)
    by_label = {}
    for label, colour in viz.label_colours().items():
        target = hex_rgb(colour)
        by_label[label] = sum(n for n, rgb in counts if all(abs(a - b) <= 4 for a, b in zip(rgb, target, strict=True)))
    return drawn, by_label


def test_region_page_shows_its_neighbourhood_offline(cli, loaded, tmp_path):
    out = tmp_path / "region.html"
    result = cli("viz", "--region", "忻州市", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert re.match(rf"wrote {re.escape(str(out))}: \d+ nodes, \d+ edges$", result.output.strip())
    html = out.read_text(encoding="utf-8")
    for name in ("忻州市", "三同时", "水土保持率", "信用评价"):
        assert f'"label": "{name}"' in html, f"{name} is not a node of the page"
    assert REMOTE.search(html) is None, f"remote resource: {REMOTE.search(html).group(0)}"
    assert "vis.Network" in html and len(html) > 300_000, "vis-network is not inline"


def test_edges_carry_their_evidence_sentences(loaded, tmp_path):
    rows = db.read(loaded, "MATCH (:Region {name: '忻州市'})-[a:ADOPTS]->(:Mechanism {name: '三同时'}) "
                           "MATCH (s:Sentence {id: a.evidence[0]}) RETURN s.text AS text")
    assert rows, "the sample corpus no longer says that 忻州市 adopts 三同时"
    graph = viz.neighbourhood(loaded, region="忻州市")
    names = {node.id: node.name for node in graph.nodes.values()}
    edge = next(e for e in graph.edges if names[e.target] == "三同时" and e.type == "ADOPTS")
    assert edge.sentences[0].startswith(f"“{rows[0]['text'][:viz.SENTENCE_CHARS]}")
    assert len(edge.sentences) <= viz.EVIDENCE_SHOWN
    measures = next(e for e in graph.edges if names[e.target] == "水土保持率" and e.type == "MEASURES")
    assert {"63.56 % (2025, target)", "66.22 % (2035, target)"} <= set(measures.quantities)
    page = tmp_path / "region.html"
    viz.write_page(graph, page)
    assert rows[0]["text"][:40] in page.read_text(encoding="utf-8")


def test_mechanism_page_shows_its_regions_and_actors(cli, loaded, tmp_path):
    regions = [row["name"] for row in db.read(
        loaded, "MATCH (r:Region)-[:ADOPTS]->(:Mechanism {name: '河长+检察长'}) RETURN r.name AS name")]
    assert len(regions) == 1, f"the sample corpus has one region with the linkage, not {regions}"
    out = tmp_path / "linkage.html"
    # Full-width plus, as a researcher may type it, is the canonical half-width one.
    result = cli("viz", "--mechanism", "河长＋检察长", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for name in ("河长+检察长", "检察长", "河长", regions[0]):
        assert f'"label": "{name}"' in html, f"{name} is not a node of the page"
    assert REMOTE.search(html) is None


def test_network_is_capped_by_limit(cli, loaded, tmp_path):
    graph = viz.neighbourhood(loaded, limit=3)
    assert len(graph.edges) == 3 and graph.truncated
    assert {e.type for e in graph.edges} == {"ADOPTS"}
    assert {node.label for node in graph.nodes.values()} == {"Region", "Mechanism"}
    # Best-evidenced links first.
    evidence = [len(e.sentences) + e.more_sentences for e in graph.edges]
    assert evidence == sorted(evidence, reverse=True)
    full = viz.neighbourhood(loaded)
    assert not full.truncated and len(full.edges) > 3
    assert min(evidence) >= max(len(e.sentences) + e.more_sentences for e in full.edges[3:])
    result = cli("viz", "--limit", "3", "--out", str(tmp_path / "network.html"))
    assert result.exit_code == 0
    assert result.output.strip().endswith("3 edges; cut at --limit 3")


@pytest.mark.parametrize("args, expected", [
    (["--region", "不存在县"], "Error: no region named '不存在县' in the graph; give the canonical name"),
    (["--region", "忻州"], "Error: no region named '忻州' in the graph; did you mean: 忻州市?"),
    (["--mechanism", "河长+法官"], "Error: no mechanism named '河长+法官' in the graph;"),
    (["--region", "忻州市", "--mechanism", "河长制"], "Error: give --region or --mechanism, not both"),
])
def test_unknown_names_are_one_error_line(cli, tmp_path, args, expected):
    out = tmp_path / "page.html"
    result = cli("viz", *args, "--out", str(out))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(expected)
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("option, name, expected_labels", [
    ("--region", "忻州市", {"Region", "Mechanism", "Measure", "Indicator"}),
    ("--mechanism", "河长+检察长", {"Region", "Mechanism", "Actor"}),
])
def test_page_renders_in_chromium(cli, chromium, tmp_path, option, name, expected_labels):
    out = tmp_path / "page.html"
    assert cli("viz", option, name, "--out", str(out)).exit_code == 0
    tab = laid_out(chromium(out))
    image = tab.screenshot()
    image.save(tmp_path / "page.png")  # kept for a person to look at
    assert tab.errors() == []
    assert image.size == WINDOW
    drawn, by_label = colour_pixels(image)
    assert drawn > 5_000, f"only {drawn} drawn pixels: the network is (nearly) blank"
    shown = {label for label, n in by_label.items() if n >= 200}
    assert expected_labels <= shown, f"label colours on the canvas: {by_label}"
    assert len(shown & set(viz.LABELS)) >= 2


def test_a_broken_page_is_caught(cli, chromium, tmp_path):
    """The JavaScript check can fail: a page whose script throws is reported, by Chromium and in the page."""
    out = tmp_path / "page.html"
    assert cli("viz", "--mechanism", "河长+检察长", "--out", str(out)).exit_code == 0
    broken = tmp_path / "broken.html"
    broken.write_text(out.read_text(encoding="utf-8").replace("window.govgraphNetwork = network;",
                                                              "undefinedFunction();"), encoding="utf-8")
    tab = chromium(broken)
    tab.wait_for("document.getElementById('js-errors').textContent !== ''")
    errors = tab.errors()
    assert len(errors) == 2 and all("undefinedFunction is not defined" in e for e in errors), errors


# The middle of the first ADOPTS edge on the screen: halfway along its (curved) line.
EDGE_MIDDLE = """(function () {
  var network = window.govgraphNetwork, box = document.getElementById("network").getBoundingClientRect();
  var edge = network.body.data.edges.get().filter(function (e) { return e.title.indexOf("ADOPTS") === 0; })[0];
  var middle = network.canvasToDOM(network.body.edges[edge.id].edgeType.getPoint(0.5));
  return [box.left + middle.x, box.top + middle.y];
})()"""
TOOLTIP = """(function () {
  var tip = document.querySelector("div.vis-tooltip");
  return tip && tip.style.visibility === "visible" ? tip.innerText : "";
})()"""


def test_hovering_an_edge_shows_its_evidence_sentence(cli, chromium, loaded, tmp_path):
    rows = db.read(loaded, "MATCH (r:Region)-[a:ADOPTS]->(:Mechanism {name: '河长+检察长'}) "
                           "MATCH (s:Sentence {id: a.evidence[0]}) RETURN r.name AS region, s.text AS text")
    out = tmp_path / "page.html"
    assert cli("viz", "--mechanism", "河长+检察长", "--out", str(out)).exit_code == 0
    tab = laid_out(chromium(out))
    x, y = tab.evaluate(EDGE_MIDDLE)
    # The mouse comes from beside the edge and stops on its middle, as a reader's does.
    for step in (20, 0):
        tab.call("Input.dispatchMouseEvent", type="mouseMoved", x=x + step, y=y + step)
    text = tab.wait_for(TOOLTIP, timeout=10)
    assert text.startswith(f"ADOPTS: {rows[0]['region']} → 河长+检察长\n")
    assert f"“{rows[0]['text']}”" in text
    tab.screenshot().save(tmp_path / "hover.png")
    assert tab.errors() == []


def parse_grass_like_browser(text: str) -> dict[str, dict[str, str]]:
    """Neo4j Browser's GraSS reader, character by character (neo4j-browser grassUtils parseGrassCSS)."""
    rules, keyword, props = {}, "", ""
    in_string = in_props = in_binding = False
    for char in text:
        if char == "{" and not in_string:
            in_binding, in_props = (True, in_props) if in_props else (in_binding, True)
            continue
        if char == "}" and not in_string:
            if in_binding:
                in_binding = False
            else:
                rules[keyword], keyword, props, in_props = props, "", "", False
            continue
        if char in "'\"":
            in_string = not in_string
            continue
        if in_props:
            props += char
        elif not char.isspace():
            keyword += char
    parsed = {}
    for selector, body in rules.items():
        pairs = [item.split(":") for item in body.split(";")]
        parsed[selector] = {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2)}
    return parsed


def test_grass_style_has_one_colour_a_label():
    grass = config.schema_dir() / "browser" / "govgraph.grass"
    rules = parse_grass_like_browser(grass.read_text(encoding="utf-8"))
    assert set(rules) == {"node", "relationship"} | {f"node.{label}" for label in viz.LABELS}
    colours = [rules[f"node.{label}"]["color"] for label in viz.LABELS]
    assert len(set(colours)) == len(viz.LABELS), f"two labels share a colour: {colours}"
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)
    assert rules["relationship"]["caption"] == "<type>"
    assert all(rules[f"node.{label}"]["caption"] == "{name}" for label in viz.LABELS if label != "Sentence")
    assert viz.label_colours(grass) == {"*": rules["node"]["color"]} | {
        label: rules[f"node.{label}"]["color"] for label in viz.LABELS}


# Where each node's label is drawn (under the node, in the page's label font), and how many pairs
# of those boxes overlap, once the network is laid out.
_LABEL_OVERLAPS = """(() => { const net = window.govgraphNetwork, scale = net.getScale();
  const ctx = document.createElement('canvas').getContext('2d');
  const font = net.body.nodes[net.body.nodeIndices[0]].options.font;
  ctx.font = font.size + 'px ' + font.face;
  const boxes = net.body.nodeIndices.map(id => { const node = net.body.nodes[id];
    const at = net.canvasToDOM({x: node.x, y: node.y}), width = ctx.measureText(node.options.label).width * scale;
    const top = at.y + node.options.size * scale, height = font.size * 1.2 * scale;
    return [at.x - width / 2, top, at.x + width / 2, top + height]; });
  let pairs = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > 1 && Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > 1) pairs++; }
  return {nodes: boxes.length, pairs: pairs, font: font.size * scale}; })()"""


def _star(names: list[str]) -> viz.VizGraph:
    """A mechanism and the regions adopting it, as a 2,000-document graph's 200 best-evidenced links."""
    graph = viz.VizGraph(heading="河长制")
    graph.nodes["m"] = viz.VizNode(id="m", label="Mechanism", name="河长制", focus=True)
    for n, name in enumerate(names):
        graph.nodes[f"r{n}"] = viz.VizNode(id=f"r{n}", label="Region", name=name)
        graph.edges.append(viz.VizEdge(source=f"r{n}", target="m", type="ADOPTS"))
    return graph


def test_long_names_are_cut_under_the_node_and_whole_in_the_tooltip():
    node = viz.VizNode(id="r", label="Region", name="临沂高新技术产业开发区")
    assert viz.node_label(node) == "临沂高新技术产业开发区"[:viz.LABEL_CHARS - 1] + "…"
    assert len(viz.node_label(node)) == viz.LABEL_CHARS
    assert viz.node_label(viz.VizNode(id="f", label="Region", name=node.name, focus=True)) == node.name
    page = viz.render_html(_star([node.name]))
    assert "临沂高新技术产业开发区" in page, "the whole name stays in the tooltip"


def test_two_hundred_links_keep_their_labels_apart_at_1280_px(chromium, tmp_path):
    """The network of 河长制 in 2,000 generated documents: 200 regions, a fifth of them development
    zones with long names. Laid out in Chromium at 1280 px, no two labels lie on one another."""
    counties = [f"{a}{b}县" for a in "东西南北中上下新" for b in "安平宁和兴丰华阳山川江河泉林石桥岭湖溪台"]
    zones = [f"{a}{b}高新技术产业开发区" for a in "临沂唐山长春南阳" for b in "东西南北中"]
    names = (counties + zones)[:200]
    assert len(names) == 200 and sum(len(n) > viz.LABEL_CHARS for n in names) >= 20
    out = tmp_path / "star.html"
    out.write_text(viz.render_html(_star(names)), encoding="utf-8")
    tab = laid_out(chromium(out))
    tab.screenshot().save(tmp_path / "star.png")  # kept for a person to look at
    found = tab.evaluate(_LABEL_OVERLAPS)
    assert found["nodes"] == 201
    assert found["pairs"] == 0, found
    assert found["font"] >= 7, f"labels drawn {found['font']:.1f} px high"
    assert tab.errors() == []
