"""Paths and connection settings in one place.

Takes the environment; returns the folders the stages read (schema/, queries/, the
sample corpus), the working folder where the embedded Neo4j keeps its data, and what the
connection settings for Neo4j are made of (etl.graph.db.connection resolves them, since
finding a running embedded server asks etl.neo4j.server). Nothing else in the package
hard-codes a path.

Environment variables:
    GOVGRAPH_HOME      working folder (default: <project>/.govgraph)
    GOVGRAPH_SCHEMA    schema folder (default: <project>/schema)
    GOVGRAPH_QUERIES   query packs folder (default: <project>/queries)
    GOVGRAPH_CACHE     Maven artifact cache (default: <project>/.cache)
    GOVGRAPH_NEO4J_PAGECACHE, GOVGRAPH_NEO4J_HEAP
                       memory of the embedded Neo4j, e.g. 4g (default: an eighth of the
                       machine's memory each, at most 4g and 2g; etl.neo4j.server.memory_sizes)
    GOVGRAPH_BOLT_PORT, GOVGRAPH_HTTP_PORT
                       ports of the embedded server (default: those of the server running
                       for the working folder, else 7687 and 7474, else free ones)
    NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from etl.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
DEFAULT_USER = "neo4j"
DEFAULT_DATABASE = "neo4j"
# Documents per load transaction (why so few: etl.graph.load, DEFAULT_BATCH).
DEFAULT_LOAD_BATCH = 100


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def home_dir() -> Path:
    """The working folder: embedded Neo4j data, logs, generated password, build output."""
    return _path_from_env("GOVGRAPH_HOME", PROJECT_ROOT / ".govgraph")


def schema_dir() -> Path:
    return _path_from_env("GOVGRAPH_SCHEMA", PROJECT_ROOT / "schema")


def queries_dir() -> Path:
    return _path_from_env("GOVGRAPH_QUERIES", PROJECT_ROOT / "queries")


def cache_dir() -> Path:
    return _path_from_env("GOVGRAPH_CACHE", PROJECT_ROOT / ".cache")


def sample_corpus_dir() -> Path:
    return PROJECT_ROOT / "corpus" / "sample"


def neo4j_dir() -> Path:
    """The pom and launcher that build the embedded server from Maven Central."""
    return PROJECT_ROOT / "neo4j"


def password_file(home: Path | None = None) -> Path:
    return (home or home_dir()) / "neo4j-password"


def read_password_file(path: Path) -> str:
    """Read a password file, refusing one that others can read."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
        )
    return path.read_text(encoding="utf-8").strip()


def ensure_password(home: Path | None = None) -> str:
    """The embedded server's password: NEO4J_PASSWORD, else the 0600 file, else a new one written there."""
    from_env = os.environ.get("NEO4J_PASSWORD")
    if from_env:
        return from_env
    path = password_file(home)
    if path.exists():
        return read_password_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return password


@dataclass(frozen=True)
class Connection:
    """Where and how to reach Neo4j."""

    uri: str
    user: str
    password: str
    database: str

    @property
    def embedded(self) -> bool:
        """Whether the URI points at this machine's loopback Bolt, where the embedded server listens."""
        return self.uri.startswith("bolt://127.0.0.1:")


def port_setting(name: str) -> int | None:
    """A port from GOVGRAPH_BOLT_PORT or GOVGRAPH_HTTP_PORT (``name`` "bolt" or "http"), or None."""
    variable = f"GOVGRAPH_{name.upper()}_PORT"
    value = os.environ.get(variable)
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"{variable}={value!r} is not a port; use 1 to 65535")
    return int(value)
