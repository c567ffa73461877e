"""Read stage: source files in, decoded text out.

Takes paths (files or folders, read recursively) and returns one RawDocument per file:
its decoded text, the encoding found, its format and a content hash. Plain text may be
UTF-8, GBK/GB18030 or UTF-16; HTML keeps the article and drops the page around it;
.docx and text-layer PDFs are read too. A file that cannot be read raises ReadError
naming the file and the reason, so the caller can report it and go on with the rest.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from etl.errors import ReadError

FORMATS = {".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}
# Encodings in which Chinese government documents actually arrive; a detector's guess
# outside this family (cp1252, koi8…) for Chinese bytes is a known failure mode.
CHINESE_FAMILY = {"utf_8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf_16", "utf_16_le", "utf_16_be"}


@dataclass(frozen=True)
class RawDocument:
    """One source file as text; ``doc_id`` is the first 16 hex digits of the SHA-256 of its bytes."""

    name: str
    path: Path
    text: str
    encoding: str
    format: str
    doc_id: str
    meta: dict[str, str] = field(default_factory=dict)


def find_sources(paths: list[Path]) -> list[Path]:
    """Every file under the given paths (folders recursively), hidden ones skipped, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            found.add(path)
    return sorted(found)


def read_document(path: Path) -> RawDocument:
    """Read one file into a RawDocument, or raise ReadError('<path>: <reason>')."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(f"{path}: unsupported file type {path.suffix or '(none)'}; "
                        f"govgraph reads {', '.join(sorted(FORMATS))}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise ReadError(f"{path}: empty file")
    doc_id = hashlib.sha256(data).hexdigest()[:16]
    meta: dict[str, str] = {}
    if fmt == "txt":
        text, encoding = decode_text(data, path)
    elif fmt == "html":
        html, encoding = decode_text(data, path)
        text, meta = html_article(html, path)
    elif fmt == "docx":
        text, encoding = docx_text(data, path), "docx"
    else:
        text, encoding = pdf_text(data, path), "pdf"
    if not text.strip():
        raise ReadError(f"{path}: no text found in the {fmt} file")
    return RawDocument(path.name, path, text, encoding, fmt, doc_id, meta)


def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """Decode bytes as UTF-8, UTF-16 or a Chinese national encoding; refuse binary data."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"),
                          (codecs.BOM_UTF16_BE, "utf_16")):
        if data.startswith(bom):
            return _strict(data, encoding, path), encoding.replace("_sig", "")
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16:
            return utf16
        raise ReadError(f"{path}: binary file, not text")
    try:
        return data.decode("utf_8"), "utf_8"
    except UnicodeDecodeError:
        pass
    return _detect(data, path)


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not valid {encoding} at byte {exc.start}") from None


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without a BOM has NUL in every other byte of its ASCII characters."""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    order = "utf_16_le" if odd > even else "utf_16_be"
    try:
        text = data.decode(order)
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in text)
    return (text, order) if printable / max(len(text), 1) > 0.95 else None


def _detect(data: bytes, path: Path) -> tuple[str, str]:
    """charset-normalizer's best guess, kept to the Chinese family; GB18030 is the fallback.

    GB18030 is a superset of GBK and GB2312, so those guesses decode as GB18030.
    """
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding in CHINESE_FAMILY:
        encoding = "gb18030" if best.encoding in ("gbk", "gb2312") else best.encoding
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    if best is not None:
        return str(best), best.encoding
    raise ReadError(f"{path}: binary file, not text (no text encoding fits its bytes)")


def html_article(html: str, path: Path) -> tuple[str, dict[str, str]]:
    """The article of a web page with its title and date, without navigation, ads and footers."""
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text:
        raise ReadError(f"{path}: the page has no article text")
    meta: dict[str, str] = {}
    found = trafilatura.extract_metadata(html)
    if found is not None:
        for key in ("title", "date", "sitename"):
            value = getattr(found, key, None)
            if value:
                meta[key] = str(value)
    return text, meta


def docx_text(data: bytes, path: Path) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for a broken package
        raise ReadError(f"{path}: not a readable .docx file ({exc.__class__.__name__})") from None
    return "\n".join(p.text for p in document.paragraphs)


def pdf_text(data: bytes, path: Path) -> str:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many parser-specific types for a damaged file
        raise ReadError(f"{path}: not a readable PDF ({exc.__class__.__name__})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise ReadError(f"{path}: no text layer (a scanned PDF?); run OCR first, e.g. ocrmypdf")
    return text
