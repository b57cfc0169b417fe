"""The explorer's figures (bnnet.explore.plots) survive a spike, a diverged run and a deep
net: the cost axis is clipped and says so, the legend stays below the panels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from bnnet.explore.plots import CLIP_FACTOR, LiveFigure, cost_limits, overlay
from bnnet.explore.settings import config_from, short_label


def history(costs, accuracy: float = 0.4) -> pd.DataFrame:
    costs = np.asarray(costs, dtype=float)
    n = len(costs)
    return pd.DataFrame({"step": np.arange(n) * 10, "epoch": np.linspace(0, 2, n),
                         "train_cost": costs, "val_cost": costs * 1.05,
                         "train_accuracy": np.linspace(0.1, accuracy, n),
                         "val_accuracy": np.linspace(0.1, accuracy, n)})


HEALTHY = 2.3 * np.exp(-np.linspace(0, 1, 41)) + 0.5


def test_a_healthy_run_is_not_clipped():
    assert cost_limits([history(HEALTHY)]) is None


def test_one_spike_is_clipped_and_said():
    spiked = HEALTHY.copy()
    spiked[9] = 50_000  # the epsilon 1e-16 run's step at epoch 0.45
    limits = cost_limits([history(spiked)])
    assert limits.top == CLIP_FACTOR * HEALTHY[0]  # the first point sets it
    assert limits.above == 2 and limits.highest == 52_500
    assert limits.note == "axis clipped at 8.4: 2 points above (highest 5.25e+04)"


def test_the_live_view_clips_a_spike_and_follows_the_run_again():
    spiked = HEALTHY.copy()
    spiked[9] = 50_000
    view = LiveFigure()
    view.draw("run 1: 9 layers 50→10, BN", history(spiked), None, None, 0)
    cost = view.cost_axes
    assert cost.get_ylim()[1] < 10 and "axis clipped" in cost.texts[0].get_text()
    view.draw("run 2: 3×50, BN", history(HEALTHY * 10), None, None, 0)  # autoscaled again
    assert cost.get_ylim()[1] > 20 and cost.texts[0].get_text() == ""


def test_an_overlay_with_a_diverged_run_keeps_the_other_readable():
    diverged = np.concatenate([HEALTHY[:10], [1e3, 1e8, 2e15, np.inf]])
    fig = overlay([("run 1: 3×50, BN", history(HEALTHY)), ("run 2: 3×50, no BN, η max 1",
                                                            history(diverged))])
    cost = fig.axes[0]
    assert cost.get_ylim()[1] < 10
    assert cost.texts[0].get_text().startswith("axis clipped at")


def test_a_deep_and_a_shallow_run_overlay_with_short_labels_below_the_panels():
    deep, _ = config_from({"layers": 20, "widths": "50"})
    shallow, _ = config_from({})
    labels = [short_label(1, deep, 10_000), short_label(2, shallow, 10_000)]
    assert labels == ["run 1: 20×50, BN", "run 2: 3×50, BN"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied ..." would raise
        fig = overlay([(label, history(HEALTHY)) for label in labels])
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)  # the panel with its tick and axis labels
        assert box.height > 100, "a panel collapsed"
        assert not box.overlaps(legend), "the legend covers a panel"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [*labels, "training",
                                                                  "validation"]
