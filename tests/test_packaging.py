"""bnnet as a pip user gets it: a wheel in a new environment, outside the project checkout.

The environment is made with ``venv`` and filled by pip from the package index with the
wheel's declared dependencies only (``-c requirements.txt`` keeps the tested versions), so
an import the metadata does not declare fails here and nowhere else.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import tomllib

from tests.conftest import write_fake_cifar

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "bnnet"

# What an import name is called on the package index, where the two differ.
DISTRIBUTIONS = {"IPython": "ipython", "yaml": "pyyaml"}  # import name: distribution


def declared(group: str | None = None) -> set[str]:
    """The distribution names of pyproject.toml's dependencies (or one extra's)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {spec.split(">")[0].split("=")[0].split("[")[0].strip().lower() for spec in specs}


def top_level_imports(paths) -> set[str]:
    """Every module imported at the top of the modules ``paths`` (not inside a function),
    by its first name, the standard library and bnnet left out."""
    names = set()
    for path in paths:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"bnnet"}


def test_every_import_of_the_core_and_study_is_a_declared_dependency():
    core = top_level_imports([*SRC.glob("*.py"), *SRC.glob("core/*.py"),
                              *SRC.glob("study/*.py")])
    missing = {DISTRIBUTIONS.get(n, n).lower() for n in core} - declared()
    assert not missing, f"imported by bnnet but not in pyproject.toml's dependencies: {missing}"


def test_every_import_of_the_report_floor_is_in_the_workbook_extra():
    report = {DISTRIBUTIONS.get(n, n).lower()
              for n in top_level_imports(SRC.glob("report/*.py"))}
    # IPython comes with ipykernel, traitlets with nbconvert
    missing = report - declared() - declared("workbook") - {"ipython", "traitlets"}
    assert not missing, f"imported by bnnet.report but not in the workbook extra: {missing}"


def test_every_import_of_the_explorer_is_in_the_explore_extra():
    explore = {DISTRIBUTIONS.get(n, n).lower()
               for n in top_level_imports(SRC.glob("explore/*.py"))}
    # IPython comes with ipykernel, traitlets with ipywidgets
    missing = explore - declared() - declared("explore") - {"ipython", "traitlets"}
    assert not missing, f"imported by bnnet.explore but not in the explore extra: {missing}"
    assert declared("explore") <= declared("workbook")  # the workbook has the explorer too


WITHOUT_WIDGETS = """
import sys
sys.modules["ipywidgets"] = None  # as after a plain pip install: not installed
import bnnet.explore.presets, bnnet.explore.live  # the widget-free modules import
try:
    from bnnet.explore import Explorer
except ImportError as e:
    print(e)
"""


def test_the_explorer_without_ipywidgets_names_the_extra_to_install():
    out = run([sys.executable, "-c", WITHOUT_WIDGETS]).stdout.strip()
    assert out == ('the explorer needs ipywidgets, which is not installed: pip install '
                   '"bnnet[explore]" (ipywidgets and Matplotlib; JupyterLab to show it)')


def test_the_extras_match_the_groups_of_requirements_txt():
    pinned = {line.split("==")[0].strip().lower()
              for line in (ROOT / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    wanted = (declared() | declared("workbook") | declared("cluster") | declared("test")
              | declared("docs"))
    assert wanted - pinned == set(), "declared but not pinned in requirements.txt"
    assert pinned - wanted == set(), "pinned in requirements.txt but declared nowhere"


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


INSTALLED_CHECK = """
import sys
import bnnet
assert "site-packages" in bnnet.__file__, bnnet.__file__
try:
    bnnet.load_cifar10()
except bnnet.DataError as e:
    message = str(e)
assert "bnnet.load_cifar10(download=True) in Python" in message, message
assert "make" not in message, message
assert sys.argv[2] in message, message  # the user data folder, not site-packages
try:  # no extra installed: the explorer names the one it needs
    from bnnet.explore import Explorer
except ImportError as e:
    assert 'pip install "bnnet[explore]"' in str(e), e
else:
    raise AssertionError("the explorer imported without ipywidgets")
data = bnnet.load_cifar10(sys.argv[1], n_val=20)
for kernels in ("numba", "numpy"):
    config = bnnet.Config(hidden=[8], n_s=5, cycles=1, batch_size=10, kernels=kernels)
    result = bnnet.fit(config, data, progress=False)
    print(kernels, result.test_accuracy)
"""


@pytest.mark.slow
def test_a_wheel_with_only_its_declared_dependencies_trains_and_runs_a_notebook(tmp_path):
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels,
         ROOT])
    wheel = next(wheels.glob("bnnet-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements.txt"]
    run([*pip, wheel])
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BNNET_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache")}
    fake = write_fake_cifar(tmp_path / "fake")
    out = run([python, "-c", INSTALLED_CHECK, fake, str(home / "data" / "bnnet")],
              env=env, cwd=tmp_path)
    assert out.stdout.startswith("numba ") and "\nnumpy " in out.stdout
    assert (home / "cache" / "bnnet").is_dir()  # the image cache, outside the venv

    # the workbook extra: a notebook runs quick with papermill from that environment
    run([*pip, f"{wheel}[workbook]"])
    work = tmp_path / "work"
    work.mkdir()
    larger = write_fake_cifar(tmp_path / "larger", n_per_batch=1100)  # > 5,000 for n_val
    run([env_dir / "bin" / "papermill", ROOT / "notebooks" / "01_gradcheck.ipynb",
         work / "01.ipynb", "-p", "quick", "True", "-p", "data_dir", str(larger),
         "-k", "python3"], env=env, cwd=work)
    assert list((work / "scratch" / "results").glob("01_*.csv"))  # in the user's folder
