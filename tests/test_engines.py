"""Extraction engines: the Dask engine writes the local engine's records.jsonl, byte for byte,
and a Dask worker killed in the middle of a run loses no document and doubles none."""

from __future__ import annotations

import os
import signal

import pytest
from typer.testing import CliRunner

from benchmarks.corpus import generate
from etl.cli import app
from etl.errors import ConfigError
from etl.extract import extract_corpus
from etl.extract.engines import choose, dask, local

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    generate(folder, docs=16)
    return folder


@pytest.fixture(scope="module")
def local_records(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    summary = extract_corpus([corpus], out, engine=local(workers=1))
    assert summary.documents == 16 and not summary.failures
    return summary.out.read_bytes()


def test_a_local_dask_cluster_writes_the_local_engines_records(corpus, local_records, tmp_path):
    result = CliRunner().invoke(app, ["extract", str(corpus), "--out", str(tmp_path), "--engine", "dask",
                                      "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "records.jsonl").read_bytes() == local_records


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(corpus, local_records, tmp_path):
    """Two process workers behind nannies; the first finished document kills a worker that
    holds documents. Its documents go to the other worker (or to its restarted self)."""
    killed: list[int] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)

        def kill_a_busy_worker(done: int, total: int) -> None:
            if killed:
                return
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                killed.append(pids[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)

        summary = extract_corpus([corpus], tmp_path, progress=kill_a_busy_worker,
                                 engine=dask(scheduler=cluster.scheduler_address))
    assert killed, "no worker held a document when the first one was done"
    assert summary.failures == []
    assert summary.documents == 16
    assert summary.out.read_bytes() == local_records


def test_a_scheduler_address_needs_the_dask_engine():
    with pytest.raises(ConfigError, match="--engine dask"):
        choose("local", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ConfigError, match="the engines are local, dask"):
        choose("spark")
