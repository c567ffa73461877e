"""No document, name, limit, kill or full disk can stop an extract or lose what it already wrote.

Real documents (the dev reports in ../shared/dev/raw, copied into temporary folders) run next
to one made to fail: a stage made to raise, to kill its own worker or to hang inside the test
(monkeypatched before the workers fork), a file name no terminal line can hold, a zip bomb, a
text longer than spaCy's default limit. The good records must be complete and byte-identical
to a run without the bad document, for one worker and for two.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etl import config
from etl.cli import app
from etl.extract import extract_corpus
from etl.graph.records import parse_record
from etl.input import normalize, read

DEV = config.PROJECT_ROOT.parent / "shared" / "dev" / "raw"
pytestmark = pytest.mark.skipif(not DEV.is_dir(), reason="shared/dev is not beside the repo")
GOOD = ("d101.txt", "d107.txt", "d203.txt", "d305.txt")


def corpus(folder: Path, names=GOOD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(DEV / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> bytes:
    """records.jsonl of the good documents alone."""
    root = tmp_path_factory.mktemp("baseline")
    summary = extract_corpus([corpus(root / "in")], root / "out")
    assert summary.failures == [] and summary.documents == len(GOOD)
    return summary.out.read_bytes()


def with_bad(tmp_path: Path, name: str = "d102-bad.txt") -> tuple[Path, Path]:
    """The good documents and one more (a real report's text under another name)."""
    root = corpus(tmp_path / "in")
    shutil.copyfile(DEV / "d109.txt", root / name)
    return root, root / name


def provoke(monkeypatch, module: str, function: str, name: str, action) -> None:
    """Make one stage function run ``action`` for the document called ``name``, itself for the rest."""
    import importlib

    target = importlib.import_module(module)
    original = getattr(target, function)

    def stage(document):  # a Path (read) or a RawDocument (normalize): both have the file's name
        if document.name == name:
            action()
        return original(document)

    monkeypatch.setattr(target, function, stage)


def raise_runtime() -> None:
    raise RuntimeError("provoked\nsecond line of the message")


@pytest.mark.parametrize("workers", [1, 2])
def test_an_exception_in_one_document_leaves_the_others_byte_identical(tmp_path, monkeypatch, baseline, workers):
    root, bad = with_bad(tmp_path)
    provoke(monkeypatch, "etl.input.normalize", "normalize", bad.name, raise_runtime)
    summary = extract_corpus([root], tmp_path / "out", workers=workers)
    assert summary.failures == [f"{bad}: normalize: RuntimeError: provoked second line of the message"]
    assert summary.out.read_bytes() == baseline


def segfault() -> None:
    import ctypes

    ctypes.string_at(0)  # reads address 0: SIGSEGV


@pytest.mark.parametrize(("workers", "death", "signalled"), [
    (1, lambda: os.kill(os.getpid(), signal.SIGKILL), "signal 9 (SIGKILL)"),
    (2, lambda: os.kill(os.getpid(), signal.SIGKILL), "signal 9 (SIGKILL)"),
    (2, segfault, "signal 11 (SIGSEGV)"),
], ids=["kill-1-worker", "kill-2-workers", "segfault-2-workers"])
def test_a_worker_killed_in_a_document_is_one_line_and_the_run_goes_on(tmp_path, monkeypatch, baseline, workers,
                                                                        death, signalled):
    root, bad = with_bad(tmp_path, "d100-first.txt")  # first in the order: the rest follows its death
    provoke(monkeypatch, "etl.input.read", "read_document", bad.name, death)
    summary = extract_corpus([root], tmp_path / "out", workers=workers)
    assert summary.failures == [
        f"{bad}: read: WorkerDied: the worker process was killed by {signalled}, twice (the second time "
        "in a fresh worker)"]
    assert summary.out.read_bytes() == baseline


def test_a_worker_killed_once_from_outside_costs_no_document(tmp_path, monkeypatch, baseline):
    """The first worker to read the document is killed (as an out-of-memory killer might pick it);
    the document is tried once more in a fresh worker and extracted."""
    root, bad = with_bad(tmp_path, "d100-first.txt")
    marker = tmp_path / "killed-once"

    def kill_the_first_time():
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)

    provoke(monkeypatch, "etl.input.read", "read_document", bad.name, kill_the_first_time)
    summary = extract_corpus([root], tmp_path / "out", workers=2)
    assert (summary.failures, summary.documents) == ([], len(GOOD) + 1)
    lines = summary.out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert json.loads(lines[0])["path"] == bad.name
    assert "".join(lines[1:]).encode() == baseline


def test_a_memory_error_is_one_line_and_a_fresh_worker_takes_the_rest(tmp_path, monkeypatch, baseline):
    root, bad = with_bad(tmp_path, "d100-first.txt")

    def exhaust():
        raise MemoryError()

    provoke(monkeypatch, "etl.input.read", "read_document", bad.name, exhaust)
    summary = extract_corpus([root], tmp_path / "out", workers=1)
    assert summary.failures == [f"{bad}: read: MemoryError: (no message)"]
    assert summary.out.read_bytes() == baseline


@pytest.mark.parametrize("workers", [1, 2])
def test_a_document_over_the_time_limit_is_stopped_and_reported(tmp_path, monkeypatch, baseline, workers):
    root, bad = with_bad(tmp_path)
    provoke(monkeypatch, "etl.input.read", "read_document", bad.name, lambda: time.sleep(600))
    started = time.monotonic()
    summary = extract_corpus([root], tmp_path / "out", workers=workers, seconds=8)
    assert summary.failures == [
        f"{bad}: read: TimeoutError: took longer than 8 s, the limit per document; the worker was stopped"]
    assert summary.out.read_bytes() == baseline
    assert time.monotonic() - started < 300, "the hung worker was not waited for"


def test_cli_one_line_per_failure_whatever_the_name_and_exit_status_1(tmp_path):
    root = corpus(tmp_path / "in", GOOD[:1])
    forged = root / "x\nfailed: forged: read: ReadError: nothing.txt"
    forged.write_bytes(bytes(range(256)) * 4)
    result = CliRunner().invoke(app, ["extract", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert failed == [f"failed: {root}/x\\nfailed: forged: read: ReadError: nothing.txt: read: ReadError: "
                      "binary file, not text"]
    assert len((tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_a_name_that_is_not_utf8_is_escaped_in_the_record(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    name = os.fsdecode(b"r\xff\xfe.txt")
    shutil.copyfile(DEV / GOOD[0], root / "sub" / name)
    summary = extract_corpus([root], tmp_path / "out")
    assert (summary.documents, summary.failures) == (1, [])
    line = summary.out.read_text(encoding="utf-8")
    record = parse_record(line)
    assert (record.doc, record.path) == ("r\\xff\\xfe.txt", "sub/r\\xff\\xfe.txt")


def test_identity_is_the_path_under_the_root_and_the_same_name_twice_is_two_documents(tmp_path):
    root = tmp_path / "in"
    for folder, source in (("b", GOOD[0]), ("a", GOOD[1]), ("a/deeper", GOOD[2])):
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEV / source, root / folder / "report.txt")
    summary = extract_corpus([root], tmp_path / "out")
    records = [json.loads(line) for line in summary.out.read_text(encoding="utf-8").splitlines()]
    assert [(r["path"], r["doc"]) for r in records] == [
        ("a/deeper/report.txt", "report.txt"), ("a/report.txt", "report.txt"), ("b/report.txt", "report.txt")]
    assert summary.warnings == []
    single = extract_corpus([root / "a" / "report.txt"], tmp_path / "single")
    assert json.loads(single.out.read_text(encoding="utf-8"))["path"] == "report.txt"


def test_identical_content_under_two_paths_is_one_warning_and_both_are_extracted(tmp_path):
    root = corpus(tmp_path / "in", GOOD[:2])
    shutil.copyfile(DEV / GOOD[0], root / "copy.txt")
    result = CliRunner().invoke(app, ["extract", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {root}/copy.txt: same content as {root}/{GOOD[0]} "
                        "(each extracted as its own document)"]
    paths = [json.loads(line)["path"] for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    assert paths == ["copy.txt", *GOOD[:2]]


def test_missing_path_and_empty_folder_are_one_error_line_each(tmp_path):
    (tmp_path / "empty").mkdir()
    for argument, message in (("missing", "no such file or folder: {}"),
                              ("empty", "no files to extract in {}; govgraph reads .txt, .html, .docx and .pdf files")):
        path = tmp_path / argument
        result = CliRunner().invoke(app, ["extract", str(path), "--out", str(tmp_path / "out")])
        assert (result.exit_code, result.output) == (1, f"Error: {message.format(path)}\n")
    assert not (tmp_path / "out" / "records.jsonl").exists()


# --- bounded work per document --------------------------------------------------------------

def _peak_rss_mb(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run a command under a fresh Python whose only children are it and its workers; their peak RSS."""
    probe = ("import resource, subprocess, sys; "
             "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(done.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.stderr.write(done.stderr)")
    run = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                         cwd=config.PROJECT_ROOT, timeout=600)
    code, peak = run.stdout.split()[:2]
    return subprocess.CompletedProcess(args, int(code), "", run.stderr), int(peak) / 1024


def zip_bomb(path: Path, inflated: int = 200 * read.MB) -> Path:
    """A .docx whose document.xml inflates to ``inflated`` bytes from a few hundred kilobytes."""
    import docx

    document = docx.Document()
    document.add_paragraph("X县水土保持工作总结")
    document.save(path.with_suffix(".seed.docx"))
    with zipfile.ZipFile(path.with_suffix(".seed.docx")) as seed, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in seed.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, seed.read(item))
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
                         b'openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            block = b" " * read.MB
            for _ in range(inflated // read.MB):
                member.write(block)
            member.write(b"</w:body></w:document>")
    path.with_suffix(".seed.docx").unlink()
    return path


def test_a_zip_bomb_fails_fast_with_bounded_memory(tmp_path):
    root = corpus(tmp_path / "in", GOOD[:1])
    bomb = zip_bomb(root / "bomb.docx")
    assert bomb.stat().st_size < read.MB
    done, peak = _peak_rss_mb([sys.executable, "-m", "etl.cli", "extract", str(root), "--out", str(tmp_path / "o")])
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and re.fullmatch(
        rf"failed: {re.escape(str(bomb))}: read: ReadError: unpacks to 20\d MB \(20\d MB of XML\), over the "
        rf"limits of {read.MAX_DOCX_UNPACKED // read.MB} MB \({read.MAX_DOCX_XML // read.MB} MB of XML\) per .docx; "
        r"save it as \.txt",
        failed[0]), failed
    assert len((tmp_path / "o" / "records.jsonl").read_text(encoding="utf-8").splitlines()) == 1
    assert peak < 600, f"peak resident memory {peak:.0f} MB"


def test_a_long_text_is_extracted_and_one_over_the_limit_is_one_line(tmp_path, monkeypatch):
    """Just over a million characters passes spaCy's default max_length of a million. The rules
    alone read it: the limits are the pipeline's, and the learned model's judging of a million
    characters of one paragraph repeated is most of the time, not what is tested."""

    monkeypatch.setenv("GOVGRAPH_MODELS", str(tmp_path / "no-models"))
    paragraph = (DEV / "d101.txt").read_text(encoding="utf-8").strip() + "\n"
    root = tmp_path / "in"
    root.mkdir()
    long = root / "long.txt"
    long.write_text(paragraph * (1_000_000 // len(paragraph) + 1), encoding="utf-8")
    too_long = root / "too_long.txt"
    too_long.write_text("河长制。" * (read.MAX_CHARACTERS // 4 + 1), encoding="utf-8")
    assert len(normalize.normalize(read.read_document(long)).text) > 1_000_000  # what spaCy is given
    # Generous: this checks the length limits, not speed (a loaded machine is slow on a million characters).
    summary = extract_corpus([root], tmp_path / "out", seconds=3600)
    assert summary.failures == [
        f"{too_long}: read: ReadError: {read.MAX_CHARACTERS + 4:,} characters, over the limit of "
        f"{read.MAX_CHARACTERS:,} per document; split the file"]
    assert summary.documents == 1
    record = parse_record(summary.out.read_text(encoding="utf-8"))
    assert record.doc == "long.txt" and len(record.sentences) > 1000


# --- atomic outputs ---------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs: room for a few records, not for fifteen."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_keeps_the_previous_records_and_says_so(tmp_path, small_disk):
    first = CliRunner().invoke(app, ["extract", str(corpus(tmp_path / "few", GOOD[:2])), "--out", str(small_disk)])
    assert first.exit_code == 0
    before = (small_disk / "records.jsonl").read_bytes()
    result = CliRunner().invoke(app, ["extract", str(corpus(tmp_path / "all", sorted(p.name for p in DEV.iterdir()))),
                                      "--out", str(small_disk)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        1, f"Error: {small_disk / 'records.jsonl'}: could not be written (no space left on the device); "
           "the previous file is unchanged")
    assert (small_disk / "records.jsonl").read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["extraction.json", "records.jsonl"]


SLOW_WRITE = """
import sys, time
import etl.files
original = etl.files.atomic_write

class Slow:
    def __init__(self, handle):
        self.handle = handle
    def write(self, text):
        self.handle.write(text)
        self.handle.flush()
        time.sleep(0.5)

import contextlib
@contextlib.contextmanager
def slow_atomic_write(path, *args, **kwargs):
    with original(path, *args, **kwargs) as handle:
        yield Slow(handle)

etl.files.atomic_write = slow_atomic_write
from etl.cli import app
sys.argv = ["govgraph", *sys.argv[1:]]
app()
"""


def test_kill_9_while_writing_leaves_the_previous_records_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "out"
    root = corpus(tmp_path / "in")
    first = extract_corpus([corpus(tmp_path / "one", GOOD[:1])], out)
    before = first.out.read_bytes()
    # A real `govgraph extract` whose writes are slowed (half a second a line) so the kill lands mid-write.
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "extract", str(root), "--out", str(out)],
                               cwd=config.PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not [p for p in out.iterdir() if p.name.endswith(".tmp") and p.stat().st_size > 0]:
            assert time.monotonic() < deadline and process.poll() is None, "the write never started"
            time.sleep(0.02)
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert (out / "records.jsonl").read_bytes() == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")], "the killed write left its temporary"
    second = extract_corpus([root], out)
    assert second.documents == len(GOOD)
    assert sorted(p.name for p in out.iterdir()) == ["extraction.json", "records.jsonl"]


def test_atomic_write_keeps_the_previous_file_on_an_exception_and_its_mode(tmp_path):
    from etl import files

    target = tmp_path / "out.csv"
    files.write_text(target, "old\n")
    target.chmod(0o640)
    with pytest.raises(RuntimeError), files.atomic_write(target) as handle:
        handle.write("half")
        raise RuntimeError("stopped mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    files.write_bytes(target, b"new\n")
    assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"new\n", 0o640)


def test_a_temporary_left_by_a_dead_process_is_removed_and_a_live_ones_kept(tmp_path):
    from etl import files

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".report.html.{dead.stdout.strip()}.abc123.tmp"
    live = tmp_path / f".report.html.{os.getppid()}.def456.tmp"
    stale.write_text("cut")
    live.write_text("being written")
    files.write_text(tmp_path / "report.html", "<html></html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "report.html"]


def test_an_export_on_a_full_disk_keeps_the_previous_file(small_disk):
    import networkx as nx

    from etl.errors import OutputError
    from etl.outputs.export.graph import write_graph

    small = nx.MultiDiGraph()
    small.add_edge("梧州市", "河长制", key="ADOPTS")
    write_graph(small, small_disk / "graph.json", "json")
    before = (small_disk / "graph.json").read_bytes()
    big = nx.MultiDiGraph()
    big.add_edges_from((f"地区{i}", f"机制{i}", "ADOPTS") for i in range(5000))
    with pytest.raises(OutputError) as info:
        write_graph(big, small_disk / "graph.json", "json")
    assert str(info.value) == (f"{small_disk / 'graph.json'}: could not be written (no space left on the device); "
                               "the previous file is unchanged")
    assert (small_disk / "graph.json").read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["graph.json"]
