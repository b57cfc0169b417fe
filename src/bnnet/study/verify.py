"""Checking a committed report without its run cache: re-train a sample of the runs of its
manifest and compare the values it shows (``make verify``)."""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bnnet.cifar10 import find_batches_dir
from bnnet.core.config import NETS, Config
from bnnet.study.jobs import DataSpec
from bnnet.study.provenance import differing_files, finite_seconds
from bnnet.study.runs import estimated_cost, run_many, run_record
from bnnet.study.stats import percent

#: The values compared, all from the manifest (``values`` of each run).
VALUES = ("test_accuracy", "val_accuracy", "test_cost", "final_train_cost")


@dataclass
class Check:
    """One re-trained run against the manifest."""

    run: dict
    fresh: dict
    spread: float  # std of the test accuracy over the seeds of the run's arm
    label: str = ""  # what tells the run apart in its sweep (see ``run_labels``)

    @property
    def identical(self) -> bool:
        return all(_same(self.run["values"][k], self.fresh[k]) for k in VALUES)

    @property
    def diff(self) -> float:
        """Fresh minus reported test accuracy, in points."""
        return 100 * (self.fresh["test_accuracy"] - self.run["values"]["test_accuracy"])

    @property
    def within_spread(self) -> bool:
        return self.identical or abs(self.diff) <= 100 * self.spread

    def line(self) -> str:
        """One line: the verdict, the run's section and sweep, what tells it apart there,
        and its test accuracy."""
        label = self.label or run_labels([self.run])[0]
        what = f"{self.run['section'] or '?'} · {self.run['desc']} · {label}"
        if self.identical:
            return f"identical  {what}: test {percent(self.fresh['test_accuracy'])}"
        verdict = "within" if self.within_spread else "BEYOND"
        return (f"differs    {what}: test {percent(self.fresh['test_accuracy'])} vs "
                f"{percent(self.run['values']['test_accuracy'])} reported, "
                f"{self.diff:+.2f} points, {verdict} the seed spread of its arm "
                f"({100 * self.spread:.2f} points)")


def _number(x: float, digits: int = 3) -> str:
    """A setting's value, short: 0.1, 0.5, 4000, 5e-3, 1e-4, 2.13e-3, 1e-16."""
    if not isinstance(x, float):
        return str(x)
    if x != 0 and (abs(x) < 1e-2 or abs(x) >= 1e5):
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{x:.{digits}g}"


def _net(hidden: Sequence[int]) -> str:
    widths = [int(w) for w in hidden]
    for name, net in NETS.items():
        if widths == list(net):
            return name if len(widths) > 3 else f"{name} {widths}"
    return f"{len(widths) + 1}-layer {widths}"


#: How a line of make verify names a configuration field's value (the others: name value).
_WORDS = {
    "hidden": _net,
    "bn": lambda v: "no BN" if v == "none" else f"BN {v} the ReLU",
    "init": lambda v: {"he": "He init", "xavier": "Xavier init"}.get(v, f"{v} init"),
    "lam": lambda v: f"λ {_number(v)}",
    "eps": lambda v: f"ε {_number(v)}",
    "alpha": lambda v: f"α {_number(v)}",
    "eta_min": lambda v: f"η_min {_number(v)}",
    "eta_max": lambda v: f"η_max {_number(v)}",
    "eta_decay": lambda v: f"η decay {_number(v)}",
    "n_s": lambda v: f"n_s {_number(v)}",
    "cycles": lambda v: f"{v} cycle{'s' if v != 1 else ''}",
    "optimizer": lambda v: {"sgd": "SGD", "adam": "Adam"}.get(v, v),
    "batch_size": lambda v: f"batch {v}",
    "flip": lambda v: "flips" if v else "no flips",
    "shift": lambda v: f"shifts of up to {v} px" if v else "no shifts",
    "test_flip": lambda v: "test-time flips" if v else "no test-time flips",
    "label_smoothing": lambda v: f"label smoothing {_number(v)}",
}


def _settings(run: dict, digits: int) -> dict[str, str]:
    """A run's settings in words, field by field (the seed apart): configuration fields in
    their order, then the data split."""
    config = run["config"]
    words = {}
    for field, value in config.items():
        if field in ("seed", "log_every"):  # log_every: what is logged, not what is trained
            continue
        if field == "init" and value == "normal":
            words[field] = ""  # its sigma says it
        elif field == "sigma":  # counts only for init="normal"
            words[field] = f"σ {_number(value, digits)}" if config.get("init") == "normal" else ""
        elif isinstance(value, float) and field not in _WORDS:
            words[field] = f"{field} {_number(value, digits)}"
        elif isinstance(value, float):
            words[field] = _WORDS[field](value).replace(_number(value), _number(value, digits))
        else:
            words[field] = _WORDS[field](value) if field in _WORDS else f"{field} {value}"
    data = run["data"]
    split = data.get("split", "full")
    words["split"] = f"{split} split"
    n_train = data.get("n_train")
    words["n_train"] = f"{n_train:,} training images" if n_train else "all training images"
    if split == "full":  # the small split validates on a batch of its own
        words["n_val"] = f"{data.get('n_val', 5000):,} validation images"
    words["data seed"] = f"data seed {data.get('seed', 0)}"
    return words


#: A run of the defaults (the course's settings, ``DataSpec()``'s split), as the manifest
#: records one: what a run's label leaves out.
_DEFAULT_RUN = {"config": Config().to_dict(),
                "data": {"n_val": 5000, "seed": 0, "split": "full", "n_train": None}}


def run_labels(runs: Sequence[dict]) -> list[str]:
    """For each run, what tells it apart in its section: the settings that vary within its
    sweep (the runs of one ``run_many`` call: same section and ``desc``) or that the whole
    sweep sets away from the course's defaults, in words, and the seed. For example, in
    section 4's ``epsilon`` sweep ``"9-layer, σ 1e-4, ε 1e-16, seed 2"``, in section 5's
    ``alpha`` sweep ``"9-layer, α 0.5, seed 0"``. Values get as many digits as it takes
    to tell the sweep's runs apart."""
    sweeps: dict[tuple[str, str], list[int]] = {}
    for i, run in enumerate(runs):
        sweeps.setdefault((run["section"], run["desc"]), []).append(i)
    labels = [""] * len(runs)
    for members in sweeps.values():
        distinct = len({json.dumps([runs[i]["config"], runs[i]["data"]], sort_keys=True)
                        for i in members})
        for digits in range(3, 18):  # more digits while fewer do not tell the runs apart
            default = _settings(_DEFAULT_RUN, digits)
            settings = [_settings(runs[i], digits) for i in members]
            shown = [k for k in settings[0]
                     if len({s.get(k) for s in settings}) > 1
                     or settings[0][k] != default.get(k)]
            named = [", ".join([w for k in shown if (w := s.get(k, ""))]
                               + [f"seed {runs[i]['config']['seed']}"])
                     for i, s in zip(members, settings, strict=True)]
            if len(set(named)) == distinct:
                break
        for i, label in zip(members, named, strict=True):
            labels[i] = label
    return labels


def _same(a: float | bool, b: float | bool) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class ManifestError(ValueError):
    """The manifest is missing, cut short or edited; the message names the file."""


#: What make verify reads of a manifest and of each of its runs.
MANIFEST_KEYS = ("commit", "data_md5", "runs")
RUN_KEYS = ("section", "config", "data", "values")


def load_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a report, checked for what ``make verify`` reads.

    Raises:
        ManifestError: no file, not JSON (cut short, a merge conflict), or keys missing.
    """
    path = Path(path)
    rebuild = "rebuild it with make report, or restore it with git checkout -- " + str(path)
    if not path.is_file():
        raise ManifestError(f"no manifest at {path}: it is written by make report (a report "
                            "built before the manifest existed cannot be verified)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path} is not a readable manifest ({e}): {rebuild}") from None
    missing = [k for k in MANIFEST_KEYS if not isinstance(manifest, dict) or k not in manifest]
    bad_runs = [i for i, run in enumerate(manifest.get("runs", []) if not missing else [])
                if not isinstance(run, dict) or any(k not in run for k in RUN_KEYS)]
    if missing or bad_runs:
        what = (f"it lacks {', '.join(missing)}" if missing else
                f"run {bad_runs[0] + 1} of {len(manifest['runs'])} lacks some of "
                f"{', '.join(RUN_KEYS)}")
        raise ManifestError(f"{path} is not a complete manifest ({what}): {rebuild}")
    return manifest


def report_kernels(manifest: dict) -> set[str]:
    """The BLAS kernels the manifest's runs ran on (empty for a manifest that does not
    record them)."""
    return {run.get("blas", {}).get("kernel", "") for run in manifest["runs"]} - {""}


def files_differing(manifest: dict, data_dir: str | os.PathLike | None = None) -> list[str]:
    """The batch files whose md5 differs from the manifest's (empty: the same data)."""
    return differing_files(find_batches_dir(data_dir), manifest["data_md5"])


def arm_spreads(runs: Sequence[dict]) -> list[float]:
    """For each run, the std (over seeds) of the test accuracy of its arm: the runs with
    the same configuration but the seed, on the same data split. An arm of one run gets
    the median spread of the report's other arms."""
    def arm(run: dict) -> str:
        return json.dumps([{k: v for k, v in run["config"].items() if k != "seed"},
                           run["data"]], sort_keys=True)

    groups: dict[str, list[float]] = {}
    for run in runs:
        groups.setdefault(arm(run), []).append(run["values"]["test_accuracy"])
    spreads = {k: float(np.std(v, ddof=1)) for k, v in groups.items()
               if len(v) > 1 and np.isfinite(v).all()}
    fallback = statistics.median(spreads.values()) if spreads else 0.0
    return [spreads.get(arm(run), fallback) for run in runs]


def sample(runs: Sequence[dict], n: int | None, *, seed: int = 0, minutes: float = 10.0,
           n_jobs: int = 2) -> list[int]:
    """Indices of the runs to re-train: first the fixed sample (the
    costliest run of seed 0, i.e. the best network, and one run of each other section),
    then ``n`` more at random (``None``: as many as fit in about ``minutes`` on ``n_jobs``
    workers, by the seconds the manifest records). ``seed`` picks the random ones and
    each section's run."""
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(len(runs))]
    seed0 = [i for i in range(len(runs)) if runs[i]["config"]["seed"] == 0]
    # the best network: the costliest run of seed 0 (by its sizes, not by timings)
    chosen = [max(seed0 or range(len(runs)),
                  key=lambda i: estimated_cost(Config(**runs[i]["config"])))]
    for section in dict.fromkeys(r["section"] for r in runs):
        if not any(runs[i]["section"] == section for i in chosen):
            chosen.append(next(i for i in order if runs[i]["section"] == section))
    rest = [i for i in order if i not in chosen]
    if n is not None:
        return chosen + rest[:n]
    for i in rest:
        if _wall(runs, [*chosen, i], n_jobs) > 60 * minutes:
            continue
        chosen.append(i)
    return chosen


def describe_sample(runs: Sequence[dict], chosen: Sequence[int], n: int | str | None,
                    seed: int = 0) -> str:
    """What :func:`sample` picked, in words, for the line before the re-training."""
    sections = len(dict.fromkeys(r["section"] for r in runs))
    if n == "all" or len(chosen) == len(runs):
        return f"all {len(runs)} runs of the report"
    extra = len(chosen) - min(sections, len(chosen))
    how = ("as many as fit in about 10 minutes by the run times the manifest records"
           if n is None else f"RUNS={n}")
    random = f", then {extra} at random ({how}; sample seed {seed})" if extra else ""
    others = {0: "", 1: " and one run of the other section"}.get(
        sections - 1, f" and one run of each of the other {sections - 1} sections")
    return (f"{len(chosen)} of the report's {len(runs)} runs: the best network's seed "
            f"0{others}{random}")


def _wall(runs: Sequence[dict], chosen: list[int], n_jobs: int) -> float:
    seconds = [finite_seconds(runs[i].get("seconds")) for i in chosen]
    return max(max(seconds), sum(seconds) / n_jobs)


def retrain(runs: Sequence[dict], data_dir: str | os.PathLike | None = None, *,
            n_jobs: int = 2) -> list[dict]:
    """The values of each run trained again here (no cache), in the order given."""
    configs = [Config(**run["config"]) for run in runs]
    specs = [DataSpec(None if data_dir is None else str(data_dir), **run["data"])
             for run in runs]
    results = run_many(configs, specs, n_jobs=n_jobs, cache=False, desc="verify")
    return [run_record(r, s)["values"] for r, s in zip(results, specs, strict=True)]
