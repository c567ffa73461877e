"""The comparison report: every compare query a section, readable heatmaps, the page as Chromium draws it.

The sample corpus is loaded into the test server and its report built once for the module.
The page is opened in headless Chromium at 1280 px (tests/chromium.py) and checked as a person
sees it: every compare section there, no page error, nothing wider than the window, figures
drawn inside it. A generated corpus (benchmarks/corpus.py) gets the same check when
GOVGRAPH_REPORT_DOCS is set (it takes minutes, so not in the default run):

    GOVGRAPH_REPORT_DOCS=2000 .venv/bin/python -m pytest tests/test_report.py -k generated
"""

from __future__ import annotations

import csv
import inspect
import os
import re
import shutil
import warnings
from pathlib import Path

import markupsafe
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from etl import cli, config
from etl.errors import ReportError
from etl.extract import extract_corpus
from etl.graph.load import load_records
from etl.outputs import queries, report
from tests.chromium import Tab, browser_fixture
from tests.conftest import wipe

WINDOW = (1280, 900)
chromium = browser_fixture(WINDOW)
runner = CliRunner()


def _glyph(text: str, family: str) -> np.ndarray:
    """The pixels of ``text`` drawn alone in ``family``, as a grey-level array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1), dpi=60)
    fig.text(0.1, 0.2, text, family=family, fontsize=36)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].mean(axis=2)
    plt.close(fig)
    return pixels


def test_the_report_font_draws_chinese_characters_not_boxes():
    family = report.cjk_font()
    assert not family.startswith("Last Resort")
    he, hu = _glyph("河", family), _glyph("湖", family)
    assert (he < 128).sum() > 40, "the glyph has ink"
    # A missing glyph is the same box for every character; real glyphs differ.
    assert (np.abs(he - hu) > 64).sum() > 40


def build(driver, out: Path, **options) -> report.Report:
    with warnings.catch_warnings():
        # Matplotlib warns "Glyph … missing from font(s)" when a label cannot be drawn.
        warnings.filterwarnings("error", message=r"Glyph .* missing from font")
        return report.build_report(driver, out, **options)


@pytest.fixture(scope="module")
def loaded(neo4j_driver, tmp_path_factory):
    wipe(neo4j_driver)
    load_records(neo4j_driver, extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("rec")).out)
    return neo4j_driver


@pytest.fixture(scope="module")
def built(loaded, tmp_path_factory):
    return build(loaded, tmp_path_factory.mktemp("report"))


def compare_queries(folder: Path | None = None) -> dict[str, queries.Query]:
    return {q.name: q for q in queries.load_packs(folder).values() if q.pack == "compare"}


def test_every_compare_query_is_a_section_with_its_description_and_csv(built):
    page = built.html.read_text(encoding="utf-8")
    expected = compare_queries()
    assert [s.query.name for s in built.sections][:2] == ["mechanism-matrix", "category-matrix"]
    assert {s.query.name for s in built.sections} == set(expected)
    for name, query in expected.items():
        section = re.search(rf'<section id="q-{re.escape(name)}" class="query">(.*?)</section>', page, re.S)
        assert section, f"no section for {name}"
        assert str(markupsafe.escape(query.description)) in section.group(1), f"{name}: no description"
        assert f'<a href="{name}.csv">' in section.group(1), f"{name} is not linked to its CSV"
        assert (built.folder / f"{name}.csv").is_file()
    assert "Run for region = " in page, "distinctive-mechanisms needs a region: the report names the one it used"


def test_lists_are_one_item_a_chip_never_joined(built):
    page = built.html.read_text(encoding="utf-8")
    # 关、停、并、转 is one mechanism: its own 、 must not read as a separator.
    assert "<li>关、停、并、转</li>" in page
    names = next(r["names"] for r in built.tables["category-matrix"] if "关、停、并、转" in r["names"])
    assert len(names) > 1, "the sample's cell with 关、停、并、转 lists more mechanisms"
    chips = "".join(f"<li>{n}</li>" for n in names)
    assert f'<ul class="items">{chips}</ul>' in page
    assert "、".join(names) not in page


def test_report_csv_holds_the_query_rows(built):
    with (built.folder / "linkages.csv").open(encoding="utf-8-sig") as handle:
        rows = {r["linkage"]: r for r in csv.DictReader(handle)}
    assert "检察长" in rows["河长+检察长"]["actors"]
    with (built.folder / "mechanism-matrix.csv").open(encoding="utf-8-sig") as handle:
        matrix = list(csv.DictReader(handle))
    assert len(matrix) == len(built.tables["mechanism-matrix"]) > 50


def test_heatmap_png_shows_the_matrix_within_1600_px(built):
    for name in ("mechanism-matrix", "category-matrix"):
        with Image.open(built.folder / f"{name}.png") as image:
            pixels = np.asarray(image.convert("RGB")) / 255.0
        height, width, _ = pixels.shape
        assert 300 < width <= report.MAX_WIDTH_PX and height > 200
        # Coloured cells (the colour map's blues and greens) and dark label text are both there.
        blue = (pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.4)
        dark = pixels.mean(axis=2) < 0.3
        assert blue.sum() > 500 and dark.sum() > 500, name


def test_the_summary_under_a_heatmap_says_what_is_left_out(loaded, tmp_path):
    small = build(loaded, tmp_path, max_regions=3, max_columns=5)
    regions = {r["region_key"] for r in small.tables["mechanism-matrix"]}
    mechanisms = {r["mechanism"] for r in small.tables["mechanism-matrix"]}
    caption = next(s for s in small.sections if s.query.name == "mechanism-matrix").figures[0]["caption"]
    assert caption.startswith(f"Drawn: 3 of {len(regions)} regions") and f"5 of {len(mechanisms)} mechanism" in caption
    assert f"Left out: {len(regions) - 3} regions and {len(mechanisms) - 5} columns" in caption
    with Image.open(small.folder / "mechanism-matrix.png") as image, \
            Image.open(small.folder / "category-matrix.png") as other:
        assert image.width < 900, "five columns make a narrow figure"
        assert other.height < 600


def pivot_rows(pattern: dict[str, list[str]]) -> list[dict]:
    return [{"region": r, "region_key": r, "mechanism": m, "sentences": 1} for r, ms in pattern.items() for m in ms]


def test_pivot_keeps_the_most_frequent_regions_and_columns():
    rows = pivot_rows({"甲县": ["a", "b", "c"], "乙县": ["a", "b"], "丙县": ["a"], "丁县": ["d"]})
    rows += [{"region": "XX区", "region_key": "XX区@0123456789", "mechanism": "d", "sentences": 1}]
    matrix = report.pivot(rows, "mechanism", "sentences", max_rows=3, max_columns=2)
    assert matrix.rows == ["甲县", "乙县", "XX区@012345"]  # ties: more sentences, then the key
    assert matrix.columns == ["a", "b"]  # found most among the drawn regions
    assert matrix.values.tolist() == [[1, 1], [1, 1], [0, 0]]
    assert (matrix.total_rows, matrix.total_columns, matrix.total_cells, matrix.drawn_cells) == (5, 4, 8, 4)


def test_clustering_puts_similar_rows_and_columns_side_by_side():
    # Two groups of regions, interleaved by name, each with its own mechanisms (also interleaved).
    water, soil = ["1w", "2w", "3w"], ["1s", "2s", "3s"]
    pattern = {f"{i}{kind}县": (water if kind == "水" else soil) + ["shared"] for i in range(4) for kind in "水土"}
    rows = pivot_rows(pattern)
    matrix = report.pivot(rows, "mechanism", "sentences")
    assert matrix.rows[:3] == ["0土县", "0水县", "1土县"], "frequency order alone interleaves the groups"
    assert matrix.columns[1:4] == ["1s", "1w", "2s"]
    ordered = report.clustered(matrix)
    kinds = [name[1] for name in ordered.rows]
    assert kinds in (["水"] * 4 + ["土"] * 4, ["土"] * 4 + ["水"] * 4)
    groups = [c[1] for c in ordered.columns if c != "shared"]
    assert groups in (["w"] * 3 + ["s"] * 3, ["s"] * 3 + ["w"] * 3)
    # The cells move with their labels.
    index = {(r["region"], r["mechanism"]) for r in rows}
    assert all((ordered.values[i, j] > 0) == ((rn, cn) in index)
               for i, rn in enumerate(ordered.rows) for j, cn in enumerate(ordered.columns))


def test_a_large_matrix_is_drawn_within_1600_px(tmp_path):
    rng = np.random.default_rng(3)
    names = [f"机制{i:03d}水土保持监督管理" for i in range(300)]
    rows = [{"region": f"区{r:04d}", "region_key": f"区{r:04d}", "mechanism": names[m],
             "sentences": int(rng.integers(1, 9))}
            for r in range(2000) for m in set(rng.integers(0, 300, 12).tolist())]
    matrix = report.clustered(report.pivot(rows, "mechanism", "sentences", report.LIMIT_REGIONS,
                                           report.LIMIT_COLUMNS))
    assert matrix.values.shape == (report.LIMIT_REGIONS, report.LIMIT_COLUMNS)
    png = report.draw_heatmap(matrix, "地区 × 机制", "句数", tmp_path / "big.png")
    with Image.open(png) as image:
        assert image.width <= report.MAX_WIDTH_PX
        assert image.height > report.LIMIT_REGIONS * report.CELL_PX[0]


@pytest.mark.parametrize("options, message", [
    ({"max_regions": 0}, "--max-regions takes 1 to 200, not 0"),
    ({"max_columns": 101}, "--max-columns takes 1 to 100, not 101"),
])
def test_caps_out_of_range_are_refused(loaded, tmp_path, options, message):
    with pytest.raises(ReportError, match=re.escape(message)):
        report.build_report(loaded, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_cli_report_takes_the_caps(neo4j_conn, loaded, tmp_path):
    connection = ["--uri", neo4j_conn.uri, "--password", neo4j_conn.password]
    result = runner.invoke(cli.app, ["report", "--out", str(tmp_path), "--max-regions", "2", "--max-columns", "4",
                                     *connection])
    assert result.exit_code == 0, result.output
    assert "Drawn: 2 of " in (tmp_path / "index.html").read_text(encoding="utf-8")
    refused = runner.invoke(cli.app, ["report", "--out", str(tmp_path / "x"), "--max-regions", "0", *connection])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1].startswith("Error: --max-regions takes 1 to 200, not 0")
    signature = inspect.signature(cli.report).parameters
    assert (signature["max_regions"].default, signature["max_columns"].default) == (
        report.DEFAULT_MAX_REGIONS, report.DEFAULT_MAX_COLUMNS)


def test_a_query_cut_at_its_limit_says_so_and_heatmaps_get_every_cell(loaded, tmp_path):
    folder = tmp_path / "queries"
    shutil.copytree(config.queries_dir(), folder)
    for name, default in (("linkages", 100), ("mechanism-matrix", 500)):
        path = folder / "compare" / f"{name}.cypher"
        text = path.read_text(encoding="utf-8")
        assert f"// param: limit: int = {default}\n" in text
        path.write_text(text.replace(f"// param: limit: int = {default}\n", "// param: limit: int = 3\n"),
                        encoding="utf-8")
    built = build(loaded, tmp_path / "out", query_folder=folder)
    sections = {s.query.name: s for s in built.sections}
    assert len(sections["linkages"].rows) == 3
    assert ("The query stops at its limit of 3 rows (its description says which come first); every row: "
            "govgraph query run linkages --all") in sections["linkages"].notes
    # The heatmap counts every cell, whatever the query's default limit.
    assert len(sections["mechanism-matrix"].rows) > 50
    assert not any("limit" in note for note in sections["mechanism-matrix"].notes)


# --- the adoption chart hook -------------------------------------------------------------------

STAND_IN = """// name: diffusion
// description: Stand-in for the diffusion query: cumulative adopting regions by year, from literal rows.
// columns: mechanism, year, regions
UNWIND $rows AS row
RETURN row[0] AS mechanism, row[1] AS year, row[2] AS regions
ORDER BY mechanism, year
"""


def queries_with_diffusion(folder: Path, rows: list[list]) -> Path:
    """A copy of queries/ whose compare pack's diffusion query returns ``rows``."""
    shutil.copytree(config.queries_dir(), folder)
    literal = "[" + ", ".join(f"['{m}', {y}, {n}]" for m, y, n in rows) + "]"
    text = STAND_IN.replace("UNWIND $rows", f"UNWIND {literal}" if rows else "UNWIND []")
    (folder / "compare" / "diffusion.cypher").write_text(text, encoding="utf-8")
    return folder


ADOPTIONS = [[f"机制{i}", year, n] for i in range(10) for year, n in ((2016, 1), (2018, 2 + i), (2020, 3 + 2 * i))]


def test_adoption_lines_keep_the_most_adopted_mechanisms():
    rows = [dict(zip(report.DIFFUSION_COLUMNS, row, strict=True)) for row in ADOPTIONS]
    rows.append({"mechanism": "机制0", "year": None, "regions": 9})  # no year: not a point
    lines = report.adoption_lines(rows, count=3)
    assert list(lines) == ["机制9", "机制8", "机制7"]
    assert lines["机制9"] == [(2016, 1), (2018, 11), (2020, 21)]


def test_the_diffusion_query_is_drawn_as_adoption_lines(loaded, tmp_path):
    folder = queries_with_diffusion(tmp_path / "queries", ADOPTIONS)
    built = build(loaded, tmp_path / "out", query_folder=folder)
    section = next(s for s in built.sections if s.query.name == "diffusion")
    assert [f["src"] for f in section.figures] == ["diffusion.png"]
    assert f"The {report.ADOPTION_LINES} mechanisms adopted by the most regions" in section.figures[0]["caption"]
    with Image.open(built.folder / "diffusion.png") as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert pixels.shape[1] <= report.MAX_WIDTH_PX
    # One line a mechanism, each in its colour of matplotlib's default cycle.
    cycle = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
    drawn = [colour for colour in cycle
             if (np.abs(pixels - [int(colour[i:i + 2], 16) for i in (1, 3, 5)]).max(axis=2) <= 10).sum() > 150]
    assert drawn == cycle[:report.ADOPTION_LINES]


def _overlaps(boxes) -> list[tuple[int, int]]:
    """Pairs of display boxes (matplotlib Bbox) that overlap by more than a pixel."""
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[i + 1:], start=i + 1)
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1]


def _readable(fig, axes) -> None:
    """No two tick labels of an axis on one another: level labels' boxes apart, slanted labels
    (whose boxes overlap though the text does not) a line height apart across their slant."""
    import math

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
            shown = [t for t in ticks if t.get_visible() and t.get_text()]
            if len(shown) < 2:
                continue
            slant = math.radians(shown[0].get_rotation() % 180)
            if not slant:
                assert _overlaps([t.get_window_extent(renderer) for t in shown]) == [], [t.get_text() for t in shown]
                continue
            anchors = sorted(ax.transData.transform((t.get_position()[0], 0))[0] for t in shown)
            gap = min(b - a for a, b in zip(anchors, anchors[1:], strict=False)) * abs(math.sin(slant))
            height = shown[0].get_fontsize() * fig.dpi / 72
            assert gap >= height, f"slanted labels {gap:.1f} px apart across, {height:.1f} px high"


def test_the_adoption_chart_is_a_step_panel_a_mechanism_with_whole_counts():
    rows = [dict(zip(report.DIFFUSION_COLUMNS, row, strict=True)) for row in ADOPTIONS]
    lines = report.adoption_lines(rows)
    fig = report.adoption_figure(lines)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(" (")[0] for ax in panels] == list(lines), "a panel a mechanism, most adopted first"
    colours = [ax.get_lines()[0].get_color() for ax in panels]
    assert len(set(colours)) == len(panels), "no two mechanisms share a colour"
    for ax, points in zip(panels, lines.values(), strict=True):
        line = ax.get_lines()[0]
        assert line.get_drawstyle() == "steps-post"
        assert ax.get_ylim()[0] == 0
        assert list(line.get_ydata())[-1] == points[-1][1] == int(ax.get_title().split("(")[1].rstrip(")"))
    _readable(fig, panels)
    # Shared axes: the first column carries the counts, every panel its years.
    counts = [t.get_text() for ax in panels for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    assert counts and all(label.isdigit() for label in counts), counts
    for ax in panels:
        years = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert years and all(year.isdigit() for year in years), years
    renderer = fig.canvas.get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in panels]
    assert _overlaps([ax.get_window_extent(renderer) for ax in panels]) == []
    assert _overlaps(titles) == []


def test_a_heatmap_of_2000_regions_keeps_its_labels_apart():
    rng = np.random.default_rng(5)
    names = [f"机制{i:03d}水土保持监督管理" for i in range(300)]
    rows = [{"region": f"区{r:04d}", "region_key": f"区{r:04d}", "mechanism": names[m],
             "sentences": int(rng.integers(1, 9))}
            for r in range(2000) for m in set(rng.integers(0, 300, 12).tolist())]
    for regions, columns in ((report.DEFAULT_MAX_REGIONS, report.DEFAULT_MAX_COLUMNS),
                             (report.LIMIT_REGIONS, report.LIMIT_COLUMNS)):
        matrix = report.clustered(report.pivot(rows, "mechanism", "sentences", regions, columns))
        fig = report.heatmap_figure(matrix, "地区 × 机制", "句数")
        _readable(fig, fig.axes[:1])
        bar = fig.axes[1]
        ticks = [t.get_text() for t in bar.get_yticklabels() if t.get_text()]
        assert ticks and all(t.isdigit() for t in ticks), ticks


def test_no_adoption_years_means_no_chart_and_no_error(loaded, tmp_path):
    folder = queries_with_diffusion(tmp_path / "queries", [])
    built = build(loaded, tmp_path / "out", query_folder=folder)
    section = next(s for s in built.sections if s.query.name == "diffusion")
    assert section.figures == [] and not (built.folder / "diffusion.png").exists()
    assert any(note.startswith("No adoption chart: no adoption year") for note in section.notes)
    assert (built.folder / "diffusion.csv").read_text(encoding="utf-8-sig") == "mechanism,year,regions\n"


# --- the page as a person sees it ------------------------------------------------------------

def look_at(tab: Tab, built: report.Report, folder: Path) -> dict[str, Image.Image]:
    """Check the page in Chromium as a reader meets it; return a screenshot of every section.

    Asserts: no page error; a section for every compare query; nothing wider than the window;
    every figure loaded, inside the window and painted on the screen.
    """
    assert tab.errors() == []
    expected = {f"q-{name}" for name in compare_queries(folder)}
    assert set(tab.evaluate("Array.from(document.querySelectorAll('section.query')).map(s => s.id)")) == expected
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= WINDOW[0], f"the page is {width} px wide, more than the {WINDOW[0]} px window"
    figures = tab.evaluate("""Array.from(document.images).map(i => {
        const box = i.getBoundingClientRect();
        return {src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
                left: box.left, right: box.right, width: box.width}; })""")
    assert {f["src"] for f in figures} == {p.name for p in built.files if p.suffix == ".png"}
    for figure in figures:
        assert figure["complete"] and figure["natural"] > 0, f"{figure['src']} did not load"
        assert 0 <= figure["left"] and figure["right"] <= WINDOW[0], figure
        with Image.open(built.folder / figure["src"]) as png:
            assert png.width <= report.MAX_WIDTH_PX
    shots = {}
    for section in sorted(expected):
        tab.evaluate(f"document.getElementById('{section}').scrollIntoView()")
        shot = tab.screenshot()
        assert shot.size == WINDOW
        shots[section] = shot
    for section in ("q-mechanism-matrix", "q-category-matrix"):
        # The heatmap is painted: the colour map's blues and greens fill part of the screen.
        pixels = np.asarray(shots[section]) / 255.0
        coloured = (pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.4)
        assert coloured.sum() > 5_000, f"{section}: the heatmap is not on the screen"
    return shots


def test_the_page_in_chromium(built, chromium, tmp_path):
    tab = chromium(built.html)
    shots = look_at(tab, built, config.queries_dir())
    for name, shot in shots.items():
        shot.save(tmp_path / f"{name}.png")  # kept for a person to look at
    # A table longer than a page shows one page and moves on with its buttons.
    measures = len(built.tables["measures"])
    assert measures > 2 * report.PAGE_SIZE
    visible = "Array.from(document.querySelectorAll('#q-measures tbody tr')).filter(r => !r.hidden).length"
    assert tab.evaluate(visible) == report.PAGE_SIZE
    tab.evaluate("document.querySelector('#q-measures .pager button:last-child').click()")
    label = tab.evaluate("document.querySelector('#q-measures .pager span').textContent")
    assert label == f"第 2 / {-(-measures // report.PAGE_SIZE)} 页 (rows 26–50 of {measures})"
    assert tab.errors() == []


def test_a_page_wider_than_the_window_is_caught(built, chromium):
    """The overflow check can fail: one element wider than the window makes the page scroll sideways."""
    wide = built.folder / "wide.html"
    wide.write_text(built.html.read_text(encoding="utf-8").replace(
        "<body>", '<body><div style="width: 1500px; height: 1px"></div>'), encoding="utf-8")
    with pytest.raises(AssertionError, match="px wide, more than the 1280 px window"):
        look_at(chromium(wide), built, config.queries_dir())


def test_the_adoption_chart_in_chromium(loaded, chromium, tmp_path):
    folder = queries_with_diffusion(tmp_path / "queries", ADOPTIONS)
    built = build(loaded, tmp_path / "out", query_folder=folder)
    shots = look_at(chromium(built.html), built, folder)
    pixels = np.asarray(shots["q-diffusion"]).astype(int)
    orange = (np.abs(pixels - [0xFF, 0x7F, 0x0E]).max(axis=2) <= 10).sum()
    assert orange > 150, "the chart's second line is not on the screen"


@pytest.mark.skipif(not os.environ.get("GOVGRAPH_REPORT_DOCS"),
                    reason="set GOVGRAPH_REPORT_DOCS=2000 to check the report of a generated corpus (minutes)")
def test_the_report_of_a_generated_corpus(chromium, tmp_path_factory):
    from benchmarks.corpus import extracted
    from benchmarks.neo4j_start import scratch_driver

    docs = int(os.environ["GOVGRAPH_REPORT_DOCS"])
    records = extracted(tmp_path_factory.mktemp("generated"), docs)
    out = tmp_path_factory.mktemp("generated-report")
    with scratch_driver() as driver:  # a server of its own: the module's graph stays as it is
        stats = load_records(driver, records)
        assert stats.documents == docs and stats.failures == []
        built = build(driver, out)
    regions = {r["region_key"] for r in built.tables["mechanism-matrix"]}
    assert len(regions) > report.DEFAULT_MAX_REGIONS
    shots = look_at(chromium(built.html), built, config.queries_dir())
    for name, shot in shots.items():
        shot.save(out / f"screen-{name}.png")
