"""The executed notebooks into one notebook for the PDF: the cells worth printing and the
title page's facts (title, author, course, data, training time, kernels)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import nbformat

from bnnet.report.latex import escape, to_latex
from bnnet.report.notebook import NOTEBOOKS as notebook_specs
from bnnet.report.prose import count
from bnnet.report.refs import float_numbers, resolve

NOTEBOOKS = list(notebook_specs)  # in order
DROP_MIMETYPES = {"application/vnd.jupyter.widget-view+json"}

DEFAULT_TITLE = "Batch normalization in k-layer networks on CIFAR-10"
DEFAULT_AUTHOR = "bnnet workbook"
DEFAULT_COURSE = "DD2424 Deep Learning in Data Science, KTH"
DEFAULT_ASSIGNMENT = "Assignment 3: k-layer networks with batch normalization"

#: LaTeX's paper sizes by the build option's name.
PAPERS = {"a4": "a4paper", "letter": "letterpaper"}

#: Cells for someone who opens the notebook (how long it runs, how to try it quick), not
#: for the report.
LAB_ONLY = "lab-only"
#: The tag of the cell (in the conclusion) whose output opens the report.
ABSTRACT = "abstract"


def clean_cells(nb: nbformat.NotebookNode) -> list:
    """The cells worth printing: no parameter cells, no cell tagged :data:`LAB_ONLY`, no
    stderr, no widget debris."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & {"parameters", "injected-parameters", LAB_ONLY}:
            continue
        if cell.cell_type == "code":
            outputs = []
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    continue
                if output.output_type in ("display_data", "execute_result"):
                    data = output.get("data", {})
                    if DROP_MIMETYPES & set(data):
                        continue
                outputs.append(output)
            cell.outputs = outputs
            if not outputs:
                continue
        cells.append(cell)
    return cells


def combine(executed: list[Path], *, quick: bool, data_source: str, seconds: float,
            commit: str, training: dict | None = None, title: str = DEFAULT_TITLE,
            author: str = DEFAULT_AUTHOR, course: str = DEFAULT_COURSE,
            assignment: str = DEFAULT_ASSIGNMENT, paper: str = "a4",
            parameters: str = "") -> nbformat.NotebookNode:
    combined = nbformat.v4.new_notebook()
    for path in executed:
        combined.cells.extend(clean_cells(nbformat.read(path, as_version=4)))
    # the abstract is computed last (from every section's tables) and printed first
    first = [ABSTRACT in c.metadata.get("tags", []) for c in combined.cells]
    combined.cells = ([c for c, f in zip(combined.cells, first, strict=True) if f]
                      + [c for c, f in zip(combined.cells, first, strict=True) if not f])
    # "[table](#table-02_eta_sweep)" in the text becomes "Table 7", as LaTeX numbers it
    resolve(combined.cells, float_numbers(combined.cells))
    title = title + (" (quick run)" if quick else "")
    combined.metadata["title"] = title
    combined.metadata["authors"] = [{"name": author}]
    combined.metadata["date"] = dt.date.today().isoformat()
    training = training or {"runs": 0, "seconds": 0.0, "trained_now": 0}
    combined.metadata["bnnet"] = {
        # what the title page prints, as LaTeX (any character a user may type is safe),
        # and the PDF's metadata (special characters escaped, letters kept)
        "title_tex": to_latex(title), "author_tex": to_latex(author),
        "title_pdf": escape(title), "author_pdf": escape(author),
        "data_source_tex": to_latex(data_source),
        "course_tex": to_latex(course), "assignment_tex": to_latex(assignment),
        "paper": PAPERS[paper],
        "quick": quick, "commit": commit, "data_source": data_source,
        "build_time": f"{seconds / 60:.1f} min",
        "training_time": training_time(training),
        "training_path": training_path(training.get("kernels", {})),
        "blas_kernel": blas_kernel(training.get("blas", {})),
        "notebooks": ", ".join(NOTEBOOKS),
        "parameters_tex": to_latex(parameters),
    }
    return combined


def training_time(training: dict) -> str:
    """"88.4 min in 174 runs (all trained earlier and read back)" for the title page."""
    runs, now = training["runs"], training["trained_now"]
    origin = ("all trained earlier and read back" if now == 0
              else "all trained for this report" if now == runs
              else f"{now} trained for this report, {runs - now} earlier and read back")
    return f"{training['seconds'] / 60:.1f} min in {runs} runs ({origin})"


#: ``Config.kernels`` in words, for the title page.
TRAINING_PATHS = {
    "numba": "the fast path, compiled Numba kernels between the BLAS products",
    "numpy": "the NumPy reference",
}


def runs_per(counts: Mapping[Any, int], name: Callable[[Any], str]) -> str:
    """``"<name> (all 138 runs)"``, or ``"<a>: 2 runs; <b>: 1 run"``: how the runs of a
    title-page row divide between the values of one property (``name`` says a value)."""
    if not counts:
        return "no runs"
    if len(counts) == 1:
        (key, runs), = counts.items()
        return f"{name(key)} (all {runs} runs)"
    return "; ".join(f"{name(key)}: {count(runs, 'run')}"
                     for key, runs in sorted(counts.items()))


def training_path(kernels: dict[str, int]) -> str:
    """"the NumPy reference (all 3 runs)" for the title page, from the runs per path."""
    return runs_per(kernels, lambda path: TRAINING_PATHS.get(path, path))


def blas_kernel(kernels: dict[tuple[str, str], int]) -> str:
    """"OpenBLAS 0.3.31, Haswell kernel (all 138 runs)" for the title page."""
    return runs_per(kernels, lambda key: f"OpenBLAS {key[1]}, {key[0]} kernel" if key[0]
                    else "not recorded")
