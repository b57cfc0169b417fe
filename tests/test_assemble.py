"""The executed notebooks into one notebook for the PDF, and the title page's facts."""

from bnnet.report import assemble as builder


def test_title_page_training_time_says_where_the_runs_came_from():
    assert builder.training_time({"runs": 3, "seconds": 600.0, "trained_now": 0}) == \
        "10.0 min in 3 runs (all trained earlier and read back)"
    assert builder.training_time({"runs": 3, "seconds": 60.0, "trained_now": 3}) == \
        "1.0 min in 3 runs (all trained for this report)"
    assert "1 trained for this report, 2 earlier and read back" in builder.training_time(
        {"runs": 3, "seconds": 60.0, "trained_now": 1})


def test_title_page_names_the_training_path_of_the_runs():
    assert builder.training_path({"numba": 138}) == (
        "the fast path, compiled Numba kernels between the BLAS products (all 138 runs)")
    assert builder.training_path({"numba": 2, "numpy": 1}) == (
        "the fast path, compiled Numba kernels between the BLAS products: 2 runs; "
        "the NumPy reference: 1 run")
    assert builder.training_path({}) == "no runs"


def test_a_lab_only_cell_stays_out_of_the_report():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Runs for 5 minutes.", metadata={"tags": ["lab-only"]}),
        nbformat.v4.new_markdown_cell("# Section")])
    assert [c.source for c in builder.clean_cells(nb)] == ["# Section"]


def test_title_page_names_the_blas_kernel_of_the_runs():
    assert builder.blas_kernel({("Haswell", "0.3.31"): 138}) == (
        "OpenBLAS 0.3.31, Haswell kernel (all 138 runs)")
    assert builder.blas_kernel({("Haswell", "0.3.31"): 2, ("SkylakeX", "0.3.31"): 1}) == (
        "OpenBLAS 0.3.31, Haswell kernel: 2 runs; OpenBLAS 0.3.31, SkylakeX kernel: 1 run")
    assert builder.blas_kernel({("", ""): 3}) == "not recorded (all 3 runs)"
    assert builder.blas_kernel({}) == "no runs"


def test_the_abstract_computed_last_opens_the_report(tmp_path):
    import nbformat

    intro = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Introduction")])
    outro = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Conclusion"),
        nbformat.v4.new_markdown_cell("**Abstract.** BN helps.",
                                      metadata={"tags": [builder.ABSTRACT]})])
    paths = [tmp_path / "00.ipynb", tmp_path / "07.ipynb"]
    for nb, path in zip((intro, outro), paths, strict=True):
        nbformat.write(nb, path)
    combined = builder.combine(paths, quick=False, data_source="test", seconds=1.0,
                               commit="abc")
    assert [c.source for c in combined.cells] == [
        "**Abstract.** BN helps.", "# Introduction", "# Conclusion"]
