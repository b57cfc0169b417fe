"""The explorer's figures, as PNG bytes for an ``ipywidgets.Image``: the live view of a run
(:class:`LiveFigure`) and the overlay of several runs (:func:`overlay_figure`).

They are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot), which is safe in
the thread of a run and leaves the notebook's own figures alone.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

CHANCE = 0.1
DPI = 80
SIZE = (11.0, 5.6)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


class LiveFigure:
    """The live view: cost and accuracy curves (training dashed, validation solid) and, per
    layer, the spread of the pre-activations and the gradient norm of W at initialisation
    and at the latest measured step. Built once and redrawn with new data, which costs half
    of drawing it anew (measured: 0.19 s against 0.39 s a frame here)."""

    def __init__(self) -> None:
        self.fig = Figure(figsize=SIZE)
        self.fig.subplots_adjust(left=0.07, right=0.98, top=0.91, bottom=0.09, hspace=0.42,
                                 wspace=0.2)
        FigureCanvasAgg(self.fig)
        self.title = self.fig.suptitle("", fontsize=11)
        cost, accuracy, spread, grads = self.axes = self.fig.subplots(2, 2).ravel()
        self.lines = {}
        for ax, metric in ((cost, "cost"), (accuracy, "accuracy")):
            for split, style, label in (("train", "--", "training"), ("val", "-", "validation")):
                (self.lines[f"{split}_{metric}"],) = ax.plot([], [], style, color="C0",
                                                            marker=".", ms=3, label=label)
            ax.set(xlabel="epoch", ylabel=metric)
        accuracy.axhline(CHANCE, color="0.6", lw=0.8, ls=":")
        accuracy.legend(fontsize=8, loc="lower right")
        for ax, column, ylabel in ((spread, "pre_std", "pre-activation std (log)"),
                                   (grads, "grad_W_norm", "gradient norm of W (log)")):
            for when, style, label in (("init", "o--", "at initialisation"),
                                       ("latest", "s-", "at the latest measured step")):
                (self.lines[f"{column}_{when}"],) = ax.plot([], [], style, ms=4, label=label)
            ax.set(xlabel="layer", ylabel=ylabel, yscale="log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=8, loc="best")
        self.layer_axes = (spread, grads)

    def draw(self, title: str, history: pd.DataFrame, at_init: pd.DataFrame | None,
             latest: pd.DataFrame | None, latest_step: int) -> bytes:
        """The view of a run so far, as PNG bytes."""
        self.title.set_text(title)
        for key in ("train_cost", "val_cost", "train_accuracy", "val_accuracy"):
            self.lines[key].set_data(history["epoch"], history[key])
        for column in ("pre_std", "grad_W_norm"):
            for when, frame in (("init", at_init), ("latest", latest)):
                if frame is None:
                    self.lines[f"{column}_{when}"].set_data([], [])
                else:  # a log axis shows no zeros: they become gaps
                    values = frame[column].where(frame[column] > 0)
                    self.lines[f"{column}_{when}"].set_data(frame["layer"], values)
        for ax in self.layer_axes:
            ax.set_title(f"latest measured step: update {latest_step}", fontsize=9)
        for ax in self.axes:
            ax.relim()
            ax.autoscale_view()
        return png(self.fig)


def overlay_figure(runs: list[tuple[str, pd.DataFrame]]) -> bytes:
    """The cost and accuracy curves of several runs in one pair of panels."""
    fig = Figure(figsize=(SIZE[0], 3.2), layout="constrained")
    cost, accuracy = fig.subplots(1, 2)
    for i, (label, history) in enumerate(runs):
        _curves(cost, accuracy, history, f"C{i}", label)
    for ax in (cost, accuracy):
        ax.legend(fontsize=8, loc="best")
    return png(fig)


def _curves(cost, accuracy, history: pd.DataFrame, colour: str, label: str) -> None:
    for split, style, name in (("train", "--", "training"), ("val", "-", "validation")):
        for ax, metric in ((cost, "cost"), (accuracy, "accuracy")):
            ax.plot(history["epoch"], history[f"{split}_{metric}"], style, color=colour,
                    label=f"{label}, {name}")
    accuracy.axhline(CHANCE, color="0.6", lw=0.8, ls=":")
    cost.set(xlabel="epoch", ylabel="cost")
    accuracy.set(xlabel="epoch", ylabel="accuracy")
