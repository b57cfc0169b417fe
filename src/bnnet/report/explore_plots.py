"""The explorer's figures, drawn as PNG bytes for an ``ipywidgets.Image``.

They are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot), which is safe in
the explorer's watcher thread and leaves the notebook's own figures alone.
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


def live_figure(title: str, history: pd.DataFrame, at_init: pd.DataFrame | None,
                latest: pd.DataFrame | None, latest_step: int) -> bytes:
    """Cost and accuracy curves (training dashed, validation solid) and, per layer, the
    spread of the pre-activations and the gradient norm of W at initialisation and at
    ``latest_step``."""
    fig = Figure(figsize=SIZE, layout="constrained")
    fig.suptitle(title, fontsize=11)
    cost, accuracy, spread, grads = fig.subplots(2, 2).ravel()
    _curves(cost, accuracy, history, "C0", "")
    _layers(spread, "pre_std", "pre-activation std (log)", at_init, latest, latest_step)
    _layers(grads, "grad_W_norm", "gradient norm of W (log)", at_init, latest, latest_step)
    return png(fig)


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
    name = f"{label}, " if label else ""
    for split, style in (("train", "--"), ("val", "-")):
        if len(history):
            cost.plot(history["epoch"], history[f"{split}_cost"], style, color=colour,
                      label=f"{name}{'training' if split == 'train' else 'validation'}")
            accuracy.plot(history["epoch"], history[f"{split}_accuracy"], style, color=colour,
                          label=f"{name}{'training' if split == 'train' else 'validation'}")
    accuracy.axhline(CHANCE, color="0.6", lw=0.8, ls=":")
    cost.set(xlabel="epoch", ylabel="cost")
    accuracy.set(xlabel="epoch", ylabel="accuracy")
    if not label and len(history):
        accuracy.legend(fontsize=8, loc="lower right")


def _layers(ax, column: str, ylabel: str, at_init: pd.DataFrame | None,
            latest: pd.DataFrame | None, latest_step: int) -> None:
    for frame, style, label in ((at_init, "o--", "at initialisation"),
                                (latest, "s-", f"at update step {latest_step}")):
        if frame is not None and (frame[column] > 0).any():
            ax.semilogy(frame["layer"], frame[column].where(frame[column] > 0), style,
                        label=label, ms=4)
    ax.set(xlabel="layer", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ax.lines:
        ax.legend(fontsize=8, loc="best")
