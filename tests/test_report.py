"""The comparison report: CJK glyphs really drawn, files written, tables filled from the graph."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from etl import config, report
from etl.extract import extract_corpus
from etl.load import load_records
from tests.conftest import wipe


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


@pytest.fixture(scope="module")
def built(neo4j_driver, tmp_path_factory):
    wipe(neo4j_driver)
    load_records(neo4j_driver, extract_corpus([config.sample_corpus_dir()], tmp_path_factory.mktemp("rec")).out)
    out = tmp_path_factory.mktemp("report")
    with warnings.catch_warnings():
        # Matplotlib warns "Glyph … missing from font(s)" when a label cannot be drawn.
        warnings.simplefilter("error")
        return report.build_report(neo4j_driver, out)


def test_report_writes_page_images_and_csv(built):
    names = {p.name for p in built.files}
    assert {"mechanism-matrix.png", "category-matrix.png", "mechanism-matrix.csv", "region-similarity.csv",
            "linkages.csv", "targets.csv"} <= names
    page = built.html.read_text(encoding="utf-8")
    assert '<img src="mechanism-matrix.png"' in page and '<img src="category-matrix.png"' in page
    assert "<td>河长+检察长</td>" in page
    assert "$" not in page.replace("$regions", ""), "every template field is filled"


def test_report_csv_holds_the_query_rows(built):
    with (built.folder / "linkages.csv").open(encoding="utf-8") as handle:
        rows = {r["linkage"]: r for r in csv.DictReader(handle)}
    assert "检察长" in rows["河长+检察长"]["actors"]
    with (built.folder / "mechanism-matrix.csv").open(encoding="utf-8") as handle:
        matrix = list(csv.DictReader(handle))
    assert len(matrix) == len(built.tables["mechanism-matrix"])


def test_heatmap_png_shows_the_matrix(built):
    from matplotlib import image

    pixels = image.imread(built.folder / "mechanism-matrix.png")[..., :3]
    height, width, _ = pixels.shape
    assert width > 600 and height > 200
    # Coloured cells (the colour map's blues and greens) and dark label text are both there.
    blue = (pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.4)
    dark = pixels.mean(axis=2) < 0.3
    assert blue.sum() > 500 and dark.sum() > 500


def test_pivot_caps_and_orders_by_adoptions():
    rows = [{"region": "甲县", "region_key": "甲县", "mechanism": m, "sentences": 2} for m in ("a", "b")]
    rows += [{"region": "XX区", "region_key": "XX区@0123456789", "mechanism": "a", "sentences": 1}]
    names, columns, matrix = report.pivot(rows, "mechanism", "sentences")
    assert names == ["甲县", "XX区@012345"]
    assert columns == ["a", "b"]
    assert matrix == [[2.0, 2.0], [1.0, 0.0]]
