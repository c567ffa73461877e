"""The embedded Neo4j: a real Neo4j 5.26 Community server run from Maven Central artifacts.

Takes a working folder (etl.config.home_dir()) and ports; returns ServerInfo. ``install``
resolves the artifacts of neo4j/pom.xml into the cache with Maven; ``start`` writes a
neo4j.conf, sets the password of a new store with Neo4j's own ``neo4j-admin dbms
set-initial-password`` before the server first listens (so neo4j/neo4j is never accepted),
runs Neo4j's own entry point through neo4j/Launcher.java and waits until Bolt answers with
that password; a start that fails stops the java process it launched. ``stop`` shuts down
only a process that is verifiably the server it started (its command line names this
working folder and its start time is the one recorded); ``status`` says whether it runs and
whether its store is still there. Java 17 and Maven are the only prerequisites.

Layout of the working folder::

    <home>/neo4j-password         the generated password (0600), unless NEO4J_PASSWORD is set
    <home>/neo4j/conf/neo4j.conf  written at every start from the options
    <home>/neo4j/data/            the store; kept between starts
    <home>/neo4j/logs/            neo4j.log, console.log
    <home>/neo4j/server.json      pid, start time and ports of the running server
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import neo4j
from etl import config
from etl.errors import ServerError
from etl.files import pid_alive

# A first start on a busy two-core machine has taken more than two minutes.
START_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0
# Servers started with exit_with_parent keep their stdin pipe open only while the Popen
# object lives, so this process holds on to them.
_CHILDREN: dict[int, subprocess.Popen] = {}
# The parallel collector rather than G1: G1 copied a load's transaction state again at every
# young collection it survived, and its write barriers slow the writing thread. 10,000 generated
# records: server 134-136 CPU s against 155-169, GC threads 19 against 28-37.
# Its young generation fixed at half the heap, a survivor space an eighth of that (64 MiB of the
# smallest heap, 128 MiB of 2 GiB): a load transaction's state (etl.graph.load.DEFAULT_BATCH,
# about 50 MiB) is still alive at the young collections during it, and fits a survivor space
# rather than being promoted; left adaptive, the collector shrank the survivor spaces, promoted
# every batch's state and compacted the old generation every other batch. A metaspace high-water
# mark above what Neo4j's classes need spares the four full collections its growth set off at
# start (benchmarks/README.md, Loading).
JVM_FLAGS = [
    "-XX:+UseParallelGC",
    "-XX:NewRatio=1",
    "-XX:SurvivorRatio=6",
    "-XX:-UseAdaptiveSizePolicy",
    "-XX:MetaspaceSize=256m",
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
    # The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22): a pid
    # reused by another process after a reboot or a crash has another start time.
    started: int = 0

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


# Maven's batch-mode line for each file it fetched: "Downloaded from central: URL (1.2 MB at 3 MB/s)".
_DOWNLOADED = re.compile(r"^Downloaded from \S+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB) at")
_UNIT = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def installed() -> bool:
    """Whether the Neo4j artifacts of neo4j/pom.xml are in the cache already."""
    return (lib_dir() / f".complete-{_pom_version()}").exists()


def install(progress: Callable[[int, float], None] | None = None) -> Path:
    """Resolve the Neo4j artifacts into the cache (once); return the lib folder.

    ``progress`` is called with the number of files and bytes Maven has downloaded so far, as
    it goes: the first resolution fetches about 160 MB, which takes a minute or more.
    """
    lib = lib_dir()
    marker = lib / f".complete-{_pom_version()}"
    if marker.exists():
        return lib
    mvn = _require("mvn", "maven")
    _require("java", "openjdk-17-jre-headless")
    if lib.exists():
        shutil.rmtree(lib)
    command = [
        mvn, "-B",
        "-f", str(config.neo4j_dir() / "pom.xml"),
        f"-Dmaven.repo.local={config.cache_dir() / 'm2'}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
    ]
    tail: deque[str] = deque(maxlen=15)
    files, size = 0, 0.0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as maven:
        for line in maven.stdout:
            tail.append(line.rstrip())
            if match := _DOWNLOADED.match(line):
                files, size = files + 1, size + float(match.group(1)) * _UNIT[match.group(2)]
                if progress:
                    progress(files, size)
    if maven.returncode != 0:
        raise ServerError("Maven could not resolve the Neo4j artifacts of neo4j/pom.xml:\n" + "\n".join(tail))
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


def _any_free_port(avoid: int = 0) -> int:
    """A port nobody listens on now, as the system hands them out."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != avoid:
            return port


def _port_to_use(name: str, asked: int | None, default: int, avoid: int = 0) -> int:
    """The port a new server listens on: the one asked for, which must be free; else the default,
    or a free one when another program (another Neo4j) holds the default. Commands find the
    server again from server.json, so the port it took needs no setting."""
    if asked is not None:
        if not _port_free(asked):
            raise ServerError(f"port {asked} ({name}) is already in use by another program; "
                              f"choose another with --{name.lower()}-port or stop that program")
        return asked
    return default if default != avoid and _port_free(default) else _any_free_port(avoid)


def _proc_start_time(pid: int) -> int | None:
    """The start time of a process in clock ticks since boot, or None when there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Fields after the parenthesized command name start at field 3; the start time is field 22.
    return int(fields[19])


def _is_our_server(info: ServerInfo) -> bool:
    """Whether the recorded pid is still the server started for this working folder: same start
    time, and a command line that runs the launcher on this folder."""
    if not pid_alive(info.pid) or _proc_start_time(info.pid) != info.started:
        return False
    try:
        argv = Path(f"/proc/{info.pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return False
    return "Launcher.java" in " ".join(argv) and f"--home-dir={_server_dir(Path(info.home))}" in argv


def store_dir(home: Path) -> Path:
    """The store of the neo4j database in a working folder."""
    return _server_dir(home) / "data" / "databases" / "neo4j"


# Memory of the server, as shares of the machine's with a cap: a 10,000-report store is about
# 2.5 GB, and with the former fixed 256 MB page cache and 1 GB heap a load of it slowed to a
# crawl past 6,000 reports (README, Figures). The heap is reserved whole at start (_heap_flags);
# both become resident only as they are used. Half the heap may hold open transactions' state
# (a load batch of 100 documents takes about 50 MiB).
PAGECACHE_SHARE, PAGECACHE_CAP, PAGECACHE_FLOOR = 1 / 8, 4 * 2**30, 512 * 2**20
HEAP_SHARE, HEAP_CAP, HEAP_FLOOR = 1 / 8, 2 * 2**30, 2**30
_SIZE = re.compile(r"^([1-9][0-9]*)([kmg]?)$", re.I)


def machine_memory() -> int:
    """Physical memory of this machine in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _size_from_env(name: str) -> int | None:
    """A size such as 512m or 4g from an environment variable, in bytes; None when it is not set."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    match = _SIZE.match(value)
    if not match:
        raise ServerError(f"{name}={value!r} is not a size; write it as a number of bytes with k, m or g "
                          "(for instance 512m or 4g)")
    size = int(match.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[match.group(2).lower()]
    if size < 128 * 2**20:
        raise ServerError(f"{name}={value} is too small for Neo4j; give at least 128m")
    return size


def memory_sizes(total: int | None = None) -> tuple[int, int]:
    """(page cache, heap) of the embedded server in bytes.

    Each is an eighth of the machine's memory: the page cache from 512 MiB to 4 GiB, the heap
    from 1 GiB to 2 GiB. GOVGRAPH_NEO4J_PAGECACHE and GOVGRAPH_NEO4J_HEAP (512m, 4g…) set
    them instead.
    """
    total = total or machine_memory()
    pagecache = max(PAGECACHE_FLOOR, min(PAGECACHE_CAP, int(total * PAGECACHE_SHARE)))
    heap = max(HEAP_FLOOR, min(HEAP_CAP, int(total * HEAP_SHARE)))
    return (_size_from_env("GOVGRAPH_NEO4J_PAGECACHE") or pagecache, _size_from_env("GOVGRAPH_NEO4J_HEAP") or heap)


def _megabytes(size: int) -> str:
    return f"{size // 2**20}m"


def _heap_flags(heap: int) -> list[str]:
    """The heap's initial and largest size, the same.

    A heap that starts small makes the collector keep a small young generation while it grows: a load's
    transaction state then outlives young collections, and GC threads and old-generation
    marking took about a third of the server's processor time loading 3,000 generated reports
    (README, Figures).
    """
    return [f"-Xms{_megabytes(heap)}", f"-Xmx{_megabytes(heap)}"]


# Transaction logs bounded. By default each log file is preallocated at its rotation size
# (256 MB) and logs are kept two days, which made a store of 11 documents 519 MB. Here a file
# rotates at 16 MB (after the transaction that passes it), a checkpoint comes after each 64 MB of
# log (by default every 15 minutes; logs are deleted only after one), and it deletes the files
# past the newest 64 MB: the logs stay under tx_log_bound() (160 MB) plus a load's largest
# transaction (about 35 MB at the default batch), however much is loaded.
TX_LOG_SETTINGS = {
    "db.tx_log.preallocate": "false",
    "db.tx_log.rotation.size": "16M",
    "db.tx_log.rotation.retention_policy": "64M size",
    "db.checkpoint": "VOLUME",
    "db.checkpoint.interval.volume": "64M",
}


def tx_log_bound(settings: dict[str, str] = TX_LOG_SETTINGS) -> int:
    """Bytes the transaction logs stay under with these settings: the logs kept after a
    checkpoint, those written until the next one, and the file being written and the one
    before it (a file is deleted whole)."""
    def size(text: str) -> int:
        number, unit = text.split()[0][:-1], text.split()[0][-1].upper()
        return int(number) * {"K": 2**10, "M": 2**20, "G": 2**30}[unit]

    return (size(settings["db.tx_log.rotation.retention_policy"]) + size(settings["db.checkpoint.interval.volume"])
            + 2 * size(settings["db.tx_log.rotation.size"]))


def _write_conf(home: Path, bolt_port: int, http_port: int) -> Path:
    base = _server_dir(home)
    conf_dir = base / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    pagecache, heap = memory_sizes()
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
        "server.memory.pagecache.size": _megabytes(pagecache),
        "dbms.memory.transaction.total.max": _megabytes(heap // 2),
        "dbms.usage_report.enabled": "false",
        # Bolt's event loops wait out a quiet period of 5 s each (two of them) before a stop
        # returns, after the databases have closed: every stop took 10 s more for nothing.
        # An internal setting of the Neo4j version pom.xml pins (strict validation refuses an
        # unknown one, so a version that dropped it fails at start, not silently).
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        **TX_LOG_SETTINGS,
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
    """The server.json of ``home``, or None when there is none, it does not parse, or it was
    written for another folder (copied from one: its server is not this folder's to stop)."""
    path = _state_file(home)
    if not path.exists():
        return None
    try:
        info = ServerInfo(**json.loads(path.read_text(encoding="utf-8")))
        return info if Path(info.home).resolve() == home.resolve() else None
    except (ValueError, TypeError, OSError):
        return None


def status(home: Path | None = None) -> ServerInfo | None:
    """The running server of this working folder, or None (also when server.json names a
    process that is not that server any more)."""
    home = (home or config.home_dir()).resolve()
    info = _read_state(home)
    if info and _is_our_server(info):
        return info
    return None


def check_store(info: ServerInfo) -> None:
    """Refuse a running server whose store was deleted under it: every write would fail."""
    store = store_dir(Path(info.home))
    if not store.is_dir():
        raise ServerError(f"Neo4j (pid {info.pid}) is running but its store {store} is gone; "
                          "stop it (govgraph neo4j stop) and start it again for an empty store")


def _launch(home: Path, bolt_port: int, http_port: int, exit_with_parent: bool) -> subprocess.Popen:
    lib = install()
    java = _require("java", "openjdk-17-jre-headless")
    conf_dir = _write_conf(home, bolt_port, http_port)
    logs = _server_dir(home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = [
        java,
        *JVM_FLAGS,
        *_heap_flags(memory_sizes()[1]),
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


def _set_initial_password(home: Path, password: str) -> None:
    """Give a store that does not exist yet its password, before the server first listens.

    Neo4j's own ``neo4j-admin dbms set-initial-password`` (run through AdminTool, as
    ``import_full`` does) writes it where the new system database picks it up, so the default
    neo4j/neo4j is never accepted, not even locally for the seconds a first start takes. A
    store that exists already has its password.
    """
    if (_server_dir(home) / "data" / "databases" / "system").exists():
        return
    lib = install()
    java = _require("java", "openjdk-17-jre-headless")
    conf_dir = _write_conf(home, config.DEFAULT_BOLT_PORT, config.DEFAULT_HTTP_PORT)
    env = dict(os.environ, NEO4J_HOME=str(_server_dir(home)), NEO4J_CONF=str(conf_dir))
    # The password goes in on stdin (neo4j/SetInitialPassword.java), not on a command line others can read.
    command = [java, "-Xmx256m", "-cp", f"{lib}/*", str(config.neo4j_dir() / "SetInitialPassword.java")]
    result = subprocess.run(command, input=password + "\n", capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:]).replace(password, "***")
        raise ServerError(f"neo4j-admin dbms set-initial-password failed (status {result.returncode}):\n{tail}")


def _check_password(uri: str, password: str) -> None:
    """Wait until Bolt answers with the configured password; a store made with another is an error."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with neo4j.GraphDatabase.driver(uri, auth=(config.DEFAULT_USER, password)) as driver:
                driver.verify_connectivity()
                return
        except neo4j.exceptions.AuthError:
            raise ServerError(
                "the embedded Neo4j rejects the password: its store was created with another one. "
                "Set NEO4J_PASSWORD to that one, or remove the data folder to start afresh"
            ) from None
        except neo4j.exceptions.ServiceUnavailable:
            if time.monotonic() > deadline:
                raise ServerError(f"Neo4j at {uri} accepts connections but does not answer Bolt") from None
            time.sleep(0.5)


def _end(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """Stop a server this process launched (cleanly, then by force) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _running(running: ServerInfo, bolt_port: int | None, http_port: int | None) -> ServerInfo:
    """The server already running, if it answers on the ports asked for (None: any) and has its store."""
    asked = {"Bolt": (bolt_port, running.bolt_port), "HTTP": (http_port, running.http_port)}
    differ = [f"{name} port {now}, not {wanted}" for name, (wanted, now) in asked.items()
              if wanted is not None and wanted != now]
    if differ:
        raise ServerError(f"Neo4j (pid {running.pid}) already runs on {' and '.join(differ)}; "
                          "to change ports stop it first: govgraph neo4j stop")
    check_store(running)
    return ServerInfo(**{**asdict(running), "already_running": True})


def start(
    home: Path | None = None,
    bolt_port: int | None = None,
    http_port: int | None = None,
    *,
    exit_with_parent: bool = False,
    timeout: float = START_TIMEOUT,
) -> ServerInfo:
    """Start the embedded server and return once Bolt answers with the configured password.

    Ports left None are the running server's, or the defaults (7687, 7474) for a new start,
    or free ports when another program holds a default; a port asked for must be free, and a
    running server on other ports than those asked for is an error, not silently reused.
    With ``exit_with_parent`` the server stops when this process ends (tests use it);
    otherwise it runs detached until ``stop``. A start that fails stops what it launched.
    """
    home = (home or config.home_dir()).resolve()
    for name, port in (("bolt", bolt_port), ("http", http_port)):
        if port is not None and not 1 <= port <= 65535:
            raise ServerError(f"--{name}-port {port} is not a port; use 1 to 65535")
    running = status(home)
    if running:
        return _running(running, bolt_port, http_port)
    if len(password := config.ensure_password(home)) < 8:
        raise ServerError("NEO4J_PASSWORD must have at least 8 characters (Neo4j's own minimum)")
    bolt_port = _port_to_use("Bolt", bolt_port, config.DEFAULT_BOLT_PORT)
    http_port = _port_to_use("HTTP", http_port, config.DEFAULT_HTTP_PORT, avoid=bolt_port)
    _set_initial_password(home, password)
    process = _launch(home, bolt_port, http_port, exit_with_parent)
    try:
        _wait_for_bolt(process, home, bolt_port, timeout)
        _check_password(f"bolt://127.0.0.1:{bolt_port}", password)
        info = ServerInfo(pid=process.pid, bolt_port=bolt_port, http_port=http_port, home=str(home),
                          started=_proc_start_time(process.pid) or 0)
        _state_file(home).write_text(json.dumps(asdict(info)), encoding="utf-8")
    except BaseException:
        _end(process)
        raise
    if exit_with_parent:
        _CHILDREN[process.pid] = process
    return info


def stop(home: Path | None = None, timeout: float = STOP_TIMEOUT) -> ServerInfo | None:
    """Shut the server down cleanly and wait for it to exit; return what was stopped, or None.

    Only a process that is verifiably the server started for this folder gets a signal: a
    server.json left behind, whose pid now belongs to another process, is removed, not obeyed.
    """
    home = (home or config.home_dir()).resolve()
    info = status(home)
    _state_file(home).unlink(missing_ok=True)
    if info is None:
        return None
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(info.pid):
        if time.monotonic() > deadline:
            os.kill(info.pid, signal.SIGKILL)
            raise ServerError(f"Neo4j (pid {info.pid}) did not stop within {timeout:.0f} s and was killed")
        time.sleep(0.2)
    child = _CHILDREN.pop(info.pid, None)
    if child is not None:
        child.wait()
    return info
