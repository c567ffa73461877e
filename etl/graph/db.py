"""One way to connect to Neo4j: the embedded server, a Docker one, a cluster or Aura.

Takes etl.config.Connection; returns a verified neo4j.Driver. Reads and writes go through
the driver's managed transactions (execute_query with a routing mode), so the same code
works with bolt://, neo4j:// and neo4j+s:// URIs.
"""

from __future__ import annotations

import os
from typing import Any

import neo4j
from etl import config
from etl.config import Connection
from etl.errors import ConfigError, ServerError
from etl.neo4j import server


def embedded_bolt_port(port: int | None = None) -> int:
    """The Bolt port of the embedded server: the one given, else GOVGRAPH_BOLT_PORT, else that of
    the server running for the working folder (its server.json, whatever ports it took), else 7687."""
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"--bolt-port {port} is not a port; use 1 to 65535")
    port = port or config.port_setting("bolt")
    if port:
        return port
    running = server.status()
    return running.bolt_port if running else config.DEFAULT_BOLT_PORT


def embedded_uri(port: int | None = None) -> str:
    return f"bolt://127.0.0.1:{embedded_bolt_port(port)}"


def connection(
    uri: str | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    bolt_port: int | None = None,
) -> Connection:
    """Resolve connection settings: explicit option, then NEO4J_* variables, then the embedded server
    (on ``bolt_port`` when given, else as ``embedded_bolt_port`` finds it)."""
    uri = uri or os.environ.get("NEO4J_URI") or embedded_uri(bolt_port)
    user = user or os.environ.get("NEO4J_USER") or config.DEFAULT_USER
    database = database or os.environ.get("NEO4J_DATABASE") or config.DEFAULT_DATABASE
    if password is None:
        password = os.environ.get("NEO4J_PASSWORD")
    if password is None:
        path = config.password_file()
        if not path.exists():
            raise ConfigError(
                f"no Neo4j password: set NEO4J_PASSWORD, pass --password, "
                f"or start the embedded server once (govgraph neo4j start) to create {path}"
            )
        password = config.read_password_file(path)
    return Connection(uri=uri, user=user, password=password, database=database)


def connect(conn: Connection) -> neo4j.Driver:
    """Open a driver and check that the server answers and accepts the credentials."""
    # Schema notifications (an unknown label before the first load) are not the user's business.
    driver = neo4j.GraphDatabase.driver(conn.uri, auth=(conn.user, conn.password), notifications_min_severity="OFF")
    try:
        driver.verify_connectivity()
    except neo4j.exceptions.AuthError:
        driver.close()
        raise ConfigError(
            f"Neo4j at {conn.uri} rejected user {conn.user!r}: check --password / NEO4J_PASSWORD"
        ) from None
    except (neo4j.exceptions.ServiceUnavailable, OSError) as exc:
        driver.close()
        hint = f"start it with: {start_command(conn.uri)}" if conn.embedded else "check --uri / NEO4J_URI"
        raise ServerError(f"Neo4j at {conn.uri} does not answer ({exc}); {hint}") from None
    return driver


def start_command(uri: str) -> str:
    """The command that starts the embedded server where ``uri`` points (its port, unless the default)."""
    port = int(uri.rsplit(":", 1)[1])
    return "govgraph neo4j start" + (f" --bolt-port {port}" if port != config.DEFAULT_BOLT_PORT else "")


def ensure_embedded(uri: str | None, bolt_port: int | None = None,
                    http_port: int | None = None) -> server.ServerInfo | None:
    """Start the embedded server (or find it running, whatever its ports) when no URI names another
    server. Ports: those given, else GOVGRAPH_BOLT_PORT / GOVGRAPH_HTTP_PORT, else any."""
    if uri and uri != embedded_uri(bolt_port):
        return None
    return server.start(config.home_dir(), bolt_port or config.port_setting("bolt"),
                        http_port or config.port_setting("http"))


def read(driver: neo4j.Driver, cypher: str, params: dict[str, Any] | None = None,
         database: str = config.DEFAULT_DATABASE) -> list[dict[str, Any]]:
    """Run a read query in a managed read transaction and return its rows as dicts."""
    records, _, _ = driver.execute_query(
        cypher, params or {}, database_=database, routing_=neo4j.RoutingControl.READ
    )
    return [record.data() for record in records]


def write(driver: neo4j.Driver, cypher: str, params: dict[str, Any] | None = None,
          database: str = config.DEFAULT_DATABASE) -> neo4j.ResultSummary:
    """Run a write query in a managed write transaction and return its summary."""
    _, summary, _ = driver.execute_query(
        cypher, params or {}, database_=database, routing_=neo4j.RoutingControl.WRITE
    )
    return summary


# A node that stands while the graph is being emptied: the emptying runs in many transactions,
# and one killed half-way leaves documents whose data is partly deleted. A load that finds it
# finishes the emptying first (etl.graph.load).
EMPTYING = "Emptying"


def empty_graph(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE, batch: int = 10_000) -> int:
    """Delete every node and relationship but the migration records; return the documents removed.

    In batches of ``batch`` rows, each its own transaction: one transaction deleting a large
    graph exceeds the server's transaction memory. The ``EMPTYING`` marker is written first
    and removed last, so an emptying that was killed is finished by the next load
    (``emptying_unfinished``), never taken for a graph of whole documents. Constraints, indexes
    and the record of applied migrations stay, so the next load needs no schema work.
    """
    documents = read(driver, "MATCH (d:Document) RETURN count(d) AS n", database=database)[0]["n"]
    write(driver, f"MERGE (:{EMPTYING} {{id: 'graph'}})", database=database)
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF $batch ROWS", batch=batch).consume()
        session.run(f"MATCH (n) WHERE NOT n:Migration AND NOT n:{EMPTYING} "
                    "CALL (n) { DELETE n } IN TRANSACTIONS OF $batch ROWS", batch=batch).consume()
    write(driver, f"MATCH (m:{EMPTYING}) DELETE m", database=database)
    return documents


def emptying_unfinished(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE) -> bool:
    """Whether an emptying of the graph (``empty_graph``) began and did not finish."""
    return bool(read(driver, f"MATCH (m:{EMPTYING}) RETURN count(m) AS n", database=database)[0]["n"])
