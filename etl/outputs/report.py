"""Report stage: the compare pack's answers as a page a researcher can read and share.

Takes a driver on a loaded graph and an output folder; runs every query of the compare
pack, saves each result as CSV, and writes ``index.html``: one section a query, with the
description from its file's header, its rows as a paged table (lists as one chip an item)
and a link to its CSV. The region × mechanism and region × category matrices are also drawn
as heatmaps of the most frequent regions and columns, ordered by hierarchical clustering so
similar ones sit together; a ``diffusion`` query, when the pack has one, is drawn as small
multiples of cumulative adoption, a step chart a mechanism. Columns are read from each query's
header, never assumed, so a reshaped query still gets its section. Chinese labels need a
font with CJK glyphs: the report finds one among the system's fonts (bin/setup installs
WenQuanYi Micro Hei) and refuses to draw empty boxes.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import neo4j
from etl import config, files
from etl.errors import ReportError
from etl.files import atomic_write
from etl.outputs import queries

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.html"
# Characters every report label set contains; a font must draw all of them.
CJK_PROBE = "河长制检察区县市水土保持"

DEFAULT_MAX_REGIONS, DEFAULT_MAX_COLUMNS = 40, 40
# Beyond these a heatmap's labels are no longer legible in MAX_WIDTH_PX (columns) or on a screen (rows).
LIMIT_REGIONS, LIMIT_COLUMNS = 200, 100
MAX_WIDTH_PX, DPI = 1600, 100
CELL_PX = (13, 26)  # the smallest and largest heatmap cell, in pixels
LABEL_CHARS = 16  # longer heatmap labels end in an ellipsis; the CSV has the full name
ROWS_ON_PAGE = 500  # a table's rows written into the page; its CSV has them all
PAGE_SIZE = 25  # rows a page of a table, paged by the page's own script
CHIPS_SHOWN = 12  # items of a list cell shown at once; the rest open on a click
ADOPTION_LINES = 8  # mechanisms drawn in the cumulative-adoption chart, a panel each

# A query's ``limit`` parameter (int) caps its rows; -1 asks for every row (govgraph query run --all).
LIMIT_PARAM, EVERY_ROW = "limit", -1

# The name the diffusion query goes by, and the columns the adoption chart reads from it.
DIFFUSION = "diffusion"
DIFFUSION_COLUMNS = ("mechanism", "year", "regions")


@dataclass(frozen=True)
class HeatmapSpec:
    """Which compare query is drawn as a region × column heatmap, and with which value."""

    query: str
    column: str
    value: str
    title: str
    value_label: str


HEATMAPS = (
    HeatmapSpec("mechanism-matrix", "mechanism", "sentences", "地区 × 机制 (regions × mechanisms)",
                "句数 (supporting sentences)"),
    HeatmapSpec("category-matrix", "category", "mechanisms", "地区 × 机制类别 (regions × categories)",
                "机制数 (mechanisms of the category)"),
)


@dataclass
class Matrix:
    """The part of a region × column table that is drawn, and what was left out."""

    rows: list[str]
    columns: list[str]
    values: np.ndarray
    total_rows: int
    total_columns: int
    total_cells: int
    drawn_cells: int


@dataclass
class Section:
    """One compare query on the page: its description, figures, rows and CSV."""

    query: queries.Query
    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    csv: str | None = None
    figures: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"q-{self.query.name}"


@dataclass
class Report:
    """What a report run wrote."""

    folder: Path
    html: Path
    files: list[Path] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)


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
    name = row[name_field]
    key = row.get(key_field) or name
    return f"{name}@{key.split('@', 1)[1][:6]}" if "@" in key else name


def _region_key(row: dict[str, Any]) -> str:
    return row.get("region_key") or row["region"]


def pivot(rows: list[dict[str, Any]], column: str, value: str,
          max_rows: int = DEFAULT_MAX_REGIONS, max_columns: int = DEFAULT_MAX_COLUMNS) -> Matrix:
    """Region × ``column`` matrix of ``value``: the regions with most cells, the columns most found among them.

    Regions rank by filled cells, then by the sum of their values; columns by how many of the
    drawn regions have them, then by how many regions in all. Choosing columns among the drawn
    regions keeps a column of the figure from being empty.
    """
    row_counts = Counter(_region_key(r) for r in rows)
    weights: Counter[str] = Counter()
    for r in rows:
        weights[_region_key(r)] += float(r.get(value) or 0)
    keys = sorted(row_counts, key=lambda k: (-row_counts[k], -weights[k], k))[:max_rows]
    drawn = set(keys)
    col_counts = Counter(r[column] for r in rows)
    among = Counter(r[column] for r in rows if _region_key(r) in drawn)
    columns = sorted(among, key=lambda c: (-among[c], -col_counts[c], c))[:max_columns]
    labels = {_region_key(r): region_label(r) for r in rows}
    index = {(_region_key(r), r[column]): float(r.get(value) or 0) for r in rows}
    values = np.array([[index.get((k, c), 0.0) for c in columns] for k in keys]).reshape(len(keys), len(columns))
    shown = set(columns)
    return Matrix(rows=[labels[k] for k in keys], columns=columns, values=values,
                  total_rows=len(row_counts), total_columns=len(col_counts), total_cells=len(index),
                  drawn_cells=sum(1 for k, c in index if k in drawn and c in shown))


def similar_order(values: np.ndarray) -> list[int]:
    """Row order in which rows with similar patterns of adoption sit together.

    Average-linkage clustering on the Jaccard distance of which cells are filled, leaves in
    optimal order (scipy.cluster.hierarchy): neighbours in the order are the closest pairs.
    """
    if len(values) < 3:
        return list(range(len(values)))
    from scipy.cluster import hierarchy
    from scipy.spatial import distance

    # Two empty rows have no Jaccard distance (0/0); they are alike.
    filled = values > 0
    distances = np.nan_to_num(distance.pdist(filled, metric="jaccard"), nan=0.0)
    tree = hierarchy.linkage(distances, method="average", optimal_ordering=True)
    return [int(i) for i in hierarchy.leaves_list(tree)]


def clustered(matrix: Matrix) -> Matrix:
    """The same matrix with rows and columns in similar_order."""
    rows, columns = similar_order(matrix.values), similar_order(matrix.values.T)
    values = matrix.values[np.ix_(rows, columns)] if rows and columns else matrix.values
    return Matrix(rows=[matrix.rows[i] for i in rows], columns=[matrix.columns[j] for j in columns],
                  values=values, total_rows=matrix.total_rows, total_columns=matrix.total_columns,
                  total_cells=matrix.total_cells, drawn_cells=matrix.drawn_cells)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_heatmap(matrix: Matrix, title: str, value_label: str, path: Path) -> Path:
    """A heatmap PNG at most MAX_WIDTH_PX wide, Chinese labels, empty cells told apart from small ones."""
    plt = _pyplot()
    fig = heatmap_figure(matrix, title, value_label)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def heatmap_figure(matrix: Matrix, title: str, value_label: str):
    """The heatmap of draw_heatmap as a matplotlib figure."""
    plt = _pyplot()
    from matplotlib import colors
    from matplotlib.ticker import MaxNLocator

    columns, rows = max(1, len(matrix.columns)), max(1, len(matrix.rows))
    row_chars = max((len(_short(r)) for r in matrix.rows), default=4)
    col_chars = max((len(_short(c)) for c in matrix.columns), default=4)
    # Room for labels and colour bar first; the cells share what is left, within CELL_PX.
    font_px = 13
    left, right = row_chars * font_px + 40, 170
    cell = int(np.clip((MAX_WIDTH_PX - left - right) // columns, *CELL_PX))
    width = min(MAX_WIDTH_PX, left + right + cell * columns)
    height = 90 + cell * rows + int(col_chars * font_px * 0.87) + 30
    filled = matrix.values[matrix.values > 0]
    # The 95th percentile tops the scale, so one very long report does not bleach every other cell.
    top = max(1.0, float(np.percentile(filled, 95)) if filled.size else 1.0)
    cmap = plt.get_cmap("YlGnBu").with_extremes(bad="#f3f3f3")  # masked (empty) cells are grey
    with plt.rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(width / DPI, height / DPI), dpi=DPI)
        shown = np.ma.masked_equal(matrix.values if matrix.values.size else np.zeros((1, 1)), 0)
        image = ax.imshow(shown, cmap=cmap, aspect="auto", norm=colors.Normalize(vmin=0, vmax=top))
        font_pt = font_px * 72 / DPI * min(1.0, cell / 18)
        ax.set_xticks(range(len(matrix.columns)), labels=[_short(c) for c in matrix.columns], rotation=60,
                      ha="right", rotation_mode="anchor", fontsize=font_pt)
        ax.set_yticks(range(len(matrix.rows)), labels=[_short(r) for r in matrix.rows], fontsize=font_pt)
        # White lines between cells: a row is followed by eye across many columns.
        ax.set_xticks(np.arange(columns + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
        ax.set_title(title, fontsize=12)
        bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, shrink=min(1.0, 8 / rows + 0.3), anchor=(0.0, 1.0),
                           extend="max" if filled.size and filled.max() > top else "neither")
        bar.set_label(value_label, fontsize=9)
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        fig.tight_layout()
    return fig


def heatmap_summary(matrix: Matrix, spec: HeatmapSpec, csv_name: str) -> str:
    """The line under a heatmap: what is drawn, in which order, and what was left out."""
    drawn = (f"Drawn: {len(matrix.rows)} of {matrix.total_rows} regions (those with the most {spec.column} "
             f"cells) and {len(matrix.columns)} of {matrix.total_columns} {spec.column} columns (those most "
             f"found among them), ordered so that similar rows and similar columns sit together; "
             f"a grey cell is no adoption.")
    left_rows, left_columns = matrix.total_rows - len(matrix.rows), matrix.total_columns - len(matrix.columns)
    if not left_rows and not left_columns:
        return drawn + f" Nothing is left out; the rows are in {csv_name}."
    hidden = matrix.total_cells - matrix.drawn_cells
    share = hidden / matrix.total_cells if matrix.total_cells else 0.0
    return (drawn + f" Left out: {left_rows} regions and {left_columns} columns, holding {hidden} of the "
            f"{matrix.total_cells} filled cells ({share:.0%}); all of them are in {csv_name}.")


def adoption_lines(rows: list[dict[str, Any]], count: int = ADOPTION_LINES) -> dict[str, list[tuple[int, int]]]:
    """The ``count`` mechanisms adopted by the most regions: (year, cumulative regions) points each."""
    points: dict[str, dict[int, int]] = defaultdict(dict)
    for row in rows:
        year, regions = row.get("year"), row.get("regions")
        if row.get("mechanism") is None or year is None or regions is None:
            continue
        regions = len(regions) if isinstance(regions, list) else int(regions)
        points[row["mechanism"]][int(year)] = max(regions, points[row["mechanism"]].get(int(year), 0))
    final = {m: max(by_year.values()) for m, by_year in points.items()}
    chosen = sorted(final, key=lambda m: (-final[m], m))[:count]
    return {m: sorted(points[m].items()) for m in chosen}


def cumulative_steps(lines: dict[str, list[tuple[int, int]]]) -> tuple[list[int], dict[str, list[int]]]:
    """The chart's years (first to last adoption year of any mechanism) and each mechanism's
    regions by the end of each year: 0 before its first year, a count held through years without
    a new region."""
    first = min(year for points in lines.values() for year, _ in points)
    last = max(year for points in lines.values() for year, _ in points)
    years = list(range(first, last + 1))
    counts: dict[str, list[int]] = {}
    for mechanism, points in lines.items():
        by_year, held, counts[mechanism] = dict(points), 0, []
        for year in years:
            held = by_year.get(year, held)
            counts[mechanism].append(held)
    return years, counts


def adoption_figure(lines: dict[str, list[tuple[int, int]]]):
    """Small multiples, one panel a mechanism (the most adopted first), each a step chart of
    the regions that had adopted it by the end of a year, on shared axes with whole-number ticks.

    One panel a mechanism rather than one line each on one chart: the lines of mechanisms with
    the same counts lay on one another, and a line between two years read as adoption spread
    over the time between them, where a step shows the year it was reported.
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    years, counts = cumulative_steps(lines)
    columns = min(4, len(lines))
    rows = -(-len(lines) // columns)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    with plt.rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False}):
        fig, axes = plt.subplots(rows, columns, figsize=(min(11, 2.9 * columns + 0.6), 2.3 * rows + 1.0),
                                 dpi=DPI, sharex=True, sharey=True, squeeze=False)
        for n, (ax, (mechanism, steps)) in enumerate(zip(axes.flat, counts.items(), strict=False)):
            colour = colours[n % len(colours)]
            # A step a year, the last one too: it runs to the start of the year after.
            xs, ys = [*years, years[-1] + 1], [*steps, steps[-1]]
            ax.step(xs, ys, where="post", color=colour, linewidth=2)
            ax.fill_between(xs, ys, step="post", color=colour, alpha=0.15)
            ax.set_title(f"{_short(mechanism)} ({steps[-1]})", fontsize=10)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(counts):]:
            ax.set_visible(False)
        for ax in axes.flat:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
            ax.set_ylim(bottom=0)
            ax.tick_params(labelsize=8, labelbottom=True)
        fig.suptitle("机制扩散 (adoption over time): regions that had adopted each mechanism by the end of a year",
                     fontsize=11)
        fig.supxlabel("年份 (year)", fontsize=9)
        fig.supylabel("采纳地区累计数 (regions, cumulative)", fontsize=9)
        fig.tight_layout()
    return fig


def draw_adoption(lines: dict[str, list[tuple[int, int]]], path: Path) -> Path:
    """The adoption chart (adoption_figure) as a PNG."""
    plt = _pyplot()
    fig = adoption_figure(lines)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def write_csv(rows: list[dict[str, Any]], columns: tuple[str, ...], path: Path) -> Path:
    return queries.write_rows(rows, columns, "csv", path)


def cell_items(value: Any) -> list[str] | None:
    """A list (or map) cell as its items, one text each, so the page shows them apart; None for a scalar."""
    if isinstance(value, list | tuple):
        return ["" if v is None else str(v) for v in value]
    if isinstance(value, dict):
        return [f"{k}: {v}" for k, v in value.items()]
    return None


def cell_text(value: Any) -> str:
    return "" if value is None else str(value)


def _check_caps(max_regions: int, max_columns: int) -> None:
    if not 1 <= max_regions <= LIMIT_REGIONS:
        raise ReportError(f"--max-regions takes 1 to {LIMIT_REGIONS}, not {max_regions}: "
                          f"more rows than that are no longer a figure a reader takes in")
    if not 1 <= max_columns <= LIMIT_COLUMNS:
        raise ReportError(f"--max-columns takes 1 to {LIMIT_COLUMNS}, not {max_columns}: more columns "
                          f"would not fit {MAX_WIDTH_PX} px with legible labels")


def _example_params(query: queries.Query, tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """Values for a query's required parameters taken from the graph (the region with most adoptions), if known."""
    matrix = tables.get("mechanism-matrix") or []
    candidates: dict[str, Any] = {}
    if matrix and "region" in matrix[0]:
        counts = Counter(_region_key(r) for r in matrix)
        candidates["region"] = min(counts, key=lambda k: (-counts[k], k))
        names = Counter(r["mechanism"] for r in matrix if "mechanism" in r)
        if names:
            candidates["mechanism"] = min(names, key=lambda m: (-names[m], m))
    required = [p.name for p in query.params if p.required]
    if all(name in candidates for name in required):
        return {name: candidates[name] for name in required}
    return None


def _run_section(driver: neo4j.Driver, query: queries.Query, report: Report, database: str) -> Section:
    """Run one compare query (with example values for required parameters) and write its CSV."""
    params: dict[str, Any] = {}
    notes: list[str] = []
    if any(p.required for p in query.params):
        example = _example_params(query, report.tables)
        command = "govgraph query run " + query.name + "".join(
            f" -p {p.name}=<{p.type}>" for p in query.params if p.required)
        if example is None:
            return Section(query, [], query.columns,
                           notes=[f"This query needs parameters the report cannot choose; run: {command}"])
        params = example
        shown = ", ".join(f"{k} = {v}" for k, v in example.items())
        notes.append(f"Run for {shown} (the one with the most adoptions in the graph); for another, run: {command}")
    limit = next((p for p in query.params if p.name == LIMIT_PARAM and p.type == "int"), None)
    if limit is not None and query.name in {spec.query for spec in HEATMAPS}:
        params[LIMIT_PARAM] = EVERY_ROW  # a figure of the most frequent needs every cell to count them
    rows = queries.run_query(driver, query, params, database=database)
    columns = query.columns or tuple(rows[0].keys() if rows else ())
    report.tables[query.name] = rows
    csv_path = write_csv(rows, columns, report.folder / f"{query.name}.csv")
    report.files.append(csv_path)
    cut = params.get(LIMIT_PARAM, limit.default if limit else None)
    if cut is not None and 0 <= cut <= len(rows):
        notes.append(f"The query stops at its limit of {cut} rows (its description says which come first); "
                     f"every row: govgraph query run {query.name} --all")
    if len(rows) > ROWS_ON_PAGE:
        notes.append(f"The first {ROWS_ON_PAGE} of {len(rows)} rows are on this page; all of them are in "
                     f"{csv_path.name}.")
    return Section(query, rows, columns, csv=csv_path.name, notes=notes)


def _add_heatmap(section: Section, spec: HeatmapSpec, report: Report, max_regions: int, max_columns: int) -> None:
    needed = {"region", spec.column, spec.value}
    if not section.rows or not needed <= set(section.rows[0]):
        return
    matrix = clustered(pivot(section.rows, spec.column, spec.value, max_regions, max_columns))
    png = draw_heatmap(matrix, spec.title, spec.value_label, report.folder / f"{spec.query}.png")
    report.files.append(png)
    section.figures.append({"src": png.name, "alt": spec.title,
                            "caption": heatmap_summary(matrix, spec, section.csv or "")})


def _add_adoption_chart(section: Section, report: Report) -> None:
    """Draw the diffusion query's cumulative counts of the most adopted mechanisms, or say why there is no chart."""
    if not set(DIFFUSION_COLUMNS) <= set(section.columns):
        section.notes.append(f"No adoption chart: the query's columns do not include {', '.join(DIFFUSION_COLUMNS)}.")
        return
    lines = adoption_lines(section.rows)
    if not lines:
        section.notes.append("No adoption chart: no adoption year is in the graph (years come from sentences "
                             "such as 2017年以来全面推行河长制).")
        return
    png = draw_adoption(lines, report.folder / f"{DIFFUSION}.png")
    report.files.append(png)
    section.figures.append({"src": png.name, "alt": "机制扩散 (adoption over time)",
                            "caption": f"The {len(lines)} mechanisms adopted by the most regions, a panel each: the "
                                       f"number of regions that had adopted it by the end of a year."})


def render(report: Report, sections: list[Section]) -> str:
    """The page: a contents list, then one section a query."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(cell_items=cell_items, cell_text=cell_text)
    matrix = report.tables.get("mechanism-matrix") or []
    regions = {_region_key(r) for r in matrix if "region" in r}
    mechanisms = {r["mechanism"] for r in matrix if "mechanism" in r}
    return env.get_template(TEMPLATE.name).render(
        sections=sections, regions=len(regions), mechanisms=len(mechanisms),
        rows_on_page=ROWS_ON_PAGE, page_size=PAGE_SIZE, chips_shown=CHIPS_SHOWN)


def build_report(
    driver: neo4j.Driver,
    out: Path,
    database: str = config.DEFAULT_DATABASE,
    *,
    max_regions: int = DEFAULT_MAX_REGIONS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    query_folder: Path | None = None,
) -> Report:
    """Run every compare query and write index.html, PNG figures and one CSV a query into ``out``.

    ``max_regions`` and ``max_columns`` cap what a heatmap draws (the most frequent are kept);
    ``query_folder`` is the queries/ folder to read the compare pack from (default: config).
    """
    _check_caps(max_regions, max_columns)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder {out}: {exc.strerror}") from None
    report = Report(folder=out, html=out / "index.html")
    compare = [q for q in queries.load_packs(query_folder).values() if q.pack == "compare"]
    # Queries without required parameters first: the others take example values from their rows.
    compare.sort(key=lambda q: any(p.required for p in q.params))
    by_name = {q.name: _run_section(driver, q, report, database) for q in compare}
    specs = {spec.query: spec for spec in HEATMAPS}
    for name, section in by_name.items():
        if name in specs:
            _add_heatmap(section, specs[name], report, max_regions, max_columns)
        elif name == DIFFUSION:
            _add_adoption_chart(section, report)
    # Figures first, in the order of HEATMAPS, then the rest in the pack's (file name) order.
    rank = {spec.query: i for i, spec in enumerate(HEATMAPS)} | {DIFFUSION: len(HEATMAPS)}
    order = sorted(by_name.values(), key=lambda s: (rank.get(s.query.name, len(rank)), s.query.path.name))
    report.sections = order
    files.write_text(report.html, render(report, order))  # OutputError names the file and the reason
    return report
