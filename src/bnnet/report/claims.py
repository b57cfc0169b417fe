"""Sentences that interpret a result, each checked against the result it interprets.

A number in the report comes from the run (:mod:`bnnet.report.prose`); a sentence that
*reads* a number ("BN matters more for the deep net", "validation accuracy is still rising
at the end") is true only for some data. Such a sentence is one of three kinds, and the
notebook says which:

- :func:`claim`, a **checked** sentence: it goes with the test that makes it true, computed
  from the same named values the sentence prints::

      text = claim("BN's smallest plausible gain for the deep net, {low:+.2f} points, is "
                   "larger than the shallow net's largest, {high:+.2f}.",
                   lambda low, high: low > high, low=deep_low, high=shallow_high)

  The test must give a real truth value (``bool`` or NumPy's): NaN, an array, a string or
  ``None`` is a :class:`ClaimError` naming the sentence, never a pass. A named value that is
  NaN makes the claim fail. A check that reduces data ("every seed", "at every step") names
  them in ``data``: pandas' ``max``, ``min``, ``mean`` and ``std`` skip NaN, so a diverged
  seed or a value never logged would vanish from the reduction; a claim whose ``data`` hold
  a NaN, an infinity or no value at all fails, whatever its test says::

      text = claim("Every seed ends within {off:.1e} of ln 10.", lambda off: off < 0.01,
                   data={"validation loss": history["val_loss"]},
                   off=(history["val_loss"] - np.log(10)).abs().max())
- :func:`choose`, a sentence the data **choose** among alternatives: recorded with the
  condition that chose it, which states what the chosen sentence says. It cannot be
  contradicted, and the table says so instead of counting it as a check.
- :func:`untested`, an interpretation the report does **not test**: the reader sees the words
  "not tested here" beside it, and the table lists it.

What happens to a contradicted claim depends on :data:`MODE_ENV`:

- ``strict`` (a full ``make report``): :class:`ClaimError` stops the notebook, naming the
  sentence and the evidence, so no PDF says what its data do not;
- ``mark`` (a quick build, and the default when a notebook runs by hand): the sentence stays
  in the text, struck through behind a bold note with the evidence, so the page shows it.

Each notebook's sentences are written, with their kind, evidence and whether they held, to
``<results>/claims/<notebook>.csv``, rewritten whole (atomically) at every sentence and
emptied when the notebook starts, so a cell run again replaces its rows instead of adding
them. The report's build starts from an empty ``claims/`` folder and assembles
``<results>/claims.csv`` from the notebooks it ran (:func:`assemble`).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bnnet.files import atomic_path
from bnnet.report.display import output_dirs

#: ``strict`` or ``mark`` (see the module's docstring).
MODE_ENV = "BNNET_CLAIMS"
STRICT, MARK = "strict", "mark"
CLAIMS_CSV = "claims.csv"
CLAIMS_DIR = "claims"
CHECKED, CHOSEN, READING = "checked", "chosen", "reading"
COLUMNS = ["section", "kind", "claim", "evidence", "holds"]
#: The words a reader sees beside a reading the report does not test.
UNTESTED = "not tested here"
UNNAMED = "notebook"

_section = ""
_rows: dict[str, dict[str, Any]] = {}


class ClaimError(AssertionError):
    """A sentence of the report that this run's data contradict, or whose check is not a
    truth value."""


def mode() -> str:
    """What a contradicted claim does here: :data:`STRICT` or :data:`MARK`."""
    value = os.environ.get(MODE_ENV, MARK)
    if value not in (STRICT, MARK):
        raise ValueError(f"{MODE_ENV}={value!r}: use {STRICT!r} (a false claim stops the "
                         f"build) or {MARK!r} (it is marked in the text)")
    return value


def start(section: str) -> None:
    """Begin the sentences of notebook ``section``: its earlier rows are dropped."""
    global _section
    _section = section
    _rows.clear()
    _write()


def claim(sentence: str, holds: bool | Callable[..., Any], evidence: str = "", *,
          data: Mapping[str, Any] | None = None, **values: Any) -> str:
    """``sentence`` if ``holds`` (recorded with ``evidence``); else, by :func:`mode`, a
    :class:`ClaimError` or the sentence marked as contradicted.

    With ``values``, ``sentence`` is a template filled by ``sentence.format(**values)``,
    ``holds`` may be a function of the same values (called as ``holds(**values)``), and the
    evidence lists them: the sentence's numbers and the check's thresholds are the same
    named values. ``data`` names the arrays (Series, frames, lists) the check reduces; the
    claim holds only if each has at least one value and every value is finite, and if no
    named value is NaN (see :func:`unusable`).
    """
    arrays = _arrays(data)
    text = sentence.format(**values) if values else sentence
    if callable(holds):
        holds = holds(**values)
    holds = truth(text, holds)
    problems = unusable(arrays, values)
    evidence = "; ".join(part for part in (_evidence(evidence, values), _reads(arrays),
                                           "; ".join(problems)) if part)
    if holds and not problems:
        _record(CHECKED, text, evidence, True)
        return text
    return _contradicted(text, evidence)


def choose(condition: Any, if_true: str, if_false: str, states: str,
           evidence: str = "", *, data: Mapping[str, Any] | None = None) -> str:
    """The sentence the data choose: ``if_true`` when ``condition`` holds, else
    ``if_false``. Recorded as :data:`CHOSEN` with ``states``, the condition in words, which
    must say what the two sentences say (e.g. "the fine search's interval lies inside its
    range"). ``data``, as for :func:`claim`: if the arrays the condition reduces hold a NaN,
    an infinity or no value, the chosen sentence is treated as a contradicted claim."""
    condition = truth(if_true, condition)
    text = if_true if condition else if_false
    if not text.strip():  # the data chose to say nothing
        return text
    detail = f"chosen because {states} is {condition}"
    arrays = _arrays(data)
    evidence = "; ".join(part for part in (detail, evidence, _reads(arrays)) if part)
    problems = unusable(arrays)
    if problems:
        return _contradicted(text, f"{evidence}; {'; '.join(problems)}")
    _record(CHOSEN, text, evidence, True)
    return text


def untested(sentence: str) -> str:
    """``sentence``, an interpretation this report does not test, with the words
    :data:`UNTESTED` a reader sees (added in parentheses unless the sentence says them)."""
    text = sentence if UNTESTED in sentence else _before_stop(sentence, f" ({UNTESTED})")
    _record(READING, text, "", None)
    return text


def unusable(data: Mapping[str, Any], values: Mapping[str, Any] | None = None) -> list[str]:
    """What keeps ``data`` and ``values`` from supporting a claim, in words (empty if
    nothing): a data array with no value, or with NaN or infinite values (a diverged run, a
    value never logged), or a named value that is NaN."""
    problems = []
    for name, value in (values or {}).items():
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            problems.append(f"{name} is NaN")
    for name, value in data.items():
        numbers = _numbers(name, value)
        bad = int((~np.isfinite(numbers)).sum())
        if not numbers.size:
            problems.append(f"{name} has no value, so 'every' would hold vacuously")
        elif bad:
            problems.append(f"{bad} of the {numbers.size} values of {name} are NaN or "
                            "infinite (a diverged run or a value never logged)")
    return problems


def truth(sentence: str, holds: Any) -> bool:
    """``holds`` as a bool, or :class:`ClaimError`: only ``bool`` and NumPy's bool are truth
    values (``bool(nan)`` is True, an array or a string is no test)."""
    if isinstance(holds, (bool, np.bool_)):
        return bool(holds)
    shown = "NaN" if isinstance(holds, float) and math.isnan(holds) else repr(holds)[:60]
    raise ClaimError(f"{_section or 'this notebook'}: the check of the sentence {sentence!r} "
                     f"gave {shown} ({type(holds).__name__}), not True or False: make it a "
                     "comparison (NaN compares False)")


def read(sections: Iterable[str] | None = None) -> pd.DataFrame:
    """The sentences recorded in this results folder: of ``sections`` in that order, or of
    every notebook that recorded some, in name order."""
    folder = _folder()
    names = (list(sections) if sections is not None
             else sorted(p.stem for p in folder.glob("*.csv")))
    tables = [pd.read_csv(folder / f"{name}.csv", keep_default_na=False)
              for name in names if (folder / f"{name}.csv").is_file()]
    table = (pd.concat(tables, ignore_index=True) if tables
             else pd.DataFrame(columns=COLUMNS))
    return table[COLUMNS].astype({"holds": str})


def checked(table: pd.DataFrame) -> pd.DataFrame:
    """The :data:`CHECKED` rows of a :func:`read` table, ``holds`` as bool."""
    rows = table[table["kind"] == CHECKED]
    return rows.assign(holds=rows["holds"].map({"True": True, "False": False}))


def reset() -> None:
    """Start a build from nothing: no notebook's sentences (``claims/``) and no
    ``claims.csv`` of an earlier build."""
    shutil.rmtree(_folder(), ignore_errors=True)
    (output_dirs()[1] / CLAIMS_CSV).unlink(missing_ok=True)


def assemble(sections: Iterable[str]) -> pd.DataFrame:
    """Write ``claims.csv`` from the notebooks ``sections`` (the build's, in its order) and
    return it."""
    table = read(sections)
    with atomic_path(output_dirs()[1] / CLAIMS_CSV) as tmp:
        table.to_csv(tmp, index=False)
    return table


def summary(table: pd.DataFrame) -> str:
    """One line on a :func:`read` table: how many sentences of each kind, and how many
    checked ones held."""
    rows = checked(table)
    bad = int((~rows["holds"]).sum())
    kinds = table["kind"].value_counts()
    return (f"{len(rows)} claims checked against their data, "
            + ("all held" if not bad else f"{bad} contradicted and marked in the PDF")
            + f"; {kinds.get(CHOSEN, 0)} sentences chosen by their data, "
            f"{kinds.get(READING, 0)} readings marked as not tested")


def _folder() -> Path:
    return output_dirs()[1] / CLAIMS_DIR


def _contradicted(text: str, evidence: str) -> str:
    """Record ``text`` as a checked sentence that does not hold; stop (strict) or mark it."""
    _record(CHECKED, text, evidence, False)
    if mode() == STRICT:
        raise ClaimError(f"{_section or 'this notebook'}: the sentence {text!r} is "
                         f"contradicted by this run's data ({evidence}). Rewrite it, or "
                         "change the test it is bound to if the test is wrong.")
    return f"**[Not what this run shows: {evidence}.]** ~~{text.strip()}~~"


def _numbers(name: str, value: Any) -> np.ndarray:
    if isinstance(value, pd.DataFrame):
        value = value.to_numpy()
    try:
        return np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise ClaimError(f"{_section or 'this notebook'}: the data {name!r} of a claim are "
                         f"not numbers ({type(value).__name__}): pass the numeric column the "
                         "check reduces") from err


def _arrays(data: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """``data`` converted once, for both :func:`unusable` and the evidence."""
    return {name: _numbers(name, value) for name, value in (data or {}).items()}


def _reads(arrays: Mapping[str, np.ndarray]) -> str:
    if not arrays:
        return ""
    return "reads " + ", ".join(f"{name} ({a.size} values)" for name, a in arrays.items())


def _evidence(evidence: str, values: dict[str, Any]) -> str:
    named = ", ".join(f"{k} = {_shown(v)}" for k, v in values.items())
    return "; ".join(part for part in (evidence, named) if part)


def _shown(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def _before_stop(sentence: str, words: str) -> str:
    stripped = sentence.rstrip()
    if stripped.endswith((".", ":", ";")):
        return stripped[:-1] + words + stripped[-1] + sentence[len(stripped):]
    return stripped + words + sentence[len(stripped):]


def _record(kind: str, text: str, evidence: str, holds: bool | None) -> None:
    # keyed by the sentence: a cell run again replaces its rows, in their first place
    _rows[text] = {"section": _section or UNNAMED, "kind": kind, "claim": text,
                   "evidence": evidence, "holds": "" if holds is None else str(holds)}
    _write()


def _write() -> None:
    path = _folder() / f"{_section or UNNAMED}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pd.DataFrame(list(_rows.values()), columns=COLUMNS).to_csv(tmp, index=False)
