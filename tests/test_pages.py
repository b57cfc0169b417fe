"""The study's pages (``report/notebooks/``): the executed notebooks as committed, readable
copies, each figure a reference to the same PNG in ``figures/``, nothing of the machine."""

from __future__ import annotations

import base64
import json
import re

import pytest

from bnnet.report import pages
from bnnet.report.pages import FIGURE_KEY, PagesError, write_pages
from tests.study_notebooks import PROSE, write_executed


@pytest.fixture
def build(tmp_path):
    """A build's executed notebooks and figures, laid out as in the project."""
    executed, figures = tmp_path / "report" / "executed", tmp_path / "figures"
    write_executed(executed, figures, tmp_path / "report" / "results")
    return executed, figures, tmp_path / "report" / "notebooks"


def outputs(path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


def test_the_pages_refer_to_the_figures_instead_of_embedding_them(build):
    executed, figures, target = build
    written = write_pages(executed, figures, target)
    assert [p.name for p in written] == ["02_three_vs_nine_layers.ipynb", "07_conclusion.ipynb"]
    page = target / "02_three_vs_nine_layers.ipynb"
    text = page.read_text(encoding="utf-8")
    assert "image/png" not in text and "base64" not in text  # no image stored twice
    (figure,) = [o for o in outputs(page) if FIGURE_KEY in o["metadata"]]
    ref = figure["metadata"][FIGURE_KEY]
    assert ref["path"] == "../../figures/02_curves_9layer.png"
    assert (target / ref["path"]).resolve() == (figures / "02_curves_9layer.png").resolve()
    # the caption as the page shows it: with the number the PDF gives the figure
    assert re.match(r"Figure \d+: Training \(dashed\) and validation \(solid\) cost",
                    ref["caption"])
    assert 'src="../../figures/02_curves_9layer.png"' in figure["data"]["text/html"]
    assert "{../../figures/02_curves_9layer.png}" in figure["data"]["text/latex"]
    # the executed notebook embeds the same bytes
    embedded = [o for o in outputs(executed / page.name) if "image/png" in o.get("data", {})]
    assert base64.b64decode(embedded[0]["data"]["image/png"]) == \
        (figures / "02_curves_9layer.png").read_bytes()
    # prose, tables and the struck-through claim stay as executed; stderr goes, as in the PDF
    data = [o.get("data", {}) for o in outputs(page)]
    assert data[0]["text/markdown"] == PROSE
    assert "<table" in data[1]["text/html"] and "\\begin{table}" in data[1]["text/latex"]
    assert "~~" in data[3]["text/markdown"]
    assert not [o for o in outputs(page) if o["output_type"] == "stream"]
    # nothing of the machine that ran it: no paths, no timings per cell
    assert "/home/someone" not in text and '"execution"' not in text
    nb = json.loads(text)
    assert nb["metadata"]["papermill"]["input_path"] == "notebooks/02_three_vs_nine_layers.ipynb"
    assert all("papermill" not in c["metadata"] for c in nb["cells"])


def test_writing_again_changes_nothing_and_removes_pages_of_sections_gone(build):
    executed, figures, target = build
    write_pages(executed, figures, target)
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    write_pages(executed, figures, target)
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before
    (target / "notes.md").write_text("mine")  # not a page: left alone
    (executed / "07_conclusion.ipynb").unlink()
    write_pages(executed, figures, target)
    assert sorted(p.name for p in target.iterdir()) == ["02_three_vs_nine_layers.ipynb",
                                                        "notes.md"]


def test_figures_of_another_build_are_an_error_and_nothing_is_written(build):
    executed, figures, target = build
    png = figures / "02_curves_9layer.png"
    png.write_bytes(png.read_bytes() + b"\0")  # another build's figure
    with pytest.raises(PagesError, match=r"different builds\. Run make report again"):
        write_pages(executed, figures, target)
    assert not target.exists()


def test_a_failed_notebook_or_none_at_all_is_an_error(build, tmp_path):
    executed, figures, target = build
    with pytest.raises(PagesError, match="none of the report's executed notebooks"):
        write_pages(tmp_path / "nowhere", figures, target)
    path = executed / "07_conclusion.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][1]["outputs"].append({"output_type": "error", "ename": "ValueError",
                                      "evalue": "boom", "traceback": []})
    path.write_text(json.dumps(nb))
    with pytest.raises(PagesError, match="07_conclusion, cell 2: an error"):
        write_pages(executed, figures, target)


def test_make_study_pages_writes_them_or_says_why_not(build, capsys):
    executed, figures, target = build
    args = ["--executed", str(executed), "--figures", str(figures), "--out", str(target)]
    assert pages.main(args) == 0
    assert "2 pages of the study written to" in capsys.readouterr().out
    assert (target / "07_conclusion.ipynb").is_file()
    assert pages.main([*args[:1], str(executed / "nothing"), *args[2:]]) == 1
    assert capsys.readouterr().err.startswith("make study-pages: ")
