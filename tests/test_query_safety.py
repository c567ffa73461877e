"""Query packs stay read-only in fact, on the real server: the plan is checked before a run.

The load-time text checks are in test_queries_files.py; here a Query built past them (as a
library caller could) still cannot end another session's transaction or read a URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import neo4j
from etl.errors import QueryError
from etl.graph import db
from etl.outputs import queries


def built(cypher: str) -> queries.Query:
    """A Query that never went through the pack loader."""
    return queries.Query("hostile", "q", "d", (), (), cypher, Path("hostile/q.cypher"), 1)


def test_terminate_of_another_sessions_transaction_is_refused_and_it_commits(neo4j_driver):
    other = neo4j_driver.session()
    tx = other.begin_transaction()
    try:
        tx.run("CREATE (:SafetyProbe {name: 'kept'})").consume()
        ids = db.read(neo4j_driver, "SHOW TRANSACTIONS YIELD transactionId, currentQuery "
                                    "RETURN transactionId AS id, currentQuery AS q")
        assert len(ids) >= 2  # the open transaction and the SHOW itself
        for cypher in (
            "SHOW TRANSACTIONS YIELD transactionId TERMINATE TRANSACTIONS transactionId "
            "YIELD message RETURN message",
            "TERMINATE TRANSACTIONS $ids",
        ):
            query = queries.Query("hostile", "q", "d", (queries.Param("ids", "list", None, True),)
                                  if "$ids" in cypher else (), (), cypher, Path("hostile/q.cypher"), 1)
            params = {"ids": [row["id"] for row in ids]} if "$ids" in cypher else {}
            with pytest.raises(QueryError, match="hostile/q.cypher:1: 'TERMINATE TRANSACTIONS' ends other sessions'"):
                queries.run_query(neo4j_driver, query, params)
        tx.commit()
    finally:
        other.close()
    assert db.read(neo4j_driver, "MATCH (p:SafetyProbe) RETURN p.name AS name") == [{"name": "kept"}]


def test_plan_check_refuses_what_the_text_check_misses(neo4j_driver):
    # Written as the server sees it: the operators, whatever the spelling.
    explain = neo4j_driver.session(default_access_mode=neo4j.READ_ACCESS)
    try:
        for cypher, refusal in (
            ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "refused operator TerminateTransactions@neo4j"),
            ("LOAD CSV FROM 'http://127.0.0.1:9/x.csv' AS row RETURN row", "refused operator LoadCSV@neo4j"),
            ("CALL db.createLabel('X')", "would write to the database (query type 'w')"),
            ("CALL dbms.components() YIELD name RETURN name", "query type 's'"),
        ):
            summary = explain.execute_read(queries._explain, cypher, {})
            assert refusal in queries.plan_refusal(summary)
        reading = explain.execute_read(queries._explain, "CALL db.labels() YIELD label RETURN label", {})
        assert queries.plan_refusal(reading) == ""
    finally:
        explain.close()


def test_load_csv_never_reaches_the_url(neo4j_driver):
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"a\n1\n")

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/x.csv"
        with pytest.raises(QueryError, match="'LOAD CSV' reads files or URLs outside the graph"):
            queries.run_query(neo4j_driver, built(f"LOAD CSV FROM '{url}' AS row RETURN row"))
    finally:
        httpd.shutdown()
    assert hits == []


def test_show_transactions_reads(neo4j_driver):
    rows = queries.run_query(neo4j_driver, built("SHOW TRANSACTIONS YIELD transactionId RETURN count(*) AS n"))
    assert rows[0]["n"] >= 1
