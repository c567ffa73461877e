"""Query packs: Cypher files with a checked header, run read-only with typed parameters.

Takes the queries/ folder (one sub-folder a pack, one ``.cypher`` file a query) and
returns parsed Query objects; runs one against Neo4j and returns its rows. A file
starts with a comment header, then the Cypher body::

    // name: targets
    // description: Indicator targets and actual values by region and year.
    // param: region: string = null
    // param: limit: int = 100
    // columns: region, indicator, kind, year, value, unit

Loading rejects, with ``file:line``, a missing name or description, duplicate names,
an empty body, a malformed parameter line, and ``$params`` used but not declared or
declared but not used. Runs are read-only three times over. Loading refuses, with
``file:line``, what schema/query_guard.yaml lists (TERMINATE TRANSACTIONS, LOAD CSV,
administration commands, procedures outside an allow-list); before a run the server's
plan must be a read query (EXPLAIN's query type) without a refused operator; and the
query runs in a read transaction. Parameters and the timeout are checked against the
ranges Neo4j and its driver accept, so an overflow is a QueryError, not a traceback.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
from etl import config, datafiles, files
from etl.errors import DataFileError, QueryError
from etl.graph.model import L

PARAM_TYPES = {"string", "int", "float", "bool", "list"}
DEFAULT_TIMEOUT = 30.0
# The driver turns the timeout into milliseconds in a 64-bit integer; an hour is plenty for a pack.
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 3600.0
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FORMATS = ("table", "csv", "json", "markdown", "xlsx")
# Formats written only to a file (--out): a workbook is not text.
FILE_FORMATS = ("xlsx",)
# Items of a list in one cell: a reader's separator, not JSON.
LIST_SEPARATOR = "; "

_HEADER = re.compile(r"^//\s*(name|description|param|columns)\s*:\s*(.*)$")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>\w+)(?:\s*=\s*(?P<default>.+))?$")
# A query name: it names the CSV file the report writes, so no path separators or dots.
QUERY_NAME = re.compile(r"[a-z0-9-]+")
_USED_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING_OR_COMMENT = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S)
_NAME_PART = r"(?:[A-Za-z_]\w*|`[^`\n]*`)"
_PROCEDURE_CALL = re.compile(rf"\bCALL\s+(?![({{])({_NAME_PART}(?:\s*\.\s*{_NAME_PART})*)", re.I)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    required: bool


@dataclass(frozen=True)
class Query:
    """One query file: its pack, name, description, parameters, columns and Cypher."""

    pack: str
    name: str
    description: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    cypher: str
    path: Path
    body_line: int = 1

    @property
    def qualified(self) -> str:
        return f"{self.pack}/{self.name}"


def _convert(value: str, type_: str, where: str) -> Any:
    """Turn text (a header default or a --param value) into the declared type."""
    text = value.strip()
    if text == "null":
        return None
    try:
        if type_ == "string":
            return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text
        if type_ == "int":
            return _in_range(int(text), type_, where)
        if type_ == "float":
            return _in_range(float(text), type_, where)
        if type_ == "bool":
            lowered = text.lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(text)
        if type_ == "list":
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError:
        raise QueryError(f"{where}: {text!r} is not a valid {type_}") from None
    raise QueryError(f"{where}: unknown type {type_!r}; use one of {sorted(PARAM_TYPES)}")


def _in_range(value: Any, type_: str, where: str) -> Any:
    """Refuse a number Neo4j cannot hold: integers outside 64 bits, floats that are not finite."""
    if type_ == "int" and isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise QueryError(f"{where}: {value} is outside the 64-bit integer range Neo4j stores "
                         f"({INT64_MIN} to {INT64_MAX})")
    if type_ == "float" and isinstance(value, float) and not math.isfinite(value):
        raise QueryError(f"{where}: {value} is not a finite number")
    return value


def check_timeout(timeout: float) -> float:
    """The timeout in seconds if the driver can use it; otherwise a QueryError naming the range."""
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
        raise QueryError(f"--timeout must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds, not {timeout}")
    return float(timeout)


def _blank(cypher: str, keep_names: bool = False) -> str:
    """The Cypher with strings, comments and (unless kept) `quoted names` replaced by spaces, lines kept."""

    def spaces(match: re.Match) -> str:
        text = match.group()
        return text if keep_names and text.startswith("`") else re.sub(r"[^\n]", " ", text)

    return _STRING_OR_COMMENT.sub(spaces, cypher)


def _params_used(cypher: str) -> set[str]:
    return set(_USED_PARAM.findall(_blank(cypher)))


@dataclass(frozen=True)
class Guard:
    """What schema/query_guard.yaml refuses: text patterns, allowed procedures, plan operators."""

    patterns: tuple[tuple[str, re.Pattern, str], ...]
    procedures: frozenset[str]
    operators: frozenset[str]


@functools.cache
def guard(path: Path | None = None) -> Guard:
    """The rules of schema/query_guard.yaml, checked as they load (read once a process)."""
    path = path or config.schema_dir() / "query_guard.yaml"
    data = datafiles.load_yaml(path)
    patterns = []
    for number, item in enumerate(data.get("text", []), start=1):
        try:
            patterns.append((item["id"], re.compile(item["regex"], re.I), item["reason"]))
        except (KeyError, TypeError, re.error) as exc:
            raise DataFileError(f"{path}: text rule {number}: bad or missing id, regex or reason ({exc})") from None
    return Guard(tuple(patterns), frozenset(data.get("procedures", [])), frozenset(data.get("operators", [])))


def check_text(cypher: str, where_file: Path | str, first_line: int = 1) -> None:
    """Refuse Cypher that does more than read the graph, with ``file:line`` of the offending words."""
    rules = guard()
    blanked = _blank(cypher)

    def refuse(position: int, what: str, reason: str) -> None:
        line = first_line + blanked.count("\n", 0, position)
        raise DataFileError(f"{where_file}:{line}: {what!r} {reason}; query packs only read the graph")

    for _id, regex, reason in rules.patterns:
        if match := regex.search(blanked):
            words = match.group().lstrip(" \t\r\n;{")
            refuse(match.end() - len(words), " ".join(words.split()), reason)
    for match in _PROCEDURE_CALL.finditer(_blank(cypher, keep_names=True)):
        name = re.sub(r"[\s`]+", "", match.group(1))
        if name not in rules.procedures:
            refuse(match.start(), f"CALL {name}", "is not among the procedures allowed in schema/query_guard.yaml")


def parse_query_file(path: Path, pack: str) -> Query:
    """Parse one query file; raise DataFileError with path:line on any header problem."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, str] = {}
    params: list[Param] = []
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line.strip())
        if not match:
            if line.strip() and not line.strip().startswith("//"):
                body_start = number - 1
                break
            continue
        key, value = match.group(1), match.group(2).strip()
        where = f"{path}:{number}"
        if key == "name" and not QUERY_NAME.fullmatch(value):
            raise DataFileError(f"{where}: query name {value!r} is not lowercase letters, digits and '-' "
                                "(it names the query's CSV file)")
        if key == "param":
            params.append(_parse_param(value, where))
        elif key in header:
            raise DataFileError(f"{where}: '{key}' given twice")
        else:
            header[key] = value
    for key in ("name", "description"):
        if not header.get(key):
            raise DataFileError(f"{path}:1: missing '// {key}: …' header line")
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise DataFileError(f"{path}:{body_start + 1}: the query has no Cypher body")
    _check_params(path, body_start + 1, params, _params_used(body))
    check_text(body, path, body_start + 1)
    columns = tuple(c.strip() for c in header.get("columns", "").split(",") if c.strip())
    return Query(
        pack=pack,
        name=header["name"],
        description=header["description"],
        params=tuple(params),
        columns=columns,
        cypher=body,
        path=path,
        body_line=body_start + 1,
    )


def _parse_param(value: str, where: str) -> Param:
    match = _PARAM.match(value)
    if not match:
        raise DataFileError(f"{where}: a parameter line reads 'NAME: TYPE [= DEFAULT]', not {value!r}")
    type_ = match.group("type")
    if type_ not in PARAM_TYPES:
        raise DataFileError(f"{where}: unknown parameter type {type_!r}; use one of {sorted(PARAM_TYPES)}")
    default_text = match.group("default")
    try:
        default = _convert(default_text, type_, where) if default_text is not None else None
    except QueryError as exc:
        raise DataFileError(str(exc)) from None
    return Param(match.group("name"), type_, default, required=default_text is None)


def _check_params(path: Path, line: int, params: list[Param], used: set[str]) -> None:
    declared = [p.name for p in params]
    duplicates = sorted({n for n in declared if declared.count(n) > 1})
    if duplicates:
        raise DataFileError(f"{path}:{line}: parameter(s) declared twice: {', '.join(duplicates)}")
    undeclared = sorted(used - set(declared))
    if undeclared:
        raise DataFileError(
            f"{path}:{line}: the Cypher uses undeclared parameter(s) "
            f"{', '.join('$' + n for n in undeclared)}; add '// param: NAME: TYPE' lines"
        )
    unused = sorted(set(declared) - used)
    if unused:
        raise DataFileError(f"{path}:{line}: declared parameter(s) never used: {', '.join(unused)}")


def load_packs(folder: Path | None = None) -> dict[str, Query]:
    """Every query under the folder, keyed by 'pack/name'; names are unique across packs."""
    folder = folder or config.queries_dir()
    if not folder.is_dir():
        raise DataFileError(f"{folder}: no query folder; set GOVGRAPH_QUERIES to the queries/ folder")
    queries: dict[str, Query] = {}
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*/*.cypher")):
        query = parse_query_file(path, pack=path.parent.name)
        if query.name in seen:
            raise DataFileError(f"{path}:1: query name {query.name!r} is already used by {seen[query.name]}")
        seen[query.name] = path
        queries[query.qualified] = query
    return queries


def find_query(name: str, folder: Path | None = None) -> Query:
    """Look a query up by 'pack/name' or by its bare name."""
    queries = load_packs(folder)
    if name in queries:
        return queries[name]
    matches = [q for q in queries.values() if q.name == name]
    if matches:
        return matches[0]
    raise QueryError(f"no query named {name!r}; see: govgraph query list")


def bind_params(query: Query, given: dict[str, str | Any]) -> dict[str, Any]:
    """Check and convert parameters before anything is sent: unknown, missing and mistyped are errors."""
    known = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise QueryError(
            f"query {query.qualified} has no parameter(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(known) or 'none'}"
        )
    bound: dict[str, Any] = {}
    for param in query.params:
        if param.name in given:
            value = given[param.name]
            where = f"parameter {param.name} of {query.qualified}"
            value = _convert(value, param.type, where) if isinstance(value, str) else value
            bound[param.name] = _in_range(value, param.type, where)
        elif param.required:
            raise QueryError(f"query {query.qualified} needs --param {param.name}=<{param.type}>")
        else:
            bound[param.name] = param.default
    return bound


def parse_param_options(options: list[str]) -> dict[str, str]:
    """Split repeated ``--param key=value`` options."""
    params: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param takes key=value, not {option!r}")
        params[key.strip()] = value
    return params


def _read_rows(tx: neo4j.ManagedTransaction, cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = tx.run(cypher, params)
    keys = result.keys()
    rows = [dict(zip(keys, values, strict=True)) for values in result.values()]
    # Query packs return values; a query that returns nodes or paths gets them as dicts.
    graph_types = (neo4j.graph.Node, neo4j.graph.Relationship, neo4j.graph.Path)
    if rows and any(isinstance(v, graph_types) for v in rows[0].values()):
        return [neo4j.Record(zip(keys, row.values(), strict=True)).data() for row in rows]
    return rows


# Refusal (or "") per Cypher text: a plan's type and operators do not depend on parameter values.
_checked: dict[str, str] = {}


def _explain(tx: neo4j.ManagedTransaction, cypher: str, params: dict[str, Any]) -> neo4j.ResultSummary:
    return tx.run("EXPLAIN " + cypher, params).consume()


def _operators(plan: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    """Every operator of an EXPLAIN plan as (name, database, details), children included."""
    name, _, database = plan.get("operatorType", "").partition("@")
    yield name, database, str(plan.get("args", {}).get("Details", ""))
    for child in plan.get("children", []):
        yield from _operators(child)


def plan_refusal(summary: neo4j.ResultSummary) -> str:
    """Why the server's plan of a pack query is refused, or "" when it only reads the graph."""
    if summary.query_type != "r":
        return f"would write to the database (query type {summary.query_type!r})"
    rules = guard()
    for name, database, details in _operators(summary.plan or {}):
        if name in rules.operators or database == "system":
            return f"is planned with the refused operator {name}@{database}"
        if name == "ProcedureCall":
            procedure = details.split("(", 1)[0].strip()
            if procedure not in rules.procedures:
                return f"calls the procedure {procedure}, not allowed in schema/query_guard.yaml"
    return ""


def run_query(
    driver: neo4j.Driver,
    query: Query,
    params: dict[str, Any] | None = None,
    *,
    database: str = config.DEFAULT_DATABASE,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[dict[str, Any]]:
    """Run a query read-only and return its rows as dicts.

    A query that would write, administer the server, read files or call a procedure outside
    the guard's allow-list is refused before it runs: on its text, then on the server's plan.
    """
    bound = bind_params(query, params or {})
    timeout = check_timeout(timeout)
    try:
        check_text(query.cypher, query.path, query.body_line)
    except DataFileError as exc:
        raise QueryError(str(exc)) from None
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        try:
            if query.cypher not in _checked:
                # Planning waits on the schema like a run does: the timeout holds for both.
                explain = neo4j.unit_of_work(timeout=timeout)(_explain)
                _checked[query.cypher] = plan_refusal(session.execute_read(explain, query.cypher, bound))
            if refusal := _checked[query.cypher]:
                raise QueryError(f"query {query.qualified} ({query.path}) {refusal}; query packs are read-only")
            work = neo4j.unit_of_work(timeout=timeout)(_read_rows)
            return session.execute_read(work, query.cypher, bound)
        except neo4j.exceptions.Neo4jError as exc:  # a client error, or a statement the server cannot run read-only
            raise QueryError(f"query {query.qualified} failed: {exc.message}") from None


# Parameters that name a node: a value that names none makes a query return nothing, silently.
PARAM_LABELS = {"region": L.Region, "mechanism": L.Mechanism, "indicator": L.Indicator}
_NAMED = "MATCH (n) WHERE $label IN labels(n) AND (n.name = $value OR n.key = $value) RETURN count(n) > 0 AS found"
_LIKE = ("MATCH (n) WHERE $label IN labels(n) AND (n.name CONTAINS $value OR $value CONTAINS n.name) "
         "RETURN DISTINCT n.name AS name ORDER BY size(n.name), name LIMIT 5")


def unmatched(driver: neo4j.Driver, given: dict[str, Any], database: str = config.DEFAULT_DATABASE) -> list[str]:
    """One line for each given parameter that names no node of its label, with the names it may
    have meant (``did you mean: 滨海县?``), as ``govgraph viz`` says of --region."""
    lines = []
    for param, label in PARAM_LABELS.items():
        value = given.get(param)
        if not isinstance(value, str) or not value:
            continue
        with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
            found = session.run(_NAMED, label=label, value=value).single()["found"]
            if found:
                continue
            similar = [r["name"] for r in session.run(_LIKE, label=label, value=value)]
        hint = f"did you mean: {', '.join(similar)}?" if similar else "no name like it either"
        lines.append(f"note: {param}={value} names no {label} in the graph; {hint}")
    return lines


def rows_to_dataframe(rows: list[dict[str, Any]], columns: tuple[str, ...] = ()):
    """The rows as a pandas DataFrame, for notebooks; pandas is optional."""
    try:
        import pandas
    except ImportError:
        raise QueryError("pandas is not installed; run: pip install pandas") from None
    return pandas.DataFrame(rows, columns=list(columns) or None)


def format_cell(value: Any) -> str:
    """One value as text a person reads in a spreadsheet cell: empty for null, a list's items
    joined by "; " (三同时; 河长制), a map as "key: value" pairs, nested ones alike."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(format_cell(item) for item in value)
    if isinstance(value, dict):
        return LIST_SEPARATOR.join(f"{key}: {format_cell(item)}" for key, item in value.items())
    return str(value)


def write_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, path: Path) -> Path:
    """Write rows to a file: CSV with a byte-order mark (Excel on Windows then reads the UTF-8 as
    UTF-8, not as the local code page), an Excel workbook (openpyxl), or the text formats."""
    from etl import files

    if fmt == "xlsx":
        return _write_xlsx(rows, columns or tuple(rows[0].keys() if rows else ()), path)
    text = format_rows(rows, columns, fmt)
    return files.write_text(path, text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")


def _write_xlsx(rows: list[dict[str, Any]], columns: tuple[str, ...], path: Path) -> Path:
    """One sheet: a header row, then the rows; numbers stay numbers, lists are joined as in CSV."""
    from openpyxl import Workbook

    from etl import files

    book = Workbook(write_only=True)
    sheet = book.create_sheet("rows")
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(c)) for c in columns])
    with files.atomic_write(path, "wb") as handle:
        book.save(handle)
    return path


def _xlsx_cell(sheet, value: Any) -> Any:
    """A cell's value: numbers and booleans as they are, everything else as text; a text that
    starts with "=" stays text (openpyxl would store it as a formula)."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, bool | int | float):
        return value
    cell = WriteOnlyCell(sheet, value=format_cell(value))
    cell.data_type = "s"
    return cell


def format_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str) -> str:
    """Render rows as csv, json or markdown text (the table format is drawn by rich in the CLI)."""
    columns = columns or tuple(rows[0].keys() if rows else ())
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([files.spreadsheet_cell(c) for c in columns])
        writer.writerows([format_cell(files.spreadsheet_cell(row.get(c))) for c in columns] for row in rows)
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in rows:
            lines.append("| " + " | ".join(format_cell(row.get(c)).replace("|", "\\|") for c in columns) + " |")
        return "\n".join(lines) + "\n"
    raise QueryError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
