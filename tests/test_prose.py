"""Report prose: computed from results, never typed into Markdown cells."""

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from bnnet.report.notebook import NOTEBOOKS as REPORT_NOTEBOOKS
from bnnet.report.prose import (
    EARLIER_SOURCE,
    at_chance,
    at_least,
    at_most,
    count,
    curve_sentence,
    earlier_reports,
    effect,
    interval,
    outcome,
    pct,
    pm,
    points,
    prose,
    sci,
    seeds_at_chance,
    stated_figures,
)
from bnnet.study.analysis import curve_reading
from bnnet.study.stats import compare

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def row(diff, low, high, verdict):
    return {"diff": diff, "low": low, "high": high, "verdict": verdict}


def test_formatters_give_the_table_figures():
    assert pct(0.53474) == "53.5%"
    assert pct(0.53474, 2) == "53.47%"
    assert pm([0.52, 0.53, 0.54]) == "53.00 ± 1.00%"
    assert points(0.0071) == "+0.71 points"
    assert points(-0.008) == "−0.80 points"
    assert points(-0.008, signed=False) == "0.80 points"
    # a difference that rounds to zero has no sign: "−0.00" would claim a direction
    assert points(-0.00004) == "0.00 points" and points(0.00004) == "0.00 points"
    assert interval(row(0.0, -0.00004, 0.002, "inconclusive")) == "[0.00, +0.20]"
    assert interval(row(0.007, 0.003, 0.0112, "real")) == "[+0.30, +1.12]"
    assert sci(0.0026) == r"$2.6 \cdot 10^{-3}$"
    assert sci(9.96e-5) == r"$1.0 \cdot 10^{-4}$"
    assert sci(0.0) == "$0$"
    assert sci(1e-4) == "$10^{-4}$" and sci(0.1) == "$10^{-1}$"  # exact powers of ten
    assert sci(1.4) == "$1.4$"
    assert count(1, "seed") == "1 seed" and count(5, "seed") == "5 seeds"
    assert pct(float("nan")) == "n/a" and pm([]) == "n/a"


def test_a_difference_whose_interval_includes_zero_is_never_a_gain():
    unsure = effect(row(0.002, -0.0044, 0.008, "inconclusive"))
    assert unsure == ("changes test accuracy by +0.20 points, inconclusive (95% interval "
                      "[−0.44, +0.80])")
    assert "raises" not in unsure and "lowers" not in unsure
    none = effect(row(0.002, -0.001, 0.003, "no difference > δ"))
    assert none == ("changes test accuracy by +0.20 points: no difference larger than 0.50 "
                    "points (95% interval [−0.10, +0.30])")
    holm_only = effect({**row(0.006, 0.001, 0.011, "inconclusive"), "family": 6,
                        "p_holm": 0.08})
    assert "excludes 0, but not after the correction for the 6 comparisons" in holm_only
    assert effect({**row(0.0, float("nan"), float("nan"), "both at chance"),
                   "test": "none"}) == "leaves both arms at chance on every seed (no test)"
    split = effect({**row(0.1885, float("nan"), float("nan"), "real"),
                    "test": "permutation", "p_value": 2 / 252})
    assert split == ("raises test accuracy by 18.85 points (exact permutation test over the "
                     "seeds, p = 0.008; real)")
    floor = effect({**row(0.1885, float("nan"), float("nan"), "real"),
                    "test": "permutation", "p_value": 2 / 252, "p_min": 2 / 252})
    assert "p = 0.008, the smallest p these runs can give; real" in floor
    small = effect(row(0.002, 0.001, 0.003, "real, below δ"))
    assert small.startswith("raises test accuracy by 0.20 points") and "negligible" in small
    assert effect(row(0.007, 0.003, 0.011, "real")).startswith("raises test accuracy by 0.70")
    # one rule for the δ caveat: every real interval that reaches inside ±δ, either sign
    for caveat in (row(0.0053, 0.0025, 0.0081, "real"), row(0.0068, 0.0031, 0.0106, "real"),
                   row(-0.0059, -0.0086, -0.0033, "real")):
        assert "does not tell whether the difference matters" in effect(caveat)
    for clear in (row(0.008, 0.0051, 0.011, "real"), row(-0.0083, -0.0106, -0.0060, "real")):
        assert "does not tell" not in effect(clear)
    assert effect(row(-0.008, -0.012, -0.004, "real")).startswith("lowers test accuracy by 0.80")
    assert "too few runs" in effect(row(float("nan"), float("nan"), float("nan"),
                                        "too few runs"))
    # an interval from 3 seeds per arm is shown, but no gain, loss or noise verdict
    few = effect(row(0.007, 0.003, 0.011, "too few runs"))
    assert few.startswith("changes test accuracy by +0.70") and "[+0.30, +1.10]" in few
    assert "too few runs per arm for a verdict" in few and "real" not in few


def test_effect_follows_the_comparison_of_real_runs():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"arm": ["a"] * 5 + ["b"] * 5 + ["c"] * 5,
                          "test_accuracy": np.r_[0.50 + 0.002 * rng.standard_normal(5),
                                                 0.53 + 0.002 * rng.standard_normal(5),
                                                 0.50 + 0.002 * rng.standard_normal(5)]})
    ci = compare(table, "arm", "a").set_index("arm")
    assert effect(ci.loc["b"]).startswith("raises")
    assert "no difference larger than 0.50 points" in effect(ci.loc["c"])
    assert f"{100 * ci.loc['b', 'diff']:.2f} points" in effect(ci.loc["b"])


def test_outcome_says_when_seeds_stay_at_chance():
    assert outcome([0.1, 0.1, 0.1]).endswith("chance level on every seed")
    assert "(1 of 3 seeds at chance level)" in outcome([0.1, 0.5, 0.5])
    assert outcome([0.5, 0.52]) == pm([0.5, 0.52])
    assert at_chance([0.1, 0.105]) and not at_chance([0.1, 0.5])
    assert seeds_at_chance([0.1, 0.5, 0.119, 0.13]) == 2 and seeds_at_chance([]) == 0


def test_a_diverged_run_never_counts_as_trained():
    # a diverged run has no accuracy (NaN): "every seed trains" must not hold for it
    assert seeds_at_chance([0.5, float("nan")]) == 1
    assert at_chance([float("nan"), 0.1]) and not at_chance([float("nan"), 0.5])


def test_prose_is_markdown_and_earlier_reports_name_their_source():
    text = prose("  first\n", "", "second")
    bundle = text._repr_mimebundle_()
    assert bundle["text/markdown"] == "first\n\nsecond"
    assert earlier_reports("saw 53%.") == "The earlier reports R0–R4 saw 53%."
    assert "R0–R4" in EARLIER_SOURCE and "official CIFAR-10 files" in EARLIER_SOURCE


@pytest.mark.parametrize("sentence", [
    "With three layers BN gains 0.7 points (52.8% → 53.5%).",
    "gives 53.24 ± 0.34 on test",
    r"the class scores have a spread of $3 \cdot 10^{-4}$",
    "interval [+0.3, +1.1], real",
    "the difference is *noise*, which is noise)",
    "in 3.7 minutes per run",
    "over 5 seeds",
    "a ratio of 0.62 to PyTorch",
])
def test_stated_figures_finds_measured_numbers(sentence):
    assert stated_figures(sentence), sentence


@pytest.mark.parametrize("sentence", [
    r"Course defaults: $n_s = 2250$, 2 cycles, $\lambda = 0.005$, $\alpha = 0.9$.",
    "each difference comes with a 95% Welch confidence interval",
    r"a band of $\pm$ one standard deviation; mean ± std over seeds",
    "called *real* when it excludes 0 and *noise* otherwise",
    r"widened by $0.25$ on each side; `lam=0.005` in code",
])
def test_stated_figures_lets_settings_and_method_through(sentence):
    assert stated_figures(sentence) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_markdown_cell_states_a_measured_figure(path):
    """Numbers, intervals and verdicts come from the run (bnnet.prose), never from a typed
    Markdown cell, so a report on other data or a quick run cannot contradict its tables."""
    nb = nbformat.read(path, as_version=4)
    # a lab-only cell (how long the notebook runs) is not in the report
    stale = {i: stated_figures(c.source) for i, c in enumerate(nb.cells)
             if c.cell_type == "markdown" and "lab-only" not in c.metadata.get("tags", [])}
    stale = {i: f for i, f in stale.items() if f}
    assert not stale, (f"{path.name}: Markdown cells state measured figures {stale}; write "
                       "them with bnnet.report.prose.prose() from the run's tables instead")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_report_markdown_cell_has_a_greek_letter_outside_math(path):
    """The PDF's text font has no Greek: a λ typed in a Markdown cell prints as a blank
    (prose() turns them into math; a Markdown cell must write $\\lambda$ itself)."""
    if path.stem not in REPORT_NOTEBOOKS:
        pytest.skip(f"{path.stem} is not in the PDF")
    nb = nbformat.read(path, as_version=4)
    bare = {i: sorted(set(re.findall("[σλαεηγβδ]", re.sub(r"\$[^$]*\$", "", c.source))))
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and "lab-only" not in c.metadata.get("tags", [])}
    assert not {i: g for i, g in bare.items() if g}, f"{path.name}: {bare}"


def test_greek_letters_become_math_outside_math():
    text = prose(r"λ = 0.005 and $\sigma = 1$, σ = 0.1").text
    assert text == r"$\lambda$ = 0.005 and $\sigma = 1$, $\sigma$ = 0.1"


def test_the_curves_sentence_gives_the_gap_and_where_validation_accuracy_stands():
    steps = np.arange(0, 101, 10)
    rising = pd.DataFrame({"label": "a", "step": steps, "epoch": steps / 10,
                           "train_accuracy": 0.5 + steps / 1000,
                           "val_accuracy": 0.45 + steps / 2000})
    peaked = rising.assign(label="b", val_accuracy=0.5 - abs(steps - 50) / 2000)
    readings = {"a": curve_reading(rising, "a"), "b": curve_reading(peaked, "b")}
    assert readings["a"]["gap"] == pytest.approx(0.10)
    sentence = curve_sentence(readings)
    assert "by 10.00 points (a), 12.50 points (b)" in sentence
    assert "still rising at the end for the a" in sentence
    assert "past its peak (epoch 5 of 10; it ends 2.50 points lower) for the b" in sentence


def test_a_bound_a_sentence_prints_is_rounded_outward():
    # "at most 7.59" would be false of 7.594; "at least 1.50" false of 1.4955
    assert at_most(7.594) == pytest.approx(7.60) and at_least(1.4955) == pytest.approx(1.49)
    assert at_most(7.6) == pytest.approx(7.6) and at_least(1.5) == pytest.approx(1.5)
    assert at_least(1970.0, 2, significant=True) == pytest.approx(1900.0)
    assert f"{at_most(1.234e-4, 2, significant=True):.1e}" == "1.3e-04"
    assert at_most(-0.123, 1) == pytest.approx(-0.1) and at_least(-0.123, 1) == pytest.approx(-0.2)
    assert math.isnan(at_most(float("nan"))) and at_most(0.0) == 0.0

