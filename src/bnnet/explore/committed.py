"""The committed report's numbers, for the explorer's presets: read from the tables that
``make report`` writes into ``report/results/`` (by column name, never typed), and the scale
of the report's runs (runs, updates, images) from the manifest beside them.

A table that is missing, or lacks a column or a row, is a :class:`ReportTableError` whose
message names the file and what to do.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bnnet.core.config import Config
from bnnet.files import PROJECT_ROOT
from bnnet.study.provenance import MANIFEST

#: where ``make report`` leaves the study's tables (in a clone of the project)
RESULTS_DIR = PROJECT_ROOT / "report" / "results"
#: the training images of CIFAR-10's five training batches; a run trains on all of them but
#: its validation images, or on ``n_train``
CIFAR10_TRAIN = 50_000
#: Config fields that say how long and on what a run trains, not what it is: a report run
#: and an explorer run that differ only in these train the same network
SCALE_FIELDS = {"n_s", "cycles", "seed", "log_every", "train_eval_size", "test_flip"}


class ReportTableError(LookupError):
    """A table of the report, or a row or column of it, is not there."""


class Starts(str):
    """A row key that matches every value starting with it (the ablation's arm names carry
    the values they keep, e.g. ``"smaller λ (0.002)"``)."""


def read_table(name: str, results_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """``<results_dir>/<name>.csv`` (default :data:`RESULTS_DIR`)."""
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise ReportTableError(f"the report's table {name}.csv is not in {folder} "
                               "(make report writes it; a copy of bnnet installed with pip "
                               "has no report: pass results_dir)")
    return pd.read_csv(path)


def report_row(name: str, columns: Sequence[str], where: Mapping[str, Any],
               results_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """The cells of ``columns`` in the one row of table ``name`` whose columns have the
    values of ``where`` (numbers compared as numbers, :class:`Starts` as a prefix), as
    written; the table is read once."""
    table = read_table(name, results_dir)
    missing = [c for c in [*columns, *where] if c not in table.columns]
    if missing:
        raise ReportTableError(f"{name}.csv has no column {missing[0]!r}; its columns are "
                               f"{', '.join(map(repr, table.columns))}")
    rows = table
    for key, value in where.items():
        rows = rows[[_matches(cell, value) for cell in rows[key]]]
    condition = ", ".join(f"{k} {v!r}" for k, v in where.items())
    if len(rows) != 1:
        found = "no row" if rows.empty else f"{len(rows)} rows"
        raise ReportTableError(f"{name}.csv has {found} with {condition}")
    return {column: str(rows[column].iloc[0]) for column in columns}


def report_value(name: str, column: str, where: Mapping[str, Any],
                 results_dir: str | os.PathLike | None = None) -> str:
    """The cell of ``column`` in the row of :func:`report_row`."""
    return report_row(name, [column], where, results_dir)[column]


def _matches(cell: Any, value: Any) -> bool:
    if isinstance(value, Starts):
        return str(cell).startswith(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return math.isclose(float(cell), value, rel_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return str(cell) == str(value)


def in_percent(cell: str) -> str:
    """A table's accuracy cell as a reader sees it: ``"53.47 ± 0.23"`` (the header says %)
    becomes ``"53.47 ± 0.23%"``; a cell that says % already is kept whole."""
    return cell if "%" in cell else f"{cell}%"


@dataclass(frozen=True)
class Scale:
    """How much the report's runs of one arm trained."""

    runs: int
    updates: int
    images: int
    batch_size: int

    @property
    def epochs(self) -> float:
        return self.updates / (self.images // self.batch_size)

    def __str__(self) -> str:
        runs = "1 run" if self.runs == 1 else f"{self.runs} runs"
        return f"{runs} of {self.epochs:.3g} epochs on {self.images:,} images"


def report_scale(config: Config, section: str,
                 results_dir: str | os.PathLike | None = None) -> Scale | None:
    """The scale of the report's runs of ``config`` (compared without
    :data:`SCALE_FIELDS`), from the manifest; when runs of one configuration trained at
    several scales (two sections share it), those of ``section`` win. ``None`` without a
    manifest or a matching run. Between scales equally matched, the one with more images (the
    best network's arm, not the arm that takes its extra images away)."""
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    try:
        runs = json.loads((folder / MANIFEST).read_text())["runs"]
    except (OSError, ValueError, KeyError):
        return None
    wanted = _network(config.to_dict())
    groups: dict[tuple[int, int, int], list[dict]] = {}
    for run in runs:
        if _network(run.get("config", {})) != wanted:
            continue
        c, data = run["config"], run.get("data", {})
        images = data.get("n_train") or CIFAR10_TRAIN - int(data.get("n_val", 5000))
        key = (2 * int(c["n_s"]) * int(c["cycles"]), int(images), int(c["batch_size"]))
        groups.setdefault(key, []).append(run)
    if not groups:
        return None
    key, chosen = max(groups.items(), key=lambda kv: (
        any(r.get("section") == section for r in kv[1]), len(kv[1]), kv[0][1]))
    return Scale(len({r.get("key", id(r)) for r in chosen}), *key)


def _network(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration's fields without :data:`SCALE_FIELDS`, lists as tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()
            if k not in SCALE_FIELDS}
