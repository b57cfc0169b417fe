"""Gradient checks of many networks: in parallel, cached like training runs."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd

from bnnet.core.config import Config, bn_placement
from bnnet.core.fast import FastStep
from bnnet.core.gradcheck import check_gradients
from bnnet.core.network import forward_backward, init_params
from bnnet.core.optimizers import OPTIMIZERS
from bnnet.study.cache import memory, read_back


def check_gradients_grid(
    configs: list[Config], X: np.ndarray, y: np.ndarray, *, n_classes: int,
    n_jobs: int = 1, h: float | None = None, cache: bool = False,
) -> pd.DataFrame:
    """:func:`~bnnet.core.gradcheck.check_gradients` for several configurations (in parallel
    with ``n_jobs``), one table with ``layers``, ``bn`` and ``lam`` columns added. With
    ``cache`` each check is stored on disk like a training run (:mod:`bnnet.study.cache`);
    an unreadable entry costs one line and is checked again."""
    check = memory(simd=True).cache(check_gradients) if cache else check_gradients
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
            f"bn={c.bn!r}, lam={c.lam:g})")


def fast_against_reference(configs: list[Config], X: np.ndarray, y: np.ndarray, *,
                           n_classes: int, dtype: str = "float64") -> pd.DataFrame:
    """How far the fast path's loss gradients are from the gradient-checked NumPy
    reference: both computed for the same batch ``(X, y)`` and the same initial weights of
    each configuration, in ``dtype`` (float64: the gradient check's precision).

    Returns:
        one row per configuration: ``layers``, ``bn``, ``lam`` and ``max_rel_diff``, the
        largest difference over every gradient entry relative to the largest magnitude of
        its array (an entry near 0 carries the round-off of its array's large entries).
    """
    rows = []
    for config in configs:
        config = config.replace(dtype=dtype, batch_size=len(y), dropout=0.0)
        params = init_params(config, X.shape[1], n_classes)
        Xd = np.ascontiguousarray(X, dtype=config.np_dtype)
        ref = forward_backward(params, Xd, y, config, l2_in_grads=False)
        copies = [{k: v.copy() for k, v in p.items()} for p in params]
        fast = FastStep(copies, config, OPTIMIZERS[config.optimizer](copies, config.lam),
                        Xd, y)
        fast.forward_backward(Xd, y)
        worst = max(float(np.abs(fast.grads[layer][key] - value).max()
                          / max(np.abs(value).max(), 1e-300))
                    for layer, g in enumerate(ref.grads) for key, value in g.items())
        rows.append({"layers": config.n_layers, "bn": bn_placement(config), "lam": config.lam,
                     "max_rel_diff": worst})
    return pd.DataFrame(rows)
