"""Schema migrations: numbered Cypher files applied in order and recorded in the database.

Takes schema/migrations/NNNN_name.cypher (statements separated by ';' at a line end) and a
driver; applies the files not yet recorded, each recorded as a (:Migration {id, name,
checksum, applied_at}) node, so a second apply does nothing. A migration that changed after
it was applied is an error naming the file: migrations are history, add a new one instead.

After the files comes one migration the graph model derives (id ``model``): a key constraint
for every label of schema/ontology.yaml and a ``doc_key`` index for every type a document owns
(etl.graph.model.constraint_statements). Its statements are idempotent, so when the ontology
gains a label the migration is pending again and applying it adds what the label needs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import neo4j
from etl import config
from etl.errors import DataFileError
from etl.graph import db
from etl.graph import model as graph_model

_NAME = re.compile(r"^(?P<id>\d{4})_(?P<name>[a-z0-9_]+)\.cypher$")


@dataclass(frozen=True)
class Migration:
    id: str
    name: str
    path: Path
    statements: tuple[str, ...]
    checksum: str
    derived: bool = False  # made from the ontology; applied again whenever it changes


MODEL_ID = "model"


def model_migration() -> Migration:
    """The constraints and indexes the ontology's labels and owned relationship types need."""
    statements = graph_model.constraint_statements()
    checksum = hashlib.sha256("\n".join(statements).encode("utf-8")).hexdigest()[:16]
    return Migration(MODEL_ID, "ontology_keys", graph_model.ontology_path(), statements, checksum, derived=True)


def read_migrations(folder: Path | None = None) -> list[Migration]:
    """The migration files in order, each split into statements, then the model's migration."""
    folder = folder or config.schema_dir() / "migrations"
    migrations = []
    for path in sorted(folder.glob("*.cypher")):
        match = _NAME.match(path.name)
        if not match:
            raise DataFileError(f"{path}: a migration file is named NNNN_name.cypher (e.g. 0004_add_index.cypher)")
        text = path.read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
        statements = tuple(s.strip() for s in re.split(r";\s*$", body, flags=re.M) if s.strip())
        if not statements:
            raise DataFileError(f"{path}:1: the migration has no statement")
        checksum = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        migrations.append(Migration(match["id"], match["name"], path, statements, checksum))
    ids = [m.id for m in migrations]
    if len(ids) != len(set(ids)):
        raise DataFileError(f"{folder}: two migrations share a number: {sorted(i for i in ids if ids.count(i) > 1)}")
    return [*migrations, model_migration()]


def applied(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE) -> list[dict]:
    """The migrations recorded in the database, oldest first."""
    return db.read(
        driver,
        "MATCH (m:Migration) RETURN m.id AS id, m.name AS name, m.checksum AS checksum, "
        "toString(m.applied_at) AS applied_at ORDER BY m.id",
        database=database,
    )


_SCHEMA_OBJECT = re.compile(r"^(?P<verb>CREATE|DROP)\s+(?P<kind>CONSTRAINT|(?:\w+\s+)?INDEX)\s+(?P<name>\w+)",
                            re.I)


def _undone_later(statements: list[str]) -> set[int]:
    """The positions of statements creating a constraint or index that a later one of ``statements``
    drops. Pending migrations are applied together, so such a pair leaves the schema as it found
    it; run, the creation can fail on data a bulk import put there first (two documents of one
    content hash against 0001's document_doc_id, which 0004 drops)."""
    undone, dropped = set(), set()
    for position in reversed(range(len(statements))):
        match = _SCHEMA_OBJECT.match(statements[position])
        if not match:
            continue
        kind = match["kind"].split()[-1].upper()
        if match["verb"].upper() == "DROP":
            dropped.add((kind, match["name"]))
        elif (kind, match["name"]) in dropped:
            undone.add(position)
    return undone


def pending(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE,
            folder: Path | None = None) -> list[Migration]:
    """The migrations not yet applied (or, for the model's, applied in another version), in order."""
    done = {row["id"]: row for row in applied(driver, database)}
    waiting = []
    for migration in read_migrations(folder):
        recorded = done.get(migration.id)
        if recorded and not (migration.derived and recorded["checksum"] != migration.checksum):
            if recorded["checksum"] != migration.checksum:
                raise DataFileError(
                    f"{migration.path}: changed after it was applied to the database "
                    "(checksum differs); put the change in a new migration file"
                )
            continue
        waiting.append(migration)
    return waiting


def apply(driver: neo4j.Driver, database: str = config.DEFAULT_DATABASE,
          folder: Path | None = None) -> list[Migration]:
    """Apply the pending migrations in order; return those applied now."""
    now = []
    waiting = pending(driver, database, folder)
    statements = [statement for migration in waiting for statement in migration.statements]
    skipped = _undone_later(statements)
    position = 0
    for migration in waiting:
        for statement in migration.statements:
            if position not in skipped:
                # Schema commands cannot share a transaction with data writes, so each runs alone.
                db.write(driver, statement, database=database)
            position += 1
        db.write(
            driver,
            "MERGE (m:Migration {id: $id}) SET m.name = $name, m.checksum = $checksum, m.applied_at = datetime()",
            {"id": migration.id, "name": migration.name, "checksum": migration.checksum},
            database=database,
        )
        now.append(migration)
    return now
