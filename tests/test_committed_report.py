"""The committed full report (report/report.pdf and report/results/) reads right: its
text agrees with its tables, the contents fit their page, the title page says what the
data was without a local path."""

import re

import pandas as pd
import pytest
from pypdf import PdfReader

from tests.report_checks import (
    ROOT,
    check_bn_prose_matches_table,
    check_contents_page,
    check_title_page,
)

PDF = ROOT / "report" / "report.pdf"


@pytest.fixture(scope="module")
def pages():
    if not PDF.is_file():
        pytest.skip("no committed report/report.pdf")
    return [page.extract_text() for page in PdfReader(PDF).pages]


def test_title_page_gives_provenance_not_a_local_path(pages):
    check_title_page(pages[0])
    assert "QUICK RUN" not in pages[0]
    data_line = pages[0][pages[0].index("Data"):pages[0].index("Notebooks")]
    assert not re.search(r"(^|\s)/\w+/", data_line), data_line


def test_contents_fit_their_page(pages):
    check_contents_page(pages)


def test_prose_agrees_with_the_tables_of_the_same_run(pages):
    check_bn_prose_matches_table("\n".join(pages), ROOT / "report" / "results" / "02_bn_ci.csv")


def test_every_verdict_rests_on_five_runs_per_arm():
    tables = sorted((ROOT / "report" / "results").glob("*_ci.csv"))
    assert len(tables) >= 5
    judged = 0
    for path in tables:
        table = pd.read_csv(path)
        for runs, verdict in zip(table["runs"], table["verdict"], strict=True):
            if verdict in ("real", "noise"):
                judged += 1
                assert min(int(n) for n in runs.split("/")) >= 5, (path.name, runs, verdict)
    assert judged >= 10


def test_the_search_prose_agrees_with_its_comparison_table(pages):
    text = " ".join("\n".join(pages).split())
    row = pd.read_csv(ROOT / "report" / "results" / "03_final_ci.csv").iloc[0]
    m = re.search(r"the chosen \S{1,3} (raises|lowers|changes) test accuracy by ([+\-−]?\d+\.\d+) "
                  r"points.*?interval \[([+\-−]?\d+\.\d+), ([+\-−]?\d+\.\d+)\]", text)
    assert m, "no chosen-versus-default sentence in section 3"
    verb, value, low, high = m.groups()
    number = lambda s: float(s.replace("−", "-"))  # noqa: E731
    said = number(value) * (-1 if verb == "lowers" else 1)
    assert said == pytest.approx(row["diff"], abs=0.006)
    assert (number(low), number(high)) == pytest.approx((row["low"], row["high"]), abs=0.006)
    assert (verb != "changes") == (row["verdict"] == "real")
