"""Extraction engines: how the documents of a run are spread over processes and machines.

An engine takes the run's sources and a callback and calls it once per source with its index,
its result (a records.jsonl line and its counts) or its failure line; ``extract_corpus`` writes
the lines sorted by path, so every engine gives the same records.jsonl byte for byte.

- ``local`` (the default): worker processes of this machine, watched one document at a time
  (``etl.extract._run_isolated``), with the per-document time limit.
- ``dask``: every document a task on a Dask cluster: the one at ``scheduler`` (a cluster a
  researcher started, by hand or with dask-jobqueue on Slurm or PBS) or, without an address,
  a local cluster of ``workers`` processes started for the run and closed after it. A worker
  that dies mid-run loses nothing: the scheduler gives its documents to other workers, and a
  document's result is taken once, from its task, so none is missing or doubled. A document
  that kills every worker it is given (distributed's ``allowed-failures``, 3 by default) is
  reported as that document's failure, as the local engine reports it.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from etl.errors import ConfigError
from etl.extract import DOCUMENT_SECONDS, STAGES, _attempt, _Extracted, _run_isolated, _warm_up, failure_line
from etl.input.read import Source

OnResult = Callable[[int, "_Extracted | None", "str | None"], None]
Engine = Callable[[list[Source], OnResult], None]
ENGINES = ("local", "dask")


def local(workers: int = 1, seconds: float | None = None) -> Engine:
    """Worker processes of this machine (``workers`` of them), forked after the model is loaded."""

    def engine(sources: list[Source], on_result: OnResult) -> None:
        if sources:
            _warm_up()
        _run_isolated(sources, max(1, workers), seconds or DOCUMENT_SECONDS, on_result)

    return engine


def dask(scheduler: str | None = None, workers: int = 1) -> Engine:
    """Every document a task on the Dask cluster at ``scheduler``, or on a local cluster of
    ``workers`` one-thread processes started for the run."""

    def engine(sources: list[Source], on_result: OnResult) -> None:
        if sources:
            _on_dask(sources, on_result, scheduler, workers)

    return engine


def choose(name: str, workers: int = 1, seconds: float | None = None, scheduler: str | None = None) -> Engine:
    """The engine a command's ``--engine`` names; a scheduler address only means something to dask."""
    if name == "local":
        if scheduler:
            raise ConfigError("--scheduler names a Dask cluster: give it with --engine dask")
        return local(workers, seconds)
    if name == "dask":
        return dask(scheduler, workers)
    raise ConfigError(f"no extraction engine {name!r}; the engines are {', '.join(ENGINES)}")


def _on_dask(sources: list[Source], on_result: OnResult, scheduler: str | None, workers: int) -> None:
    """Submit one task a document and pass each result on as its task finishes."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("the dask engine needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        with Client(cluster or scheduler) as client:
            run = uuid.uuid4().hex[:12]
            futures = {client.submit(_task, source, key=f"govgraph-extract-{run}-{index}"): index
                       for index, source in enumerate(sources)}
            for future in as_completed(futures):
                index = futures[future]
                try:
                    extracted, failure = future.result()
                except Exception as exc:  # noqa: BLE001 — KilledWorker and the like: that document's failure
                    extracted, failure = None, failure_line(sources[index].shown, STAGES[0], type(exc).__name__,
                                                            str(exc))
                on_result(index, extracted, failure)
                future.release()
    finally:
        if cluster is not None:
            cluster.close()


class _Stage:
    """Where a document is, for its failure line (the local engine shares this through memory)."""

    value = 0


@functools.cache
def _ready() -> bool:
    """Load the rules and the model once in a Dask worker process, before its first document."""
    _warm_up()
    return True


def _task(source: Source) -> tuple[_Extracted | None, str | None]:
    """One document on a Dask worker: its result or its failure line, never an exception."""
    _ready()
    extracted, failure, _ = _attempt(source, _Stage())
    return extracted, failure
