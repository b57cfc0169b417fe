
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from bnnet.study.stats import (
    can_decide,
    compare,
    holm,
    in_points,
    is_bimodal,
    judge,
    narrowest_range,
    p_text,
    paired_interval,
    permutation_test,
    welch_interval,
)


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
    # no spread: not a t test with p = 0 but the exact test (2 of C(4, 2) = 6 splits),
    # with the interval [d, d] of a difference known exactly
    apart = welch_interval([0.1, 0.1], [0.5, 0.5])
    assert apart["low"] == apart["high"] == apart["diff"] == pytest.approx(0.4)
    assert apart["p_value"] == pytest.approx(2 / 6) and not apart["real"]
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
                acc = 0.5 + (effect if bn else 0) + rng.normal(0, 0.002)
                rows.append({"net": net, "batch_norm": bn, "seed": seed, "test_accuracy": acc})
    rows.append({"net": "1-layer", "batch_norm": True, "seed": 0, "test_accuracy": 0.4})
    out = compare(pd.DataFrame(rows), "batch_norm", False, True, by=["net"])
    verdicts = dict(zip(out["net"], out["verdict"], strict=True))
    # the 3-layer interval: within half a point of 0 on 5 seeds with a 0.2-point spread
    assert verdicts == {"3-layer": "no difference > δ", "9-layer": "real",
                        "1-layer": "too few runs"}
    assert set(out["test"]) == {"Welch t"}
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
    assert out["verdict"].tolist() == ["real", "inconclusive"]  # [-2.6, +2.6] points
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
    unpaired = compare(table, "how", "a")  # swamped by the spread of the seeds
    assert unpaired["verdict"].item() == "inconclusive" and unpaired["test"].item() == "Welch t"
    assert compare(table, "how", "a", pair_by="seed")["test"].item() == "paired t"
    with pytest.raises(ValueError, match="equal lengths"):
        paired_interval(a, b[:3])


def arms(baseline, treatment, factor="BN"):
    return pd.DataFrame({factor: ["no"] * len(baseline) + ["yes"] * len(treatment),
                         "test_accuracy": [*baseline, *treatment]})


def test_arms_whose_seeds_split_between_chance_and_trained_get_a_permutation_test():
    """Section 4's 3-layer net at sigma 1e-3: without BN the seeds reach 47.55, 30.58,
    50.81, 33.90 and 10.00 %, with BN all five 53.0-53.9 %. The Welch interval is 40 points
    wide and touches 0; that must never read as no effect."""
    no_bn, bn = [0.4755, 0.3058, 0.5081, 0.3390, 0.1000], [0.530, 0.533, 0.535, 0.539, 0.532]
    out = compare(arms(no_bn, bn), "BN", "no").iloc[0]
    assert out["test"] == "permutation"
    # every BN seed beats every no-BN seed: 2 of the 252 splits are as extreme
    assert out["p_value"] == pytest.approx(2 / 252)
    assert out["verdict"] == "real"
    assert np.isnan(out["low"]) and np.isnan(out["high"])
    welch = welch_interval(no_bn, bn)
    assert welch["low"] < 0 < welch["high"] and judge(welch) == "inconclusive"
    # after a correction for a family where it does not survive: inconclusive, not "no"
    (corrected,) = holm([pd.DataFrame([out]).assign(p_value=0.04)], level=0.99)
    assert corrected["verdict"].item() == "inconclusive"


def test_both_arms_at_chance_get_no_test_and_stay_out_of_the_family():
    out = compare(arms([0.1] * 5, [0.1] * 5), "BN", "no")
    assert out["verdict"].item() == "both at chance" and out["test"].item() == "none"
    assert np.isnan(out["p_value"].item())
    other = compare(arms([0.50, 0.51, 0.49, 0.50, 0.52], [0.55, 0.56, 0.55, 0.54, 0.56]),
                    "BN", "no")
    chance, trained = holm([out, other])
    assert chance["verdict"].item() == "both at chance" and np.isnan(chance["p_holm"].item())
    assert trained["family"].item() == 1 and trained["verdict"].item() == "real"


def test_the_verdict_words_follow_the_interval():
    assert judge({"low": 0.001, "high": 0.01, "p_value": 0.01}) == "real"
    assert judge({"low": -0.004, "high": 0.0045, "p_value": 0.5}) == "no difference > δ"
    assert judge({"low": -0.0044, "high": 0.0089, "p_value": 0.5}) == "inconclusive"
    assert judge({"low": -0.40, "high": 0.01, "p_value": 0.06}) == "inconclusive"
    assert judge({"low": -0.004, "high": 0.0045, "p_value": 0.5}, delta=0.002) == "inconclusive"
    # real at 95 % alone, not after Holm: the no-difference word only inside ±delta
    table = pd.DataFrame({"diff": [0.002, 0.01, 0.03], "low": [0.0005, 0.001, 0.02],
                          "high": [0.0035, 0.019, 0.04], "p_value": [0.03, 0.04, 0.001],
                          "verdict": ["real"] * 3})
    (out,) = holm([table])
    assert out["verdict"].tolist() == ["no difference > δ", "inconclusive", "real"]


def test_the_permutation_tests_agree_with_scipys():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.5, 0.05, 5), rng.normal(0.55, 0.05, 5)
    mean_diff = lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis)  # noqa: E731
    exact = sps.permutation_test((a, b), mean_diff, permutation_type="independent",
                                 n_resamples=np.inf)
    mine = permutation_test(a, b)
    assert mine["exact"] and mine["p_value"] == pytest.approx(exact.pvalue)
    assert mine["p_min"] == pytest.approx(2 / 252)
    paired = sps.permutation_test((a, b), mean_diff, permutation_type="samples",
                                  n_resamples=np.inf)
    assert permutation_test(a, b, paired=True)["p_value"] == pytest.approx(paired.pvalue)
    sampled = permutation_test(np.arange(12) / 100, np.arange(12) / 100 + 0.05, max_exact=10,
                               n_random=2000)
    assert not sampled["exact"] and 0 < sampled["p_value"] < 0.1  # never 0 when sampled


def test_a_permutation_test_that_cannot_reach_significance_is_too_few_runs():
    """3 runs per arm: the smallest two-sided p-value is 2/20 = 0.1."""
    out = compare(arms([0.1, 0.45, 0.46], [0.5, 0.51, 0.52]), "BN", "no", min_runs=3)
    assert out["test"].item() == "permutation" and out["p_min"].item() == pytest.approx(0.1)
    (corrected,) = holm([out])
    assert corrected["verdict"].item() == "too few runs"


def test_one_formatter_turns_fractions_into_percent():
    from bnnet.study.stats import percent, percent_pm

    assert percent(0.53474) == "53.47%" and percent(0.53474, 1) == "53.5%"
    assert percent_pm(0.5347, 0.0023) == "53.47 ± 0.23"


def test_p_min_is_the_most_extreme_arrangement_of_these_arms():
    """Unequal arms: b's five runs above a's three is one split of C(8, 3) = 56, and its
    mirror image is not as extreme, so the exact p (and the floor) is 1/56, not 2/56."""
    a, b = [1, 2, 3], [10, 11, 12, 13, 14]
    r = permutation_test(a, b)
    assert r["p_value"] == pytest.approx(1 / 56) and r["p_min"] == pytest.approx(1 / 56)
    # reference: SciPy's one-sided exact test of the same statistic
    ref = sps.permutation_test((np.array(a, float), np.array(b, float)),
                               lambda x, y, axis: y.mean(axis) - x.mean(axis),
                               permutation_type="independent", n_resamples=np.inf,
                               alternative="greater")
    assert r["p_value"] == pytest.approx(ref.pvalue)
    assert permutation_test([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])["p_min"] == pytest.approx(2 / 252)
    assert permutation_test([0, 1, 2], [3, 4, 5], paired=True)["p_min"] == pytest.approx(2 / 8)


def test_arms_without_spread_get_the_exact_test_not_a_t_test():
    """paired_interval([0.5]*5, [0.501]*5): every difference is +0.001; the exact sign-flip
    test gives 2/32 = 0.0625 (all signs + or all -), never p = 0; the interval is the
    difference itself."""
    r = paired_interval([0.5] * 5, [0.501] * 5)
    assert r["p_value"] == pytest.approx(0.0625) and not r["real"]
    assert r["low"] == r["high"] == pytest.approx(0.001)
    out = compare(pd.DataFrame({"seed": list(range(5)) * 2, "how": ["a"] * 5 + ["b"] * 5,
                                "test_accuracy": [0.5] * 5 + [0.501] * 5}),
                  "how", "a", pair_by="seed").iloc[0]
    assert out["test"] == "permutation" and out["verdict"] == "too few runs"
    # unpaired, 5 against 5 without spread: 2/252, which can decide
    out = compare(arms([0.5] * 5, [0.52] * 5), "BN", "no").iloc[0]
    assert out["test"] == "permutation" and out["p_value"] == pytest.approx(2 / 252)
    assert out["verdict"] == "real"


def test_too_few_runs_is_one_rule_with_the_multiplier_of_the_rank():
    # a 5-pair sign-flip test cannot reach 0.05 even alone
    assert not can_decide((5, 5), 2 / 32) and can_decide((5, 5), 2 / 252, multiplier=6)
    assert not can_decide((5, 5), 2 / 252, multiplier=7) and not can_decide((3, 3), 0.0)
    # the committed 04_bn_ci row: p = 2/252 ranked 7th of 11 (multiplier 5): real
    welch_ps = [1e-10, 2e-10, 1e-9, 1e-8, 1e-7, 1e-6]
    rows = [{"diff": 0.4, "low": 0.39, "high": 0.41, "p_value": p, "test": "Welch t",
             "verdict": "real", "runs": "5/5", "p_min": 0.0, "min_runs": 5} for p in welch_ps]
    rows.append({"diff": 0.19, "low": np.nan, "high": np.nan, "p_value": 2 / 252,
                 "test": "permutation", "verdict": "real", "runs": "5/5", "p_min": 2 / 252,
                 "min_runs": 5})
    rows += [{"diff": 0.0, "low": -0.1, "high": 0.1, "p_value": p, "test": "Welch t",
              "verdict": "inconclusive", "runs": "5/5", "p_min": 0.0, "min_runs": 5}
             for p in (0.07, 0.4, 0.5, 0.9)]
    (out,) = holm([pd.DataFrame(rows)])
    perm = out.iloc[6]
    assert perm["multiplier"] == 5 and perm["p_holm"] == pytest.approx(5 * 2 / 252)
    assert perm["verdict"] == "real"
    # a Welch p = 0.001 and a 4-vs-4 permutation p = 4/70 in one family: the permutation
    # ranks 2nd (multiplier 1), its floor 2/70 could survive: inconclusive, not too few
    pair = pd.DataFrame([
        {"diff": 0.05, "low": 0.02, "high": 0.08, "p_value": 0.001, "test": "Welch t",
         "verdict": "real", "runs": "5/5", "p_min": 0.0, "min_runs": 4},
        {"diff": 0.05, "low": np.nan, "high": np.nan, "p_value": 4 / 70, "test": "permutation",
         "verdict": "inconclusive", "runs": "4/4", "p_min": 2 / 70, "min_runs": 4}])
    (out,) = holm([pair])
    assert out["verdict"].tolist() == ["real", "inconclusive"]
    # no row of a corrected table contradicts the rule it was judged by
    for _, r in out.iterrows():
        decidable = can_decide(tuple(map(int, r["runs"].split("/"))), r["p_min"],
                               int(r["multiplier"]), 0.05, int(r["min_runs"]))
        assert decidable == (r["verdict"] != "too few runs")


def test_a_real_difference_inside_delta_has_its_own_words():
    assert judge({"low": 0.001, "high": 0.004, "p_value": 0.01}) == "real, below δ"
    assert judge({"low": 0.001, "high": 0.006, "p_value": 0.01}) == "real"
    rng = np.random.default_rng(5)
    a = rng.normal(0.5, 0.0005, 10)
    out = compare(arms(a, a + 0.002), "BN", "no").iloc[0]
    assert out["verdict"] == "real, below δ"
    (corrected,) = holm([pd.DataFrame([out])])
    assert corrected["verdict"].item() == "real, below δ"
    # the same interval that does not survive a correction: no difference > δ
    (lost,) = holm([pd.DataFrame([out]).assign(p_value=0.04)], level=0.99)
    assert lost["verdict"].item() == "no difference > δ"


def test_bimodal_arms_get_the_permutation_test():
    """Section 4's ε arms at σ 1e-3: four seeds near 53 % and one near 32 %: no seed at
    chance, but two groups; a Welch interval would treat them as one normal sample."""
    eps_arm = [0.530, 0.528, 0.322, 0.533, 0.531]
    assert is_bimodal(eps_arm) and not is_bimodal([0.530, 0.528, 0.526, 0.533, 0.531])
    assert is_bimodal([0.1, 0.5, 0.51])
    out = compare(arms([0.529, 0.531, 0.527, 0.532, 0.530], eps_arm), "BN", "no").iloc[0]
    assert out["test"] == "permutation" and out["verdict"] == "inconclusive"


def test_holm_reads_the_arm_sizes_compare_counted_not_the_runs_text():
    out = compare(arms([0.1, 0.45, 0.46], [0.5, 0.51, 0.52]), "BN", "no", min_runs=3)
    assert (out["n_a"].item(), out["n_b"].item()) == (3, 3)
    (relabelled,) = holm([out.assign(runs="three seeds each")])
    (plain,) = holm([out])
    assert relabelled["verdict"].item() == plain["verdict"].item() == "too few runs"


# The edges: where a t interval stops existing, a verdict reads as its neighbours do.

def _mean_diff(x, y, axis):
    return np.mean(y, axis=axis) - np.mean(x, axis=axis)


def _paired(a, b):
    return pd.DataFrame({"seed": list(range(len(a))) * 2, "how": ["a"] * len(a) + ["b"] * len(b),
                         "test_accuracy": [*a, *b]})


def test_identical_arms_read_no_difference_like_arms_a_hair_apart():
    """[.5]*5 against [.5]*5 is the limit of [.5]*5 against a copy with one run nudged by
    1e-7: both read "no difference > δ", the one from its exact interval [0, 0] (p = 1, as
    SciPy's exact test), the other from Welch's interval (as SciPy's)."""
    same = compare(arms([0.5] * 5, [0.5] * 5), "BN", "no").iloc[0]
    ref = sps.permutation_test((np.full(5, 0.5), np.full(5, 0.5)), _mean_diff,
                               permutation_type="independent", n_resamples=np.inf)
    assert same["test"] == "permutation" and same["p_value"] == pytest.approx(ref.pvalue) == 1
    assert same["low"] == same["high"] == same["diff"] == 0
    assert same["verdict"] == "no difference > δ"
    nudged_arm = [0.5] * 4 + [0.5 + 1e-7]
    nudged = compare(arms([0.5] * 5, nudged_arm), "BN", "no").iloc[0]
    # (SciPy's reference on the arms less 0.5: the same interval, without its warning of
    # nearly identical data)
    ci = sps.ttest_ind(np.array(nudged_arm) - 0.5, np.zeros(5),
                       equal_var=False).confidence_interval(0.95)
    assert nudged["test"] == "Welch t"
    assert (nudged["low"], nudged["high"]) == pytest.approx((ci.low, ci.high), abs=1e-15)
    assert nudged["verdict"] == same["verdict"]
    # paired: 5 pairs can never make a sign-flip test significant (2/32), but an equivalence
    # claim needs no significance; the nudged pairs get a paired t interval
    pairs = compare(_paired([0.5] * 5, [0.5] * 5), "how", "a", pair_by="seed").iloc[0]
    near = compare(_paired([0.5] * 5, nudged_arm), "how", "a", pair_by="seed").iloc[0]
    assert (pairs["test"], near["test"]) == ("permutation", "paired t")
    assert pairs["verdict"] == near["verdict"] == "no difference > δ"
    # the correction leaves an equivalence claim alone, whatever the family
    assert [t["verdict"].item() for t in holm([compare(arms([0.5] * 5, [0.5] * 5), "BN", "no"),
                                               compare(arms([0.5] * 5, [0.5] * 5), "BN", "no")])
            ] == ["no difference > δ"] * 2


def test_a_constant_shift_is_read_by_the_delta_rules():
    """[.5]*5 against [.501]*5: the difference is exactly 0.1 points, inside ±δ, and the
    exact test gives 2/252 (SciPy's): "real, below δ", as the nearly constant shift reads
    under Welch's interval; a constant shift of 2 points is "real"."""
    out = compare(arms([0.5] * 5, [0.501] * 5), "BN", "no").iloc[0]
    ref = sps.permutation_test((np.full(5, 0.5), np.full(5, 0.501)), _mean_diff,
                               permutation_type="independent", n_resamples=np.inf)
    assert out["test"] == "permutation" and out["p_value"] == pytest.approx(ref.pvalue)
    assert out["p_value"] == pytest.approx(2 / 252)
    assert out["low"] == out["high"] == out["diff"] == pytest.approx(0.001)
    assert out["verdict"] == "real, below δ"
    near_arm = [0.501] * 4 + [0.501 + 1e-7]
    near = compare(arms([0.5] * 5, near_arm), "BN", "no").iloc[0]
    ci = sps.ttest_ind(np.array(near_arm) - 0.5, np.zeros(5),
                       equal_var=False).confidence_interval(0.95)
    assert near["test"] == "Welch t" and near["low"] == pytest.approx(ci.low, abs=1e-15)
    assert near["verdict"] == out["verdict"]
    (corrected,) = holm([pd.DataFrame([out])])
    assert corrected["verdict"].item() == "real, below δ"
    from bnnet.report.prose import effect

    said = effect(corrected.iloc[0])
    assert "[+0.10, +0.10]" in said and "p = 0.008" in said and "negligible" in said
    big = compare(arms([0.5] * 5, [0.52] * 5), "BN", "no").iloc[0]
    assert big["verdict"] == "real" and big["low"] == big["high"] == pytest.approx(0.02)
    # the same shift over 5 pairs: exact but beyond the sign-flip test (p_min = 2/32), and
    # its interval [d, d] excludes 0, so it is not "no difference" either
    pairs = compare(_paired([0.5] * 5, [0.501] * 5), "how", "a", pair_by="seed").iloc[0]
    assert pairs["low"] == pytest.approx(0.001) and pairs["verdict"] == "too few runs"
    # bimodal arms still have no interval (no shift model) and read by p alone
    split = compare(arms([0.4755, 0.3058, 0.5081, 0.3390, 0.1000], [0.53, 0.533, 0.535, 0.539,
                                                                     0.532]), "BN", "no").iloc[0]
    assert np.isnan(split["low"]) and split["verdict"] == "real"


def _holm_by_hand(p):
    """Holm's adjusted p-values straight from the definition: sort, multiply p(j) by
    m - j + 1 (ranks from 1), cap at 1, running maximum."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [0.0] * len(p), 0.0
    for j, i in enumerate(order, start=1):
        running = max(running, min(1.0, (len(p) - j + 1) * p[i]))
        adjusted[i] = running
    return adjusted


def test_holm_gives_tied_p_values_the_same_verdict_in_any_order():
    """Seven identical comparisons, p = p_min = 1/42 each: one adjusted p-value (7/42) and
    one multiplier (7), so seven "too few runs", never some of them "inconclusive" by the
    order the tie was broken in."""
    row = {"diff": 0.01, "low": np.nan, "high": np.nan, "p_value": 1 / 42, "p_min": 1 / 42,
           "test": "permutation", "verdict": "real", "runs": "5/5", "n_a": 5, "n_b": 5,
           "min_runs": 5}
    (out,) = holm([pd.DataFrame([row] * 7)])
    assert out["p_holm"].tolist() == pytest.approx(_holm_by_hand([1 / 42] * 7))
    assert out["p_holm"].tolist() == pytest.approx([7 / 42] * 7)
    assert set(out["multiplier"]) == {7} and set(out["verdict"]) == {"too few runs"}
    # a family with ties among other p-values, in every rotation: each row's adjusted p is
    # the hand computation's and its verdict depends on the row, not on its place
    ps = [0.004, 0.011, 0.011, 0.011, 0.0125, 0.3]
    rows = [{**row, "name": f"r{i}", "p_value": p, "p_min": 0.011 if i else 0.0,
             "verdict": "real"} for i, p in enumerate(ps)]
    verdicts = None
    for shift in range(len(rows)):
        table = pd.DataFrame(rows[shift:] + rows[:shift])
        (out,) = holm([table])
        assert out["p_holm"].tolist() == pytest.approx(_holm_by_hand(table["p_value"].tolist()))
        by_name = dict(zip(out["name"], out["verdict"], strict=True))
        assert verdicts in (None, by_name)
        verdicts = by_name
    # the tie of three at 0.011 ranks 2nd of 6: multiplier 5 for each, and its floor
    # 5 * 0.011 cannot fall below 0.05; 0.0125 (multiplier 2) could, but its adjusted p
    # (0.055) does not
    assert [verdicts[f"r{i}"] for i in range(6)] == (["real"] + ["too few runs"] * 3
                                                     + ["inconclusive"] * 2)


def test_a_nan_p_value_is_never_small_and_reads_n_a():
    from bnnet.report.prose import effect

    nan = float("nan")
    assert p_text(nan) == "n/a" and p_text(None) == "n/a" and p_text(2 / 252) == "0.008"
    perm = {"diff": 0.1885, "low": nan, "high": nan, "p_value": nan, "p_min": 2 / 252,
            "test": "permutation", "verdict": "inconclusive"}
    said = effect(perm)
    assert "p = n/a" in said and "0.000" not in said and "nan" not in said
    welch = {"diff": 0.006, "low": 0.001, "high": 0.011, "verdict": "inconclusive",
             "family": 6, "p_holm": nan}
    assert "Holm-adjusted p = n/a" in effect(welch)
    # never a verdict as if it were small: not real alone, not real after the correction,
    # and a NaN floor (smallest attainable p) cannot decide
    assert judge({"low": nan, "high": nan, "p_value": nan}) == "inconclusive"
    assert judge({**perm, "p_value": nan}) == "inconclusive"
    assert not can_decide((5, 5), nan)
    (out,) = holm([pd.DataFrame([{**perm, "verdict": "real", "runs": "5/5", "min_runs": 5,
                                  "n_a": 5, "n_b": 5}])])
    assert np.isnan(out["p_holm"].item()) and out["verdict"].item() == "inconclusive"
    (floorless,) = holm([pd.DataFrame([{**perm, "p_value": 2 / 252, "p_min": nan,
                                        "verdict": "real", "runs": "5/5", "min_runs": 5,
                                        "n_a": 5, "n_b": 5}])])
    assert floorless["verdict"].item() == "too few runs"


def test_the_narrowest_range_is_the_tightest_group_of_k_runs_in_any_order():
    values = [0.532, 0.5276, 0.5283, 0.5261, 0.5316]  # section 4's five seeds at sigma 0.1
    assert narrowest_range(values, 5) == pytest.approx(np.ptp(values))
    assert narrowest_range(values, 4) == pytest.approx(0.532 - 0.5276)
    assert narrowest_range(values[::-1], 4) == narrowest_range(values, 4)
    assert narrowest_range(values, 1) == 0.0
    # against the definition: the smallest range over every choice of k of the values
    for k in range(1, len(values) + 1):
        brute = min(np.ptp(group) for group in itertools.combinations(values, k))
        assert narrowest_range(values, k) == pytest.approx(brute)
    # too few values for k (or no k at all): no range to compare with
    assert math.isnan(narrowest_range(values, 6))
    assert math.isnan(narrowest_range(values, 0))
    assert math.isnan(narrowest_range([], 1))
