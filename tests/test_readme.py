"""The README is executable truth: its Python examples run (pytest-examples), and every
signature in its API table is the code's."""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet  # noqa: F401
from tests.conftest import write_fake_cifar
from tests.report_checks import ROOT

README = ROOT / "README.md"


@pytest.mark.parametrize("example", list(find_examples(str(README))), ids=str)
def test_readme_python_examples_run(example: CodeExample, eval_example: EvalExample,
                                    tmp_path, monkeypatch):
    """Each Python block of the README, in the project folder, on a small synthetic
    CIFAR-10 (so that each takes seconds); printed output must match its ``#>`` lines."""
    monkeypatch.chdir(ROOT)
    # 5,500 training images: the course split holds 5,000 out for validation
    folder = write_fake_cifar(tmp_path / "data", n_per_batch=1100)
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
