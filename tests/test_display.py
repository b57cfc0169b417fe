"""Notebook display: tables and figures for JupyterLab and the PDF, the benchmark table."""

import pandas as pd
import pytest

from bnnet.report.benchmark import load_benchmark


def write_bench(path, **override):
    rows = []
    times = {"floor": 0.4, "bnnet": 0.5, "bnnet numpy": 0.6, "pytorch": 1.0,
             "torch.compile": 0.8}
    for net in ("3-layer", "9-layer"):
        for lib, seconds in times.items():
            rows.append({"net": net, "task": "train epoch", "library": lib,
                         "seconds": seconds, "ratio_to_floor": seconds / 0.4,
                         "ratio_to_pytorch": seconds / 1.0,
                         "ratio_to_torch_compile": seconds / 0.8,
                         "percent_of_limit": 10 / seconds, "peak_rss_mib": 900 + seconds,
                         "matmul_limit_gflops": 190.0, "threads": 2, **override})
    pd.DataFrame(rows).to_csv(path, index=False)


def test_benchmark_table_names_libraries_and_ratios_for_the_reader(tmp_path):
    write_bench(tmp_path / "bench.csv")
    table, limit, threads = load_benchmark(tmp_path / "bench.csv")
    assert (limit, threads) == (190.0, 2)
    assert list(table.columns) == ["net", "task", "library", "seconds", "× floor",
                                   "× torch.compile", "× eager", "% of limit",
                                   "RSS (MiB)", "BLAS kernel"]
    assert set(table["BLAS kernel"]) == {""}  # a benchmark from before the kernel was pinned
    write_bench(tmp_path / "pinned.csv", blas_kernel="Haswell")
    assert set(load_benchmark(tmp_path / "pinned.csv")[0]["BLAS kernel"]) == {"Haswell"}
    fast = table[table["library"] == "bnnet (Numba)"]
    assert list(fast["net"]) == ["3-layer", "9-layer"]
    assert fast["× floor"].tolist() == pytest.approx([1.25, 1.25])
    assert fast["× torch.compile"].tolist() == pytest.approx([0.625, 0.625])
    assert set(table["library"]) == {"floor", "bnnet (Numba)", "bnnet (NumPy)",
                                     "PyTorch eager", "torch.compile"}


def test_missing_or_foreign_benchmark_file_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make bench"):
        load_benchmark(tmp_path / "nothing.csv")
    pd.DataFrame({"net": ["3-layer"], "seconds": [1.0]}).to_csv(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="lacks the columns"):
        load_benchmark(tmp_path / "x.csv")


def test_table_rows_starting_with_a_bracket_stay_rows_in_latex(tmp_path, monkeypatch):
    from bnnet.report.display import show_table

    monkeypatch.setenv("BNNET_RESULTS_DIR", str(tmp_path))
    table = pd.DataFrame({"net": ["[50, 50]", "[200, 200] + dropout"], "acc": [0.5, 0.6]})
    latex = show_table(table, "t", "caption").data["text/latex"]
    rows = [line for line in latex.splitlines() if line.endswith("\\\\")]
    assert rows[1].startswith("{}[50, 50] &") and rows[2].startswith("{}[200, 200]")
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == '"[50, 50]",0.5'


def test_show_figure_refuses_a_legend_no_reader_can_scan(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bnnet.report.display import show_figure
    from bnnet.report.figure_checks import MAX_LEGEND_ENTRIES, FigureError

    monkeypatch.setenv("BNNET_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=(6, 3))
    for k in range(MAX_LEGEND_ENTRIES + 1):
        ax.plot([0, 1], [k, k], label=f"seed {k}")
    ax.legend()
    with pytest.raises(FigureError, match=r"legend entries.*small multiples"):
        show_figure(fig, "crowded", "caption")
    assert not (tmp_path / "crowded.png").exists()

    fig, ax = plt.subplots(figsize=(6, 3))
    for k in range(MAX_LEGEND_ENTRIES):
        ax.plot([0, 1], [k, k], label=f"line {k}")
    ax.legend()
    bundle = show_figure(fig, "fine", "caption")
    assert (tmp_path / "fine.png").is_file()
    assert "keepaspectratio" in bundle.data["text/latex"]
    # JupyterLab ranks text/html above text/latex: the figure must come as an image there
    html = bundle.data["text/html"]
    assert html.startswith("<figure") and '<img src="data:image/png;base64,' in html
    assert "<figcaption>caption</figcaption>" in html


@pytest.mark.parametrize(("size", "problem"), [((3, 6), "taller than a page"),
                                                ((12, 1.5), "unreadably small")])
def test_show_figure_refuses_a_shape_no_page_can_hold(tmp_path, monkeypatch, size, problem):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bnnet.report.display import show_figure
    from bnnet.report.figure_checks import FigureError

    monkeypatch.setenv("BNNET_FIGURES_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=size)
    ax.plot([0, 1], [0, 1])
    with pytest.raises(FigureError, match=problem):
        show_figure(fig, "odd", "caption")


def test_committed_figures_fit_a_page():
    from pathlib import Path

    from bnnet.report.figure_checks import check_figure_shape, png_size

    figures = sorted((Path(__file__).resolve().parents[1] / "figures").glob("*.png"))
    assert figures
    for path in figures:
        check_figure_shape(*png_size(path.read_bytes()), path.name)


def test_wide_tables_are_shrunk_to_the_line_width(tmp_path, monkeypatch):
    from bnnet.report.display import show_table

    monkeypatch.setenv("BNNET_RESULTS_DIR", str(tmp_path))
    latex = show_table(pd.DataFrame({"a": [1.0]}), "t", "caption").data["text/latex"]
    begin, end = latex.index("\\begin{tabular}"), latex.index("\\end{tabular}")
    assert latex.rindex("\\begin{adjustbox}{max width=\\linewidth}", 0, begin) >= 0
    assert latex.index("\\end{adjustbox}", end) > end
