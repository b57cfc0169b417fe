"""The study's findings in a few Markdown lines, read from the committed tables.

One source for every place that states the study's results outside the PDF: the landing
page of the documentation renders :func:`findings` at build time (``docs/_ext``), and the
README's "What the study found" can carry the same lines. Each answer gives its numbers,
interval and verdict in the words of the report (:func:`bnnet.report.prose.effect`), from
the CSVs ``make report`` wrote to ``report/results/``:

- the gradient check (``01_gradcheck_summary.csv``);
- does BN help the 3- and the 9-layer net (``02_bn_ci.csv``, ``02_test_accuracy.csv``);
- which λ (``03_chosen.csv``, ``03_final.csv``, ``03_final_val_ci.csv``,
  ``03_final_ci.csv``);
- how sensitive training is to the initial weight scale (``04_bn_ci.csv``,
  ``04_test_accuracy.csv``);
- the best network (``05_best_runs.csv``, ``05_best_config.csv``).

``python -m bnnet.report.findings [results folder]`` prints them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bnnet.core.config import BN_PLACEMENTS
from bnnet.files import PROJECT_ROOT
from bnnet.report.display import STUDY_RESULTS
from bnnet.report.prose import effect, pm
from bnnet.study.search import recommended_lam
from bnnet.study.stats import comparison

#: The tables the findings are read from (a page that renders them depends on these).
TABLES = ("01_gradcheck_summary", "02_bn_ci", "02_test_accuracy", "03_chosen", "03_final",
          "03_final_val_ci", "03_final_ci", "04_bn_ci", "04_test_accuracy", "05_best_runs",
          "05_best_config")
#: The project's README, whose "What the study found" carries :func:`findings`.
README = PROJECT_ROOT / "README.md"
#: The relative error above which a gradient is wrong (section 1's threshold).
GRADIENT_THRESHOLD = 1e-6


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float, digits: int = 1) -> str:
    """``4.0 × 10⁻³``: scientific notation in plain text (no math markup, no line break)."""
    mantissa, exponent = f"{float(x):.{digits}e}".split("e")
    return f"{mantissa}\u00a0×\u00a010{str(int(exponent)).translate(_SUPERSCRIPT)}"


def findings(results: str | Path = STUDY_RESULTS) -> list[str]:
    """The study's answers as Markdown lines (a bulleted list, some items with sub-items),
    from the tables in ``results`` (default: the committed ``report/results/``)."""
    folder = Path(results)

    def table(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv")

    return [*_gradients(table("01_gradcheck_summary")),
            *_bn(table("02_bn_ci"), table("02_test_accuracy")),
            *_lam(table("03_chosen"), table("03_final"), table("03_final_val_ci"),
                  table("03_final_ci")),
            *_init(table("04_bn_ci"), table("04_test_accuracy")),
            *_best(table("05_best_runs"), table("05_best_config"), table("02_test_accuracy"))]


def _gradients(grad: pd.DataFrame) -> list[str]:
    worst = float(grad[["W", "b", "gamma", "beta"]].max().max())
    layers = sorted(int(n) for n in grad["layers"].unique())
    checked = set(grad["bn"])
    placements = ", ".join("no BN" if p == "none" else f"BN {p}"
                           for p in BN_PLACEMENTS.values() if p in checked)
    verdict = ("agrees with" if worst < GRADIENT_THRESHOLD
               else f"does not agree (an error above {GRADIENT_THRESHOLD:.0e}) with")
    return [f"- **Are the gradients right?** The hand-written backward pass {verdict} "
            f"centred differences on every net checked ({', '.join(map(str, layers))} "
            f"layers; {placements}): the largest relative error is {sci(worst)}."]


def _accuracy(cell: str) -> str:
    """A table cell ``"53.38 ± 0.32"`` (mean ± std over seeds, %) as ``"53.38 ± 0.32%"``."""
    return f"{cell}%"


def _bn(ci: pd.DataFrame, accuracy: pd.DataFrame) -> list[str]:
    acc = accuracy.set_index(["net", "BN"])
    parts = []
    for net in ci["net"]:
        runs = int(acc.loc[(net, "yes"), "runs"])
        parts.append(f"in the {net} net ({_accuracy(acc.loc[(net, 'no'), 'test_accuracy'])} "
                     f"without BN, {_accuracy(acc.loc[(net, 'yes'), 'test_accuracy'])} with "
                     f"it, {runs} seeds each) BN {effect(comparison(ci, net=net))}")
    return ["- **Does BN help the course's nets?** With the course's settings, "
            + "; ".join(parts) + "."]


def _lam(chosen: pd.DataFrame, final: pd.DataFrame, on_val: pd.DataFrame,
         on_test: pd.DataFrame) -> list[str]:
    pick = chosen.iloc[0]
    arms = final.set_index("arm")
    default = float(arms.loc["default", "lam"])
    validation, versus = comparison(on_val, arm="chosen"), comparison(on_test, arm="chosen")
    recommended = recommended_lam(validation, pick["lam"], default)
    how = ("the maximum of the fit over the fine search" if pick["rule"] == "fit" else
           "the best-measured λ of the fine search, since the fit's interval missed it")
    outcome = (f"the study recommends the search's λ = {sci(recommended)}"
               if recommended != default else f"the course's λ = {default:g} stays")
    return [f"- **Which λ?** On validation accuracy only, the coarse-to-fine search chooses "
            f"λ = {sci(pick['lam'])} ({how}; {int(pick['runs'])} runs). Trained the same way "
            f"as the course default λ = {default:g}, {int(arms.loc['chosen', 'runs'])} seeds "
            f"each, on validation it {effect(validation, what='validation accuracy')}, so "
            f"{outcome}; on test, read once after the choice "
            f"({_accuracy(arms.loc['chosen', 'test_accuracy'])} against "
            f"{_accuracy(arms.loc['default', 'test_accuracy'])}), it {effect(versus)}."]


def _init(ci: pd.DataFrame, accuracy: pd.DataFrame) -> list[str]:
    acc = accuracy.set_index(["net", "sigma"])
    runs = ci["runs"].iloc[0].split("/")[-1]
    lines = ["- **How sensitive is training to the initial weights?** Every weight drawn "
             f"from N(0, σ²), BN against no BN ({runs} seeds per arm):"]
    for _, row in ci.iterrows():
        net, sigma = row["net"], row["sigma"]
        lines.append(f"  - {net} net, σ = {sigma:g} "
                     f"({_accuracy(acc.loc[(net, sigma), 'no BN'])} without BN, "
                     f"{_accuracy(acc.loc[(net, sigma), 'BN'])} with it): BN "
                     f"{effect(comparison(ci, net=net, sigma=sigma))}.")
    return lines


def _best(runs: pd.DataFrame, config: pd.DataFrame, course: pd.DataFrame) -> list[str]:
    best_course = course.loc[course["test_accuracy"].map(
        lambda cell: float(cell.split("±")[0])).idxmax()]
    settings = "; ".join(f"{row['setting']}: {row['value']}" for _, row in config.iterrows())
    return [f"- **The best network** reaches {pm(runs['test_accuracy'])} test accuracy over "
            f"{len(runs)} seeds, against {_accuracy(best_course['test_accuracy'])} for the "
            f"best of the course's nets ({best_course['net']}, "
            f"{'with' if best_course['BN'] == 'yes' else 'without'} BN).",
            f"  - Its settings: {settings}."]


#: The README's findings lie between these two lines (``--readme`` rewrites them).
README_START = "<!-- findings: python -m bnnet.report.findings --readme writes these lines -->"
README_END = "<!-- /findings -->"


def readme_findings(text: str) -> list[str]:
    """The findings lines of a README text (between :data:`README_START` and
    :data:`README_END`)."""
    return text[text.index(README_START) + len(README_START):text.index(README_END)].strip(
        "\n").splitlines()


def with_findings(text: str, lines: list[str]) -> str:
    """The README text with its findings replaced by ``lines``."""
    head, tail = text[:text.index(README_START)], text[text.index(README_END):]
    return head + README_START + "\n" + "\n".join(lines) + "\n" + tail


def main(argv: list[str] | None = None) -> int:
    """``python -m bnnet.report.findings [results]`` prints the findings; ``--readme``
    writes them into the project's README instead."""
    args = sys.argv[1:] if argv is None else argv
    lines = findings(*[a for a in args if a != "--readme"][:1])
    if "--readme" in args:
        README.write_text(with_findings(README.read_text(encoding="utf-8"), lines),
                          encoding="utf-8")
        print(f"written to {README}")
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
