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
    explorer.close()              # stops its run; so does running its cell again

Training runs in a thread (:class:`~bnnet.explore.live.LiveRun`), so the controls stay
live; the run's thread itself redraws the view at logged steps, at most every
``redraw_seconds``; Stop ends a run after the current update. The live figure is a PNG in
an ``ipywidgets.Image``: it needs nothing beyond ipywidgets (no lab extension to build,
unlike ipympl), shows the same in JupyterLab, Notebook 7 and VS Code, and its bytes say
when it changed. The status line has one owner, the newest run
(:mod:`~bnnet.explore.status`); an explorer closes when its cell runs again or the kernel
shuts down (:mod:`~bnnet.explore.lifecycle`).
"""

from __future__ import annotations

import contextlib
import functools
import html
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import display
from traitlets import TraitError

from bnnet.core.config import NETS, Config, ConfigError, closest
from bnnet.core.data import Dataset, load_cifar10
from bnnet.core.train import fit
from bnnet.explore import lifecycle
from bnnet.explore.controls import make_controls, value_range
from bnnet.explore.live import LiveRun
from bnnet.explore.plots import LiveFigure, overlay_figure
from bnnet.explore.presets import (
    BY_KEY,
    CONTRASTS,
    PRESETS,
    Measured,
    Preset,
    contrast_lines,
    finding_lines,
)
from bnnet.explore.runs import SORTABLE, Run, csv_link, runs_table, sorted_table, table_html
from bnnet.explore.settings import (
    ALL_TRAIN,
    CURVE_POINTS,
    DEFAULTS,
    as_code,
    config_from,
    epochs,
    papermill_line,
    parse_widths,
)
from bnnet.explore.status import StatusLine
from bnnet.files import work_root
from bnnet.study.stats import percent

_LOADING = threading.Lock()
#: how long a new explorer waits for the runs of the explorers it replaces to stop
TAKE_OVER_WAIT = 10.0


def cifar10(data_dir: str | None, n_train: int | None) -> Dataset:
    """CIFAR-10 with ``n_train`` training images; the last three sizes asked for stay
    loaded in the kernel (a full-size set takes about 0.7 GB). One load at a time: a run
    started while the explorer preloads waits for that load."""
    with _LOADING:
        return _cifar10(data_dir, n_train)


@functools.lru_cache(maxsize=3)
def _cifar10(data_dir: str | None, n_train: int | None) -> Dataset:
    return load_cifar10(data_dir, n_train=n_train)


def warm_up(data: Dataset) -> None:
    """Train a tiny BN net for two updates, so that the first real run finds the fast
    path's kernels loaded (:mod:`bnnet.core.fast`)."""
    tiny = Dataset.from_arrays(data.X_train[:200], data.y_train[:200], data.X_val[:100],
                               data.y_val[:100])
    fit(Config(hidden=(10,), n_s=1, cycles=1, train_eval_size=100), tiny, progress=False)


class Explorer:
    """Controls, presets, a live view and the runs since it was made, in one widget.

    Args:
        data_dir: the CIFAR-10 folder (default: as :func:`bnnet.load_cifar10` finds it).
        loader: ``loader(n_train)`` returns the data of a run (``n_train`` ``None`` for
            all images); default: CIFAR-10 (:func:`cifar10`). "As code" then loads the
            data itself: its lines reproduce a run only with the default loader.
        redraw_seconds: the least time between two redraws of the live view (each costs
            the run about 0.2 s here).
        preload: load the data the controls ask for and warm the compiled kernels in a
            background thread at once, so that the first Train starts without waiting.
        results_dir: the report's tables that the presets quote (default: the project's
            ``report/results``).

    Making an explorer closes the older ones of this kernel (their runs stop; running the
    notebook's cell again does that), and the kernel closes it when it shuts down.
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
        self._before = [r.live for r in replaced]  # the first run waits for these
        self.data_dir = data_dir
        self.own_loader = loader is not None
        self.loader = loader or functools.partial(cifar10, data_dir)
        self.redraw_seconds = redraw_seconds
        self.results_dir = results_dir
        self.runs: list[Run] = []
        self.closed = ""  # why it was closed ("": open)
        self._lock = threading.RLock()  # closing, and a replay's next run against Train
        self.controls = make_controls()
        self.buttons = {name: widgets.Button(description=name.capitalize(), icon=icon,
                                             button_style=style)
                        for name, icon, style in (("train", "play", "success"),
                                                  ("stop", "stop", "danger"),
                                                  ("reset", "undo", ""))}
        self.status = StatusLine()
        self.schedule = widgets.HTML()
        self.preset = widgets.Dropdown(
            options=[("a finding of the report…", None)] + [(p.title, p.key) for p in PRESETS],
            description="preset", style={"description_width": "7.5em"},
            layout=widgets.Layout(width="36em"))
        self.replay_button = widgets.Button(description="Replay", icon="repeat",
                                            disabled=True,
                                            tooltip="train every arm of the finding and "
                                                    "overlay them")
        self.findings = widgets.HTML()
        self._findings_text: list[str] = []
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
        # the live figure is drawn in the runs' threads, one run after the other
        self._painter = LiveFigure()
        self._drawn: tuple[float, tuple | None] = (0.0, None)  # when, and which frame
        self._replaying: threading.Event | None = None  # set: the replay is cancelled
        self._replay_thread: threading.Thread | None = None
        self._wire()
        self.widget = self._layout()
        self._show_schedule()
        self._show_table()
        lifecycle.register(self)
        self._say("Set the controls and press Train, or pick a finding of the report and "
                  "press Replay. A 3-layer run of 2 epochs on 10,000 images takes a few "
                  "seconds." + self._took_over(replaced))
        if preload:
            threading.Thread(target=self._preload, daemon=True,
                             name="bnnet-explorer-preload").start()

    # ---- driving it from code -------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Every control's value, by the names of :data:`DEFAULTS`."""
        return {name: w.value for name, w in self.controls.items()}

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
        for name, value in values.items():
            if name not in self.controls:
                raise ConfigError(f"the explorer has no control {name!r}"
                                  f"{closest(name, self.controls)}; its controls are "
                                  f"{', '.join(self.controls)}")
            control = self.controls[name]
            before = control.value
            try:
                control.value = value
            except TraitError:
                raise ConfigError(f"{name}={value!r}: the control takes "
                                  f"{value_range(control)}") from None
            if control.value != value:
                control.value = before  # refused: the control keeps what it had
                raise ConfigError(f"{name}={value!r} is outside the control's range "
                                  f"({value_range(control)}); {name} stays {before!r}")

    def train(self) -> Run:
        """Start a run with the controls' values and return at once. A run still training
        is stopped, and the new one starts when it has ended; a replay in progress ends.
        Controls that describe no valid run (or a closed explorer) raise
        :class:`ConfigError`, with the reason also in the status line, where the Train
        button shows it."""
        self._cancel_replay()
        run = self._train(self.values())
        if run is None:
            raise ConfigError(self.status.text)
        return run

    def findings_text(self) -> str:
        """What the findings panel shows, as plain text: the picked preset's finding, the
        report's number beside the explorer's for each arm, and the differences."""
        return "\n".join(self._findings_text)

    def stop(self) -> None:
        """Stop the current run after its current update (before training, if it is
        still loading its data), and a replay in progress."""
        self._cancel_replay()
        self._stop_latest()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the current run (or replay) has ended and its view is drawn;
        ``False`` if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        thread = self._replay_thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.runs[-1].live.wait(left) if self.runs else True

    def reset(self) -> None:
        """Every control back to :data:`DEFAULTS` (the runs are kept)."""
        self.set(**DEFAULTS)

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
            self._say(f"Cannot replay: {self._closed_sentence()}", "error")
            return
        preset = BY_KEY[self.preset.value]
        self._cancel_replay()
        cancelled = self._replaying = threading.Event()
        self._replay_thread = threading.Thread(target=self._replay, args=(preset, cancelled),
                                               daemon=True, name="bnnet-explorer-replay")
        self._replay_thread.start()

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
        offered = {n for _, n in self.picker.options}
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
        """Stop this explorer's run (and replay) and refuse new ones; its status line says
        why. Waits up to ``timeout`` seconds for the run to end (``None``: until it has);
        whether it has. Closing twice changes nothing."""
        with self._lock:
            first = not self.closed
            if first:
                self.closed = reason
        if first:
            lifecycle.forget(self)
            self._cancel_replay()
            latest = self.runs[-1] if self.runs and not self.runs[-1].live.ended else None
            if latest is not None:
                latest.live.stop()  # first: the widgets below may be gone at shutdown
            for button in (self.buttons["train"], self.replay_button):
                button.disabled = True
            if latest is not None:
                self._say(f"{self._closed_sentence()}: stopping run {latest.number}...",
                          owner=latest.number)
            else:
                self._say(self._closed_sentence() + ".")
        return self.wait(timeout)

    # ---- the widget -----------------------------------------------------------------
    def _ipython_display_(self) -> None:
        display(self.widget)

    def _layout(self) -> widgets.Widget:
        c = self.controls
        for name, b in self.buttons.items():
            b.add_class(f"bnnet-{name}")
        for w, name in ((self.figure, "figure"), (self.code_button, "as-code"),
                        (self.preset, "preset"), (self.replay_button, "replay"),
                        (self.findings, "findings"), (self.table_view, "runs"),
                        (self.sort_by, "sort-by"), (self.descending, "descending"),
                        (self.save_button, "save-csv"), (self.overlay, "overlay"),
                        (self.picker, "picker")):
            w.add_class(f"bnnet-{name}")
        columns = widgets.HBox([
            widgets.VBox([c["layers"], c["widths"], c["bn"], c["init"], c["sigma"]]),
            widgets.VBox([c["eps"], c["lam"], c["eta_max"], c["optimizer"], c["seed"]]),
            widgets.VBox([c["n_s"], c["cycles"], self.schedule, c["n_train"], c["flip"],
                          c["shift"]]),
        ])
        presets = widgets.VBox([widgets.HBox([self.preset, self.replay_button]),
                                self.findings])
        runs = widgets.VBox([widgets.HTML("<b>Runs of this explorer</b>"),
                             widgets.HBox([self.sort_by, self.descending, self.save_button,
                                           self.csv_link]),
                             self.table_view,
                             widgets.HBox([self.picker, self.code_button]),
                             self.overlay, self.code_view])
        explorer = widgets.VBox([columns, presets,
                                 widgets.HBox(list(self.buttons.values())),
                                 self.status.widget, self.figure, runs])
        explorer.add_class("bnnet-explorer")
        return explorer

    def _wire(self) -> None:
        self.buttons["train"].on_click(lambda _: self._train_clicked())
        self.buttons["stop"].on_click(lambda _: self.stop())
        self.buttons["reset"].on_click(lambda _: self.reset())
        self.replay_button.on_click(lambda _: self.replay())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.code_button.on_click(lambda _: self._show_code())
        self.controls["layers"].observe(self._layers_changed, names="value")
        self.controls["init"].observe(self._init_changed, names="value")
        for name in ("n_s", "cycles", "n_train"):
            self.controls[name].observe(lambda _: self._show_schedule(), names="value")
        self.preset.observe(lambda _: self._preset_picked(), names="value")
        for w in (self.sort_by, self.descending):
            w.observe(lambda _: self._show_table(), names="value")
        self.picker.observe(lambda _: self._draw_overlay(), names="value")
        self._init_changed(None)

    def _layers_changed(self, change: Mapping) -> None:
        layers, widths = change["new"], self.controls["widths"]
        try:
            parse_widths(widths.value, layers)
        except ConfigError:
            course = {len(h) + 1: h for h in NETS.values()}
            widths.value = ", ".join(map(str, course.get(layers, (50,) * (layers - 1))))

    def _init_changed(self, _: Any) -> None:
        self.controls["sigma"].disabled = self.controls["init"].value != "normal"

    def _show_schedule(self) -> None:
        v = self.values()
        updates = 2 * v["n_s"] * v["cycles"]
        self.schedule.value = (f"<small>{updates:,} updates = "
                               f"{epochs(updates, v['n_train']):.3g} epochs of "
                               f"{v['n_train']:,} images</small>")

    def _say(self, text: str, kind: str = "info", *, detail: str = "",
             owner: int | None = None) -> bool:
        return self.status.say(text, kind, detail=detail, owner=owner)

    def _run(self, number: int | None) -> Run:
        if not self.runs:
            raise ConfigError("no run yet: press Train first")
        if number is None:
            return self.runs[-1]
        if not 1 <= number <= len(self.runs):
            raise ConfigError(f"there is no run {number}; the runs are 1 to {len(self.runs)}")
        return self.runs[number - 1]

    def _preload(self) -> None:
        try:
            data = self.loader(config_from(self.values())[1])
        except Exception as e:  # e.g. no data yet: the first Train says so again
            # only while no run owns the line (a run started meanwhile says it itself)
            self._say(f"Cannot load the data: {e}", "error", owner=0)
            return
        warm_up(data)

    # ---- runs -------------------------------------------------------------------------
    def _train(self, values: Mapping[str, Any], curve_points: int = CURVE_POINTS
               ) -> Run | None:
        if self.closed:
            self._say(f"Cannot train: {self._closed_sentence()}.", "error")
            return None
        try:
            config, n_train = config_from(values, curve_points)
        except ConfigError as e:
            self._say(f"Cannot train: {e}", "error")
            return None
        before = [self.runs[-1].live] if self.runs else list(self._before)
        self._stop_latest()
        number = len(self.runs) + 1

        def data() -> Dataset:
            for live in before:
                live.wait()  # one run at a time: the view is drawn by one thread
            return self.loader(n_train)

        live = LiveRun(config, data, on_update=functools.partial(self._update, number))
        run = Run(number, config, n_train, live)
        self.runs.append(run)
        self.status.hand_over(number, f"Run {number}: loading the data "
                                      f"({n_train or ALL_TRAIN:,} training images)...")
        live.start()
        return run

    def _stop_latest(self) -> None:
        if self.runs and not self.runs[-1].live.ended and not self.runs[-1].live.stopping:
            run = self.runs[-1]
            run.live.stop()
            self._say(f"Run {run.number}: stopping...", owner=run.number)

    def _cancel_replay(self) -> None:
        with self._lock:  # a replay starts its next run under this lock, if not cancelled
            if self._replaying is not None:
                self._replaying.set()

    # ---- presets ----------------------------------------------------------------------
    def _preset_picked(self) -> None:
        if self._replay_thread is not None and self._replay_thread.is_alive():
            self.stop()  # another finding: the replay of the last one ends
        key = self.preset.value
        self.replay_button.disabled = key is None or bool(self.closed)
        if key is None:
            self.findings.value = ""
            self._findings_text = []
            return
        preset = BY_KEY[key]
        self.set(**preset.values(preset.trained[0]))
        self._show_findings(preset, {})

    def _show_findings(self, preset: Preset, measured: Mapping[str, Measured]) -> None:
        lines, problems = finding_lines(preset, measured, self.results_dir)
        tested = contrast_lines(preset, measured, self.results_dir)
        replay = f"Replay trains {len(preset.trained)} runs here and overlays them."
        self._findings_text = ([f"{preset.finding} {replay}", *problems, *lines]
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

    def _replay(self, preset: Preset, cancelled: threading.Event) -> None:
        measured: dict[str, Measured] = {}
        numbers = []
        try:
            for arm in preset.trained:
                values = preset.values(arm)
                with self._lock:
                    if cancelled.is_set():
                        return
                    self.set(**values)
                    run = self._train(values, preset.curve_points)
                if run is None:
                    return
                numbers.append(run.number)
                run.live.wait()
                result = run.live.result if run.live.state == "done" else None
                measured[arm.name] = Measured(run.label, result.test_accuracy if result
                                              else None, run.live.state)
                self._show_findings(preset, measured)
                if run.live.state == "stopped":
                    return
            shown = [n for n in numbers if self.runs[n - 1].live.rows]
            if shown:
                self.select(*shown)
        except Exception as e:  # a replay reports, it never raises into a thread
            self._say(f"The replay of {preset.title!r} failed: {type(e).__name__}: {e}",
                      "error", detail=traceback.format_exc())

    def _train_clicked(self) -> None:
        with contextlib.suppress(ConfigError):  # the status line says why
            self.train()

    # ---- called in the run's thread (LiveRun.on_update) -------------------------------
    def _update(self, number: int, live: LiveRun) -> None:
        run = self.runs[number - 1]
        try:
            if live.finished is not None:  # the last call: the run has ended
                if self.status.owner == number:  # a newer run's view is not drawn over
                    self._draw(run, force=True)  # so that "done" means the figure is final
                self._finish(run)
            else:
                self._say(_running(run), owner=number)
                self._draw(run, force=False)
        except Exception as e:
            self._view_failed(run, e)
            raise  # LiveRun keeps it in view_error

    def _draw(self, run: Run, *, force: bool) -> None:
        live, (when, what) = run.live, self._drawn
        if live.view_error:  # this run's view failed once: the line says so, no redraws
            return
        state = (run.number, len(live.rows), live.layers_step)
        first = what is None or what[0] != run.number  # a run's first frame waits for none
        now = time.perf_counter()
        if live.rows and state != what and (force or first
                                            or now - when >= self.redraw_seconds):
            self.figure.value = self._painter.draw(run.label, live.history(),
                                                   live.layers_at_init, live.layers_latest,
                                                   live.layers_step)
            self.figure.layout.display = None
            self._drawn = (time.perf_counter(), state)

    def _finish(self, run: Run) -> None:
        text, kind, detail = self._ending(run)
        self._say(text, kind, detail=detail, owner=run.number)
        self._show_table()
        options = [(r.label, r.number) for r in self.runs if r.live.rows]
        if options != list(self.picker.options):
            picked = self.picker.value
            self.picker.options = options  # this clears the selection: restore it
            self.picker.value = tuple(n for n in picked if n in {n for _, n in options})

    def _ending(self, run: Run) -> tuple[str, str, str]:
        """The status line at the end of ``run``: its sentence, kind and detail."""
        live, n = run.live, run.number
        prefix = f"{self._closed_sentence()}: " if self.closed else ""
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
                    "at its last frame; the traceback is below.", "error",
                    live.view_traceback)
        return prefix + text, kind, ""  # a setting or missing data: the message says it all

    def _view_failed(self, run: Run, error: Exception) -> None:
        """Say in the status line that the view of ``run`` failed; nothing here may raise."""
        try:
            self._say(f"Run {run.number}: the view failed ({type(error).__name__}: {error}); "
                      "the run goes on and its figure stays at its last frame.", "error",
                      detail=traceback.format_exc(), owner=run.number)
            self._show_table()
        except Exception:  # the run must go on; LiveRun.view_error keeps the first error
            pass

    def _show_table(self) -> None:
        table = sorted_table(self.table(), self.sort_by.value, self.descending.value)
        self.table_view.value = table_html(table, {r.number for r in self.runs if r.failed})
        self.csv_link.value = csv_link(table) if len(table) else ""

    def _save_clicked(self) -> None:
        try:
            path = self.save_table()
        except OSError as e:
            self.code_view.value = f"<pre>Cannot save the table: {html.escape(str(e))}</pre>"
            return
        self.code_view.value = f"<pre>The runs table is in {html.escape(str(path))}</pre>"

    def _draw_overlay(self) -> None:
        try:
            runs = [self._run(n) for n in self.picker.value]
            self.overlay.value = (overlay_figure([(r.label, r.live.history()) for r in runs])
                                  if runs else b"")
            self.overlay.layout.display = None if runs else "none"
        except Exception as e:  # the view reports, it never raises into the notebook
            self._say(f"Cannot overlay: {type(e).__name__}: {e}", "error",
                      detail=traceback.format_exc())

    def _show_code(self) -> None:
        numbers = self.picker.value
        try:
            text = self.code(numbers[0] if numbers else None)
        except ConfigError as e:
            text = str(e)
        self.code_view.value = f"<pre>{html.escape(text)}</pre>"

    # ---- lifecycle --------------------------------------------------------------------
    def _closed_sentence(self) -> str:
        return f"This explorer is closed: {self.closed}"

    def _took_over(self, replaced: list[Run]) -> str:
        """Wait for the runs of the explorers this one replaced, and say what became of
        them."""
        deadline = time.monotonic() + TAKE_OVER_WAIT
        for run in replaced:
            run.live.wait(max(0.0, deadline - time.monotonic()))
        if not replaced:
            return ""
        said = []
        for run in replaced:
            live = run.live
            if not live.ended:
                said.append(f"run {run.number} is still stopping (the first run here waits "
                            "for it)")
            elif live.result is not None:
                said.append(f"run {run.number} was stopped at update step "
                            f"{live.result.history['step'].iloc[-1]:,}")
            else:
                said.append(f"run {run.number} was {live.message or live.state}")
        return (" The explorer this cell made before is closed: " + "; ".join(said) + ".")


def _running(run: Run) -> str:
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
