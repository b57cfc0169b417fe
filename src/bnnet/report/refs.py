"""Tables and figures referred to by number, as LaTeX numbers them in the PDF.

A notebook's text names a float by the name it was shown under
(:func:`~bnnet.report.display.show_table` / :func:`~bnnet.report.display.show_figure`):
``ref("02_eta_sweep")`` is the Markdown link ``[table](#table-02_eta_sweep)``, which
JupyterLab shows as the word "table". When a build puts the notebooks together
(:func:`~bnnet.report.assemble.combine`, :func:`~bnnet.report.pages.write_pages`),
:func:`float_numbers` counts the floats in the order the PDF prints them and
:func:`resolve` turns each link into "Table 7"; a link to a float no notebook shows stops
the build (:class:`RefError`).

>>> ref("02_eta_sweep")
'[table](#table-02_eta_sweep)'
>>> cells = [{"cell_type": "code", "outputs": [{"data": {
...     "text/latex": "\\\\begin{table}\\\\caption{x}\\\\label{tab:a}\\\\end{table}"}}]},
...     {"cell_type": "markdown", "source": "As " + ref("a") + " shows."}]
>>> resolve(cells, float_numbers(cells))
>>> cells[1]["source"]
'As Table\\xa01 shows.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

#: The kinds of float, and the word the PDF numbers them with.
KINDS = {"table": "Table", "figure": "Figure"}

_REF = re.compile(r"\[(table|figure)\]\(#(table|figure)-([^)\s]+)\)")
_TABLE = re.compile(r"\\label\{tab:([^}]+)\}")
_FIGURE = re.compile(r"\\includegraphics(?:\[[^\]]*\])?\{(?:[^{}]*/)?([^/{}]+)\.png\}")
_PATTERNS = {"table": _TABLE, "figure": _FIGURE}
#: Where each kind's caption starts in the output's HTML (a pandas table, a figure).
_HTML_CAPTION = {"table": re.compile(r"<caption>"), "figure": re.compile(r"<figcaption>")}


class RefError(ValueError):
    """The text refers to a table or figure that no notebook of the report shows."""


def ref(name: str, kind: str = "table") -> str:
    """The reference to the float shown as ``name``, "Table 7" once the build numbers it."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: a reference is to one of {', '.join(KINDS)}")
    return f"[{kind}](#{kind}-{name})"


def notebook_text(value: Any) -> str:
    """A notebook's multi-line string (a string, a list of lines, or nothing) as one string."""
    return "".join(value) if isinstance(value, list) else (value or "")


def _floats(output: Mapping) -> list[tuple[str, str]]:
    """The floats an output shows, as (kind, name), from its LaTeX."""
    latex = notebook_text(output.get("data", {}).get("text/latex"))
    return [(kind, name) for kind, pattern in _PATTERNS.items()
            for name in pattern.findall(latex)]


def float_numbers(cells: Iterable[Mapping]) -> dict[tuple[str, str], int]:
    """The number of every table and figure the cells' outputs show, each kind counted in
    the order of the cells (LaTeX's order): ``{("table", "02_eta_sweep"): 7, ...}``."""
    numbers: dict[tuple[str, str], int] = {}
    counts = dict.fromkeys(KINDS, 0)
    for cell in cells:
        for output in cell.get("outputs", []):
            for key in _floats(output):
                if key not in numbers:
                    counts[key[0]] += 1
                    numbers[key] = counts[key[0]]
    return numbers


def _substitute(text: str, numbers: Mapping[tuple[str, str], int]) -> str:
    def number(match: re.Match) -> str:
        kind, anchor_kind, name = match.groups()
        if anchor_kind != kind or (kind, name) not in numbers:
            shown = sorted(n for k, n in numbers if k == kind)
            raise RefError(f"the text refers to the {kind} {name!r}, which no notebook of the "
                           f"report shows (its {kind}s: {', '.join(shown) or 'none'}); name "
                           f"one of them in ref(), or show the {kind}")
        return f"{KINDS[kind]}\u00a0{numbers[(kind, name)]}"
    return _REF.sub(number, text)


def resolve(cells: Iterable[MutableMapping], numbers: Mapping[tuple[str, str], int]) -> None:
    """Turn every reference in the cells (Markdown sources, Markdown and plain-text
    outputs) into its number, in place.

    Raises:
        RefError: a reference to a float that ``numbers`` does not hold.
    """
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            cell["source"] = _substitute(notebook_text(cell.get("source")), numbers)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in ("text/markdown", "text/plain"):
                if mime in data:
                    data[mime] = _substitute(notebook_text(data[mime]), numbers)


def number_captions(cells: Iterable[MutableMapping],
                    numbers: Mapping[tuple[str, str], int]) -> None:
    """Start the HTML caption of every numbered float with its number ("Table 7: "), in
    place, so that a page shows the number the text refers to, as the PDF does."""
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" not in data:
                continue
            html = notebook_text(data["text/html"])
            for kind, name in _floats(output):
                if (kind, name) in numbers:
                    html = _HTML_CAPTION[kind].sub(
                        lambda m, k=kind, n=numbers[(kind, name)]:
                        f"{m.group(0)}{KINDS[k]} {n}: ", html, count=1)
            data["text/html"] = html
