"""The lambda search (bnnet.study.search): seeded, sorted, every lambda with every seed,
and a smoothed optimum with an interval."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import bnnet.study.search as search_module
from bnnet import Config
from bnnet.study.search import (
    fine_range,
    lambda_search,
    recommended_lam,
    sample_lambdas,
    smooth_optimum,
)
from tests.conftest import SMALL


def test_lambda_search_is_seeded_sorted_and_reports_diverged_trials(spec):
    base = Config(**SMALL, bn="none")
    table, results = lambda_search(base, spec, (-4, -1), 4, seed=3, progress=False)
    assert len(table) == 4 and len(results) == 4
    assert table["val_accuracy"].is_monotonic_decreasing
    np.testing.assert_allclose(sorted(table["lam"]), sorted(sample_lambdas(-4, -1, 4, 3)))
    lo, hi = fine_range(table)
    assert lo < table["log10_lam"].iloc[0] < hi

    exploding = base.replace(eta_min=1e3, eta_max=1e4)
    with np.errstate(all="ignore"):
        bad, _ = lambda_search(exploding, spec, (-4, -1), 2, seed=3, progress=False)
    assert bad["diverged"].all() and bad["val_accuracy"].isna().all()
    with pytest.raises(ValueError, match="every trial diverged"):
        fine_range(bad)

def test_lambda_search_trains_every_lambda_with_every_seed(spec):
    base = Config(**SMALL)
    table, _ = lambda_search(base, spec, (-4, -2), 2, seed=5, seeds=[0, 1], progress=False)
    assert len(table) == 4
    assert sorted(zip(table["lam"].round(12), table["seed"], strict=True)) == sorted(
        (round(float(lam), 12), s) for lam in sample_lambdas(-4, -2, 2, 5) for s in (0, 1))
    with pytest.raises(ValueError, match="at least one training seed"):
        lambda_search(base, spec, (-4, -2), 2, seeds=[], progress=False)

def test_smooth_optimum_finds_the_peak_under_seed_noise_with_an_interval():
    rng = np.random.default_rng(1)
    u = np.repeat(rng.uniform(-4, -2, 10), 2)
    acc = 0.54 - 0.02 * (u + 2.7) ** 2 + rng.normal(0, 0.003, u.size)  # peak at -2.7
    table = pd.DataFrame({"log10_lam": u, "lam": 10 ** u, "val_accuracy": acc})
    best = smooth_optimum(table, seed=0)
    assert best["low"] < -2.7 < best["high"] and abs(best["log10_lam"] + 2.7) < 0.15
    assert best["high"] - best["low"] < 0.6 and not best["at_edge"]
    assert best["lam"] == pytest.approx(10 ** best["log10_lam"])
    assert np.polyval(best["coef"], best["log10_lam"]) == pytest.approx(best["peak_accuracy"])
    assert best["coef"][0] < 0  # the fit that was maximised, for the figure to draw
    assert smooth_optimum(table, seed=0) == best  # seeded bootstrap
    # a lucky single run far from the peak is the best run, but not what is chosen
    lucky = table["log10_lam"].idxmin()
    table.loc[lucky, "val_accuracy"] = acc.max() + 0.005
    assert table["val_accuracy"].idxmax() == lucky
    assert abs(smooth_optimum(table)["log10_lam"] + 2.7) < 0.3
    rising = table.assign(val_accuracy=0.5 + 0.01 * u)  # no maximum inside: the better end
    edge = smooth_optimum(rising)
    assert edge["at_edge"] and edge["log10_lam"] == pytest.approx(u.max())
    with pytest.raises(ValueError, match="at least 4 runs at 3 or more"):
        smooth_optimum(table.head(2))


def fake_train(base, spec, lams, *, seeds=(0,), **_):
    """train_lambdas without training: validation accuracy peaks at log10 lambda = -3.6."""
    u = np.repeat(np.log10(np.asarray(lams, dtype=float)), len(seeds))
    acc = 0.54 - 0.02 * (u + 3.6) ** 2
    return pd.DataFrame({"lam": 10 ** u, "log10_lam": u, "seed": list(seeds) * len(lams),
                         "val_accuracy": acc, "test_accuracy": acc, "diverged": False}), []


def test_the_search_range_grows_until_the_optimum_is_inside_it(monkeypatch):
    """The true optimum (log10 lambda = -3.6) lies below the first fine range [-3, -2]: the
    search adds strips below its lower edge until the fit has an interior maximum, and says
    which strips it added; a range that holds the optimum is never extended."""
    search = search_module
    monkeypatch.setattr(search, "train_lambdas", fake_train)
    table, best, strips = search.search_to_interior(
        Config(), None, (-3.0, -2.0), 4, seeds=[0, 1], step=0.5, n_extra=2, max_gap=None,
        progress=False)
    first_lo = float(np.log10(search.sample_lambdas(-3.0, -2.0, 4, 0)).min())
    assert strips[0] == pytest.approx((first_lo - 0.5, first_lo))  # below the lower edge
    assert all(hi <= -2.0 and lo < hi for lo, hi in strips) and 1 <= len(strips) <= 3
    assert not best["at_edge"] and abs(best["log10_lam"] + 3.6) < 0.1
    assert len(table) == 2 * (4 + 2 * len(strips)) and table["val_accuracy"].is_monotonic_decreasing
    inside, best_inside, none = search.search_to_interior(Config(), None, (-4.0, -3.0), 4,
                                                          max_gap=None, progress=False)
    assert none == [] and not best_inside["at_edge"] and len(inside) == 4
    # a range the optimum cannot be brought into within max_extensions: said, not hidden
    _, stuck, added = search.search_to_interior(Config(), None, (-1.5, -1.0), 4,
                                                max_extensions=1, max_gap=None, progress=False)
    assert len(added) == 1 and stuck["at_edge"]


def test_one_rule_recommends_lambda_in_every_section():
    assert recommended_lam({"verdict": "real", "diff": 0.004}, 0.002, 0.005) == 0.002
    for verdict, diff in [("real", -0.004), ("real, below δ", 0.002),
                          ("inconclusive", 0.004), ("no difference > δ", 0.001)]:
        assert recommended_lam({"verdict": verdict, "diff": diff}, 0.002, 0.005) == 0.005


def test_gap_fillers_leave_no_gap_wider_than_asked():
    u = [-2.68, -2.51, -2.40, -2.32, -1.88]
    filled = sorted(u + search_module.gap_fillers(u, 0.25))
    assert max(b - a for a, b in itertools.pairwise(filled)) <= 0.25 + 1e-12
    assert len(filled) == len(u) + 1  # only the 0.44-decade gap needed a point
    assert search_module.gap_fillers([-3.0, -2.0], 0.25) == pytest.approx([-2.75, -2.5, -2.25])
    assert search_module.gap_fillers(u[:4], 0.25) == []


def test_the_fine_search_fills_its_gaps_with_every_seed(monkeypatch):
    monkeypatch.setattr(search_module, "train_lambdas", fake_train)
    table, _, _ = search_module.search_to_interior(Config(), None, (-4.5, -2.5), 3,
                                                   seeds=[0, 1], max_gap=0.25, progress=False)
    u = np.sort(table["log10_lam"].unique())
    assert np.diff(u).max() <= 0.25 + 1e-12
    assert (table.groupby("lam")["seed"].nunique() == 2).all()


def _fine_table(means: dict[float, list[float]]) -> pd.DataFrame:
    rows = [{"lam": lam, "log10_lam": np.log10(lam), "seed": k, "val_accuracy": v}
            for lam, values in means.items() for k, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_choose_lam_takes_the_fit_only_when_its_interval_holds_the_best_measured_lambda():
    table = _fine_table({1e-3: [0.50, 0.51, 0.50], 3e-3: [0.54, 0.55, 0.545],
                         1e-2: [0.52, 0.52, 0.53]})
    fit = {"lam": 2.5e-3, "low": np.log10(2e-3), "high": np.log10(4e-3)}
    chosen = search_module.choose_lam(table, fit)
    assert chosen["rule"] == "fit" and chosen["adequate"] and chosen["lam"] == 2.5e-3
    assert chosen["best_mean_lam"] == 3e-3
    # the fit's interval misses the best-measured lambda: that lambda, with its interval
    off = search_module.choose_lam(table, {**fit, "high": np.log10(2.8e-3)})
    assert off["rule"] == "best mean" and not off["adequate"] and off["lam"] == 3e-3
    ref = sps.t.interval(0.95, 2, loc=np.mean([0.54, 0.55, 0.545]),
                         scale=sps.sem([0.54, 0.55, 0.545]))
    assert (off["best_low"], off["best_high"]) == pytest.approx(ref)
