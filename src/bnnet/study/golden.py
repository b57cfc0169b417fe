"""Golden runs: tiny trainings whose exact results guard :data:`bnnet.core.NUMERICS_VERSION`.

The run cache's key holds no source text (:mod:`bnnet.study.cache`), so something else must
notice when a change alters the arithmetic. Each golden run covers one path of training (the
Numba kernels and the NumPy reference, BN before and after the ReLU and none, augmentation,
Adam, float32 and float64) on synthetic data made here, and keeps the bits of its final
costs and accuracies and a checksum of its parameters. ``tests/test_golden.py`` trains them
again and compares; when they differ, raise ``NUMERICS_VERSION`` and rewrite them::

    python -m bnnet.study.golden --write

The bits depend on the machine's arithmetic too (NumPy, Numba and OpenBLAS versions, the
BLAS kernel): the file records that :func:`~bnnet.study.cache.environment`, and a machine
with another one skips the comparison rather than fail it.
"""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bnnet.core import NUMERICS_VERSION
from bnnet.core.config import Config
from bnnet.core.data import Dataset
from bnnet.core.train import fit
from bnnet.files import PROJECT_ROOT, atomic_path
from bnnet.study.cache import environment

#: The committed golden results.
GOLDEN_FILE = PROJECT_ROOT / "tests" / "golden_runs.json"
#: The environment fields whose change changes the bits (the SIMD level does not: trained
#: runs do not depend on it).
ENVIRONMENT_FIELDS = ("numpy", "numba", "openblas", "kernel", "blas_threads")
_TINY = dict(hidden=(16, 8), n_s=15, cycles=1, batch_size=20, eta_max=0.05, log_every=10,
             train_eval_size=None)
#: name -> configuration: one per path of training.
GOLDEN_CONFIGS: dict[str, Config] = {
    "numba, BN before the ReLU": Config(**_TINY),
    "numpy, BN before the ReLU": Config(**_TINY, kernels="numpy"),
    "numba, BN after the ReLU": Config(**_TINY, bn="after"),
    "numpy, BN after the ReLU": Config(**_TINY, bn="after", kernels="numpy"),
    "numba, no BN": Config(**_TINY, bn="none"),
    "numba, augmentation and test-time flips": Config(**_TINY, flip=True, shift=2,
                                                      test_flip=True, seed=1),
    "numba, dropout and label smoothing": Config(**_TINY, dropout=0.2, label_smoothing=0.1),
    "numba, Adam": Config(**{**_TINY, "eta_min": 1e-5, "eta_max": 1e-3}, optimizer="adam"),
    "numba, float64": Config(**_TINY, dtype="float64"),
    "numpy, float64, fixed-sigma init": Config(**_TINY, dtype="float64", kernels="numpy",
                                               init="normal", sigma=0.05),
}


def golden_data() -> Dataset:
    """300 / 100 / 100 synthetic 32 x 32 x 3 images (so that flips and shifts apply), ten
    classes with their own mean image; the same on every machine (PCG64, integer draws)."""
    rng = np.random.default_rng(2026)
    centres = rng.integers(0, 256, (10, 3072))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n)
        noise = rng.integers(-60, 61, (n, 3072))
        return (np.clip(centres[y] + noise, 0, 255).astype(np.float32) / 255, y)

    return Dataset.from_arrays(*draw(300), *draw(100), *draw(100))


def _bits(x: float) -> str:
    return float(x).hex()


def fingerprint(config: Config, data: Dataset) -> dict[str, str]:
    """Train ``config`` on ``data`` (with the runs' BLAS threads, :func:`fit`'s default);
    the exact values kept."""
    result = fit(config, data, progress=False)
    h = hashlib.sha256()
    for layer in result.params:
        for name in sorted(layer):
            h.update(name.encode())
            h.update(np.ascontiguousarray(layer[name]).tobytes())
    last = result.history.iloc[-1]
    return {"train_cost": _bits(last["train_cost"]), "val_accuracy": _bits(last["val_accuracy"]),
            "test_cost": _bits(result.test["cost"]),
            "test_accuracy": _bits(result.test["accuracy"]),
            "params_sha256": h.hexdigest()[:32]}


def compute() -> dict[str, dict[str, str]]:
    """Every golden run's fingerprint."""
    data = golden_data()
    return {name: fingerprint(config, data) for name, config in GOLDEN_CONFIGS.items()}


def write(path: Path = GOLDEN_FILE) -> dict[str, Any]:
    """Train the golden runs and write their results with the environment they ran in."""
    golden = {"numerics_version": NUMERICS_VERSION, "environment": environment(simd=True),
              "runs": compute()}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    return golden


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"train the golden runs and write them to {GOLDEN_FILE}")
    args = parser.parse_args(argv)
    if not args.write:
        print(json.dumps(compute(), indent=1))
        return 0
    golden = write()
    print(f"{len(golden['runs'])} golden runs written to {GOLDEN_FILE} for NUMERICS_VERSION "
          f"{NUMERICS_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
