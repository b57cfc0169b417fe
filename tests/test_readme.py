"""The README is executable truth: its Python examples run (pytest-examples), and every
signature in its API table is the code's."""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
import pandas as pd
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet  # noqa: F401
from bnnet.report.prose import effect, pct, pm, sci
from bnnet.study.stats import comparison
from tests.conftest import write_fake_cifar
from tests.report_checks import ROOT

README = ROOT / "README.md"


@pytest.mark.parametrize("example", list(find_examples(str(README))), ids=str)
def test_readme_python_examples_run(example: CodeExample, eval_example: EvalExample,
                                    tmp_path, monkeypatch):
    """Each Python block of the README, in the project folder, on a small synthetic
    CIFAR-10 (so that each takes seconds); printed output must match its ``#>`` lines."""
    monkeypatch.chdir(ROOT)
    # 6,500 training images: the course split holds 5,000 out for validation, and the
    # explorer's smallest training set is 1,000
    folder = write_fake_cifar(tmp_path / "data", n_per_batch=1300)
    monkeypatch.setenv("BNNET_DATA_DIR", str(folder))
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    eval_example.set_config(line_length=1000)
    eval_example.run_print_check(example)


#: a row of the README's API table: | `module.name(arguments)` ...
ROW = re.compile(r"^\| `([\w.]+)\((.*?)\)`", re.M)


def documented_signatures() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    rows = [(name, args) for name, args in ROW.findall(text)]
    # the second entry point of a row: `..., `study.search.smooth_optimum(table)`
    rows += re.findall(r"`, `([\w.]+)\((.*?)\)` \|", text)
    return rows


def resolve(name: str):
    dotted = name if name.startswith("bnnet.") else f"bnnet.{name}"
    module, attr = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def test_the_api_table_lists_the_main_entry_points():
    names = {name for name, _ in documented_signatures()}
    assert {"bnnet.load_cifar10", "bnnet.fit", "bnnet.Config", "study.runs.run_many",
            "study.stats.compare", "study.search.lambda_search"} <= names


@pytest.mark.parametrize(("name", "args"), documented_signatures(), ids=lambda v: str(v)[:40])
def test_every_documented_signature_is_the_codes(name, args):
    real = inspect.signature(resolve(name))
    if args == "...":  # "Config(...)": the fields are listed in words
        return
    from bnnet.study.jobs import DataSpec

    namespace: dict = {"np": np, "DataSpec": DataSpec}
    exec(f"def documented({args}): pass", namespace)
    doc = inspect.signature(namespace["documented"])
    assert list(doc.parameters) == list(real.parameters), name
    for p, q in zip(doc.parameters.values(), real.parameters.values(), strict=True):
        assert p.kind == q.kind, f"{name}: {p.name} is {q.kind.description} in the code"
        assert p.default == q.default, (f"{name}: {p.name} defaults to {q.default!r} in the "
                                        f"code, {p.default!r} in the README")


def findings() -> list[str]:
    """The sentences of the README's "What the study found", from the committed tables
    (the tables hold differences in percentage points, effect() takes fractions)."""
    results = ROOT / "report" / "results"

    def row(name: str, **where) -> dict:
        return comparison(pd.read_csv(results / f"{name}.csv"), **where)

    grad = pd.read_csv(results / "01_gradcheck_summary.csv")
    chosen = pd.read_csv(results / "03_chosen.csv").iloc[0]
    eps = pd.read_csv(results / "04_epsilon_ci.csv")
    smallest = eps["sigma"].min()
    tiniest = eps[eps["sigma"] == smallest]["eps"].min()
    best = pd.read_csv(results / "05_best_runs.csv")["test_accuracy"]
    return [
        f"largest relative error {sci(grad[['W', 'b', 'gamma', 'beta']].max().max())}",
        f"3-layer net BN {effect(row('02_bn_ci', net='3-layer'))}",
        f"9-layer net BN {effect(row('02_bn_ci', net='9-layer'))}",
        f"λ = {sci(chosen['lam'])}",
        f"the chosen λ {effect(row('03_final_ci', arm='chosen'))}",
        f"ε = {sci(tiniest)} instead of 1e-5 "
        f"{effect(row('04_epsilon_ci', sigma=smallest, eps=tiniest))}",
        f"{pm(best)} test accuracy ({', '.join(pct(a, 2) for a in best)})",
    ]


def test_the_readme_states_the_committed_reports_findings():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## What the study found"):]
    section = " ".join(section[:section.index("\n## ", 5)].split())
    for sentence in findings():
        assert sentence in section, sentence
