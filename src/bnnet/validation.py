"""Declared constraints on values, checked by one function: the rules behind both
:class:`bnnet.Config` and the notebooks' parameters.

As in scikit-learn's ``_parameter_constraints`` and ``validate_params``, each value's
constraint is declared once, as data, next to the field or parameter it constrains; one
function, :func:`validate`, checks a mapping of values against them. A constraint says what
it expects in words ("a positive integer"), gives an example a user can type (for the
papermill hint of a notebook parameter), and returns the value in its canonical type, or
raises :class:`Invalid`.

Type rules, the same everywhere: an integer is a Python or NumPy integer but never a bool
(``True`` is not a count); a number is any real Python or NumPy number but not a bool, and
must be finite; a float such as ``2250.0`` where an integer belongs is refused with the
integer to write instead.

Why not pydantic or attrs: every message here names the value, what was expected and what
to type instead (tests hold them); both libraries would need a custom validator per rule to
say that, which is this module again, plus a dependency of the numerical core.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


class Invalid(ValueError):
    """A value that breaks its constraint. ``name`` is filled in by :func:`validate`."""

    def __init__(self, value: Any, constraint: Constraint, detail: str = "",
                 name: str = ""):
        self.value, self.constraint, self.detail, self.name = value, constraint, detail, name
        super().__init__(self.describe())

    def describe(self, note: str = "", *, typed: bool = False) -> str:
        """``"name=value: expected …[, detail][ (note)]"``; ``typed`` adds the value's type
        after it (``"name='two' (str): …"``)."""
        detail = f", {self.detail}" if self.detail else ""
        note = f" ({note})" if note else ""
        kind = f" ({type(self.value).__name__})" if typed else ""
        return (f"{self.name}={self.value!r}{kind}: expected {self.constraint.expected}"
                f"{detail}{note}")


class Constraint:
    """What one value must be. Subclasses set ``expected`` and implement :meth:`coerce`."""

    expected = "a valid value"
    example = ""
    #: the value is a list: on papermill's command line it needs -y (-p passes text)
    is_list = False

    def coerce(self, value: Any) -> Any:
        """The value in its canonical type; :class:`Invalid` if it breaks the constraint."""
        raise NotImplementedError

    def invalid(self, value: Any, detail: str = "") -> Invalid:
        return Invalid(value, self, detail)


def is_int(value: Any) -> bool:
    """An integer of Python or NumPy, but not a bool (``True`` is not a count)."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _got(value: Any) -> str:
    return f"got {type(value).__name__}"


class Bool(Constraint):
    expected, example = "True or False", "True"

    def coerce(self, value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise self.invalid(value, _got(value))
        return bool(value)


@dataclass
class Integer(Constraint):
    """An integer in ``[low, high]`` (either end may be open-ended: ``None``)."""

    low: int | None = None
    high: int | None = None
    example: str = ""

    def __post_init__(self) -> None:
        low, high = self.low, self.high
        self.expected = ("a positive integer" if low == 1 and high is None
                         else "a non-negative integer" if low == 0 and high is None
                         else f"an integer from {low} to {high}" if low is not None
                         and high is not None
                         else f"an integer <= {high}" if high is not None
                         else f"an integer >= {low}" if low is not None else "an integer")
        self.example = self.example or str(low if low is not None else 0)

    def coerce(self, value: Any) -> int:
        if not is_int(value):
            if isinstance(value, float) and value.is_integer():
                raise self.invalid(value, f"got a float; write {int(value)}")
            raise self.invalid(value, _got(value))
        value = int(value)
        if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high):
            raise self.invalid(value)
        return value


@dataclass
class Real(Constraint):
    """A finite number in an interval; ``low_open`` / ``high_open`` exclude the ends."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    example: str = "0.005"

    def __post_init__(self) -> None:
        if self.low == 0 and self.low_open and self.high is None:
            self.expected = "a positive number"
        elif self.low is not None and self.high is not None:
            self.expected = (f"a number in {'(' if self.low_open else '['}{self.low:g}, "
                             f"{self.high:g}{')' if self.high_open else ']'}")
        elif self.low is not None:
            self.expected = f"a number {'>' if self.low_open else '>='} {self.low:g}"
        elif self.high is not None:
            self.expected = f"a number {'<' if self.high_open else '<='} {self.high:g}"
        else:
            self.expected = "a number"

    def coerce(self, value: Any) -> float:
        if not _is_real(value):
            raise self.invalid(value, _got(value))
        value = float(value)
        if not np.isfinite(value):
            raise self.invalid(value, "it must be finite")
        low, high = self.low, self.high
        if low is not None and (value < low or (self.low_open and value == low)):
            raise self.invalid(value)
        if high is not None and (value > high or (self.high_open and value == high)):
            raise self.invalid(value)
        return value


class Options(Constraint):
    """One of a fixed set of values; ``convert`` may map the input first (e.g. a NumPy
    dtype to its name)."""

    def __init__(self, choices: Iterable[Any], *, expected: str = "",
                 convert: Callable[[Any], Any] | None = None):
        self.choices = tuple(choices)
        self.expected = expected or "one of " + ", ".join(map(repr, self.choices))
        self.example = str(self.choices[0])
        self.convert = convert

    def coerce(self, value: Any) -> Any:
        converted = self.convert(value) if self.convert is not None else value
        try:
            if converted in self.choices:
                return converted
        except TypeError:  # unhashable or incomparable: not one of the choices
            pass
        raise self.invalid(value)


class Instance(Constraint):
    """A value of one of the given types (e.g. a path as a string)."""

    def __init__(self, types: type | tuple[type, ...], expected: str, example: str,
                 test: Callable[[Any], bool] | None = None):
        self.types, self.expected, self.example, self.test = types, expected, example, test

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, self.types) or (self.test is not None and not self.test(value)):
            raise self.invalid(value)
        return value


PATH = Instance((str, os.PathLike), "a folder path (a string)", "/data/cifar-10-batches-py")
FILE = Instance((str, os.PathLike), "a file path (a string)", "report/results/bench.csv")
ADDRESS = Instance(str, "a Dask scheduler address (a string like tcp://host:8786)",
                   "tcp://10.0.0.5:8786", test=lambda v: "://" in v)


class Optional(Constraint):
    """``None`` or a value of ``inner``."""

    def __init__(self, inner: Constraint):
        self.inner = inner
        self.expected = f"{inner.expected} or None"
        self.example, self.is_list = inner.example, inner.is_list

    def coerce(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.coerce(value)
        except Invalid as e:
            raise self.invalid(value, e.detail) from None


class ListOf(Constraint):
    """A list (or tuple) of at least ``min_len`` items of ``item``, returned as ``into``
    (``list`` by default). ``scalar``: a lone item counts as a one-item list."""

    is_list = True

    def __init__(self, item: Constraint, *, expected: str = "", example: str = "",
                 min_len: int = 1, into: Callable[[list], Any] = list, scalar: bool = False):
        self.item, self.min_len, self.into, self.scalar = item, min_len, into, scalar
        plural = item.expected.replace("a ", "", 1).replace("an ", "", 1)
        plural = plural.replace("integer", "integers").replace("number", "numbers")
        self.expected = expected or f"a non-empty list of {plural}"
        self.example = example or f"[{item.example}]"

    def coerce(self, value: Any) -> Any:
        if self.scalar and not isinstance(value, (list, tuple, np.ndarray)):
            try:
                return self.into([self.item.coerce(value)])
            except Invalid:
                pass
        if not isinstance(value, (list, tuple, np.ndarray)):
            raise self.invalid(value, _got(value))
        if len(value) < self.min_len:
            raise self.invalid(value)
        items = []
        for x in value:
            try:
                items.append(self.item.coerce(x))
            except Invalid:
                raise self.invalid(value, f"{x!r} is not {self.item.expected}") from None
        return self.into(items)


class Interval(Constraint):
    """A pair ``[low, high]`` of numbers with ``low < high`` (returned as given)."""

    expected = "a pair [low, high] of numbers with low < high"
    example = "[-5, -1]"
    is_list = True

    def coerce(self, value: Any) -> Any:
        if not (isinstance(value, (list, tuple)) and len(value) == 2
                and all(_is_real(x) for x in value) and value[0] < value[1]):
            raise self.invalid(value)
        return value


def validate(values: Mapping[str, Any], constraints: Mapping[str, Constraint]) -> dict:
    """Every value of ``values`` that has a constraint, coerced to its canonical type.

    Raises:
        Invalid: for the first value that breaks its constraint, with ``name`` set.
    """
    out = dict(values)
    for name, constraint in constraints.items():
        if name not in values:
            continue
        try:
            out[name] = constraint.coerce(values[name])
        except Invalid as e:
            e.name = name
            e.args = (e.describe(),)
            raise
    return out
