"""Sweeps on a Dask cluster: the same numbers as on one machine, the cache on the driver,
a killed worker survived. Each test starts its own LocalCluster on 127.0.0.1 (2 worker
processes, 1 thread each) and shuts it down."""

import gc
import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnnet import Config
from bnnet.cifar10 import DataError
from bnnet.study.jobs import DataSpec
from bnnet.study.runs import run_many
from tests.conftest import stop_process_group

distributed = pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def no_client_left_for_the_next_test():
    """Finalise, in the main thread, any Client a test left behind.

    A ``distributed.Client`` whose connection is refused raises from its constructor with
    its IO-loop thread still running, and stays alive in a reference cycle (the exception's
    traceback holds it). If the garbage collector finalises it later, inside the new IO-loop
    thread of the next test's Client, its ``close()`` waits for distributed's class-wide
    ``LoopRunner`` lock, which that Client's ``start()`` holds while it waits for the thread:
    the start gives up after 10 s with ``assert loop is not None``. That made
    ``pytest -k tls tests/test_cluster.py`` fail while each TLS test passed alone.
    """
    yield
    gc.collect()


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


CONFIGS = [Config(hidden=(32, 16), bn=bn, n_s=60, cycles=1, batch_size=20, seed=s)
           for bn in ("none", "before") for s in (0, 1)]


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


def test_workers_run_the_pinned_kernel_and_another_kernel_is_said(fake_cifar, tmp_path,
                                                                   monkeypatch):
    from bnnet import blas

    spec = DataSpec(str(fake_cifar), n_val=30)
    with local_cluster(worker_env(tmp_path, fake_cifar)) as cluster, \
            distributed.Client(cluster) as client:
        kernels = client.run(blas.loaded)
        assert {k["kernel"] for k in kernels.values()} == {blas.loaded()["kernel"]}
        remote = run_many(CONFIGS[:2], spec, scheduler=cluster.scheduler_address,
                          progress=False)
        assert {r.blas["kernel"] for r in remote} == {blas.loaded()["kernel"]}
    # workers started from a shell with another kernel (LocalCluster's env= comes too late:
    # a worker process has loaded NumPy by then)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Sandybridge")
    with local_cluster(worker_env(tmp_path, fake_cifar)) as cluster, \
            pytest.warns(blas.BlasKernelWarning, match=r"2 runs trained on another BLAS "
                         r"kernel .*\(2 on Sandybridge\): start the workers with "
                         r"OPENBLAS_CORETYPE=Haswell"):
        run_many(CONFIGS[2:], spec, scheduler=cluster.scheduler_address, progress=False)
    # not cached: they are not this machine's numbers
    assert len(list((tmp_path / "cache" / "runs").rglob("output.pkl"))) == 2


def test_a_killed_worker_costs_only_its_run(fake_cifar, tmp_path):
    configs = [Config(hidden=(64, 64), bn="before", n_s=400, cycles=1, batch_size=20,
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


def tls_files(tmp_path):
    """A CA-signed certificate for every role, as PEM files (what the cluster guide's openssl
    lines make), from distributed's own temporary security (loopback only)."""
    security = distributed.security.Security.temporary()
    files = {}
    for name, text in (("ca.pem", security.tls_ca_file), ("cert.pem", security.tls_client_cert),
                       ("key.pem", security.tls_client_key)):
        (tmp_path / name).write_text(text)
        files[name] = str(tmp_path / name)
    return security, files


def test_a_tls_cluster_runs_the_sweep_and_refuses_a_client_without_the_certificate(
        fake_cifar, tmp_path):
    import dask

    security, files = tls_files(tmp_path)
    spec = DataSpec(str(fake_cifar), n_val=30)
    reference = run_many(CONFIGS[:2], spec, n_jobs=1, cache=False, progress=False)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", protocol="tls://",
                                       security=security, dashboard_address=None,
                                       env=worker_env(tmp_path, fake_cifar))
    try:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        # the driver's certificate the standard Dask way: the dask config
        tls = {"distributed.comm.tls.ca-file": files["ca.pem"],
               "distributed.comm.tls.client.cert": files["cert.pem"],
               "distributed.comm.tls.client.key": files["key.pem"],
               "distributed.comm.require-encryption": True}
        with dask.config.set(tls):
            remote = run_many(CONFIGS[:2], spec, scheduler=address, cache=False,
                              progress=False)
        assert_same_runs(remote, reference)
        # a client without the cluster's certificate gets nowhere: one with a certificate
        # of another authority (the scheduler ends the TLS handshake: unknown CA), one
        # without any
        stranger = distributed.security.Security.temporary()
        for attempt in (lambda: distributed.Client(address, security=stranger, timeout="5s"),
                        lambda: distributed.Client(address, timeout="5s")):
            with pytest.raises((OSError, TimeoutError, TypeError)) as refused:
                attempt()
            print(f"refused: {type(refused.value).__name__}: {refused.value}")
    finally:
        cluster.close()


def test_an_open_address_to_another_machine_is_said_once_before_connecting(capsys):
    from bnnet.study.cluster import insecure_address

    for safe in ("tls://10.0.0.5:8786", "tcp://127.0.0.1:8786", "tcp://localhost:8786",
                 "tcp://[::1]:8786"):
        assert insecure_address(safe) is None, safe
    for open_ in ("tcp://10.0.0.5:8786", "10.0.0.5:8786", "tcp://cluster.example:8786"):
        warning = insecure_address(open_)
        assert "unencrypted and unauthenticated" in warning
        assert "docs/guides/cluster.md" in warning and (ROOT / "docs/guides/cluster.md").is_file()


ROOT = Path(__file__).resolve().parents[1]


def guide_block(first_line: str) -> list[str]:
    """The lines of the cluster guide's shell block that starts with ``first_line``."""
    text = (ROOT / "docs" / "guides" / "cluster.md").read_text(encoding="utf-8")
    start = text.index(f"```bash\n{first_line}")
    block = text[start + len("```bash\n"):text.index("```", start + 8)]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def start(command: str, pattern: str, env: dict, timeout: float = 60) -> tuple:
    """A server process and the first match of ``pattern`` in its stderr."""
    proc = subprocess.Popen(command, shell=True, env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return proc, match
        if not line and proc.poll() is not None:
            break
    stop_process_group(proc)
    raise AssertionError(f"{command!r} did not start: {''.join(seen)[-2000:]}")


@pytest.mark.slow
def test_the_guides_tls_recipe_works_as_written(fake_cifar, tmp_path, monkeypatch):
    """The cluster guide's openssl lines, then its scheduler, worker and driver commands, on
    127.0.0.1 (free ports): a sweep through tls:// equals n_jobs=1."""
    import dask

    folder = str(tmp_path / "tls")
    lines = [line.replace("~/.bnnet-tls", folder) for line in guide_block("mkdir -p ~/.bnnet")]
    assert any(line.startswith("openssl x509") for line in lines)
    subprocess.run(" && ".join(lines), shell=True, check=True, capture_output=True, cwd=tmp_path)
    commands = [line.replace("~/.bnnet-tls", folder)
                for line in guide_block("# on the scheduler machine")]
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "BNNET_CACHE_DIR": str(tmp_path / "worker-cache"), "OMP_NUM_THREADS": "1"}
    scheduler_line = next(c for c in commands if c.startswith("dask scheduler"))
    worker_line = next(c for c in commands if "dask worker" in c)
    scheduler, match = start(scheduler_line.replace("HOST", "127.0.0.1")
                             + " --port 0 --dashboard-address 127.0.0.1:0",
                             r"Scheduler at:\s+(tls://127\.0\.0\.1:\d+)", env)
    address = match.group(1)
    worker = None
    try:
        worker_line = worker_line.replace("tls://HOST:8786", address).replace(
            "/data/cifar-10-batches-py", str(fake_cifar))
        worker, _ = start(worker_line + " --host 127.0.0.1 --dashboard-address 127.0.0.1:0",
                          r"Registered to", env)
        for line in commands:
            if line.startswith("export "):
                name, value = line[len("export "):].split("=", 1)
                monkeypatch.setenv(name, value.replace("~", str(Path.home())))
        dask.config.refresh()
        spec = DataSpec(str(fake_cifar), n_val=30)
        remote = run_many(CONFIGS[:2], spec, scheduler=address, cache=False, progress=False)
        assert_same_runs(remote, run_many(CONFIGS[:2], spec, cache=False, progress=False))
    finally:
        if worker is not None:
            stop_process_group(worker)
        stop_process_group(scheduler)
        monkeypatch.undo()
        dask.config.refresh()
