"""Small executed notebooks as ``make report`` leaves them, with outputs made by the
report's own display functions (``show_table``, ``show_figure``, prose), for the tests of
the study's pages (``bnnet.report.pages``) and of the documentation that renders them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from bnnet.report.display import (
    FIGURES_ENV,
    RESULTS_ENV,
    markdown,
    show_figure,
    show_table,
)

#: What the section's prose and caption say (a test looks for them on the page).
PROSE = "BN raises test accuracy by $3.5$ points (real)."
CAPTION = "Training (dashed) and validation (solid) cost of the 9-layer net, mean ± std."
CONTRADICTED = "BN helps every net by ten points."
ABSTRACT = "**Abstract.** This report studies batch normalization in k-layer networks."


def _output(bundle) -> dict:
    return {"output_type": "display_data", "metadata": {}, "data": dict(bundle.data)}


def _code(id_: str, outputs: list[dict], source: str = "display(...)",
          tags: list[str] | None = None) -> dict:
    return {"cell_type": "code", "id": id_, "execution_count": 1, "source": source,
            "metadata": {"tags": tags or [], "papermill": {"duration": 0.5},
                         "execution": {"iopub.status.busy": "2025-01-01"}},
            "outputs": outputs}


def _markdown(id_: str, source: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "markdown", "id": id_, "source": source,
            "metadata": {"tags": tags or []}}


def _notebook(cells: list[dict], name: str) -> dict:
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                        "display_name": "Python 3"},
                         "language_info": {"name": "python"},
                         "papermill": {"input_path": f"/home/someone/bnnet/notebooks/{name}",
                                       "output_path": f"/home/someone/bnnet/report/executed/"
                                                      f"{name}", "parameters": {"quick": False},
                                       "duration": 12.5}}}


def figure(name: str, figures: Path, results: Path) -> dict:
    """A figure output as ``show_figure`` makes it, its PNG saved to ``figures``."""
    previous = {k: os.environ.get(k) for k in (FIGURES_ENV, RESULTS_ENV)}
    os.environ[FIGURES_ENV], os.environ[RESULTS_ENV] = str(figures), str(results)
    try:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([0, 1, 2], [2.3, 1.6, 1.4], label="BN")
        ax.set_xlabel("update step")
        ax.set_ylabel("cost")
        ax.legend()
        return _output(show_figure(fig, name, CAPTION))
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def table(results: Path) -> dict:
    """A table output as ``show_table`` makes it."""
    previous = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = str(results)
    try:
        df = pd.DataFrame({"net": ["3-layer", "9-layer"], "diff": [0.53, 3.90]})
        return _output(show_table(df, "02_bn_ci", "BN minus no BN (points)."))
    finally:
        if previous is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = previous


def write_executed(folder: Path, figures: Path, results: Path) -> list[Path]:
    """``02_three_vs_nine_layers`` and ``07_conclusion`` as a build executes them, their
    figure saved to ``figures``, plus what a build leaves beside them (a log, a notebook
    still running)."""
    folder.mkdir(parents=True, exist_ok=True)
    section = _notebook([
        _markdown("a", "> **Running it.** Only for someone who opens the notebook.",
                  ["lab-only"]),
        _markdown("b", "# Three and nine layers\n\nWith $\\lambda = 0.005$ and BN."),
        _code("c", [], "seeds = [0, 1]", ["parameters"]),
        _code("d", [_output(markdown(PROSE)), table(results),
                    figure("02_curves_9layer", figures, results),
                    {"output_type": "stream", "name": "stderr",
                     "text": "3 vs 9 layers: 100%|###| 4/4\n"}]),
        _code("e", [_output(markdown(f"**[Not what this run shows: 3.9 points.]** "
                                     f"~~{CONTRADICTED}~~"))]),
    ], "02_three_vs_nine_layers.ipynb")
    conclusion = _notebook([
        _markdown("a", "# Conclusion\n\nThe answers."),
        _code("b", [_output(markdown("**1. Are the gradients right?** Yes."))]),
        _code("c", [_output(markdown(ABSTRACT))], tags=["abstract"]),
    ], "07_conclusion.ipynb")
    paths = [folder / "02_three_vs_nine_layers.ipynb", folder / "07_conclusion.ipynb"]
    for path, nb in zip(paths, (section, conclusion), strict=True):
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    (folder / "report.log").write_text("LaTeX")
    (folder / ".04_init_sensitivity.running.ipynb").write_text(json.dumps(section))
    return paths
