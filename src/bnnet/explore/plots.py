"""The explorer's figures, as PNG bytes for an ``ipywidgets.Image``: the live view of a run
(:class:`LiveFigure`) and the overlay of several runs (:func:`overlay_figure`).

They are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot), which is safe in
the thread of a run and leaves the notebook's own figures alone. Legends sit below the
panels, never over a curve; the cost axis stays readable when one step or one run diverges:
it is clipped (:func:`cost_limits`) and says so in the panel.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

CHANCE = 0.1
DPI = 80
SIZE = (11.0, 6.0)
#: the cost axis ends at this multiple of a run's typical cost (the larger of its first
#: point and its median); a point above it is a spike or a divergence, and is clipped
CLIP_FACTOR = 3.0
COSTS = ("train_cost", "val_cost")
CLIP_COLOUR = "#b00020"


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


@dataclass(frozen=True)
class CostLimits:
    """Where the cost axis ends, and what lies beyond it."""

    bottom: float
    top: float
    above: int = 0           # points above ``top`` (the clipped ones)
    highest: float = math.nan  # the largest of them (inf for a cost that overflowed)

    @property
    def note(self) -> str:
        """What the clipping hides, in a few words (``""``: nothing is clipped)."""
        if not self.above:
            return ""
        points = "1 point" if self.above == 1 else f"{self.above} points"
        return f"axis clipped at {self.top:.3g}: {points} above (highest {self.highest:.3g})"


def cost_limits(histories: Iterable[pd.DataFrame]) -> CostLimits | None:
    """The cost axis of these runs: up to :data:`CLIP_FACTOR` times the largest typical
    cost of a run, so that one spike (cost 50,000 at one step) or one diverged run (2e15)
    leaves the other curves readable; ``None`` when nothing needs clipping (or there is
    nothing to draw)."""
    typical, everything = [], []
    for history in histories:
        values = np.concatenate([history[c].to_numpy(float) for c in COSTS if c in history])
        finite = values[np.isfinite(values)]
        if finite.size:
            typical.append(max(finite[0], float(np.median(finite))))
            everything.append(values[~np.isnan(values)])
    if not typical:
        return None
    top = CLIP_FACTOR * max(typical)
    values = np.concatenate(everything)
    above = values[values > top]
    if not above.size:
        return None
    below = values[values <= top]
    bottom = float(below.min()) if below.size else 0.0
    return CostLimits(min(0.9 * bottom, bottom - 0.05 * (top - bottom)), top, int(above.size),
                      float(above.max()))


def show_cost_limits(ax: Axes, histories: Sequence[pd.DataFrame]) -> CostLimits | None:
    """Clip ``ax`` (a cost panel, autoscaled) to :func:`cost_limits` and write the note in
    its corner; the note is cleared when nothing is clipped."""
    limits = cost_limits(histories)
    note = next((t for t in ax.texts if t.get_gid() == "clip-note"), None)
    if note is None:
        note = ax.text(0.99, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                       fontsize=8, color=CLIP_COLOUR, gid="clip-note", zorder=5,
                       bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85,
                             "pad": 1.5})
    note.set_text(limits.note if limits else "")
    if limits:
        ax.set_ylim(limits.bottom, limits.top)
    return limits


def _legend_below(fig: Figure, handles: list[Line2D], ncol: int, *, outside: bool) -> None:
    """One legend for the figure, below its panels: ``outside`` (constrained layout makes
    room for it), or in the bottom margin a fixed layout leaves."""
    fig.legend(handles=handles, loc="outside lower center" if outside else "lower center",
               ncol=ncol, fontsize=8, frameon=False)


class LiveFigure:
    """The live view: cost and accuracy curves (training dashed, validation solid) and, per
    layer, the spread of the pre-activations and the gradient norm of W at initialisation
    and at the latest measured step. Built once and redrawn with new data, which costs half
    of drawing it anew (measured: 0.19 s against 0.39 s a frame here)."""

    def __init__(self) -> None:
        # a fixed layout: constrained layout would cost every frame its solve
        self.fig = Figure(figsize=SIZE)
        self.fig.subplots_adjust(left=0.07, right=0.98, top=0.91, bottom=0.16, hspace=0.45,
                                 wspace=0.2)
        FigureCanvasAgg(self.fig)
        self.title = self.fig.suptitle("", fontsize=11)
        cost, accuracy, spread, grads = self.axes = self.fig.subplots(2, 2).ravel()
        self.lines = {}
        for ax, metric in ((cost, "cost"), (accuracy, "accuracy")):
            for split, style in (("train", "--"), ("val", "-")):
                (self.lines[f"{split}_{metric}"],) = ax.plot([], [], style, color="C0",
                                                            marker=".", ms=3)
            ax.set(xlabel="epoch", ylabel=metric)
        accuracy.axhline(CHANCE, color="0.6", lw=0.8, ls=":")
        for ax, column, ylabel in ((spread, "pre_std", "pre-activation std (log)"),
                                   (grads, "grad_W_norm", "gradient norm of W (log)")):
            for when, style, colour in (("init", "o--", "C1"), ("latest", "s-", "C2")):
                (self.lines[f"{column}_{when}"],) = ax.plot([], [], style, ms=4, color=colour)
            ax.set(xlabel="layer", ylabel=ylabel, yscale="log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.cost_axes = cost
        self.layer_axes = (spread, grads)
        _legend_below(self.fig, [
            Line2D([], [], ls="--", color="C0", label="training"),
            Line2D([], [], ls="-", color="C0", label="validation"),
            Line2D([], [], ls=":", color="0.6", label="chance"),
            Line2D([], [], ls="--", marker="o", color="C1", label="layers at initialisation"),
            Line2D([], [], ls="-", marker="s", color="C2",
                   label="layers at the latest measured step"),
        ], ncol=5, outside=False)

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
            ax.set_autoscale_on(True)  # the cost axis may have been clipped last frame
            ax.relim()
            ax.autoscale_view()
        if len(history):
            show_cost_limits(self.cost_axes, [history])
        return png(self.fig)


def overlay_figure(runs: list[tuple[str, pd.DataFrame]]) -> bytes:
    """:func:`overlay` as PNG bytes."""
    return png(overlay(runs))


def overlay(runs: list[tuple[str, pd.DataFrame]]) -> Figure:
    """The cost and accuracy curves of several runs in one pair of panels: one colour a
    run, the legend below the panels (a run's short label, then the line styles once)."""
    fig = Figure(figsize=(SIZE[0], 3.6 + 0.2 * math.ceil(len(runs) / 2)), layout="constrained")
    FigureCanvasAgg(fig)
    cost, accuracy = fig.subplots(1, 2)
    handles = []
    for i, (label, history) in enumerate(runs):
        colour = f"C{i % 10}"
        for split, style in (("train", "--"), ("val", "-")):
            for ax, metric in ((cost, "cost"), (accuracy, "accuracy")):
                ax.plot(history["epoch"], history[f"{split}_{metric}"], style, color=colour)
        handles.append(Line2D([], [], color=colour, lw=3, label=label))
    accuracy.axhline(CHANCE, color="0.6", lw=0.8, ls=":")
    cost.set(xlabel="epoch", ylabel="cost")
    accuracy.set(xlabel="epoch", ylabel="accuracy")
    show_cost_limits(cost, [h for _, h in runs])
    handles += [Line2D([], [], ls="--", color="0.3", label="training"),
                Line2D([], [], ls="-", color="0.3", label="validation")]
    _legend_below(fig, handles, ncol=2 if len(runs) > 2 else len(runs) + 2, outside=True)
    return fig
