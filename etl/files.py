"""Output files that are either complete or not there: every file the tool writes goes through here.

Takes a target path and the content (or a handle to write it through); the content goes to a
temporary file in the target's own folder, is flushed and fsynced, and only then renamed over
the target (``os.replace`` is atomic within one file system). A kill -9, a full disk or an
exception while writing leaves the previous file exactly as it was; the temporary file is
removed on any failure Python sees, and one left behind by a killed process is removed by the
next write to the same target.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from etl.errors import OutputError

TEMP_SUFFIX = ".tmp"
# What a spreadsheet (Excel, LibreOffice, Sheets) reads as the start of a formula in a CSV cell
# (OWASP, CSV injection): =, +, -, @, tab and carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a string starting like a formula gets a leading '.

    Only strings: a number (-3.5) is data, not a formula. Every CSV meant for spreadsheets
    (query and report CSVs, review.csv) writes its cells through here.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a handle whose content replaces ``path`` only when the ``with`` block ends cleanly.

    ``mode`` is "w" (text) or "wb" (bytes). Raises OutputError naming the file and the reason,
    saying whether a previous version was kept, when the content cannot be written (full disk,
    read-only folder); an exception inside the block removes the temporary file and propagates.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes whole files: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    _remove_stale_temporaries(path)
    try:
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                                         suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise _failure(path, exc) from None
    temp = Path(temp_name)
    try:
        text = "b" not in mode
        with os.fdopen(fd, mode, encoding=encoding if text else None,
                       newline=newline if text else None) as handle:
            try:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise _failure(path, exc) from None
        _keep_mode(path, temp)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):  # closing flushes the last buffer: a full disk shows here too
            raise _failure(path, exc) from None
        raise
    _sync_folder(path.parent)


def write_text(path: Path | str, text: str, *, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Replace ``path`` with ``text`` atomically; returns the path."""
    with atomic_write(path, "w", encoding=encoding, newline=newline) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically; returns the path."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def _failure(path: Path, exc: OSError) -> OutputError:
    kept = "the previous file is unchanged" if path.exists() else "no file was written"
    reason = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return OutputError(f"{path}: could not be written ({reason}); {kept}")


def _keep_mode(path: Path, temp: Path) -> None:
    """mkstemp creates 0600 files; a replaced file keeps its mode, a new one gets the usual 0666 & ~umask."""
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _sync_folder(folder: Path) -> None:
    """fsync the folder so the rename itself survives a power cut (not possible everywhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove temporaries of ``path`` left by a process that no longer runs (killed mid-write)."""
    try:
        siblings = list(path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return
    for temp in siblings:
        pid = temp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                temp.unlink()


def pid_alive(pid: int) -> bool:
    """A process with this pid exists and is not a zombie (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"

