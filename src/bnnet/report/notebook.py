"""A notebook's parameters and set-up, declared once per notebook.

Each notebook of ``notebooks/`` has a parameters cell (papermill's ``parameters`` tag)
and, in its first code cell, one call::

    begin("02_three_vs_nine_layers", globals())

which checks every parameter against the constraints declared here (:data:`NOTEBOOKS`;
parameters that set a :class:`~bnnet.core.config.Config` field reuse that field's
constraint), applies the notebook's quick preset when ``quick`` is true (the small sizes of
``make report QUICK=1``, also for ``quick = True`` typed in JupyterLab), and sets up plots
and pandas. A wrong parameter stops the notebook before any work, with a message that says
how to pass the parameter on papermill's command line; so does a parameter the notebook
does not have (papermill itself only warns), with the closest name it has.
"""

from __future__ import annotations

import ast
import json
import os
import warnings
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from IPython.display import display

from bnnet.core.config import NETS, Config, ConfigError, closest
from bnnet.files import PROJECT_ROOT, work_root
from bnnet.report import claims
from bnnet.report.display import FIGURES_ENV, RESULTS_ENV, markdown, output_dirs
from bnnet.validation import (
    ADDRESS,
    FILE,
    PATH,
    Bool,
    Constraint,
    Integer,
    Interval,
    Invalid,
    ListOf,
    Optional,
    Options,
    Real,
    validate,
)

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"


class ParameterError(ValueError):
    """A notebook parameter has the wrong type or value."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the message is the whole story, and
        # papermill then ends its own error with it
        return [f"ParameterError: {self}"]


class ConfigChanges(Constraint):
    """A dict of :class:`Config` fields and values (e.g. the best network's settings)."""

    expected = "a dict of Config fields and values"
    example = '{"hidden": [500, 500]}'
    is_list = True  # a dict needs -y on papermill's command line, as a list does

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise self.invalid(value, f"got {type(value).__name__}")
        try:
            Config(**value)
        except (ConfigError, TypeError) as e:  # TypeError: a key that is not a name
            raise self.invalid(value, str(e)) from None
        return value


POSITIVE_INT = Integer(1, example="2")
SEED = Integer(0)
SEEDS = ListOf(Integer(0), example="[0, 1, 2]")
OPTIONAL_SIZE = Optional(Integer(1, example="3000"))
NET_NAMES = ListOf(Options(NETS), example='["9-layer"]',
                   expected='a non-empty list of the net names "3-layer" and "9-layer"')

#: The parameters every notebook takes (``make report`` passes them to all).
COMMON = {"data_dir": Optional(PATH), "quick": Bool(), "n_jobs": POSITIVE_INT,
          "scheduler": Optional(ADDRESS)}
#: The course schedule and data size, shared by the notebooks that train.
SCHEDULE = {"n_train": OPTIONAL_SIZE, "n_s": Config.constraint("n_s"),
            "cycles": Config.constraint("cycles")}


@dataclass
class Notebook:
    """One notebook's parameters: their constraints, and the values of its quick preset
    (a dict value is merged into the parameter's dict)."""

    parameters: dict[str, Constraint]
    quick: dict[str, Any] = field(default_factory=dict)


_QUICK_TRAINING = {"n_train": 3000, "n_s": 60, "cycles": 1, "seeds": [0, 1]}

NOTEBOOKS = {
    "00_introduction": Notebook({}),
    "01_gradcheck": Notebook(
        {"n_samples": POSITIVE_INT, "n_features": POSITIVE_INT,
         "lam_values": ListOf(Config.constraint("lam"), example="[0.0, 0.1]"),
         "depths": ListOf(Options((2, 3, 4, 9)), example="[2, 3, 9]",
                          expected="a non-empty list of depths among 2, 3, 4 and 9")},
        quick={"depths": [2, 3]}),
    "02_three_vs_nine_layers": Notebook(
        {"seeds": SEEDS, **SCHEDULE, "lam": Config.constraint("lam"),
         "eta_maxes": ListOf(Config.constraint("eta_max"), example="[0.01, 0.1, 1.0]"),
         "sweep_seeds": SEEDS},
        quick={**_QUICK_TRAINING, "eta_maxes": [0.1, 1.0], "sweep_seeds": [0, 1]}),
    "03_lambda_search": Notebook(
        {"coarse_range": Interval(), "n_coarse": POSITIVE_INT,
         "coarse_n_s": Config.constraint("n_s"), "coarse_cycles": Config.constraint("cycles"),
         "n_fine": POSITIVE_INT, "fine_seeds": SEEDS, "max_extensions": Integer(0),
         "max_gap": Optional(Real(0, None, low_open=True, example="0.25")),
         "search_seed": SEED, **SCHEDULE,
         "default_lam": Config.constraint("lam"), "final_n_val": POSITIVE_INT,
         "final_seeds": SEEDS},
        quick={"n_train": 3000, "n_s": 60, "cycles": 1, "n_coarse": 4, "n_fine": 4,
               "coarse_n_s": 30, "coarse_cycles": 1, "fine_seeds": [0], "final_seeds": [0, 1],
               "max_extensions": 1}),
    "04_init_sensitivity": Notebook(
        {"sigmas": ListOf(Config.constraint("sigma"), example="[0.1, 0.001]"),
         "seeds": SEEDS, **SCHEDULE, "n_probe": POSITIVE_INT,
         "epsilons": ListOf(Config.constraint("eps"), example="[1e-05, 1e-16]"),
         "eps_sigmas": ListOf(Config.constraint("sigma"), example="[0.0001]"),
         "long_cycles": Config.constraint("cycles")},
        quick={**_QUICK_TRAINING, "epsilons": [1e-5, 1e-16], "eps_sigmas": [1e-4],
               "long_cycles": 2}),
    "05_bn_variants": Notebook(
        {"seeds": SEEDS, **SCHEDULE,
         "alphas": ListOf(Config.constraint("alpha"), example="[0.5, 0.9]"),
         "position_nets": NET_NAMES, "ablation_n_s": Config.constraint("n_s"),
         "best": ConfigChanges(), "best_seeds": SEEDS, "best_n_val": POSITIVE_INT},
        quick={"n_train": 3000, "n_s": 30, "cycles": 2, "seeds": [0, 1],
               "best_seeds": [0, 1], "ablation_n_s": 60,
               "best": {"hidden": [128, 128], "n_s": 120, "log_every": None}}),
    "06_diagnostics": Notebook(
        {"sigmas": ListOf(Config.constraint("sigma"), example="[0.1, 0.001]"),
         "seeds": SEEDS, **SCHEDULE, "n_probe": POSITIVE_INT, "seed": SEED},
        quick=_QUICK_TRAINING),
    "07_conclusion": Notebook({}),
    "08_benchmark": Notebook({"bench_csv": Optional(FILE)}),
}


def check_parameters(values: Mapping[str, Any], constraints: Mapping[str, Constraint]) -> None:
    """Check notebook parameters before any work.

    Raises:
        ParameterError: naming the parameter, its value, what was expected and how to pass
            it with papermill.
    """
    try:
        validate(values, constraints)
    except Invalid as e:
        example = e.constraint.example
        hint = (f'-y "{e.name}: {example}" (-p passes text)' if e.constraint.is_list
                else f"-p {e.name} {example}")
        raise ParameterError(f"parameter {e.describe(typed=True)}; with papermill: {hint}") \
            from None


def begin(name: str, namespace: MutableMapping[str, Any]) -> None:
    """Check notebook ``name``'s parameters in ``namespace`` (its ``globals()``), apply its
    quick preset to the parameters the user did not give if ``quick`` is true, say where
    its outputs go, and set up plots and pandas."""
    notebook = NOTEBOOKS[name]
    constraints = {**COMMON, **notebook.parameters}
    missing = [p for p in constraints if p not in namespace]
    if missing:
        raise ParameterError(f"notebook {name} lacks the parameters {missing} in its "
                             "parameters cell; see bnnet.report.notebook.NOTEBOOKS")
    unknown = sorted(injected_parameters(namespace) - constraints.keys())
    if unknown:
        raise ParameterError("; ".join(
            f"notebook {name} has no parameter {p!r}{closest(p, constraints)}" for p in unknown)
            + f"; its parameters are {', '.join(constraints)}")
    check_parameters({p: namespace[p] for p in constraints}, constraints)
    setup()
    claims.start(name)
    if namespace["quick"]:
        given = given_parameters(name, namespace)
        applied, kept = {}, {}
        for p, value in notebook.quick.items():
            current = namespace[p]
            if p in given:
                kept[p] = current
                continue
            namespace[p] = ({**current, **value} if isinstance(value, dict)
                            and isinstance(current, dict) else value)
            applied[p] = namespace[p]
        display(markdown(quick_banner(applied, kept)))
    if not (os.environ.get(FIGURES_ENV) and os.environ.get(RESULTS_ENV)):
        figures, results = output_dirs()
        display(markdown(
            f"Tables of this run go to `{_shown(results)}`, figures to `{_shown(figures)}` "
            "(only `make report` writes the study's `report/results/` and `figures/`; set "
            f"`{RESULTS_ENV}` and `{FIGURES_ENV}` to choose)."))


def quick_banner(applied: Mapping[str, Any], kept: Mapping[str, Any]) -> str:
    """The Markdown banner of a quick run: what it is, the sizes it set and kept."""
    text = ("> **Quick run**: small data and short schedules to test the pipeline. These are "
            "not the study's results.")
    if applied:
        text += " Quick sizes: " + ", ".join(f"`{p}={v!r}`" for p, v in applied.items()) + "."
    if kept:
        text += " Kept as given: " + ", ".join(f"`{p}={v!r}`" for p, v in kept.items()) + "."
    return text


def given_parameters(name: str, namespace: Mapping[str, Any]) -> set[str]:
    """The parameters a user gave: those papermill injected (its cell starts with
    ``# Parameters``, in IPython's input history ``In``) and those whose value differs from
    the notebook's saved parameters cell."""
    defaults = notebook_defaults(name)
    return injected_parameters(namespace) | {
        p for p, v in defaults.items() if p in namespace and namespace[p] != v}


def injected_parameters(namespace: Mapping[str, Any]) -> set[str]:
    """The names papermill's injected cell assigns (it starts with ``# Parameters``; found
    in IPython's input history ``In``)."""
    return {p for source in namespace.get("In", []) if isinstance(source, str)
            and source.lstrip().startswith("# Parameters") for p in _assigned(source)}


def notebook_defaults(name: str) -> dict[str, Any]:
    """The values the parameters cell of ``notebooks/<name>.ipynb`` sets ({} if none)."""
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        return {}
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            values: dict[str, Any] = {}
            exec("".join(cell["source"]), {}, values)  # the project's own notebook
            return values
    return {}


def _assigned(source: str) -> set[str]:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return set()
    return {t.id for node in body if isinstance(node, ast.Assign) for t in node.targets
            if isinstance(t, ast.Name)}


def _shown(path: Path) -> str:
    try:
        return f"{path.relative_to(work_root()).as_posix()}/"
    except ValueError:
        return f"{path}/"


def setup() -> None:
    """Plot style and quiet output for a notebook run."""
    matplotlib.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 150, "figure.figsize": (6.5, 3.2),
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        # printed at about the text width, every letter stays at 7 pt or more
        "axes.spines.right": False, "font.size": 9, "legend.fontsize": 8.5,
        "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "axes.titlesize": 9,
    })
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    pd.set_option("display.precision", 4)
