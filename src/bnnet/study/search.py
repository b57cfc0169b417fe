"""Coarse-to-fine random search for the regularisation strength lambda."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from bnnet.core.config import Config
from bnnet.study.jobs import DataSpec, RunResult
from bnnet.study.runs import run_many
from bnnet.study.stats import REAL

#: The fine range: the three best coarse trials' range, widened by this (log10) on each side.
FINE_MARGIN = 0.25
#: How far (log10) the fine range grows each time its fitted optimum sits at an edge.
EXTENSION_STEP = 0.5


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
    seeds: Sequence[int] = (0,),
    n_jobs: int = 1,
    progress: bool = True,
    desc: str = "lambda search",
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, list[RunResult]]:
    """Train ``base`` for each of ``n_trials`` sampled lambdas and each training seed.

    ``seed`` draws the lambdas; ``seeds`` are the training seeds (initial weights and
    mini-batch order) every lambda is trained with. The table has one row per run
    (``lam``, ``log10_lam``, ``seed``, accuracies, ``diverged``), sorted by validation
    accuracy. Diverged runs are kept (``diverged`` True, accuracies NaN) and sorted last,
    so the search goes on and reports them. ``n_jobs``, ``progress``, ``desc`` and
    ``scheduler`` are those of :func:`~bnnet.study.runs.run_many`.
    """
    return train_lambdas(base, spec, sample_lambdas(*log10_range, n_trials, seed), seeds=seeds,
                         n_jobs=n_jobs, progress=progress, desc=desc, scheduler=scheduler)


def train_lambdas(
    base: Config,
    spec: DataSpec,
    lams: Sequence[float],
    *,
    seeds: Sequence[int] = (0,),
    n_jobs: int = 1,
    progress: bool = True,
    desc: str = "lambda search",
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, list[RunResult]]:
    """Train ``base`` with each of the given ``lams`` and each training seed: the table of
    :func:`lambda_search` (which draws the lambdas and calls this)."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds=[]: give at least one training seed, e.g. [0]")
    grid = [(float(lam), s) for lam in lams for s in seeds]
    results = run_many([base.replace(lam=lam, seed=s) for lam, s in grid], spec,
                       n_jobs=n_jobs, progress=progress, desc=desc, scheduler=scheduler)
    table = pd.DataFrame({
        "lam": [lam for lam, _ in grid], "log10_lam": np.log10([lam for lam, _ in grid]),
        "seed": [s for _, s in grid],
        "val_accuracy": [r.val_accuracy for r in results],
        "test_accuracy": [r.test_accuracy for r in results],
        "diverged": [r.diverged for r in results],
    })
    return by_validation(table), results


def gap_fillers(log10_lams: Sequence[float], max_gap: float) -> list[float]:
    """The log10 lambdas that split every gap wider than ``max_gap`` between neighbouring
    sampled values into equal parts no wider than it (none when no gap is that wide).

    >>> [round(u, 3) for u in gap_fillers([-2.5, -2.3, -1.88], 0.25)]
    [-2.09]
    """
    u = sorted(set(float(x) for x in log10_lams))
    extra = []
    for lo, hi in itertools.pairwise(u):
        parts = int(np.ceil((hi - lo) / max_gap - 1e-9))
        extra += [lo + (hi - lo) * k / parts for k in range(1, parts)]
    return extra


def by_validation(table: pd.DataFrame) -> pd.DataFrame:
    """Trials best validation accuracy first, diverged ones (NaN) last, ties in order."""
    return table.sort_values("val_accuracy", ascending=False, na_position="last",
                             kind="stable").reset_index(drop=True)


def fine_range(table: pd.DataFrame, top: int = 3,
               margin: float = FINE_MARGIN) -> tuple[float, float]:
    """log10 range spanned by the ``top`` best trials, widened by ``margin`` on each side."""
    best = table.dropna(subset=["val_accuracy"]).head(top)["log10_lam"]
    if best.empty:
        raise ValueError("every trial diverged: nothing to refine; lower eta_max")
    return float(best.min() - margin), float(best.max() + margin)


def smooth_optimum(
    table: pd.DataFrame, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> dict:
    """The lambda that maximises a quadratic fit of validation accuracy against log10 lambda.

    Every run of ``table`` (all lambdas and seeds; diverged runs are left out) enters the
    least-squares fit ``val_accuracy ~ a + b u + c u^2`` with ``u = log10 lambda``, so the
    choice averages over the seed noise of single runs instead of taking the luckiest one.
    The peak ``-b / (2c)`` is clipped to the range of the runs; when the fit has no maximum
    (``c >= 0``) the better end of the range is taken. The interval is a percentile
    bootstrap: runs are resampled with replacement ``n_boot`` times (seeded), the fit and
    its clipped peak recomputed.

    Returns:
        ``lam`` and ``log10_lam`` of the peak, ``low`` and ``high`` (the interval of
        log10 lambda), ``coef`` (the fit's coefficients, highest power first, for
        ``np.polyval``), ``peak_accuracy`` (the fitted validation accuracy at the peak),
        ``runs`` and ``at_edge`` (True when the peak is clipped or the fit has no maximum).
    """
    ok = table.dropna(subset=["val_accuracy"])
    if len(ok) < 4 or ok["log10_lam"].nunique() < 3:
        raise ValueError(
            f"a quadratic fit needs at least 4 runs at 3 or more lambdas, got {len(ok)} runs "
            f"at {ok['log10_lam'].nunique()}; run more fine-search trials"
        )
    u, acc = ok["log10_lam"].to_numpy(), ok["val_accuracy"].to_numpy()
    lo, hi = float(u.min()), float(u.max())
    peak, at_edge, coef = _quadratic_peak(u, acc, lo, hi)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        rows = rng.integers(0, len(u), len(u))
        if np.unique(u[rows]).size >= 3:
            boot.append(_quadratic_peak(u[rows], acc[rows], lo, hi)[0])
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return {"lam": float(10 ** peak), "log10_lam": peak, "low": float(low),
            "high": float(high), "coef": tuple(float(c) for c in coef),
            "peak_accuracy": float(np.polyval(coef, peak)), "runs": len(ok),
            "at_edge": at_edge}


def _quadratic_peak(
    u: np.ndarray, acc: np.ndarray, lo: float, hi: float
) -> tuple[float, bool, np.ndarray]:
    """The clipped maximum of the least-squares quadratic, whether it was clipped, and the
    quadratic's coefficients."""
    coef = np.polyfit(u, acc, 2)
    c, b = coef[0], coef[1]
    if c >= 0:  # no maximum: the better end
        return (lo if np.polyval(coef, lo) >= np.polyval(coef, hi) else hi), True, coef
    peak = -b / (2 * c)
    return float(np.clip(peak, lo, hi)), not lo <= peak <= hi, coef


def search_to_interior(
    base: Config,
    spec: DataSpec,
    log10_range: tuple[float, float],
    n_trials: int,
    *,
    seed: int = 0,
    seeds: Sequence[int] = (0,),
    step: float = EXTENSION_STEP,
    n_extra: int = 2,
    max_extensions: int = 3,
    max_gap: float | None = 0.25,
    n_jobs: int = 1,
    progress: bool = True,
    desc: str = "fine search",
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, dict, list[tuple[float, float]]]:
    """A :func:`lambda_search` over ``log10_range`` whose range grows while the fitted
    optimum (:func:`smooth_optimum`) sits at an edge of it: each time, ``n_extra`` more
    lambdas (every one with all ``seeds``) are drawn in a strip of width ``step`` (log10)
    beyond that edge and the fit is redone over every run, at most ``max_extensions`` times.
    Then every gap wider than ``max_gap`` (log10) between sampled lambdas is split evenly
    (:func:`gap_fillers`), each new lambda trained with all ``seeds``, and the fit redone, so
    that no stretch of the range rests on the fit's shape alone (``None``: no filling).

    Returns:
        the table of every run (sorted by validation accuracy), the final optimum (its
        ``at_edge`` says whether the search still ended at an edge), and the strips added,
        as (log10 low, log10 high) pairs in the order they were searched.
    """
    kw = {"seeds": seeds, "n_jobs": n_jobs, "progress": progress, "desc": desc,
          "scheduler": scheduler}
    table, _ = lambda_search(base, spec, log10_range, n_trials, seed=seed, **kw)
    optimum = smooth_optimum(table, seed=seed)
    strips: list[tuple[float, float]] = []
    for k in range(max_extensions):
        if not optimum["at_edge"]:
            break
        ok = table.dropna(subset=["val_accuracy"])["log10_lam"]
        lo, hi = float(ok.min()), float(ok.max())
        strip = ((lo - step, lo) if abs(optimum["log10_lam"] - lo) <= abs(optimum["log10_lam"] - hi)
                 else (hi, hi + step))
        extra, _ = lambda_search(base, spec, strip, n_extra, seed=seed + 100 + k, **kw)
        strips.append(strip)
        table = by_validation(pd.concat([table, extra], ignore_index=True))
        optimum = smooth_optimum(table, seed=seed)
    if max_gap is not None:
        fillers = gap_fillers(table.dropna(subset=["val_accuracy"])["log10_lam"], max_gap)
        if fillers:
            extra, _ = train_lambdas(base, spec, [10 ** u for u in fillers], **kw)
            table = by_validation(pd.concat([table, extra], ignore_index=True))
            optimum = smooth_optimum(table, seed=seed)
    return table, optimum, strips


def choose_lam(table: pd.DataFrame, optimum: Mapping[str, Any], *, level: float = 0.95) -> dict:
    """The lambda the search chooses, on validation accuracy only, and why.

    The fit's maximum (``optimum``, from :func:`smooth_optimum`) is taken when the fit is
    adequate: its bootstrap interval holds the lambda with the best mean validation accuracy.
    Otherwise the fit misdescribes the data where it matters, and the choice is that
    best-measured lambda, with the t interval of its mean over seeds.

    Returns:
        ``lam``, ``rule`` ("fit" or "best mean"), ``adequate`` (the fit's interval holds the
        best-measured lambda), ``best_mean_lam``, ``best_mean`` (its mean validation
        accuracy), ``best_low``/``best_high`` (that mean's interval; NaN with one seed) and
        ``best_runs``.
    """
    ok = table.dropna(subset=["val_accuracy"])
    by_lam = ok.groupby("lam")["val_accuracy"]
    means = by_lam.mean()
    best = float(means.idxmax())
    values = by_lam.get_group(best).to_numpy()
    n = len(values)
    if n > 1:
        half = (sps.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
        low, high = float(values.mean() - half), float(values.mean() + half)
    else:
        low = high = float("nan")
    adequate = bool(optimum["low"] <= np.log10(best) <= optimum["high"])
    return {"lam": float(optimum["lam"]) if adequate else best,
            "rule": "fit" if adequate else "best mean", "adequate": adequate,
            "best_mean_lam": best, "best_mean": float(means.max()), "best_low": low,
            "best_high": high, "best_runs": n}


def recommended_lam(versus: Mapping[str, Any], chosen: float, default: float) -> float:
    """The λ the study recommends, the one rule every section uses: the search's ``chosen``
    when its comparison with the ``default`` on *validation* accuracy (``versus``, a row of
    :func:`~bnnet.study.stats.compare` with ``value="val_accuracy"`` after
    :func:`~bnnet.study.stats.holm`, chosen minus default) is real and positive, else the
    default ("real, below δ" is negligible, so it keeps the default too). Test accuracy
    never enters the choice: the test set is read once, to report how the choice fares.

    >>> recommended_lam({"verdict": "real", "diff": 0.004}, 0.002, 0.005)
    0.002
    >>> recommended_lam({"verdict": "inconclusive", "diff": 0.004}, 0.002, 0.005)
    0.005
    """
    return float(chosen) if versus["verdict"] == REAL and versus["diff"] > 0 else float(default)
