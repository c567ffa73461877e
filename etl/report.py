"""Report stage: the compare pack's answers as a page a researcher can read and share.

Takes a driver on a loaded graph and an output folder; runs every query of the compare
pack that needs no parameter, saves each result as CSV, and writes ``index.html`` with
the mechanism and category matrices as PNG heatmaps and the similarity and linkage tables.
Chinese labels need a font with CJK glyphs: the report finds one among the system's
fonts (bin/setup installs WenQuanYi Micro Hei) and refuses to draw empty boxes.
"""

from __future__ import annotations

import functools
import html
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j
from etl import config, files, queries
from etl.errors import ReportError
from etl.files import atomic_write

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.html"
# Characters every report label set contains; a font must draw all of them.
CJK_PROBE = "河长制检察区县市水土保持"
MAX_ROWS, MAX_COLUMNS = 40, 40


@dataclass
class Report:
    """What a report run wrote."""

    folder: Path
    html: Path
    files: list[Path] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@functools.cache  # it opens every installed font file until one has the glyphs
def cjk_font() -> str:
    """The family name of an installed font that has glyphs for Chinese text."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    def covers(path: str) -> bool:
        try:
            charmap = FT2Font(path).get_charmap()
        except (OSError, RuntimeError):
            return False
        return all(ord(ch) in charmap for ch in CJK_PROBE)

    for entry in font_manager.fontManager.ttflist:
        # Matplotlib's bundled Last Resort font maps every character to a box; it is no answer.
        if not entry.name.startswith("Last Resort") and covers(entry.fname):
            return entry.name
    # A font installed after matplotlib built its cache is not in ttflist yet.
    for path in font_manager.findSystemFonts():
        if "LastResort" not in path and covers(path):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise ReportError(
        "no installed font has Chinese glyphs, so the heatmap labels would be empty boxes; "
        "install one (Debian: apt-get install fonts-wqy-microhei, which bin/setup does)"
    )


def region_label(row: dict[str, Any], key_field: str = "region_key", name_field: str = "region") -> str:
    """A region's name, with a short document tag for anonymized ones (XX区 differs per document)."""
    key, name = row[key_field], row[name_field]
    return f"{name}@{key.split('@', 1)[1][:6]}" if "@" in key else name


def pivot(rows: list[dict[str, Any]], column: str, value: str) -> tuple[list[str], list[str], list[list[float]]]:
    """Region × ``column`` matrix of ``value``: the regions and columns with most cells first, capped."""
    row_counts = Counter(region_label(r) for r in rows)
    col_counts = Counter(r[column] for r in rows)
    row_names = sorted(row_counts, key=lambda n: (-row_counts[n], n))[:MAX_ROWS]
    col_names = sorted(col_counts, key=lambda n: (-col_counts[n], n))[:MAX_COLUMNS]
    index = {(region_label(r), r[column]): r[value] for r in rows}
    matrix = [[float(index.get((rn, cn), 0)) for cn in col_names] for rn in row_names]
    return row_names, col_names, matrix


def draw_heatmap(rows: list[str], columns: list[str], matrix: list[list[float]], title: str, path: Path) -> Path:
    """A heatmap PNG with Chinese row and column labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    width = max(6.0, 0.32 * len(columns) + 3)
    height = max(3.0, 0.32 * len(rows) + 2.5)
    with plt.rc_context({"font.family": [font], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(width, height), dpi=120)
        image = ax.imshow(matrix or [[0.0]], cmap="YlGnBu", aspect="auto", vmin=0)
        ax.set_xticks(range(len(columns)), labels=columns, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), labels=rows, fontsize=8)
        ax.set_title(title, fontsize=11)
        fig.colorbar(image, ax=ax, shrink=0.6, label="句数 (supporting sentences)")
        fig.tight_layout()
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=path.suffix.lstrip(".") or "png")
        plt.close(fig)
    return path


def write_csv(rows: list[dict[str, Any]], columns: tuple[str, ...], path: Path) -> Path:
    return files.write_text(path, queries.format_rows(rows, columns, "csv"))


def html_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """An escaped HTML table; list cells joined with 、."""
    def cell(value: Any) -> str:
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        return html.escape("" if value is None else str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(driver: neo4j.Driver, out: Path, database: str = config.DEFAULT_DATABASE) -> Report:
    """Run the compare queries and write index.html, PNG heatmaps and CSV tables into ``out``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder {out}: {exc.strerror}") from None
    report = Report(folder=out, html=out / "index.html")
    sections: dict[str, str] = {}
    # Every compare query that needs no parameter, as CSV; four of them also on the page.
    for query in queries.load_packs().values():
        if query.pack == "compare" and not any(p.required for p in query.params):
            rows = queries.run_query(driver, query, database=database)
            report.tables[query.name] = rows
            report.files.append(write_csv(rows, query.columns, out / f"{query.name}.csv"))
    for name, column, title in (("mechanism-matrix", "mechanism", "地区 × 机制 (regions × mechanisms)"),
                                ("category-matrix", "category", "地区 × 机制类别 (regions × categories)")):
        value = "sentences"
        png = draw_heatmap(*pivot(report.tables[name], column, value), title, out / f"{name}.png")
        report.files.append(png)
        sections[name.replace("-", "_")] = f'<img src="{png.name}" alt="{html.escape(title)}">'
    for name in ("region-similarity", "linkages"):
        sections[name.replace("-", "_")] = html_table(report.tables[name], queries.find_query(name).columns)
    regions = {region_label(r) for r in report.tables["mechanism-matrix"]}
    mechanisms = {r["mechanism"] for r in report.tables["mechanism-matrix"]}
    page = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        regions=len(regions), mechanisms=len(mechanisms), cap=MAX_ROWS, **sections
    )
    files.write_text(report.html, page)
    return report
