"""Shared fixtures: a real Neo4j for every test that needs one.

- ``neo4j_conn`` (session): an etl.config.Connection. With NEO4J_URI set (and NEO4J_PASSWORD),
  that server is used; otherwise the embedded server is started on free ports with a
  throw-away working folder, and stopped when the session ends.
- ``neo4j_driver`` (session): a verified neo4j.Driver on that connection.
- ``clean_db`` (autouse, per module): after each test module, once the session has a driver, every
  node, relationship, constraint and index is dropped, so modules do not see each other's data.
- ``free_port()``: a helper that returns a port nobody listens on.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import neo4j
from etl import config
from etl.graph import db
from etl.neo4j import server

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


_STARTED: list[neo4j.Driver] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def neo4j_conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[config.Connection]:
    if os.environ.get("NEO4J_URI"):
        yield db.connection()
        return
    home = tmp_path_factory.mktemp("neo4j-home")
    old = os.environ.get("NEO4J_PASSWORD")
    os.environ.pop("NEO4J_PASSWORD", None)
    try:
        info = server.start(home, free_port(), free_port(), exit_with_parent=True)
        password = config.read_password_file(config.password_file(home))
        yield config.Connection(info.bolt_uri, config.DEFAULT_USER, password, config.DEFAULT_DATABASE)
    finally:
        server.stop(home)
        if old is not None:
            os.environ["NEO4J_PASSWORD"] = old


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_conn: config.Connection) -> Iterator[neo4j.Driver]:
    driver = db.connect(neo4j_conn)
    _STARTED.append(driver)
    yield driver
    _STARTED.clear()
    driver.close()


def changed_version(line: str, mechanism: str, doc_id: str = "ffffffffffffffff") -> dict:
    """A new version of a records.jsonl line (same file, new doc_id) that no longer names a mechanism."""
    changed = json.loads(line)
    changed["doc_id"] = doc_id
    changed["entities"]["Mechanism"] = [m for m in changed["entities"]["Mechanism"] if m != mechanism]
    changed["relations"] = [r for r in changed["relations"] if mechanism not in r[:3]]
    changed["mentions"] = [m for m in changed["mentions"] if m["name"] != mechanism]
    return changed


def wipe(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE) -> None:
    """Drop all data, constraints and indexes (Community has one user database to share)."""
    # In batches: one transaction deleting a large graph exceeds the transaction memory cap.
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
        session.run("MATCH (n) CALL { WITH n DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    for row in db.read(driver, "SHOW CONSTRAINTS YIELD name RETURN name", database=database):
        driver.execute_query(f"DROP CONSTRAINT `{row['name']}` IF EXISTS", database_=database)
    indexes = db.read(
        driver, "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name", database=database
    )
    for row in indexes:
        driver.execute_query(f"DROP INDEX `{row['name']}` IF EXISTS", database_=database)


@pytest.fixture(autouse=True, scope="module")
def clean_db() -> Iterator[None]:
    yield
    if _STARTED:
        wipe(_STARTED[0])
