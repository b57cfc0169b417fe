"""Training configuration: one small, validated, hashable dataclass.

Each field declares its constraint beside its default (:func:`setting`); one check,
:meth:`Config.__post_init__` through :func:`bnnet.validation.validate`, enforces them all.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bnnet.validation import (
    Bool,
    Constraint,
    Integer,
    Invalid,
    ListOf,
    Optional,
    Options,
    Real,
    validate,
)

# The course assignment: 3-layer net [50, 50], 9-layer net [50, 30, 20, 20, 10, 10, 10, 10].
THREE_LAYER = (50, 50)
NINE_LAYER = (50, 30, 20, 20, 10, 10, 10, 10)
#: The course's two nets by the names the report gives them.
NETS = {"3-layer": THREE_LAYER, "9-layer": NINE_LAYER}
#: ``Config.bn``'s values: where BN sits, in the words of every table and figure.
BN_PLACEMENTS = {"none": "none", "before": "before the ReLU", "after": "after the ReLU"}
#: The keywords ``Config.bn`` replaced (``batch_norm`` and ``bn_position`` gave four
#: combinations for three networks); still accepted, with a :class:`DeprecationWarning`.
LEGACY_BN_KEYWORDS = ("batch_norm", "bn_position")


def layer_weights(hidden: Sequence[int], d_in: int = 3072, n_classes: int = 10) -> list[int]:
    """The number of weights of each affine layer of a net with these hidden widths (CIFAR-10's
    inputs and classes by default), first layer first: what a run's arithmetic scales with.

    >>> layer_weights([50, 50])
    [153600, 2500, 500]
    """
    sizes = [d_in, *hidden, n_classes]
    return [a * b for a, b in itertools.pairwise(sizes)]


def bn_placement(config: Config) -> str:
    """:data:`BN_PLACEMENTS` of a configuration: ``"none"``, ``"before the ReLU"`` or
    ``"after the ReLU"``."""
    return BN_PLACEMENTS[config.bn]


#: ``Config.sigma`` when not given (it counts only with ``init="normal"``).
SIGMA_DEFAULT = 1e-1


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and what to do."""


def setting(default: Any, constraint: Constraint, note: str = "") -> Any:
    """A :class:`Config` field with its default, its constraint and advice for the error
    message."""
    return dataclasses.field(default=default,
                             metadata={"constraint": constraint, "note": note})


def _dtype_name(value: Any) -> Any:
    try:
        return np.dtype(value).name
    except TypeError:
        return value


POSITIVE = Real(0, low_open=True)
FRACTION = Real(0, 1, high_open=True)  # [0, 1)


@dataclass(frozen=True)
class Config:
    """Everything that defines one training run. Defaults are the course defaults.

    Attributes:
        hidden: sizes of the hidden layers; ``(50, 50)`` is the 3-layer net.
        bn: batch normalization of every hidden layer: ``"before"`` the ReLU
            (s -> BN -> ReLU), ``"after"`` it (s -> ReLU -> BN) or ``"none"``. (The
            keywords ``batch_norm=`` and ``bn_position=`` of earlier versions are still
            accepted, with a :class:`DeprecationWarning`.)
        init: ``"he"`` (std sqrt(2/d_in)), ``"xavier"`` (std sqrt(1/d_in)) or ``"normal"``
            (std ``sigma`` for every layer).
        sigma: standard deviation for ``init="normal"`` (an error with another ``init``).
        lam: L2 regularisation strength; cost = mean cross-entropy + lam * sum ||W||^2.
        eta_min: the lowest learning rate of the triangular cyclical schedule.
        eta_max: its highest, the peak of the first cycle.
        n_s: updates per half-cycle; one cycle is 2 * n_s updates.
        cycles: the number of cycles.
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
        kernels: how a training step runs its element-wise work: ``"numba"`` in compiled
            kernels between the BLAS products (:mod:`bnnet.core.fast`, the fast path) or
            ``"numpy"`` (the reference of :mod:`bnnet.core.network`, the code the gradient
            checks use). One step computes the same quantities on both, equal within
            float32 round-off; over a whole run that round-off drifts, as on another CPU,
            so the two paths train to different last digits.
        log_every: updates between two evaluations of the history; ``None`` = n_s // 5.
        train_eval_size: training images used for the train curves (a fixed subset, to keep
            logging cheap); ``None`` = all.

    Examples
    --------
    The course's 9-layer net with BN after the ReLU, its defaults otherwise:

    >>> import bnnet
    >>> config = bnnet.Config(hidden=bnnet.NINE_LAYER, bn="after")
    >>> config.n_layers, config.n_updates, config.lam
    (9, 9000, 0.005)

    A configuration is frozen; :meth:`replace` makes a changed copy, checked again:

    >>> config.replace(lam=0.01, cycles=3).n_updates
    13500
    >>> config.replace(batch_size=0)
    Traceback (most recent call last):
        ...
    bnnet.core.config.ConfigError: batch_size=0: expected a positive integer

    A misspelt field is an error that names the closest one:

    >>> bnnet.Config(hiden=[50, 50])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    bnnet.core.config.ConfigError: Config has no field 'hiden' (did you mean 'hidden'?); ...
    """

    hidden: tuple[int, ...] = setting(
        THREE_LAYER,
        ListOf(Integer(1), into=tuple,
               expected="a list of hidden-layer sizes, each a positive integer, e.g. [50, 50] "
                        "(the course's 3-layer net) or [50] (one hidden layer of 50)"),
        "give at least one hidden layer: bnnet studies batch normalization of hidden layers, "
        "so k >= 2")
    bn: str = setting("before", Options(tuple(BN_PLACEMENTS)),
                      'BN placement: "before" or "after" the ReLU, or "none"')
    init: str = setting("he", Options(("he", "xavier", "normal")))
    sigma: float = setting(SIGMA_DEFAULT, POSITIVE, "the weight std must be > 0")
    lam: float = setting(0.005, Real(0), "the regularisation strength must be >= 0")
    eta_min: float = setting(1e-5, POSITIVE, "learning rates must be > 0")
    eta_max: float = setting(1e-1, POSITIVE, "learning rates must be > 0")
    n_s: int = setting(2250, Integer(1))
    cycles: int = setting(2, Integer(1))
    eta_decay: float = setting(1.0, Real(0, 1, low_open=True),
                               "the per-cycle peak factor; 1 keeps every cycle's peak at eta_max")
    optimizer: str = setting("sgd", Options(("sgd", "adam")))
    batch_size: int = setting(100, Integer(1))
    dropout: float = setting(0.0, FRACTION, "the drop probability; 0 = off")
    flip: bool = setting(False, Bool())
    shift: int = setting(0, Integer(0, 15),
                         "the translation in pixels, 0 = off; 2-4 is usual for 32 x 32 images")
    label_smoothing: float = setting(0.0, FRACTION, "0 = off")
    test_flip: bool = setting(False, Bool())
    alpha: float = setting(0.9, FRACTION,
                           "the running-average factor: 0.9 keeps 90% of the old statistics "
                           "each update")
    eps: float = setting(1e-5, POSITIVE)
    seed: int = setting(0, Integer(0))
    dtype: str = setting("float32", Options(("float32", "float64"), convert=_dtype_name))
    kernels: str = setting("numba", Options(("numba", "numpy")))
    log_every: int | None = setting(None, Optional(Integer(1)))
    train_eval_size: int | None = setting(5_000, Optional(Integer(1)))

    def __new__(cls, *args: Any, **fields: Any) -> Config:
        # runs before the dataclass __init__, whose TypeError would not name the field meant
        unknown = fields.keys() - set(cls.field_names()) - set(LEGACY_BN_KEYWORDS)
        if unknown:
            raise ConfigError("; ".join(unknown_field(name) for name in sorted(unknown)))
        return super().__new__(cls)

    def __post_init__(self) -> None:
        fields = dataclasses.fields(self)
        try:
            values = validate({f.name: getattr(self, f.name) for f in fields},
                              {f.name: f.metadata["constraint"] for f in fields})
        except Invalid as e:
            note = next(f.metadata["note"] for f in fields if f.name == e.name)
            raise ConfigError(e.describe(note)) from None
        for name, value in values.items():
            object.__setattr__(self, name, value)
        if self.init != "normal" and self.sigma != SIGMA_DEFAULT:
            raise ConfigError(
                f"sigma={self.sigma:g} is only used with init=\"normal\" (every weight drawn "
                f"from N(0, sigma²)); with init={self.init!r} the weights' scale comes from the "
                "layer sizes. Pass init=\"normal\" as well, or leave sigma out"
            )
        if self.eta_min > self.eta_max:
            raise ConfigError(
                f"eta_min={self.eta_min} > eta_max={self.eta_max}: swap them "
                "(the cycle rises from eta_min to eta_max)"
            )

    @classmethod
    def constraint(cls, name: str) -> Constraint:
        """The declared constraint of field ``name`` (notebook parameters that set a field
        reuse it)."""
        return next(f.metadata["constraint"] for f in dataclasses.fields(cls)
                    if f.name == name)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

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

    @property
    def has_bn(self) -> bool:
        """Whether the hidden layers are batch-normalised (``bn != "none"``)."""
        return self.bn != "none"

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        if any(name in changes for name in LEGACY_BN_KEYWORDS):
            changes = _from_legacy(changes, self.bn)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly dict of the fields (used as a cache key and in tables)."""
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def _from_legacy(fields: dict[str, Any], bn: str = "before") -> dict[str, Any]:
    """``fields`` with ``batch_norm=`` and ``bn_position=`` turned into ``bn=`` (``bn``: the
    placement they change), with one :class:`DeprecationWarning` naming the new keyword."""
    fields = dict(fields)
    given = {name: fields.pop(name) for name in LEGACY_BN_KEYWORDS if name in fields}
    if "bn" in fields:
        raise ConfigError(
            f"give BN's placement once: bn={fields['bn']!r} and "
            + ", ".join(f"{k}={v!r}" for k, v in given.items())
            + ' both set it; keep bn= ("none", "before" or "after") alone')
    on = given.get("batch_norm", bn != "none")
    position = given.get("bn_position", bn if bn != "none" else "before")
    if not isinstance(on, (bool, np.bool_)):
        raise ConfigError(f"batch_norm={on!r} must be True or False; better, use bn= "
                          '("none", "before" or "after")')
    new = "none" if not on else position
    warnings.warn(
        ", ".join(f"{k}={v!r}" for k, v in given.items())
        + f" is deprecated: write bn={new!r} (one of \"none\", \"before\", \"after\")",
        DeprecationWarning, stacklevel=3)
    fields["bn"] = new
    return fields


_dataclass_init = Config.__init__


@functools.wraps(_dataclass_init)
def _init(self: Config, *args: Any, **fields: Any) -> None:
    if any(name in fields for name in LEGACY_BN_KEYWORDS):
        fields = _from_legacy(fields)
    _dataclass_init(self, *args, **fields)


Config.__init__ = _init  # type: ignore[method-assign]
# what Config(...) takes, for inspect.signature, help() and the API reference: the fields
# (not ``__new__``'s ``*args, **fields``, which only catches a misspelt name first)
_fields = list(inspect.signature(_dataclass_init).parameters.values())[1:]  # without self
Config.__signature__ = inspect.Signature(_fields)  # type: ignore[attr-defined]


def closest(name: str, names: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``names`` to a misspelt ``name``, or ``""``."""
    match = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def unknown_field(name: str) -> str:
    """The message for a field :class:`Config` does not have."""
    return (f"Config has no field {name!r}{closest(name, Config.field_names())}; its fields "
            f"are {', '.join(Config.field_names())}")
