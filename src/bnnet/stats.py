"""Is a difference between two sets of runs real or noise? Welch intervals over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict:
    """Confidence interval of mean(b) - mean(a) from Welch's t-test (unequal variances).

    Args:
        a, b: one value per run (e.g. the test accuracy of each seed), at least 2 each.
        level: confidence level of the interval.

    Returns:
        ``diff``, ``low``, ``high``, ``p_value`` (two-sided, of "no difference") and
        ``real``: whether the interval excludes 0. With fewer than 2 runs in a group
        everything is NaN and ``real`` is False; when both groups have no spread at all
        (e.g. every run at chance) the interval is the difference itself.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not 0 < level < 1:
        raise ValueError(f"level={level}: the confidence level must be in (0, 1), e.g. 0.95")
    if len(a) < 2 or len(b) < 2 or np.isnan(a).any() or np.isnan(b).any():
        nan = float("nan")
        return {"diff": nan, "low": nan, "high": nan, "p_value": nan, "real": False}
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return {"diff": diff, "low": diff, "high": diff, "p_value": float(diff == 0),
                "real": diff != 0}
    # Welch-Satterthwaite degrees of freedom
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    low, high = diff - half, diff + half
    return {"diff": diff, "low": low, "high": high, "p_value": p,
            "real": bool(low > 0 or high < 0)}


def compare(
    table: pd.DataFrame, by: list[str], factor: str, baseline: object, treatment: object,
    value: str = "test_accuracy", level: float = 0.95,
) -> pd.DataFrame:
    """For each group of ``by``, treatment minus baseline of ``value`` with a Welch interval.

    Args:
        table: one row per run (e.g. from :func:`bnnet.experiments.results_table`).
        by: columns that define a comparison (e.g. ``["net", "sigma"]``).
        factor: the column that differs (e.g. ``"batch_norm"``).
        baseline, treatment: its two values (e.g. ``False`` and ``True``).
        value: the measured column.
        level: confidence level.

    Returns:
        one row per group: the ``by`` columns, ``runs`` (per arm, "n_baseline/n_treatment"),
        ``diff``, ``low``, ``high``, ``p_value`` and ``verdict`` ("real" when the interval
        excludes 0, "noise" otherwise, "too few runs" below 2 per arm).
    """
    missing = [c for c in [*by, factor, value] if c not in table.columns]
    if missing:
        raise KeyError(f"compare: the table has no column(s) {missing}")
    rows = []
    for key, group in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        a = group.loc[group[factor] == baseline, value].to_numpy()
        b = group.loc[group[factor] == treatment, value].to_numpy()
        result = welch_interval(a, b, level)
        verdict = ("too few runs" if np.isnan(result["diff"])
                   else "real" if result["real"] else "noise")
        rows.append({**dict(zip(by, key, strict=True)), "runs": f"{len(a)}/{len(b)}",
                     "diff": result["diff"], "low": result["low"], "high": result["high"],
                     "p_value": result["p_value"], "verdict": verdict})
    return pd.DataFrame(rows)
