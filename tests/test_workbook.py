"""Notebook helpers that read files: the benchmark table."""

import pandas as pd
import pytest

from bnnet.workbook import load_benchmark


def write_bench(path, **override):
    rows = []
    for net in ("3-layer", "9-layer"):
        for lib, seconds in (("bnnet", 0.5), ("pytorch", 0.8)):
            rows.append({"net": net, "task": "train epoch", "library": lib,
                         "seconds": seconds, "ratio_to_pytorch": seconds / 0.8,
                         "percent_of_limit": 10 / seconds, "peak_rss_mib": 900 + seconds,
                         "matmul_limit_gflops": 190.0, "threads": 2, **override})
    pd.DataFrame(rows).to_csv(path, index=False)


def test_benchmark_table_puts_bnnet_beside_pytorch(tmp_path):
    write_bench(tmp_path / "bench.csv")
    table, limit, threads = load_benchmark(tmp_path / "bench.csv")
    assert (limit, threads) == (190.0, 2)
    assert list(table["net"]) == ["3-layer", "9-layer"]
    assert table["bnnet / PyTorch"].tolist() == pytest.approx([0.625, 0.625])
    assert table["bnnet % of limit"].tolist() == pytest.approx([20.0, 20.0])
    assert table["peak RSS (MiB)"].tolist() == pytest.approx([900.8, 900.8])


def test_missing_or_foreign_benchmark_file_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make bench"):
        load_benchmark(tmp_path / "nothing.csv")
    pd.DataFrame({"net": ["3-layer"], "seconds": [1.0]}).to_csv(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="lacks the columns"):
        load_benchmark(tmp_path / "x.csv")
