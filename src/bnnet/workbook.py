"""Notebook helpers: where outputs go, tables and figures that render in JupyterLab and
in the LaTeX/PDF report alike.

A table or figure is displayed as one output with two representations: HTML/PNG for
JupyterLab, and a LaTeX ``table``/``figure`` environment with a caption for nbconvert's
PDF export (which prefers ``text/latex``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from bnnet.data import PROJECT_ROOT


def output_dirs() -> tuple[Path, Path]:
    """Where figures (PNG) and tables (CSV) go, created if missing: ``figures/`` and
    ``report/results/`` of the project, or ``BNNET_FIGURES_DIR`` and ``BNNET_RESULTS_DIR``
    (the quick report sets them so that it never overwrites the study's outputs)."""
    figures = Path(os.environ.get("BNNET_FIGURES_DIR") or PROJECT_ROOT / "figures")
    results = Path(os.environ.get("BNNET_RESULTS_DIR") or PROJECT_ROOT / "report" / "results")
    figures.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return figures, results


def setup(quick: bool = False) -> None:
    """Plot style and quiet output for a notebook run."""
    import matplotlib

    matplotlib.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (7.5, 3.2),
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "font.size": 9, "legend.fontsize": 8,
    })
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    pd.set_option("display.precision", 4)
    if quick:
        from IPython.display import Markdown, display

        display(Markdown("> **Quick run**: small data and short schedules to test the "
                         "pipeline. These are not the study's results."))


def _latex_escape(text: str) -> str:
    for a, b in [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                 ("^", r"\^{}")]:
        text = text.replace(a, b)
    return text


_UNICODE_LATEX = {"±": r"$\pm$", "σ": r"$\sigma$", "λ": r"$\lambda$", "≈": r"$\approx$",
                  "−": "-", "–": "--", "×": r"$\times$", "≤": r"$\leq$", "≥": r"$\geq$",
                  "η": r"$\eta$", "α": r"$\alpha$", "·": r"$\cdot$"}


def _unicode_to_latex(text: str) -> str:
    for a, b in _UNICODE_LATEX.items():
        text = text.replace(a, b)
    return text


class _Bundle:
    def __init__(self, data: dict[str, str | bytes]):
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.data


def show_table(
    df: pd.DataFrame,
    name: str,
    caption: str,
    *,
    formats: dict[str, str] | None = None,
    percent: list[str] | tuple[str, ...] = (),
    index: bool = False,
) -> _Bundle:
    """Save ``df`` to ``report/results/<name>.csv`` and return a displayable table.

    Args:
        df: the table (saved as is, unformatted).
        name: file name without extension.
        caption: the caption in the PDF (and above the table in JupyterLab).
        formats: column -> format string, e.g. ``{"lam": "{:.2e}"}``.
        percent: columns holding fractions, shown as percentages with 2 decimals.
        index: show the index.
    """
    _, results = output_dirs()
    df.to_csv(results / f"{name}.csv", index=index)
    shown = df.copy()
    for col in percent:
        shown[col] = 100 * shown[col]
    fmt = {c: "{:.2f}" for c in percent}
    fmt.update(formats or {})
    for col in shown.columns:
        if col not in fmt and pd.api.types.is_float_dtype(shown[col]):
            fmt[col] = "{:.4g}"
    styler = shown.style.format(fmt, na_rep="--", escape="latex")
    styler = styler.format_index(escape="latex", axis=1)
    if not index:
        styler = styler.hide(axis="index")
    latex = styler.to_latex(
        caption=_latex_escape(caption), hrules=True, position="H",
        position_float="centering", label=f"tab:{name}",
    )
    html_styler = shown.style.format(fmt, na_rep="--").set_caption(caption)
    if not index:
        html_styler = html_styler.hide(axis="index")
    return _Bundle({"text/html": html_styler.to_html(), "text/latex": _unicode_to_latex(latex),
                    "text/plain": df.to_string(index=index)})


def show_figure(fig, name: str, caption: str) -> _Bundle:
    """Save ``fig`` to ``figures/<name>.png`` and return it with a LaTeX caption."""
    import base64

    import matplotlib.pyplot as plt

    figures, _ = output_dirs()
    path = figures / f"{name}.png"
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    png = path.read_bytes()
    latex = ("\\begin{figure}[H]\n\\centering\n"
             f"\\includegraphics[width=0.95\\linewidth]{{{path.as_posix()}}}\n"
             f"\\caption{{{_latex_escape(caption)}}}\n\\end{{figure}}\n")
    return _Bundle({"image/png": base64.b64encode(png).decode(),
                    "text/latex": _unicode_to_latex(latex),
                    "text/plain": f"<figure {name}: {caption}>"})
