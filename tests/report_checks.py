"""Checks of a built report that several tests share: the PDF read as a reader would."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pandas as pd

from bnnet.report.pdf import overfull_hboxes

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {
    "00": "Introduction",
    "01": "Gradient check",
    "02": "Three and nine layers, with and without BN",
    "03": "Coarse-to-fine search for the regularisation strength",
    "04": "Sensitivity to the initial weight scale",
    "05": "BN variants, capacity and the best network",
    "06": "Diagnostics: signal and gradients inside the nets",
    "07": "Conclusion",
    "08": "Appendix: performance",
}
NUMBER = r"([+\-−]?\d+\.\d+)"


def build_report_module():
    """The report builder behind scripts/build_report.py (for its LaTeX-log checks)."""
    return importlib.import_module("bnnet.report.build")


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def check_contents_page(pages: list[str]) -> None:
    """The table of contents has a page of its own and no entry spills onto another."""
    toc = [i for i, page in enumerate(pages) if "Contents" in page.splitlines()[:3]
           or "\nContents\n" in page]
    assert toc, "no table of contents"
    page = pages[toc[0]]
    for title in SECTIONS.values():
        assert title in page, f"TOC entry {title!r} is not on the contents page"
    following = pages[toc[0] + 1]
    assert following.count(" . . . ") == 0, "the contents spill onto the next page"


def check_title_page(page: str, data_dir: Path | None = None) -> None:
    assert "Git commit" in page and "md5" in page
    assert "Training time" in page and "Wall time" in page
    if data_dir is not None:
        assert str(data_dir.resolve()) not in page.replace("\n", "")


def running_text(pages: list[str]) -> str:
    """The pages' text as one, without the page number that ends each page or a quick
    build's banner that heads it (a sentence that runs on to the next page reads on)."""
    return "\n".join(re.sub(r"\n\s*\d+\s*$", "", re.sub(r"^QUICK RUN[^\n]*\n", "", page))
                     for page in pages)


def notebook_prose(path: Path) -> str:
    """The prose an executed notebook computed (its Markdown outputs), as the PDF prints it
    before the page breaks and floats fall where they may."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return "\n".join("".join(output.get("data", {}).get("text/markdown", ""))
                     for cell in nb["cells"] for output in cell.get("outputs", []))


def check_bn_prose_matches_table(text: str, ci_csv: Path, pdf_text: str | None = None) -> None:
    """The BN gain written in section 2's prose equals the CI table of the same PDF and
    the CSV of the same run: value, interval and verdict (a float the page puts inside the
    sentence, before the interval's bracket, is read over). ``pdf_text``: the PDF's, for its
    table, where ``text`` is the prose alone."""
    ci = pd.read_csv(ci_csv).set_index("net")
    for net, words in (("3-layer", "three"), ("9-layer", "nine")):
        m = re.search(rf"With\s+{words}\s+layers\s+BN\s+(raises|lowers|changes)\s+test\s+"
                      rf"accuracy\s+by\s+"
                      rf"{NUMBER}\s+points(.*?)interval[^\[]*\[{NUMBER},\s+{NUMBER}\]([^)]*)",
                      text, re.S)
        assert m, f"no {net} sentence in section 2's prose"
        verb, value, middle, low, high, after = m.groups()
        said = number(value) * (-1 if verb == "lowers" else 1)
        row = ci.loc[net]  # the CSV holds percentage points, as the printed table
        assert said == number(f"{row['diff']:.2f}"), (net, said, row["diff"])
        assert (number(low), number(high)) == (number(f"{row['low']:.2f}"),
                                               number(f"{row['high']:.2f}"))
        real = row["verdict"] in ("real", "real, below δ")
        few = row["verdict"] == "too few runs"
        assert (verb != "changes") == real
        assert ("negligible" in " ".join((middle + after).split())) == (
            row["verdict"] == "real, below δ")
        words = " ".join((middle + after).split())
        assert ("inconclusive" in words) == (row["verdict"] == "inconclusive")
        assert ("no difference larger than" in words) == (row["verdict"] == "no difference > δ")
        assert ("too few runs per arm" in words) == few
        # the table printed in the PDF: ... p, p (Holm), test, verdict
        t = re.search(rf"\n{net} \d+/\d+ {NUMBER} {NUMBER} {NUMBER} \S+ (?:\S+ )?"
                      r"(?:Welch t|paired t|permutation|none) "
                      r"(real, below δ|real|inconclusive|no difference > δ|too few runs"
                      r"|both at chance)", text if pdf_text is None else pdf_text)
        assert t, f"no {net} row of the BN table in the PDF"
        assert number(t.group(1)) == said and t.group(4) == row["verdict"]


def overfull_boxes(log_path: Path) -> list[str]:
    return overfull_hboxes(log_path.read_text(encoding="utf-8"))
