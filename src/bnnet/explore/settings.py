"""The explorer's settings (:mod:`bnnet.explore.explorer`), without widgets: the controls'
values into a :class:`~bnnet.core.config.Config`, a run in a few words, and a run back into
the code and the papermill line that reproduce it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bnnet.core.config import NETS, Config, ConfigError, bn_placement, closest

#: the training images of the full split; more cannot be asked for
ALL_TRAIN = 45_000
#: the fewest training images the explorer trains on
MIN_TRAIN = 1_000
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


def config_from(values: Mapping[str, Any], curve_points: int = CURVE_POINTS
                ) -> tuple[Config, int | None]:
    """The :class:`Config` and the number of training images (``None``: all) that the
    controls' ``values`` (the keys of :data:`DEFAULTS`) describe, logged at about
    ``curve_points`` points; :class:`ConfigError` with the reason for an impossible
    combination."""
    unknown = values.keys() - DEFAULTS.keys()
    if unknown:
        name = sorted(unknown)[0]
        raise ConfigError(f"the explorer has no control {name!r}"
                          f"{closest(name, DEFAULTS)}; its controls are {', '.join(DEFAULTS)}")
    v = {**DEFAULTS, **values}
    n_train = int(v["n_train"])
    if not MIN_TRAIN <= n_train <= ALL_TRAIN:
        raise ConfigError(f"n_train={n_train}: between {MIN_TRAIN:,} and {ALL_TRAIN:,} "
                          "training images")
    n_s, cycles = int(v["n_s"]), int(v["cycles"])
    config = Config(
        hidden=parse_widths(str(v["widths"]), int(v["layers"])),
        bn=v["bn"],
        init=v["init"], **({"sigma": float(v["sigma"])} if v["init"] == "normal" else {}),
        eps=float(v["eps"]), lam=float(v["lam"]),
        eta_max=float(v["eta_max"]), n_s=n_s, cycles=cycles, optimizer=v["optimizer"],
        flip=bool(v["flip"]), shift=int(v["shift"]), seed=int(v["seed"]),
        log_every=max(1, 2 * n_s * cycles // curve_points), train_eval_size=TRAIN_EVAL,
    )
    return config, (None if n_train == ALL_TRAIN else n_train)


def epochs(updates: int, n_train: int | None) -> float:
    """How many epochs ``updates`` mini-batches make of ``n_train`` images (``None``: all)."""
    return updates / max(1, (n_train or ALL_TRAIN) // Config().batch_size)


def describe(config: Config) -> str:
    """``"9 layers [50, 30, ...], BN before the ReLU, fixed sigma 0.001"``: a run in words."""
    init = {"he": "He init", "xavier": "Xavier init"}.get(config.init,
                                                         f"fixed sigma {config.sigma:.3g}")
    bn = f"BN {bn_placement(config)}" if config.has_bn else "no BN"
    return f"{config.n_layers} layers {list(config.hidden)}, {bn}, {init}"


def shape(config: Config) -> str:
    """The net in a few characters: ``"20×50"`` (20 layers, every hidden layer 50 wide),
    ``"9 layers 50→10"`` (widths that change)."""
    widths = set(config.hidden)
    if len(widths) == 1:
        return f"{config.n_layers}×{config.hidden[0]}"
    return f"{config.n_layers} layers {config.hidden[0]}→{config.hidden[-1]}"


def short_label(number: int, config: Config, n_train: int | None) -> str:
    """A run's label for legends and lists: ``"run 1: 20×50, BN"``, then only what differs
    from the explorer's defaults (BN's place, init, epsilon, lambda, eta, schedule, optimizer,
    images, augmentation, seed), so that the runs of one overlay read apart."""
    d, _ = config_from({})
    parts = [shape(config), {"none": "no BN", "before": "BN", "after": "ReLU→BN"}[config.bn]]
    if config.init == "normal":
        parts.append(f"σ {config.sigma:g}")
    elif config.init != d.init:
        parts.append(config.init.capitalize())
    parts += [f"{name} {getattr(config, field):g}"
              for field, name in (("eps", "ε"), ("lam", "λ"), ("eta_max", "η max"))
              if getattr(config, field) != getattr(d, field)]
    if (config.n_s, config.cycles) != (d.n_s, d.cycles):
        parts.append(f"{epochs(config.n_updates, n_train):.3g} epochs")
    if config.optimizer != d.optimizer:
        parts.append(config.optimizer.capitalize())
    if n_train != DEFAULTS["n_train"]:
        parts.append(f"{n_train or ALL_TRAIN:,} images")
    if config.flip or config.shift:
        parts.append(" + ".join(filter(None, ["flips" if config.flip else "",
                                              f"shifts {config.shift}" if config.shift
                                              else ""])))
    if config.seed != d.seed:
        parts.append(f"seed {config.seed}")
    return f"run {number}: " + ", ".join(parts)


def changed_fields(config: Config) -> dict[str, Any]:
    """The fields of ``config`` that differ from the defaults, in :meth:`Config.to_dict`
    form."""
    default = Config().to_dict()
    return {k: v for k, v in config.to_dict().items() if v != default[k]}


def as_code(config: Config, n_train: int | None, data_dir: str | None = None) -> str:
    """The lines that train ``config`` on the same data, with the fields that differ from
    the defaults."""
    fields = ", ".join(f"{k}={v!r}" for k, v in changed_fields(config).items())
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
    "02_three_vs_nine_layers": {"bn": None, "n_s": "n_s", "cycles": "cycles",
                                "lam": "lam", "seed": "seeds"},
    "04_init_sensitivity": {"bn": None, "init": None, "sigma": "sigmas", "n_s": "n_s",
                            "cycles": "cycles", "seed": "seeds"},
}
#: fields the explorer sets for its own view; they change no final number
VIEW_FIELDS = {"log_every", "train_eval_size"}


def papermill_line(config: Config, n_train: int | None) -> str | None:
    """The papermill command of a notebook that trains ``config`` among its runs, or
    ``None`` if no notebook does."""
    if tuple(config.hidden) not in NETS.values() or config.bn == "after":
        return None  # (02 and 04 train BN before the ReLU or none)
    changed = changed_fields(config).keys() - VIEW_FIELDS - {"hidden"}
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
