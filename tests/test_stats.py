import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from bnnet.study.stats import compare, in_points, paired_interval, welch_interval


def test_welch_interval_agrees_with_scipys_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.50, 0.01, 5), rng.normal(0.52, 0.02, 7)
    r = welch_interval(a, b)
    ref = sps.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert r["diff"] == pytest.approx(b.mean() - a.mean())
    assert (r["low"], r["high"]) == pytest.approx((ci.low, ci.high))
    assert r["p_value"] == pytest.approx(ref.pvalue)
    assert r["real"] == (ci.low > 0 or ci.high < 0)


def test_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = sum(
        (r := welch_interval(rng.normal(0, 1, 5), rng.normal(0.3, 2, 5)))["low"] <= 0.3
        <= r["high"] for _ in range(2000))
    assert 0.93 < hits / 2000 < 0.97


def test_degenerate_groups():
    same = welch_interval([0.1, 0.1, 0.1], [0.1, 0.1, 0.1])
    assert same["diff"] == 0 and not same["real"] and same["p_value"] == 1
    apart = welch_interval([0.1, 0.1], [0.5, 0.5])
    assert apart["real"] and apart["low"] == apart["high"] == pytest.approx(0.4)
    few = welch_interval([0.5], [0.5, 0.6])
    assert np.isnan(few["diff"]) and not few["real"]
    with pytest.raises(ValueError, match="level"):
        welch_interval([1, 2], [3, 4], level=95)


def test_compare_gives_one_verdict_per_group():
    rng = np.random.default_rng(2)
    rows = []
    for net, effect in (("3-layer", 0.0), ("9-layer", 0.05)):
        for bn in (False, True):
            for seed in range(5):
                acc = 0.5 + (effect if bn else 0) + rng.normal(0, 0.005)
                rows.append({"net": net, "batch_norm": bn, "seed": seed, "test_accuracy": acc})
    rows.append({"net": "1-layer", "batch_norm": True, "seed": 0, "test_accuracy": 0.4})
    out = compare(pd.DataFrame(rows), "batch_norm", False, True, by=["net"])
    verdicts = dict(zip(out["net"], out["verdict"], strict=True))
    assert verdicts == {"3-layer": "noise", "9-layer": "real", "1-layer": "too few runs"}
    assert out.loc[out.net == "9-layer", "diff"].item() == pytest.approx(0.05, abs=0.01)
    assert out.loc[out.net == "3-layer", "runs"].item() == "5/5"
    with pytest.raises(KeyError, match="sigma"):
        compare(pd.DataFrame(rows), "batch_norm", False, True, by=["sigma"])


def test_compare_every_variant_with_the_baseline():
    table = pd.DataFrame({"variant": ["base"] * 3 + ["wide"] * 3 + ["deep"] * 3,
                          "test_accuracy": [0.50, 0.51, 0.49, 0.60, 0.61, 0.59,
                                            0.50, 0.52, 0.48]})
    out = compare(table, "variant", "base")
    assert out["variant"].tolist() == ["wide", "deep"]
    assert out["verdict"].tolist() == ["too few runs"] * 2  # 3 runs per arm: no verdict
    assert out["low"].notna().all()  # but the interval is there
    out = compare(table, "variant", "base", min_runs=3)
    assert out["verdict"].tolist() == ["real", "noise"]
    shown = in_points(out)
    assert shown["diff"].tolist() == pytest.approx([10.0, 0.0], abs=1e-9)
    assert shown["low"].tolist() == pytest.approx((100 * out["low"]).tolist())
    assert out["diff"].tolist() == pytest.approx([0.10, 0.0], abs=1e-12)


def test_paired_interval_agrees_with_scipy_and_is_used_when_runs_are_paired():
    rng = np.random.default_rng(3)
    a = rng.normal(0.5, 0.02, 6)  # seed-to-seed spread much larger than the effect...
    b = a + 0.004 + rng.normal(0, 0.001, 6)  # ...which the pairing removes
    r = paired_interval(a, b)
    ci = sps.ttest_rel(b, a).confidence_interval(0.95)
    assert (r["low"], r["high"]) == pytest.approx((ci.low, ci.high))
    assert r["real"]
    table = pd.DataFrame({"seed": list(range(6)) * 2, "how": ["a"] * 6 + ["b"] * 6,
                          "test_accuracy": np.concatenate([a, b])})
    assert compare(table, "how", "a", pair_by="seed")["verdict"].item() == "real"
    assert compare(table, "how", "a")["verdict"].item() == "noise"  # unpaired: swamped
    with pytest.raises(ValueError, match="equal lengths"):
        paired_interval(a, b[:3])
