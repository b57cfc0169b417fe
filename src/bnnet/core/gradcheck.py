"""Numerical gradient checking with centred differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bnnet.core.config import Config
from bnnet.core.layers import softmax_cross_entropy
from bnnet.core.network import TRAINABLE, Params, cost_and_gradients, forward, init_params

# The cost is evaluated in extended precision where the platform has it (80-bit on
# x86-64): in float64 its round-off, ~1e-15, divided by 2h = 2e-5 gives absolute errors
# of ~1e-10, which is a relative error of 1e-5 for the many entries whose gradient is
# ~1e-5. The analytic gradients being checked stay float64.
NUMERIC_DTYPE = np.longdouble
#: A largest relative error above this, between analytic and centred-difference gradients,
#: means a wrong formula: the threshold of the report's gradient check and its conclusion.
WRONG_GRADIENT = 1e-6
#: Two gradient paths (NumPy reference, compiled kernels) agree "to round-off" when they
#: differ by fewer machine epsilons than this, relative to each array's largest entry: a few
#: dozen roundings, no formula's difference.
ROUNDOFF_ULPS = 64


def train_cost_terms(
    params: Params, X: np.ndarray, y: np.ndarray, config: Config
) -> tuple[np.floating, np.ndarray]:
    """The train-mode data loss and the squared weights, in the dtype of ``params``."""
    scores, _ = forward(X, params, config, train=True)
    loss, _ = softmax_cross_entropy(scores, y, config.label_smoothing)
    squares = np.concatenate([p["W"].ravel() ** 2 for p in params])
    return loss, squares


#: Trainable entries above which :func:`check_gradients` shows a progress bar by default
#: (each entry costs two forward passes: all 3,072 inputs of a 3-layer net take minutes).
PROGRESS_ENTRIES = 5_000


def numerical_gradients(
    params: Params, X: np.ndarray, y: np.ndarray, config: Config, h: float = 1e-5,
    *, progress: bool = False,
) -> Params:
    """Centred differences (J(p + h) - J(p - h)) / 2h for every trainable entry.

    J = mean cross-entropy + lam * sum ||W||^2 is evaluated in ``NUMERIC_DTYPE``; the
    difference of the penalty is taken square by square before summing, as the penalty
    can be far larger than the loss and its round-off would swamp the difference.

    Returns:
        float64 gradients, one dict per layer, mirroring the trainable entries of ``params``.
        ``progress``: a tqdm bar over the entries, with the time left.
    """
    work = [{k: np.array(v, dtype=NUMERIC_DTYPE) for k, v in p.items()} for p in params]
    X = np.asarray(X, dtype=NUMERIC_DTYPE)
    grads: Params = []
    bar = tqdm(total=trainable_entries(params), disable=not progress, unit="entry",
               desc="numerical gradients", mininterval=1.0)
    for p in work:
        g = {}
        for key in TRAINABLE:
            if key not in p:
                continue
            flat = p[key].reshape(-1)
            gflat = np.empty(flat.size, dtype=np.float64)
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + h
                loss_plus, squares_plus = train_cost_terms(work, X, y, config)
                flat[i] = old - h
                loss_minus, squares_minus = train_cost_terms(work, X, y, config)
                flat[i] = old
                # elementwise first: the unchanged squares cancel exactly
                penalty_diff = config.lam * np.sum(squares_plus - squares_minus)
                gflat[i] = float((loss_plus - loss_minus) + penalty_diff) / (2 * h)
            bar.update(flat.size)
            g[key] = gflat.reshape(p[key].shape)
        grads.append(g)
    bar.close()
    return grads


def trainable_entries(params: Params) -> int:
    """How many numbers the numerical gradient perturbs (two cost evaluations each)."""
    return sum(p[key].size for p in params for key in TRAINABLE if key in p)


def relative_error(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Elementwise |a - b| / max(eps, |a| + |b|)."""
    return np.abs(a - b) / np.maximum(eps, np.abs(a) + np.abs(b))


def check_gradients(
    config: Config,
    X: np.ndarray,
    y: np.ndarray,
    h: float | None = None,
    *,
    params: Params | None = None,
    n_classes: int | None = None,
    eps: float = 1e-12,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Compare the hand-written gradients with centred differences, in float64.

    Args:
        config: the network; its ``dtype`` is overridden with float64.
        X: inputs, shape (N, D) (a reduced D and a few samples keep this fast).
        y: labels, shape (N,).
        h: step of the centred differences; default 1e-6 where the cost is evaluated
            in extended precision (x86-64), else 1e-5 (round-off grows as 1/h,
            truncation error as h^2).
        params: parameters to check at; default: ``init_params(config, D, n_classes)``.
        n_classes: number of classes C; default ``max(y) + 1``.
        eps: floor of the denominator of the relative error.
        progress: a progress bar with the time left; ``None``: only when there are more
            than :data:`PROGRESS_ENTRIES` entries to perturb.

    Returns:
        one row per layer and parameter: ``layer`` (1-based), ``parameter``, ``shape``,
        ``max_rel_error``, ``mean_rel_error``, ``max_abs_error``, ``max_abs_grad``.

    Layers followed directly by BN have no bias (see :mod:`bnnet.core.network`), so no ``b``
    row appears for them.

    Examples
    --------
    A 3-layer BN net with small layers, on 10 random inputs of 8 features (milliseconds):

    >>> import numpy as np
    >>> import bnnet
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((10, 8)), rng.integers(0, 3, 10)
    >>> table = bnnet.check_gradients(bnnet.Config(hidden=[6, 5], bn="before"), X, y)
    >>> print(table[["layer", "parameter", "shape"]].to_string(index=False))
     layer parameter  shape
         1         W (8, 6)
         1     gamma   (6,)
         1      beta   (6,)
         2         W (6, 5)
         2     gamma   (5,)
         2      beta   (5,)
         3         W (5, 3)
         3         b   (3,)
    >>> bool((table["max_rel_error"] < 1e-6).all())  # a wrong formula shows far above
    True
    """
    if h is None:
        h = 1e-6 if np.finfo(NUMERIC_DTYPE).eps < np.finfo(np.float64).eps else 1e-5
    config = config.replace(dtype="float64")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if params is None:
        params = init_params(config, X.shape[1], n_classes or int(y.max()) + 1)
    else:
        params = [{k: np.array(v, dtype=np.float64) for k, v in p.items()} for p in params]
    _, analytic = cost_and_gradients(params, X, y, config)
    if progress is None:
        progress = trainable_entries(params) > PROGRESS_ENTRIES
    numeric = numerical_gradients(params, X, y, config, h, progress=progress)
    rows = []
    for layer, (ga, gn) in enumerate(zip(analytic, numeric, strict=True), start=1):
        for key in TRAINABLE:
            if key not in gn:
                continue
            if ga.get(key) is None or ga[key].shape != gn[key].shape:
                raise AssertionError(f"layer {layer}: no analytic gradient for {key}")
            rel = relative_error(ga[key], gn[key], eps)
            rows.append({
                "layer": layer, "parameter": key, "shape": str(gn[key].shape),
                "max_rel_error": float(rel.max()), "mean_rel_error": float(rel.mean()),
                "max_abs_error": float(np.abs(ga[key] - gn[key]).max()),
                "max_abs_grad": float(np.abs(ga[key]).max()),
            })
    return pd.DataFrame(rows)
