"""The project's exceptions: one hierarchy, each message naming the thing, the place and the fix.

The CLI turns any GovgraphError into one ``Error: …`` line and exit status 1.
"""


class GovgraphError(Exception):
    """Base of every error a user can act on."""


class ConfigError(GovgraphError):
    """A setting, path or credential is missing or wrong."""


class ServerError(GovgraphError):
    """The embedded Neo4j server could not be started, stopped or reached."""


class ReadError(GovgraphError):
    """A source file could not be read as text (encoding, format, empty, binary)."""


class DataFileError(GovgraphError):
    """A lexicon, pattern, migration or query file is malformed; the message gives path:line."""


class RecordError(GovgraphError):
    """A records.jsonl line does not follow the record contract."""


class LoadError(GovgraphError):
    """Records could not be written to Neo4j."""


class QueryError(GovgraphError):
    """A query pack or query run failed (unknown name, bad parameter, write attempt, timeout)."""


class ReportError(GovgraphError):
    """The comparison report could not be written (no CJK font, unwritable folder)."""


class VizError(GovgraphError):
    """A network page could not be drawn (unknown region or mechanism, conflicting options, unwritable file)."""


class ExportError(GovgraphError):
    """A graph could not be exported (unknown format or projection, unwritable file)."""


class OutputError(GovgraphError):
    """An output file could not be written (full disk, read-only folder); the previous one is kept."""
