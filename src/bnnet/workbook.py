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
from html import escape as html_escape
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
    "optional address": ("a Dask scheduler address (a string like tcp://host:8786) or None",
                         "tcp://10.0.0.5:8786"),
    "positive number": ("a positive number", "0.005"),
    "int list": ("a non-empty list of non-negative integers", "[0, 1, 2]"),
    "number list": ("a non-empty list of numbers", "[0.0, 0.1]"),
    "range": ("a pair [low, high] of numbers with low < high", "[-5, -1]"),
    "net list": ('a non-empty list of the net names "3-layer" and "9-layer"', '["9-layer"]'),
}
# papermill's -p reads "[0, 1]" as a string; lists go through YAML: -y "seeds: [0, 1]"
_LIST_KINDS = {"int list", "number list", "range", "net list"}


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
    if kind == "optional address":
        return v is None or (isinstance(v, str) and "://" in v)
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
    if kind == "net list":
        return isinstance(v, (list, tuple)) and len(v) > 0 and all(
            x in ("3-layer", "9-layer") for x in v)
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
            hint = (f'-y "{name}: {example}" (-p passes text)' if kind in _LIST_KINDS
                    else f"-p {name} {example}")
            raise ParameterError(
                f"parameter {name}={value!r} ({type(value).__name__}): expected {expected}; "
                f"with papermill: {hint}"
            )


def save_table(df: pd.DataFrame, name: str, *, index: bool = False) -> Path:
    """Write ``df`` to ``report/results/<name>.csv`` (atomically) and return the path."""
    _, results = output_dirs()
    path = results / f"{name}.csv"
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=index)
    return path


def setup(quick: bool = False, scheduler: str | None = None) -> None:
    """Plot style and quiet output for a notebook run; ``scheduler`` (a Dask scheduler
    address) sends this notebook's training runs to that cluster (see
    :func:`bnnet.experiments.run_many`)."""
    import matplotlib

    from bnnet.experiments import SCHEDULER_ENV

    if scheduler:
        os.environ[SCHEDULER_ENV] = scheduler

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
    # never wider than the text: shrink a wide tabular to the line width (adjustbox is
    # loaded by nbconvert's LaTeX template)
    latex = latex.replace("\\begin{tabular}", "\\begin{adjustbox}{max width=\\linewidth}\n"
                          "\\begin{tabular}").replace("\\end{tabular}",
                                                        "\\end{tabular}\n\\end{adjustbox}")
    html_styler = shown.style.format(fmt, na_rep="--").set_caption(caption)
    if not index:
        html_styler = html_styler.hide(axis="index")
    return _Bundle({"text/html": html_styler.to_html(), "text/latex": _unicode_to_latex(latex),
                    "text/plain": df.to_string(index=index)})


class FigureError(ValueError):
    """A figure that a printed page cannot hold or a reader cannot scan."""


#: At most this many legend entries in one figure: more belong in small multiples.
MAX_LEGEND_ENTRIES = 8
#: Height / width of a saved figure: above this, at the text width it would be taller than
#: the text block of the page (letter paper, 1-inch margins, room for the caption) ...
MAX_HEIGHT_TO_WIDTH = 1.2
#: ... and width / height: above this, at the text width its lettering becomes unreadable.
MAX_WIDTH_TO_HEIGHT = 4.0


def legend_entries(fig) -> int:
    """The number of legend entries over all axes and figure legends of ``fig``."""
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return sum(len(legend.get_texts()) for legend in legends if legend is not None)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG image (from its header)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def check_figure_shape(width: int, height: int, name: str) -> None:
    """Refuse an aspect ratio no page can hold (see :data:`MAX_HEIGHT_TO_WIDTH`)."""
    if height > MAX_HEIGHT_TO_WIDTH * width:
        raise FigureError(
            f"figure {name} is {width} x {height} px (height/width {height / width:.2f} > "
            f"{MAX_HEIGHT_TO_WIDTH}): at the text width it is taller than a page; use fewer "
            "rows of panels or a wider figsize")
    if width > MAX_WIDTH_TO_HEIGHT * height:
        raise FigureError(
            f"figure {name} is {width} x {height} px (width/height {width / height:.2f} > "
            f"{MAX_WIDTH_TO_HEIGHT}): at the text width its text is unreadably small; wrap "
            "the panels into more rows")


def show_figure(fig, name: str, caption: str) -> _Bundle:
    """Save ``fig`` to ``figures/<name>.png`` and return it with a LaTeX caption.

    Raises:
        FigureError: the figure has more than :data:`MAX_LEGEND_ENTRIES` legend entries or
            an aspect ratio no page can hold; nothing is saved.
    """
    import base64
    import io

    import matplotlib.pyplot as plt

    entries = legend_entries(fig)
    if entries > MAX_LEGEND_ENTRIES:
        plt.close(fig)
        raise FigureError(
            f"figure {name} has {entries} legend entries (at most {MAX_LEGEND_ENTRIES}): a "
            "reader cannot scan them; draw small multiples (one panel per group) and "
            "average over seeds")
    buffer = io.BytesIO()
    fig.savefig(buffer, bbox_inches="tight", format="png")
    plt.close(fig)
    png = buffer.getvalue()
    check_figure_shape(*png_size(png), name)
    figures, _ = output_dirs()
    path = figures / f"{name}.png"
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    latex = ("\\begin{figure}[H]\n\\centering\n"
             "\\includegraphics[width=0.95\\linewidth,height=0.75\\textheight,"
             f"keepaspectratio]{{{path.as_posix()}}}\n"
             f"\\caption{{{_latex_escape(caption)}}}\n\\end{{figure}}\n")
    encoded = base64.b64encode(png).decode()
    # JupyterLab prefers text/html to text/latex (which it would show as raw LaTeX) and
    # nbconvert's LaTeX export prefers text/latex: each gets the figure with its caption
    html = (f'<figure style="margin:0"><img src="data:image/png;base64,{encoded}" '
            f'style="max-width:100%" alt="{html_escape(name)}"/><figcaption>'
            f"{html_escape(caption)}</figcaption></figure>")
    return _Bundle({"text/html": html, "image/png": encoded,
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
