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


def test_table_rows_starting_with_a_bracket_stay_rows_in_latex(tmp_path, monkeypatch):
    from bnnet.workbook import show_table

    monkeypatch.setenv("BNNET_RESULTS_DIR", str(tmp_path))
    table = pd.DataFrame({"net": ["[50, 50]", "[200, 200] + dropout"], "acc": [0.5, 0.6]})
    latex = show_table(table, "t", "caption").data["text/latex"]
    rows = [line for line in latex.splitlines() if line.endswith("\\\\")]
    assert rows[1].startswith("{}[50, 50] &") and rows[2].startswith("{}[200, 200]")
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == '"[50, 50]",0.5'
