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
import pandas as pd

from bnnet.core.config import Config
from bnnet.report.display import Output, markdown
from bnnet.report.latex import greek_to_math
from bnnet.study import stats
from bnnet.study.stats import (
    BOTH_AT_CHANCE,
    DELTA,
    INCONCLUSIVE,
    NO_DIFFERENCE,
    PERMUTATION,
    REAL,
    SIGNIFICANT,
    TOO_FEW,
    percent,
    percent_pm,
)

#: Where the earlier reports' figures come from; the introduction says it once.
EARLIER_SOURCE = ("five earlier student reports of the course assignment (2019–2022), "
                  "R0–R4, each figure one run on the official CIFAR-10 files")

#: Test accuracies of earlier reports of the same assignment, R0–R4 (literal: not from this
#: run; the project's summary of them is shared/EARLIER_REPORTS.md beside the checkout).
EARLIER_REPORTS = {
    "3-layer, no BN": "48–54% (R0 53.97%, R2 48%, R3 53.27%)",
    "3-layer, BN": "52–54% (R0 53.55%, R2 52%, R3 53.10%)",
    "9-layer, no BN": "42–49% (R0 47.77%, R2 48.6%, R3 42.27%)",
    "9-layer, BN": "46–54% (R0 51.79%, R2 53.6%, R3 46.24%)",
    "lambda search": ("53.1–54.1% (R0 53.88% after 4 cycles, R1 54.01% after 30 epochs, R2 "
                      "53.1% and 54.0%, R3 54.05% after 7 cycles; R0, R1 and R3 trained "
                      "longer than the course's 2 cycles, 20 epochs)"),
    "sigma, no BN": ("10% for the 9-layer net at σ = 1e-3 and 1e-4 (R0, R2; R3 at 1e-3), but "
                     "for the 3-layer net R3 had 52.76% at 1e-3 and 15.64% at 1e-4 where R2 "
                     "had 10% at both"),
    "sigma, BN": ("49.7–53.8% at σ = 1e-3 and 1e-4 (R2, R3), the 9-layer BN net "
                  "included: R2 51% and 50.5%, R3 49.73% and 50.76% (R2's BN adds an "
                  "epsilon of about 2.2e-16 to the variance)"),
    "best": "56.4% (R4: the 3-layer course net trained with Adam, two cycles)",
    "precise BN": "54.8% (R4, one run)",
    "adaptive BN": "53.9% (R4, one run)",
    "BN after ReLU": "54.4% (R4, one run)",
}


def prose(*paragraphs: str) -> Output:
    """Markdown computed from the run: each argument is one paragraph (dedented, stripped;
    Greek letters become inline math).

    Example::

        display(prose(f"**Reading the table.** BN {effect(row)}.", "Second paragraph."))
    """
    parts = [_UNIT_SPACE.sub("\u00a0", greek_to_math(textwrap.dedent(p).strip()))
             for p in paragraphs]
    return markdown("\n\n".join(p for p in parts if p))


#: A space between a number and its unit, which a line must not break (it becomes a
#: no-break space: LaTeX's ``~``).
_UNIT_SPACE = re.compile(r"(?<=\d) (?=(s|ms|min|minutes|seconds|points|seeds|runs|updates|"
                         r"epochs|images|layers|cores)\b)")


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.5347) == "53.5%"``."""
    return percent(float(x), digits) if _finite(x) else "n/a"


def pm(values: Sequence[float] | np.ndarray, digits: int = 2) -> str:
    """Mean ± sample std of fractions, in percent: ``"53.47 ± 0.23%"``."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0 or not np.isfinite(v).all():
        return "n/a"
    return f"{percent_pm(*stats.mean_std(v), digits)}%"


def points(diff: float, digits: int = 2, signed: bool = True) -> str:
    """A difference of fractions in percentage points: ``points(0.0071) == "+0.71 points"``."""
    if not _finite(diff):
        return "n/a"
    value = 100 * float(diff)
    text = stats.signed(value, digits) if signed else f"{abs(value):.{digits}f}"
    return f"{text} points"


def interval(row: Mapping[str, Any], digits: int = 2) -> str:
    """The 95 % interval of a :func:`~bnnet.study.stats.compare` row, in points:
    ``"[+0.30, +1.12]"``."""
    if not (_finite(row["low"]) and _finite(row["high"])):
        return "[n/a]"
    low, high = (stats.signed(100 * row[k], digits) for k in ("low", "high"))
    return f"[{low}, {high}]"


def is_real(row: Mapping[str, Any]) -> bool:
    """Whether a comparison counts as real: its interval excludes 0 and, for a row corrected
    by :func:`~bnnet.study.stats.holm`, it survives the correction (the ``verdict``)."""
    return row["verdict"] in SIGNIFICANT


#: The negligible difference in words, as the report states it.
NEGLIGIBLE = points(DELTA, signed=False)


def _evidence(row: Mapping[str, Any], digits: int, level: str) -> str:
    """The interval, or the permutation test's p-value (a missing one: "n/a"), with the
    interval [d, d] of arms without spread when there is one."""
    if row.get("test") == PERMUTATION:
        floor, p = row.get("p_min", float("nan")), row.get("p_value", float("nan"))
        at_floor = _finite(floor) and _finite(p) and abs(p - floor) < 1e-12 and p < 1
        exact = (f"; no spread, so the difference is exact: {interval(row, digits)}"
                 if _finite(row.get("low")) and _finite(row.get("high")) else "")
        return (f"exact permutation test over the seeds, p = {stats.p_text(p)}"
                + (", the smallest p these runs can give" if at_floor else "") + exact)
    return f"{level} interval {interval(row, digits)}"


def straddles_delta(row: Mapping[str, Any], delta: float = DELTA) -> bool:
    """The one rule for the δ caveat: a real difference whose interval reaches inside ±δ
    (its end nearer 0 is smaller than δ in size), so the runs cannot tell whether it is
    larger than the negligible difference. False without an interval.

    >>> straddles_delta({"low": 0.0025, "high": 0.0081})
    True
    >>> straddles_delta({"low": -0.0106, "high": -0.0060})
    False
    """
    low, high = row.get("low", float("nan")), row.get("high", float("nan"))
    if not (_finite(low) and _finite(high)):
        return False
    return min(abs(low), abs(high)) < delta and (low > 0 or high < 0)


def effect(row: Mapping[str, Any], *, what: str = "test accuracy", digits: int = 2,
           gain: str = "raises", loss: str = "lowers", level: str = "95%") -> str:
    """The verb phrase for a treatment-minus-baseline row of :func:`bnnet.study.stats.compare`
    (after :func:`~bnnet.study.stats.holm`), in the words of its verdict.

    >>> effect({"diff": 0.009, "low": 0.006, "high": 0.012, "verdict": "real"})
    'raises test accuracy by 0.90 points (95% interval [+0.60, +1.20]; real)'

    (``tests/test_stats.py`` holds the other words.)
    """
    diff, verdict = row["diff"], row["verdict"]
    if verdict == BOTH_AT_CHANCE:
        return "leaves both arms at chance on every seed (no test)"
    evidence = _evidence(row, digits, level)
    if verdict == TOO_FEW or not _finite(diff):
        return (f"changes {what} by {points(diff, digits)} ({evidence}; too few runs per arm "
                "for a verdict)")
    if verdict in SIGNIFICANT:
        verb = gain if diff > 0 else loss
        word = ("real" if verdict == REAL else
                f"real, but the whole interval lies inside ±{NEGLIGIBLE}: negligible")
        if verdict == REAL and straddles_delta(row):
            word = (f"real, though the interval reaches inside ±{NEGLIGIBLE}: it does not "
                    "tell whether the difference matters")
        return f"{verb} {what} by {points(diff, digits, signed=False)} ({evidence}; {word})"
    changes = f"changes {what} by {points(diff, digits)}"
    if verdict == NO_DIFFERENCE:
        return f"{changes}: no difference larger than {NEGLIGIBLE} ({evidence})"
    if verdict != INCONCLUSIVE:
        raise ValueError(f"effect: unknown verdict {verdict!r}")
    if row.get("test") == PERMUTATION:
        return f"{changes}, inconclusive ({evidence})"
    if row["low"] > 0 or row["high"] < 0:
        m = row.get("family")
        family = (f"the {count(int(m), 'comparison')} of this section" if _finite(m)
                  else "this section's comparisons")
        return (f"{changes}, inconclusive ({evidence} excludes 0, but not after the correction "
                f"for {family}: Holm-adjusted p = {stats.p_text(row.get('p_holm'))})")
    return f"{changes}, inconclusive ({evidence})"


def _trend(reading: Mapping[str, float]) -> str:
    peak, final = reading["peak_epoch"], reading["final_epoch"]
    if reading["last_gain"] > 0.001:
        return "still rising at the end"
    if peak >= final - 1e-9 or reading["from_peak"] < 0.001:
        return f"at its peak at the end (epoch {final:.0f})"
    return (f"past its peak (epoch {peak:.0f} of {final:.0f}; it ends "
            f"{points(reading['from_peak'], signed=False)} lower)")


def curve_sentence(readings: Mapping[str, Mapping[str, float]]) -> str:
    """One sentence on the learning curves of one or more nets (name -> reading of
    :func:`~bnnet.study.analysis.curve_reading`): the final train - validation gap and
    where validation accuracy stands."""
    gaps = ", ".join(f"{points(r['gap'], signed=False)} ({name})" if len(readings) > 1
                     else points(r["gap"], signed=False) for name, r in readings.items())
    trends = {name: _trend(r) for name, r in readings.items()}
    if len(set(trends.values())) == 1:
        where = next(iter(trends.values())) + (" for every net" if len(readings) > 1 else "")
    else:
        where = "; ".join(f"{trend} for the {name}" for name, trend in trends.items())
    subject = f"the {next(iter(readings))}" if len(readings) == 1 else "these nets"
    return (f"At the end of training, training accuracy is above validation accuracy by "
            f"{gaps} for {subject}; validation accuracy is {where}.")


def family(table: Mapping[str, Any] | Any) -> str:
    """``"the 12 comparisons of this section's family"`` from a table corrected by
    :func:`~bnnet.study.stats.holm` (its ``family`` column), or what a table without a
    tested comparison (too few seeds, as in a quick run) has instead."""
    m = int(table["family"].iloc[0]) if len(table) else 0
    if m == 0:
        return "no comparison of this section has enough seeds per arm for a verdict"
    return f"the {count(m, 'comparison')} of this section's family"


def sci(x: float, digits: int = 1) -> str:
    """A positive number in LaTeX scientific notation: ``sci(0.0026) == "$2.6 \\cdot 10^{-3}$"``;
    an exact power of ten without its mantissa, ``sci(1e-4) == "$10^{-4}$"``; 0 as ``$0$``."""
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
    if x == 10.0**exponent:
        return f"$10^{{{exponent}}}$"
    return f"${mantissa:.{digits}f} \\cdot 10^{{{exponent}}}$"


def at_most(x: float, digits: int = 2, *, significant: bool = False) -> float:
    """``x`` rounded up to ``digits`` decimals (or significant digits), the value a sentence
    prints as a bound "at most", "within" or "below": ``at_most(7.594) == 7.6`` prints as
    7.60, never the 7.59 that the value exceeds. NaN stays NaN."""
    return _outward(x, digits, significant, math.ceil)


def at_least(x: float, digits: int = 2, *, significant: bool = False) -> float:
    """``x`` rounded down, the value a sentence prints as a bound "at least" or "above":
    ``at_least(1.4955) == 1.49``."""
    return _outward(x, digits, significant, math.floor)


def _outward(x: float, digits: int, significant: bool, direction) -> float:
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    if significant:
        digits = digits - 1 - math.floor(math.log10(abs(x)))
    scale = 10.0 ** digits
    # a value already at the printed precision stays (7.6 must not become 7.61)
    scaled = round(x * scale, 9)
    return direction(scaled) / scale


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
    """A sentence about the earlier reports R0–R4 (introduced, with their source, in the
    introduction): ``earlier_reports(f"… saw {cited('3-layer, BN')} …")``."""
    return f"The earlier reports R0–R4 {text}"


def seeds_at_chance(values: Sequence[float] | np.ndarray) -> int:
    """How many runs (one accuracy per seed) stay at chance level
    (:func:`bnnet.study.stats.at_chance`)."""
    return int(stats.at_chance(values).sum())


def outcome(values: Sequence[float] | np.ndarray) -> str:
    """Mean ± std of per-seed accuracies, saying when seeds stay at chance level
    (see :func:`seeds_at_chance`)."""
    v = np.asarray(values, dtype=float)
    stuck = seeds_at_chance(v)
    if len(v) and stuck == len(v):
        return f"{pm(v)}, chance level on every seed"
    if stuck:
        return f"{pm(v)} ({stuck} of {count(len(v), 'seed')} at chance level)"
    return pm(v)


def at_chance(values: Sequence[float] | np.ndarray) -> bool:
    """Whether every run's accuracy is at chance level (see :func:`seeds_at_chance`)."""
    n = len(values)
    return bool(n) and seeds_at_chance(values) == n


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
    "a verdict": re.compile(r"\b(real|noise|inconclusive)\)|, \*?(real|noise|inconclusive)\b"
                            r"|is \*?(real|noise|inconclusive)\b"),
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


def _plain(x: float) -> str:
    """A setting's number as a reader writes it: ``0.005``, ``1e-5``."""
    if 1e-3 <= abs(x) < 1e5 or x == 0:
        return f"{x:g}"
    mantissa, exponent = f"{x:.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{int(exponent)}"


INITS = {"he": "He: N(0, 2 / fan-in) per layer", "xavier": "Xavier: N(0, 1 / fan-in) per layer"}


def settings_in_words(config: Config, n_train: int | None = None) -> pd.DataFrame:
    """A :class:`~bnnet.core.config.Config` as a table a reader can check: one row per
    setting, in words and with units (for the default settings and the best network)."""
    per_epoch = max(1, (n_train or 45_000) // config.batch_size)  # updates
    updates = config.n_updates
    rows = [
        ("hidden layers", ", ".join(map(str, config.hidden)) + " units"),
        ("batch normalization",
         f"{config.bn} the ReLU of every hidden layer" if config.has_bn
         else "none"),
        ("initial weights", INITS.get(config.init, f"N(0, σ²) with σ = {_plain(config.sigma)}")),
        ("L2 regularisation λ", _plain(config.lam)),
        ("learning rate", f"cyclical (triangular), {_plain(config.eta_min)} to "
                          f"{_plain(config.eta_max)}"
                          + (f", peak × {config.eta_decay:g} per cycle"
                             if config.eta_decay != 1 else "")),
        ("half-cycle", f"{config.n_s:,} updates"),
        ("cycles", f"{config.cycles}: {updates:,} updates, {updates / per_epoch:.0f} epochs"
                   + (f" of {n_train:,} images" if n_train else "")),
        ("mini-batch", f"{config.batch_size} images"),
        ("optimizer", "Adam" if config.optimizer == "adam" else "plain gradient descent"),
        ("augmentation", ", ".join(
            [*(["random horizontal flips"] if config.flip else []),
             *([f"random shifts of up to {config.shift} pixels"] if config.shift else [])])
         or "none"),
        ("test-time flips", "each test image and its mirror, probabilities averaged"
         if config.test_flip else "no"),
        ("BN running average α", f"{config.alpha:g}" if config.has_bn else "–"),
        ("BN ε (added to the variance)", _plain(config.eps) if config.has_bn else "–"),
        ("arithmetic", config.dtype),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def upper_first(text: str) -> str:
    """The first letter upper-case, unless it is a symbol such as λ (whose capital is
    another symbol): ``upper_first("width [500, 500]") == "Width [500, 500]"``."""
    return text[:1].upper() + text[1:] if text[:1].isascii() else text


def listed(items: Sequence[str]) -> str:
    """``"a, b and c"`` (``"a"`` alone, ``""`` for none)."""
    items = list(items)
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten")


def number_word(n: int) -> str:
    """A small count as a word, to start a sentence with: ``number_word(3) == "three"``
    (digits from 11 on)."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)
