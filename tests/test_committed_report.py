"""The committed full report (report/report.pdf and report/results/) reads right: its
text agrees with its tables, the contents fit their page, the title page says what the
data was without a local path."""

import re

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
