"""The benchmark table that ``make bench`` writes, as the report shows it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bnnet.files import PROJECT_ROOT

BENCH_COLUMNS = ("net", "task", "library", "seconds", "percent_of_limit", "peak_rss_mib",
                 "matmul_limit_gflops", "threads")


#: Where ``make bench`` writes its table (committed, so a report shows it without PyTorch).
BENCH_CSV = PROJECT_ROOT / "report" / "results" / "bench.csv"


def find_benchmark(path: str | os.PathLike | None = None) -> Path | None:
    """The benchmark CSV (``path``, else :data:`BENCH_CSV`), or ``None`` if there is none."""
    path = Path(path) if path is not None else BENCH_CSV
    return path if path.is_file() else None


def load_benchmark(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, float, int]:
    """The CSV written by ``make bench`` as one row per (net, task), bnnet beside PyTorch.

    Args:
        path: the CSV; ``None`` = ``report/results/bench.csv`` of the project (the committed
            benchmark, so that a report can show it without PyTorch installed).

    Returns:
        the wide table, the matmul limit (GFLOP/s) and the number of threads.
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
    wide = raw.pivot_table(index=["net", "task"], columns="library", sort=False,
                           values=["seconds", "percent_of_limit", "peak_rss_mib"])
    table = pd.DataFrame({
        "bnnet (s)": wide[("seconds", "bnnet")],
        "PyTorch (s)": wide[("seconds", "pytorch")],
        "bnnet / PyTorch": wide[("seconds", "bnnet")] / wide[("seconds", "pytorch")],
        "bnnet % of limit": wide[("percent_of_limit", "bnnet")],
        "PyTorch % of limit": wide[("percent_of_limit", "pytorch")],
        "peak RSS (MiB)": wide["peak_rss_mib"].max(axis=1),
    }).reset_index()
    return table, float(raw["matmul_limit_gflops"].iloc[0]), int(raw["threads"].iloc[0])
