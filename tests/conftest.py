"""Shared fixtures: tiny synthetic CIFAR-10 batches written in the official format."""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import contextlib
import os
import pickle
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bnnet.study.jobs import DataSpec

LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]


def write_fake_cifar(root: Path, n_per_batch: int = 30, seed: int = 0,
                     str_keys: bool = False, protocol: int = 4) -> Path:
    """Write data_batch_1..5, test_batch and batches.meta like the official archive.

    Class c has pixel values around 20 c + (feature index mod 7), so the classes are
    separable and per-feature statistics are not all equal.
    """
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def key(k: str):
        return k if str_keys else k.encode()

    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
             "data_batch_5", "test_batch"]
    for i, name in enumerate(names):
        labels = rng.integers(0, 10, n_per_batch)
        base = 20 * labels[:, None] + (np.arange(3072) % 7)[None, :] + 3 * i
        data = np.clip(base + rng.integers(0, 30, (n_per_batch, 3072)), 0, 255).astype(np.uint8)
        batch = {key("batch_label"): f"batch {i}".encode(), key("labels"): labels.tolist(),
                 key("data"): data,
                 key("filenames"): [f"img{i}_{j}.png".encode() for j in range(n_per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
    meta = {key("label_names"): [n.encode() for n in LABEL_NAMES],
            key("num_cases_per_batch"): n_per_batch, key("num_vis"): 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=protocol)
    return folder


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session=True`` and its children: SIGTERM,
    then SIGKILL after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def fake_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A synthetic CIFAR-10 folder (30 images per batch) and a private cache folder."""
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BNNET_DATA_DIR", raising=False)
    return write_fake_cifar(tmp_path / "data")


@pytest.fixture
def real_data_dir() -> Path:
    value = os.environ.get("BNNET_DATA_DIR")
    if not value:
        pytest.skip("set BNNET_DATA_DIR to a CIFAR-10 copy to run the real-data tests")
    return Path(value)


#: a net and schedule that train in a fraction of a second on :func:`fake_cifar`
SMALL = dict(hidden=(16,), n_s=10, cycles=1, batch_size=20, log_every=5)


@pytest.fixture
def spec(fake_cifar):
    """The run spec of :func:`fake_cifar` (30 validation images)."""
    return DataSpec(str(fake_cifar), n_val=30)
