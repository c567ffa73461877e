"""Extract stage: source files in, records.jsonl out.

Takes paths (files or folders); for each file runs read → normalize → segment → the spaCy
pipeline → resolve and assembly, and returns DocumentRecords. ``extract_corpus`` writes
them to <out>/records.jsonl sorted by their path relative to the corpus root, whatever the
number of worker processes, and replaces the previous file only when the new one is complete.

No document can stop a run. Each document is extracted in a worker process (``--workers N``
of them, one when N is 1) that the parent watches: an exception in any stage, a document
over the time limit (the worker is killed) and a worker that dies (kill -9, a segfault, the
kernel's out-of-memory killer) each become one failure line naming the document, the stage,
the exception type and its message, and a new worker takes the remaining documents.
``extract_source`` is the one call that extracts a document, in a worker or in a library user.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import signal
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from etl.errors import ReadError
from etl.extract.reuse import reusable, write_manifest
from etl.graph.records import DocumentRecord
from etl.input.read import MAX_CHARACTERS, Scan, Source, escape_name, refuse, scan

# Stages a document goes through, named in failure lines.
STAGES = ("read", "normalize", "segment", "extract", "serialize")
# Wall-clock seconds one document may take in a worker before it is killed and reported: about
# four times what a million characters took on an idle core when this was set (150 s), room for
# a busy machine; a document near MAX_CHARACTERS needs a higher --time-limit.
DOCUMENT_SECONDS = 600.0
# A failure line's message is cut here: a message can carry a whole document.
MAX_MESSAGE = 500
# The garbage collector's first threshold in an extracting process (Python's default is 700).
# Extracting a document makes and frees a few hundred thousand containers, holds fewer than this
# many at a time and leaves no reference cycles (gc.collect() after the benchmark corpus finds
# none): at 700 the collector ran about 17 times a document for nothing, 3 % of the extraction's
# CPU (0.19-0.23 s of 6-7 s on benchmarks/extract.py's 0.5 MB), and memory peaked the same at both.
YOUNG_OBJECTS = 20_000


@dataclass
class ExtractSummary:
    documents: int = 0
    sentences: int = 0
    entities: Counter = field(default_factory=Counter)
    relations: int = 0
    quantities: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    out: Path | None = None
    # Documents whose record of the previous extraction into the same folder was kept (etl.extract.reuse).
    reused: int = 0
    # Each failure as (path, stage, reason), the rows of <out>/failed.tsv.
    failed: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Extraction:
    """One document's record and what went wrong without stopping it (bytes that did not decode)."""

    record: DocumentRecord
    warnings: tuple[str, ...] = ()


def extract_source(source: Source, at: Callable[[str], None] = lambda stage: None) -> Extraction:
    """Extract one found file into its record, with ``path`` and ``doc`` from ``source``.

    ``at`` is told each stage as it starts, so a caller can say where a failure happened.
    Exceptions propagate: isolation is the caller's (``extract_corpus``) business.
    """
    from etl.input import normalize, segment

    at("read")
    raw = _read(source.path)
    at("normalize")
    norm = normalize.normalize(raw)
    if len(norm.text) > MAX_CHARACTERS:
        raise refuse(source.path, f"{len(norm.text):,} characters after normalizing, over the limit of "
                                  f"{MAX_CHARACTERS:,} per document")
    at("segment")
    sentences = segment.segment(norm.text)
    at("extract")
    record = _assembler().record(norm, sentences, _nlp()(norm.text))
    return Extraction(record.model_copy(update={"doc": source.name, "path": source.rel}), raw.warnings)


def extract_text_document(path: Path) -> DocumentRecord:
    """Extract one file into its record; raises GovgraphError for a file that cannot be read."""
    return extract_source(Source(path, escape_name(path.name), escape_name(str(path)))).record


def _read(path: Path):
    from etl.input import read

    return read.read_document(path)


def _nlp():
    """The pipeline, allowed texts up to MAX_CHARACTERS (and some room for normalizing): spaCy's
    default max_length of a million guards parsers that need ~1 GB per 100k characters; this
    pipeline's tokenizer and rule components need a few hundred bytes per character."""
    from etl.extract.pipeline import build_nlp

    nlp = build_nlp()
    nlp.max_length = max(nlp.max_length, 2 * MAX_CHARACTERS)
    return nlp


def _warm_up() -> None:
    """Build the pipeline, the assembler, the word tables, normalize's and the date finder's
    rules and the analyser's model before the first document (and so before worker processes
    fork and share them), then leave them out of the garbage collector's full rounds: they live
    as long as the process, and walking their millions of objects again at every full
    collection cost a few percent of an extraction. The collector then runs only when
    YOUNG_OBJECTS more objects are alive than at its last run (see YOUNG_OBJECTS)."""
    from etl.extract import analyser, learned, places, quantity_model
    from etl.input import dates, normalize

    _nlp()
    _assembler()
    learned.default_model()
    quantity_model.default_model()
    quantity_model.features()
    places.load_tables()
    normalize.load_tables()
    dates.load_patterns()
    analyser.warm_up()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


@functools.cache
def _assembler():
    """One Assembler a process: it reads the lexicon and rule files once."""
    from etl.extract.assemble import Assembler

    return Assembler()


@dataclass
class _Extracted:
    """One document's records.jsonl line and its counts: what a worker sends back.

    Workers serialize their record themselves, so the parent only writes text; sending
    pydantic models between processes made the parent the bottleneck of --workers 2.
    """

    line: str
    doc_id: str
    sentences: int
    relations: int
    quantities: int
    entities: dict[str, int]
    warnings: tuple[str, ...]


def failure_line(shown: str, stage: str, kind: str, message: str) -> str:
    """``<path>: <stage>: <ExceptionType>: <message>`` on one line, whatever the name or message hold.
    ``shown`` is escaped already (a Source's or a Fault's); escaping it again would double its
    backslashes and name another file."""
    message = " ".join(message.split("\n")) if message else "(no message)"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "…"
    return f"{shown}: {stage}: {escape_name(kind)}: {escape_name(message)}"


def _attempt(source: Source, stage_cell) -> tuple[_Extracted | None, str | None, bool]:
    """Extract one document in a worker: (result, None, keep going) or (None, failure line, …).

    A MemoryError leaves the worker's heap in an unknown state: the worker reports it and exits.
    """
    current = [STAGES[0]]

    def at(stage: str) -> None:
        current[0] = stage
        stage_cell.value = STAGES.index(stage)

    try:
        done = extract_source(source, at)
        at("serialize")
        record = done.record
        counts = {label: len(names) for label, names in record.entities.items()}
        return _Extracted(record.to_json(), record.doc_id, len(record.sentences), len(record.relations),
                          len(record.quantities), counts, done.warnings), None, True
    except Exception as exc:  # noqa: BLE001 — any failure of one document is reported, not raised
        message = getattr(exc, "reason", None) or str(exc)
        line = failure_line(source.shown, current[0], type(exc).__name__, message)
        return None, line, not isinstance(exc, MemoryError)


def _worker_main(conn: Connection, stage_cell) -> None:
    """A worker: take (index, source) jobs until told to stop (None) or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, source = job
        extracted, failure, keep_going = _attempt(source, stage_cell)
        conn.send((index, extracted, failure, keep_going))
        if not keep_going:
            return


class _Worker:
    """One worker process, its end of the pipe, the stage it is at and the job it holds."""

    def __init__(self, context) -> None:
        self.stage = context.RawValue("i", 0)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, self.stage), daemon=True)
        self.process.start()
        child.close()
        self.job: tuple[int, Source] | None = None
        self.seconds = 0.0
        self.deadline = 0.0

    def give(self, job: tuple[int, Source], seconds: float) -> None:
        self.stage.value = 0
        self.job, self.seconds, self.deadline = job, seconds, time.monotonic() + seconds
        self.conn.send(job)

    def stop(self) -> None:
        """Ask the worker to leave, and kill it if it does not within a few seconds."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=5)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def death(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "an unknown signal"
            return f"the worker process was killed by signal {-code} ({name})"
        return f"the worker process exited with status {code}"


def _run_isolated(sources: list[Source], workers: int, seconds: float,
                  on_result: Callable[[int, _Extracted | None, str | None], None]) -> None:
    """Extract every source in worker processes, each result passed to ``on_result`` as it comes.

    Written here rather than with multiprocessing.Pool or concurrent.futures: a Pool hangs on a
    job whose worker died, and a ProcessPoolExecutor fails every pending job and cannot say
    which document killed it. Here each worker holds one document at a time, so a dead or
    overrunning worker is charged to exactly that document and replaced.
    """
    context = multiprocessing.get_context("fork")
    queue = deque(enumerate(sources))
    pool: list[_Worker] = []
    retried: set[int] = set()

    def assign(worker: _Worker | None) -> None:
        """Give the next document to ``worker``, or to a new one if it is gone (None, or dead idle)."""
        for _ in range(3):
            if worker is None:
                worker = _Worker(context)
                pool.append(worker)
            try:
                worker.give(queue[0], seconds)
            except OSError:  # it died between documents: nothing of a document is lost
                worker.job = None
                worker.kill()
                pool.remove(worker)
                worker = None
                continue
            queue.popleft()
            return
        index, source = queue.popleft()
        on_result(index, None, failure_line(source.shown, STAGES[0], "WorkerDied", "no worker process would start"))

    try:
        for _ in range(min(workers, len(sources))):
            assign(None)
        while any(w.job for w in pool):
            busy = [w for w in pool if w.job]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for worker in busy:
                result = _poll(worker, ready)
                if result is None:
                    continue
                index, extracted, failure, keep_going = result
                if failure and failure.endswith(_AGAIN) and index not in retried:
                    # Another process's memory, an operator's kill: a death is not proof against the
                    # document, so it gets one more worker before it is reported.
                    retried.add(index)
                    queue.appendleft(worker.job)
                else:
                    on_result(index, extracted, failure)
                worker.job = None
                if not keep_going:  # dead, killed, or leaving after a MemoryError: replace it
                    worker.stop()
                    pool.remove(worker)
                if queue:
                    assign(worker if keep_going else None)
    finally:
        for worker in pool:  # busy ones only on an exception (Ctrl-C): they need not finish
            worker.stop() if worker.job is None else worker.kill()


# Said of a worker that died on a document twice: the second time in a fresh worker.
_AGAIN = ", twice (the second time in a fresh worker)"


def _poll(worker: _Worker, ready: set) -> tuple[int, _Extracted | None, str | None, bool] | None:
    """The worker's result if it has one, a failure line if it died or overran, else None."""
    index, source = worker.job
    if worker.conn in ready or worker.process.sentinel in ready:
        try:
            if worker.conn.poll():
                return worker.conn.recv()
        except (EOFError, OSError):
            pass
        worker.process.join(timeout=1)
        if worker.process.is_alive():  # a readable pipe with nothing to read: not a result yet
            return None
        stage = STAGES[worker.stage.value]
        return index, None, failure_line(source.shown, stage, "WorkerDied", worker.death() + _AGAIN), False
    if time.monotonic() >= worker.deadline:
        stage = STAGES[worker.stage.value]
        worker.kill()
        return index, None, failure_line(
            source.shown, stage, "TimeoutError",
            f"took longer than {worker.seconds:g} s, the limit per document; the worker was stopped"), False
    return None


def extract_corpus(
    paths: list[Path],
    out: Path,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    seconds: float | None = None,
    found: Scan | None = None,
    engine: Callable | None = None,
) -> ExtractSummary:
    """Extract every file under ``paths`` into ``out``/records.jsonl; return a summary.

    ``found`` is the paths' scan when the caller has made it already (etl.run checks the corpus
    before anything starts), so the corpus is walked once.
    ``engine`` spreads the documents over processes (``etl.extract.engines``); by default the
    local one, with ``workers`` processes and ``seconds`` the limit per document.

    Files and folders that could not be walked or extracted are listed in ``failures`` (one
    line each, without the ``failed: `` the CLI puts before them) and the others are written;
    raises ReadError when the paths hold no file at all, before anything is written.
    """
    from etl.files import atomic_write

    found = found if found is not None else scan(paths)
    if not found.sources and not found.faults:
        shown = ", ".join(escape_name(str(p)) for p in paths)
        raise ReadError(f"no files to extract in {shown}; govgraph reads .txt, .html, .docx and .pdf files")
    summary = ExtractSummary(out=out / "records.jsonl")
    summary.failures.extend(failure_line(f.shown, "find", f.kind, f.reason) for f in found.faults)
    summary.failed.extend((f.shown, "find", escape_name(f"{f.kind}: {f.reason}")) for f in found.faults)
    # Unchanged documents keep their record; only the others go to the engine.
    results: dict[int, _Extracted] = {index: _reused(line) for index, line in reusable(found.sources, out).items()}
    summary.reused = len(results)
    todo = [index for index in range(len(found.sources)) if index not in results]

    def on_result(position: int, extracted: _Extracted | None, failure: str | None) -> None:
        index = todo[position]
        if extracted is not None:
            results[index] = extracted
        else:
            summary.failures.append(failure)
            summary.failed.append(_failure_row(found.sources[index], failure))
        if progress:
            progress(len(results) + len(summary.failures) - len(found.faults), len(found.sources))

    if engine is None:
        from etl.extract.engines import local

        engine = local(workers, seconds)
    engine([found.sources[i] for i in todo], on_result)
    summary.warnings.extend(_warnings(found.sources, results))
    try:
        summary.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReadError(f"cannot create the folder {summary.out.parent}: {exc.strerror}") from None
    # Sources are sorted by their path relative to the root, so the index order is the path order.
    with atomic_write(summary.out) as handle:
        for index in sorted(results):
            done = results[index]
            handle.write(done.line + "\n")
            summary.documents += 1
            summary.sentences += done.sentences
            summary.relations += done.relations
            summary.quantities += done.quantities
            for label, count in done.entities.items():
                summary.entities[label] += count
    summary.failures.sort()
    summary.failed.sort()
    write_manifest(out, paths)
    write_failed(out, summary.failed)
    return summary


def _reused(line: str) -> _Extracted:
    """A record kept from the previous extraction, counted as a new one would be."""
    import json

    item = json.loads(line)
    return _Extracted(line, item["doc_id"], len(item.get("sentences", ())), len(item.get("relations", ())),
                      len(item.get("quantities", ())),
                      {label: len(names) for label, names in item.get("entities", {}).items()}, ())


def _failure_row(source: Source, line: str) -> tuple[str, str, str]:
    """(path, stage, reason) of a failure line ``<shown>: <stage>: <reason>`` about ``source``."""
    rest = line[len(source.shown) + 2:] if line.startswith(source.shown + ": ") else line
    stage, _, reason = rest.partition(": ")
    return source.shown, stage, reason


FAILED = "failed.tsv"


def write_failed(out: Path, rows: list[tuple[str, str, str]]) -> Path | None:
    """<out>/failed.tsv, one row a failed document (path, stage, reason), or no such file when
    nothing failed (an old one is removed: it would speak of another run)."""
    import csv
    import io

    from etl.files import write_text

    path = out / FAILED
    if not rows:
        path.unlink(missing_ok=True)
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(("path", "stage", "reason"))
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


def _warnings(sources: list[Source], results: dict[int, _Extracted]) -> list[str]:
    """Per document, what did not stop it; per set of paths with the same bytes, one line."""
    lines = [f"{sources[i].shown}: {escape_name(w)}" for i in sorted(results) for w in results[i].warnings]
    same: dict[str, list[int]] = defaultdict(list)
    for index in sorted(results):
        same[results[index].doc_id].append(index)
    for indices in same.values():
        if len(indices) > 1:
            first, *others = (sources[i].shown for i in indices)
            lines.append(f"{first}: same content as {', '.join(others)} (each extracted as its own document)")
    return sorted(lines)
