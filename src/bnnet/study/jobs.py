"""One run of the study: which data it trains on (:class:`DataSpec`), what is kept of it
(:class:`RunResult`) and the function that trains it (:func:`train_run`, which the workers
call; :func:`keyed_run` is the same as the run cache stores it)."""

from __future__ import annotations

import bnnet.blas as blas

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from bnnet.cifar10 import find_batches_dir
from bnnet.core.config import Config
from bnnet.core.data import Dataset, content_key, load_cifar10
from bnnet.core.diagnostics import layer_statistics
from bnnet.core.network import Params
from bnnet.core.train import BLAS_THREADS, Result, TrainingDivergedError, fit


@dataclass(frozen=True)
class DataSpec:
    """Which data a run trains on (see :func:`bnnet.load_cifar10`).

    ``source`` identifies the data files by their names and bytes (a copy of the same
    files has the same key); it is part of the run cache's key only, filled in by
    :meth:`pinned`. The run cache keys a run by :meth:`key`, which leaves ``data_dir``
    out: the same files in another folder are the same data.
    """

    data_dir: str | None = None
    n_val: int = 5000
    seed: int = 0
    split: str = "full"
    n_train: int | None = None
    source: str = ""

    def load(self) -> Dataset:
        return _load(dataclasses.replace(self, source=""))

    def key(self) -> tuple[str, int, int, str, int | None]:
        """What the run cache keys the data by: the files' content key and the split."""
        if not self.source:
            raise ValueError("DataSpec.key() needs the files' key: call pinned() first")
        return (self.source, self.n_val, self.seed, self.split, self.n_train)

    def pinned(self) -> DataSpec:
        """This spec with ``source`` set to the key of the files it reads now."""
        return dataclasses.replace(self, source=content_key(find_batches_dir(self.data_dir)))


@functools.lru_cache(maxsize=2)
def _load(spec: DataSpec) -> Dataset:
    return load_cifar10(spec.data_dir, n_val=spec.n_val, seed=spec.seed, split=spec.split,
                        n_train=spec.n_train)


@dataclass
class RunResult(Result):
    """A :class:`~bnnet.core.train.Result` as the study keeps it, with the per-layer
    statistics of a probed run (``layers``, one row per layer and logged ``step``) and the
    BLAS kernel it ran on (``blas``: :func:`bnnet.blas.loaded` of its process, with its NumPy
    SIMD level, :func:`bnnet.blas.simd`, under ``"simd"``)."""

    layers: pd.DataFrame | None = None
    blas: dict[str, str] = dataclasses.field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """A flat dict for a results table: the config fields and the final metrics."""
        return {**self.config.to_dict(), "val_accuracy": self.val_accuracy,
                "test_accuracy": self.test_accuracy, "seconds": self.seconds,
                "diverged": self.diverged}


def train_run(config: Config, spec: DataSpec, probe: int = 0) -> RunResult:
    """Train ``config`` on ``spec``'s data with one BLAS thread (so that parallel and
    sequential runs are bit-identical). A diverged run is a result, not an error. With
    ``probe`` > 0, per-layer statistics on the first ``probe`` training images at every
    logged step (:func:`~bnnet.core.diagnostics.layer_statistics`)."""
    data = spec.load()
    frames: list[pd.DataFrame] = []
    callback = None
    if probe:
        X_probe = data.X_train[:probe]  # layer_statistics works in float64
        y_probe = data.y_train[:probe]

        def callback(step: int, params: Params) -> None:
            stats = layer_statistics(config, X_probe, y_probe, data.n_classes, params)
            frames.append(stats.assign(step=step))

    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        try:
            result = fit(config, data, progress=False, callback=callback)
        except TrainingDivergedError as e:
            return RunResult(config, None, e.history, {}, np.nan, diverged=True,
                             message=str(e), layers=_concat(frames), blas=_machine())
    return RunResult(config, result.params, result.history, result.test, result.seconds,
                     layers=_concat(frames), blas=_machine())


def keyed_run(config: Config, data: tuple, probe: int, spec: DataSpec) -> RunResult:
    """:func:`train_run` as the run cache stores it: keyed by ``(config, data, probe)``,
    where ``data`` is ``spec.key()``; ``spec`` itself (with its folder) is not part of the
    key (the cache is built with ``ignore=["spec"]``)."""
    return train_run(config, spec, probe)


def _machine() -> dict[str, str]:
    return {**blas.loaded(), "simd": blas.simd()}


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    return pd.concat(frames, ignore_index=True) if frames else None
