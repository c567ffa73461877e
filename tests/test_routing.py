"""Every command that talks to Neo4j works through a routing ``neo4j://`` URI, as against a
cluster or Aura: the driver asks the server for its routing table and sends writes to a writer
and reads to a reader, which works only when the code declares each transaction's mode."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

import neo4j
from etl.cli import app
from etl.graph import db
from tests.query_answers import SAMPLE_RECORDS

# Each command that takes --uri, with the arguments that make it do its work.
COMMANDS = {
    "schema apply": [],
    "schema show": [],
    "load": [str(SAMPLE_RECORDS)],
    "query run": ["mechanism-matrix"],
    "report": ["--out", "{tmp}/report"],
    "export": ["--format", "graphml", "--out", "{tmp}/graph.graphml"],
    "viz": ["--out", "{tmp}/viz.html"],
    "run": ["--out", "{tmp}/run", "--fresh", "--yes"],
}


def _commands_with_uri() -> set[str]:
    """Names of the CLI's commands that take --uri, sub-commands as "group command"."""
    names = set()

    def walk(command, prefix: str) -> None:
        if hasattr(command, "commands"):  # a group (typer carries its own click)
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        elif any("--uri" in param.opts for param in command.params):
            names.add(prefix)

    walk(typer.main.get_command(app), "")
    return names


def test_the_table_covers_every_command_that_takes_a_uri():
    assert _commands_with_uri() == set(COMMANDS)


@pytest.fixture(scope="module")
def routing(neo4j_conn):
    """The test server's address as a routing URI."""
    host_port = neo4j_conn.uri.split("://", 1)[1]
    return neo4j_conn, f"neo4j://{host_port}"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_command_works_through_a_routing_uri(command, routing, neo4j_driver, tmp_path):
    conn, uri = routing
    if command != "load":  # the others read a loaded graph
        loaded = CliRunner().invoke(app, ["load", str(SAMPLE_RECORDS), "--uri", uri, "--password", conn.password])
        assert loaded.exit_code == 0, loaded.output
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in COMMANDS[command]]
    result = CliRunner().invoke(app, [*command.split(), *args, "--uri", uri, "--password", conn.password])
    assert result.exit_code == 0, result.output
    assert db.read(neo4j_driver, "MATCH (d:Document) RETURN count(d) AS n")[0]["n"] > 0


def test_the_driver_routes_through_the_servers_routing_table(routing):
    """A neo4j:// driver holds a routing table naming the server as writer and reader."""
    conn, uri = routing
    with neo4j.GraphDatabase.driver(uri, auth=(conn.user, conn.password)) as driver:
        driver.verify_connectivity()
        table = driver._pool.routing_tables[conn.database]
        address = conn.uri.split("://", 1)[1]
        assert [str(a) for a in table.writers] == [address]
        assert [str(a) for a in table.readers] == [address]
