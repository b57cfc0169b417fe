"""The quick report pipeline end to end on the real data (skipped without BNNET_DATA_DIR)."""

import json
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from bnnet.report.notebook import NOTEBOOKS
from tests.report_checks import (
    ROOT,
    SECTIONS,
    check_bn_prose_matches_table,
    check_contents_page,
    check_title_page,
    notebook_prose,
    overfull_boxes,
)

# every character LaTeX treats specially, and letters the text font has and lacks
AUTHOR = "Ada Lovelace & Bob Ö_{1}"
TITLE = "Assignment #3: 100% BN, λ ~ $5^2 \\ done"


@pytest.mark.slow
def test_quick_report_builds_a_pdf_with_every_section(real_data_dir, tmp_path):
    env = {**os.environ, "BNNET_CACHE_DIR": str(tmp_path / "cache")}
    pdf = tmp_path / "report.pdf"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_report.py"), "--quick", "--n-jobs", "1",
         "--output-root", str(tmp_path), "--author", AUTHOR, "--title", TITLE],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    reader = PdfReader(pdf)
    # title and author as document metadata (what pdfinfo shows)
    assert reader.metadata.title == f"{TITLE} (quick run)"
    assert reader.metadata.author == AUTHOR
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert len(pages) >= 5
    for page in pages:  # every page says it is a quick run
        assert "QUICK RUN" in page
    check_title_page(pages[0], real_data_dir)
    flat = " ".join(pages[0].split())
    for part in ("Ada Lovelace & Bob", "Ö_{1}", "Assignment #3: 100% BN,", "~ $5^2",
                 "\\ done"):
        assert part in flat, (part, flat[:300])
    assert "λ" in flat or "𝜆" in flat  # as math: pypdf may read the math italic letter
    check_contents_page(pages)
    # the text agrees with the tables of the same run
    # (read from the executed notebook: where a quick run's page breaks and floats fall
    # varies with its numbers; the committed report's test reads the PDF)
    check_bn_prose_matches_table(
        notebook_prose(tmp_path / "executed" / "02_three_vs_nine_layers.ipynb"),
        tmp_path / "results" / "02_bn_ci.csv", pdf_text=text)
    # nothing runs into the margin
    assert overfull_boxes(tmp_path / "executed" / "report.log") == []
    for title in SECTIONS.values():
        assert text.count(title) >= 2, title  # table of contents and the section itself
    for debris in ("Traceback", "Warning", "it/s", "HBox", "stderr"):
        assert debris not in text

    # at least one table and one figure per notebook of the study, in the PDF and on disk
    # (the introduction has a table only, the conclusion is prose read from the others)
    positions = [text.rindex(title) for title in SECTIONS.values()] + [len(text)]
    for i, key in enumerate(SECTIONS):
        section = text[positions[i]:positions[i + 1]]
        assert ("Table " in section) == (key != "07"), key
        assert ("Figure " in section) == (key not in ("00", "07")), key
        assert bool(list((tmp_path / "figures").glob(f"{key}_*.png"))) == (
            key not in ("00", "07")), key
        assert bool(list((tmp_path / "results").glob(f"{key}_*.csv"))) == (key != "07"), key
        assert (tmp_path / "executed" / next(
            f"{name}.ipynb" for name in NOTEBOOKS if name.startswith(f"{key}_"))).is_file()

    # the study's pages beside the PDF: every section, its figures by reference to the PNGs
    for name in NOTEBOOKS:
        page = (tmp_path / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "image/png" not in page and "data:image" not in page, name
    assert "../figures/" in (tmp_path / "notebooks" / "02_three_vs_nine_layers.ipynb").read_text()

    # nothing but tables, figures and prose: no printed output, no raw column names
    for executed in (tmp_path / "executed").glob("*.ipynb"):
        cells = [c for c in json.loads(executed.read_text())["cells"] if c["cell_type"] == "code"]
        outputs = [o for c in cells for o in c["outputs"]]
        assert not [o for o in outputs if o.get("name") == "stdout"], executed.name
        for o in outputs:
            latex = "".join(o.get("data", {}).get("text/latex", ""))
            if "\\toprule" in latex:
                header = latex.split("\\toprule", 1)[1].split("\\midrule", 1)[0]
                assert "\\_" not in header, (executed.name, header)

    # runs shared between notebooks are trained once: section 6 reads section 4's runs
    # and section 5 the course nets of section 2, all from the run cache
    ledger = [json.loads(line) for line in
              (tmp_path / "executed" / "runs.jsonl").read_text().splitlines()]
    shared = [r for r in ledger if r["desc"] == "sigma grid of section 4"]
    assert shared and all(r["cached"] for r in shared)
    trained = [r["key"] for r in ledger if not r["cached"]]
    assert len(trained) == len(set(trained))  # no run trained twice
