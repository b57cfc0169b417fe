"""The benchmark table that ``make bench`` writes, as the report shows it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bnnet.files import PROJECT_ROOT

BENCH_COLUMNS = ("net", "task", "library", "seconds", "ratio_to_floor", "ratio_to_pytorch",
                 "ratio_to_torch_compile", "percent_of_limit", "peak_rss_mib",
                 "matmul_limit_gflops", "threads")

#: The libraries of ``scripts/bench.py`` by the names the report gives them, in its order.
LIBRARIES = {
    "floor": "floor",
    "bnnet": "bnnet (Numba)",
    "bnnet detected": "bnnet (Numba, CPU's kernel)",
    "bnnet numpy": "bnnet (NumPy)",
    "pytorch": "PyTorch eager",
    "torch.compile": "torch.compile",
}


#: Where ``make bench`` writes its table (committed, so a report shows it without PyTorch).
BENCH_CSV = PROJECT_ROOT / "report" / "results" / "bench.csv"


def find_benchmark(path: str | os.PathLike | None = None) -> Path | None:
    """The benchmark CSV (``path``, else :data:`BENCH_CSV`), or ``None`` if there is none."""
    path = Path(path) if path is not None else BENCH_CSV
    return path if path.is_file() else None


def load_benchmark(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, float, int]:
    """The CSV written by ``make bench``: one row per net, task and library, with its time
    as a multiple of the floor, of torch.compile and of PyTorch eager (where measured).

    Args:
        path: the CSV; ``None`` = ``report/results/bench.csv`` of the project (the committed
            benchmark, so that a report can show it without PyTorch installed).

    Returns:
        the table (columns named for the reader, libraries by :data:`LIBRARIES`), the
        matmul limit (GFLOP/s) and the number of threads.
    """
    found = find_benchmark(path)
    if found is None:
        path = Path(path) if path is not None else BENCH_CSV
        raise FileNotFoundError(f"no benchmark at {path}: run `make bench` first (it needs "
                                "PyTorch, see requirements-bench.txt)")
    path = found
    raw = pd.read_csv(path)
    missing = [c for c in BENCH_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}: it was not written by "
                         "scripts/bench.py; run `make bench` again")
    table = pd.DataFrame({
        "net": raw["net"], "task": raw["task"],
        "library": raw["library"].map(lambda name: LIBRARIES.get(name, name)),
        "seconds": raw["seconds"],
        "× floor": raw["ratio_to_floor"],
        "× torch.compile": raw["ratio_to_torch_compile"],
        "× eager": raw["ratio_to_pytorch"],
        "% of limit": raw["percent_of_limit"],
        "RSS (MiB)": raw["peak_rss_mib"],
        # benchmarks written before the kernel was pinned do not say
        "BLAS kernel": raw["blas_kernel"] if "blas_kernel" in raw.columns else "",
    })
    return table, float(raw["matmul_limit_gflops"].iloc[0]), int(raw["threads"].iloc[0])
