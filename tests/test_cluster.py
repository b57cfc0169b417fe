"""Sweeps on a Dask cluster: the same numbers as on one machine, the cache on the driver,
a killed worker survived. Each test starts its own LocalCluster on 127.0.0.1 (2 worker
processes, 1 thread each) and shuts it down."""

import os
import signal
import threading
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from bnnet import Config
from bnnet.cifar10 import DataError
from bnnet.study.jobs import DataSpec
from bnnet.study.runs import run_many

distributed = pytest.importorskip("distributed")


@contextmanager
def local_cluster(worker_env: dict):
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       env=worker_env)
    try:
        yield cluster
    finally:
        cluster.close()


def worker_env(tmp_path, data_dir):
    # the workers get their own cache folder: the run cache must be written by the driver
    return {"BNNET_DATA_DIR": str(data_dir), "BNNET_CACHE_DIR": str(tmp_path / "worker-cache"),
            "OMP_NUM_THREADS": "1"}


def assert_same_runs(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.config == y.config
        pd.testing.assert_frame_equal(x.history, y.history, check_exact=True)
        assert x.test == y.test
        for layer_x, layer_y in zip(x.params, y.params, strict=True):
            for name in layer_x:
                np.testing.assert_array_equal(layer_x[name], layer_y[name])


CONFIGS = [Config(hidden=(32, 16), batch_norm=bn, n_s=60, cycles=1, batch_size=20, seed=s)
           for bn in (False, True) for s in (0, 1)]


def test_cluster_sweep_is_bit_identical_and_cached_on_the_driver(fake_cifar, tmp_path):
    spec = DataSpec(str(fake_cifar), n_val=30)
    reference = run_many(CONFIGS, spec, n_jobs=1, cache=False, progress=False)
    with local_cluster(worker_env(tmp_path, fake_cifar)) as cluster:
        remote = run_many(CONFIGS, spec, scheduler=cluster.scheduler_address, progress=False)
    assert_same_runs(remote, reference)
    driver_cache = tmp_path / "cache" / "runs"
    assert len(list(driver_cache.rglob("output.pkl"))) == len(CONFIGS)
    assert not list((tmp_path / "worker-cache").rglob("output.pkl"))  # workers wrote none
    # read back from the driver's cache: no cluster, no training, the same numbers
    again = run_many(CONFIGS, spec, scheduler=None, progress=False)
    assert_same_runs(again, reference)


def test_a_killed_worker_costs_only_its_run(fake_cifar, tmp_path):
    configs = [Config(hidden=(64, 64), batch_norm=True, n_s=400, cycles=1, batch_size=20,
                      seed=s) for s in range(6)]
    spec = DataSpec(str(fake_cifar), n_val=30)
    reference = run_many(configs, spec, n_jobs=1, cache=False, progress=False)
    with local_cluster(worker_env(tmp_path, fake_cifar)) as cluster:
        client = distributed.Client(cluster.scheduler_address)
        out: dict = {}
        sweep = threading.Thread(target=lambda: out.update(results=run_many(
            configs, spec, scheduler=cluster.scheduler_address, progress=False)))
        sweep.start()
        deadline = time.monotonic() + 60
        busy: list = []
        while not busy and time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items()
                    if any(str(t).startswith("bnnet-run") for t in tasks)]
            time.sleep(0.05)
        assert busy, "no run started on the cluster"
        pids = client.run(os.getpid)
        os.kill(pids[busy[0]], signal.SIGKILL)
        sweep.join(timeout=300)
        client.close()
    assert not sweep.is_alive()
    assert_same_runs(out["results"], reference)


def test_a_worker_without_data_fails_the_sweep_naming_it(fake_cifar, tmp_path):
    env = worker_env(tmp_path, tmp_path / "nowhere")
    with local_cluster(env) as cluster, \
            pytest.raises(DataError, match=r"(?s)Dask worker tcp://127\.0\.0\.1:\d+: .*"
                                           r"Set BNNET_DATA_DIR for that worker"):
        run_many(CONFIGS[:1], DataSpec(str(fake_cifar), n_val=30),
                 scheduler=cluster.scheduler_address, progress=False)


def test_an_unreachable_scheduler_says_what_to_start(fake_cifar):
    with pytest.raises(RuntimeError, match="dask scheduler"):
        run_many(CONFIGS[:1], DataSpec(str(fake_cifar), n_val=30),
                 scheduler="tcp://127.0.0.1:9", progress=False)
