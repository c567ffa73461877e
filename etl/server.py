"""The embedded Neo4j: a real Neo4j 5.26 Community server run from Maven Central artifacts.

Takes a working folder (etl.config.home_dir()) and ports; returns ServerInfo. ``install``
resolves the artifacts of neo4j/pom.xml into the cache with Maven; ``start`` writes a
neo4j.conf, runs Neo4j's own entry point through neo4j/Launcher.java, waits until Bolt
answers and sets the password; ``stop`` shuts it down cleanly; ``status`` says whether it
runs. Java 17 and Maven are the only prerequisites.

Layout of the working folder::

    <home>/neo4j-password         the generated password (0600), unless NEO4J_PASSWORD is set
    <home>/neo4j/conf/neo4j.conf  written at every start from the options
    <home>/neo4j/data/            the store; kept between starts
    <home>/neo4j/logs/            neo4j.log, console.log
    <home>/neo4j/server.json      pid and ports of the running server
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import neo4j
from etl import config
from etl.errors import ServerError

START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
INITIAL_PASSWORD = "neo4j"
# Servers started with exit_with_parent keep their stdin pipe open only while the Popen
# object lives, so this process holds on to them.
_CHILDREN: dict[int, subprocess.Popen] = {}
JVM_FLAGS = [
    "-Xms256m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:+ExitOnOutOfMemoryError",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
]


@dataclass(frozen=True)
class ServerInfo:
    """Where a running embedded server answers."""

    pid: int
    bolt_port: int
    http_port: int
    home: str
    already_running: bool = False

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"

    @property
    def log_path(self) -> Path:
        return Path(self.home) / "neo4j" / "logs" / "neo4j.log"


def lib_dir() -> Path:
    return config.cache_dir() / "neo4j" / "lib"


def _server_dir(home: Path) -> Path:
    return home / "neo4j"


def _state_file(home: Path) -> Path:
    return _server_dir(home) / "server.json"


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise ServerError(f"'{tool}' is not on PATH; the embedded Neo4j needs it: apt-get install {package}")
    return path


def _pom_version() -> str:
    text = (config.neo4j_dir() / "pom.xml").read_text(encoding="utf-8")
    return text.split("<neo4j.version>")[1].split("</neo4j.version>")[0].strip()


def install() -> Path:
    """Resolve the Neo4j artifacts into the cache (once); return the lib folder."""
    lib = lib_dir()
    marker = lib / f".complete-{_pom_version()}"
    if marker.exists():
        return lib
    mvn = _require("mvn", "maven")
    _require("java", "openjdk-17-jre-headless")
    if lib.exists():
        shutil.rmtree(lib)
    command = [
        mvn, "-q", "-B",
        "-f", str(config.neo4j_dir() / "pom.xml"),
        f"-Dmaven.repo.local={config.cache_dir() / 'm2'}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ServerError(f"Maven could not resolve the Neo4j artifacts of neo4j/pom.xml:\n{tail}")
    marker.write_text("")
    return lib


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def _write_conf(home: Path, bolt_port: int, http_port: int) -> Path:
    base = _server_dir(home)
    conf_dir = base / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "server.default_listen_address": "127.0.0.1",
        "server.bolt.listen_address": f"127.0.0.1:{bolt_port}",
        "server.bolt.advertised_address": f"127.0.0.1:{bolt_port}",
        "server.bolt.tls_level": "DISABLED",
        "server.http.enabled": "true",
        "server.http.listen_address": f"127.0.0.1:{http_port}",
        "server.http.advertised_address": f"127.0.0.1:{http_port}",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": "true",
        # Left alone, the page cache takes about half of the machine's memory.
        "server.memory.pagecache.size": "256m",
        "dbms.memory.transaction.total.max": "512m",
        "dbms.usage_report.enabled": "false",
        "server.directories.data": str(base / "data"),
        "server.directories.logs": str(base / "logs"),
        "server.directories.run": str(base / "run"),
        "server.directories.plugins": str(base / "plugins"),
        "server.directories.import": str(base / "import"),
    }
    path = conf_dir / "neo4j.conf"
    path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    return conf_dir


def _log_tail(home: Path, lines: int = 15) -> str:
    logs = _server_dir(home) / "logs"
    text = ""
    for name in ("console.log", "neo4j.log"):
        path = logs / name
        if path.exists():
            text += path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def _read_state(home: Path) -> ServerInfo | None:
    path = _state_file(home)
    if not path.exists():
        return None
    try:
        return ServerInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def status(home: Path | None = None) -> ServerInfo | None:
    """The running server of this working folder, or None."""
    home = home or config.home_dir()
    info = _read_state(home)
    if info and _pid_alive(info.pid):
        return info
    return None


def _launch(home: Path, bolt_port: int, http_port: int, exit_with_parent: bool) -> subprocess.Popen:
    lib = install()
    java = _require("java", "openjdk-17-jre-headless")
    conf_dir = _write_conf(home, bolt_port, http_port)
    logs = _server_dir(home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [
        java,
        *JVM_FLAGS,
        f"-Dgovgraph.exitOnStdinClose={'true' if exit_with_parent else 'false'}",
        "-cp",
        f"{lib}/*",
        str(config.neo4j_dir() / "Launcher.java"),
        f"--home-dir={_server_dir(home)}",
        f"--config-dir={conf_dir}",
    ]
    env = dict(os.environ, NEO4J_HOME=str(_server_dir(home)), NEO4J_CONF=str(conf_dir))
    console = (logs / "console.log").open("ab")
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE if exit_with_parent else subprocess.DEVNULL,
        stdout=console,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=not exit_with_parent,
    )


def import_full(arguments: list[str], home: Path | None = None) -> str:
    """Run Neo4j's own ``neo4j-admin database import full neo4j ARGUMENTS`` on the embedded store.

    The server must be stopped (the importer writes the store files directly); returns the
    importer's report. This is the offline bulk path for a first load of a large corpus.
    """
    home = home or config.home_dir()
    running = status(home)
    if running:
        raise ServerError(f"the embedded Neo4j (pid {running.pid}) is running; stop it first: govgraph neo4j stop")
    lib = install()
    java = _require("java", "openjdk-17-jre-headless")
    conf_dir = _write_conf(home, config.DEFAULT_BOLT_PORT, config.DEFAULT_HTTP_PORT)
    env = dict(os.environ, NEO4J_HOME=str(_server_dir(home)), NEO4J_CONF=str(conf_dir))
    logs = _server_dir(home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # The importer writes its report of bad rows into the working directory unless told otherwise.
    command = [java, "-Xmx1g", "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool",
               "database", "import", "full", "neo4j", f"--report-file={logs / 'import.report'}", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ServerError(f"neo4j-admin database import failed (status {result.returncode}):\n{tail}")
    return result.stdout


def _wait_for_bolt(process: subprocess.Popen, home: Path, bolt_port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"Neo4j exited during start (status {process.returncode}); "
                f"last lines of its log in {_server_dir(home) / 'logs'}:\n{_log_tail(home)}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            if sock.connect_ex(("127.0.0.1", bolt_port)) == 0:
                return
        time.sleep(0.3)
    process.terminate()
    raise ServerError(
        f"Neo4j did not answer on Bolt port {bolt_port} within {timeout:.0f} s; "
        f"last lines of its log:\n{_log_tail(home)}"
    )


def _set_password(uri: str, password: str) -> None:
    """Replace the initial password at first start; later starts find it already set."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with neo4j.GraphDatabase.driver(uri, auth=(config.DEFAULT_USER, password)) as driver:
                driver.verify_connectivity()
                return
        except neo4j.exceptions.AuthError:
            break
        except neo4j.exceptions.ServiceUnavailable:
            if time.monotonic() > deadline:
                raise ServerError(f"Neo4j at {uri} accepts connections but does not answer Bolt") from None
            time.sleep(0.5)
    try:
        with neo4j.GraphDatabase.driver(uri, auth=(config.DEFAULT_USER, INITIAL_PASSWORD)) as driver:
            with driver.session(database="system") as session:
                session.run(
                    "ALTER CURRENT USER SET PASSWORD FROM $old TO $new", old=INITIAL_PASSWORD, new=password
                ).consume()
    except neo4j.exceptions.AuthError:
        raise ServerError(
            "the embedded Neo4j rejects the password: it was created with another one. "
            "Set NEO4J_PASSWORD to that one, or remove the data folder to start afresh"
        ) from None


def start(
    home: Path | None = None,
    bolt_port: int = config.DEFAULT_BOLT_PORT,
    http_port: int = config.DEFAULT_HTTP_PORT,
    *,
    exit_with_parent: bool = False,
    timeout: float = START_TIMEOUT,
) -> ServerInfo:
    """Start the embedded server and return once Bolt answers with the configured password.

    With ``exit_with_parent`` the server stops when this process ends (tests use it);
    otherwise it runs detached until ``stop``.
    """
    home = (home or config.home_dir()).resolve()
    running = status(home)
    if running:
        return ServerInfo(**{**asdict(running), "already_running": True})
    if len(password := config.ensure_password(home)) < 8:
        raise ServerError("NEO4J_PASSWORD must have at least 8 characters (Neo4j's own minimum)")
    for name, port in (("Bolt", bolt_port), ("HTTP", http_port)):
        if not _port_free(port):
            raise ServerError(
                f"port {port} ({name}) is already in use by another program; "
                f"choose another with --{name.lower()}-port or stop that program"
            )
    process = _launch(home, bolt_port, http_port, exit_with_parent)
    _wait_for_bolt(process, home, bolt_port, timeout)
    _set_password(f"bolt://127.0.0.1:{bolt_port}", password)
    if exit_with_parent:
        _CHILDREN[process.pid] = process
    info = ServerInfo(pid=process.pid, bolt_port=bolt_port, http_port=http_port, home=str(home))
    _state_file(home).write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


def stop(home: Path | None = None, timeout: float = STOP_TIMEOUT) -> ServerInfo | None:
    """Shut the server down cleanly and wait for it to exit; return what was stopped, or None."""
    home = (home or config.home_dir()).resolve()
    info = status(home)
    _state_file(home).unlink(missing_ok=True)
    if info is None:
        return None
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(info.pid):
        if time.monotonic() > deadline:
            os.kill(info.pid, signal.SIGKILL)
            raise ServerError(f"Neo4j (pid {info.pid}) did not stop within {timeout:.0f} s and was killed")
        time.sleep(0.2)
    child = _CHILDREN.pop(info.pid, None)
    if child is not None:
        child.wait()
    return info
