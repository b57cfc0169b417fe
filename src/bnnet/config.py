"""Training configuration: one small, validated, hashable dataclass."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

INITS = ("he", "xavier", "normal")
BN_POSITIONS = ("before", "after")
DTYPES = ("float32", "float64")
OPTIMIZERS = ("sgd", "adam")

# The course assignment: 3-layer net [50, 50], 9-layer net [50, 30, 20, 20, 10, 10, 10, 10].
THREE_LAYER = (50, 50)
NINE_LAYER = (50, 30, 20, 20, 10, 10, 10, 10)


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and what to do."""


@dataclass(frozen=True)
class Config:
    """Everything that defines one training run. Defaults are the course defaults.

    Attributes:
        hidden: sizes of the hidden layers; ``(50, 50)`` is the 3-layer net.
        batch_norm: normalise every hidden layer with batch normalization.
        bn_position: ``"before"`` the ReLU (s -> BN -> ReLU) or ``"after"`` it.
        init: ``"he"`` (std sqrt(2/d_in)), ``"xavier"`` (std sqrt(1/d_in)) or ``"normal"``
            (std ``sigma`` for every layer).
        sigma: standard deviation for ``init="normal"``.
        lam: L2 regularisation strength; cost = mean cross-entropy + lam * sum ||W||^2.
        eta_min, eta_max, n_s, cycles: triangular cyclical learning rate; one cycle is
            2 * n_s updates.
        eta_decay: the peak of cycle l is ``eta_max * eta_decay**l`` (1 = every cycle alike).
        optimizer: ``"sgd"`` (plain mini-batch gradient descent) or ``"adam"`` (Adam with the
            same learning-rate schedule, which then needs a much smaller ``eta_max``).
        batch_size: mini-batch size.
        dropout: probability of zeroing each hidden unit during training (inverted dropout
            on every hidden layer's output; nothing changes at evaluation).
        flip: flip each training image horizontally with probability 1/2 (needs 32 x 32 x 3
            CIFAR images as inputs).
        shift: translate each training image by up to ``shift`` pixels in each direction,
            filling with 0 (the training mean after normalisation).
        label_smoothing: e in [0, 1); the training target of each image is
            (1 - e) one_hot(y) + e / C (0 = plain cross-entropy).
        test_flip: evaluate on each image and its mirror image and average the class
            probabilities (test-time augmentation; needs 32 x 32 x 3 images).
        alpha: running-average factor for the BN population statistics,
            running = alpha * running + (1 - alpha) * batch.
        eps: added to the variance in BN.
        seed: fixes the initial weights and the mini-batch order.
        dtype: ``"float32"`` for training, ``"float64"`` for gradient checks.
        log_every: updates between two evaluations of the history; ``None`` = n_s // 5.
        train_eval_size: training images used for the train curves (a fixed subset, to keep
            logging cheap); ``None`` = all.
    """

    hidden: tuple[int, ...] = THREE_LAYER
    batch_norm: bool = True
    bn_position: Literal["before", "after"] = "before"
    init: Literal["he", "xavier", "normal"] = "he"
    sigma: float = 1e-1
    lam: float = 0.005
    eta_min: float = 1e-5
    eta_max: float = 1e-1
    n_s: int = 2250
    cycles: int = 2
    eta_decay: float = 1.0
    optimizer: Literal["sgd", "adam"] = "sgd"
    batch_size: int = 100
    dropout: float = 0.0
    flip: bool = False
    shift: int = 0
    label_smoothing: float = 0.0
    test_flip: bool = False
    alpha: float = 0.9
    eps: float = 1e-5
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"
    log_every: int | None = None
    train_eval_size: int | None = 5_000

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, (int, np.integer)):
            hidden = (hidden,)
        if isinstance(hidden, (str, bytes)) or not _is_sequence(hidden):
            raise ConfigError(
                f"hidden={self.hidden!r}: expected a list of hidden-layer sizes, e.g. [50, 50]"
            )
        hidden = tuple(hidden)
        if not hidden:
            raise ConfigError(
                "hidden=[]: give at least one hidden layer, e.g. [50, 50] (bnnet studies "
                "batch normalization of hidden layers, so k >= 2)"
            )
        if not all(_is_int(h) and h > 0 for h in hidden):
            raise ConfigError(
                f"hidden={list(hidden)!r}: every hidden-layer size must be a positive integer"
            )
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))

        _check_bool("batch_norm", self.batch_norm)
        _check_bool("flip", self.flip)
        _check_bool("test_flip", self.test_flip)
        _check_choice("bn_position", self.bn_position, BN_POSITIONS)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("init", self.init, INITS)
        dtype = np.dtype(self.dtype).name if _is_dtype_like(self.dtype) else self.dtype
        _check_choice("dtype", dtype, DTYPES)
        object.__setattr__(self, "dtype", dtype)

        for name in ("sigma", "lam", "eta_min", "eta_max", "eta_decay", "alpha", "eps",
                     "dropout", "label_smoothing"):
            _check_real(name, getattr(self, name))
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("n_s", "cycles", "batch_size", "seed", "shift"):
            _check_int(name, getattr(self, name))
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("log_every", "train_eval_size"):
            value = getattr(self, name)
            if value is not None:
                _check_int(name, value)
                if value <= 0:
                    raise ConfigError(f"{name}={value}: must be a positive integer or None")
                object.__setattr__(self, name, int(value))

        if self.sigma <= 0:
            raise ConfigError(f"sigma={self.sigma}: the weight std must be > 0")
        if self.lam < 0:
            raise ConfigError(f"lam={self.lam}: the regularisation strength must be >= 0")
        if self.eta_min <= 0 or self.eta_max <= 0:
            raise ConfigError(
                f"eta_min={self.eta_min}, eta_max={self.eta_max}: learning rates must be > 0"
            )
        if self.eta_min > self.eta_max:
            raise ConfigError(
                f"eta_min={self.eta_min} > eta_max={self.eta_max}: swap them "
                "(the cycle rises from eta_min to eta_max)"
            )
        for name in ("n_s", "cycles", "batch_size"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)}: must be a positive integer")
        if self.seed < 0:
            raise ConfigError(f"seed={self.seed}: must be >= 0")
        if not 0 < self.eta_decay <= 1:
            raise ConfigError(
                f"eta_decay={self.eta_decay}: the per-cycle peak factor must be in (0, 1] "
                "(1 keeps every cycle's peak at eta_max)"
            )
        if not 0 <= self.dropout < 1:
            raise ConfigError(
                f"dropout={self.dropout}: the drop probability must be in [0, 1) (0 = off)"
            )
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(
                f"label_smoothing={self.label_smoothing}: must be in [0, 1) (0 = off)"
            )
        if not 0 <= self.shift < 16:
            raise ConfigError(
                f"shift={self.shift}: the translation must be 0 (off) to 15 pixels; "
                "2-4 is usual for 32 x 32 images"
            )
        if not 0 <= self.alpha < 1:
            raise ConfigError(
                f"alpha={self.alpha}: the running-average factor must be in [0, 1) "
                "(0.9 keeps 90% of the old statistics each update)"
            )
        if self.eps <= 0:
            raise ConfigError(f"eps={self.eps}: must be > 0")

    @property
    def n_updates(self) -> int:
        """Total number of parameter updates: ``2 * n_s * cycles``."""
        return 2 * self.n_s * self.cycles

    @property
    def n_layers(self) -> int:
        """Number of affine layers (hidden layers + the output layer)."""
        return len(self.hidden) + 1

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly dict of the fields (used as a cache key and in tables)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def _is_sequence(x: Any) -> bool:
    try:
        iter(x)
    except TypeError:
        return False
    return True


def _is_int(x: Any) -> bool:
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, bool)


def _is_dtype_like(x: Any) -> bool:
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


def _check_int(name: str, value: Any) -> None:
    if _is_int(value):
        return
    if isinstance(value, float) and value.is_integer():
        raise ConfigError(f"{name}={value!r}: expected an integer, got a float; write {int(value)}")
    raise ConfigError(f"{name}={value!r}: expected an integer, got {type(value).__name__}")


def _check_real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ConfigError(f"{name}={value!r}: expected a number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ConfigError(f"{name}={value!r}: must be finite")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name}={value!r}: expected True or False, got {type(value).__name__}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(map(repr, choices))}")
