"""The study's findings in Markdown (``bnnet.report.findings``): each answer with its
numbers, interval and verdict, read from the tables (the landing page of the documentation
shows exactly these lines, ``tests/test_docs.py``)."""

from __future__ import annotations

import shutil

import pandas as pd

from bnnet.report.display import STUDY_RESULTS
from bnnet.report.findings import TABLES, findings, main, sci


def test_the_findings_of_the_committed_tables():
    lines = findings()
    text = "\n".join(lines)
    assert all(line.startswith(("- **", "  - ")) for line in lines), lines
    for question in ("Are the gradients right?", "Does BN help the course's nets?",
                     "Which λ?", "How sensitive is training to the initial weights?",
                     "The best network"):
        assert f"**{question}" in text, question
    bn = pd.read_csv(STUDY_RESULTS / "02_bn_ci.csv").set_index("net")
    for net, row in bn.iterrows():  # each number, interval and verdict of the table
        assert f"in the {net} net" in text
        assert f"{abs(row['diff']):.2f} points (95% interval [{row['low']:+.2f}, " \
               f"{row['high']:+.2f}]; {row['verdict']}" in text.replace("\u2212", "-")
    chosen = pd.read_csv(STUDY_RESULTS / "03_chosen.csv").iloc[0]
    assert f"On validation accuracy only, the coarse-to-fine search chooses λ = " \
           f"{sci(chosen['lam'])} (" in text
    assert ("the maximum of the fit" if chosen["rule"] == "fit" else "best-measured") in text
    sigma = pd.read_csv(STUDY_RESULTS / "04_bn_ci.csv")
    assert sum(line.startswith("  - ") and "σ = " in line for line in lines) == len(sigma)
    best = pd.read_csv(STUDY_RESULTS / "05_best_runs.csv")["test_accuracy"]
    assert f"{100 * best.mean():.2f} ± {100 * best.std():.2f}%" in text


def test_small_numbers_in_plain_text():
    assert sci(0.004041883) == "4.0\u00a0×\u00a010⁻³"
    assert sci(1.18e-07) == "1.2\u00a0×\u00a010⁻⁷" and sci(250) == "2.5\u00a0×\u00a010²"


def test_the_findings_follow_the_tables(tmp_path):
    """Another build's tables, other findings: nothing is typed in."""
    for name in TABLES:
        shutil.copy(STUDY_RESULTS / f"{name}.csv", tmp_path)
    bn = pd.read_csv(tmp_path / "02_bn_ci.csv")
    bn.loc[bn["net"] == "3-layer", ["diff", "low", "high", "verdict"]] = \
        [0.1, -0.2, 0.4, "inconclusive"]
    bn.to_csv(tmp_path / "02_bn_ci.csv", index=False)
    text = "\n".join(findings(tmp_path))
    assert "BN changes test accuracy by +0.10 points, inconclusive (95% interval [" in text
    assert text != "\n".join(findings())


def test_python_m_prints_them(capsys):
    assert main([]) == 0
    assert capsys.readouterr().out.splitlines() == findings()
