"""Notebook parameters (bnnet.report.notebook): a wrong or misspelt parameter stops the
notebook before any work, with the fix."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bnnet.report.notebook import (
    COMMON,
    NET_NAMES,
    NOTEBOOKS,
    OPTIONAL_SIZE,
    POSITIVE_INT,
    SEEDS,
    ParameterError,
    check_parameters,
    notebook_defaults,
)
from bnnet.validation import PATH, Bool, Interval, Optional

ROOT = Path(__file__).resolve().parents[1]

@pytest.mark.parametrize(("params", "message"), [
    (dict(n_jobs=("two", POSITIVE_INT)), r"n_jobs='two' \(str\): expected a positive integer"),
    (dict(seeds=("0,1", SEEDS)), '-y "seeds: \\[0, 1, 2\\]"'),
    (dict(quick=("yes", Bool())), "expected True or False"),
    (dict(coarse_range=([-1, -5], Interval())), "low < high"),
    (dict(n_train=(0, OPTIONAL_SIZE)), "positive integer or None"),
    (dict(position_nets=(["5-layer"], NET_NAMES)), '"3-layer" and "9-layer"'),
])
def test_notebook_parameters_of_the_wrong_type_are_rejected(params, message):
    with pytest.raises(ParameterError, match=message):
        check_parameters({k: v for k, (v, _) in params.items()},
                         {k: c for k, (_, c) in params.items()})
    good = {"n_jobs": (2, POSITIVE_INT), "seeds": ([0, 1], SEEDS),
            "data_dir": (None, Optional(PATH)), "n_train": (None, OPTIONAL_SIZE),
            "position_nets": (["3-layer", "9-layer"], NET_NAMES)}
    check_parameters({k: v for k, (v, _) in good.items()}, {k: c for k, (_, c) in good.items()})

@pytest.mark.slow
def test_papermill_parameter_of_the_wrong_type_stops_the_notebook_early(tmp_path):
    import papermill

    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb", out,
                                   parameters={"n_jobs": "two"}, kernel_name="python3",
                                   progress_bar=False, cwd=ROOT / "notebooks")
    assert err.value.ename == "ParameterError"
    assert "n_jobs='two'" in err.value.evalue and "-p n_jobs 2" in err.value.evalue

@pytest.mark.slow
def test_a_misspelt_papermill_parameter_stops_the_notebook_with_the_closest_name(tmp_path):
    """papermill itself only warns ("Passed unknown parameter: cylces") and runs on."""
    import papermill

    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb", out,
                                   parameters={"quick": True, "cylces": 2},
                                   kernel_name="python3", progress_bar=False,
                                   cwd=ROOT / "notebooks")
    assert err.value.ename == "ParameterError"
    assert "no parameter 'cylces' (did you mean 'cycles'?)" in err.value.evalue

@pytest.mark.slow
def test_a_report_without_a_benchmark_file_says_how_to_make_one(tmp_path):
    import nbformat
    import papermill

    out = tmp_path / "07.ipynb"
    papermill.execute_notebook(ROOT / "notebooks" / "08_benchmark.ipynb", out,
                               parameters={"bench_csv": str(tmp_path / "none.csv")},
                               kernel_name="python3", progress_bar=False,
                               cwd=ROOT / "notebooks")
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
               for o in c.outputs]
    text = " ".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "make bench" in text and "none.csv" in text

def papermill_cli(tmp_path, *args):
    papermill = Path(sys.executable).parent / "papermill"
    return subprocess.run(
        [str(papermill), str(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb"),
         str(tmp_path / "out.ipynb"), "--cwd", str(ROOT / "notebooks"), "-k", "python3", *args],
        capture_output=True, text=True, timeout=300)

@pytest.mark.slow
def test_papermill_cli_list_parameter_hint_works(tmp_path):
    """A list given with -p (as text) stops with a hint; the hint, typed as given, passes
    the check (the run then stops at the next, deliberately wrong, parameter)."""
    typed = papermill_cli(tmp_path, "-p", "seeds", "[0, 1]")
    assert typed.returncode != 0
    assert "ParameterError" in typed.stderr + typed.stdout
    hint = re.search(r'with papermill: -y "(seeds: \[[^"]*\])"', typed.stderr + typed.stdout)
    assert hint, typed.stderr[-2000:]
    # the message is the last thing on the screen, and the notebook's part of it is short
    last = typed.stderr.strip().splitlines()[-1]
    assert last.startswith("ParameterError: parameter seeds=") and "-y" in last
    notebook_part = typed.stderr[typed.stderr.index("Exception encountered"):]
    assert len(notebook_part.splitlines()) <= 3, notebook_part
    followed = papermill_cli(tmp_path, "-y", hint.group(1), "-p", "n_jobs", "two")
    output = followed.stderr + followed.stdout
    assert followed.returncode != 0 and "n_jobs='two'" in output
    assert "parameter seeds=" not in output


def test_every_parameter_of_every_notebook_has_a_declared_constraint():
    """A parameter added to a notebook's parameters cell but not to NOTEBOOKS would skip
    every check (and a quick build's preset could not reach it)."""
    for name, notebook in NOTEBOOKS.items():
        declared = set(COMMON) | set(notebook.parameters)
        assert set(notebook_defaults(name)) == declared, name
        assert set(notebook.quick) <= set(notebook.parameters), name
        check_parameters(notebook_defaults(name), {**COMMON, **notebook.parameters})


def _numbers(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif (isinstance(value, float) and not value.is_integer()) or abs(value) >= 10:
        yield value


def test_no_parameter_value_is_written_as_a_literal_in_markdown():
    """A setting a user can change with papermill is printed by code, from the parameter;
    written into Markdown it would go on saying the old value after the change."""
    for name in NOTEBOOKS:
        cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
                         and "lab-only" not in c["metadata"].get("tags", []))
        for p, value in notebook_defaults(name).items():
            for number in _numbers(value):
                forms = {f"{number:g}", f"{number:,}", str(number)}
                found = [f for f in forms
                         if re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", text)]
                assert not found, f"{name}: {p} = {value!r} written as {found} in Markdown"
