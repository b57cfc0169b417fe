"""The quick report pipeline end to end on the real data (skipped without BNNET_DATA_DIR)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {
    "01": "Gradient check",
    "02": "Three versus nine layers, with and without batch normalization",
    "03": "Coarse-to-fine search for the regularisation strength",
    "04": "Sensitivity to the initial weight scale",
    "05": "BN variants, optimisers, capacity and the best network",
    "06": "Diagnostics: why the signal dies without BN",
    "07": "Appendix: performance",
}


@pytest.mark.slow
def test_quick_report_builds_a_pdf_with_every_section(real_data_dir, tmp_path):
    env = {**os.environ, "BNNET_CACHE_DIR": str(tmp_path / "cache")}
    pdf = tmp_path / "report.pdf"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_report.py"), "--quick", "--n-jobs", "1",
         "--output-root", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    text = "\n".join(pages)
    assert len(pages) >= 5
    for page in pages:  # every page says it is a quick run
        assert "QUICK RUN" in page
    assert "Contents" in pages[0] and "Git commit" in pages[0]
    for title in SECTIONS.values():
        assert text.count(title) >= 2, title  # table of contents and the section itself
    for debris in ("Traceback", "Warning", "it/s", "HBox", "stderr"):
        assert debris not in text

    # at least one table and one figure per notebook, in the PDF and on disk
    positions = [text.rindex(title) for title in SECTIONS.values()] + [len(text)]
    for i, key in enumerate(SECTIONS):
        section = text[positions[i]:positions[i + 1]]
        assert "Table " in section and "Figure " in section, key
        assert list((tmp_path / "figures").glob(f"{key}_*.png")), key
        assert list((tmp_path / "results").glob(f"{key}_*.csv")), key
        assert (tmp_path / "executed" / next(
            p.name for p in (ROOT / "notebooks").glob(f"{key}_*.ipynb"))).is_file()
