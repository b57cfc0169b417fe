"""The ``Examples`` of the public docstrings run as doctests, as the API pages show them:
on small random arrays, in a few seconds, without CIFAR-10 (the examples that need it are
marked ``+SKIP``, and run here for real when ``BNNET_DATA_DIR`` points at a copy)."""

from __future__ import annotations

import doctest
import inspect

import pytest

import bnnet

#: The main entry points, whose docstrings must show an example.
WITH_EXAMPLES = ("fit", "load_cifar10", "Config", "check_gradients")
#: Every function and class ``bnnet`` exports: whatever examples they have run.
PUBLIC = [name for name in bnnet.__all__
          if inspect.isclass(getattr(bnnet, name)) or inspect.isfunction(getattr(bnnet, name))]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run(tests: list[doctest.DocTest]) -> tuple[int, int, str]:
    """Run the doctests; (examples tried, failures, the report of the failures)."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test, out=report.append, clear_globs=True)
    return runner.tries, runner.failures, "".join(report)


def doctests(name: str) -> list[doctest.DocTest]:
    return doctest.DocTestFinder().find(getattr(bnnet, name), f"bnnet.{name}", globs={})


def test_the_main_entry_points_have_numpydoc_examples():
    for name in WITH_EXAMPLES:
        doc = inspect.getdoc(getattr(bnnet, name)) or ""
        assert "\nExamples\n--------\n" in doc, name
        assert sum(len(t.examples) for t in doctests(name)) >= 3, name


@pytest.mark.parametrize("name", PUBLIC)
def test_the_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    tried, failed, report = run(doctests(name))
    assert failed == 0, report
    if name in WITH_EXAMPLES:
        assert tried >= 2, name  # load_cifar10: the import and the error


@pytest.mark.realdata
def test_the_examples_that_need_cifar10_run_on_it(real_data_dir, tmp_path, monkeypatch):
    """``load_cifar10``'s examples with ``+SKIP`` taken away, on the real data."""
    monkeypatch.setenv("BNNET_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    doc = inspect.getdoc(bnnet.load_cifar10).replace("# doctest: +SKIP", "")
    test = doctest.DocTestParser().get_doctest(doc, {}, "bnnet.load_cifar10", None, 0)
    tried, failed, report = run([test])
    assert tried >= 5 and failed == 0, report
