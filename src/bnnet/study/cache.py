"""The on-disk cache of runs and gradient checks (joblib), keyed by what decides their numbers.

A run's entry is keyed by the arguments of the cached call: the
:class:`~bnnet.core.config.Config`, and the data's content key and split
(:meth:`~bnnet.study.jobs.DataSpec.key`; the folder the files sit in is not part of it, so a
moved or copied data folder keeps its runs). It lives in a folder named after
:func:`environment`, everything else that decides the numbers:

- :data:`bnnet.core.NUMERICS_VERSION`, raised by hand when the arithmetic changes (the
  golden runs of ``tests/test_golden.py`` fail until it is);
- the versions of NumPy, Numba and OpenBLAS, the BLAS kernel (:mod:`bnnet.blas`) and the
  BLAS threads of a run (:data:`bnnet.core.train.BLAS_THREADS`).

No source text is part of the key: a comment, a docstring or a message edited in
:mod:`bnnet.core` retrains nothing. NumPy's SIMD level (AVX2 or AVX-512) is not part of a
run's key either: training's element-wise work runs in Numba's kernels, and a trained run
is bit for bit the same at either level (``tests/test_cache.py`` checks it). It is part of
the gradient checks' key (``simd=True``), whose float64 round-off shows NumPy's own
``exp`` and sums.
"""

from __future__ import annotations

import bnnet.blas as blas

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib

from bnnet.core import NUMERICS_VERSION
from bnnet.core.train import BLAS_THREADS
from bnnet.files import cache_root


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "none"


def environment(simd: bool = False) -> dict[str, str]:
    """Everything besides a call's arguments that decides its numbers, as the manifest
    records it: ``numerics``, ``numpy``, ``numba``, ``openblas``, ``kernel``,
    ``blas_threads`` and, with ``simd``, NumPy's SIMD level (:func:`bnnet.blas.simd`)."""
    info = blas.loaded()
    env = {"numerics": str(NUMERICS_VERSION), "numpy": _version("numpy"),
           "numba": _version("numba"), "openblas": info["openblas"] or "unknown",
           "kernel": info["kernel"] or "unknown", "blas_threads": str(BLAS_THREADS)}
    if simd:
        env["simd"] = blas.simd() or "unknown"
    return env


def folder_name(env: dict[str, str]) -> str:
    """A readable folder name for an :func:`environment`, e.g.
    ``numerics1-numpy2.4.6-numba0.68.1-openblas0.3.31-Haswell-blas_threads1``."""
    return "-".join(re.sub(r"[^A-Za-z0-9._]", "_", f"{k}{v}") for k, v in env.items())


def memory(location: str | Path | None = None, *, simd: bool = False) -> joblib.Memory:
    """The cache: ``runs/<folder_name(environment(simd))>`` under
    :func:`bnnet.files.cache_root` by default (``simd=True`` for the gradient checks)."""
    folder = folder_name(environment(simd))
    return joblib.Memory(location or cache_root() / "runs" / folder, verbose=0)


class _OneLineCacheErrors(logging.Filter):
    """joblib logs a full traceback when a cached result cannot be read (a truncated
    ``output.pkl``, say) and then recomputes it: say that in one line instead."""

    def __init__(self, what: str, redo: str):
        super().__init__()
        self.what, self.redo = what, redo

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Exception while loading results" in message:
            lines = [line for line in message.splitlines() if line.strip()]
            record.msg = (f"bnnet: the cached result of {self.what} could not be read "
                          f"({lines[-1].strip()}); {self.redo}")
            record.args = ()
        return True


@contextlib.contextmanager
def one_line_errors(what: str, redo: str = "training it again") -> Iterator[None]:
    """While reading ``what`` back from the cache, an unreadable entry costs one line
    naming it (and joblib computes it again)."""
    logger = logging.getLogger("joblib")
    errors = _OneLineCacheErrors(what, redo)
    logger.addFilter(errors)
    try:
        yield
    finally:
        logger.removeFilter(errors)


def read_back(func: joblib.memory.MemorizedFunc, calls: Sequence[tuple[tuple, dict]],
              describe: Callable[[int], str], redo: str = "training it again",
              ) -> tuple[list[Any], list[int]]:
    """The results of the calls ``func(*args, **kwargs)`` that are in the cache, read here in
    this process (``None`` for the others), and the indices of the others, still to compute.
    An unreadable entry costs one line (``describe(i)`` names the call) and is computed
    here again."""
    results: list[Any] = [None] * len(calls)
    todo = []
    for i, (args, kwargs) in enumerate(calls):
        if func.check_call_in_cache(*args, **kwargs):
            with one_line_errors(describe(i), redo):
                results[i] = func(*args, **kwargs)
        else:
            todo.append(i)
    return results, todo


def store(func: joblib.memory.MemorizedFunc, args: tuple, result: Any,
          seconds: float = 0.0) -> None:
    """Write a result computed elsewhere (a Dask worker) into the cache, as ``func(*args)``
    would have. joblib has no public call for this; these are the two steps of its own
    ``_call`` after the function returns (the output, then the call's metadata)."""
    call_id = (func.func_id, func._get_args_id(*args))
    func._after_call(call_id, args, {}, False, result, time.time() - seconds)
