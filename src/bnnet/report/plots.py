"""Plots used by the notebooks (matplotlib; each returns the figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator


def _train_and_val(ax: plt.Axes, histories: pd.DataFrame, metric: str, color: str,
                   label: str | None = None) -> None:
    """Training (dashed) and validation (solid) ``metric`` of one group of runs: the mean
    over seeds at each step and a band of ± one std; legend labels only if ``label``."""
    for split, style in (("train", "--"), ("val", "-")):
        g = histories.groupby("step")[f"{split}_{metric}"]
        mean, std = g.mean(), g.std().fillna(0)
        ax.plot(mean.index, mean.values, style, color=color, lw=1.2,
                label=None if label is None else f"{label} ({split})")
        ax.fill_between(mean.index, mean - std, mean + std, color=color, alpha=0.15, lw=0)


def learning_curves(histories: pd.DataFrame, labels: list[str] | None = None,
                    metrics: tuple[str, ...] = ("cost", "loss", "accuracy")) -> plt.Figure:
    """Train (dashed) and validation (solid) curves against the update step, one panel per
    metric; the line is the mean over seeds and the band mean ± std.

    Args:
        histories: long table from :func:`bnnet.study.analysis.stacked_histories`.
        labels: which labels to draw, in order (default: all).
    """
    labels = labels or list(dict.fromkeys(histories["label"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.2 * len(metrics), 2.9),
                             squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics, strict=True):
        for k, label in enumerate(labels):
            _train_and_val(ax, histories[histories["label"] == label], metric,
                           colors[k % len(colors)], label)
        ax.set_xlabel("update step")
        ax.set_title(metric)
    # one column per group: its training and validation entries one above the other
    handles, names = axes[0][-1].get_legend_handles_labels()
    legend_below(fig, handles, names, ncol=len(labels), rows=2)
    return fig


def legend_below(fig: plt.Figure, handles: list, names: list[str], ncol: int,
                 rows: int) -> None:
    """One legend for the whole figure, below its panels (a legend inside a panel covers
    curves), and the panels laid out above it; ``rows``: the legend's number of rows."""
    fig.legend(handles, names, loc="lower center", ncol=ncol, fontsize=SMALL_FONT,
               frameon=False)
    height = fig.get_figheight()
    fig.tight_layout(rect=(0, min(0.45, (0.17 + 0.16 * rows) / height), 1, 1))


def curve_panels(histories: pd.DataFrame, panel: str, line: str, metric: str = "loss",
                 panel_format: str = "{}", row: str | None = None) -> plt.Figure:
    """Small multiples: one panel per value of ``panel`` (e.g. sigma) and, with ``row``,
    one row of panels per value of ``row`` (e.g. the net); one colour per value of ``line``
    (e.g. BN or not); training dashed, validation solid; the line is the mean over seeds
    and the band mean ± std. The legend has one entry per ``line`` value and per split,
    however many seeds and panels there are.

    Args:
        histories: long table from :func:`bnnet.study.analysis.stacked_histories` with a
            ``panel`` and a ``line`` column (and ``row``, if given).
        panel_format: format of the panel titles, e.g. ``"σ = {:g}"``.
    """
    panels = list(dict.fromkeys(histories[panel]))
    lines = list(dict.fromkeys(histories[line]))
    rows = list(dict.fromkeys(histories[row])) if row else [None]
    fig, axes = plt.subplots(len(rows), len(panels),
                             figsize=(2.0 * len(panels) + 0.6, 2.1 * len(rows) + 0.6),
                             sharey=True, sharex=True, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(rows):
        in_row = histories if row is None else histories[histories[row] == r]
        for ax, value in zip(axes[i], panels, strict=True):
            part = in_row[in_row[panel] == value]
            for k, name in enumerate(lines):
                _train_and_val(ax, part[part[line] == name], metric, colors[k % len(colors)])
            title = panel_format.format(value)
            ax.set_title(title if row is None else f"{r}, {title}", fontsize=9)
            if i == len(rows) - 1:
                ax.set_xlabel("update step")
        axes[i][0].set_ylabel(metric)
    handles = [Line2D([], [], color=colors[k % len(colors)], lw=2, label=str(name))
               for k, name in enumerate(lines)]
    handles += [Line2D([], [], color="gray", ls="--", label="training"),
                Line2D([], [], color="gray", ls="-", label="validation")]
    legend_below(fig, handles, [h.get_label() for h in handles], ncol=len(handles), rows=1)
    return fig


def search_scatter(
    stages: dict[str, pd.DataFrame], optimum: dict | None = None,
    chosen: float | None = None,
) -> plt.Figure:
    """Validation accuracy against log10(lambda), one panel per search stage.

    Stages differ in schedule, so each gets its own axes. With ``optimum`` (from
    :func:`bnnet.study.search.smooth_optimum` on the last stage) that panel also shows the
    quadratic fit, its maximum and the interval of the maximum; ``chosen`` (the lambda the
    search chooses, :func:`bnnet.study.search.choose_lam`) is drawn where it differs from the
    fit's maximum.
    """
    fig, axes = plt.subplots(1, len(stages), figsize=(3.4 * len(stages), 3.0), squeeze=False)
    for ax, (name, table) in zip(axes[0], stages.items(), strict=True):
        ok = table[~table["diverged"]]
        ax.scatter(ok["log10_lam"], 100 * ok["val_accuracy"], s=18, alpha=0.8, label="runs")
        bad = table[table["diverged"]]
        if len(bad):
            ax.scatter(bad["log10_lam"], np.full(len(bad), ax.get_ylim()[0]), marker="x",
                       color="red", label="diverged")
        if optimum is not None and name == list(stages)[-1]:
            u = np.linspace(ok["log10_lam"].min(), ok["log10_lam"].max(), 100)
            ax.plot(u, 100 * np.polyval(optimum["coef"], u), color="black", lw=1.2,
                    label="quadratic fit")
            ax.axvspan(optimum["low"], optimum["high"], color="tab:orange", alpha=0.2,
                       label="95% interval")
            fit_is_chosen = chosen is None or np.isclose(chosen, optimum["lam"])
            ax.axvline(optimum["log10_lam"], color="tab:orange", lw=1.5,
                       label="fit's maximum, chosen" if fit_is_chosen else "fit's maximum")
            if not fit_is_chosen:
                ax.axvline(np.log10(chosen), color="tab:green", lw=1.5, ls="--",
                           label="chosen (best mean)")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(r"$\log_{10}\lambda$")
        ax.legend(fontsize=SMALL_FONT)
    axes[0, 0].set_ylabel("validation accuracy (%)")
    fig.tight_layout()
    return fig


#: The per-layer statistics (core.diagnostics) in words, for axis labels.
QUANTITIES = {"pre_std": "pre-activation std", "pre_mean": "pre-activation mean",
              "output_std": "output std", "grad_W_norm": "norm of the gradient of W"}
#: Marker and line style per series, so that series that coincide stay visible.
STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-"), ("x", "--")]
#: The smallest legend and tick font at print size (points).
SMALL_FONT = 8.5


def integer_axis(ax: plt.Axes, axis: str = "x") -> None:
    """Ticks at whole numbers only (an axis that counts layers)."""
    getattr(ax, f"{axis}axis").set_major_locator(MaxNLocator(integer=True))


def variance_and_epsilon(stats: pd.DataFrame) -> plt.Figure:
    """Per BN layer at initialisation, the variance of its pre-activations (one line per
    BN ε, from ``stats``: ``layer``, ``pre_std``, ``eps``) beside ε itself (dotted, same
    colour): where the variance falls below ε, BN no longer rescales it."""
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    hidden = stats[stats["layer"] < stats["layer"].max()]  # the BN layers
    for k, (eps, s) in enumerate(hidden.groupby("eps", sort=False)):
        marker, _ = STYLES[k % len(STYLES)]
        color = colors[k % len(colors)]
        ax.plot(s["layer"], s["pre_std"] ** 2, marker=marker, ls="-", ms=4, lw=1.2,
                mfc="none", color=color, label=f"ε = {eps:.0e}")
        ax.axhline(eps, color=color, ls=":", lw=1)
    ax.set_yscale("log")
    integer_axis(ax)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("pre-activation variance")
    ax.legend(fontsize=SMALL_FONT, ncol=2)
    fig.tight_layout()
    return fig


#: Horizontal offset between the parameter types of one BN placement in
#: :func:`gradcheck_overview` (placements are 1 apart).
DODGE = 0.17


def gradcheck_overview(table: pd.DataFrame, threshold: float = 1e-6) -> plt.Figure:
    """Max relative error per parameter type (marker), small multiples: one panel per depth
    (columns) and lambda (rows), the BN placement along x; log scale."""
    worst = table.pivot_table(index=["layers", "bn", "lam"], columns="parameter",
                              values="max_rel_error", aggfunc="max")
    depths = sorted(dict.fromkeys(worst.index.get_level_values("layers")))
    lams = sorted(dict.fromkeys(worst.index.get_level_values("lam")))
    modes = list(dict.fromkeys(table["bn"]))
    fig, axes = plt.subplots(len(lams), len(depths), sharex=True, sharey=True,
                             figsize=(1.45 * len(depths) + 0.8, 1.6 * len(lams) + 0.7),
                             squeeze=False)
    markers = dict(zip(("W", "b", "gamma", "beta"), "osD^", strict=True))
    names = {"W": "W", "b": "b", "gamma": "γ", "beta": "β"}
    for i, lam in enumerate(lams):
        for j, depth in enumerate(depths):
            ax = axes[i][j]
            for k, (param, marker) in enumerate(markers.items()):
                if param not in worst:
                    continue
                y = [worst[param].get((depth, mode, lam), np.nan) for mode in modes]
                # each parameter a little to the side of its BN placement, so that markers
                # of equal errors (gamma and beta often are) do not hide each other
                x = np.arange(len(modes)) + DODGE * (k - (len(markers) - 1) / 2)
                ax.scatter(x, np.clip(y, 1e-17, None), marker=marker, s=16,
                           label=names[param] if (i, j) == (0, 0) else None)
            ax.axhline(threshold, ls="--", color="gray", lw=1)
            ax.set_yscale("log")
            ax.set_title(f"{depth} layers, λ = {lam:g}", fontsize=SMALL_FONT)
            ax.set_xticks(range(len(modes)), [m.replace(" the ReLU", "") for m in modes],
                          fontsize=SMALL_FONT)
            ax.set_xlim(-0.5, len(modes) - 0.5)
        axes[i][0].set_ylabel("max. relative error", fontsize=SMALL_FONT)
    fig.supxlabel("BN: none, before or after the ReLU", fontsize=SMALL_FONT)
    fig.legend(loc="upper center", ncol=4, fontsize=SMALL_FONT, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def benchmark_bars(table: pd.DataFrame) -> plt.Figure:
    """Median times as grouped bars, one panel per task, one bar per library and net (from
    :func:`bnnet.report.benchmark.load_benchmark`)."""
    tasks = list(dict.fromkeys(table["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 2.5), squeeze=False,
                             width_ratios=[table[table["task"] == t]["library"].nunique()
                                           for t in tasks])
    colours = {lib: f"C{i}" for i, lib in enumerate(dict.fromkeys(table["library"]))}
    for ax, task in zip(axes[0], tasks, strict=True):
        t = table[table["task"] == task]
        nets, libraries = list(dict.fromkeys(t["net"])), list(dict.fromkeys(t["library"]))
        width = 0.8 / len(libraries)
        for i, lib in enumerate(libraries):
            seconds = t[t["library"] == lib].set_index("net")["seconds"].reindex(nets)
            ax.bar(np.arange(len(nets)) + (i - (len(libraries) - 1) / 2) * width, seconds,
                   width, label=lib, color=colours[lib])
        ax.set_xticks(np.arange(len(nets)), nets)
        ax.set_ylabel("seconds (median)")
        ax.set_title(task)
    handles = {h.get_label(): h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]}
    legend_below(fig, list(handles.values()), list(handles), ncol=3,
                 rows=-(-len(handles) // 3))
    return fig


FLOOR = 1e-30  # below float32's smallest normal number: a value that underflowed to 0


def layer_profiles(stats: pd.DataFrame, value: str, panel: str = "net") -> plt.Figure:
    """``value`` against the layer, one panel per ``panel`` value and one line per
    ``label``, log scale; zeros (float32 underflow) are drawn at :data:`FLOOR`."""
    panels = list(dict.fromkeys(stats[panel]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        part = stats[stats[panel] == name]
        for k, label in enumerate(dict.fromkeys(part["label"])):
            s = part[part["label"] == label]
            marker, line = STYLES[k % len(STYLES)]
            ax.plot(s["layer"], s[value].clip(lower=FLOOR), marker=marker, ls=line,
                    ms=4 + (k % 3), lw=1.2, mfc="none", label=label)
        ax.set_yscale("log")
        integer_axis(ax)
        ax.set_xlabel("layer")
        ax.set_title(str(name))
    axes[0][0].set_ylabel(QUANTITIES.get(value, value.replace("_", " ")))
    handles, names = axes[0][-1].get_legend_handles_labels()
    ncol = min(len(names), 3)
    legend_below(fig, handles, names, ncol=ncol, rows=-(-len(names) // ncol))
    return fig


def layer_trajectories(stats: pd.DataFrame, value: str, rows: str, cols: str) -> plt.Figure:
    """``value`` against the update step, one line per layer, a grid of panels (``rows`` x
    ``cols`` values), log scale with zeros at :data:`FLOOR`. The first, the middle and the
    last layer are drawn in three colours named in a legend below the panels; the other
    layers in thin grey (nine hues of one colour bar cannot be told apart)."""
    row_values = list(dict.fromkeys(stats[rows]))
    col_values = list(dict.fromkeys(stats[cols]))
    fig, axes = plt.subplots(len(row_values), len(col_values), sharex=True, sharey=True,
                             figsize=(2.0 * len(col_values) + 0.4, 2.0 * len(row_values) + 0.3),
                             squeeze=False)
    n_layers = int(stats["layer"].max())
    shown = {1: ("C0", "layer 1"), (n_layers + 1) // 2: ("C1", f"layer {(n_layers + 1) // 2}"),
             n_layers: ("C3", f"layer {n_layers} (the scores)")}
    for i, r in enumerate(row_values):
        for j, c in enumerate(col_values):
            ax = axes[i][j]
            part = stats[(stats[rows] == r) & (stats[cols] == c)]
            for layer, s in part.groupby("layer"):
                colour, name = shown.get(int(layer), ("0.75", "other layers"))
                ax.plot(s["step"], s[value].clip(lower=FLOOR), color=colour,
                        lw=1.4 if int(layer) in shown else 0.8, label=name,
                        zorder=3 if int(layer) in shown else 2)
            ax.set_yscale("log")
            ax.set_title(f"{r}, {c}", fontsize=SMALL_FONT)
            if i == len(row_values) - 1:
                ax.set_xlabel("update step")
                ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # no colliding labels
    # one label for the shared axis: a label per row would run into the next row's
    axes[0][0].set_ylabel(QUANTITIES.get(value, value.replace("_", " ")))
    entries = {}
    for ax in axes.ravel():
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(name, handle)
    order = [name for _, name in shown.values()] + ["other layers"]
    names = [n for n in order if n in entries]
    legend_below(fig, [entries[n] for n in names], names, ncol=2, rows=2)
    return fig



def accuracy_against(table: pd.DataFrame, x: str, panel: str = "net", line: str = "BN",
                     xlabel: str | None = None, chance: float = 0.1) -> plt.Figure:
    """Test accuracy (%) against ``x`` on a log axis: one panel per ``panel`` value, one line
    per ``line`` value (mean over the runs, band ± std, every run a dot), chance dotted."""
    panels = list(dict.fromkeys(table[panel]))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.0), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes[0], panels, strict=True):
        part = table[table[panel] == name]
        for k, (value, arm) in enumerate(part.groupby(line, sort=False)):
            stats = arm.groupby(x)["test_accuracy"].agg(["mean", "std"]) * 100
            marker, style = STYLES[k % len(STYLES)]
            (drawn,) = ax.plot(stats.index, stats["mean"], marker=marker, ls=style, mfc="none",
                               label=f"{line}: {value}")
            color = drawn.get_color()
            ax.fill_between(stats.index, stats["mean"] - stats["std"].fillna(0),
                            stats["mean"] + stats["std"].fillna(0), alpha=0.2, color=color)
            ax.scatter(arm[x], 100 * arm["test_accuracy"], s=6, alpha=0.5, color=color)
        ax.axhline(100 * chance, color="0.5", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel or x.replace("_", " "))
        ax.set_title(str(name))
    axes[0][0].set_ylabel("test accuracy (%)")
    handles, names = axes[0][-1].get_legend_handles_labels()
    legend_below(fig, handles, names, ncol=len(names), rows=1)
    return fig
