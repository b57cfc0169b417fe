"""What the explorer shows of its runs: the live figure, the findings panel of a preset,
the runs table, the overlay of picked runs and the code of a run (:class:`View`).

The live figure is a PNG in an ``ipywidgets.Image``: it needs nothing beyond ipywidgets
(no lab extension to build, unlike ipympl), shows the same in JupyterLab, Notebook 7 and VS
Code, and its bytes say when it changed. It is drawn in the runs' threads, one run after
the other (:class:`~bnnet.explore.runner.Runner` calls :meth:`View.draw`), at most every
``redraw_seconds`` except for a run's first and last frames.
"""

from __future__ import annotations

import html
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as widgets

from bnnet.explore.plots import LiveFigure, overlay_figure
from bnnet.explore.presets import CONTRASTS, Measured, Preset, contrast_lines, finding_lines
from bnnet.explore.runs import SORTABLE, Run, csv_link, runs_table, sorted_table, table_html
from bnnet.explore.status import StatusLine


class View:
    """The live figure (:attr:`figure`, drawn by :attr:`painter`), the findings panel
    (:attr:`findings`), the runs table with its sorting and CSV link, the overlay of the
    runs picked in :attr:`picker`, and :attr:`code_view`.

    Args:
        runs: the explorer's runs (the list grows as they start; the view only reads it).
        status: where an error of the view is said.
        redraw_seconds: the least time between two frames of a run, after its first.
        results_dir: the report's tables that the findings quote.
    """

    def __init__(self, runs: list[Run], status: StatusLine, *, redraw_seconds: float = 0.5,
                 results_dir: str | Path | None = None):
        self.runs, self.status = runs, status
        self.redraw_seconds, self.results_dir = redraw_seconds, results_dir
        self.findings = widgets.HTML()
        self.findings_lines: list[str] = []
        # hidden while empty: an empty Image shows the browser's broken-image icon
        self.figure = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.table_view = widgets.HTML()
        self.sort_by = widgets.Dropdown(options=list(SORTABLE), value="run",
                                        description="sort by",
                                        layout=widgets.Layout(width="14em"))
        self.descending = widgets.Checkbox(False, description="descending", indent=False)
        self.save_button = widgets.Button(description="Save CSV", icon="download")
        self.csv_link = widgets.HTML()
        self.picker = widgets.SelectMultiple(description="overlay", rows=4,
                                             layout=widgets.Layout(width="60em"))
        self.overlay = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.code_view = widgets.HTML()
        self.code_button = widgets.Button(description="As code", icon="code")
        for w, name in ((self.figure, "figure"), (self.code_button, "as-code"),
                        (self.findings, "findings"), (self.table_view, "runs"),
                        (self.sort_by, "sort-by"), (self.descending, "descending"),
                        (self.save_button, "save-csv"), (self.overlay, "overlay"),
                        (self.picker, "picker")):
            w.add_class(f"bnnet-{name}")
        self.painter = LiveFigure()
        self._drawn: tuple[float, tuple | None] = (0.0, None)  # when, and which frame
        for w in (self.sort_by, self.descending):
            w.observe(lambda _: self.show_table(), names="value")
        self.picker.observe(lambda _: self.draw_overlay(), names="value")
        self.show_table()

    # ---- the live figure (in the runs' threads) ----------------------------------------
    def draw(self, run: Run, *, force: bool) -> None:
        """Draw ``run``'s latest frame: its first at once, then at most every
        ``redraw_seconds`` unless ``force``; never a frame already shown, nor anything of a
        run whose view failed."""
        live, (when, what) = run.live, self._drawn
        if live.view_error:  # this run's view failed once: the line says so, no redraws
            return
        state = (run.number, len(live.rows), live.layers_step)
        first = what is None or what[0] != run.number  # a run's first frame waits for none
        now = time.perf_counter()
        if live.rows and state != what and (force or first
                                            or now - when >= self.redraw_seconds):
            self.figure.value = self.painter.draw(run.label, live.history(),
                                                  live.layers_at_init, live.layers_latest,
                                                  live.layers_step)
            self.figure.layout.display = None
            self._drawn = (time.perf_counter(), state)

    # ---- the findings of a preset ------------------------------------------------------
    def show_findings(self, preset: Preset, measured: Mapping[str, Measured]) -> None:
        """The preset's finding, the report's number beside the one measured here for each
        arm, and the differences the report tested."""
        lines, problems = finding_lines(preset, measured, self.results_dir)
        tested = contrast_lines(preset, measured, self.results_dir)
        replay = f"Replay trains {len(preset.trained)} runs here and overlays them."
        self.findings_lines = ([f"{preset.finding} {replay}", *problems, *lines]
                               + ([CONTRASTS, *tested] if tested else []))
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        contrasts = "".join(f"<li>{html.escape(line)}</li>" for line in tested)
        if contrasts:
            contrasts = (f"<div>{html.escape(CONTRASTS)}</div>"
                         f"<ul style='margin:2px 0'>{contrasts}</ul>")
        trouble = "".join(f'<div style="color:#b00020">{html.escape(p)}</div>'
                          for p in problems)
        self.findings.value = (f"<div><i>{html.escape(preset.finding)}</i> {replay}</div>"
                               f"{trouble}<ul style='margin:2px 0'>{items}</ul>{contrasts}")

    def clear_findings(self) -> None:
        """No preset picked: an empty panel."""
        self.findings.value = ""
        self.findings_lines = []

    # ---- the runs table and the overlay ------------------------------------------------
    def show_table(self) -> None:
        """The runs table, sorted as picked, failures marked, and its CSV link."""
        table = sorted_table(runs_table(self.runs), self.sort_by.value, self.descending.value)
        self.table_view.value = table_html(table, {r.number for r in self.runs if r.failed})
        self.csv_link.value = csv_link(table) if len(table) else ""

    def offer(self) -> None:
        """Offer every run with curves for the overlay, keeping what is picked."""
        options = [(r.label, r.number) for r in self.runs if r.live.rows]
        if options != list(self.picker.options):
            picked = self.picker.value
            self.picker.options = options  # this clears the selection: restore it
            self.picker.value = tuple(n for n in picked if n in {n for _, n in options})

    def offered(self) -> set[int]:
        """The runs that can be overlaid."""
        return {n for _, n in self.picker.options}

    def draw_overlay(self) -> None:
        """Overlay the curves of the runs picked (nothing picked: no overlay)."""
        try:
            runs = [self.runs[n - 1] for n in self.picker.value]
            self.overlay.value = (overlay_figure([(r.label, r.live.history()) for r in runs])
                                  if runs else b"")
            self.overlay.layout.display = None if runs else "none"
        except Exception as e:  # the view reports, it never raises into the notebook
            self.status.hold(f"Cannot overlay: {type(e).__name__}: {e}",
                             detail=traceback.format_exc())

    def show_text(self, text: str) -> None:
        """Show ``text`` (a run's code, where the table was saved) under the overlay."""
        self.code_view.value = f"<pre>{html.escape(text)}</pre>"

    def runs_panel(self) -> widgets.Widget:
        """The runs table with its sorting, Save CSV and link, the overlay and the code."""
        return widgets.VBox([widgets.HTML("<b>Runs of this explorer</b>"),
                             widgets.HBox([self.sort_by, self.descending, self.save_button,
                                           self.csv_link]),
                             self.table_view,
                             widgets.HBox([self.picker, self.code_button]),
                             self.overlay, self.code_view])
