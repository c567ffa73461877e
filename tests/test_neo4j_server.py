"""The embedded Neo4j: a real server through Bolt, and the neo4j start/stop/status commands."""

from __future__ import annotations

import json
import shutil
import socket
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

import neo4j
from etl import config
from etl.cli import app
from etl.errors import ConfigError, ServerError
from etl.graph import db
from etl.neo4j import server
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


def test_a_new_store_takes_a_password_beginning_with_a_dash_and_the_heap_starts_at_its_full_size(
        cli_home, monkeypatch):
    """One start for two properties of a start (each start costs seconds)."""
    # secrets.token_urlsafe begins one password in 64 with "-", which neo4j-admin once took
    # for an option: the first start of such a store failed with a usage message.
    # A heap that grew from 256 MB kept G1's young generation small during loads, and marking
    # the old generation took a third of the server's processor time (README, Figures).
    home, bolt, http = cli_home
    monkeypatch.setenv("NEO4J_PASSWORD", "-dash-first-password")
    monkeypatch.setenv("GOVGRAPH_NEO4J_HEAP", "1536m")
    info = server.start(home, bolt, http)
    conn = config.Connection(info.bolt_uri, "neo4j", "-dash-first-password", "neo4j")
    with db.connect(conn) as driver:
        assert db.read(driver, "RETURN 1 + 1 AS two") == [{"two": 2}]
    flags = [arg for arg in psutil.Process(info.pid).cmdline() if arg.startswith(("-Xms", "-Xmx"))]
    assert sorted(flags) == ["-Xms1536m", "-Xmx1536m"]


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


def launched_for(home) -> list[int]:
    """Pids of processes whose command line runs a server on this working folder."""
    marker = f"--home-dir={home / 'neo4j'}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_start_twice_then_stop_then_status_and_server_safety_on_one_real_server(cli_home):
    """neo4j start, start again, status, stop, status, stop again on one real server, and its
    safety: first start, a second start on other ports, a wrong password, a store deleted while
    running (one server started three times, not two servers: each start costs seconds)."""
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
    password = config.read_password_file(password_file)
    uri = f"bolt://127.0.0.1:{bolt}"
    conn = config.Connection(uri, "neo4j", password, "neo4j")
    with db.connect(conn) as driver:
        assert db.read(driver, "RETURN 1 + 1 AS two") == [{"two": 2}]

    # The password was set before the server listened: the default one never works.
    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", "neo4j")) as driver:
        with pytest.raises(neo4j.exceptions.AuthError):
            driver.verify_connectivity()
    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        assert driver.execute_query("RETURN 1 AS one").records[0]["one"] == 1
    pid = server.status(home).pid

    with urllib.request.urlopen(f"http://127.0.0.1:{http}/browser/", timeout=30) as response:
        assert response.status == 200
        assert "<title>Neo4j Browser</title>" in response.read().decode("utf-8")

    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert second.output.startswith("Neo4j already running (pid ")

    other = free_port()
    moved = runner.invoke(app, ["neo4j", "start", "--home", str(home), "--bolt-port", str(other)])
    assert (moved.exit_code, moved.output) == (
        1, f"Error: Neo4j (pid {pid}) already runs on Bolt port {bolt}, not {other}; "
           "to change ports stop it first: govgraph neo4j stop\n")
    same = runner.invoke(app, ["neo4j", "start", "--home", str(home)])
    assert same.exit_code == 0 and same.output.startswith(f"Neo4j already running (pid {pid}")

    running = runner.invoke(app, ["neo4j", "status", "--home", str(home)])
    assert running.exit_code == 0
    assert f"Bolt:    bolt://127.0.0.1:{bolt}" in running.output

    stopped = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert stopped.exit_code == 0
    assert stopped.output.startswith("Neo4j stopped (pid ")
    assert launched_for(home) == []
    with pytest.raises(ServerError):
        db.connect(conn)

    after = runner.invoke(app, ["neo4j", "status", "--home", str(home)])
    assert after.exit_code == 3
    assert after.output == f"Neo4j is not running (working folder {home})\n"

    again = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert (again.exit_code, again.output) == (0, "Neo4j is not running\n")

    # A store made with another password: the start fails and leaves no java behind.
    wrong = runner.invoke(app, args, env={"NEO4J_PASSWORD": "not-the-password-1"})
    assert (wrong.exit_code, wrong.output) == (
        1, "Error: the embedded Neo4j rejects the password: its store was created with another one. "
           "Set NEO4J_PASSWORD to that one, or remove the data folder to start afresh\n")
    assert launched_for(home) == []
    assert server.status(home) is None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", bolt)) != 0

    # The store deleted under a running server: status says so instead of "running".
    assert runner.invoke(app, args).exit_code == 0
    pid = server.status(home).pid
    shutil.rmtree(server.store_dir(home))
    gone = runner.invoke(app, ["neo4j", "status", "--home", str(home)])
    assert (gone.exit_code, gone.output) == (
        1, f"Error: Neo4j (pid {pid}) is running but its store {server.store_dir(home)} is gone; "
           "stop it (govgraph neo4j stop) and start it again for an empty store\n")
    assert runner.invoke(app, args).exit_code == 1
    stopped = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
    assert stopped.output == f"Neo4j stopped (pid {pid})\n"
    assert launched_for(home) == []


def test_stale_server_json_never_kills_another_process(tmp_path):
    home = tmp_path / "home"
    (home / "neo4j").mkdir(parents=True)
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        started = server._proc_start_time(bystander.pid)
        for recorded in (0, started):  # a stale start time, and the bystander's own
            state = {"pid": bystander.pid, "bolt_port": 7687, "http_port": 7474, "home": str(home.resolve()),
                     "started": recorded}
            (home / "neo4j" / "server.json").write_text(json.dumps(state), encoding="utf-8")
            assert runner.invoke(app, ["neo4j", "status", "--home", str(home)]).exit_code == 3
            result = runner.invoke(app, ["neo4j", "stop", "--home", str(home)])
            assert (result.exit_code, result.output) == (0, "Neo4j is not running\n")
            assert bystander.poll() is None
            assert not (home / "neo4j" / "server.json").exists()
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize("port", ["0", "70000", "99999999999999999999"])
def test_port_out_of_range_is_one_error_line(tmp_path, port):
    result = runner.invoke(app, ["neo4j", "start", "--home", str(tmp_path), "--bolt-port", port])
    assert (result.exit_code, result.output) == (1, f"Error: --bolt-port {port} is not a port; use 1 to 65535\n")


def test_a_port_out_of_range_for_a_command_that_finds_the_server_is_one_error_line():
    """The port options take any number, so that every command, not only neo4j start, answers with
    the project's own line rather than typer's box."""
    result = runner.invoke(app, ["query", "run", "targets", "--bolt-port", "70000"])
    assert (result.exit_code, result.output) == (1, "Error: --bolt-port 70000 is not a port; use 1 to 65535\n")


def test_maven_download_lines_feed_the_progress_line():
    line = ("Downloaded from central: https://repo.maven.apache.org/maven2/org/neo4j/neo4j-kernel/5.26.31/"
            "neo4j-kernel-5.26.31.jar (12.5 MB at 3.1 MB/s)\n")
    match = server._DOWNLOADED.match(line)
    assert match and float(match.group(1)) * server._UNIT[match.group(2)] == 12.5e6
    assert server._DOWNLOADED.match("Downloading from central: https://repo.maven.apache.org/x.jar\n") is None


def test_memory_is_sized_from_the_machine_with_caps_and_an_override(monkeypatch):
    """The page cache and heap grow with the machine (an eighth each) up to 4 GiB and 2 GiB; env overrides."""
    monkeypatch.delenv("GOVGRAPH_NEO4J_PAGECACHE", raising=False)
    monkeypatch.delenv("GOVGRAPH_NEO4J_HEAP", raising=False)
    gib = 2**30
    assert server.memory_sizes(24 * gib) == (3 * gib, 2 * gib)
    assert server.memory_sizes(64 * gib) == (4 * gib, 2 * gib)
    assert server.memory_sizes(2 * gib) == (512 * 2**20, gib)
    monkeypatch.setenv("GOVGRAPH_NEO4J_PAGECACHE", "6g")
    monkeypatch.setenv("GOVGRAPH_NEO4J_HEAP", "1536m")
    assert server.memory_sizes(24 * gib) == (6 * gib, 1536 * 2**20)
    monkeypatch.setenv("GOVGRAPH_NEO4J_HEAP", "lots")
    with pytest.raises(ServerError, match="GOVGRAPH_NEO4J_HEAP='lots' is not a size"):
        server.memory_sizes(24 * gib)


def test_the_written_configuration_carries_the_sizes(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVGRAPH_NEO4J_PAGECACHE", "3g")
    monkeypatch.setenv("GOVGRAPH_NEO4J_HEAP", "2g")
    conf = (server._write_conf(tmp_path, free_port(), free_port()) / "neo4j.conf").read_text(encoding="utf-8")
    assert "server.memory.pagecache.size=3072m\n" in conf
    assert "dbms.memory.transaction.total.max=1024m\n" in conf, "half the heap for open transactions"
    assert "internal.dbms.bolt.netty_server_shutdown_quiet_period=0\n" in conf, "a stop without Bolt's 10 s wait"


def test_the_transaction_logs_stay_bounded(cli_home, monkeypatch, tmp_path):
    """Loading and replacing generated documents writes more log than the bound; a checkpoint by
    volume comes without being asked and deletes old logs, and the logs kept at a checkpoint stay
    under the bound (the settings scaled down a hundredfold, so that a few hundred documents pass it).

    What is kept between two checkpoints depends on how far the load ran past the last one when
    the server's checker (every few seconds) came, and each file passes its rotation size by up to
    a transaction: so the first file's deletion is waited for (a condition, not a time), and the
    size is read after the checkpoint a clean stop makes, which writes no log of its own."""
    from benchmarks.corpus import generated_records
    from etl.graph.load import load_records

    assert server.tx_log_bound() == 160 * 2**20, "the bound README and the store's settings state"
    small = {"db.tx_log.rotation.size": "512K", "db.tx_log.rotation.retention_policy": "1M size",
             "db.checkpoint.interval.volume": "1M"}
    for name, value in small.items():
        monkeypatch.setitem(server.TX_LOG_SETTINGS, name, value)
    bound = server.tx_log_bound()
    home, bolt, http = cli_home
    info = server.start(home, bolt, http)
    conn = config.Connection(info.bolt_uri, "neo4j", config.read_password_file(config.password_file(home)), "neo4j")
    logs = lambda: [p for p in home.rglob("neostore.transaction.db.*") if p.parent.name == "neo4j"]  # noqa: E731
    first = lambda: any(p.name == "neostore.transaction.db.0" for p in logs())  # noqa: E731
    with db.connect(conn) as driver:
        for seed in (7, 8):
            records = generated_records(tmp_path / f"{seed}.jsonl", 100, seed=seed)
            # Ten documents a transaction: a log file rotates only after the transaction that fills it.
            assert load_records(driver, records, batch_size=10).failures == []
        newest = max(int(p.name.rsplit(".", 1)[1]) for p in logs())
        assert newest * 512 * 2**10 > bound, "the loads wrote more log files than the bound holds"
        # Only a checkpoint deletes logs, and by time the first would come after 15 minutes.
        deadline = time.monotonic() + 180
        while first() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not first(), "no checkpoint by volume deleted the first log file"
    server.stop(home)  # a clean stop ends with a checkpoint (Community has no procedure to ask for one)
    sizes = sorted(p.stat().st_size for p in logs())
    assert sum(sizes) <= bound, f"{sum(sizes):,} bytes of transaction logs kept ({sizes}), more than {bound:,}"
    store = sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and "data" in p.parts)
    assert store < 64 * 2**20, f"the store of 200 generated documents took {store:,} bytes"
