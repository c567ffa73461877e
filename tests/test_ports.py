"""Ports (issue 23, item 4): the README's main job with another program on 7687 and 7474.

A second embedded server in a working folder of its own: ``govgraph run`` takes free ports
when the defaults are held, every later command finds it from its server.json, and each
error's suggestion works as written.
"""

from __future__ import annotations

import contextlib
import socket

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.neo4j import server
from tests.conftest import free_port

runner = CliRunner()


@contextlib.contextmanager
def occupied(*ports: int):
    """Listen on the ports (those another program holds already stay held by it)."""
    with contextlib.ExitStack() as stack:
        for port in ports:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
            except OSError:
                pass  # already taken by someone else: the case under test all the same
        yield


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """A working folder for a server of this test's own, small, stopped at the end."""
    home = tmp_path / "home"
    monkeypatch.setenv("GOVGRAPH_HOME", str(home))
    monkeypatch.setenv("GOVGRAPH_NEO4J_HEAP", "384m")
    monkeypatch.setenv("GOVGRAPH_NEO4J_PAGECACHE", "128m")
    for name in ("NEO4J_URI", "NEO4J_PASSWORD", "GOVGRAPH_BOLT_PORT", "GOVGRAPH_HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    yield home
    server.stop(home)


def test_main_job_with_another_neo4j_on_the_default_ports(tmp_path, own_home):
    with occupied(config.DEFAULT_BOLT_PORT, config.DEFAULT_HTTP_PORT):
        first = runner.invoke(app, ["run", "--out", str(tmp_path / "build")])
        assert first.exit_code == 0, first.output
        info = server.status(own_home)
        assert info is not None
        assert config.DEFAULT_BOLT_PORT not in (info.bolt_port, info.http_port)
        assert config.DEFAULT_HTTP_PORT not in (info.bolt_port, info.http_port)
        assert f"Neo4j: {info.bolt_uri} (Browser {info.browser_url})" in first.output

        # Found from server.json, with no port setting.
        query = runner.invoke(app, ["query", "run", "mechanism-matrix", "-f", "csv"])
        assert query.exit_code == 0, query.output
        assert query.output.lstrip("\ufeff").startswith("region,")

        # A port asked for that the running server does not use: the suggestion is a command that works.
        other = runner.invoke(app, ["run", "--out", str(tmp_path / "build"), "--bolt-port",
                                    str(config.DEFAULT_BOLT_PORT)])
        assert other.exit_code == 1
        assert other.output.splitlines()[-1] == (
            f"Error: Neo4j (pid {info.pid}) already runs on Bolt port {info.bolt_port}, not "
            f"{config.DEFAULT_BOLT_PORT}; to change ports stop it first: govgraph neo4j stop")
        stopped = runner.invoke(app, ["neo4j", "stop"])
        assert stopped.exit_code == 0 and server.status(own_home) is None

        # A held port asked for: the suggestion (--bolt-port) is an option of run.
        held = runner.invoke(app, ["run", "--out", str(tmp_path / "build"), "--bolt-port",
                                   str(config.DEFAULT_BOLT_PORT)])
        assert held.exit_code == 1
        assert held.output.splitlines()[-1] == (
            f"Error: port {config.DEFAULT_BOLT_PORT} (Bolt) is already in use by another program; "
            "choose another with --bolt-port or stop that program")
        bolt, http = free_port(), free_port()
        chosen = runner.invoke(app, ["run", "--out", str(tmp_path / "build"), "--bolt-port", str(bolt),
                                     "--http-port", str(http)])
        assert chosen.exit_code == 0, chosen.output
        assert f"Neo4j: bolt://127.0.0.1:{bolt} (Browser http://127.0.0.1:{http}/browser/)" in chosen.output


def test_http_port_from_the_environment(own_home, monkeypatch):
    http = free_port()
    monkeypatch.setenv("GOVGRAPH_HTTP_PORT", str(http))
    result = runner.invoke(app, ["neo4j", "start"])
    assert result.exit_code == 0, result.output
    assert f"Browser: http://127.0.0.1:{http}/browser/" in result.output


def test_a_stopped_server_names_the_command_with_its_port(own_home):
    port = free_port()
    config.ensure_password(own_home)
    result = runner.invoke(app, ["schema", "show", "--bolt-port", str(port)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith(f"; start it with: govgraph neo4j start --bolt-port {port}")
