"""The explorer: train a network on CIFAR-10 from sliders and watch it learn, live.

``notebooks/00_explore.ipynb`` shows one::

    from bnnet.explore import Explorer
    explorer = Explorer()
    explorer                      # controls, presets, the live view and the runs table

and code drives the same object without a browser::

    explorer.set(layers=9, init="normal", sigma=1e-3, bn="before")
    explorer.train(); explorer.wait()
    explorer.replay("epsilon"); explorer.wait()   # a finding of the report, live
    explorer.table()              # every run of this explorer, as a DataFrame
    print(explorer.code(1))       # the lines that reproduce run 1
    explorer.close()              # stops its threads; so does running its cell again

:class:`Explorer` is the facade over four parts of one concern each, which it builds and
wires: the controls (:class:`~bnnet.explore.controls.ControlPanel`), the view
(:class:`~bnnet.explore.view.View`: figure, findings, runs table, overlay), the runs
(:class:`~bnnet.explore.runner.Runner`: one at a time, each in its own thread, which
reports in the status line and redraws the view) and the replays of presets
(:class:`~bnnet.explore.replay.Replayer`). The status line (:mod:`~bnnet.explore.status`)
has one owner: the newest run, or an error of the user's last action, which stays until the
next run starts or is stopped while the running run reports beneath it. An explorer closes
when its cell runs again or the kernel shuts down (:mod:`~bnnet.explore.lifecycle`), and
closing stops and waits for every thread it started. The CIFAR-10 sets stay loaded in the
kernel, within a memory limit (:mod:`~bnnet.explore.data`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import display

from bnnet.core.config import ConfigError, closest
from bnnet.core.data import Dataset
from bnnet.explore import lifecycle
from bnnet.explore.controls import ControlPanel
from bnnet.explore.data import cifar10
from bnnet.explore.presets import BY_KEY
from bnnet.explore.replay import Replayer
from bnnet.explore.runner import Runner
from bnnet.explore.runs import Run, runs_table
from bnnet.explore.settings import as_code, papermill_line
from bnnet.explore.status import StatusLine
from bnnet.explore.view import View
from bnnet.files import work_root


class Explorer:
    """Controls, presets, a live view and the runs since it was made, in one widget.

    Args:
        data_dir: the CIFAR-10 folder (default: as :func:`bnnet.load_cifar10` finds it).
        loader: ``loader(n_train)`` returns the data of a run (``n_train`` ``None`` for
            all images); default: CIFAR-10 (:func:`~bnnet.explore.data.cifar10`). "As
            code" then loads the data itself: its lines reproduce a run only with the
            default loader.
        redraw_seconds: the least time between two redraws of the live view (each costs
            the run about 0.2 s here).
        preload: load the data the controls ask for and warm the compiled kernels in a
            background thread at once, so that the first Train starts without waiting.
        results_dir: the report's tables that the presets quote (default: the project's
            ``report/results``).

    Making an explorer closes the older ones of this kernel (their runs stop; running the
    notebook's cell again does that), and the kernel closes it when it shuts down. Its
    widgets keep their names of before the split into parts (``controls``, ``buttons``,
    ``status``, ``figure``, ``picker``, ...): tests and scripts reach them so.
    """

    def __init__(self, data_dir: str | None = None, *,
                 loader: Callable[[int | None], Dataset] | None = None,
                 redraw_seconds: float = 0.5, preload: bool = True,
                 results_dir: str | Path | None = None):
        # first, so that the runs of the explorers this one replaces stop while it is built
        old = lifecycle.open_explorers()
        replaced = [e.runs[-1] for e in old if e.runs and not e.runs[-1].live.ended]
        for explorer in old:
            explorer.close(lifecycle.REPLACED, timeout=0)
        self.data_dir, self.own_loader = data_dir, loader is not None
        self.loader = loader or functools.partial(cifar10, data_dir)
        self.runs: list[Run] = []
        self.status = StatusLine()
        self.panel = ControlPanel()
        self.view = View(self.runs, self.status, redraw_seconds=redraw_seconds,
                         results_dir=results_dir)
        self.runner = Runner(self.runs, self.loader, self.status, self.view,
                             before=[r.live for r in replaced])
        self.replayer = Replayer(self.runner, self.panel, self.view)
        p, v = self.panel, self.view  # the widgets, by their names of before the split
        self.controls, self.buttons, self.schedule = p.controls, p.buttons, p.schedule
        self.preset, self.replay_button = p.preset, p.replay_button
        self.figure, self.findings, self.table_view = v.figure, v.findings, v.table_view
        self.sort_by, self.descending, self.csv_link = v.sort_by, v.descending, v.csv_link
        self.picker, self.overlay, self.code_view = v.picker, v.overlay, v.code_view
        self.buttons["train"].on_click(lambda _: self._train_clicked())
        self.buttons["stop"].on_click(lambda _: self.stop())
        self.replay_button.on_click(lambda _: self.replay())
        v.save_button.on_click(lambda _: self._save_clicked())
        v.code_button.on_click(lambda _: self._show_code())
        self.widget = self._layout()
        lifecycle.register(self)
        self.status.say("Set the controls and press Train, or pick a finding of the report "
                        "and press Replay. A 3-layer run of 2 epochs on 10,000 images takes "
                        "a few seconds." + self.runner.took_over(replaced))
        if preload:
            self.runner.preload(self.values())

    @property
    def closed(self) -> str:
        """Why the explorer was closed (``""``: it is open)."""
        return self.runner.closed

    # ---- driving it from code -------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Every control's value, by the names of :data:`~bnnet.explore.settings.DEFAULTS`."""
        return self.panel.values()

    def set(self, **values: Any) -> None:
        """Set controls by name, as a user would. A value outside a control's range is a
        :class:`ConfigError` (the control would quietly clamp it). The controls, their
        ranges and defaults (:data:`~bnnet.explore.settings.DEFAULTS`):

        ==========  ===========================================  ===============
        control     takes                                        default
        ==========  ===========================================  ===============
        layers      2 to 20 (widths that no longer fit follow)    3
        widths      text: one width per hidden layer, "50, 30",  "50, 50"
                    or one for all, "50"
        bn          one of 'none', 'before', 'after' (the ReLU)  'before'
        init        one of 'he', 'xavier', 'normal'               'he'
        sigma       1e-05 to 1 (counts with init='normal';        0.1
                    half-decade steps)
        eps         1e-16 to 0.1 (BN's epsilon; decade steps)     1e-05
        lam         1e-06 to 1 (L2 regularisation)                0.005
        eta_max     1e-05 to 1 (the cyclical rate's peak)         0.1
        n_s         1 to 100000 (updates per half-cycle)          100
        cycles      1 to 5                                        1
        optimizer   one of 'sgd', 'adam'                          'sgd'
        n_train     1000 to 45000 (training images, steps of      10000
                    1,000)
        flip        True or False (random horizontal flips)       False
        shift       0 to 4 (random shifts, pixels)                0
        seed        0 to 2147483647                               0
        ==========  ===========================================  ===============
        """
        self.panel.set(**values)

    def train(self) -> Run:
        """Start a run with the controls' values and return at once. A run still training
        is stopped, and the new one starts when it has ended; a replay in progress ends.
        Controls that describe no valid run (or a closed explorer) raise
        :class:`ConfigError` with the validation's reason ("Cannot train: ..."), and leave
        a run in progress training: the reason holds the status line, where the Train
        button shows it, until the next run starts or is stopped, and the running run
        reports beneath it."""
        self.replayer.cancel()
        return self.runner.start(self.values())

    def findings_text(self) -> str:
        """What the findings panel shows, as plain text: the picked preset's finding, the
        report's number beside the explorer's for each arm, and the differences."""
        return "\n".join(self.view.findings_lines)

    def stop(self) -> None:
        """Stop the current run after its current update (before training, if it is
        still loading its data), and a replay in progress."""
        self.replayer.cancel()
        self.runner.stop_latest()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the current run (or replay) has ended and its view is drawn;
        ``False`` if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.replayer.join(timeout):
            return False
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.runs[-1].live.wait(left) if self.runs else True

    def reset(self) -> None:
        """Every control back to :data:`~bnnet.explore.settings.DEFAULTS` (the runs are kept)."""
        self.panel.reset()

    def replay(self, key: str | None = None) -> None:
        """Replay a finding of the report (``key`` of
        :data:`~bnnet.explore.presets.PRESETS`; default: the one picked): train its arms
        one after the other, overlay them and put the report's numbers beside the ones
        measured here. Returns at once; :meth:`wait` waits for the whole replay."""
        if key is not None:
            if key not in BY_KEY:
                raise ConfigError(f"there is no preset {key!r}{closest(key, BY_KEY)}; the "
                                  f"presets are {', '.join(BY_KEY)}")
            self.preset.value = key
        if self.preset.value is None:
            raise ConfigError("pick a preset first: " + ", ".join(BY_KEY))
        if self.closed:
            self.status.hold(f"Cannot replay: {self.runner.closed_sentence()}")
            return
        self.replayer.start(BY_KEY[self.preset.value])

    def table(self) -> pd.DataFrame:
        """The runs so far: settings, state, final accuracies and a note on what went wrong."""
        return runs_table(self.runs)

    def save_table(self, path: str | Path | None = None) -> Path:
        """Write :meth:`table` as CSV to ``path`` (default: ``scratch/explorer_runs.csv`` of
        the project); the path written."""
        path = Path(path) if path is not None else work_root() / "scratch" / "explorer_runs.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.table().to_csv(path, index=False)
        return path

    def select(self, *numbers: int) -> None:
        """Overlay the curves of these runs (as picking them in the list does); only runs
        that have curves can be picked."""
        offered = self.view.offered()
        missing = [n for n in numbers if n not in offered]
        if missing:
            raise ConfigError(f"run {missing[0]} has no curves to overlay; the runs that "
                              f"have are {sorted(offered)}")
        self.picker.value = tuple(numbers)

    def code(self, number: int | None = None) -> str:
        """The lines that reproduce run ``number`` (default: the latest)."""
        run = self._run(number)
        lines = as_code(run.config, run.n_train, self.data_dir)
        if self.own_loader:
            lines += ("\n# the explorer trained on the data of its own loader: load the same "
                      "data to get the same numbers")
        result = run.live.result if run.live.ended else None
        if result is not None:
            lines += f"  # run {run.number}: {result.test_accuracy:.2%}"
        if run.live.ended and run.live.state == "stopped":
            lines += f"\n# run {run.number} was {run.live.message}; this trains to the end"
        line = papermill_line(run.config, run.n_train)
        if line:
            lines += ("\n\n# a notebook that trains this configuration among its runs:\n# "
                      + line)
        return lines

    def close(self, reason: str = "closed", timeout: float | None = 10.0) -> bool:
        """Stop this explorer's run and replay and refuse new ones; its status line says
        why. Waits up to ``timeout`` seconds (``None``: as long as it takes) until every
        thread the explorer started has ended: the runs', the replay's and the preload's
        (a load in progress cannot be interrupted: the preload then ends without its
        warm-up); whether they have. Closing twice changes nothing but waits again."""
        self.replayer.cancel()  # first: a replay starts no run once cancelled
        if self.runner.close(reason):
            lifecycle.forget(self)
            for button in (self.buttons["train"], self.replay_button):
                button.disabled = True
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.replayer.join(timeout):
            return False
        return self.runner.join(None if deadline is None
                                else max(0.0, deadline - time.monotonic()))

    # ---- the widget -----------------------------------------------------------------
    def _ipython_display_(self) -> None:
        display(self.widget)

    def _layout(self) -> widgets.Widget:
        explorer = widgets.VBox([self.panel.columns(),
                                 widgets.VBox([widgets.HBox([self.preset, self.replay_button]),
                                               self.findings]),
                                 widgets.HBox(list(self.buttons.values())),
                                 self.status.widget, self.figure, self.view.runs_panel()])
        explorer.add_class("bnnet-explorer")
        return explorer

    def _run(self, number: int | None) -> Run:
        if not self.runs:
            raise ConfigError("no run yet: press Train first")
        if number is None:
            return self.runs[-1]
        if not 1 <= number <= len(self.runs):
            raise ConfigError(f"there is no run {number}; the runs are 1 to {len(self.runs)}")
        return self.runs[number - 1]

    def _train_clicked(self) -> None:
        with contextlib.suppress(ConfigError):  # the status line says why
            self.train()

    def _save_clicked(self) -> None:
        try:
            path = self.save_table()
        except OSError as e:
            self.view.show_text(f"Cannot save the table: {e}")
            return
        self.view.show_text(f"The runs table is in {path}")

    def _show_code(self) -> None:
        numbers = self.picker.value
        try:
            text = self.code(numbers[0] if numbers else None)
        except ConfigError as e:
            text = str(e)
        self.view.show_text(text)
