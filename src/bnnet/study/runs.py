"""Many training runs: read back from the cache, or trained in parallel worker processes or
on a Dask cluster, in input order.

Every run uses one BLAS thread, in a worker process or not, so that parallel and sequential
runs give bit-identical results.
"""

from __future__ import annotations

import bnnet.blas as blas

import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import joblib

from bnnet.core.config import Config, layer_weights
from bnnet.study.cache import memory, read_back, store
from bnnet.study.cluster import SCHEDULER_ENV, run_on_cluster
from bnnet.study.jobs import DataSpec, RunResult, keyed_run
from bnnet.study.progress import progress_bar
from bnnet.study.provenance import finite_seconds, record_runs

Job = tuple[int, Config, DataSpec]
#: The course data: 45,000 / 5,000 / 10,000 from the configured data directory.
COURSE_DATA = DataSpec()


def run_many(
    configs: Iterable[Config],
    spec: DataSpec | Sequence[DataSpec] = COURSE_DATA,
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
        cache: read and write the on-disk cache (:mod:`bnnet.study.cache`).
        progress: a tqdm bar over the runs.
        desc: the bar's label, also used in messages about the runs.
        probe: if > 0, record :func:`~bnnet.core.diagnostics.layer_statistics` on this many
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
    pinned = {s: s.pinned() for s in set(specs)}  # each data folder's key, once
    specs = [pinned[s] for s in specs]
    train = memory().cache(keyed_run, ignore=["spec"]) if cache else keyed_run
    calls = [((config, s.key(), probe, s), {}) for config, s in zip(configs, specs, strict=True)]
    results: list[RunResult | None] = [None] * len(configs)
    indices = list(range(len(configs)))
    if cache:
        results, indices = read_back(train, calls, lambda i: _describe(i, desc, configs[i]))
    todo: list[Job] = [(i, configs[i], specs[i]) for i in indices]
    # longest runs first, so that no worker is left with a long run while the others idle
    todo.sort(key=lambda job: -estimated_cost(job[1]))
    with progress_bar(total=len(configs), initial=len(configs) - len(todo), desc=desc,
                      disable=not progress, unit="run") as bar:
        for i, result in _train(train, todo, probe, n_jobs=n_jobs, cache=cache,
                                scheduler=scheduler or os.environ.get(SCHEDULER_ENV)):
            results[i] = result
            bar.update()
    trained = {i for i, _, _ in todo}
    warn_other_kernels([results[i] for i in trained])
    record_runs(run_record(r, specs[i], desc=desc,
                           key=joblib.hash((configs[i], specs[i].key(), probe)),
                           cached=i not in trained)
                for i, r in enumerate(results) if r is not None)
    return results  # type: ignore[return-value]


def warn_other_kernels(results: Iterable[RunResult | None]) -> None:
    """One line when runs trained elsewhere (Dask workers started without the setting) ran
    on another BLAS kernel than this process: their last digits will not match."""
    here = blas.loaded()["kernel"]
    other = Counter(r.blas.get("kernel", "") for r in results
                    if r is not None and r.blas.get("kernel", here) != here)
    if other:
        kernels = ", ".join(f"{n} on {k or 'an unknown kernel'}" for k, n in other.items())
        warnings.warn(
            f"{sum(other.values())} runs trained on another BLAS kernel than this process's "
            f"{here} ({kernels}): start the workers with {blas.identical_numbers_hint(here)} "
            "for the same numbers as here", blas.BlasKernelWarning, stacklevel=3)


def run_record(result: RunResult, spec: DataSpec, **fields: object) -> dict:
    """What the ledger (and the report's manifest) keeps of a run: its full configuration,
    its data split, the BLAS kernel it ran on, and the values the report shows."""
    history = result.history
    final_cost = float(history["train_cost"].iloc[-1]) if len(history) else float("nan")
    return {**fields, "seconds": float(result.seconds), "config": result.config.to_dict(),
            "blas": result.blas,
            "data": {"n_val": spec.n_val, "seed": spec.seed, "split": spec.split,
                     "n_train": spec.n_train},
            "values": {"test_accuracy": result.test_accuracy,
                       "val_accuracy": result.val_accuracy,
                       "test_cost": result.test.get("cost", float("nan")),
                       "final_train_cost": final_cost, "diverged": result.diverged}}


def _train(train: Callable[..., RunResult], jobs: list[Job], probe: int, *, n_jobs: int,
           cache: bool, scheduler: str | None) -> Iterator[tuple[int, RunResult]]:
    """``(i, result)`` for every job, as the runs finish."""
    if jobs and scheduler:
        here = blas.loaded()["kernel"]
        for i, result in run_on_cluster(scheduler, jobs, probe):
            # a run on another BLAS kernel is not this machine's result: not cached
            if cache and result.blas.get("kernel") == here:
                _, config, spec = next(job for job in jobs if job[0] == i)
                store(train, (config, spec.key(), probe, spec), result,
                      finite_seconds(result.seconds))
            yield i, result
    elif n_jobs == 1 or len(jobs) <= 1:
        for i, config, spec in jobs:
            yield i, train(config, spec.key(), probe, spec)
    else:
        # as each run finishes (not in submission order), so that the bar moves with them
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        yield from parallel(joblib.delayed(_indexed)(train, i, config, spec.key(), probe, spec)
                            for i, config, spec in jobs)


def _indexed(train: Callable[..., RunResult], i: int, *args: object) -> tuple[int, RunResult]:
    return i, train(*args)


def _describe(i: int, desc: str, config: Config) -> str:
    return (f"run {i + 1} of {desc!r} (hidden={list(config.hidden)}, "
            f"bn={config.bn!r}, lam={config.lam:g}, seed={config.seed})")


def estimated_cost(config: Config, d_in: int = 3072, n_classes: int = 10) -> float:
    """A run's relative cost: update steps times multiply-adds per image of the weights
    (for ordering runs only; augmentation and logging are left out)."""
    return float(config.n_updates * sum(layer_weights(config.hidden, d_in, n_classes)))
