"""Training runs on a Dask cluster (``distributed``, an optional dependency: imported only
when a scheduler is given)."""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from bnnet.cifar10 import DataError, ensure_cifar10, find_batches_dir
from bnnet.core.config import Config
from bnnet.study.jobs import DataSpec, RunResult, train_run
from bnnet.study.provenance import file_md5s

#: The Dask scheduler that :func:`bnnet.study.runs.run_many` uses when none is given.
SCHEDULER_ENV = "BNNET_DASK_SCHEDULER"

Fingerprint = tuple[tuple[str, str], ...]


def insecure_address(address: str) -> str | None:
    """The warning for a scheduler address that is neither encrypted nor on this machine
    (``tcp://`` or no scheme, to a host that is not a loopback address), else ``None``.
    Looks only at the text: nothing is resolved or connected."""
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return None  # tls://, inproc://, ucx:// ...
    host = urlsplit(f"//{rest}").hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    return (f"bnnet: the Dask scheduler address {address} is unencrypted and "
            f"unauthenticated: anyone who can reach {rest} can run code on the workers; use "
            "tls:// with certificates (see docs/guides/cluster.md, Clusters and TLS)")


def run_on_cluster(scheduler: str, jobs: list[tuple[int, Config, DataSpec]],
                   probe: int) -> Iterator[tuple[int, RunResult]]:
    """Train each job ``(i, config, spec)`` on the cluster; yield ``(i, result)`` as results
    arrive. A worker that dies mid-run costs only that run, which the scheduler gives to
    another worker. Each worker trains on its own copy of the data, checked (md5) to be
    the driver's."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError(f"the Dask scheduler {scheduler} asks for a Dask cluster, but the "
                           "distributed package is not installed: pip install -r "
                           "requirements.txt") from None
    warning = insecure_address(scheduler)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # the md5s of each run's data folder, which its worker's copy must match (once per folder)
    fingerprints = {i: _data_md5s(find_batches_dir(spec.data_dir)) for i, _, spec in jobs}
    try:
        # TLS as Dask users configure it: distributed.comm.tls.* in the dask config (a YAML
        # file or DASK_DISTRIBUTED__COMM__TLS__... variables), read by Client's Security()
        client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as e:
        raise RuntimeError(
            f"cannot reach the Dask scheduler at {scheduler} ({e}). Start one with `dask "
            f"scheduler` and workers with `dask worker {scheduler}` (docs/guides/cluster.md), "
            f"or give no scheduler (nor {SCHEDULER_ENV}) to train on this machine.") from None
    with client:
        batch = uuid.uuid4().hex[:8]
        futures = {client.submit(_worker_train, config, spec, probe, fingerprints[i],
                                 key=f"bnnet-run-{batch}-{i}", pure=False): i
                   for i, config, spec in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


@functools.lru_cache(maxsize=4)
def _data_md5s(folder: Path) -> Fingerprint:
    return file_md5s(folder)


@functools.lru_cache(maxsize=4)
def _worker_data_dir(fingerprint: Fingerprint) -> str:
    """The data folder of this worker process (its BNNET_DATA_DIR, or a download), checked
    to hold the driver's data. Once per worker process."""
    from distributed import get_worker  # runs on a worker: distributed is there

    where = f"Dask worker {get_worker().address}"
    try:
        folder, _ = ensure_cifar10()
    except DataError as e:
        raise DataError(f"{where}: {e}\nSet BNNET_DATA_DIR for that worker (BNNET_DATA_DIR="
                        "/path/to/cifar-10-batches-py dask worker tcp://...) or let it reach "
                        "the download site.") from None
    if _data_md5s(folder) != fingerprint:
        raise DataError(f"{where}: its CIFAR-10 copy at {folder} differs from the driver's "
                        "(md5 of the batch files), so its runs would not be comparable; point "
                        "its BNNET_DATA_DIR at the same copy.")
    return str(folder)


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


@functools.lru_cache(maxsize=1)
def _worker_allocator() -> bool:
    """Undo, once per worker process, what distributed's nanny sets for its workers
    (``MALLOC_TRIM_THRESHOLD_=65536``, its ``pre-spawn-environ`` default): a fixed trim
    threshold switches off glibc's dynamic mmap threshold, so every large NumPy temporary
    of a training step is mapped and unmapped again, and a fit runs ~50 % slower. Large
    thresholds give the step's arrays back to the heap, as in a plain process. Returns
    whether the C library took them (not glibc: nothing to undo)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)
                and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20))


def _worker_train(config: Config, spec: DataSpec, probe: int,
                  fingerprint: Fingerprint) -> RunResult:
    """One run on a Dask worker, on the worker's own copy of the data (loaded once per
    worker process: :meth:`DataSpec.load` is cached), with the allocator of a plain
    process (:func:`_worker_allocator`)."""
    _worker_allocator()
    local = DataSpec(_worker_data_dir(fingerprint), n_val=spec.n_val, seed=spec.seed,
                     split=spec.split, n_train=spec.n_train)
    return train_run(config, local, probe)
