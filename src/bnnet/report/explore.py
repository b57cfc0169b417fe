"""The explorer: train a network on CIFAR-10 from sliders and watch it learn, live.

``notebooks/00_explore.ipynb`` shows one::

    from bnnet.report.explore import Explorer
    explorer = Explorer()
    explorer                      # the controls, the live view and the runs table

and code drives the same object without a browser::

    explorer.set(layers=9, init="normal", sigma=1e-3, bn="before")
    explorer.train(); explorer.wait()
    explorer.table()              # every run of this explorer
    print(explorer.code(1))       # the lines that reproduce run 1

Training runs in a thread (:class:`~bnnet.study.live.LiveRun`), so the controls stay live;
the run's thread itself redraws the view at logged steps, at most every ``redraw_seconds``;
Stop ends a run after the current update. The live figure is a PNG in an
``ipywidgets.Image``: it needs nothing beyond ipywidgets (no lab extension to build, unlike
ipympl), shows the same in JupyterLab, Notebook 7 and VS Code, and its bytes say when it
changed. What a run is, without widgets (controls into a Config, a run back into code), is
in :mod:`bnnet.report.explore_settings`; the figures in :mod:`bnnet.report.explore_plots`.
"""

from __future__ import annotations

import functools
import html
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import display
from traitlets import TraitError

from bnnet.core.config import NETS, Config, ConfigError, bn_placement, closest
from bnnet.core.data import Dataset, load_cifar10
from bnnet.core.train import fit
from bnnet.report.explore_plots import LiveFigure, overlay_figure
from bnnet.report.explore_settings import (
    ALL_TRAIN,
    DEFAULTS,
    MIN_TRAIN,
    as_code,
    config_from,
    describe,
    epochs,
    papermill_line,
    parse_widths,
)
from bnnet.study.live import LiveRun
from bnnet.study.stats import percent

_LOADING = threading.Lock()


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


@dataclass
class Run:
    """One run of the explorer: its number, what it trains and its live state."""

    number: int
    config: Config
    n_train: int | None
    live: LiveRun

    @property
    def label(self) -> str:
        return f"run {self.number}: {describe(self.config)}"

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
            "val %": 100 * result.val_accuracy if result else float("nan"),
            "test %": 100 * result.test_accuracy if result else float("nan"),
            "seconds": result.seconds if result else float("nan"),
        }


def _controls() -> dict[str, widgets.Widget]:
    d = DEFAULTS
    style = {"description_width": "7.5em"}
    wide = widgets.Layout(width="23em")
    log = functools.partial(widgets.FloatLogSlider, base=10, style=style, layout=wide,
                            readout_format=".1e", continuous_update=False)
    return {
        "layers": widgets.IntSlider(d["layers"], min=2, max=20, description="layers",
                                    style=style, layout=wide, continuous_update=False),
        "widths": widgets.Text(d["widths"], description="widths", style=style, layout=wide,
                               continuous_update=False),
        # the buttons say the order in each hidden layer: BN before or after the ReLU
        "bn": widgets.ToggleButtons(options=[("no BN", "none"), ("BN → ReLU", "before"),
                                             ("ReLU → BN", "after")], value=d["bn"],
                                    tooltips=["no batch normalization", "BN before the ReLU",
                                              "BN after the ReLU"],
                                    style={"button_width": "7em"}),
        "init": widgets.Dropdown(options=[("He", "he"), ("Xavier", "xavier"),
                                          ("fixed sigma", "normal")],
                                 value=d["init"], description="init", style=style, layout=wide),
        "sigma": log(d["sigma"], min=-5, max=0, step=0.5, description="sigma"),
        "eps": log(d["eps"], min=-16, max=-1, step=1, description="BN epsilon"),
        "lam": log(d["lam"], min=-6, max=0, step=0.1, description="lambda"),
        "eta_max": log(d["eta_max"], min=-5, max=0, step=0.1, description="eta max"),
        "n_s": widgets.BoundedIntText(d["n_s"], min=1, max=100_000, description="n_s",
                                      style=style, layout=wide),
        "cycles": widgets.IntSlider(d["cycles"], min=1, max=5, description="cycles",
                                    style=style, layout=wide),
        "optimizer": widgets.ToggleButtons(options=[("SGD", "sgd"), ("Adam", "adam")],
                                           value=d["optimizer"], description="optimizer",
                                           style={**style, "button_width": "6.5em"}),
        "n_train": widgets.IntSlider(d["n_train"], min=MIN_TRAIN, max=ALL_TRAIN, step=1_000,
                                     description="images", style=style, layout=wide,
                                     continuous_update=False),
        "flip": widgets.Checkbox(d["flip"], description="flips", style=style, indent=True),
        "shift": widgets.IntSlider(d["shift"], min=0, max=4, description="shift (pixels)",
                                   style=style, layout=wide),
        "seed": widgets.BoundedIntText(d["seed"], min=0, max=2**31 - 1, description="seed",
                                       style=style, layout=wide),
    }


class Explorer:
    """Controls, a live view and the runs since it was made, in one widget.

    Args:
        data_dir: the CIFAR-10 folder (default: as :func:`bnnet.load_cifar10` finds it).
        loader: ``loader(n_train)`` returns the data of a run (``n_train`` ``None`` for
            all images); default: CIFAR-10 (:func:`cifar10`). "As code" then loads the
            data itself: its lines reproduce a run only with the default loader.
        redraw_seconds: the least time between two redraws of the live view (each costs
            the run about 0.2 s here).
        preload: load the data the controls ask for and warm the compiled kernels in a
            background thread at once, so that the first Train starts without waiting.
    """

    def __init__(self, data_dir: str | None = None, *,
                 loader: Callable[[int | None], Dataset] | None = None,
                 redraw_seconds: float = 0.5, preload: bool = True):
        self.data_dir = data_dir
        self.own_loader = loader is not None
        self.loader = loader or functools.partial(cifar10, data_dir)
        self.redraw_seconds = redraw_seconds
        self.runs: list[Run] = []
        self.controls = _controls()
        self.buttons = {name: widgets.Button(description=name.capitalize(), icon=icon,
                                             button_style=style)
                        for name, icon, style in (("train", "play", "success"),
                                                  ("stop", "stop", "danger"),
                                                  ("reset", "undo", ""))}
        self.status = widgets.HTML()
        self.schedule = widgets.HTML()
        # hidden while empty: an empty Image shows the browser's broken-image icon
        self.figure = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.table_view = widgets.HTML()
        self.picker = widgets.SelectMultiple(description="overlay", rows=4,
                                             layout=widgets.Layout(width="60em"))
        self.overlay = widgets.Image(format="png", layout=widgets.Layout(display="none"))
        self.code_view = widgets.HTML()
        self.code_button = widgets.Button(description="As code", icon="code")
        # the live figure is drawn in the runs' threads, one run after the other
        self._painter = LiveFigure()
        self._drawn: tuple[float, tuple | None] = (0.0, None)  # when, and which frame
        self._wire()
        self.widget = self._layout()
        self._show_schedule()
        self._say("Set the controls and press Train. A 3-layer run of 2 epochs on 10,000 "
                  "images takes a few seconds.")
        if preload:
            threading.Thread(target=self._preload, daemon=True,
                             name="bnnet-explorer-preload").start()

    # ---- driving it from code -------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Every control's value, by the names of :data:`DEFAULTS`."""
        return {name: w.value for name, w in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Set controls by name, as a user would; a value outside a control's range is a
        :class:`ConfigError` (the control would quietly clamp it)."""
        for name, value in values.items():
            if name not in self.controls:
                raise ConfigError(f"the explorer has no control {name!r}"
                                  f"{closest(name, self.controls)}; its controls are "
                                  f"{', '.join(self.controls)}")
            control = self.controls[name]
            try:
                control.value = value
            except TraitError:
                raise ConfigError(f"{name}={value!r}: the control takes "
                                  f"{_range(control)}") from None
            if control.value != value:
                raise ConfigError(f"{name}={value!r} is outside the control's range "
                                  f"({_range(control)}); it was set to {control.value!r}")

    def train(self) -> Run | None:
        """Start a run with the controls' values and return at once; ``None``, with the
        reason in the status line, if they describe no valid run. A run still training is
        stopped, and the new one starts when it has ended."""
        try:
            config, n_train = config_from(self.values())
        except ConfigError as e:
            self._say(f"Cannot train: {e}", "error")
            return None
        previous = self.runs[-1].live if self.runs else None
        self.stop()
        number = len(self.runs) + 1

        def data() -> Dataset:
            if previous is not None:
                previous.wait()  # one run at a time: the view is drawn by one thread
            return self.loader(n_train)

        live = LiveRun(config, data, on_update=functools.partial(self._update, number))
        run = Run(number, config, n_train, live)
        self.runs.append(run)
        self._say(f"Run {number}: loading the data ({n_train or ALL_TRAIN:,} training "
                  "images)...")
        live.start()
        return run

    def stop(self) -> None:
        """Stop the current run after its current update (before training, if it is
        still loading its data)."""
        if self.runs and not self.runs[-1].live.ended and not self.runs[-1].live.stopping:
            self.runs[-1].live.stop()
            self._say(f"Run {self.runs[-1].number}: stopping...")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the current run has ended and its view is drawn; ``False`` if
        ``timeout`` seconds passed first."""
        return self.runs[-1].live.wait(timeout) if self.runs else True

    def reset(self) -> None:
        """Every control back to :data:`DEFAULTS` (the runs are kept)."""
        self.set(**DEFAULTS)

    def table(self) -> pd.DataFrame:
        """The runs so far: settings, state and final accuracies."""
        return pd.DataFrame([r.row() for r in self.runs])

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

    # ---- the widget -----------------------------------------------------------------
    def _ipython_display_(self) -> None:
        display(self.widget)

    def _layout(self) -> widgets.Widget:
        c = self.controls
        for name, w in c.items():
            w.add_class(f"bnnet-{name.replace('_', '-')}")
        for name, b in self.buttons.items():
            b.add_class(f"bnnet-{name}")
        self.status.add_class("bnnet-status")
        self.figure.add_class("bnnet-figure")
        self.code_button.add_class("bnnet-as-code")
        columns = widgets.HBox([
            widgets.VBox([c["layers"], c["widths"], c["bn"], c["init"], c["sigma"]]),
            widgets.VBox([c["eps"], c["lam"], c["eta_max"], c["optimizer"], c["seed"]]),
            widgets.VBox([c["n_s"], c["cycles"], self.schedule, c["n_train"], c["flip"],
                          c["shift"]]),
        ])
        runs = widgets.VBox([widgets.HTML("<b>Runs of this explorer</b>"),
                             self.table_view,
                             widgets.HBox([self.picker, self.code_button]),
                             self.overlay, self.code_view])
        explorer = widgets.VBox([columns, widgets.HBox(list(self.buttons.values())),
                                 self.status, self.figure, runs])
        explorer.add_class("bnnet-explorer")
        return explorer

    def _wire(self) -> None:
        self.buttons["train"].on_click(lambda _: self.train())
        self.buttons["stop"].on_click(lambda _: self.stop())
        self.buttons["reset"].on_click(lambda _: self.reset())
        self.code_button.on_click(lambda _: self._show_code())
        self.controls["layers"].observe(self._layers_changed, names="value")
        self.controls["init"].observe(self._init_changed, names="value")
        for name in ("n_s", "cycles", "n_train"):
            self.controls[name].observe(lambda _: self._show_schedule(), names="value")
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

    def _say(self, text: str, kind: str = "info") -> None:
        colour = {"info": "inherit", "error": "#b00020", "done": "#1b5e20"}[kind]
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

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
            if not self.runs:
                self._say(f"Cannot load the data: {e}", "error")
            return
        warm_up(data)

    # ---- called in the run's thread (LiveRun.on_update) -------------------------------
    def _update(self, number: int, live: LiveRun) -> None:
        run = self.runs[number - 1]
        if live.finished is not None:  # the last call: the run has ended
            self._draw(run, force=True)  # so that "done" means the figure is final
            self._finish(run)
        else:
            self._say(_running(run))
            self._draw(run, force=False)

    def _draw(self, run: Run, *, force: bool) -> None:
        live, (when, what) = run.live, self._drawn
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
        live = run.live
        if live.state == "done" or (live.state == "stopped" and live.result is not None):
            r = live.result
            where = "done" if live.state == "done" else live.message
            self._say(f"Run {run.number} {where}: test accuracy {percent(r.test_accuracy)}, "
                      f"validation {percent(r.val_accuracy)}, in {live.elapsed:.1f} s.",
                      "done")
        elif live.state == "stopped":
            self._say(f"Run {run.number} {live.message}.")
        elif live.state == "diverged":
            self._say(f"Run {run.number} diverged at update step {live.diverged_step}: "
                      f"{live.message}", "error")
        else:
            self._say(f"Run {run.number} could not train: {live.message}", "error")
        self.table_view.value = self.table().to_html(
            index=False, float_format=lambda x: f"{x:.3g}", na_rep="-")
        options = [(r.label, r.number) for r in self.runs if r.live.rows]
        if options != list(self.picker.options):
            picked = self.picker.value
            self.picker.options = options  # this clears the selection: restore it
            self.picker.value = tuple(n for n in picked if n in {n for _, n in options})

    def _draw_overlay(self) -> None:
        try:
            runs = [self._run(n) for n in self.picker.value]
            self.overlay.value = (overlay_figure([(r.label, r.live.history()) for r in runs])
                                  if runs else b"")
            self.overlay.layout.display = None if runs else "none"
        except Exception as e:  # the view reports, it never raises into the notebook
            self._say(f"Cannot overlay: {type(e).__name__}: {e}", "error")

    def _show_code(self) -> None:
        numbers = self.picker.value
        try:
            text = self.code(numbers[0] if numbers else None)
        except ConfigError as e:
            text = str(e)
        self.code_view.value = f"<pre>{html.escape(text)}</pre>"


def _range(control: widgets.Widget) -> str:
    if isinstance(control, widgets.FloatLogSlider):
        return f"{control.base ** control.min:g} to {control.base ** control.max:g}"
    if hasattr(control, "min"):
        return f"{control.min} to {control.max}"
    if hasattr(control, "options"):
        return "one of " + ", ".join(repr(v) for _, v in control.options)
    return "its type"


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
