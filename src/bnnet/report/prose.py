"""Report prose computed from the run it describes.

A notebook never types a measured number, interval or verdict into a Markdown cell: it
writes the sentence in a code cell, with the values taken from the run's tables, and
displays it with :func:`prose` (in the spirit of MyST-NB's ``glue`` and Quarto's inline
expressions, with plain f-strings)::

    ci = compare(table, "BN", "no", "yes", by=["net"]).set_index("net")
    display(prose(f"With three layers BN {effect(ci.loc['3-layer'])}."))

The output is Markdown (``text/markdown``): JupyterLab renders it, and nbconvert's LaTeX
export turns it into the same paragraph as a Markdown cell, so a quick run, another data
copy or other parameters give a PDF whose text agrees with its own tables.

The helpers take raw values (fractions, as in the result tables) and return text:
:func:`pct`, :func:`pm`, :func:`points`, :func:`interval`, :func:`sci`, :func:`count`.
Interpretation that depends on a result depends on it here, in code: :func:`effect` calls
a difference a gain or a loss only when its confidence interval excludes 0.

Facts from elsewhere (earlier reports, the course's settings) may be literal; earlier
reports' figures live in :data:`EARLIER_REPORTS` and are shown with :func:`cited`, which
names their source. :func:`stated_figures` finds measured figures typed into Markdown
(the test suite runs it over every notebook's Markdown cells).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bnnet.report.display import Output, markdown
from bnnet.report.latex import greek_to_math
from bnnet.study.stats import NOT_AFTER_CORRECTION, format_pm

EARLIER_SOURCE = "earlier student reports of the course assignment, official CIFAR-10 files"

#: Test accuracies of earlier reports of the same assignment (literal: not from this run).
EARLIER_REPORTS = {
    "3-layer": "53–54%",
    "9-layer, no BN": "42–48%",
    "9-layer, BN": "46–54%",
    "lambda search": "about 54%",
    "sigma, no BN": "10% for σ = 1e-3 and 1e-4",
    "sigma, BN": "about 53% for every σ",
    "best": "56.4%",
}


def prose(*paragraphs: str) -> Output:
    """Markdown computed from the run: each argument is one paragraph (dedented, stripped;
    Greek letters become inline math).

    Example::

        display(prose(f"**Reading the table.** BN {effect(row)}.", "Second paragraph."))
    """
    parts = [greek_to_math(textwrap.dedent(p).strip()) for p in paragraphs]
    return markdown("\n\n".join(p for p in parts if p))


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.5347) == "53.5%"``."""
    return f"{100 * float(x):.{digits}f}%" if _finite(x) else "n/a"


def pm(values: Sequence[float] | np.ndarray, digits: int = 2) -> str:
    """Mean ± sample std of fractions, in percent: ``"53.47 ± 0.23%"``."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0 or not np.isfinite(v).all():
        return "n/a"
    std = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{format_pm(100 * v.mean(), 100 * std, digits)}%"


def _signed(x: float, digits: int) -> str:
    s = f"{x:+.{digits}f}"
    return s.replace("-", "−")


def points(diff: float, digits: int = 2, signed: bool = True) -> str:
    """A difference of fractions in percentage points: ``points(0.0071) == "+0.71 points"``."""
    if not _finite(diff):
        return "n/a"
    value = 100 * float(diff)
    text = _signed(value, digits) if signed else f"{abs(value):.{digits}f}"
    return f"{text} points"


def interval(row: Mapping[str, Any], digits: int = 2) -> str:
    """The 95 % interval of a :func:`~bnnet.study.stats.compare` row, in points:
    ``"[+0.30, +1.12]"``."""
    if not (_finite(row["low"]) and _finite(row["high"])):
        return "[n/a]"
    return f"[{_signed(100 * row['low'], digits)}, {_signed(100 * row['high'], digits)}]"


def is_real(row: Mapping[str, Any]) -> bool:
    """Whether a comparison counts as real: its interval excludes 0 and, for a row corrected
    by :func:`~bnnet.study.stats.holm`, it survives the correction (the ``verdict``)."""
    return row["verdict"] == "real"


def effect(row: Mapping[str, Any], *, what: str = "test accuracy", digits: int = 2,
           gain: str = "raises", loss: str = "lowers", level: str = "95%") -> str:
    """The verb phrase for a treatment-minus-baseline row of :func:`bnnet.study.stats.compare`.

    A gain or a loss only when the interval excludes 0; otherwise "changes … by … (noise)".

    >>> effect({"diff": 0.007, "low": 0.003, "high": 0.011, "verdict": "real"})
    'raises test accuracy by 0.70 points (95% interval [+0.30, +1.10], real)'
    >>> effect({"diff": 0.002, "low": -0.001, "high": 0.005, "verdict": "noise"})
    'changes test accuracy by +0.20 points, which is noise (95% interval [−0.10, +0.50] includes 0)'
    """
    diff = row["diff"]
    if not (_finite(diff) and _finite(row["low"])):
        return f"changes {what} by {points(diff, digits)} (too few runs for an interval)"
    ci = f"{level} interval {interval(row, digits)}"
    if row["verdict"] == "too few runs":
        return (f"changes {what} by {points(diff, digits)} ({ci}; too few runs per arm "
                "for a verdict)")
    if row["verdict"] == NOT_AFTER_CORRECTION:
        return (f"changes {what} by {points(diff, digits)}, which is real at 95% alone but not "
                f"after Holm's correction for the {count(int(row['family']), 'comparison')} of "
                f"this section ({ci}; Holm-adjusted p = {row['p_holm']:.3f})")
    if is_real(row):
        verb = gain if diff > 0 else loss
        corrected = (", also after Holm's correction" if _finite(row.get("p_holm"))
                     and int(row.get("family", 1)) > 1 else "")
        return (f"{verb} {what} by {points(diff, digits, signed=False)} ({ci}, "
                f"real{corrected})")
    return f"changes {what} by {points(diff, digits)}, which is noise ({ci} includes 0)"


def sci(x: float, digits: int = 1) -> str:
    """A positive number in LaTeX scientific notation: ``sci(0.0026) == "$2.6 \\cdot 10^{-3}$"``;
    0 as ``$0$``."""
    if not _finite(x):
        return "n/a"
    x = float(x)
    if x == 0:
        return "$0$"
    exponent = math.floor(math.log10(abs(x)))
    mantissa = x / 10**exponent
    if round(mantissa, digits) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    if exponent == 0:
        return f"${mantissa:.{digits}f}$"
    return f"${mantissa:.{digits}f} \\cdot 10^{{{exponent}}}$"


def span(low: float, high: float, fmt=None) -> str:
    """``"between X and Y"``, or ``"X"`` alone when both ends read the same once formatted
    (``fmt``: default :func:`sci`)."""
    fmt = fmt or sci
    a, b = fmt(low), fmt(high)
    return a if a == b else f"between {a} and {b}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``count(5, "seed") == "5 seeds"``, ``count(1, "seed") == "1 seed"``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def cited(key: str) -> str:
    """An earlier report's figure (a literal fact, not a number of this run); the sentence
    that uses it names the source, e.g. with :func:`earlier_reports`."""
    return EARLIER_REPORTS[key]


def earlier_reports(text: str) -> str:
    """A sentence about earlier reports that names its source: ``earlier_reports(f"… saw
    {cited('3-layer')} …")``."""
    return f"Earlier reports ({EARLIER_SOURCE}; not this run) {text}"


def seeds_at_chance(values: Sequence[float] | np.ndarray, chance: float = 0.1,
                    margin: float = 0.02) -> int:
    """How many runs (one accuracy per seed) stay at chance level: below ``chance + margin``."""
    return int((np.asarray(values, dtype=float) < chance + margin).sum())


def outcome(values: Sequence[float] | np.ndarray, chance: float = 0.1,
            margin: float = 0.02) -> str:
    """Mean ± std of per-seed accuracies, saying when seeds stay at chance level
    (see :func:`seeds_at_chance`)."""
    v = np.asarray(values, dtype=float)
    stuck = seeds_at_chance(v, chance, margin)
    if len(v) and stuck == len(v):
        return f"{pm(v)}, chance level on every seed"
    if stuck:
        return f"{pm(v)} ({stuck} of {count(len(v), 'seed')} at chance level)"
    return pm(v)


def at_chance(values: Sequence[float] | np.ndarray, chance: float = 0.1,
              margin: float = 0.02) -> bool:
    """Whether every run's accuracy is at chance level (see :func:`seeds_at_chance`)."""
    n = len(values)
    return bool(n) and seeds_at_chance(values, chance, margin) == n


# Measured figures: a percentage, a ±, a number of points/seeds/runs/minutes/seconds, a
# number in scientific notation, a decimal number outside math (course settings in math,
# such as $\lambda = 0.005$, are literal facts), or a verdict word.
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
_CODE = re.compile(r"`[^`]*`")
_FIGURE_PATTERNS = {
    # "95% interval" is the method's confidence level, not a measurement
    "a percentage": re.compile(
        r"\d\s*\\?%(?!\s*((Welch|paired|t)\s+)?(confidence\s+)?interval)"),
    "a ± spread": re.compile(r"(±|\\pm)\s*\$?\d"),
    "a counted quantity": re.compile(
        r"\b\d[\d,.]*\s*(points?|seeds?|runs?|trials?|min(utes?)?|seconds|s)\b"),
    "a number in scientific notation": re.compile(r"\d\s*\\cdot\s*10\^"),
    "a verdict": re.compile(r"\b(real|noise)\)|, \*?(real|noise)\b|is \*?(real|noise)\b"),
}
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def stated_figures(markdown: str) -> list[str]:
    """Measured figures typed into a Markdown text (what must come from :func:`prose`).

    Returns:
        one ``"<kind>: <match>"`` entry per figure found; empty for text that states none.
    """
    text = _CODE.sub(" ", markdown)
    found = []
    for kind, pattern in _FIGURE_PATTERNS.items():
        found += [f"{kind}: {m.group(0)!r}" for m in pattern.finditer(text)]
    outside_math = _MATH.sub(" ", text)
    found += [f"a decimal number: {m.group(0)!r}" for m in _DECIMAL.finditer(outside_math)]
    return found
