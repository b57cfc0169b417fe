"""What a report was built from: the data (as a fingerprint, not a local path) and the
training runs it contains (a ledger that :func:`bnnet.study.runs.run_many` appends to).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from bnnet.cifar10 import ALL_FILES, md5sum
from bnnet.core.config import layer_weights
from bnnet.files import atomic_path

#: md5 of each file of the official "CIFAR-10 python version" archive (the same values as
#: torchvision's CIFAR10 dataset class).
OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

#: Environment variable naming the ledger file that run_many appends to.
LEDGER_ENV = "BNNET_RUN_LEDGER"


def file_md5s(batches_dir: str | os.PathLike) -> tuple[tuple[str, str], ...]:
    """(name, md5) of each batch file: identifies a copy of the data across machines."""
    folder = Path(batches_dir)
    return tuple((name, md5sum(folder / name) if (folder / name).is_file() else "missing")
                 for name in ALL_FILES)


def differing_files(batches_dir: str | os.PathLike,
                    expected: Mapping[str, str] | None = None) -> list[str]:
    """The batch files whose md5 differs from ``expected`` (default: the official release's
    :data:`OFFICIAL_MD5`; a report's manifest gives its own), missing ones too."""
    return _differing(dict(file_md5s(batches_dir)),
                      OFFICIAL_MD5 if expected is None else expected)


def _differing(mine: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    return [name for name, md5 in expected.items() if mine.get(name) != md5]


#: md5 of each file of the offline copy of CIFAR-10 on the machines this project is built
#: and tested on (no internet there): the official labels, split and batch order, most
#: pixels decoded from a public JPEG re-encoding of the images (about 30 dB PSNR).
OFFLINE_COPY_MD5 = {
    "data_batch_1": "10be339102169f5d6d23c068b5857ded",
    "data_batch_2": "72cfe3754f1e8e880614c7a206b6ac33",
    "data_batch_3": "6b5f223043ee747e84db7ea2df4729f7",
    "data_batch_4": "5ee473ed88d52dbc746579095d1decc8",
    "data_batch_5": "fb082b4f2bd926216eb3c18474d6197f",
    "test_batch": "1759f81c4cc4660ad55568c854eff43f",
    "batches.meta": "9052d5d249bd5da425732aee8546dafd",
}


def data_kind(batches_dir: str | os.PathLike, md5s: Mapping[str, str] | None = None) -> str:
    """``"official"``, ``"offline copy"`` (:data:`OFFLINE_COPY_MD5`) or ``"other"``, by
    the md5 of every batch file (``md5s``: already computed, :func:`file_md5s`)."""
    mine = dict(file_md5s(batches_dir)) if md5s is None else md5s
    if not _differing(mine, OFFICIAL_MD5):
        return "official"
    return "offline copy" if not _differing(mine, OFFLINE_COPY_MD5) else "other"


def describe_data(batches_dir: str | os.PathLike) -> str:
    """One line for a title page: which data the report was built from, by md5."""
    mine = dict(file_md5s(batches_dir))  # every file read once (about 180 MB)
    kind = data_kind(batches_dir, mine)
    if kind == "official":
        return "the official CIFAR-10 python release (md5 of every batch file verified)"
    if kind == "offline copy":
        return ("not the official download but an offline copy of CIFAR-10 with the official "
                "labels and split and most pixels rebuilt from a JPEG re-encoding (identified "
                "by the md5 of all its files; the introduction says what this means for the "
                "results)")
    differ = _differing(mine, OFFICIAL_MD5)
    return (f"a copy that differs from the official CIFAR-10 python release in "
            f"{len(differ)} of {len(OFFICIAL_MD5)} files (md5): {', '.join(differ)}; "
            "accuracies may differ from those on the official files")


#: The manifest's file name, beside the report's tables.
MANIFEST = "manifest.json"

#: Environment variable naming the report section whose runs are being recorded.
SECTION_ENV = "BNNET_SECTION"


def record_runs(entries: Iterable[dict]) -> None:
    """Append one JSON line per run to the ledger named by ``BNNET_RUN_LEDGER`` (if set).

    Each entry has ``key`` (identifies the run), ``desc``, ``seconds`` (its training time,
    NaN for a diverged run), ``cached`` (read back rather than trained now) and what
    :func:`bnnet.study.runs.run_record` adds (configuration, data split, values); the
    section (``BNNET_SECTION``) is added here."""
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    section = os.environ.get(SECTION_ENV, "")
    lines = [json.dumps({"section": section, **e}, allow_nan=True) + "\n" for e in entries]
    with open(path, "a", encoding="utf-8") as f:  # O_APPEND: whole lines, in any order
        f.write("".join(lines))


def training_summary(ledger: str | os.PathLike) -> dict:
    """Distinct runs in a ledger, their total training time and how many came from cache.

    Returns:
        ``runs``, ``seconds`` (sum over distinct runs; a diverged run counts 0),
        ``trained_now`` (runs trained during this build, not read from the cache),
        ``kernels`` (runs per training path, ``Config.kernels``), ``blas`` (runs per BLAS
        kernel and OpenBLAS version, ``("Haswell", "0.3.31")``).
    """
    runs = read_ledger(ledger)
    # runs recorded before Config.kernels existed all took the NumPy path
    kernels = Counter(e.get("config", {}).get("kernels", "numpy") for e in runs)
    kernel = Counter((e.get("blas", {}).get("kernel", ""), e.get("blas", {}).get("openblas", ""))
                     for e in runs)
    return {"runs": len(runs), "seconds": sum(finite_seconds(e["seconds"]) for e in runs),
            "trained_now": sum(not e["cached"] for e in runs), "kernels": dict(kernels),
            "blas": dict(kernel)}


def read_ledger(ledger: str | os.PathLike) -> list[dict]:
    """The distinct runs of a ledger (by ``key``; ``cached`` is False if any entry of the run
    was trained during the build)."""
    path = Path(ledger)
    runs: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                seen = runs.setdefault(entry["key"], entry)
                if not entry["cached"]:
                    seen["cached"] = False
    return list(runs.values())


def finite_seconds(seconds: float | None) -> float:
    """A run's training time, 0 for a diverged run (NaN) or none recorded."""
    return seconds if seconds is not None and math.isfinite(seconds) else 0.0


def write_manifest(ledger: str | os.PathLike, path: str | os.PathLike, *,
                   batches_dir: str | os.PathLike, commit: str,
                   run_key: dict[str, str], parameters: Mapping | None = None) -> int:
    """The manifest of a report: every distinct run of its ledger (configuration, data
    split, section, values, the BLAS kernel and SIMD level it ran with), the data fingerprint
    (md5 of each batch file), the commit and the run cache's key
    (:func:`bnnet.study.cache.environment`: numerics version, NumPy, Numba and OpenBLAS
    versions, BLAS kernel and threads, SIMD level) and the notebook parameters that differ
    from the study's (``parameters``, per notebook; empty for the study itself).
    ``make verify`` re-trains runs from it. Returns the number of runs."""
    runs = [{k: v for k, v in entry.items() if k != "cached"} for entry in read_ledger(ledger)
            if "config" in entry]
    manifest = {"commit": commit, "run_key": run_key, "parameters": dict(parameters or {}),
                "data_md5": dict(file_md5s(batches_dir)), "runs": runs}
    with atomic_path(path) as tmp:  # make verify reads it back: never half-written
        tmp.write_text(json.dumps(manifest, indent=1, allow_nan=True) + "\n",
                       encoding="utf-8")
    return len(runs)


def run_flops(config: Mapping[str, object], d_in: int = 3072, n_classes: int = 10) -> float:
    """The arithmetic of a run's training steps, in floating-point operations: batch × updates
    × (4 × the first layer's weights + 6 × every other layer's), since each weight costs a
    multiply-add forward, one for the gradient of the weight and one for the gradient of the
    input, and the first layer computes no input gradient. Evaluation and logging are left
    out: they are part of what a run's seconds pay for besides.

    >>> run_flops({"hidden": [50, 50], "batch_size": 100, "n_s": 2250, "cycles": 2})
    569160000000.0
    """
    weights = layer_weights(config["hidden"], d_in, n_classes)  # type: ignore[arg-type]
    updates = 2 * int(config["n_s"]) * int(config["cycles"])  # type: ignore[call-overload]
    return float(int(config["batch_size"]) * updates  # type: ignore[call-overload]
                 * (4 * weights[0] + 6 * sum(weights[1:])))


def run_speeds(runs: Iterable[Mapping]) -> pd.DataFrame:
    """One row per run of a build (:func:`read_ledger` of its ledger) that has a training
    time (a diverged run has none): ``net`` (the hidden widths), ``seconds`` and ``GFLOP/s``
    (:func:`run_flops` / seconds), the values :func:`throughput` reduces."""
    rows = [{"net": "-".join(map(str, e["config"]["hidden"])),
             "seconds": finite_seconds(e["seconds"]),
             "GFLOP/s": run_flops(e["config"]) / e["seconds"] / 1e9}
            for e in runs
            if e.get("config") and finite_seconds(e["seconds"]) > 0]
    return pd.DataFrame(rows, columns=["net", "seconds", "GFLOP/s"])


def throughput(runs: Iterable[Mapping]) -> pd.DataFrame:
    """GFLOP/s of a build's runs (:func:`read_ledger` of its ledger; cached runs kept their
    first build's seconds, which the ledger records too), by network widths: ``net`` (the
    hidden widths), ``runs``, ``minutes`` (summed), ``GFLOP/s`` (median over its runs of
    :func:`run_speeds`)."""
    return (run_speeds(runs).groupby("net", sort=False)
            .agg(runs=("GFLOP/s", "size"), minutes=("seconds", lambda s: s.sum() / 60),
                 gflops=("GFLOP/s", "median"))
            .rename(columns={"gflops": "GFLOP/s"}).reset_index()
            .sort_values("minutes", ascending=False, ignore_index=True))


def wall_time(seconds: Iterable[float], workers: int) -> float:
    """The wall time of training runs of the given seconds on ``workers`` workers, each
    run going, longest first, to the worker that is free first (how ``run_many`` hands
    them out): the longest-processing-time schedule.

    >>> wall_time([4, 3, 3, 2, 2, 2], 2)
    8.0
    """
    if workers < 1:
        raise ValueError(f"workers={workers}: give at least one worker")
    free = [0.0] * workers
    for s in sorted((finite_seconds(s) for s in seconds), reverse=True):
        free[free.index(min(free))] += s
    return max(free)


def cold_build_estimate(runs: Iterable[Mapping],
                        workers: Iterable[int] = (1, 2, 4, 8, 16)) -> pd.DataFrame:
    """What a cold build's training would take on more or fewer workers, computed from the
    run times of a build's runs (the ``runs`` of its manifest, or :func:`read_ledger` of its
    ledger; each run on one BLAS thread of one machine): per section,
    the longest-first schedule of its runs (:func:`wall_time`; sections run one after
    another, as ``make report`` runs the notebooks). Notebook overhead (data loading,
    figures, the PDF) is not included.

    Returns:
        one row per number of workers: ``workers`` and ``minutes``.
    """
    sections: dict[str, list[float]] = {}
    for run in runs:
        sections.setdefault(run.get("section", ""), []).append(finite_seconds(run["seconds"]))
    return pd.DataFrame([{"workers": n, "minutes": sum(wall_time(s, n)
                                                       for s in sections.values()) / 60}
                         for n in workers])
