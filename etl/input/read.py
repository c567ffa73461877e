"""Read stage: source files in, decoded text out.

Takes paths (files or folders, read recursively) and returns one RawDocument per file:
its decoded text, the encoding found, its format and a content hash. Plain text may be
UTF-8, GBK/GB18030 or UTF-16; HTML keeps the article and drops the page around it;
.docx and text-layer PDFs are read too. A file that cannot be read raises ReadError
naming the file and the reason, so the caller can report it and go on with the rest.

``scan`` walks the paths and says what it could not walk (unreadable folders, symbolic link
loops, names too long for the system, files that are not regular files) instead of skipping
it silently; every name it hands on is escaped so it can be printed on one line and
serialized (undecodable bytes and control characters become backslash escapes).

Work per document is bounded (``MAX_FILE_BYTES``, ``MAX_HTML_BYTES``, ``MAX_DOCX_UNPACKED``,
``MAX_DOCX_XML``, ``MAX_CHARACTERS``): a file over a limit is refused with the limit in
the message, before the bytes are inflated or parsed.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from etl.errors import ReadError
from etl.input.marks import load_marks

FORMATS = {".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}
# Encodings in which Chinese government documents actually arrive; a detector's guess
# outside this family (cp1252, koi8…) for Chinese bytes is a known failure mode.
CHINESE_FAMILY = {"utf_8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf_16", "utf_16_le", "utf_16_be"}

MB = 1 << 20
# Limits of the work one document may cost (stated in README). The largest real report we
# hold is under 1 MB; these are a hundred times that, and keep a worker's memory bounded.
MAX_FILE_BYTES = 64 * MB  # any file, before it is read into memory
MAX_HTML_BYTES = 16 * MB  # a page, before lxml and trafilatura parse it (their trees take ~10x)
MAX_DOCX_UNPACKED = 256 * MB  # all members of a .docx together, as its zip directory declares them
# Its XML members, which python-docx parses into trees of about 15 times their size: at 8 MB an
# extraction worker peaked at 422 MB (benchmarks/README.md, .docx limits); at 31 MB it took 1.6 GB.
MAX_DOCX_XML = 8 * MB
MAX_DOCX_CONTENT_TYPES = MB  # its [Content_Types].xml, read first to know which members are XML
# Characters of text per document (about 6 MB of UTF-8 Chinese): a worker held about 820 MB
# extracting 1.2 million characters, so this keeps one under about 1.5 GB.
MAX_CHARACTERS = 2_000_000
# A UTF-8 file with at most one bad byte per this many good non-ASCII characters is UTF-8 with
# stray bytes (decoded, bad bytes counted); more, and it is some other encoding. GBK or Big5
# text read as UTF-8 has almost no good non-ASCII characters and about two bad bytes for each
# of its characters, so the two are far apart.
STRAY_BYTE_RATIO = 10
# An HTML page whose extracted text is at least this share link text is a navigation or list
# page, not an article.
LINK_TEXT_SHARE = 0.7


@dataclass(frozen=True)
class RawDocument:
    """One source file as text; ``doc_id`` is the first 16 hex digits of the SHA-256 of its bytes.

    ``warnings`` are faults that did not stop the reading (bytes that did not decode).
    """

    name: str
    path: Path
    text: str
    encoding: str
    format: str
    doc_id: str
    meta: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A file found by ``scan``: its path, and its identity relative to the root it was found under.

    ``rel`` is the POSIX path relative to the root argument (the file's name for a file argument)
    and ``shown`` the path as the user gave it; both are escaped (``escape_name``).
    """

    path: Path
    rel: str
    shown: str

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Fault:
    """Something under the given paths that could not be walked: its escaped path, a kind, the reason."""

    shown: str
    kind: str
    reason: str


@dataclass
class Scan:
    sources: list[Source] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def escape_name(text: str) -> str:
    r"""A file name or message printable on one line and encodable as UTF-8, one-to-one.

    Bytes that did not decode (kept by Python as surrogates, PEP 383) become ``\xNN``; control
    and other unprintable characters (newline, tab, line separators) become ``\n``-style or
    ``\xNN``/``\uNNNN`` escapes, so a name cannot forge a second output line. A backslash is
    doubled, so that two names never escape alike (``new<newline>line`` is ``new\nline``,
    a name with a backslash and an n is ``new\\nline``): a document's path is its identity.
    """
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def scan(paths: list[Path]) -> Scan:
    """Every file under the given paths (folders recursively, hidden names skipped), sorted by ``rel``,
    and one Fault for each thing that could not be walked."""
    result = Scan()
    for root in paths:
        shown = escape_name(str(root))
        try:
            info = root.stat()
        except OSError as exc:
            result.faults.append(_fault(shown, exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(root, result, {(info.st_dev, info.st_ino)})
        elif stat.S_ISREG(info.st_mode):
            result.sources.append(Source(root, escape_name(root.name), shown))
        else:
            result.faults.append(Fault(shown, "NotAFile", "not a regular file (a pipe, socket or device)"))
    result.sources.sort(key=lambda s: (s.rel, s.shown))
    result.faults.sort(key=lambda f: f.shown)
    return result


def find_sources(paths: list[Path]) -> list[Path]:
    """Every file under the given paths (folders recursively), hidden ones skipped, sorted."""
    return sorted(source.path for source in scan(paths).sources)


def _walk(root: Path, result: Scan, root_id: set[tuple[int, int]]) -> None:
    """Depth-first walk that follows symbolic links to folders but reports one that leads back
    into its own ancestry (a loop), instead of walking it forever or skipping it unsaid.
    Iterative: a folder nested thousands deep must not exhaust Python's recursion."""
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [(root, "", frozenset(root_id))]
    while stack:
        folder, prefix, ancestors = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            result.faults.append(_fault(escape_name(str(folder)), exc, folder=True))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            shown, rel = escape_name(str(path)), prefix + escape_name(entry.name)
            try:
                info = entry.stat()  # follows a symbolic link
            except OSError as exc:
                result.faults.append(_fault(shown, exc))
                continue
            if stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    result.faults.append(Fault(shown, "SymlinkLoop",
                                               "symbolic link loop: it leads back to a folder it is in"))
                else:
                    stack.append((path, rel + "/", ancestors | {key}))
            elif stat.S_ISREG(info.st_mode):
                result.sources.append(Source(path, rel, shown))
            else:
                result.faults.append(Fault(shown, "NotAFile", "not a regular file (a pipe, socket or device)"))


def _fault(shown: str, exc: OSError, folder: bool = False) -> Fault:
    if exc.errno == errno.ELOOP:
        return Fault(shown, "SymlinkLoop", "symbolic link loop: too many levels of symbolic links")
    if exc.errno == errno.ENOENT:
        return Fault(shown, "FileNotFoundError", "no such file or folder (a broken symbolic link?)")
    if exc.errno == errno.ENAMETOOLONG:
        return Fault(shown, "OSError", "the path is longer than the system allows (File name too long); "
                                       "move the folder nearer the root")
    what = "cannot list the folder" if folder else "cannot be opened"
    return Fault(shown, type(exc).__name__, f"{what} ({exc.strerror or exc})")


def refuse(path: Path, reason: str) -> ReadError:
    """A ReadError '<path>: <reason>' that also carries the bare reason (for the failed: line)."""
    error = ReadError(f"{escape_name(str(path))}: {reason}")
    error.reason = reason
    return error


def read_document(path: Path) -> RawDocument:
    """Read one file into a RawDocument, or raise ReadError('<path>: <reason>')."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise refuse(path, f"unsupported file type {escape_name(path.suffix) or '(none)'}; "
                           f"govgraph reads {', '.join(sorted(FORMATS))}")
    data = _read_bytes(path, MAX_HTML_BYTES if fmt == "html" else MAX_FILE_BYTES)
    if not data.strip():
        raise refuse(path, "empty file")
    doc_id = hashlib.sha256(data).hexdigest()[:16]
    meta: dict[str, str] = {}
    bad_bytes = 0
    if fmt == "txt":
        text, encoding, bad_bytes = decode_text(data, path)
    elif fmt == "html":
        html, encoding, bad_bytes = decode_text(data, path)
        text, meta = html_article(html, path)
    elif fmt == "docx":
        text, encoding = docx_text(data, path), "docx"
    else:
        text, encoding = pdf_text(data, path), "pdf"
    if not text.strip():
        raise refuse(path, f"no text found in the {fmt} file")
    if len(text) > MAX_CHARACTERS:
        raise refuse(path, f"{len(text):,} characters, over the limit of {MAX_CHARACTERS:,} per document; "
                           "split the file")
    warnings = (f"{bad_bytes} byte(s) not valid {encoding} replaced by U+FFFD",) if bad_bytes else ()
    return RawDocument(escape_name(path.name), path, text, encoding, fmt, doc_id, meta, warnings)


def _read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, refused before reading when it is over ``limit`` or not a regular file."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise refuse(path, "not a regular file (a pipe, socket or device)")
            if info.st_size > limit:
                raise refuse(path, f"{info.st_size / MB:.1f} MB, over the limit of {limit // MB} MB "
                                   f"for a {path.suffix} file")
            return handle.read(limit + 1)
    except OSError as exc:
        raise refuse(path, f"cannot be read ({exc.strerror or exc})") from None


def decode_text(data: bytes, path: Path) -> tuple[str, str, int]:
    """Decode bytes as UTF-8, UTF-16 or a Chinese national encoding; refuse binary data.

    Returns the text, the encoding and the number of bytes that did not decode: a UTF-8 file
    with a few stray bytes (a bad copy, a truncated character) is decoded with them replaced,
    not refused and not guessed as another encoding.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"),
                          (codecs.BOM_UTF16_BE, "utf_16")):
        if data.startswith(bom):
            return _strict(data, encoding, path), encoding.replace("_sig", ""), 0
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16:
            return (*utf16, 0)
        raise refuse(path, "binary file, not text")
    try:
        return data.decode("utf_8"), "utf_8", 0
    except UnicodeDecodeError:
        pass
    lossy = _utf8_with_stray_bytes(data)
    if lossy is not None:
        return lossy
    return (*_detect(data, path), 0)


_STRAY = re.compile("[\udc80-\udcff]")


def _utf8_with_stray_bytes(data: bytes) -> tuple[str, str, int] | None:
    """UTF-8 text in which a few bytes do not decode: the text with U+FFFD for each, and their count."""
    text = data.decode("utf_8", "surrogateescape")
    bad = len(_STRAY.findall(text))
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if good < bad * STRAY_BYTE_RATIO:
        return None
    return _STRAY.sub("\ufffd", text), "utf_8", bad


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise refuse(path, f"not valid {encoding} at byte {exc.start}") from None


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
    raise refuse(path, "binary file, not text (no text encoding fits its bytes)")


def html_article(html: str, path: Path) -> tuple[str, dict[str, str]]:
    """The article of a web page with its title and date, without navigation, ads and footers.

    A page that is all links (a site's front page, a column's list of articles) is refused as
    having no article text: trafilatura, asked to favour recall, returns its link labels.
    """
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text or _mostly_links(text, html):
        raise refuse(path, "no article text (the page holds only navigation or links)")
    meta: dict[str, str] = {}
    found = trafilatura.extract_metadata(html)
    if found is not None:
        for key in ("title", "date", "sitename"):
            value = getattr(found, key, None)
            if value:
                meta[key] = str(value)
    return text, meta


_BULLET = re.compile(r"^[-*•·\s]+")
_TRAILING_DATE = load_marks().patterns["trailing_date"]


def _mostly_links(text: str, html: str) -> bool:
    """True when at least LINK_TEXT_SHARE of the extracted text's lines are a link's label
    (a list item's trailing date counts with its link)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return False
    labels = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    labels.discard("")
    if not labels:
        return False
    total = linked = 0
    for line in text.splitlines():
        line = " ".join(_BULLET.sub("", line).split())
        if not line:
            continue
        total += len(line)
        if line in labels or _TRAILING_DATE.sub("", line) in labels:
            linked += len(line)
    return total > 0 and linked >= LINK_TEXT_SHARE * total


def docx_text(data: bytes, path: Path) -> str:
    """The paragraphs of a .docx, after its zip directory shows it inflates within the limits."""
    import docx

    _check_docx_sizes(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types for a broken package
        raise refuse(path, f"not a readable .docx file ({exc.__class__.__name__})") from None
    return "\n".join(p.text for p in document.paragraphs)


def _check_docx_sizes(data: bytes, path: Path) -> None:
    """Refuse a .docx whose members would inflate beyond MAX_DOCX_UNPACKED / MAX_DOCX_XML (a zip bomb).

    The declared sizes are enough to bound the work: zipfile never inflates a member past its
    declared size (it stops there and the CRC check fails), so a member that lies about its size
    cannot make python-docx hold more than was declared. Only deflate and stored members are
    accepted: zipfile inflates those in bounded steps. What counts as XML is what python-docx
    parses (``_parsed_as_xml``), whatever the member's name.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
            odd = [m.filename for m in members if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)]
            if odd:
                raise refuse(path, f"not a readable .docx file (member {escape_name(odd[0])} uses an unusual "
                                   "compression)")
            xml = sum(m.file_size for m in _parsed_as_xml(package, members, path))
    except (zipfile.BadZipFile, ValueError, OSError, etree.LxmlError) as exc:
        raise refuse(path, f"not a readable .docx file ({exc.__class__.__name__})") from None
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_DOCX_UNPACKED or xml > MAX_DOCX_XML:
        raise refuse(path, f"unpacks to {unpacked / MB:.0f} MB ({xml / MB:.0f} MB of XML), over the limits of "
                           f"{MAX_DOCX_UNPACKED // MB} MB ({MAX_DOCX_XML // MB} MB of XML) per .docx; "
                           "save it as .txt")


def _parsed_as_xml(package: zipfile.ZipFile, members: list[zipfile.ZipInfo], path: Path) -> list[zipfile.ZipInfo]:
    """The members python-docx parses into XML trees: the content-type list, every relationship
    part, and every part whose content type ([Content_Types].xml, by name or by extension) is XML
    or not given.

    By content type, not by name: a main part renamed in [Content_Types].xml (word/document.bin)
    was parsed in full while the limit counted only names ending in .xml (120 MB of XML, 2.8 GB).
    """
    listing = next((m for m in members if m.filename == "[Content_Types].xml"), None)
    if listing is None:
        raise refuse(path, "not a readable .docx file (no [Content_Types].xml)")
    if listing.file_size > MAX_DOCX_CONTENT_TYPES:
        raise refuse(path, f"not a readable .docx file ([Content_Types].xml of {listing.file_size / MB:.1f} MB)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(package.read(listing), parser)
    defaults = {e.get("Extension", "").lower(): e.get("ContentType", "") for e in root if _local(e) == "Default"}
    named = {e.get("PartName", "").lower(): e.get("ContentType", "") for e in root if _local(e) == "Override"}
    parsed = []
    for member in members:
        name = member.filename
        kind = named.get("/" + name.lower()) or defaults.get(name.rsplit(".", 1)[-1].lower() if "." in name else "", "")
        if member is listing or name.endswith(".rels") or not kind or "xml" in kind.lower():
            parsed.append(member)
    return parsed


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def pdf_text(data: bytes, path: Path) -> str:
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many parser-specific types for a damaged file
        raise refuse(path, f"not a readable PDF ({exc.__class__.__name__})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise refuse(path, "no text layer (a scanned PDF?); run OCR first, e.g. ocrmypdf")
    return text
