"""The report's figures: what a reader needs to read them (integer layer ticks, series that
stay visible, legends outside the curves, lettering at print size)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from bnnet.report import plots
from bnnet.report.benchmark import load_benchmark
from bnnet.report.display import show_figure
from bnnet.report.figure_checks import FigureError
from bnnet.report.notebook import setup


@pytest.fixture(autouse=True)
def report_style(tmp_path, monkeypatch):
    setup()  # the notebooks' fonts and sizes
    monkeypatch.setenv("BNNET_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv("BNNET_RESULTS_DIR", str(tmp_path / "results"))
    yield
    plt.close("all")


def layers(labels, n_layers=9):
    return pd.DataFrame([{"net": "9-layer", "label": label, "layer": layer,
                          "pre_std": 10.0 ** -layer,
                          "output_std": 1.0, "grad_W_norm": 1e-3, "eps": eps}
                         for label, eps in labels for layer in range(1, n_layers + 1)])


def test_layer_axes_have_whole_numbers_and_coinciding_series_stay_apart():
    stats = layers([("a", 1e-5), ("b", 1e-8), ("c", 1e-16)])
    fig = plots.layer_profiles(stats, "pre_std")
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 9]
    assert ticks and all(float(t).is_integer() for t in ticks)
    lines = ax.get_lines()
    assert len({(line.get_marker(), line.get_linestyle()) for line in lines}) == len(lines)
    assert ax.get_ylabel() == "pre-activation std"


def test_the_epsilon_figure_draws_each_epsilon_beside_its_variance():
    fig = plots.variance_and_epsilon(layers([("a", 1e-5), ("b", 1e-16)]))
    ax = fig.axes[0]
    flat = [line for line in ax.get_lines() if len(set(line.get_ydata())) == 1]
    assert sorted(line.get_ydata()[0] for line in flat) == [1e-16, 1e-5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ε = 1e-05", "ε = 1e-16"]


def histories_of(labels, **columns) -> pd.DataFrame:
    steps = np.arange(0, 100, 10)
    return pd.concat([pd.DataFrame({
        "label": label, "seed": 0, "step": steps, "epoch": steps / 10, **columns,
        **{f"{split}_{m}": np.linspace(1, 0.5, len(steps)) for split in ("train", "val")
           for m in ("cost", "loss", "accuracy")}}) for label in labels])


def profiles() -> pd.DataFrame:
    return pd.DataFrame([{"net": net, "label": f"sigma={s}, {bn}", "layer": layer,
                          "output_std": 10.0 ** -layer}
                         for net in ("3-layer", "9-layer") for s in (0.1, 0.001, 0.0001)
                         for bn in ("no BN", "BN") for layer in range(1, 4)])


@pytest.mark.parametrize("draw", [
    lambda: plots.learning_curves(histories_of(["no BN", "BN"])),
    lambda: plots.curve_panels(pd.concat([histories_of(["x"], sigma=s, BN=bn)
                                          for s in (0.1, 0.001) for bn in ("no", "yes")]),
                               panel="sigma", line="BN"),
    lambda: plots.layer_profiles(profiles(), "output_std"),
    lambda: plots.benchmark_bars(load_benchmark()[0]),  # the committed make bench
], ids=["learning_curves", "curve_panels", "layer_profiles", "benchmark_bars"])
def test_legends_sit_below_the_panels_and_their_labels(draw):
    fig = draw()
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.y0 >= 0  # on the figure
    for ax in fig.axes:  # nothing of a panel, tick labels and axis label included, under it
        assert legend.y1 <= ax.get_tightbbox(renderer).y0 + 1


def test_lettering_too_small_at_print_size_is_refused():
    fig, ax = plt.subplots(figsize=(12, 3))  # scaled to half its size on the page
    ax.plot([1, 2], [1, 2], label="a")
    ax.legend(fontsize=8)
    with pytest.raises(FigureError, match="printed at"):
        show_figure(fig, "too_wide", "A figure whose legend would print at 4 pt.")
