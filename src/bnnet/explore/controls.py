"""The explorer's controls: one widget per setting of
:data:`DEFAULTS` and the range each takes (:func:`make_controls`,
:func:`value_range`), and :class:`ControlPanel`, everything the user sets or presses: those
widgets, the Train, Stop and Reset buttons, the preset picker with its Replay button, and
the line that says what the schedule amounts to. :class:`ControlPanel` knows nothing of
runs: the explorer (:mod:`bnnet.explore.explorer`) wires its buttons."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
from traitlets import TraitError

from bnnet.core.config import NETS, ConfigError, closest
from bnnet.explore.presets import PRESETS
from bnnet.explore.settings import ALL_TRAIN, DEFAULTS, MIN_TRAIN, epochs, parse_widths


def make_controls() -> dict[str, widgets.Widget]:
    """The controls, by the names of :data:`DEFAULTS`, at their defaults."""
    d = DEFAULTS
    style = {"description_width": "7.5em"}
    wide = widgets.Layout(width="23em")
    log = functools.partial(widgets.FloatLogSlider, base=10, style=style, layout=wide,
                            readout_format=".1e", continuous_update=False)
    controls = {
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
    for name, control in controls.items():
        control.add_class(f"bnnet-{name.replace('_', '-')}")
    return controls


def value_range(control: widgets.Widget) -> str:
    """What ``control`` takes, in words: ``"2 to 20"``, ``"1e-05 to 1"``, ``"one of 'he',
    'xavier', 'normal'"``, ``"True or False"``, ``"text"``."""
    if isinstance(control, widgets.FloatLogSlider):
        return f"{control.base ** control.min:g} to {control.base ** control.max:g}"
    if isinstance(control, widgets.Checkbox):
        return "True or False"
    if hasattr(control, "min"):
        return f"{control.min} to {control.max}"
    if hasattr(control, "options"):
        return "one of " + ", ".join(repr(v) for _, v in control.options)
    return "text"


class ControlPanel:
    """Everything the user sets or presses: :attr:`controls` (by the names of :data:`DEFAULTS`),
    :attr:`buttons` (``"train"``, ``"stop"``, ``"reset"``), :attr:`preset` and
    :attr:`replay_button`, and :attr:`schedule`, what ``n_s``, ``cycles`` and ``n_train``
    amount to. Setting the layer count fills in widths that no longer fit; sigma counts
    only with a fixed-sigma init and is greyed out otherwise."""

    def __init__(self) -> None:
        self.controls = make_controls()
        self.buttons = {name: widgets.Button(description=name.capitalize(), icon=icon,
                                             button_style=style)
                        for name, icon, style in (("train", "play", "success"),
                                                  ("stop", "stop", "danger"),
                                                  ("reset", "undo", ""))}
        self.schedule = widgets.HTML()
        self.preset = widgets.Dropdown(
            options=[("a finding of the report…", None)] + [(p.title, p.key) for p in PRESETS],
            description="preset", style={"description_width": "7.5em"},
            layout=widgets.Layout(width="36em"))
        self.replay_button = widgets.Button(description="Replay", icon="repeat",
                                            disabled=True,
                                            tooltip="train every arm of the finding and "
                                                    "overlay them")
        for name, b in self.buttons.items():
            b.add_class(f"bnnet-{name}")
        self.preset.add_class("bnnet-preset")
        self.replay_button.add_class("bnnet-replay")
        self.controls["layers"].observe(self._layers_changed, names="value")
        self.controls["init"].observe(self._init_changed, names="value")
        for name in ("n_s", "cycles", "n_train"):
            self.controls[name].observe(lambda _: self._show_schedule(), names="value")
        self.buttons["reset"].on_click(lambda _: self.reset())
        self._init_changed(None)
        self._show_schedule()

    def values(self) -> dict[str, Any]:
        """Every control's value, by the names of :data:`DEFAULTS`."""
        return {name: w.value for name, w in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Set controls by name, as a user would; a value outside a control's range is a
        :class:`ConfigError` and leaves the control as it was (the widget would quietly
        clamp it). :meth:`Explorer.set <bnnet.explore.explorer.Explorer.set>` lists the
        controls."""
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

    def reset(self) -> None:
        """Every control back to :data:`DEFAULTS`."""
        self.set(**DEFAULTS)

    def columns(self) -> widgets.Widget:
        """The controls in three columns: the net, the optimisation, the schedule and the
        data."""
        c = self.controls
        return widgets.HBox([
            widgets.VBox([c["layers"], c["widths"], c["bn"], c["init"], c["sigma"]]),
            widgets.VBox([c["eps"], c["lam"], c["eta_max"], c["optimizer"], c["seed"]]),
            widgets.VBox([c["n_s"], c["cycles"], self.schedule, c["n_train"], c["flip"],
                          c["shift"]]),
        ])

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
