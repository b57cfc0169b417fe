"""Sentences that interpret a result, each checked against the result it interprets.

A number in the report comes from the run (:mod:`bnnet.report.prose`); a sentence that
*reads* a number ("BN matters more for the deep net", "validation accuracy is still rising
at the end") is true only for some data. Such a sentence goes through :func:`claim` with the
test that makes it true, computed in the notebook from the same tables::

    text = claim("BN helps the deep net more than the shallow one.",
                 holds=deep["low"] > shallow["high"],
                 evidence=f"9-layer gain {deep['diff']:+.4f}, 3-layer interval ends at "
                          f"{shallow['high']:+.4f}")

What happens to a claim the data contradict depends on :data:`MODE_ENV`:

- ``strict`` (a full ``make report``): :class:`ClaimError` stops the notebook, naming the
  sentence and the evidence, so no PDF says what its data do not;
- ``mark`` (a quick build, and the default when a notebook runs by hand): the sentence stays
  in the text, struck through behind a bold note with the evidence, so the page shows it.

Every claim checked is written, with its evidence and whether it held, to
``<results>/claims.csv`` (one row per claim, in the order the notebooks make them; a
notebook's rows are replaced when it runs again), which the report's build commits.
"""

from __future__ import annotations

import os

import pandas as pd

from bnnet.files import atomic_path
from bnnet.report.display import output_dirs

#: ``strict`` or ``mark`` (see the module's docstring).
MODE_ENV = "BNNET_CLAIMS"
STRICT, MARK = "strict", "mark"
CLAIMS_CSV = "claims.csv"
COLUMNS = ["section", "claim", "evidence", "holds"]

_section = ""


class ClaimError(AssertionError):
    """A sentence of the report that this run's data contradict."""


def mode() -> str:
    """What a contradicted claim does here: :data:`STRICT` or :data:`MARK`."""
    value = os.environ.get(MODE_ENV, MARK)
    if value not in (STRICT, MARK):
        raise ValueError(f"{MODE_ENV}={value!r}: use {STRICT!r} (a false claim stops the "
                         f"build) or {MARK!r} (it is marked in the text)")
    return value


def start(section: str) -> None:
    """Begin the claims of notebook ``section``: its earlier rows are dropped."""
    global _section
    _section = section
    table = read()
    _write(table[table["section"] != section])


def claim(sentence: str, holds: bool, evidence: str) -> str:
    """``sentence`` if ``holds`` (recorded with ``evidence``); else, by :func:`mode`, a
    :class:`ClaimError` or the sentence marked as contradicted."""
    holds = bool(holds)
    row = pd.DataFrame([{"section": _section, "claim": sentence, "evidence": evidence,
                         "holds": holds}])
    _write(pd.concat([read(), row], ignore_index=True))
    if holds:
        return sentence
    if mode() == STRICT:
        raise ClaimError(f"{_section or 'this notebook'}: the sentence {sentence!r} is "
                         f"contradicted by this run's data ({evidence}). Rewrite it, or "
                         "change the test it is bound to if the test is wrong.")
    return f"**[Not what this run shows: {evidence}.]** ~~{sentence.strip()}~~"


def read() -> pd.DataFrame:
    """The claims recorded so far in this build's results folder."""
    path = output_dirs()[1] / CLAIMS_CSV
    if not path.is_file():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(path, keep_default_na=False).astype({"holds": bool})


def _write(table: pd.DataFrame) -> None:
    path = output_dirs()[1] / CLAIMS_CSV
    with atomic_path(path) as tmp:
        table[COLUMNS].to_csv(tmp, index=False)
