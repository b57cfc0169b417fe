"""Gradient checks of many networks: in parallel, cached like training runs."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd

from bnnet.core.config import Config, bn_placement
from bnnet.core.gradcheck import check_gradients
from bnnet.study.cache import memory, read_back


def check_gradients_grid(
    configs: list[Config], X: np.ndarray, y: np.ndarray, *, n_classes: int,
    n_jobs: int = 1, h: float | None = None, cache: bool = False,
) -> pd.DataFrame:
    """:func:`~bnnet.core.gradcheck.check_gradients` for several configurations (in parallel
    with ``n_jobs``), one table with ``layers``, ``bn`` and ``lam`` columns added. With
    ``cache`` each check is stored on disk like a training run (:mod:`bnnet.study.cache`);
    an unreadable entry costs one line and is checked again."""
    check = memory().cache(check_gradients) if cache else check_gradients
    # contiguous, so that this process and the workers (which receive a contiguous copy)
    # hash X alike and find the same cache entries
    X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    calls = [((c, X, y, h), {"n_classes": n_classes}) for c in configs]
    tables: list[pd.DataFrame | None] = [None] * len(configs)
    todo = list(range(len(configs)))
    if cache:
        tables, todo = read_back(check, calls, lambda i: _describe(i, configs),
                                 redo="checking it again")
    computed = joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(check)(*calls[i][0], **calls[i][1]) for i in todo)
    for i, table in zip(todo, computed, strict=True):
        tables[i] = table
    return pd.concat([
        t.assign(layers=c.n_layers,
                 bn=bn_placement(c), lam=c.lam)
        for c, t in zip(configs, tables, strict=True)
    ], ignore_index=True)


def _describe(i: int, configs: list[Config]) -> str:
    c = configs[i]
    return (f"gradient check {i + 1} of {len(configs)} ({c.n_layers} layers, "
            f"batch_norm={c.batch_norm}, bn_position={c.bn_position}, lam={c.lam:g})")
