"""Claims: sentences bound to the data they interpret (bnnet.report.claims)."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from bnnet.report import claims
from bnnet.report.claims import ClaimError, claim
from bnnet.report.display import RESULTS_ENV


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "results"))
    monkeypatch.setenv("BNNET_FIGURES_DIR", str(tmp_path / "figures"))
    claims.start("02_three_vs_nine_layers")
    return tmp_path / "results"


def test_a_claim_that_holds_is_the_sentence_and_is_recorded(results):
    text = claim("BN helps the deep net more.", 0.035 > 0.006, "gain +0.035 vs +0.006")
    assert text == "BN helps the deep net more."
    table = claims.read()
    assert table.to_dict("records") == [{"section": "02_three_vs_nine_layers",
                                         "claim": "BN helps the deep net more.",
                                         "evidence": "gain +0.035 vs +0.006", "holds": True}]


def test_a_contradicted_claim_stops_a_strict_build_naming_sentence_and_evidence(
        results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    with pytest.raises(ClaimError, match=r"'The curve is still rising\.' is contradicted by "
                                         r"this run's data \(last gain -0\.002\)"):
        claim("The curve is still rising.", False, "last gain -0.002")
    assert not claims.read()["holds"].iloc[-1]  # recorded before it stopped


def test_a_contradicted_claim_is_marked_in_a_quick_build(results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.MARK)
    text = claim("The curve is still rising.", False, "last gain -0.002")
    assert text == ("**[Not what this run shows: last gain -0.002.]** "
                    "~~The curve is still rising.~~")
    monkeypatch.setenv(claims.MODE_ENV, "loud")
    with pytest.raises(ValueError, match="BNNET_CLAIMS='loud'"):
        claim("x", False, "y")


def test_a_notebook_that_runs_again_replaces_its_own_rows_only(results):
    claim("first", True, "a")
    claims.start("03_lambda_search")
    claim("second", True, "b")
    claims.start("02_three_vs_nine_layers")
    claim("third", True, "c")
    table = claims.read()
    assert table["claim"].tolist() == ["second", "third"]
    assert table["section"].tolist() == ["03_lambda_search", "02_three_vs_nine_layers"]


def run_notebook(tmp_path, mode: str, monkeypatch):
    """A one-cell notebook whose data contradict its sentence, run as the build runs one."""
    monkeypatch.setenv(claims.MODE_ENV, mode)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from IPython.display import display\n"
        "from bnnet.report import claims\n"
        "from bnnet.report.prose import prose\n"
        "claims.start('02_three_vs_nine_layers')\n"
        "gain = -0.004\n"
        "display(prose(claims.claim('BN raises the accuracy of the deep net.', gain > 0, "
        "f'gain {gain:+.3f}')))")]
    source, out = tmp_path / "claim.ipynb", tmp_path / "claim.out.ipynb"
    nbformat.write(nb, source)
    return papermill.execute_notebook(source, out, kernel_name="python3",
                                      progress_bar=False)


def test_a_full_build_stops_at_the_sentence_and_a_quick_one_marks_it(results, tmp_path,
                                                                      monkeypatch):
    with pytest.raises(papermill.PapermillExecutionError) as err:
        run_notebook(tmp_path, claims.STRICT, monkeypatch)
    assert err.value.ename == "ClaimError"
    assert "'BN raises the accuracy of the deep net.' is contradicted" in err.value.evalue
    assert "gain -0.004" in err.value.evalue
    nb = run_notebook(tmp_path, claims.MARK, monkeypatch)
    shown = nb.cells[0].outputs[0]["data"]["text/markdown"]
    assert shown == ("**[Not what this run shows: gain -0.004.]** "
                     "~~BN raises the accuracy of the deep net.~~")
    assert not claims.read()["holds"].any()
