"""The govgraph command line: thin commands over the etl package.

Each command parses its options, calls one function of etl, and turns the project's
own exceptions (etl.errors.GovgraphError) into one ``Error: …`` line and exit status 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer

from etl.errors import GovgraphError

app = typer.Typer(
    name="govgraph",
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

# --- extract --------------------------------------------------------------------------------

# --- schema and load ------------------------------------------------------------------------

# --- query and report -----------------------------------------------------------------------

# --- export and viz -------------------------------------------------------------------------

# --- run: the main job ----------------------------------------------------------------------
