"""What a notebook shows: tables, figures and prose as one output each, with an HTML (or
Markdown) form for JupyterLab and a LaTeX form for the PDF (nbconvert's LaTeX export
prefers ``text/latex``). Tables are also saved as CSV and figures as PNG, where
:func:`output_dirs` says.
"""

from __future__ import annotations

import base64
import io
import os
import re
from html import escape as html_escape
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from bnnet.files import PROJECT_ROOT, atomic_path, work_root
from bnnet.report.figure_checks import (
    check_figure_shape,
    check_legend,
    check_lettering,
    png_size,
    printed_scale,
)
from bnnet.report.latex import escape, unicode_to_latex


class Output:
    """One displayable output: a MIME bundle (``data``), as IPython's ``display`` takes it."""

    def __init__(self, data: dict[str, str | bytes]):
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.data

    @property
    def text(self) -> str:
        return str(self.data.get("text/markdown", self.data.get("text/plain", "")))

    def __str__(self) -> str:
        return self.text


def markdown(text: str) -> Output:
    """A Markdown paragraph (rendered by JupyterLab, turned into LaTeX by nbconvert)."""
    return Output({"text/markdown": text, "text/plain": text})


#: Where a notebook's tables and figures go unless told otherwise: a scratch folder of the
#: project (gitignored), so that exploring never overwrites the committed study.
#: The committed study's folders, which only ``make report`` writes (it sets the variables).
STUDY_FIGURES = PROJECT_ROOT / "figures"
STUDY_RESULTS = PROJECT_ROOT / "report" / "results"
FIGURES_ENV, RESULTS_ENV = "BNNET_FIGURES_DIR", "BNNET_RESULTS_DIR"


def output_dirs() -> tuple[Path, Path]:
    """Where figures (PNG) and tables (CSV) go, created if missing: ``BNNET_FIGURES_DIR``
    and ``BNNET_RESULTS_DIR`` (relative paths are relative to the project), else
    ``scratch/figures`` and ``scratch/results`` of the project (of the current folder for a
    package installed with pip, :func:`bnnet.files.work_root`). ``make report`` sets the
    variables to ``figures/`` and ``report/results/`` (``report/quick/...`` for a quick
    run)."""
    scratch = work_root() / "scratch"
    figures = _folder(FIGURES_ENV, scratch / "figures")
    results = _folder(RESULTS_ENV, scratch / "results")
    figures.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return figures, results


#: Set by the report's build to the time it started (seconds since the epoch): tables
#: older than that are another build's.
BUILD_START_ENV = "BNNET_BUILD_START"


def this_build_table(name: str) -> pd.DataFrame | None:
    """Table ``name`` of the results folder if this build wrote it (another notebook's,
    run earlier in the same ``make report``), else ``None``: a notebook never reads another
    build's table, and one run by hand reads none, so its text never depends on what lies
    in the folder."""
    start = os.environ.get(BUILD_START_ENV)
    path = output_dirs()[1] / f"{name}.csv"
    if not start or not path.is_file() or path.stat().st_mtime < float(start):
        return None
    return pd.read_csv(path)


def _folder(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return work_root() / value if value else default  # an absolute value stays as it is


def save_table(df: pd.DataFrame, name: str, *, index: bool = False) -> Path:
    """Write ``df`` to ``<results>/<name>.csv`` (atomically) and return the path."""
    _, results = output_dirs()
    path = results / f"{name}.csv"
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)
    return path


#: A reader's label for each column name the notebooks' tables use (the CSVs keep the
#: names); units in brackets, symbols as the report writes them.
COLUMN_LABELS = {
    "max_rel_error": "max. relative error", "mean_rel_error": "mean relative error",
    "max_abs_error": "max. absolute error", "bn": "BN", "lam": "λ", "gamma": "γ",
    "beta": "β", "diff": "difference", "low": "95% low", "high": "95% high",
    "p_value": "p", "p_holm": "p (Holm)",
    "test_accuracy": "test accuracy (%)", "val_accuracy": "validation accuracy (%)",
    "train_accuracy": "training accuracy (%)", "seconds per run": "seconds per run",
    "seconds": "seconds per run", "minutes": "minutes", "log10_lam": "log₁₀ λ",
    "interval (log10)": "95% interval (log₁₀ λ)", "lam interval": "95% interval (λ)",
    "fitted val_accuracy": "fitted validation accuracy (%)", "sigma": "σ",
    "alpha": "α", "statistics": "BN statistics", "eps": "ε",
}


def show_table(
    df: pd.DataFrame,
    name: str,
    caption: str,
    *,
    formats: dict[str, str] | None = None,
    percent: list[str] | tuple[str, ...] = (),
    index: bool = False,
    labels: dict[str, str] | None = None,
) -> Output:
    """Save ``df`` to ``<results>/<name>.csv`` and return it as a displayable table.

    Args:
        df: the table (saved as is, unformatted).
        name: file name without extension.
        caption: the caption in the PDF (and above the table in JupyterLab).
        formats: column -> format string, e.g. ``{"lam": "{:.2e}"}``.
        percent: columns holding fractions, shown as percentages with 2 decimals.
        index: show the index.
        labels: column -> the header a reader sees (default :data:`COLUMN_LABELS`, else
            the name); the CSV keeps the names.
    """
    save_table(df, name, index=index)
    shown = df.copy()
    for col in percent:
        shown[col] = 100 * shown[col]
    fmt = {c: "{:.2f}" for c in percent}
    fmt.update(formats or {})
    for col in shown.columns:
        if col not in fmt and pd.api.types.is_float_dtype(shown[col]):
            fmt[col] = "{:.4g}"
    header = {**COLUMN_LABELS, **(labels or {})}
    shown = shown.rename(columns=lambda c: header.get(c, c))
    # the typographic minus of the prose, in the tables too
    fmt = {header.get(c, c): (lambda v, f=f: f.format(v).replace("-", "−"))
           for c, f in fmt.items()}
    styler = shown.style.format(fmt, na_rep="--", escape="latex")
    styler = styler.format_index(escape="latex", axis=1)
    if not index:
        styler = styler.hide(axis="index")
    latex = styler.to_latex(
        caption=escape(caption), hrules=True, position="htbp",
        position_float="centering", label=f"tab:{name}",
    )
    # a row starting with "[" would be read as the optional argument of the \\ or \midrule
    # before it
    latex = re.sub(r"(?m)^(\s*)\[", r"\1{}[", latex)
    # never wider than the text: shrink a wide tabular to the line width (adjustbox is
    # loaded by nbconvert's LaTeX template)
    latex = latex.replace("\\begin{tabular}", "\\begin{adjustbox}{max width=\\linewidth}\n"
                          "\\begin{tabular}").replace("\\end{tabular}",
                                                        "\\end{tabular}\n\\end{adjustbox}")
    # every table in one size, a step below the caption's, with narrower column gaps: the
    # comparison tables then fit the line without being shrunk, so no table's text is
    # smaller or larger than another's
    latex = latex.replace("\\centering\n",
                          "\\centering\n\\footnotesize\\setlength{\\tabcolsep}{4pt}\n", 1)
    html_styler = shown.style.format(fmt, na_rep="--").set_caption(caption)
    if not index:
        html_styler = html_styler.hide(axis="index")
    return Output({"text/html": html_styler.to_html(), "text/latex": unicode_to_latex(latex),
                   "text/plain": df.to_string(index=index)})


def show_figure(fig: plt.Figure, name: str, caption: str) -> Output:
    """Save ``fig`` to ``<figures>/<name>.png`` and return it with its caption.

    Raises:
        FigureError: the figure has more legend entries than a reader can scan or an
            aspect ratio no page can hold (:mod:`bnnet.report.figure_checks`); nothing is
            saved.
    """
    try:
        check_legend(fig, name)
        buffer = io.BytesIO()
        fig.savefig(buffer, bbox_inches="tight", format="png")
        png = buffer.getvalue()
        check_figure_shape(*png_size(png), name)
        dpi = plt.rcParams["savefig.dpi"]
        dpi = fig.dpi if dpi == "figure" else dpi
        check_lettering(fig, printed_scale(*png_size(png), dpi), name)
    finally:
        plt.close(fig)
    figures, _ = output_dirs()
    path = figures / f"{name}.png"
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    # a float ([htbp]) kept inside its subsection by the template's \FloatBarrier: a
    # figure that does not fit where it stands moves to the next page's top and the text
    # after it fills the page, instead of a third of a page left blank
    latex = ("\\begin{figure}[htbp]\n\\centering\n"
             "\\includegraphics[width=0.95\\linewidth,height=0.75\\textheight,"
             f"keepaspectratio]{{{path.as_posix()}}}\n"
             f"\\caption{{{escape(caption)}}}\n\\end{{figure}}\n")
    encoded = base64.b64encode(png).decode()
    # JupyterLab prefers text/html to text/latex (which it would show as raw LaTeX) and
    # nbconvert's LaTeX export prefers text/latex: each gets the figure with its caption
    html = (f'<figure style="margin:0"><img src="data:image/png;base64,{encoded}" '
            f'style="max-width:100%" alt="{html_escape(name)}"/><figcaption>'
            f"{html_escape(caption)}</figcaption></figure>")
    return Output({"text/html": html, "image/png": encoded,
                   "text/latex": unicode_to_latex(latex),
                   "text/plain": f"<figure {name}: {caption}>"})
