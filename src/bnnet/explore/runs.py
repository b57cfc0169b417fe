"""The runs of an explorer: one :class:`Run` each, what the status line says of it
(:func:`running_sentence`, :func:`ending`), and their table, as a DataFrame, as sortable
HTML (failures marked) and as a CSV to take away. Widget-free."""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bnnet.core.config import Config, bn_placement
from bnnet.explore.live import LiveRun
from bnnet.explore.settings import ALL_TRAIN, epochs, short_label
from bnnet.study.stats import percent

#: what a failed run's note says of each kind of failure (LiveRun.failure)
FAILURE_NOTES = {"setting": "bad setting", "data": "no data", "bug": "bug"}
#: the columns of the runs table, in order
COLUMNS = ("run", "layers", "widths", "BN", "init", "eps", "lambda", "eta max", "n_s",
           "cycles", "optimizer", "images", "augment", "seed", "state", "val %", "test %",
           "seconds", "note")
#: columns the table can be sorted by in the widget (any column in :func:`sorted_table`)
SORTABLE = ("run", "test %", "val %", "seconds", "layers", "state")


@dataclass
class Run:
    """One run of the explorer: its number, what it trains and its live state."""

    number: int
    config: Config
    n_train: int | None
    live: LiveRun

    @property
    def label(self) -> str:
        """``"run 1: 20×50, BN"``: short enough for a legend."""
        return short_label(self.number, self.config, self.n_train)

    @property
    def note(self) -> str:
        """What went wrong, in a few words (``""``: nothing): a failure and its kind, a
        divergence and its step, a stop, an error of the view."""
        live, notes = self.live, []
        if live.state == "failed":
            notes.append(f"{FAILURE_NOTES.get(live.failure, 'failed')}: {live.message}")
        elif live.state == "diverged":
            notes.append(f"diverged at update step {live.diverged_step}")
        elif live.state == "stopped":
            notes.append(live.message)
        if live.view_error:
            notes.append(f"view failed: {live.view_error}")
        return "; ".join(notes)

    @property
    def failed(self) -> bool:
        """The run or its view went wrong (the table marks its row)."""
        return self.live.state in ("failed", "diverged") or bool(self.live.view_error)

    def row(self) -> dict[str, Any]:
        """The run's line in the runs table; ``seconds`` is the wall time of its training,
        the live view's redraws included."""
        c, result = self.config, self.live.result
        return {
            "run": self.number, "layers": c.n_layers, "widths": ", ".join(map(str, c.hidden)),
            "BN": bn_placement(c),
            "init": c.init if c.init != "normal" else f"sigma {c.sigma:.3g}",
            "eps": c.eps, "lambda": c.lam, "eta max": c.eta_max, "n_s": c.n_s,
            "cycles": c.cycles, "optimizer": c.optimizer,
            "images": self.n_train or ALL_TRAIN,
            "augment": ", ".join(filter(None, ["flip" if c.flip else "",
                                               f"shift {c.shift}" if c.shift else ""])) or "-",
            "seed": c.seed, "state": self.live.state,
            "val %": 100 * result.val_accuracy if result else math.nan,
            "test %": 100 * result.test_accuracy if result else math.nan,
            "seconds": result.seconds if result else math.nan,
            "note": self.note,
        }


def running_sentence(run: Run) -> str:
    """The status line while ``run`` trains: its epoch, time, updates and the latest
    validation accuracy."""
    live, c = run.live, run.config
    rows = live.rows
    epoch = rows[-1]["epoch"] if rows else 0.0
    left = live.remaining
    parts = [f"Run {run.number} training: epoch {epoch:.2f} of "
             f"{epochs(c.n_updates, run.n_train):.3g}",
             f"{live.elapsed:.1f} s" + (f", about {left:.1f} s left" if left is not None else ""),
             f"{c.n_updates:,} updates"]
    if rows:
        parts.append(f"validation accuracy {percent(rows[-1]['val_accuracy'], 1)}")
    return " · ".join(parts)


def ending(run: Run, prefix: str = "") -> tuple[str, str, str]:
    """The status line at the end of ``run``: its sentence (after ``prefix``), kind
    (``"done"``, ``"info"``, ``"error"``) and detail (a traceback, or ``""``)."""
    live, n = run.live, run.number
    if live.state == "done" or (live.state == "stopped" and live.result is not None):
        r = live.result
        where = "done" if live.state == "done" else live.message
        text = (f"Run {n} {where}: test accuracy {percent(r.test_accuracy)}, "
                f"validation {percent(r.val_accuracy)}, in {live.elapsed:.1f} s.")
        kind = "done"
    elif live.state == "stopped":
        text, kind = f"Run {n} {live.message}.", "info"
    elif live.state == "diverged":
        text = f"Run {n} diverged at update step {live.diverged_step}: {live.message}"
        kind = "error"
    elif live.failure == "setting":
        text, kind = f"Run {n} cannot train with these settings: {live.message}", "error"
    elif live.failure == "data":
        text, kind = f"Run {n} could not load its data: {live.message}", "error"
    else:
        return (f"{prefix}Run {n} failed with an unexpected error, a bug in bnnet "
                f"({live.message}); the traceback is below.", "error", live.traceback)
    if live.view_error:
        return (f"{prefix}{text} Its view failed ({live.view_error}): the figure stopped "
                "at its last frame; the traceback is below.", "error", live.view_traceback)
    return prefix + text, kind, ""  # a setting or missing data: the message says it all


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """The runs so far, one row each (:data:`COLUMNS`)."""
    return pd.DataFrame([r.row() for r in runs], columns=list(COLUMNS))


def sorted_table(table: pd.DataFrame, by: str = "run", descending: bool = False
                 ) -> pd.DataFrame:
    """``table`` sorted by column ``by`` (runs without a value last), ties by run."""
    if table.empty or by == "run":
        return table.sort_values("run", ascending=not descending)
    return table.sort_values([by, "run"], ascending=[not descending, True],
                             na_position="last", kind="stable")


def table_html(table: pd.DataFrame, failed: set[int]) -> str:
    """The table as HTML, the rows of the runs in ``failed`` marked (red, and their note
    says why)."""
    if table.empty:
        return "<i>no run yet</i>"
    header = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
        mark = ' class="bnnet-failed" style="color:#b00020"' if row[0] in failed else ""
        body.append(f"<tr{mark}>{cells}</tr>")
    return (f'<table class="bnnet-runs"><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def csv_link(table: pd.DataFrame, filename: str = "explorer_runs.csv") -> str:
    """An HTML link that downloads ``table`` as a CSV file (one click, no server)."""
    data = base64.b64encode(table.to_csv(index=False).encode()).decode()
    return (f'<a class="bnnet-csv-link" download="{html.escape(filename)}" '
            f'href="data:text/csv;base64,{data}">download the table (CSV)</a>')
