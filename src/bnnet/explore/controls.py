"""The explorer's controls: one widget per setting of :data:`~bnnet.explore.settings.DEFAULTS`,
and the range each takes."""

from __future__ import annotations

import functools

import ipywidgets as widgets

from bnnet.explore.settings import ALL_TRAIN, DEFAULTS, MIN_TRAIN


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
