"""The embedded Neo4j: a real server through Bolt, and the neo4j start/stop/status commands."""

from __future__ import annotations

import socket
import stat
import urllib.request

import pytest
from typer.testing import CliRunner

import neo4j
from etl import config, db, server
from etl.cli import app
from etl.errors import ConfigError, ServerError
from tests.conftest import free_port

runner = CliRunner()


def test_bolt_round_trip(neo4j_driver):
    db.write(neo4j_driver, "CREATE (:Probe {name: $name, value: $value})", {"name": "河长制", "value": 63.56})
    rows = db.read(neo4j_driver, "MATCH (p:Probe {name: $name}) RETURN p.value AS value", {"name": "河长制"})
    assert rows == [{"value": 63.56}]


def test_constraint_violation_is_the_drivers_error(neo4j_driver):
    db.write(neo4j_driver, "CREATE CONSTRAINT probe_key IF NOT EXISTS FOR (p:Probe2) REQUIRE p.key IS UNIQUE")
    db.write(neo4j_driver, "CREATE (:Probe2 {key: 'a'})")
    with pytest.raises(neo4j.exceptions.ConstraintError):
        db.write(neo4j_driver, "CREATE (:Probe2 {key: 'a'})")
    assert db.read(neo4j_driver, "MATCH (p:Probe2) RETURN count(p) AS n") == [{"n": 1}]


def test_wrong_password_is_a_clear_error(neo4j_conn):
    wrong = config.Connection(neo4j_conn.uri, neo4j_conn.user, "not-the-password", neo4j_conn.database)
    with pytest.raises(ConfigError, match=f"Neo4j at {neo4j_conn.uri} rejected user 'neo4j'"):
        db.connect(wrong)


def test_nobody_listening_names_the_fix():
    port = free_port()
    conn = config.Connection(f"bolt://127.0.0.1:{port}", "neo4j", "whatever-1", "neo4j")
    with pytest.raises(ServerError, match=f"Neo4j at bolt://127.0.0.1:{port} does not answer"):
        db.connect(conn)


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    """A second server's working folder and ports, for the CLI's own start/stop."""
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    home = tmp_path / "home"
    yield home, free_port(), free_port()
    server.stop(home)


def test_start_twice_then_stop_then_status(cli_home):
    home, bolt, http = cli_home
    args = ["neo4j", "start", "--home", str(home), "--bolt-port", str(bolt), "--http-port", str(http)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[1:] == [
        f"Bolt:    bolt://127.0.0.1:{bolt}",
        f"Browser: http://127.0.0.1:{http}/browser/",
    ]
    assert first.output.startswith("Neo4j started (pid ")

    password_file = config.password_file(home)
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    conn = config.Connection(f"bolt://127.0.0.1:{bolt}", "neo4j", config.read_password_file(password_file), "neo4j")
    with db.connect(conn) as driver:
        assert db.read(driver, "RETURN 1 + 1 AS two") == [{"two": 2}]

    with urllib.request.urlopen(f"http://127.0.0.1:{http}/browser/", timeout=30) as response:
        assert response.status == 200
        assert "<title>Neo4j Browser</title>" in response.read().decode("utf-8")

    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert second.output.startswith("Neo4j already running (pid ")

    running = runner.invoke(app, ["neo4j", "status", "--home", str(home)])
    assert running.exit_code == 0
    assert f"Bolt:    bolt://127.0.0.1:{bolt}" in running.output

    stopped = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert stopped.exit_code == 0
    assert stopped.output.startswith("Neo4j stopped (pid ")
    with pytest.raises(ServerError):
        db.connect(conn)

    after = runner.invoke(app, ["neo4j", "status", "--home", str(home)])
    assert after.exit_code == 3
    assert after.output == f"Neo4j is not running (working folder {home})\n"

    again = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert (again.exit_code, again.output) == (0, "Neo4j is not running\n")


def test_port_taken_is_a_clear_error(cli_home):
    home, bolt, http = cli_home
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", bolt))
        blocker.listen()
        result = runner.invoke(
            app, ["neo4j", "start", "--home", str(home), "--bolt-port", str(bolt), "--http-port", str(http)]
        )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: port {bolt} (Bolt) is already in use by another program; "
        "choose another with --bolt-port or stop that program\n"
    )


def test_password_file_readable_by_others_is_refused(tmp_path):
    path = config.password_file(tmp_path)
    path.write_text("secret-123\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=f"run: chmod 600 {path}"):
        config.read_password_file(path)
