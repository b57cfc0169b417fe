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
from bnnet.core.config import Config
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
        c = self.run["config"]
        what = (f"{self.run['section'] or '?':24s} {self.run['desc']:27s} hidden={c['hidden']}"
                f"{', BN' if c['batch_norm'] else ''}, lam={c['lam']:g}, seed={c['seed']}")
        if self.identical:
            return f"identical  {what}: test {percent(self.fresh['test_accuracy'])}"
        verdict = "within" if self.within_spread else "BEYOND"
        return (f"differs    {what}: test {percent(self.fresh['test_accuracy'])} vs "
                f"{percent(self.run['values']['test_accuracy'])} reported, "
                f"{self.diff:+.2f} points, {verdict} the seed spread of its arm "
                f"({100 * self.spread:.2f} points)")


def _same(a: float | bool, b: float | bool) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


class ManifestError(ValueError):
    """The manifest is missing, cut short or edited; the message names the file."""


#: What make verify reads of a manifest and of each of its runs.
MANIFEST_KEYS = ("commit", "code_key", "data_md5", "runs")
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
    """Indices of the runs to re-train: the costliest run of seed 0 (the best network), one
    run of each section, then ``n`` more at random (``None``: as many as fit in about
    ``minutes`` on ``n_jobs`` workers, by the seconds the manifest records)."""
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
