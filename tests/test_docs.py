"""The documentation site cannot go stale: it builds with warnings as errors, offline, with
the study's executed notebooks as pages or a note without them; the Python examples of its
guides run; every signature in its API table is the code's."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet  # noqa: F401
from tests.examples import run_example
from tests.report_checks import ROOT

DOCS = ROOT / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))
#: what a build generates inside the source folder (gitignored), never copied
GENERATED = ("_build", "study", "generated")


def source_copy(tmp_path: Path) -> Path:
    """The documentation's sources in a folder of their own, so that builds of the tests
    and ``make docs`` never write into each other's generated files."""
    target = tmp_path / "docs"
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns(*GENERATED))
    # the project's figures, beside the docs as in a clone: the guides show them by path
    shutil.copytree(DOCS.parent / "figures", tmp_path / "figures")
    return target


def executed_notebook(path: Path) -> None:
    """A small notebook as ``make report`` leaves one: a parameters cell, a lab-only note,
    Markdown with math, a hidden code cell whose outputs are prose, a table and a figure."""
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAA"
           "AABJRU5ErkJggg==")
    cells = [
        {"cell_type": "markdown", "metadata": {"tags": ["lab-only"]}, "id": "a",
         "source": "> **Running it.** Only for someone who opens the notebook."},
        {"cell_type": "markdown", "metadata": {}, "id": "b",
         "source": "# Three and nine layers\n\nWith $\\lambda = 0.005$ and BN."},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "id": "c",
         "execution_count": 1, "outputs": [], "source": "seeds = [0, 1]"},
        {"cell_type": "code", "metadata": {}, "id": "d", "execution_count": 2,
         "source": "display(prose(...))",
         "outputs": [
             {"output_type": "display_data", "metadata": {},
              "data": {"text/markdown": "BN raises test accuracy by $3.5$ points (real).",
                       "text/plain": "<prose>"}},
             {"output_type": "display_data", "metadata": {},
              "data": {"text/html": "<table><tr><th>net</th></tr><tr><td>9-layer</td></tr>"
                                    "</table>", "text/plain": "table"}},
             {"output_type": "display_data", "metadata": {},
              "data": {"image/png": png, "text/plain": "<Figure>"}},
             {"output_type": "stream", "name": "stderr", "text": "3 vs 9 layers: 100%|###|"},
         ]},
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "bnnet", "language": "python",
                                                      "display_name": "Python (bnnet)"},
                                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.mark.slow
def test_the_docs_build_offline_with_warnings_as_errors(tmp_path):
    """``make docs``'s command on a copy of the sources, the study's pages from a folder of
    executed notebooks (one section, and files that are not sections)."""
    source, out = source_copy(tmp_path), tmp_path / "html"
    executed = tmp_path / "executed"
    executed.mkdir()
    executed_notebook(executed / "02_three_vs_nine_layers.ipynb")
    (executed / "report.log").write_text("LaTeX")
    executed_notebook(executed / ".04_init_sensitivity.running.ipynb")  # a build under way
    # a stub an earlier build generated for a module that has since moved (as
    # bnnet.report.explore did): written anew, not left to fail the build
    (source / "api" / "generated").mkdir(parents=True)
    (source / "api" / "generated" / "bnnet.report.explore.rst").write_text(
        "bnnet.report.explore\n====================\n\n.. automodule:: bnnet.report.explore\n")
    env = {**os.environ, "BNNET_DOCS_NOTEBOOKS": str(executed)}
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", str(source), str(out)], env=env, capture_output=True,
                           text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert build.stderr == "", build.stderr[-3000:]  # no warning at all
    for guide in GUIDES:
        assert (out / "guides" / f"{guide.stem}.html").is_file(), guide.name
    for page in ("index", "history", "api/index", "study/index"):
        assert (out / f"{page}.html").is_file(), page
    # the API reference comes from the docstrings
    train = (out / "api" / "generated" / "bnnet.core.train.html").read_text()
    assert "blas_threads" in train and "TrainingDivergedError" in train
    assert (out / "api" / "generated" / "bnnet.study.verify.html").is_file()
    # the study: the section's page with its prose, table and figure, without the cells
    # the PDF leaves out; nothing of the other files
    page = (out / "study" / "02_three_vs_nine_layers.html").read_text()
    assert "BN raises test accuracy by" in page and "9-layer" in page and "<img" in page
    assert "Running it" not in page and "seeds = [0, 1]" not in page
    assert "100%|" not in page  # stderr (progress bars) stays out, as in the PDF
    assert "02_three_vs_nine_layers.html" in (out / "study" / "index.html").read_text()
    assert not (out / "study" / ".04_init_sensitivity.running.html").exists()
    # the explorer's screenshot, from the project's figures/
    assert "_images/explorer.png" in (out / "guides" / "explorer.html").read_text()
    assert (out / "_images" / "explorer.png").is_file()
    # offline: nothing is fetched at build time, and no page loads anything from elsewhere;
    # MathJax comes with the pages (the formulas of the prose render without a network)
    for html in out.rglob("*.html"):
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"',
                            html.read_text())
        assert remote == [], (html, remote)
    assert "_static/mathjax/tex-chtml.js" in page
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()


def study_pages():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("study_pages")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def test_without_executed_notebooks_the_study_page_says_how_to_make_them(tmp_path,
                                                                         monkeypatch):
    pages = study_pages()
    monkeypatch.setenv(pages.NOTEBOOKS_ENV, str(tmp_path / "nowhere"))
    app = SimpleNamespace(srcdir=str(tmp_path / "src"))
    (tmp_path / "src").mkdir()
    pages.study_pages(app)
    index = (tmp_path / "src" / "study" / "index.md").read_text()
    assert "found none in" in index and "make report" in index and "toctree" not in index
    # with notebooks, then without them again: no page outlives its notebook
    executed = tmp_path / "executed"
    executed.mkdir()
    executed_notebook(executed / "03_lambda_search.ipynb")
    monkeypatch.setenv(pages.NOTEBOOKS_ENV, str(executed))
    pages.study_pages(app)
    assert "03_lambda_search" in (tmp_path / "src" / "study" / "index.md").read_text()
    copied = json.loads((tmp_path / "src" / "study" / "03_lambda_search.ipynb").read_text())
    assert copied["cells"][0]["metadata"]["tags"] == ["lab-only", "remove-cell"]
    (executed / "03_lambda_search.ipynb").unlink()
    pages.study_pages(app)
    assert not (tmp_path / "src" / "study" / "03_lambda_search.ipynb").exists()


def test_every_page_is_in_the_site_and_every_guide_linked_from_its_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for guide in GUIDES:
        assert f"guides/{guide.stem}\n" in index, guide.name  # in a toctree
        assert f"(guides/{guide.name})" in index, guide.name  # and linked in words


EXAMPLES = list(find_examples(*map(str, GUIDES)))


def test_the_guides_have_python_examples():
    assert {e.path.name for e in EXAMPLES} >= {"python.md", "writing.md", "explorer.md"}


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_guides_python_examples_run(example: CodeExample, eval_example: EvalExample,
                                        tmp_path, monkeypatch):
    run_example(example, eval_example, tmp_path, monkeypatch)


PYTHON_GUIDE = DOCS / "guides" / "python.md"
#: a row of the API table: | `module.name(arguments)` ...
ROW = re.compile(r"^\| `([\w.]+)\((.*?)\)`", re.M)


def documented_signatures() -> list[tuple[str, str]]:
    return ROW.findall(PYTHON_GUIDE.read_text(encoding="utf-8"))


def resolve(name: str):
    dotted = name if name.startswith("bnnet.") else f"bnnet.{name}"
    module, attr = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def test_the_api_table_lists_the_main_entry_points():
    names = {name for name, _ in documented_signatures()}
    assert {"bnnet.load_cifar10", "bnnet.fit", "bnnet.Config", "study.runs.run_many",
            "study.stats.compare", "study.search.lambda_search",
            "bnnet.check_gradients"} <= names


@pytest.mark.parametrize(("name", "args"), documented_signatures(), ids=lambda v: str(v)[:40])
def test_every_documented_signature_is_the_codes(name, args):
    real = inspect.signature(resolve(name))
    if args == "...":  # "Config(...)": the fields are listed in words
        return
    from bnnet.study.jobs import DataSpec

    namespace: dict = {"np": np, "DataSpec": DataSpec}
    exec(f"def documented({args}): pass", namespace)
    doc = inspect.signature(namespace["documented"])
    assert list(doc.parameters) == list(real.parameters), name
    for p, q in zip(doc.parameters.values(), real.parameters.values(), strict=True):
        assert p.kind == q.kind, f"{name}: {p.name} is {q.kind.description} in the code"
        assert p.default == q.default, (f"{name}: {p.name} defaults to {q.default!r} in the "
                                        f"code, {p.default!r} in the guide")
