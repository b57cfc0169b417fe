"""Presets: each finding of the report, replayed at the explorer's scale in a few seconds.

A preset names the arms of one finding (their controls, :class:`Arm`) and where the report
keeps each arm's number (a table of ``report/results/`` and its row, read by
:mod:`bnnet.explore.committed`, never typed). After a replay, :func:`finding_lines` puts the
report's number beside the explorer's and says how the two runs differ (runs, epochs,
images); :func:`contrast_lines` does the same for the differences the report tested between
arms (a row of a ``*_ci`` table: the difference, its interval and its verdict).
Widget-free: :mod:`bnnet.explore.explorer` shows them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bnnet.core.config import NETS
from bnnet.explore.committed import (
    ReportTableError,
    Scale,
    Starts,
    in_percent,
    report_row,
    report_scale,
    report_value,
)
from bnnet.explore.settings import ALL_TRAIN, DEFAULTS, config_from
from bnnet.study.stats import percent, signed

NINE = {"layers": 9, "widths": ", ".join(map(str, NETS["9-layer"]))}
THREE = {"layers": 3, "widths": ", ".join(map(str, NETS["3-layer"]))}


@dataclass(frozen=True)
class Arm:
    """One arm of a finding: the controls that set it, and its row in a report table."""

    name: str
    values: Mapping[str, Any]
    table: str
    column: str
    where: Mapping[str, Any]
    #: why the explorer does not train this arm (``""``: it does); its report number is
    #: quoted all the same
    not_replayed: str = ""


@dataclass(frozen=True)
class Contrast:
    """A difference the report tested, ``other`` minus ``base`` (two arms' names): its row
    of a ``*_ci`` table (in points, with its interval and verdict)."""

    name: str
    table: str
    where: Mapping[str, Any]
    base: str
    other: str


@dataclass(frozen=True)
class Preset:
    """A finding of the report: its arms, trained one after the other and overlaid."""

    key: str
    title: str
    section: str    # the report notebook that measured it
    finding: str    # what the report found, in words (its numbers come from the tables)
    arms: tuple[Arm, ...]
    #: control values every arm shares: the explorer's scale of this finding
    common: Mapping[str, Any] = field(default_factory=dict)
    #: points on each curve: each costs an evaluation on 7,000 images, most of a short
    #: run's time (fewer than a run of the controls has, so that a preset takes seconds)
    curve_points: int = 20
    #: the differences between arms that the report tested
    contrasts: tuple[Contrast, ...] = ()

    @property
    def trained(self) -> tuple[Arm, ...]:
        return tuple(a for a in self.arms if not a.not_replayed)

    def values(self, arm: Arm) -> dict[str, Any]:
        """Every control's value for ``arm``: the defaults, then the preset's, then the
        arm's."""
        return {**DEFAULTS, **self.common, **arm.values}


def _depth_arms() -> tuple[Arm, ...]:
    return tuple(Arm(f"{n} layers, {'BN' if bn else 'no BN'}",
                     {**net, "bn": "before" if bn else "none"}, "02_test_accuracy",
                     "test_accuracy", {"net": f"{n}-layer", "BN": "yes" if bn else "no"})
                 for n, net in ((3, THREE), (9, NINE)) for bn in (False, True))


def _sigma_arms() -> tuple[Arm, ...]:
    return tuple(Arm(f"σ {sigma:g}, {'BN' if bn else 'no BN'}",
                     {**NINE, "init": "normal", "sigma": sigma, "bn": "before" if bn else "none"},
                     "04_test_accuracy", "BN" if bn else "no BN",
                     {"net": "9-layer", "sigma": sigma})
                 for sigma in (1e-1, 1e-3, 1e-4) for bn in (False, True))


def _depth_contrasts() -> tuple[Contrast, ...]:
    return tuple(Contrast(f"BN's gain, {n} layers", "02_bn_ci", {"net": f"{n}-layer"},
                          f"{n} layers, no BN", f"{n} layers, BN") for n in (3, 9))


def _sigma_contrasts() -> tuple[Contrast, ...]:
    return tuple(Contrast(f"BN's gain at σ {sigma:g}", "04_bn_ci",
                          {"net": "9-layer", "sigma": sigma}, f"σ {sigma:g}, no BN",
                          f"σ {sigma:g}, BN") for sigma in (1e-1, 1e-3, 1e-4))


def _ingredient_contrasts() -> tuple[Contrast, ...]:
    return tuple(Contrast(f"without {name}", f"{_ABLATION}_ci", {"arm": Starts(row)},
                          "best network", f"without {name}")
                 for name, row in (("the width", "width"), ("λ 0.002", "smaller λ"),
                                   ("augmentation", "augmentation"),
                                   ("the longer schedule", "longer schedule"),
                                   ("the extra images", "extra images"),
                                   ("test-time flips", "test-time flips")))


_ABLATION = "05_ablation"
#: why two ingredients are quoted, not trained: each wide run costs seconds, and the
#: report's difference for them (its contrast line) is smaller than a short run's noise
_TOO_SMALL = ("one short run here cannot resolve a difference of the size the report "
              "measured (below); set the controls to try it")
_BEST = {"widths": "500, 500", "lam": 0.002, "flip": True, "shift": 2}

PRESETS: tuple[Preset, ...] = (
    Preset("depth", "3 vs 9 layers, with and without BN", "02_three_vs_nine_layers",
           "After 20 epochs BN matters little for the 3-layer net and more for the 9-layer "
           "net. The gain builds up over training: in the report's curves BN is level or "
           "behind at first (section 2), and a replay here is that early.",
           _depth_arms(), curve_points=10, contrasts=_depth_contrasts()),
    Preset("sigma", "σ sweep: 9 layers, BN or not", "04_init_sensitivity",
           "Without BN the 9-layer net initialised with a fixed σ stays at chance, at σ 0.1 "
           "as at smaller σ; BN rescues it down to σ 1e-3, and at σ 1e-4 BN's ε stops it "
           "(the ε puzzle).", _sigma_arms(), curve_points=10,
           contrasts=_sigma_contrasts()),
    Preset("epsilon", "the ε puzzle at σ 1e-4 (9 layers, BN)", "04_init_sensitivity",
           "At σ 1e-4 the deep layers' variances fall below BN's ε 1e-5, and the BN net "
           "stays at chance; a smaller ε lets it learn.",
           tuple(Arm(f"ε {eps:g}", {**NINE, "init": "normal", "sigma": 1e-4, "eps": eps},
                     "04_epsilon_accuracy", "test accuracy", {"sigma": 1e-4, "eps": eps})
                 for eps in (1e-5, 1e-16)),
           contrasts=(Contrast("ε 1e-16 against ε 1e-5", "04_epsilon_ci",
                               {"sigma": 1e-4, "eps": 1e-16}, "ε 1e-05", "ε 1e-16"),)),
    Preset("position", "BN before or after the ReLU (9 layers)", "05_bn_variants",
           "Where BN sits in each hidden layer, before or after the ReLU.",
           tuple(Arm(f"BN {where} the ReLU", {**NINE, "bn": key}, "05_bn_position",
                     "test_accuracy", {"net": "9-layer", "BN": f"{where} the ReLU"})
                 for key, where in (("before", "before"), ("after", "after"))),
           contrasts=(Contrast("after against before", "05_bn_position_ci", {"net": "9-layer"},
                               "BN before the ReLU", "BN after the ReLU"),)),
    Preset("ingredients", "the best network's ingredients", "05_bn_variants",
           "The best network with one ingredient at a time taken back to the course's value.",
           (Arm("best network", _BEST, _ABLATION, "test_accuracy",
                {"arm": Starts("best network")}),
            Arm("without the width", {**_BEST, "widths": "50, 50"}, _ABLATION, "test_accuracy",
                {"arm": Starts("width")}),
            Arm("without λ 0.002", {**_BEST, "lam": DEFAULTS["lam"]}, _ABLATION, "test_accuracy",
                {"arm": Starts("smaller λ")}, not_replayed=_TOO_SMALL),
            Arm("without augmentation", {**_BEST, "flip": False, "shift": 0}, _ABLATION,
                "test_accuracy", {"arm": Starts("augmentation")}, not_replayed=_TOO_SMALL),
            Arm("without the longer schedule", {}, _ABLATION, "test_accuracy",
                {"arm": Starts("longer schedule")},
                not_replayed="every run here is short"),
            Arm("without the extra images", {}, _ABLATION, "test_accuracy",
                {"arm": Starts("extra images")},
                not_replayed="the explorer trains on at most 45,000 images"),
            Arm("without test-time flips", {}, _ABLATION, "test_accuracy",
                {"arm": Starts("test-time flips")},
                not_replayed="the explorer evaluates without test-time flips")),
           common={"n_train": 5_000, "n_s": 50}, curve_points=4,
           contrasts=_ingredient_contrasts()),
)
BY_KEY = {p.key: p for p in PRESETS}


@dataclass(frozen=True)
class Measured:
    """What the explorer measured for one arm: its run's label, its test accuracy
    (``None`` for a run that ended without one) and its final state."""

    label: str
    accuracy: float | None
    state: str


def finding_lines(preset: Preset, measured: Mapping[str, Measured] | None = None,
                  results_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """One line per arm of ``preset``: the report's number (read from its table) and the
    scale of its runs, beside what the explorer measured (``measured``, by arm name) at its
    own scale; and the problems met reading the report (a missing table once, not per arm)."""
    lines, problems = [], []
    for arm in preset.arms:
        try:
            number = in_percent(report_value(arm.table, arm.column, arm.where, results_dir))
        except ReportTableError as e:
            number = "not available"
            if str(e) not in problems:
                problems.append(str(e))
        if arm.not_replayed:
            lines.append(f"{arm.name}: report {number}; not replayed here: {arm.not_replayed}.")
            continue
        config, n_train = config_from(preset.values(arm), preset.curve_points)
        scale = report_scale(config, preset.section, results_dir)
        if scale is not None:
            # the table's own count of runs where it has one: the manifest lists a run once
            # however many sections share it (section 5 reuses 5 of section 2's 10 runs)
            with contextlib.suppress(ReportTableError, ValueError):
                runs = int(report_value(arm.table, "runs", arm.where, results_dir))
                scale = dataclasses.replace(scale, runs=runs)
        line = f"{arm.name}: report {number}" + (f" ({scale})" if scale else "")
        run = (measured or {}).get(arm.name)
        if run is not None:
            here = Scale(1, config.n_updates, n_train or ALL_TRAIN, config.batch_size)
            value = percent(run.accuracy) if run.accuracy is not None else run.state
            line += f" · here {value} ({run.label.split(':')[0]}: {here})"
        lines.append(line + ".")
    return lines, problems


#: what the differences' lines say, and how to read them
CONTRASTS = ("The differences the report tested, and the same differences here (the report's "
             "accuracies are mean ± std over its seeds; a difference comes with its 95 % "
             "interval and the report's verdict, its p-value Holm-adjusted over the section's "
             "comparisons, so a verdict can be inconclusive although the interval excludes 0):")


def contrast_lines(preset: Preset, measured: Mapping[str, Measured] | None = None,
                   results_dir: str | os.PathLike | None = None) -> list[str]:
    """One line per difference the report tested between ``preset``'s arms: the report's
    difference, its interval and verdict (its ``*_ci`` table), and, when both arms trained
    here, the same difference between the explorer's two runs. A table that is missing
    leaves its line out (:func:`finding_lines` names the problem)."""
    lines = []
    for contrast in preset.contrasts:
        try:
            row = report_row(contrast.table, ("diff", "low", "high", "test", "p_holm",
                                              "verdict"), contrast.where, results_dir)
        except ReportTableError:
            continue
        line = f"{contrast.name}: report {_points(row['diff'])}"
        if row["low"] not in ("", "nan") and row["high"] not in ("", "nan"):
            line += f" [{_points(row['low'], unit=False)}, {_points(row['high'], unit=False)}]"
        elif row["test"] not in ("", "nan", "none"):
            line += f" ({row['test']} test)"
        line += f", {row['verdict']}"
        if row["p_holm"] not in ("", "nan"):
            p_holm = float(row["p_holm"])
            line += f" (adjusted p {'< 0.001' if p_holm < 0.001 else f'{p_holm:.3f}'})"
        base, other = ((measured or {}).get(name) for name in (contrast.base, contrast.other))
        if base and other and base.accuracy is not None and other.accuracy is not None:
            line += f" · here {_points(100 * (other.accuracy - base.accuracy))}, one run each"
        lines.append(line + ".")
    return lines


def _points(value: float | str, unit: bool = True) -> str:
    return signed(float(value)) + (" points" if unit else "")
