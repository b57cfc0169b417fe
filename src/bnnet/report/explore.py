"""The explorer: train a network on CIFAR-10 from sliders and watch it learn, live.

``notebooks/00_explore.ipynb`` shows one::

    from bnnet.report.explore import Explorer
    explorer = Explorer()
    explorer                      # the controls, the live view and the runs table

and code drives the same object without a browser::

    explorer.set(layers=9, init="normal", sigma=1e-3, bn="before")
    explorer.train(); explorer.wait()
    explorer.table()              # every run since the notebook started
    print(explorer.code(1))       # the lines that reproduce run 1

Training runs in a thread (:class:`~bnnet.study.live.LiveRun`), so the controls stay live;
the run's thread itself redraws the view at logged steps, at most every ``redraw_seconds``;
Stop ends a run after the current update. The live figure is a PNG in an
``ipywidgets.Image``: it needs nothing beyond ipywidgets (no lab extension to build, unlike
ipympl), shows the same in JupyterLab, Notebook 7 and VS Code, and its bytes say when it
changed.
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

from bnnet.core.config import BN_PLACEMENTS, NETS, Config, ConfigError, closest
from bnnet.core.data import Dataset, load_cifar10
from bnnet.core.train import fit
from bnnet.report.explore_plots import LiveFigure, overlay_figure
from bnnet.study.live import LiveRun

#: the training images of the full split; more cannot be asked for
ALL_TRAIN = 45_000
#: points on each curve of a run (the run's ``log_every`` follows from it)
CURVE_POINTS = 40
#: training images on which the training curves are evaluated (Config.train_eval_size)
TRAIN_EVAL = 2_000

#: every control's value when the explorer opens (and after Reset): the 3-layer course
#: net with BN, 2 epochs on 10,000 images, which trains in a few seconds
DEFAULTS: dict[str, Any] = {
    "layers": 3, "widths": "50, 50", "bn": "before", "init": "he", "sigma": 1e-1,
    "eps": 1e-5, "lam": 5e-3, "eta_max": 1e-1, "n_s": 100, "cycles": 1, "optimizer": "sgd",
    "n_train": 10_000, "flip": False, "shift": 0, "seed": 0,
}


def parse_widths(text: str, layers: int) -> tuple[int, ...]:
    """The hidden widths of a ``layers``-layer net from ``"50, 30, 20"`` (one per hidden
    layer) or ``"50"`` (every hidden layer); :class:`ConfigError` otherwise."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"widths {text!r}: give whole numbers separated by commas, "
                          "e.g. 50, 30, 20") from None
    if len(sizes) == 1:
        sizes *= layers - 1
    if len(sizes) != layers - 1:
        raise ConfigError(f"{layers} layers have {layers - 1} hidden widths; widths gives "
                          f"{len(sizes)} ({text}). Give {layers - 1} numbers, or one for all")
    if min(sizes) < 1:
        raise ConfigError(f"widths {text!r}: every width must be at least 1")
    return sizes


def config_from(values: Mapping[str, Any]) -> tuple[Config, int | None]:
    """The :class:`Config` and the number of training images (``None``: all) that the
    controls' ``values`` (the keys of :data:`DEFAULTS`) describe; :class:`ConfigError`
    with the reason for an impossible combination."""
    unknown = values.keys() - DEFAULTS.keys()
    if unknown:
        name = sorted(unknown)[0]
        raise ConfigError(f"the explorer has no control {name!r}"
                          f"{closest(name, DEFAULTS)}; its controls are {', '.join(DEFAULTS)}")
    v = {**DEFAULTS, **values}
    n_train = int(v["n_train"])
    if not 1 <= n_train <= ALL_TRAIN:
        raise ConfigError(f"n_train={n_train}: between 1 and {ALL_TRAIN} training images")
    n_s, cycles = int(v["n_s"]), int(v["cycles"])
    config = Config(
        hidden=parse_widths(str(v["widths"]), int(v["layers"])),
        batch_norm=v["bn"] != "none", bn_position=v["bn"] if v["bn"] != "none" else "before",
        init=v["init"], sigma=float(v["sigma"]), eps=float(v["eps"]), lam=float(v["lam"]),
        eta_max=float(v["eta_max"]), n_s=n_s, cycles=cycles, optimizer=v["optimizer"],
        flip=bool(v["flip"]), shift=int(v["shift"]), seed=int(v["seed"]),
        log_every=max(1, 2 * n_s * cycles // CURVE_POINTS), train_eval_size=TRAIN_EVAL,
    )
    if config.eta_min > config.eta_max:
        raise ConfigError(f"eta max {config.eta_max:g} is below eta min {config.eta_min:g}")
    return config, (None if n_train == ALL_TRAIN else n_train)


def describe(config: Config) -> str:
    """``"9 layers [50, 30, ...], BN before the ReLU, fixed sigma 0.001"``: a run in words."""
    init = {"he": "He init", "xavier": "Xavier init"}.get(config.init,
                                                         f"fixed sigma {config.sigma:.3g}")
    bn = f"BN {BN_PLACEMENTS[config.bn_position]}" if config.batch_norm else "no BN"
    return f"{config.n_layers} layers {list(config.hidden)}, {bn}, {init}"


def as_code(config: Config, n_train: int | None, data_dir: str | None = None) -> str:
    """The lines that train ``config`` on the same data, with the fields that differ from
    the defaults."""
    default = Config().to_dict()
    fields = ", ".join(f"{k}={v!r}" for k, v in config.to_dict().items() if v != default[k])
    data_args = ", ".join(
        ([f"{data_dir!r}"] if data_dir else []) + ([f"n_train={n_train}"] if n_train else []))
    return "\n".join([
        "import bnnet",
        "",
        f"data = bnnet.load_cifar10({data_args})",
        f"config = bnnet.Config({fields})",
        "result = bnnet.fit(config, data)",
        'print(f"test accuracy {result.test_accuracy:.2%}")',
    ])


#: notebooks that train a configuration among their runs: the Config fields they set
#: (other than the defaults), and how each becomes a papermill parameter
NOTEBOOK_PARAMETERS = {
    "02_three_vs_nine_layers": {"batch_norm": None, "n_s": "n_s", "cycles": "cycles",
                                "lam": "lam", "seed": "seeds"},
    "04_init_sensitivity": {"batch_norm": None, "init": None, "sigma": "sigmas", "n_s": "n_s",
                            "cycles": "cycles", "seed": "seeds"},
}
#: fields the explorer sets for its own view; they change no final number
VIEW_FIELDS = {"log_every", "train_eval_size"}


def papermill_line(config: Config, n_train: int | None) -> str | None:
    """The papermill command of a notebook that trains ``config`` among its runs, or
    ``None`` if no notebook does."""
    changed = {k for k, v in config.to_dict().items() if v != Config().to_dict()[k]}
    changed -= VIEW_FIELDS | {"hidden"}
    if tuple(config.hidden) not in NETS.values():
        return None
    if config.init == "normal":
        changed.add("init")
    for notebook, parameters in NOTEBOOK_PARAMETERS.items():
        if changed <= parameters.keys() and ("init" in parameters) == (config.init == "normal"):
            args = [f"-p n_train {n_train}"] if n_train else []
            for field, name in parameters.items():
                value = getattr(config, field)
                if name in ("seeds", "sigmas"):
                    args.append(f"-y '{name}: [{value!r}]'")
                elif name and field in changed:
                    args.append(f"-p {name} {value!r}")
            return (f"papermill notebooks/{notebook}.ipynb scratch/{notebook}.ipynb "
                    + " ".join(args))
    return None


_LOADING = threading.Lock()


def cifar10(data_dir: str | None, n_train: int | None) -> Dataset:
    """CIFAR-10 with ``n_train`` training images, loaded once per kernel (one load at a
    time: a run started while the explorer preloads waits for that load)."""
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
        c, result = self.config, self.live.result
        return {
            "run": self.number, "layers": c.n_layers, "widths": ", ".join(map(str, c.hidden)),
            "BN": BN_PLACEMENTS[c.bn_position if c.batch_norm else None],
            "init": c.init if c.init != "normal" else f"sigma {c.sigma:.3g}",
            "eps": c.eps, "lambda": c.lam, "eta max": c.eta_max, "n_s": c.n_s,
            "cycles": c.cycles, "optimizer": c.optimizer,
            "images": self.n_train or ALL_TRAIN,
            "augment": ", ".join(filter(None, ["flip" if c.flip else "",
                                               f"shift {c.shift}" if c.shift else ""])) or "-",
            "seed": c.seed, "state": self.live.state,
            "val %": 100 * result.val_accuracy if result else float("nan"),
            "test %": 100 * result.test_accuracy if result else float("nan"),
            "seconds": self.live.elapsed,
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
        "n_train": widgets.IntSlider(d["n_train"], min=1_000, max=ALL_TRAIN, step=1_000,
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
            all images); default: CIFAR-10, loaded once per kernel and size.
        redraw_seconds: the least time between two redraws of the live view (each costs
            the run about 0.2 s here).
        preload: load the default data and warm the compiled kernels in a background
            thread at once, so that the first Train starts without waiting.
    """

    def __init__(self, data_dir: str | None = None, *,
                 loader: Callable[[int | None], Dataset] | None = None,
                 redraw_seconds: float = 0.5, preload: bool = True):
        self.data_dir = data_dir
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
        self._drawn: tuple[float, tuple | None] = (0.0, None)  # when, and what
        self.view = LiveFigure()  # drawn in the run's thread only (runs never overlap)
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
        """Set controls by name, as a user would."""
        for name, value in values.items():
            if name not in self.controls:
                raise ConfigError(f"the explorer has no control {name!r}"
                                  f"{closest(name, self.controls)}; its controls are "
                                  f"{', '.join(self.controls)}")
            self.controls[name].value = value

    def train(self) -> Run | None:
        """Start a run with the controls' values (a running run is stopped first);
        ``None``, with the reason in the status line, if they describe no valid run."""
        try:
            config, n_train = config_from(self.values())
        except ConfigError as e:
            self._say(f"Cannot train: {e}", "error")
            return None
        self.stop()
        self.wait()
        number = len(self.runs) + 1
        live = LiveRun(config, functools.partial(self.loader, n_train),
                       on_update=functools.partial(self._update, number))
        run = Run(number, config, n_train, live)
        self.runs.append(run)
        self._drawn = (0.0, None)
        self._say(f"Run {number}: loading the data ({n_train or ALL_TRAIN:,} training "
                  "images)...")
        live.start()
        return run

    def stop(self) -> None:
        """Stop the current run after its current update."""
        if self.runs and not self.runs[-1].live.ended:
            self.runs[-1].live.stop()

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
        """Overlay the curves of these runs (as picking them in the list does)."""
        self.picker.value = tuple(numbers)

    def code(self, number: int | None = None) -> str:
        """The lines that reproduce run ``number`` (default: the latest)."""
        run = self._run(number)
        lines = as_code(run.config, run.n_train, self.data_dir)
        if run.live.result is not None:
            lines += f"  # run {run.number}: {run.live.result.test_accuracy:.2%}"
        if run.live.state == "stopped":
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
        runs = widgets.VBox([widgets.HTML("<b>Runs since the notebook started</b>"),
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
        epochs = updates / max(1, v["n_train"] // Config().batch_size)
        self.schedule.value = (f"<small>{updates:,} updates = {epochs:.3g} epochs of "
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
            warm_up(self.loader(config_from(self.values())[1]))
        except Exception as e:  # e.g. no data yet: the first Train says so again
            if not self.runs:
                self._say(f"Cannot load the data: {e}", "error")

    # ---- called in the run's thread (LiveRun.on_update) -------------------------------
    def _update(self, number: int, live: LiveRun) -> None:
        run = self.runs[number - 1]
        try:
            if live.finished is not None:  # the last call: the run has ended
                self._draw(run, force=True)  # so that "done" means the figure is final
                self._finish(run)
            else:
                self._say(_running(run))
                self._draw(run, force=False)
        except Exception as e:  # the view reports, it never raises into the notebook
            self._say(f"Run {number}: the view failed ({type(e).__name__}: {e})", "error")

    def _draw(self, run: Run, *, force: bool) -> None:
        live, (when, what) = run.live, self._drawn
        state = (len(live.rows), live.layers_step)
        now = time.perf_counter()
        if live.rows and state != what and (force or now - when >= self.redraw_seconds):
            self.figure.value = self.view.draw(run.label, live.history(), live.layers_at_init,
                                               live.layers_latest, live.layers_step)
            self.figure.layout.display = None
            self._drawn = (time.perf_counter(), state)

    def _finish(self, run: Run) -> None:
        live = run.live
        if live.state in ("done", "stopped"):
            r = live.result
            where = "done" if live.state == "done" else live.message
            self._say(f"Run {run.number} {where}: test accuracy {100 * r.test_accuracy:.2f} %, "
                      f"validation {100 * r.val_accuracy:.2f} %, in {live.elapsed:.1f} s.",
                      "done")
        elif live.state == "diverged":
            self._say(f"Run {run.number} diverged at update step {live.diverged_step}: "
                      f"{live.message}", "error")
        else:
            self._say(f"Run {run.number} could not train: {live.message}", "error")
        self.table_view.value = self.table().to_html(
            index=False, float_format=lambda x: f"{x:.3g}", na_rep="-")
        self.picker.options = [(r.label, r.number) for r in self.runs]

    def _draw_overlay(self) -> None:
        numbers = list(self.picker.value)[:2]
        runs = [self._run(n) for n in numbers]
        self.overlay.value = (overlay_figure([(r.label, r.live.history()) for r in runs])
                              if runs else b"")
        self.overlay.layout.display = None if runs else "none"

    def _show_code(self) -> None:
        numbers = self.picker.value
        try:
            text = self.code(numbers[0] if numbers else None)
        except ConfigError as e:
            text = str(e)
        self.code_view.value = f"<pre>{html.escape(text)}</pre>"


def _running(run: Run) -> str:
    live, c = run.live, run.config
    rows = live.rows
    epoch = rows[-1]["epoch"] if rows else 0.0
    total = c.n_updates / ((run.n_train or ALL_TRAIN) // c.batch_size)
    left = live.remaining
    parts = [f"Run {run.number} training: epoch {epoch:.2f} of {total:.3g}",
             f"{live.elapsed:.1f} s" + (f", about {left:.1f} s left" if left is not None else ""),
             f"{c.n_updates:,} updates"]
    if rows:
        parts.append(f"validation accuracy {100 * rows[-1]['val_accuracy']:.1f} %")
    return " · ".join(parts)

