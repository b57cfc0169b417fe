"""What a difference between two sets of runs says: intervals over seeds and the verdict
words of the report.

A comparison's verdict is one of six words (:func:`judge`, then :func:`holm` for the
section's family):

- *real*: the 95 % interval excludes 0 (or, for the exact test, its p < 0.05) and the
  Holm-adjusted p-value of the section's family stays below 0.05;
- *real, below δ*: real, but the whole interval lies inside ±δ (:data:`DELTA`, half a
  point): a difference too small to matter;
- *no difference > δ*: the interval lies inside ±δ and contains 0 (or excludes it only
  before the correction). This is an equivalence claim at the interval's level; it is
  **not** part of the Holm correction, which guards the "real" claims only (the report's
  introduction states both policies), and it needs no test that could reach significance;
- *inconclusive*: none of these (a wide interval that touches 0, or one that excludes 0
  only before the correction);
- *both at chance*: every run of both arms ended at chance; no test is run;
- *too few runs*: fewer than :data:`MIN_RUNS` runs in an arm, or, for any verdict but *no
  difference > δ*, a test whose smallest attainable p-value, times the Holm multiplier of
  its rank, cannot fall below 0.05 (one rule, :func:`can_decide`).

Arms whose runs fall into two groups (some at chance and some trained, or trained runs
separated by a gap wider than :data:`GAP`: :func:`is_bimodal`) are not normal-looking
samples, and arms without any spread have no t interval: both get an exact permutation
test over the seeds (:func:`permutation_test`, on SciPy's
:func:`scipy.stats.permutation_test`), whose p-value decides between *real* and not.

The edges, where a t interval stops existing, read as their neighbours do:

- arms without spread (every run of each arm the same value, or, paired, every
  difference the same) know their difference exactly: their interval is [d, d], which the
  δ rules read. Identical arms (d = 0, p = 1) are *no difference > δ*, as arms an
  imperceptible nudge apart are under Welch's interval; a constant shift inside ±δ whose
  exact p-value is below 0.05 is *real, below δ*, and one it cannot show (5 pairs: p =
  2/32) is *too few runs*;
- bimodal arms get no interval (NaN): a shift interval (the permutation test inverted)
  would assume that the arms differ by a shift, which a bimodal arm does not, and with
  runs :data:`GAP` or more apart it would be far wider than ±δ anyway; their verdict is
  *real* (p < 0.05) or *inconclusive* (or *too few runs*), never a δ word;
- :func:`holm` gives tied p-values one adjusted p-value and one multiplier (that of the
  first of their rank), so identical comparisons get identical verdicts in any order;
- a NaN p-value (or a NaN smallest attainable p-value) never counts as small: it is
  never *real*, and it is written "n/a" (:func:`p_text`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps


def format_pm(mean: float, std: float, digits: int = 2) -> str:
    """``"53.47 ± 0.23"``: a mean and its spread, in the units given."""
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def mean_std(values) -> tuple[float, float]:
    """Mean and sample std (ddof 1; 0 for one value) with exactly rounded sums
    (:func:`math.fsum`): every table and sentence that shows the same runs shows the same
    digits, whatever order the values come in."""
    v = [float(x) for x in values]
    if not v:
        return float("nan"), float("nan")
    mean = math.fsum(v) / len(v)
    var = math.fsum((x - mean) ** 2 for x in v) / (len(v) - 1) if len(v) > 1 else 0.0
    return mean, math.sqrt(var)


def percent(fraction: float, digits: int = 2) -> str:
    """A fraction as a percentage, ``percent(0.53474) == "53.47%"``: the one formatter every
    table, sentence and status line uses for an accuracy (differences are in points)."""
    return f"{100 * fraction:.{digits}f}%"


def signed(value: float, digits: int = 2) -> str:
    """A difference with its sign, the minus a true minus: ``signed(-0.564) == "−0.56"``;
    a difference that rounds to zero has none (``signed(-0.004) == "0.00"``)."""
    text = f"{value:+.{digits}f}"
    if float(text) == 0:
        return f"{0:.{digits}f}"
    return text.replace("-", "\u2212")


def percent_pm(mean: float, std: float, digits: int = 2) -> str:
    """A mean and a spread of fractions in percent, without the sign:
    ``percent_pm(0.5347, 0.0023) == "53.47 ± 0.23"`` (a table's header says %)."""
    return format_pm(100 * mean, 100 * std, digits)


def p_text(p: object, digits: int = 3) -> str:
    """A p-value for a sentence: ``p_text(2 / 252) == "0.008"``; a missing one (NaN, None,
    not a number) is ``"n/a"``, never a number."""
    try:
        value = float(p)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return f"{value:.{digits}f}" if math.isfinite(value) else "n/a"


#: Accuracy below which a run is at chance on CIFAR-10's 10 balanced classes (10 %, plus
#: two points for a run that wobbles around it).
CHANCE = 0.12
#: The difference the study treats as negligible, as a fraction of accuracy: half a
#: percentage point, larger than the typical spread of a trained arm's test accuracy over
#: seeds (the introduction gives the measured spread).
DELTA = 0.005

REAL = "real"
REAL_SMALL = "real, below δ"
NO_DIFFERENCE = "no difference > δ"
INCONCLUSIVE = "inconclusive"
BOTH_AT_CHANCE = "both at chance"
TOO_FEW = "too few runs"
#: The verdicts of a comparison that was tested (and is in its section's Holm family).
TESTED = (REAL, REAL_SMALL, NO_DIFFERENCE, INCONCLUSIVE)
#: The verdicts that claim a difference (after the correction).
SIGNIFICANT = (REAL, REAL_SMALL)
#: A gap between an arm's sorted runs wider than this (a fraction of accuracy: 5 points,
#: twenty times the typical spread over seeds of a trained arm) splits the arm in two groups.
GAP = 0.05

#: The test behind each row of a :func:`compare` table.
WELCH, PAIRED, PERMUTATION, NO_TEST = "Welch t", "paired t", "permutation", "none"


def at_chance(values) -> np.ndarray:
    """Which runs ended at chance: test accuracy below :data:`CHANCE`, or none at all (NaN,
    a run that diverged), so that a diverged run never counts as one that trained."""
    return ~(np.asarray(values, dtype=float) >= CHANCE)


def is_split(values) -> bool:
    """Some runs of the arm at chance, the others trained: not a normal-looking arm."""
    chance = at_chance(values)
    return bool(chance.any() and not chance.all())


def is_bimodal(values) -> bool:
    """The arm's runs fall into two groups: split between chance and trained
    (:func:`is_split`), or two sorted runs more than :data:`GAP` apart (e.g. four seeds near
    53 % and one near 32 %)."""
    v = np.sort(np.asarray(values, dtype=float))
    return is_split(v) or (len(v) > 1 and bool(np.diff(v).max() > GAP))


def narrowest_range(values, k: int) -> float:
    """The smallest range that any ``k`` of the values span, so that the spread of ``k`` runs
    can be compared with that of a larger arm (whose full range grows with its size); NaN if
    there are fewer than ``k`` values.

    >>> narrowest_range([1, 5, 6, 9], 2)
    1.0
    """
    v = np.sort(np.asarray(values, dtype=float))
    if not 0 < k <= len(v):
        return float("nan")
    return float(np.min(v[k - 1:] - v[:len(v) - k + 1]))


def no_spread(a, b, *, paired: bool = False) -> bool:
    """Neither arm varies (or, paired, the differences do not): a t interval would have
    width 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        return bool(np.ptp(b - a) == 0)
    return bool(np.ptp(a) == 0 and np.ptp(b) == 0)


def _mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(y, axis=axis) - np.mean(x, axis=axis)


def permutation_test(a, b, *, paired: bool = False, max_exact: int = 200_000,
                     n_random: int = 100_000, seed: int = 0) -> dict:
    """Two-sided permutation test of mean(b) - mean(a), assuming nothing about the arms'
    shape: every way of splitting the pooled runs into arms of the same sizes, or, with
    ``paired``, every choice of signs of the pairs' differences (exact up to ``max_exact``
    rearrangements, else ``n_random`` random ones from ``seed``, with p = (k + 1) / (N + 1)).
    The rearrangements come from :func:`scipy.stats.permutation_test`; the p-value counts
    those whose absolute difference is at least the observed one.

    Returns:
        ``diff``, ``p_value``, ``p_min`` (the smallest p-value this test can give with
        these runs: the share of rearrangements as extreme as the most extreme one; 2/20 =
        0.1 for 3 runs per arm, 2/252 for 5 per arm, 1/56 for 3 against 5 well-separated
        runs, 1/(N + 1) when sampled), ``exact``, ``test`` (:data:`PERMUTATION`) and the
        interval ends ``low`` and ``high``: both the difference itself when the arms have no
        spread (:func:`no_spread`; paired: the differences have none), whose difference of
        means is then exact, else NaN (no shift interval for arms that are not a shift of
        each other). ``real`` is p < 0.05.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    observed = float(b.mean() - a.mean())
    count = 2 ** len(a) if paired else math.comb(len(a) + len(b), len(b))
    exact = count <= max_exact
    res = sps.permutation_test(
        (a, b), _mean_diff, permutation_type="samples" if paired else "independent",
        vectorized=True, n_resamples=np.inf if exact else n_random,
        random_state=np.random.default_rng(seed))
    null = np.abs(res.null_distribution)
    # a small tolerance: the same rearrangement summed in another order
    extreme = int(np.sum(null >= abs(observed) - 1e-12))
    most = int(np.sum(null >= null.max() - 1e-12))
    if exact:
        p, p_min = extreme / len(null), most / len(null)
    else:
        p, p_min = (extreme + 1) / (len(null) + 1), 1 / (len(null) + 1)
    # without spread the difference of means is exact: the interval [d, d] the δ rules read
    end = observed if no_spread(a, b, paired=paired) else float("nan")
    return {"diff": observed, "low": end, "high": end, "p_value": float(p),
            "p_min": float(p_min), "exact": exact, "real": bool(p < 0.05),
            "test": PERMUTATION}


def judge(result: dict, delta: float = DELTA, alpha: float = 0.05) -> str:
    """The verdict of one interval, before any correction: real when it excludes 0 (real,
    below δ when it also lies inside ±``delta``), no difference larger than ``delta`` when
    it contains 0 and lies inside ±``delta``, else inconclusive.

    A permutation test (``result["test"]`` is :data:`PERMUTATION`) and a result without an
    interval are real when their p-value is below ``alpha``; the interval, when there is
    one (arms without spread: [d, d]), then says whether it is real, below δ, and, when
    not real, whether it is no difference larger than ``delta`` (only when it contains 0:
    else inconclusive). A NaN p-value is never below ``alpha``; a NaN interval never lies
    inside ±``delta``."""
    low, high, p = (float(result[k]) for k in ("low", "high", "p_value"))
    if result.get("test") == PERMUTATION or np.isnan(low) or np.isnan(high):
        significant = bool(p < alpha)  # False for NaN
    else:
        significant = bool(low > 0 or high < 0)
    if significant:
        return REAL_SMALL if within(low, high, delta) else REAL
    # an exact difference the test cannot show (5 pairs without spread: p = 2/32) is not
    # "no difference": its interval [d, d] excludes 0
    return NO_DIFFERENCE if within(low, high, delta) and low <= 0 <= high else INCONCLUSIVE


def within(low: float, high: float, delta: float = DELTA) -> bool:
    """Whether the interval [``low``, ``high``] lies inside ±``delta``: no difference
    larger than ``delta`` (False for a NaN end)."""
    return bool(-delta <= low and high <= delta)


NAN_RESULT = {"diff": float("nan"), "low": float("nan"), "high": float("nan"),
              "p_value": float("nan"), "real": False}


def welch_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict:
    """Confidence interval of mean(b) - mean(a) from Welch's t-test (unequal variances).

    Args:
        a, b: one value per run (e.g. the test accuracy of each seed), at least 2 each.
        level: confidence level of the interval.

    Returns:
        ``diff``, ``low``, ``high``, ``p_value`` (two-sided, of "no difference") and
        ``real``: whether the interval excludes 0. With fewer than 2 runs in a group
        everything is NaN and ``real`` is False; when neither group has any spread there is
        no t interval: the exact :func:`permutation_test` answers instead (the interval
        [d, d] of a difference known exactly, its p-value, ``p_min`` and ``test``).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    _check_level(level)
    if len(a) < 2 or len(b) < 2 or np.isnan(a).any() or np.isnan(b).any():
        return dict(NAN_RESULT)
    if no_spread(a, b):
        return permutation_test(a, b)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    # Welch-Satterthwaite degrees of freedom
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return _t_interval(float(b.mean() - a.mean()), float(np.sqrt(va + vb)), df, level)


def paired_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict:
    """Confidence interval of mean(b - a) for paired values (e.g. one trained net per seed
    evaluated two ways): a t interval on the differences. Same keys as
    :func:`welch_interval` (differences without spread: the exact sign-flip test, with the
    interval [d, d])."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    _check_level(level)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    d = b - a
    if len(d) < 2 or np.isnan(d).any():
        return dict(NAN_RESULT)
    if no_spread(a, b, paired=True):
        return permutation_test(a, b, paired=True)
    return _t_interval(float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), len(d) - 1,
                       level)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level={level}: the confidence level must be in (0, 1), e.g. 0.95")


def _t_interval(diff: float, se: float, df: float, level: float) -> dict:
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    low, high = diff - half, diff + half
    return {"diff": diff, "low": low, "high": high, "p_value": p,
            "real": bool(low > 0 or high < 0)}


#: Runs per arm below which a comparison gets no verdict (the interval is still given).
MIN_RUNS = 5


def can_decide(runs: tuple[int, int], p_min: float, multiplier: int = 1,
               alpha: float = 0.05, min_runs: int = MIN_RUNS, *,
               equivalence: bool = False) -> bool:
    """The one rule for "too few runs": a comparison can be decided when each arm has at
    least ``min_runs`` runs and its test's smallest attainable p-value (``p_min``, 0 for a t
    test), times the Holm ``multiplier`` its rank gets (1 alone, m - rank + 1 in a family of
    m, the first rank of a tie for tied p-values), falls below ``alpha``. A 5-pair sign-flip
    test (p_min = 2/32 = 0.0625) never can; a 5-vs-5 permutation test (2/252) can, up to a
    multiplier of 6. A NaN ``p_min`` is not small: it cannot.

    With ``equivalence`` (the verdict is "no difference > δ", which rests on its interval
    alone and claims no significance) only the number of runs counts: identical arms
    without spread (p = 1) read as arms a hair apart do under Welch's interval."""
    if min(runs) < min_runs:
        return False
    if equivalence:
        return True
    return bool(p_min * multiplier < alpha)  # False for NaN


def compare(
    table: pd.DataFrame, factor: str, baseline: object, treatment: object = None, *,
    by: Sequence[str] = (), value: str = "test_accuracy", level: float = 0.95,
    pair_by: str | None = None, min_runs: int = MIN_RUNS, delta: float = DELTA,
) -> pd.DataFrame:
    """Treatment minus baseline of ``value``, with its interval and verdict, within each
    group.

    Args:
        table: one row per run (e.g. from :func:`bnnet.study.analysis.results_table`).
        factor: the column that differs between the arms (e.g. ``"bn"``).
        baseline: its value for the baseline arm (e.g. ``False``).
        treatment: its value for the other arm; ``None`` = every other value in turn.
        by: columns within whose groups the arms are compared (e.g. ``["net", "sigma"]``).
        value: the measured column.
        level: confidence level.
        pair_by: a column that pairs the runs of the two arms (e.g. ``"seed"`` when each
            trained net is evaluated two ways): a paired t interval instead of Welch's.
        min_runs: an arm with fewer runs gets the verdict "too few runs" (with 3 seeds a
            95% interval is wide and a single lucky seed decides; the study asks for 5).
        delta: the negligible difference (:data:`DELTA`).

    Returns:
        one row per group and treatment: the ``by`` columns, ``factor`` (the treatment),
        ``runs`` ("n_baseline/n_treatment"), ``diff``, ``low``, ``high``, ``p_value``,
        ``p_min`` (the smallest p-value the test can give: 0 for a t test), ``test``
        (Welch t, paired t, permutation when an arm is bimodal or no arm has spread, none
        when both arms are at chance) and ``verdict`` (:func:`judge`; "both at chance";
        "too few runs" when :func:`can_decide` says so, the interval still computed from
        2 runs on). Arms without spread have the interval [d, d]; bimodal arms none (NaN).
        :func:`holm` then applies the section's correction.
    """
    by = list(by)
    missing = [c for c in [*by, factor, value] if c not in table.columns]
    if missing:
        raise KeyError(f"compare: the table has no column(s) {missing}")
    groups = table.groupby(by, sort=False) if by else [((), table)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        arm_a = group[group[factor] == baseline]
        others = ([treatment] if treatment is not None
                  else [v for v in dict.fromkeys(group[factor]) if v != baseline])
        for other in others:
            arm_b = group[group[factor] == other]
            if pair_by is None:
                a, b = arm_a[value].to_numpy(), arm_b[value].to_numpy()
            else:
                both = arm_a.merge(arm_b, on=pair_by, suffixes=("_a", "_b"))
                a, b = both[f"{value}_a"].to_numpy(), both[f"{value}_b"].to_numpy()
            test, result = _test(a, b, level, paired=pair_by is not None)
            p_min = float(result.get("p_min", 0.0))
            if test == NO_TEST:
                verdict = BOTH_AT_CHANCE
            elif np.isnan(result["diff"]):
                verdict = TOO_FEW
            else:
                verdict = judge(result, delta, 1 - level)
                if not can_decide((len(a), len(b)), p_min, 1, 1 - level, min_runs,
                                  equivalence=verdict == NO_DIFFERENCE):
                    verdict = TOO_FEW
            rows.append({**dict(zip(by, key, strict=True)), factor: other,
                         "runs": f"{len(a)}/{len(b)}", "n_a": len(a), "n_b": len(b),
                         "diff": result["diff"],
                         "low": result["low"], "high": result["high"],
                         "p_value": result["p_value"], "test": test, "verdict": verdict,
                         "p_min": p_min if test != NO_TEST else float("nan"),
                         "min_runs": min_runs})
    return pd.DataFrame(rows)


def _test(a: np.ndarray, b: np.ndarray, level: float, *, paired: bool) -> tuple[str, dict]:
    """Which test the two arms get, and its result."""
    if len(a) and len(b) and at_chance(a).all() and at_chance(b).all():
        return NO_TEST, {"diff": float(b.mean() - a.mean()), "low": float("nan"),
                         "high": float("nan"), "p_value": float("nan")}
    if min(len(a), len(b)) >= 2 and (is_bimodal(a) or is_bimodal(b)
                                      or no_spread(a, b, paired=paired)):
        return PERMUTATION, permutation_test(a, b, paired=paired)
    if paired:
        return PAIRED, paired_interval(a, b, level)
    return WELCH, welch_interval(a, b, level)


def holm(tables: Sequence[pd.DataFrame], level: float = 0.95,
         delta: float = DELTA) -> list[pd.DataFrame]:
    """Holm's step-down correction over every tested comparison of ``tables`` (one family:
    all the comparisons a report section makes).

    With m comparisons and p-values sorted p(1) <= ... <= p(m), the adjusted p(i) is
    max over j <= i of min(1, (m - j + 1) p(j)); a comparison stays "real" (or "real, below
    δ") only when its adjusted p-value is below 1 - ``level`` (which keeps the chance of any
    false "real" in the family at 1 - ``level``), else it becomes "no difference > δ" when
    its interval lies inside ±``delta`` and "inconclusive" otherwise. A comparison whose
    test could not reach significance even at its smallest p-value, with the multiplier
    m - i + 1 of its rank i, is "too few runs" (:func:`can_decide`). The equivalence claims
    ("no difference > δ") are not corrected: they rest on each interval alone, and need no
    test that could reach significance. Rows without a test ("both at chance", "too few
    runs") are not in the family.

    Tied p-values share their rank: they get the same adjusted p-value (the step-down's
    maximum makes it that of the first of them) and the same multiplier, m - f + 1 for the
    first rank f of the tie, so identical comparisons get identical verdicts in any order.
    A NaN p-value ranks last and its adjusted p-value is NaN, which never counts as below
    1 - ``level``; a NaN ``p_min`` cannot decide (a table without a ``p_min`` column, made by
    hand, has t tests: no limit).

    Returns:
        copies of ``tables`` with ``p_holm``, ``multiplier`` (m - f + 1, f the first rank of
        the row's p-value) and ``family`` (m) columns and the verdicts corrected.
    """
    _check_level(level)
    alpha = 1 - level
    judged = [(t, i) for t, table in enumerate(tables) for i in range(len(table))
              if table["verdict"].iloc[i] in TESTED]
    p = np.array([tables[t]["p_value"].iloc[i] for t, i in judged], dtype=float)
    m = len(p)
    adjusted, multiplier = np.full(m, np.nan), np.zeros(m, dtype=int)
    if m:
        order = np.argsort(p, kind="stable")  # NaN last
        ranked = p[order]
        # the first rank of each p-value: a tie shares it, whatever the order of its rows
        first = np.searchsorted(ranked, ranked, side="left")
        multiplier[order] = m - first
        steps = np.minimum(1.0, (m - np.arange(m)) * ranked)
        adjusted[order] = np.maximum.accumulate(steps)
    out = [table.assign(p_holm=np.nan, multiplier=np.nan, family=m) for table in tables]
    for (t, i), p_adj, mult in zip(judged, adjusted, multiplier, strict=True):
        row = out[t].index[i]
        out[t].loc[row, ["p_holm", "multiplier"]] = [p_adj, mult]
        r = out[t].loc[row]
        # the arm sizes compare() counted (a table made by hand without them: no limit)
        runs = (int(r.get("n_a", 99)), int(r.get("n_b", 99)))
        p_min = float(r["p_min"]) if "p_min" in r.index else 0.0
        min_runs = int(r["min_runs"]) if "min_runs" in r and np.isfinite(r["min_runs"]) else 0
        verdict = r["verdict"]
        if verdict in SIGNIFICANT and not p_adj < alpha:  # a NaN p_adj never survives
            verdict = NO_DIFFERENCE if within(r["low"], r["high"], delta) else INCONCLUSIVE
        if not can_decide(runs, p_min, int(mult), alpha, min_runs,
                          equivalence=verdict == NO_DIFFERENCE):
            verdict = TOO_FEW
        out[t].loc[row, "verdict"] = verdict
    return out


#: Display formats of a :func:`compare` table in percentage points (see :func:`in_points`).
POINTS_FORMATS = {"diff": "{:+.2f}", "low": "{:+.2f}", "high": "{:+.2f}", "p_value": "{:.3f}",
                  "p_holm": "{:.3f}", "p_min": "{:.3f}"}


def in_points(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`compare` table with ``diff``, ``low`` and ``high`` in percentage points
    (accuracies are fractions), for display with :data:`POINTS_FORMATS`."""
    return table.assign(**{c: 100 * table[c] for c in ("diff", "low", "high")})


def comparison(table: pd.DataFrame, **where: object) -> dict:
    """The one row of a comparison table written in percentage points (a report's
    ``*_ci.csv``, :func:`in_points`) whose columns equal ``where``, with ``diff``, ``low``
    and ``high`` back in fractions (what the prose's ``effect`` takes)."""
    match = table
    for column, value in where.items():
        match = match[match[column] == value]
    (found,) = match.to_dict("records")
    return {**found, **{k: found[k] / 100 for k in ("diff", "low", "high")}}
