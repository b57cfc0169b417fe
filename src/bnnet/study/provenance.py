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

from bnnet.cifar10 import ALL_FILES, md5sum

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
    expected = OFFICIAL_MD5 if expected is None else expected
    mine = dict(file_md5s(batches_dir))
    return [name for name, md5 in expected.items() if mine.get(name) != md5]


def describe_data(batches_dir: str | os.PathLike) -> str:
    """One line for a title page: whether the data is the official release, by md5."""
    differ = differing_files(batches_dir)
    if not differ:
        return "the official CIFAR-10 python release (md5 of every batch file verified)"
    return (f"a copy that differs from the official CIFAR-10 python release in "
            f"{len(differ)} of {len(OFFICIAL_MD5)} files (md5): {', '.join(differ)}")


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
                   batches_dir: str | os.PathLike, commit: str, code: str) -> int:
    """The manifest of a report: every distinct run of its ledger (configuration, data
    split, section, values), the data fingerprint (md5 of each batch file), the commit and
    the code key. ``make verify`` re-trains runs from it. Returns the number of runs."""
    runs = [{k: v for k, v in entry.items() if k != "cached"} for entry in read_ledger(ledger)
            if "config" in entry]
    manifest = {"commit": commit, "code_key": code,
                "data_md5": dict(file_md5s(batches_dir)), "runs": runs}
    Path(path).write_text(json.dumps(manifest, indent=1, allow_nan=True) + "\n",
                          encoding="utf-8")
    return len(runs)
