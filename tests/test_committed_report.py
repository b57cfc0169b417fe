"""The committed full report (report/report.pdf and report/results/) reads right: its
text agrees with its tables, the contents fit their page, the title page says what the
data was without a local path."""

import re

import pandas as pd
import pytest
from pypdf import PdfReader

from bnnet.study.stats import DELTA, TESTED
from tests.report_checks import (
    ROOT,
    check_bn_prose_matches_table,
    check_contents_page,
    check_title_page,
    running_text,
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
    check_bn_prose_matches_table(running_text(pages),
                                 ROOT / "report" / "results" / "02_bn_ci.csv")


def test_every_verdict_rests_on_five_runs_per_arm():
    tables = sorted((ROOT / "report" / "results").glob("*_ci.csv"))
    assert len(tables) >= 6
    judged = 0
    for path in tables:
        table = pd.read_csv(path)
        for runs, verdict in zip(table["runs"], table["verdict"], strict=True):
            if verdict in TESTED:
                judged += 1
                assert min(int(n) for n in runs.split("/")) >= 5, (path.name, runs, verdict)
    assert judged >= 20


def test_every_verdict_word_fits_its_interval():
    """A no-difference word only for an interval inside ±δ, real only when the interval
    (or the permutation test) excludes no effect, never a verdict on two arms at chance."""
    delta = 100 * DELTA  # the tables hold percentage points
    for path in sorted((ROOT / "report" / "results").glob("*_ci.csv")):
        for row in pd.read_csv(path).to_dict("records"):
            verdict, where = row["verdict"], (path.name, row)
            if verdict == "no difference > δ":
                assert -delta <= row["low"] and row["high"] <= delta, where
            elif verdict in ("real", "real, below δ"):
                assert row["p_holm"] < 0.05, where
                if row["test"] != "permutation":
                    assert row["low"] > 0 or row["high"] < 0, where
                    inside = -delta <= row["low"] and row["high"] <= delta
                    assert inside == (verdict == "real, below δ"), where
            elif verdict == "both at chance":
                assert row["test"] == "none" and pd.isna(row["p_value"]), where
            elif verdict == "inconclusive":  # neither of the two words above applies
                inside = -delta <= row["low"] and row["high"] <= delta
                assert not inside and not row["p_holm"] < 0.05, where
            else:
                # the one rule: too few seeds, or a test that cannot reach 0.05 (never a
                # t test on five or more seeds per arm)
                assert verdict == "too few runs", where
                runs = min(int(n) for n in row["runs"].split("/"))
                assert runs < 5 or row["test"] == "permutation", where


def test_the_report_has_an_introduction_and_a_conclusion_on_a4_without_seams(pages):
    reader = PdfReader(PDF)
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = "\n".join(pages)
    for title in ("Introduction", "Conclusion"):
        assert re.search(rf"^\s*\d+\s+{title}\s*$", text, re.M), title
    assert "`" not in text  # no code names in backquotes
    assert "(s)" not in text  # no "cycle(s)"


def test_the_search_prose_agrees_with_its_comparison_table(pages):
    text = " ".join(running_text(pages).split())
    row = pd.read_csv(ROOT / "report" / "results" / "03_final_ci.csv").iloc[0]
    m = re.search(r"the chosen \S{1,3} (raises|lowers|changes) test accuracy by ([+\-−]?\d+\.\d+) "
                  r"points.*?interval \[([+\-−]?\d+\.\d+), ([+\-−]?\d+\.\d+)\]", text)
    assert m, "no chosen-versus-default sentence in section 3"
    verb, value, low, high = m.groups()
    number = lambda s: float(s.replace("−", "-"))  # noqa: E731
    said = number(value) * (-1 if verb == "lowers" else 1)
    assert said == pytest.approx(row["diff"], abs=0.006)
    assert (number(low), number(high)) == pytest.approx((row["low"], row["high"]), abs=0.006)
    assert (verb != "changes") == (row["verdict"] in ("real", "real, below δ"))


def test_every_claim_of_the_report_was_checked_and_held():
    """The build binds each interpreting sentence to its data (bnnet.report.claims): the
    committed table lists them, every section that interprets results has some, all hold."""
    table = pd.read_csv(ROOT / "report" / "results" / "claims.csv", keep_default_na=False)
    assert list(table.columns) == ["section", "kind", "claim", "evidence", "holds"]
    assert set(table["kind"]) <= {"checked", "chosen", "reading"}
    checked = table[table["kind"] == "checked"]
    assert (checked["holds"].astype(str) == "True").all(), checked
    assert (table.loc[table["kind"] != "reading", "evidence"].str.len() > 0).all()
    assert table.loc[table["kind"] == "reading", "claim"].str.contains("not tested here").all()
    assert not table["claim"].duplicated().any()
    sections = set(table["section"])
    for section in ("01_gradcheck", "02_three_vs_nine_layers", "03_lambda_search",
                    "04_init_sensitivity", "05_bn_variants", "06_diagnostics", "07_conclusion"):
        assert section in sections, section


def test_the_text_refers_to_tables_and_figures_by_their_printed_numbers(pages):
    text = running_text(pages)
    assert "(#table-" not in text and "(#figure-" not in text  # every reference resolved
    for kind in ("Table", "Figure"):
        captions = [int(n) for n in re.findall(rf"^{kind} (\d+):", text, re.M)]
        assert captions == list(range(1, len(captions) + 1)), kind  # numbered in order
        cited = {int(n) for n in re.findall(rf"{kind}\s(\d+)(?![\d:])", text)}
        assert cited and cited <= set(captions), (kind, cited - set(captions))
    for page in (ROOT / "report" / "notebooks").glob("*.ipynb"):
        assert "(#table-" not in page.read_text() and "(#figure-" not in page.read_text()
