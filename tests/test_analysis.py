"""Tables of trained nets (bnnet.study.analysis): summaries, BN statistics variants,
test-time flips."""

import numpy as np
import pandas as pd
import pytest

from bnnet import Config
from bnnet.core.network import evaluate
from bnnet.study.analysis import (
    bn_statistics_accuracy,
    collapse_layer,
    cycle_reading,
    flip_test_accuracy,
    summarise,
)
from bnnet.study.runs import run_many
from tests.conftest import SMALL


def test_summarise_gives_mean_std_and_text():
    table = pd.DataFrame({"net": ["a", "a", "b", "b"], "test_accuracy": [0.5, 0.6, 0.3, 0.3]})
    out = summarise(table, ["net"])
    assert out["mean"].tolist() == pytest.approx([0.55, 0.3])
    assert out["test_accuracy"].tolist() == ["55.00 ± 7.07", "30.00 ± 0.00"]

def test_bn_statistics_variants_of_trained_runs(spec):
    configs = [Config(**SMALL, seed=0), Config(**SMALL, seed=0, bn="none")]
    results = run_many(configs, spec, progress=False)
    table = bn_statistics_accuracy(results, spec)
    assert len(table) == 1  # the run without BN has no statistics to recompute
    row = table.iloc[0]
    assert row["running"] == results[0].test_accuracy
    for column in ("precise", "adaptive"):
        assert 0 <= row[column] <= 1
    # adaptive BN normalises the test inputs with their own statistics: in eval mode the
    # first layer's BN output then has mean 0 over the test set
    from bnnet.core.network import forward, population_statistics
    data = spec.load()
    adapted = population_statistics(results[0].params, data.X_test, configs[0])
    s = data.X_test @ adapted[0]["W"]
    np.testing.assert_allclose(adapted[0]["running_mean"], s.mean(0), rtol=1e-4, atol=1e-5)
    assert forward(data.X_test, adapted, configs[0], train=False)[0].shape == (
        len(data.X_test), 10)

def test_flip_test_accuracy_evaluates_each_trained_net_both_ways(spec):
    runs = run_many([Config(**SMALL, flip=True, seed=s) for s in (0, 1)], spec, progress=False)
    table = flip_test_accuracy(runs, spec)
    assert table["seed"].tolist() == [0, 1]
    assert table["plain"].tolist() == [r.test_accuracy for r in runs]
    data = spec.load()
    for r, flipped in zip(runs, table["flipped"], strict=True):
        expected = evaluate(r.params, data.X_test, data.y_test, r.config.replace(test_flip=True))
        assert flipped == expected["accuracy"]


def test_cycle_reading_reads_the_mean_curve_at_each_peak_and_end_of_the_rate():
    # two seeds, n_s = 10, two cycles: the rate peaks at steps 10 and 30, ends at 20 and 40
    steps = [0, 10, 20, 30, 40]
    loss = {0: [2.3, 2.1, 1.6, 1.8, 1.4], 1: [2.3, 2.3, 1.8, 2.0, 1.6]}
    histories = pd.DataFrame([
        {"label": "net", "seed": seed, "step": step, "val_loss": value,
         "val_accuracy": 1 - value / 3}
        for seed, values in loss.items() for step, value in zip(steps, values, strict=True)])
    table = cycle_reading(histories, "net", 10, 2, column="val_loss")
    assert table["at_peak_eta"].tolist() == pytest.approx([2.2, 1.9])
    assert table["at_end"].tolist() == pytest.approx([1.7, 1.5])
    assert table["dip"].tolist() == pytest.approx([-0.5, -0.4])
    # validation accuracy by default
    assert cycle_reading(histories, "net", 10, 2)["at_end"].tolist() == pytest.approx(
        [1 - 1.7 / 3, 1 - 1.5 / 3])


def test_the_collapse_starts_where_every_deeper_layer_stays_far_below_epsilon():
    # two seeds, layers 1-4 (4: the scores, no BN); at sigma 0.1 layer 2 dips below in one
    # seed only, so the collapse starts at layer 3
    rows = [(layer, 0.1, 1e-5, seed, v)
            for seed, profile in enumerate([(1.0, 2e-7, 5e-7, 9.0), (1.0, 3e-6, 8e-7, 9.0)])
            for layer, v in enumerate(profile, start=1)]
    rows += [(layer, 0.001, 1e-5, 0, v) for layer, v in enumerate((1.0, 1.0, 2e-6, 1e-9), 1)]
    frame = pd.DataFrame(rows, columns=["layer", "sigma", "eps", "seed", "variance"])
    assert collapse_layer(frame, 0.1, 1e-5) == 3
    assert collapse_layer(frame, 0.1, 1e-5, far=0.5) == 2  # 3e-6 < 0.5 * 1e-5
    assert collapse_layer(frame, 0.001, 1e-5) is None  # layer 3 at 2e-6 is not that far below
    assert collapse_layer(frame, 0.001, 1e-5, far=0.5) == 3
    assert collapse_layer(frame, 0.01, 1e-5) is None  # no such runs
