"""Claims: sentences bound to the data they interpret (bnnet.report.claims)."""

from __future__ import annotations

import ast
import builtins
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest

from bnnet.report import claims
from bnnet.report.claims import ClaimError, claim
from bnnet.report.display import BUILD_START_ENV, RESULTS_ENV

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


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
                                         "kind": "checked",
                                         "claim": "BN helps the deep net more.",
                                         "evidence": "gain +0.035 vs +0.006", "holds": "True"}]


def test_a_contradicted_claim_stops_a_strict_build_naming_sentence_and_evidence(
        results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    with pytest.raises(ClaimError, match=r"'The curve is still rising\.' is contradicted by "
                                         r"this run's data \(last gain -0\.002\)"):
        claim("The curve is still rising.", False, "last gain -0.002")
    assert not claims.checked(claims.read())["holds"].iloc[-1]  # recorded before it stopped


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
    table = claims.read()  # the notebooks in name order, as the build runs them
    assert table["claim"].tolist() == ["third", "second"]
    assert table["section"].tolist() == ["02_three_vs_nine_layers", "03_lambda_search"]


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
    assert not claims.checked(claims.read())["holds"].any()


@pytest.mark.parametrize("holds", [float("nan"), np.float64("nan"), np.array([True, False]),
                                   "yes", None, 1, 0.5])
def test_a_check_that_is_no_truth_value_is_an_error_naming_the_sentence(results, holds):
    with pytest.raises(ClaimError, match=r"the check of the sentence 'BN helps\.' gave .*not "
                                         r"True or False"):
        claim("BN helps.", holds, "gain nan")
    assert claim("BN helps.", np.float64(0.1) > 0, "gain 0.1") == "BN helps."


def test_nan_in_a_comparison_fails_the_claim_rather_than_passing_it(results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    gain = float("nan")
    with pytest.raises(ClaimError, match="contradicted"):
        claim("BN helps by {gain:+.2f} points.", lambda gain: gain > 0, gain=gain)


def test_a_nan_named_value_fails_even_a_negated_check(results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    # `not (gain < 0)` is True for NaN: the named value itself must fail the claim
    with pytest.raises(ClaimError, match="gain is NaN"):
        claim("BN does not hurt ({gain:+.2f}).", lambda gain: not gain < 0, gain=float("nan"))


@pytest.mark.parametrize("seeds, problem", [
    ([0.51, float("nan"), 0.52], "1 of the 3 values of accuracy per seed are NaN or infinite"),
    (pd.Series([0.51, np.inf]), "1 of the 2 values of accuracy per seed are NaN or infinite"),
    (pd.DataFrame({"a": [0.5, 0.5], "b": [np.nan, 0.5]}), "1 of the 4 values"),
    (np.array([]), "accuracy per seed has no value"),
])
def test_a_check_over_data_with_a_nan_or_no_value_fails_where_pandas_would_skip_it(
        results, monkeypatch, seeds, problem):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    # pandas' min skips NaN: without `data` this claim would pass on the finite seeds
    worst = pd.Series(np.asarray(seeds, dtype=float).ravel()).min()
    with pytest.raises(ClaimError, match=r"'Every seed trains\.' is contradicted") as err:
        claim("Every seed trains.", lambda low: not low < 0.2,
              data={"accuracy per seed": seeds}, low=worst)
    assert problem in str(err.value)
    monkeypatch.setenv(claims.MODE_ENV, claims.MARK)
    assert claim("Every seed trains.", True, data={"accuracy per seed": seeds}).startswith(
        "**[Not what this run shows:")
    assert claims.read()["holds"].tolist() == ["False"]


def test_the_data_a_check_reads_are_listed_in_its_evidence(results):
    claim("Every seed trains.", True, "lowest 0.51", data={"accuracy": [0.51, 0.53]})
    assert claims.read().iloc[-1]["evidence"] == "lowest 0.51; reads accuracy (2 values)"
    with pytest.raises(ClaimError, match="the data 'labels' of a claim are not numbers"):
        claim("Every seed trains.", True, data={"labels": ["a", "b"]})


def test_a_sentence_chosen_over_data_with_a_nan_is_no_choice(results, monkeypatch):
    monkeypatch.setenv(claims.MODE_ENV, claims.STRICT)
    steps = pd.Series([0.02, np.nan, 0.03])
    with pytest.raises(ClaimError, match="1 of the 3 values of lead per step"):
        claims.choose(bool(steps.min() > 0.01), "BN stays ahead at every step.",
                      "BN falls back at some step.", "BN's lead is above 0.01 at every step",
                      data={"lead per step": steps})
    monkeypatch.setenv(claims.MODE_ENV, claims.MARK)
    assert claims.choose(True, "Ahead.", "Behind.", "ahead", data={"lead": [0.02]}) == "Ahead."
    assert claims.read()["kind"].tolist() == [claims.CHECKED, claims.CHOSEN]


def test_a_template_shares_its_named_values_with_its_check_and_evidence(results):
    text = claim("The gap, {gap:.2f} points, stays below one seed std, {std:.2f}.",
                 lambda gap, std: gap < std, gap=0.81, std=1.06)
    assert text == "The gap, 0.81 points, stays below one seed std, 1.06."
    row = claims.read().iloc[-1]
    assert row["evidence"] == "gap = 0.81, std = 1.06" and row["holds"] == "True"


def test_a_chosen_sentence_and_a_reading_are_recorded_as_what_they_are(results):
    text = claims.choose(0.3 < 0.5, "The interval lies inside the range.",
                         "The interval reaches the range's edge.",
                         "the interval's ends inside the range", "ends 0.3, 0.5")
    assert text == "The interval lies inside the range."
    said = claims.untested("The penalty may shrink the upper layers.")
    assert said == "The penalty may shrink the upper layers (not tested here)."
    assert claims.untested("A guess, not tested here.") == "A guess, not tested here."
    table = claims.read()
    assert table["kind"].tolist() == ["chosen", "reading", "reading"]
    assert table["evidence"].iloc[0] == ("chosen because the interval's ends inside the range "
                                         "is True; ends 0.3, 0.5")
    assert table["holds"].tolist() == ["True", "", ""]
    assert claims.summary(table) == ("0 claims checked against their data, all held; 1 "
                                     "sentences chosen by their data, 2 readings marked as "
                                     "not tested")


def test_a_cell_run_again_replaces_its_rows_and_a_build_starts_from_nothing(results):
    for _ in range(3):  # the same cell, run three times by hand
        claim("BN helps.", True, "gain 0.1")
    assert claims.read()["claim"].tolist() == ["BN helps."]
    claims.start("03_lambda_search")
    claim("second", True, "b")
    assert claims.assemble(["02_three_vs_nine_layers", "03_lambda_search"])[
        "claim"].tolist() == ["BN helps.", "second"]
    assert (results / "claims.csv").is_file()
    claims.reset()  # a new build: no sentence of the old one, no renamed notebook's rows
    assert not (results / "claims.csv").exists() and claims.read().empty


def _names(node) -> set[str]:
    """The variables an expression reads (builtins such as len are no data)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - set(dir(builtins))


def _holds(call: ast.Call) -> ast.AST | None:
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "holds"), None)


def self_guarded_claims(source: str) -> list[str]:
    """Claims whose check reads nothing but what the condition choosing them read: ``claim(s,
    c) if c else ...`` or ``if c: claim(s, len(c) > 0)`` cannot fail."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.IfExp):
            guarded = [(node.test, node.body)]
        elif isinstance(node, ast.If):
            guarded = [(node.test, stmt) for stmt in node.body]
        else:
            continue
        for test, body in guarded:
            for call in ast.walk(body):
                if (isinstance(call, ast.Call) and isinstance(call.func, (ast.Name, ast.Attribute))
                        and getattr(call.func, "id", getattr(call.func, "attr", "")) == "claim"
                        and (holds := _holds(call)) is not None
                        and _names(holds) and _names(holds) <= _names(test)):
                    found.append(ast.unparse(holds))
    return found


def test_the_guard_finder_finds_the_patterns_it_names():
    assert self_guarded_claims("x = claim(s, c, e) if c else t") == ["c"]
    assert self_guarded_claims("if helps:\n    claim(s, len(helps) > 0, e)") == [
        "len(helps) > 0"]
    assert self_guarded_claims("x = claim(s, a > b, e) if a > 0 else t") == []


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("0*.ipynb")), ids=lambda p: p.stem)
def test_no_claim_of_a_notebook_is_guarded_by_its_own_check(notebook):
    """A sentence chosen by a condition is claims.choose's, not a claim 'checked' by the
    condition that chose it."""
    nb = nbformat.read(notebook, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                       and not c.source.lstrip().startswith(("%", "!")))
    assert self_guarded_claims(source) == []


ROOT = NOTEBOOKS.parent


def conclusion_with_flipped_sign(tmp_path, mode: str, monkeypatch):
    """The conclusion notebook on the committed report's tables, with the sign of section
    2's 3-layer BN difference flipped, run as the build runs it."""
    results = tmp_path / "results"
    shutil.copytree(ROOT / "report" / "results", results)
    ci = pd.read_csv(results / "02_bn_ci.csv")
    three = ci["net"] == "3-layer"
    ci.loc[three, ["diff", "low", "high"]] = -ci.loc[three, ["diff", "high", "low"]].to_numpy()
    ci.to_csv(results / "02_bn_ci.csv", index=False)
    monkeypatch.setenv(RESULTS_ENV, str(results))
    monkeypatch.setenv("BNNET_FIGURES_DIR", str(tmp_path / "figures"))
    monkeypatch.setenv(BUILD_START_ENV, "0")  # every table there counts as this build's
    monkeypatch.setenv(claims.MODE_ENV, mode)
    return papermill.execute_notebook(ROOT / "notebooks" / "07_conclusion.ipynb",
                                      tmp_path / "out.ipynb", kernel_name="python3",
                                      progress_bar=False, cwd=str(ROOT / "notebooks"))


SHALLOW = "Yes, a little for the 3-layer net"


def test_a_flipped_value_stops_a_strict_build_naming_the_sentence(tmp_path, monkeypatch):
    with pytest.raises(papermill.PapermillExecutionError) as err:
        conclusion_with_flipped_sign(tmp_path, claims.STRICT, monkeypatch)
    assert err.value.ename == "ClaimError"
    assert SHALLOW in err.value.evalue and "is contradicted by this run's data" in err.value.evalue


def test_a_flipped_value_is_marked_in_a_quick_build(tmp_path, monkeypatch):
    nb = conclusion_with_flipped_sign(tmp_path, claims.MARK, monkeypatch)
    shown = "\n".join(out.get("data", {}).get("text/markdown", "")
                      for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    assert f"~~{SHALLOW}" in shown and "**[Not what this run shows:" in shown
    table = claims.checked(claims.read())
    assert not table.loc[table["claim"].str.startswith(SHALLOW), "holds"].any()


REDUCTION = re.compile(r"\.(max|min|mean|median|std|var|sum|all|any|agg|idxmax|idxmin)\(|"
                       r"(?<![.\w])(max|min|all|any|ptp)\(")


def _checked_source(call: ast.Call) -> str | None:
    """The part of a claim() or choose() call that decides it (its check, or its condition
    and its named values), unparsed; None for other calls."""
    name = getattr(call.func, "id", getattr(call.func, "attr", ""))
    if name == "claim":
        parts = [p for p in [_holds(call)] if p is not None] + [
            k.value for k in call.keywords if k.arg not in ("holds", "evidence", "data")]
    elif name == "choose":
        parts = call.args[:1] + [k.value for k in call.keywords if k.arg == "condition"]
    else:
        return None
    return " ".join(ast.unparse(p) for p in parts)


def undeclared_reductions(source: str) -> list[str]:
    """The checks and conditions that reduce (max, min, all, a pandas mean...) without naming
    in ``data`` what they reduce: pandas skips NaN, so a diverged seed would go unseen."""
    found = []
    for call in ast.walk(ast.parse(source)):
        if (isinstance(call, ast.Call) and (decides := _checked_source(call)) is not None
                and REDUCTION.search(decides)
                and not any(k.arg == "data" for k in call.keywords)):
            found.append(decides)
    return found


def test_the_reduction_finder_finds_a_check_that_reduces_without_its_data():
    assert undeclared_reductions("claim(s, lambda low: low > 0.2, low=acc.min())") == [
        "lambda low: low > 0.2 acc.min()"]
    assert undeclared_reductions("choose(all(a > 0 for a in accs), t, f, states)") == [
        "all((a > 0 for a in accs))"]
    assert undeclared_reductions("claim(s, lambda low: low > 0.2, low=acc.min(), "
                                 "data={'accuracy': acc})") == []
    assert undeclared_reductions("claim(s, gain > 0, f'best {acc.max()}')") == []


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("0*.ipynb")), ids=lambda p: p.stem)
def test_every_check_that_reduces_names_the_data_it_reduces(notebook):
    """A check over "every seed" or "every step" declares those values in ``data``, so that a
    NaN among them fails the claim instead of being skipped by the reduction."""
    nb = nbformat.read(notebook, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                       and not c.source.lstrip().startswith(("%", "!")))
    assert undeclared_reductions(source) == []
