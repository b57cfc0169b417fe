"""The study's parameters in one file: ``study.yaml`` holds, per notebook, the values its
parameters cell sets (the committed study), and ``make report PARAMS=my.yaml`` builds the
report from a copy with some of them changed, into a folder of its own.

A parameters file is YAML: one mapping per notebook, of parameter names to values. It may
name only what it changes; every parameter it leaves out keeps the study's value. What
differs from the study is what the build passes to papermill, and what the title page and
the manifest record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bnnet.core.config import closest
from bnnet.files import PROJECT_ROOT
from bnnet.report.notebook import (
    COMMON,
    NOTEBOOK_DIR,
    NOTEBOOKS,
    ParameterError,
    check_parameters,
    notebook_defaults,
)

#: The committed study's parameters (a test keeps it equal to the notebooks' cells).
STUDY_PARAMS = PROJECT_ROOT / "study.yaml"

Params = dict[str, dict[str, Any]]


def study_parameters() -> Params:
    """Per notebook that has any, the values its parameters cell sets, without the build
    settings every notebook takes (``data_dir``, ``quick``, ``n_jobs``, ``scheduler``)."""
    out = {}
    for name in NOTEBOOKS:
        values = {p: _listed(v) for p, v in notebook_defaults(name).items() if p not in COMMON}
        if values:
            out[name] = values
    return out


def _listed(value: Any) -> Any:
    """Tuples as lists, as YAML reads them back (a range written ``(-5.0, -1.0)`` in a
    notebook is the same parameter as ``[-5.0, -1.0]`` in a file)."""
    if isinstance(value, (list, tuple)):
        return [_listed(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _listed(v) for k, v in value.items()}
    return value


def load_params(path: str | os.PathLike) -> Params:
    """Every notebook's parameters from a parameters file, the study's values where it says
    nothing, each checked against the notebook's constraints.

    Raises:
        ParameterError: the file is missing or not YAML, or names a notebook or parameter
            that does not exist (with the closest name), or a value its notebook refuses.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"no parameters file at {path}: copy study.yaml, change what you "
                             "want and give its path, e.g. make report PARAMS=my.yaml")
    try:
        given = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ParameterError(f"{path} is not valid YAML: {e}") from None
    study = study_parameters()
    if not isinstance(given, Mapping):
        raise ParameterError(f"{path}: expected one mapping per notebook (as in study.yaml), "
                             f"got {type(given).__name__}")
    params = {name: dict(values) for name, values in study.items()}
    for name, values in given.items():
        if name not in study:
            raise ParameterError(f"{path}: no notebook {name!r} with parameters"
                                 f"{closest(str(name), study)}; they are {', '.join(study)}")
        if not isinstance(values, Mapping):
            raise ParameterError(f"{path}: {name} should map parameter names to values, got "
                                 f"{values!r}")
        for p, value in values.items():
            if p not in study[name]:
                raise ParameterError(f"{path}: notebook {name} has no parameter {p!r}"
                                     f"{closest(str(p), study[name])}; its parameters are "
                                     f"{', '.join(study[name])}")
            params[name][p] = value
        check_parameters(params[name], NOTEBOOKS[name].parameters)
    return params


def changed(params: Params) -> Params:
    """Per notebook, the parameters whose value differs from the study's (``study.yaml``
    and the notebooks' cells); notebooks without a change are left out."""
    study = study_parameters()
    out = {}
    for name, values in params.items():
        diff = {p: v for p, v in values.items() if v != study[name][p]}
        if diff:
            out[name] = diff
    return out


def describe_changes(diff: Params) -> str:
    """The title page's line: ``"02_three_vs_nine_layers: lam = 0.01 (study 0.005)"``, one
    notebook after another; "none" for the study itself."""
    if not diff:
        return "none (the study's, study.yaml)"
    study = study_parameters()
    return "; ".join(
        f"{name}: " + ", ".join(f"{p} = {yaml_value(v)} (study {yaml_value(study[name][p])})"
                                for p, v in values.items())
        for name, values in diff.items())


def yaml_value(value: Any) -> str:
    """A value in YAML flow style that PyYAML reads back as the same value (a float always
    has a dot: PyYAML reads ``1e-05`` as text, ``1.0e-05`` as a number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return yaml.safe_dump(value, default_style='"').strip()
    return str(value)


def study_yaml() -> str:
    """The text of ``study.yaml``: every notebook's parameters with the comments of its
    parameters cell (``python -m bnnet.report.params`` writes it)."""
    lines = ["# The study's parameters, per notebook: the values of each notebook's parameters",
             "# cell (tests/test_params.py keeps the two equal). To change the study, copy this",
             "# file, change what you want (or delete every line you keep) and build the report",
             "# from the copy: make report PARAMS=my.yaml writes report/my/report.pdf, and its",
             "# title page and manifest list what differs from this file.", ""]
    for name, values in study_parameters().items():
        comments = _cell_comments(name)
        lines.append(f"{name}:")
        for p, v in values.items():
            comment = f"  # {comments[p]}" if comments.get(p) else ""
            lines.append(f"  {p}: {yaml_value(v)}{comment}")
        lines.append("")
    return "\n".join(lines)


def _cell_comments(name: str) -> dict[str, str]:
    """Each parameter's trailing comment in the notebook's parameters cell."""
    cells = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells
                  if "parameters" in c.get("metadata", {}).get("tags", []))
    out = {}
    for line in source.splitlines():
        if "=" in line and not line.startswith((" ", "#")):
            p = line.split("=", 1)[0].strip()
            out[p] = line.split("#", 1)[1].strip() if "#" in line else ""
    return out


if __name__ == "__main__":
    STUDY_PARAMS.write_text(study_yaml(), encoding="utf-8")
    print(f"written {STUDY_PARAMS}")
