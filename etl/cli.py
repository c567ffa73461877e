"""The govgraph command line: thin commands over the etl package.

Each command parses its options, calls one function of etl, and turns the project's
own exceptions (etl.errors.GovgraphError) into one ``Error: …`` line and exit status 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from etl import config
from etl.cli_options import App
from etl.errors import GovgraphError

app = App(
    name="govgraph",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn Chinese local-government reports on water and soil governance into a Neo4j graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Report GovgraphError as one ``Error:`` line on stderr with exit status 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GovgraphError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(code=1) from None

    return wrapper


# Connection options shared by every command that talks to Neo4j.
UriOption = Annotated[
    str | None,
    typer.Option("--uri", envvar="NEO4J_URI", help="Bolt URI; default: the embedded server."),
]
UserOption = Annotated[str | None, typer.Option("--user", envvar="NEO4J_USER", help="Neo4j user.")]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar="NEO4J_PASSWORD",
        help="Neo4j password; default: the embedded server's 0600 password file.",
    ),
]
DatabaseOption = Annotated[
    str | None, typer.Option("--database", envvar="NEO4J_DATABASE", help="Database name.")
]


@app.callback()
def main() -> None:
    """Turn Chinese local-government reports on water and soil governance into a Neo4j graph."""


# --- neo4j: the embedded server -------------------------------------------------------------

neo4j_app = App(help="Run the embedded Neo4j (no Docker needed).", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", envvar="GOVGRAPH_HOME", help="Working folder for data, logs and password."),
]
BoltPortOption = Annotated[
    int | None, typer.Option("--bolt-port", envvar="GOVGRAPH_BOLT_PORT",
                             help=f"Bolt port of the embedded server on 127.0.0.1; default: the running "
                                  f"server's, else {config.DEFAULT_BOLT_PORT} or a free one.")
]
HttpPortOption = Annotated[
    int | None, typer.Option("--http-port", envvar="GOVGRAPH_HTTP_PORT",
                             help=f"HTTP port of the embedded server (Neo4j Browser); default: the running "
                                  f"server's, else {config.DEFAULT_HTTP_PORT} or a free one.")
]


@neo4j_app.command("install")
@user_errors
def neo4j_install() -> None:
    """Resolve the Neo4j artifacts from Maven Central into the cache, with a progress line.

    Example: govgraph neo4j install
    """
    import time

    from etl.neo4j import server

    if server.installed():
        typer.echo(f"Neo4j artifacts in {server.lib_dir()}")
        return
    typer.echo("Downloading Neo4j from Maven Central into the cache (about 160 MB, first time only)…", err=True)
    shown = [0.0]

    def progress(files: int, size: float) -> None:
        # One line every few seconds: a terminal and a CI log both show the download moving.
        if time.monotonic() - shown[0] >= 3:
            shown[0] = time.monotonic()
            typer.echo(f"  {files} files, {size / 1e6:.0f} MB downloaded", err=True)

    typer.echo(f"Neo4j artifacts in {server.install(progress)}")


@neo4j_app.command("start")
@user_errors
def neo4j_start(
    home: HomeOption = None,
    bolt_port: BoltPortOption = None,
    http_port: HttpPortOption = None,
) -> None:
    """Start the embedded Neo4j and wait until Bolt answers.

    A server already running for this working folder is reused when it listens on the ports
    asked for; other ports are an error (stop it first to change them).

    Example: govgraph neo4j start --bolt-port 7687 --http-port 7474
    """
    from etl.neo4j import server

    info = server.start(home, bolt_port, http_port)
    verb = "already running" if info.already_running else "started"
    typer.echo(f"Neo4j {verb} (pid {info.pid}, data in {info.home})")
    typer.echo(f"Bolt:    {info.bolt_uri}")
    typer.echo(f"Browser: {info.browser_url}")


@neo4j_app.command("stop")
@user_errors
def neo4j_stop(home: HomeOption = None) -> None:
    """Shut the embedded Neo4j down cleanly.

    Example: govgraph neo4j stop
    """
    from etl.neo4j import server

    info = server.stop(home)
    typer.echo(f"Neo4j stopped (pid {info.pid})" if info else "Neo4j is not running")


@neo4j_app.command("status")
@user_errors
def neo4j_status(home: HomeOption = None) -> None:
    """Say whether the embedded Neo4j runs, and where; exit status 3 when it does not, 1 when
    it runs without its store (deleted under it).

    Example: govgraph neo4j status
    """
    from etl.neo4j import server

    info = server.status(home)
    if info is None:
        typer.echo(f"Neo4j is not running (working folder {home or config.home_dir()})")
        raise typer.Exit(code=3)
    server.check_store(info)
    typer.echo(f"Neo4j is running (pid {info.pid}, data in {info.home})")
    typer.echo(f"Bolt:    {info.bolt_uri}")
    typer.echo(f"Browser: {info.browser_url}")

@neo4j_app.command("import")
@user_errors
def neo4j_import(
    folder: Annotated[Path, typer.Argument(help="Folder written by: govgraph export --format neo4j-import.")],
    home: HomeOption = None,
) -> None:
    """Bulk-import CSV files into the stopped embedded Neo4j, replacing its graph, then apply the schema
    at the next start (govgraph schema apply). For first loads of very large corpora.

    Example: govgraph neo4j stop && govgraph neo4j import build/import && govgraph neo4j start
    """
    from etl.neo4j import server
    from etl.outputs.export.neo4j_import import ImportFiles

    files = ImportFiles.from_folder(folder)
    report = server.import_full(files.arguments(), home)
    typer.echo(report.strip().splitlines()[-1] if report.strip() else "imported")
    typer.echo("next: govgraph neo4j start && govgraph schema apply")

# --- extract --------------------------------------------------------------------------------

EngineOption = Annotated[str, typer.Option("--engine", help="local (processes here) or dask (docs/scale.md).")]
SchedulerOption = Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler's address, for dask.")]


@app.command("extract")
@user_errors
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for records.jsonl.")] = Path("build"),
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=1, max=86400, help="Seconds one document may take [default: 600].")] = None,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
) -> None:
    """Extract actors, mechanisms, measures, regions and quantities into OUT/records.jsonl.

    A file or folder that cannot be read or extracted is reported on one line (failed: PATH:
    STAGE: TYPE: MESSAGE) and the others are written; the exit status is 1 when any failed.
    records.jsonl is replaced only when the new one is complete.

    --engine dask makes every document a task on a Dask cluster: the one at --scheduler, or a
    local one of --workers processes (docs/scale.md); records.jsonl is the same either way.

    Example: govgraph extract corpus/sample --out build --workers 2
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from etl.extract import extract_corpus
    from etl.extract.engines import choose

    chosen = choose(engine, workers, time_limit, scheduler)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise GovgraphError(f"no such file or folder: {', '.join(missing)}")
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("extracting", total=None)
        summary = extract_corpus(
            paths, out, workers, lambda done, total: progress.update(task, completed=done, total=total),
            seconds=time_limit, engine=chosen,
        )
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for failure in summary.failures:
        typer.echo(f"failed: {failure}", err=True)
    table = Table(title=f"records in {summary.out}", show_header=False)
    table.add_row("documents", str(summary.documents))
    table.add_row("sentences", str(summary.sentences))
    for label, count in sorted(summary.entities.items()):
        table.add_row(f"entities: {label}", str(count))
    table.add_row("relations", str(summary.relations))
    table.add_row("quantities", str(summary.quantities))
    table.add_row("failed files", str(len(summary.failures)))
    table.add_row("reused unchanged", str(summary.reused))
    Console().print(table)
    if summary.failed:
        typer.echo(f"{len(summary.failed)} failed (path, stage, reason): {summary.out.parent / 'failed.tsv'}")
    if summary.failures:
        raise typer.Exit(code=1)

@app.command("train")
@user_errors
def train(
    gold: Annotated[list[Path], typer.Option("--gold", help="Gold jsonl (one annotated report a line); repeatable.")],
    raw: Annotated[list[Path], typer.Option("--raw", help="Folder of the gold's raw reports; repeatable.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the learned artifacts.")] = Path("models"),
    corrections: Annotated[Path | None, typer.Option(
        "--corrections", help="corrections.yaml from govgraph review: its corrected reports train too.")] = None,
) -> None:
    """Learn which candidate entities and quantities to keep from annotated reports; writes
    OUT/entities.json and OUT/quantities.json.

    The extractor loads them from models/ when they are there (GOVGRAPH_MODELS names another
    folder) and keeps every rule's candidate and number when they are not. The same inputs give
    the same bytes.

    Example: govgraph train --gold ../shared/train/gold.jsonl --raw ../shared/train/raw
    """
    from etl import train as training

    missing = [str(p) for p in [*gold, *raw] + ([corrections] if corrections else []) if not p.exists()]
    if missing:
        raise GovgraphError(f"no such file or folder: {', '.join(missing)}")
    command = "govgraph train " + " ".join(
        [f"--gold {p}" for p in gold] + [f"--raw {p}" for p in raw]
        + ([f"--corrections {corrections}"] if corrections else []))
    summary = training.train_models(gold, raw, out, corrections, command=command)
    for failure in summary.failures:
        typer.echo(f"failed: {failure}", err=True)
    if summary.missing:
        typer.echo(f"warning: {len(summary.missing)} annotated reports have no raw file: "
                   f"{', '.join(summary.missing[:5])}", err=True)
    typer.echo(f"{summary.path}: {summary.documents} reports ({summary.corrected} from corrections), "
               f"{summary.examples} candidates")
    if summary.failures:
        raise typer.Exit(code=1)


# --- schema and load ------------------------------------------------------------------------

schema_app = App(help="Schema migrations (constraints and indexes).", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


def _driver(uri, user, password, database, bolt_port=None, http_port=None):
    """A driver on the server the options name: --uri, else the embedded server (found from its
    server.json whatever its ports, or on --bolt-port). A command that finds the server does not
    start it; it takes --http-port too, so every command that reaches the server takes both."""
    from etl.graph import db

    conn = db.connection(uri, user, password, database, bolt_port)
    return db.connect(conn), conn.database


@schema_app.command("apply")
@user_errors
def schema_apply(uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
                 database: DatabaseOption = None, bolt_port: BoltPortOption = None,
                 http_port: HttpPortOption = None) -> None:
    """Apply the pending migrations of schema/migrations; a second run does nothing.

    Example: govgraph schema apply
    """
    from etl.graph import migrations

    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    with driver:
        done = migrations.apply(driver, database)
    typer.echo("\n".join(f"applied {m.id} {m.name}" for m in done) or "schema is up to date")


@schema_app.command("show")
@user_errors
def schema_show(uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
                database: DatabaseOption = None, bolt_port: BoltPortOption = None,
                http_port: HttpPortOption = None) -> None:
    """List the migrations applied to the database and those pending.

    Example: govgraph schema show
    """
    from etl.graph import migrations

    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    with driver:
        applied = {row["id"]: row for row in migrations.applied(driver, database)}
    for migration in migrations.read_migrations():
        row = applied.get(migration.id)
        state = f"applied {row['applied_at']}" if row else "pending"
        typer.echo(f"{migration.id} {migration.name}: {state}")


# One corpus a graph: how to go on when the graph holds documents of another corpus.
FreshOption = Annotated[bool, typer.Option(
    "--fresh", help="Empty the graph first (asks to confirm on a terminal).")]
AppendOption = Annotated[bool, typer.Option(
    "--append", help="Add to the documents the graph already holds.")]
YesOption = Annotated[bool, typer.Option(
    "--yes", help="Confirm --fresh, or an --append that replaces documents, without asking "
                                "(for scripts).")]


def _mode(fresh: bool, append: bool) -> str:
    """The run.MODES value of the --fresh / --append flags."""
    if fresh and append:
        raise GovgraphError("--fresh and --append exclude each other; choose one")
    return "fresh" if fresh else "append" if append else "check"


def _confirm(yes: bool):
    """Ask before --fresh empties a graph: yes with --yes, a question on a terminal, else an error."""
    import sys

    def confirm(check) -> bool:
        if check.question == "append":
            from etl.run import replacement_lines

            for line in replacement_lines(check):
                typer.echo(line, err=True)
            if yes:
                return True
            if not sys.stdin.isatty():
                raise GovgraphError(f"--append would replace {len(check.replaced)} documents of the graph "
                                    "(above) with other files of the same paths; add --yes to confirm when "
                                    "not on a terminal")
            return typer.confirm(f"--append replaces {len(check.replaced)} documents of the graph. Go on?")
        if yes:
            return True
        if not sys.stdin.isatty():
            raise GovgraphError(f"--fresh would delete the {check.documents} documents the graph holds; "
                                "add --yes to confirm when not on a terminal")
        return typer.confirm(f"--fresh deletes the {check.documents} documents the graph holds "
                             f"({check.foreign} not in this corpus). Go on?")

    return confirm


CorrectionsOption = Annotated[
    Path | None,
    typer.Option("--corrections", help="A corrections file (YAML) applied before loading; default: "
                 "corrections.yaml beside the corpus folder or the records, else the one the graph "
                 "remembers for these documents."),
]


@app.command("load")
@user_errors
def load(
    source: Annotated[Path, typer.Argument(help="records.jsonl, or the folder that holds it.")],
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1,
        help="Documents per transaction (fewer when they are long).")] = config.DEFAULT_LOAD_BATCH,
    fresh: FreshOption = False, append: AppendOption = False, yes: YesOption = False,
    corrections: CorrectionsOption = None,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
    bulk: Annotated[bool, typer.Option("--bulk", help="A first load through neo4j-admin import.")] = False,
) -> None:
    """Load extraction records into Neo4j (migrations first); loading twice changes nothing.

    --bulk: a first load into the embedded server's empty database through neo4j-admin import.

    Records that fail validation are reported one line each and skipped; the exit status is 1
    when any failed. A graph holds one corpus: when it holds documents that are not in these
    records, the load stops unless --fresh (empty it first) or --append says what to do.

    --corrections, else corrections.yaml beside the corpus folder or the records, else the file
    the graph names for these documents (the last load's) is applied to the records first; a
    correction whose target is gone is one path:line line, and a load that undoes corrections
    says so.

    Example: govgraph load build/records.jsonl --corrections corrections.yaml
    """
    from rich.console import Console
    from rich.progress import Progress

    from etl.run import load_corpus

    mode = _mode(fresh, append)
    if bulk and uri:
        raise GovgraphError("--bulk imports into the embedded Neo4j; for another server see govgraph export --help")
    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    progress = Progress(console=Console(stderr=True), transient=True)
    task = []

    def advance(done: int) -> None:  # shown from the first batch on, after the graph's check line
        if not task:
            progress.start()
            task.append(progress.add_task("loading", total=None))
        progress.update(task[0], completed=done)

    with driver:
        try:
            done = load_corpus(driver, source, database, mode=mode, confirm=_confirm(yes), corrections=corrections,
                               batch_size=batch_size, progress=advance, say=typer.echo, bulk=bulk)
        finally:
            if task:  # a display never started would still print its closing newline
                progress.stop()
    stats = done.stats
    for failure in stats.failures:
        typer.echo(f"failed: {failure}", err=True)
    for line in done.notes:
        typer.echo(line, err=True)
    if stats.emptied:
        typer.echo(f"finished emptying the graph, which an interrupted --fresh had begun "
                   f"({stats.emptied} documents removed)")
    rate = stats.relationships_created / stats.seconds if stats.seconds else 0
    typer.echo(
        f"loaded {stats.documents} documents ({stats.replaced} replaced, {stats.unchanged} unchanged) "
        f"in {stats.seconds:.1f} s, {rate:.0f} relationships created/s"
    )
    typer.echo(f"nodes: {stats.nodes_created} created, {stats.nodes_updated} updated, {stats.nodes_deleted} deleted")
    typer.echo(f"relationships: {stats.relationships_created} created, {stats.relationships_updated} updated, "
               f"{stats.relationships_deleted} deleted")
    if stats.failures:
        raise typer.Exit(code=1)

# --- query and report -----------------------------------------------------------------------

query_app = App(help="Query packs: read-only Cypher files under queries/.", no_args_is_help=True)
app.add_typer(query_app, name="query")


@query_app.command("list")
@user_errors
def query_list() -> None:
    """List the query packs and their queries with one-line descriptions.

    Example: govgraph query list
    """
    from rich.console import Console
    from rich.table import Table

    from etl.outputs import queries

    # The terminal's width (rich's default Console): long cells wrap instead of every line breaking.
    table = Table(show_lines=False, expand=True)
    table.add_column("pack", no_wrap=True)
    table.add_column("query", no_wrap=True)
    table.add_column("parameters", overflow="fold", ratio=1)
    table.add_column("description", overflow="fold", ratio=3)
    for query in queries.load_packs().values():
        params = ", ".join(p.name + ("" if p.required else "?") for p in query.params)
        table.add_row(query.pack, query.name, params, query.description)
    Console().print(table)


@query_app.command("show")
@user_errors
def query_show(name: Annotated[str, typer.Argument(help="pack/name or name.")]) -> None:
    """Print a query's description, parameters, columns and Cypher.

    Example: govgraph query show compare/targets
    """
    from etl.outputs import queries

    query = queries.find_query(name)
    typer.echo(f"{query.qualified}: {query.description}")
    typer.echo(f"file: {query.path}")
    for p in query.params:
        default = "required" if p.required else f"default {p.default!r}"
        typer.echo(f"param {p.name}: {p.type} ({default})")
    typer.echo(f"columns: {', '.join(query.columns)}")
    typer.echo("")
    typer.echo(query.cypher)


@query_app.command("run")
@user_errors
def query_run(
    name: Annotated[str, typer.Argument(help="pack/name or name.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value; repeat.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv, json, markdown or xlsx (Excel; "
                                     "with --out).")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the result to this file.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before the query is cancelled (0.1 to 3600).")]
    = 30.0,
    all_rows: Annotated[bool, typer.Option(
    "--all", help="Every row of a query that takes a limit (limit -1).")]
    = False,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
) -> None:
    """Run a query read-only, with its parameters passed as Cypher parameters.

    Example: govgraph query run targets --param region=忻州市 --format csv --out targets.csv
    """
    from etl.outputs import queries

    if fmt not in queries.FORMATS:
        raise GovgraphError(f"unknown --format {fmt!r}; use one of {', '.join(queries.FORMATS)}")
    query = queries.find_query(name)
    given = queries.parse_param_options(param or [])
    if all_rows:
        if not any(p.name == "limit" for p in query.params):
            raise GovgraphError(f"--all: query {query.qualified} has no limit; it returns every row already")
        given["limit"] = "-1"
    params = queries.bind_params(query, given)
    timeout = queries.check_timeout(timeout)
    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    with driver:
        rows = queries.run_query(driver, query, params, database=database, timeout=timeout)
        for line in queries.unmatched(driver, given, database):
            typer.echo(line, err=True)
    _print_rows(rows, query.columns, fmt, out)


def _print_rows(rows: list[dict], columns: tuple[str, ...], fmt: str, out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from etl.outputs import queries

    if fmt == "table" and out is None:
        columns = columns or tuple(rows[0] if rows else ())
        table = Table(caption=f"{len(rows)} rows")
        for column in columns:
            table.add_column(column, overflow="ellipsis")
        for row in rows:
            table.add_row(*(queries.format_cell(row.get(c)) for c in columns))
        Console().print(table)
        return
    if out is None:
        if fmt in queries.FILE_FORMATS:
            raise GovgraphError(f"--format {fmt} writes a file: add --out FILE.{fmt}")
        typer.echo(queries.format_rows(rows, columns, "csv" if fmt == "table" else fmt), nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        queries.write_rows(rows, columns, "csv" if fmt == "table" else fmt, out)
    except OSError as exc:
        raise GovgraphError(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"{len(rows)} rows written to {out}")


@app.command("report")
@user_errors
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for index.html, PNG and CSV.")] = Path("build/report"),
    max_regions: Annotated[int, typer.Option("--max-regions", help="Regions a heatmap draws (the most frequent); "
                                             "the rest are summed up under it.")] = 40,
    max_columns: Annotated[int, typer.Option("--max-columns", help="Mechanisms (columns) a heatmap draws "
                                             "(the most frequent).")] = 40,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
) -> None:
    """Write the comparison report: every compare query a section with its table and CSV, and heatmaps.

    Example: govgraph report --out build/report --max-regions 60
    """
    from etl.outputs.report import build_report

    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    with driver:
        result = build_report(driver, out, database, max_regions=max_regions, max_columns=max_columns)
    typer.echo(f"report: {result.html}")
    for path in result.files:
        typer.echo(f"  {path}")

@app.command("review")
@user_errors
def review(
    source: Annotated[Path, typer.Argument(help="records.jsonl, or the folder that holds it.")] = Path("build"),
    out: Annotated[Path, typer.Option("--out", help="Folder for review.csv and review.html.")] = Path("build/review"),
) -> None:
    """List what most needs a human look, with the correction to paste into corrections.yaml.

    Near-duplicate names of one type, entities outside the lexicon, names seen once, relations
    resting on one sentence: review.csv (one row an item, most urgent first) and review.html.

    Example: govgraph review build/records.jsonl --out build/review
    """
    from collections import Counter

    from etl.graph.rows import iter_records, records_path
    from etl.research.review import review as find_items
    from etl.research.review import write_review

    path = records_path(source)
    failures: list[str] = []
    items = find_items(iter_records(path, failures))
    for failure in failures:
        typer.echo(f"skipped: {failure}", err=True)
    csv_path, html_path = write_review(items, out, str(path))
    counts = Counter(item.kind for item in items)
    typer.echo(f"{len(items)} items: " + ", ".join(f"{kind} {count}" for kind, count in counts.items()))
    typer.echo(f"review: {csv_path}, {html_path}")

# --- export and viz -------------------------------------------------------------------------


@app.command("export")
@user_errors
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write (a folder for neo4j-import).")],
    fmt: Annotated[str, typer.Option("--format", help="graphml, gexf, json, neo4j-import or qdpx (REFI-QDA, "
                                     "for NVivo, ATLAS.ti, MAXQDA).")] = "graphml",
    projection: Annotated[str, typer.Option("--projection", help="full, region-mechanism (Region–Mechanism), "
                                            "actors (Actor–Actor) or regions (Region–Region).")] = "full",
    records: Annotated[Path | None, typer.Option("--records", help="Build from records.jsonl (or its folder) "
                                                  "instead of reading Neo4j.")] = None,
    sentences: Annotated[bool, typer.Option(
    "--sentences", help="Include Sentence nodes and MENTIONS.")] = False,
    corrections: CorrectionsOption = None,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
) -> None:
    """Export the graph or a projection of it as GraphML, GEXF or node-link JSON, or neo4j-admin import files.

    Reads Neo4j unless --records names a records.jsonl, which needs no database. --format qdpx
    writes a REFI-QDA project from records.jsonl: the documents' texts, a codebook of mechanism
    categories, mechanisms, actors and measures, and a coded selection for every evidence sentence,
    with --corrections (or corrections.yaml beside the records) applied as govgraph load does.

    Example: govgraph export --format graphml --projection region-mechanism --out build/regions.graphml

    Example: govgraph export --format qdpx --records build/records.jsonl --out build/govgraph.qdpx
    """
    from etl.outputs.export.formats import export as write_export

    result = write_export(out, fmt, projection, records=records, sentences=sentences, corrections=corrections,
                          connect=lambda: _driver(uri, user, password, database, bolt_port, http_port))
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo(result.summary)
    if result.skipped:
        raise typer.Exit(code=1)


@app.command("viz")
@user_errors
def viz(
    out: Annotated[Path, typer.Option("--out", help="The HTML page to write.")],
    region: Annotated[str | None, typer.Option("--region", help="Draw this region's neighbourhood.")] = None,
    mechanism: Annotated[str | None, typer.Option("--mechanism", help="Draw this mechanism's regions and actors.")]
    = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many links, best-evidenced first.")]
    = 200,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
) -> None:
    """Write a standalone interactive network page (works offline; hover an edge for its evidence).

    --region: the region's mechanisms, measures, actors, indicators, water bodies, policies.

    --mechanism: the regions that adopt it and the actors it involves.

    Neither: the region–mechanism network. Colours: schema/browser/govgraph.grass.

    Example: govgraph viz --region 忻州市 --out build/xinzhou.html
    """
    from etl.outputs import viz as viz_stage

    driver, database = _driver(uri, user, password, database, bolt_port, http_port)
    with driver:
        graph = viz_stage.neighbourhood(driver, region=region, mechanism=mechanism, limit=limit, database=database)
    page = viz_stage.write_page(graph, out)
    more = f"; cut at --limit {limit}" if page.truncated else ""
    typer.echo(f"wrote {page.path}: {page.nodes} nodes, {page.edges} edges{more}")


browser_app = App(help="Helpers for Neo4j Browser (style, favorites).", no_args_is_help=True)
app.add_typer(browser_app, name="browser")


@browser_app.command("params")
@user_errors
def browser_params(
    pack: Annotated[str | None, typer.Argument(help="Query pack (a folder of queries/); default: all.")] = None,
) -> None:
    """Print the :params line to paste into Neo4j Browser before running a pack's queries as Favorites.

    Notes (parameters without a default, conflicting defaults) go to stderr.

    Example: govgraph browser params compare
    """
    from etl.outputs import browser

    result = browser.pack_params(pack)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(result.line)


# --- run: the main job ----------------------------------------------------------------------


@app.command("run")
@user_errors
def run(
    corpus: Annotated[list[Path] | None, typer.Argument(help="Files or folders; default: the sample corpus.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for records.jsonl.")] = Path("build"),
    workers: Annotated[int, typer.Option("--workers", min=1, max=256, help="Extraction processes.")] = 1,
    engine: EngineOption = "local",
    scheduler: SchedulerOption = None,
    fresh: FreshOption = False, append: AppendOption = False, yes: YesOption = False,
    corrections: CorrectionsOption = None,
    uri: UriOption = None, user: UserOption = None, password: PasswordOption = None,
    database: DatabaseOption = None, bolt_port: BoltPortOption = None, http_port: HttpPortOption = None,
) -> None:
    """The main job: extract a corpus, load it, run the compare pack and write the report.

    Starts the embedded Neo4j when no --uri is given; OUT gets records.jsonl and report/.
    A graph holds one corpus: when it holds documents that are not in CORPUS, the run stops
    before extracting unless --fresh (empty the graph first; --yes skips the question) or
    --append (add to them) says what to do. The same corpus again, with documents added or
    changed, needs neither.

    Example: govgraph run my-corpus/ --fresh --workers 2
    """
    from rich.console import Console
    from rich.progress import Progress

    from etl.extract.engines import choose
    from etl.run import run_corpus

    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as shown:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = shown.add_task(stage, total=total)
            shown.update(tasks[stage], completed=done, total=total)

        result = run_corpus(
            corpus or [config.sample_corpus_dir()], out, workers=workers, mode=_mode(fresh, append),
            engine=choose(engine, workers, scheduler=scheduler),
            confirm=_confirm(yes), uri=uri, user=user, password=password, database=database,
            bolt_port=bolt_port, http_port=http_port, progress=progress,
            say=typer.echo, warn=lambda line: typer.echo(line, err=True), corrections=corrections,
        )
    report = result.report
    typer.echo(f"compare pack: {len(report.tables)} queries, results as CSV in {report.folder}")
    typer.echo(f"report: {report.html}")
    typer.echo("explore: govgraph query list; govgraph query run mechanism-matrix"
               + (f"; Neo4j Browser {result.server.browser_url}" if result.server else ""))
    if result.failures:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    app()
