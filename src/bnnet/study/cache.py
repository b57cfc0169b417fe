"""The on-disk cache of runs and gradient checks (joblib), keyed so that a change is noticed.

An entry is keyed by the arguments of the cached call (the :class:`~bnnet.core.config.Config`,
the data spec with its files' key, ...) and lives in a folder named after
:func:`code_key`, a hash of every module of :mod:`bnnet.core`, and the BLAS kernel of this
process (:mod:`bnnet.blas`): a change to the code that computes the numbers, or another
kernel, starts a new folder, and a change anywhere else (the study, the report, messages)
reads the old results back.
"""

from __future__ import annotations

import bnnet.blas as blas

import contextlib
import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import joblib

import bnnet.core
from bnnet.files import cache_root

CORE_DIR = Path(bnnet.core.__file__).parent


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """Hash of the source of every module of :mod:`bnnet.core` (the numbers)."""
    h = hashlib.sha256()
    for path in sorted(CORE_DIR.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def memory(location: str | os.PathLike | None = None) -> joblib.Memory:
    """The cache: ``runs/<code_key>-<BLAS kernel>-<NumPy SIMD level>`` under
    :func:`bnnet.files.cache_root` by default."""
    folder = f"{code_key()}-{blas.loaded()['kernel'] or 'unknown'}-{blas.simd() or 'unknown'}"
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
