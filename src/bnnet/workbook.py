"""Notebook helpers: where outputs go, tables and figures that render in JupyterLab and
in the LaTeX/PDF report alike.

A table or figure is displayed as one output with two representations: HTML/PNG for
JupyterLab, and a LaTeX ``table``/``figure`` environment with a caption for nbconvert's
PDF export (which prefers ``text/latex``).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from bnnet.data import PROJECT_ROOT
from bnnet.files import atomic_path


def output_dirs() -> tuple[Path, Path]:
    """Where figures (PNG) and tables (CSV) go, created if missing: ``figures/`` and
    ``report/results/`` of the project, or ``BNNET_FIGURES_DIR`` and ``BNNET_RESULTS_DIR``
    (the quick report sets them so that it never overwrites the study's outputs)."""
    figures = Path(os.environ.get("BNNET_FIGURES_DIR") or PROJECT_ROOT / "figures")
    results = Path(os.environ.get("BNNET_RESULTS_DIR") or PROJECT_ROOT / "report" / "results")
    figures.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    return figures, results


class ParameterError(ValueError):
    """A notebook parameter has the wrong type or value."""


_KINDS: dict[str, tuple[str, str]] = {
    # kind: (what is expected, a papermill example)
    "bool": ("True or False", "True"),
    "positive int": ("a positive integer", "2"),
    "seed": ("a non-negative integer", "0"),
    "optional positive int": ("a positive integer or None", "3000"),
    "optional path": ("a folder path (a string) or None", "/data/cifar-10-batches-py"),
    "optional file": ("a file path (a string) or None", "report/results/bench.csv"),
    "positive number": ("a positive number", "0.005"),
    "int list": ("a non-empty list of non-negative integers", "'[0, 1, 2]'"),
    "number list": ("a non-empty list of numbers", "'[0.0, 0.1]'"),
    "range": ("a pair [low, high] of numbers with low < high", "'[-5, -1]'"),
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _matches(kind: str, v: Any) -> bool:
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "positive int":
        return _is_int(v) and v > 0
    if kind == "seed":
        return _is_int(v) and v >= 0
    if kind == "optional positive int":
        return v is None or (_is_int(v) and v > 0)
    if kind in ("optional path", "optional file"):
        return v is None or isinstance(v, (str, os.PathLike))
    if kind == "positive number":
        return _is_number(v) and v > 0
    if kind == "int list":
        return isinstance(v, (list, tuple)) and len(v) > 0 and all(
            _is_int(x) and x >= 0 for x in v)
    if kind == "number list":
        return isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_number(x) for x in v)
    if kind == "range":
        return (isinstance(v, (list, tuple)) and len(v) == 2
                and all(_is_number(x) for x in v) and v[0] < v[1])
    raise ValueError(f"unknown parameter kind {kind!r}")


def check_parameters(**params: tuple[Any, str]) -> None:
    """Check notebook parameters before any work: ``name=(value, kind)``.

    Raises:
        ParameterError: naming the parameter, its value, what was expected and how to pass
        it with papermill.
    """
    for name, (value, kind) in params.items():
        if not _matches(kind, value):
            expected, example = _KINDS[kind]
            raise ParameterError(
                f"parameter {name}={value!r} ({type(value).__name__}): expected {expected}; "
                f"with papermill: -p {name} {example}"
            )


def save_table(df: pd.DataFrame, name: str, *, index: bool = False) -> Path:
    """Write ``df`` to ``report/results/<name>.csv`` (atomically) and return the path."""
    _, results = output_dirs()
    path = results / f"{name}.csv"
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)
    return path


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
    save_table(df, name, index=index)
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
    # a row starting with "[" would be read as the optional argument of the \\ or \midrule
    # before it
    latex = re.sub(r"(?m)^(\s*)\[", r"\1{}[", latex)
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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight", format="png")
    plt.close(fig)
    png = path.read_bytes()
    latex = ("\\begin{figure}[H]\n\\centering\n"
             f"\\includegraphics[width=0.95\\linewidth]{{{path.as_posix()}}}\n"
             f"\\caption{{{_latex_escape(caption)}}}\n\\end{{figure}}\n")
    return _Bundle({"image/png": base64.b64encode(png).decode(),
                    "text/latex": _unicode_to_latex(latex),
                    "text/plain": f"<figure {name}: {caption}>"})


BENCH_COLUMNS = ("net", "task", "library", "seconds", "percent_of_limit", "peak_rss_mib",
                 "matmul_limit_gflops", "threads")


def load_benchmark(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, float, int]:
    """The CSV written by ``make bench`` as one row per (net, task), bnnet beside PyTorch.

    Args:
        path: the CSV; ``None`` = ``report/results/bench.csv`` of the project (the committed
            benchmark, so that a report can show it without PyTorch installed).

    Returns:
        the wide table, the matmul limit (GFLOP/s) and the number of threads.
    """
    path = Path(path) if path is not None else PROJECT_ROOT / "report" / "results" / "bench.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark at {path}: run `make bench` first (it needs "
                                "PyTorch, see requirements-bench.txt)")
    raw = pd.read_csv(path)
    missing = [c for c in BENCH_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}: it was not written by "
                         "scripts/bench.py; run `make bench` again")
    wide = raw.pivot_table(index=["net", "task"], columns="library", sort=False,
                           values=["seconds", "percent_of_limit", "peak_rss_mib"])
    table = pd.DataFrame({
        "bnnet (s)": wide[("seconds", "bnnet")],
        "PyTorch (s)": wide[("seconds", "pytorch")],
        "bnnet / PyTorch": wide[("seconds", "bnnet")] / wide[("seconds", "pytorch")],
        "bnnet % of limit": wide[("percent_of_limit", "bnnet")],
        "PyTorch % of limit": wide[("percent_of_limit", "pytorch")],
        "peak RSS (MiB)": wide["peak_rss_mib"].max(axis=1),
    }).reset_index()
    return table, float(raw["matmul_limit_gflops"].iloc[0]), int(raw["threads"].iloc[0])
