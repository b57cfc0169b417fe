"""Coarse-to-fine random search for the regularisation strength lambda."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnet.config import Config
from bnnet.experiments import DataSpec, RunResult, run_many


def sample_lambdas(log10_low: float, log10_high: float, n: int, seed: int) -> np.ndarray:
    """``n`` values lambda = 10^U with U ~ Uniform(log10_low, log10_high), seeded."""
    if not log10_low < log10_high:
        raise ValueError(f"the search range [{log10_low}, {log10_high}] is empty: "
                         "give log10_low < log10_high")
    if n <= 0:
        raise ValueError(f"n={n}: the number of trials must be positive")
    return 10 ** np.random.default_rng(seed).uniform(log10_low, log10_high, n)


def lambda_search(
    base: Config,
    spec: DataSpec,
    log10_range: tuple[float, float],
    n_trials: int,
    *,
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    desc: str = "lambda search",
) -> tuple[pd.DataFrame, list[RunResult]]:
    """Train ``base`` once per sampled lambda; table sorted by validation accuracy.

    Diverged trials are kept in the table (``diverged`` True, accuracies NaN) and sorted
    last, so the search goes on and reports them.
    """
    lams = sample_lambdas(*log10_range, n_trials, seed)
    results = run_many([base.replace(lam=float(lam)) for lam in lams], spec, n_jobs=n_jobs,
                       progress=progress, desc=desc)
    table = pd.DataFrame({
        "lam": lams, "log10_lam": np.log10(lams),
        "val_accuracy": [r.val_accuracy for r in results],
        "test_accuracy": [r.test_accuracy for r in results],
        "diverged": [r.diverged for r in results],
    })
    table = table.sort_values("val_accuracy", ascending=False, na_position="last")
    return table.reset_index(drop=True), results


def fine_range(table: pd.DataFrame, top: int = 3, margin: float = 0.25) -> tuple[float, float]:
    """log10 range spanned by the ``top`` best trials, widened by ``margin`` on each side."""
    best = table.dropna(subset=["val_accuracy"]).head(top)["log10_lam"]
    if best.empty:
        raise ValueError("every trial diverged: nothing to refine; lower eta_max")
    return float(best.min() - margin), float(best.max() + margin)
