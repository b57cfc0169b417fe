"""Many training runs: cached on disk by their full configuration, run in parallel.

A run is keyed by the :class:`~bnnet.config.Config`, the :class:`DataSpec`, the source
key of the data files (their names, sizes and modification times) and a hash of the
modules that compute the results, so a changed configuration, split, data copy or
training code is trained again and everything else is read back.
Every run uses one BLAS thread, in a worker process or not, so that parallel and
sequential runs give bit-identical results.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from bnnet.config import Config
from bnnet.data import DataError, Dataset, cache_root, find_batches_dir, load_cifar10, source_key
from bnnet.diagnostics import layer_statistics
from bnnet.network import Params, evaluate, population_statistics
from bnnet.provenance import file_md5s, record_runs
from bnnet.train import HISTORY_COLUMNS, TrainingDivergedError, fit


@dataclass(frozen=True)
class DataSpec:
    """Which data a run trains on (see :func:`bnnet.load_cifar10`)."""

    data_dir: str | None = None
    n_val: int = 5000
    seed: int = 0
    split: str = "full"
    n_train: int | None = None

    def load(self) -> Dataset:
        return _load(self)

    def key(self) -> str:
        """Identifies the data files the spec reads (changes when they change)."""
        return source_key(find_batches_dir(self.data_dir))


RESULT_MODULES = ("augment", "config", "data", "diagnostics", "gradcheck", "layers", "network",
                  "schedule", "train")


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """Hash of the source of the modules whose code determines a run's numbers."""
    h = hashlib.sha256()
    for name in RESULT_MODULES:
        h.update((Path(__file__).with_name(f"{name}.py")).read_bytes())
    return h.hexdigest()[:16]


#: ``BNNET_PROGRESS=text``: progress bars as plain text on stderr (``make report`` reads
#: them from the kernel's stderr to show one live line per notebook) instead of widgets.
PROGRESS_ENV = "BNNET_PROGRESS"


def progress_bar(**kwargs: Any) -> tqdm:
    """A tqdm bar: a widget in JupyterLab, plain text on stderr under ``BNNET_PROGRESS=text``."""
    if os.environ.get(PROGRESS_ENV) == "text":
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm(file=sys.stderr, mininterval=0.5, **kwargs)
    return tqdm(**kwargs)


class _OneLineCacheErrors(logging.Filter):
    """joblib logs a full traceback when a cached result cannot be read (a truncated
    ``output.pkl``, say) and then recomputes it: say that in one line instead."""

    run = ""  # the run being read back, set by run_many

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Exception while loading results" in message:
            lines = [line for line in message.splitlines() if line.strip()]
            record.msg = (f"bnnet: the cached result of {self.run or 'a run'} could not be read "
                          f"({lines[-1].strip()}); training it again")
            record.args = ()
        return True


_cache_errors = _OneLineCacheErrors()
logging.getLogger("joblib").addFilter(_cache_errors)


@functools.lru_cache(maxsize=2)
def _load(spec: DataSpec) -> Dataset:
    return load_cifar10(spec.data_dir, n_val=spec.n_val, seed=spec.seed, split=spec.split,
                        n_train=spec.n_train)


@dataclass
class RunResult:
    """What is kept of one run: enough for tables, curves and later analysis."""

    config: Config
    history: pd.DataFrame
    test: dict[str, float]
    seconds: float
    params: Params | None
    diverged: bool = False
    message: str = ""
    layers: pd.DataFrame | None = None

    @property
    def test_accuracy(self) -> float:
        return self.test.get("accuracy", float("nan"))

    @property
    def val_accuracy(self) -> float:
        if self.diverged or not len(self.history):
            return float("nan")
        return float(self.history["val_accuracy"].iloc[-1])

    def row(self) -> dict[str, Any]:
        """A flat dict for a results table: the config fields and the final metrics."""
        return {**self.config.to_dict(), "val_accuracy": self.val_accuracy,
                "test_accuracy": self.test_accuracy, "seconds": self.seconds,
                "diverged": self.diverged}


def _train(config: Config, spec: DataSpec, key: str, probe: int = 0) -> RunResult:
    """One run (``key``, data and code, is only part of the cache key). With ``probe`` > 0,
    per-layer statistics on the first ``probe`` training images at every logged step."""
    del key
    data = spec.load()
    frames: list[pd.DataFrame] = []
    callback = None
    if probe:
        X_probe = data.X_train[:probe]  # layer_statistics works in float64
        y_probe = data.y_train[:probe]

        def callback(step: int, params: Params) -> None:
            stats = layer_statistics(config, X_probe, y_probe, data.n_classes, params)
            frames.append(stats.assign(step=step))

    with threadpool_limits(limits=1, user_api="blas"):
        try:
            result = fit(config, data, progress=False, callback=callback)
        except TrainingDivergedError as e:
            return RunResult(config, e.history, {}, np.nan, None, diverged=True,
                             message=str(e), layers=_concat(frames))
    return RunResult(config, result.history, result.test, result.seconds, result.params,
                     layers=_concat(frames))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    return pd.concat(frames, ignore_index=True) if frames else None


def memory(location: str | os.PathLike | None = None) -> joblib.Memory:
    """The on-disk cache of runs (``.cache/runs`` in the project by default)."""
    return joblib.Memory(location or cache_root() / "runs", verbose=0)


def run_many(
    configs: Iterable[Config],
    spec: DataSpec | Sequence[DataSpec] = DataSpec(),
    *,
    n_jobs: int = 1,
    cache: bool = True,
    progress: bool = True,
    desc: str = "runs",
    probe: int = 0,
    scheduler: str | None = None,
) -> list[RunResult]:
    """Train every configuration (cached runs are read back), in input order.

    Args:
        configs: what to train.
        spec: the data, or one data spec per configuration (so that runs on different
            splits share one batch of workers).
        n_jobs: worker processes; results do not depend on it.
        cache: read and write the on-disk cache.
        progress: a tqdm bar over the runs.
        probe: if > 0, record :func:`~bnnet.diagnostics.layer_statistics` on this many
            training images at every logged step, in ``RunResult.layers`` (with a
            ``step`` column).
        scheduler: address of a Dask scheduler (``tcp://host:8786``); default
            ``BNNET_DASK_SCHEDULER``. When set, the uncached runs go to that cluster
            whatever ``n_jobs`` says; each result is written to the cache here, on the
            driver, as soon as it comes back.
    """
    configs = list(configs)
    specs = [spec] * len(configs) if isinstance(spec, DataSpec) else list(spec)
    if len(specs) != len(configs):
        raise ValueError(f"run_many: {len(specs)} data specs for {len(configs)} configs; give "
                         "one DataSpec, or one per config")
    train = memory().cache(_train) if cache else _train
    code = code_key()
    keys = [f"{s.key()}-{code}" for s in specs]
    results: list[RunResult | None] = [None] * len(configs)
    todo = []
    for i, config in enumerate(configs):
        if cache and train.check_call_in_cache(config, specs[i], keys[i], probe):
            _cache_errors.run = (f"run {i + 1} of {desc!r} (hidden={list(config.hidden)}, "
                                  f"batch_norm={config.batch_norm}, lam={config.lam:g}, "
                                  f"seed={config.seed})")
            try:
                results[i] = train(config, specs[i], keys[i], probe)
            finally:
                _cache_errors.run = ""
        else:
            todo.append(i)
    # longest runs first, so that no worker is left with a long run while the others idle
    todo.sort(key=lambda i: -estimated_cost(configs[i]))
    bar = progress_bar(total=len(configs), initial=len(configs) - len(todo), desc=desc,
                       disable=not progress, unit="run")
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV)
    if todo and scheduler:
        for i, result in _run_on_cluster(scheduler, configs, todo, specs, keys, probe):
            if cache:
                _store(train, (configs[i], specs[i], keys[i], probe), result)
            results[i] = result
            bar.update()
    elif n_jobs == 1 or len(todo) <= 1:
        for i in todo:
            results[i] = train(configs[i], specs[i], keys[i], probe)
            bar.update()
    else:
        # as each run finishes (not in submission order), so that the bar moves with them
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        outputs = parallel(joblib.delayed(_indexed)(train, i, configs[i], specs[i], keys[i],
                                                    probe) for i in todo)
        for i, result in outputs:
            results[i] = result
            bar.update()
    bar.close()
    todo_set = set(todo)
    record_runs({"key": joblib.hash((configs[i], specs[i], probe)), "desc": desc,
                 "seconds": float(r.seconds), "cached": i not in todo_set}
                for i, r in enumerate(results) if r is not None)
    return results  # type: ignore[return-value]


SCHEDULER_ENV = "BNNET_DASK_SCHEDULER"


def _indexed(train: Any, i: int, *args: Any) -> tuple[int, RunResult]:
    return i, train(*args)


def estimated_cost(config: Config, d_in: int = 3072, n_classes: int = 10) -> float:
    """A run's relative cost: update steps times multiply-adds per image of the weights
    (for ordering runs only; augmentation and logging are left out)."""
    sizes = [d_in, *config.hidden, n_classes]
    return float(config.n_updates * sum(a * b for a, b in itertools.pairwise(sizes)))


def _run_on_cluster(scheduler: str, configs: list[Config], todo: list[int],
                    specs: list[DataSpec], keys: list[str],
                    probe: int) -> Iterator[tuple[int, RunResult]]:
    """Train ``configs[i]`` for ``i`` in ``todo`` on a Dask cluster; yield ``(i, result)``
    as results arrive. A worker that dies mid-run costs only that run, which the scheduler
    gives to another worker."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError(f"{SCHEDULER_ENV}={scheduler} asks for a Dask cluster, but the "
                           "distributed package is not installed: pip install -r "
                           "requirements.txt") from None
    # the md5s of each run's data folder, which its worker's copy must match (once per folder)
    fingerprints = {i: _data_md5s(find_batches_dir(specs[i].data_dir)) for i in todo}
    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as e:
        raise RuntimeError(
            f"cannot reach the Dask scheduler at {scheduler} ({e}). Start one with `dask "
            f"scheduler` and workers with `dask worker {scheduler}`, or unset "
            f"{SCHEDULER_ENV} to train on this machine.") from None
    with client:
        batch = uuid.uuid4().hex[:8]
        futures = {client.submit(_worker_train, configs[i], specs[i], keys[i], probe,
                                 fingerprints[i],
                                 key=f"bnnet-run-{batch}-{i}", pure=False): i for i in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()


@functools.lru_cache(maxsize=4)
def _data_md5s(folder: Path) -> tuple[tuple[str, str], ...]:
    return file_md5s(folder)


@functools.lru_cache(maxsize=4)
def _worker_data_dir(fingerprint: tuple[tuple[str, str], ...]) -> str:
    """The data folder of this worker process (its BNNET_DATA_DIR, or a download), checked
    to hold the driver's data. Once per worker process."""
    from distributed import get_worker

    from bnnet.fetch import ensure_cifar10

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


def _worker_train(config: Config, spec: DataSpec, key: str, probe: int,
                  fingerprint: tuple[tuple[str, str], ...]) -> RunResult:
    """One run on a Dask worker, on the worker's own copy of the data (loaded once per
    worker process: :func:`_load` is cached)."""
    local = DataSpec(_worker_data_dir(fingerprint), n_val=spec.n_val, seed=spec.seed,
                     split=spec.split, n_train=spec.n_train)
    return _train(config, local, key, probe)


def _store(train: joblib.memory.MemorizedFunc, args: tuple, result: RunResult) -> None:
    """Write a result computed elsewhere into the cache, as ``train(*args)`` would have.
    joblib has no public call for this; these are the two steps of its own ``_call``
    after the function returns (the output, then the call's metadata)."""
    call_id = (train.func_id, train._get_args_id(*args))
    seconds = result.seconds if np.isfinite(result.seconds) else 0.0
    train._after_call(call_id, args, {}, False, result, time.time() - seconds)


def results_table(results: Iterable[RunResult], columns: Iterable[str] = ()) -> pd.DataFrame:
    """One row per run: the chosen config fields and the final metrics."""
    rows = [r.row() for r in results]
    keep = [*columns, "val_accuracy", "test_accuracy", "seconds", "diverged"]
    return pd.DataFrame(rows)[keep]


def summarise(table: pd.DataFrame, by: list[str], value: str = "test_accuracy") -> pd.DataFrame:
    """Mean, std and count of ``value`` per group, plus a "mean ± std" text column."""
    g = table.groupby(by, sort=False)[value]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "runs": g.count()})
    out[value] = [f"{100 * m:.2f} ± {100 * s:.2f}" for m, s in zip(out["mean"], out["std"],
                                                                      strict=True)]
    return out.reset_index()


def stacked_histories(results: Iterable[RunResult], labels: Iterable[str]) -> pd.DataFrame:
    """All histories in one long DataFrame with a ``label`` and a ``seed`` column."""
    frames = [r.history.assign(label=label, seed=r.config.seed)
              for r, label in zip(results, labels, strict=True)]
    if not frames:
        return pd.DataFrame(columns=[*HISTORY_COLUMNS, "label", "seed"])
    return pd.concat(frames, ignore_index=True)


def bn_statistics_accuracy(results: Iterable[RunResult], spec: DataSpec) -> pd.DataFrame:
    """Test accuracy of each trained BN run with three choices of BN statistics.

    ``running``: the running averages of training (as trained); ``precise``: mean and
    variance recomputed over the whole training set; ``adaptive``: recomputed over the
    (unlabelled) test inputs. See :func:`bnnet.network.population_statistics`.

    Returns:
        one row per run (diverged runs and runs without BN are skipped): ``alpha``,
        ``seed`` and the three accuracies.
    """
    data = spec.load()
    rows = []
    for r in results:
        if r.diverged or r.params is None or not r.config.batch_norm:
            continue
        config = r.config
        X_train = data.X_train.astype(config.np_dtype, copy=False)
        X_test = data.X_test.astype(config.np_dtype, copy=False)
        accuracy = {}
        for name, X in (("precise", X_train), ("adaptive", X_test)):
            params = population_statistics(r.params, X, config)
            accuracy[name] = evaluate(params, X_test, data.y_test, config)["accuracy"]
        rows.append({"alpha": config.alpha, "seed": config.seed,
                     "running": r.test_accuracy, **accuracy})
    return pd.DataFrame(rows, columns=["alpha", "seed", "running", "precise", "adaptive"])


def flip_test_accuracy(results: Iterable[RunResult], spec: DataSpec) -> pd.DataFrame:
    """Test accuracy of each trained run evaluated as trained and with test-time flips.

    ``plain``: each test image once; ``flipped``: the class probabilities of each image
    and its mirror image averaged (``Config.test_flip``). The same trained net is evaluated
    both ways, so the two columns pair by ``seed``.

    Returns:
        one row per run that did not diverge: ``seed``, ``plain`` and ``flipped``.
    """
    data = spec.load()
    rows = []
    for r in results:
        if r.diverged or r.params is None:
            continue
        config = r.config
        X_test = data.X_test.astype(config.np_dtype, copy=False)
        plain = evaluate(r.params, X_test, data.y_test, config.replace(test_flip=False))
        flipped = evaluate(r.params, X_test, data.y_test, config.replace(test_flip=True))
        rows.append({"seed": config.seed, "plain": plain["accuracy"],
                     "flipped": flipped["accuracy"]})
    return pd.DataFrame(rows, columns=["seed", "plain", "flipped"])
