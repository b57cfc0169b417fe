"""References to tables and figures by number (bnnet.report.refs)."""

import pytest

from bnnet.report.refs import RefError, float_numbers, number_captions, ref, resolve


def table_output(name: str) -> dict:
    return {"output_type": "display_data", "data": {
        "text/latex": f"\\begin{{table}}[htbp]\n\\caption{{Caption}}\n\\label{{tab:{name}}}\n"
                      "\\end{table}",
        "text/html": "<table><caption>Caption</caption></table>"}}


def figure_output(name: str, folder: str = "/abs/figures") -> dict:
    return {"output_type": "display_data", "data": {
        "text/latex": "\\begin{figure}[htbp]\n\\includegraphics[width=0.95\\linewidth]"
                      f"{{{folder}/{name}.png}}\n\\caption{{A figure}}\n\\end{{figure}}",
        "text/html": "<figure><img/><figcaption>A figure</figcaption></figure>"}}


def code(*outputs: dict) -> dict:
    return {"cell_type": "code", "source": "", "outputs": list(outputs)}


def test_tables_and_figures_are_numbered_apart_in_the_order_they_are_shown():
    cells = [code(table_output("a"), figure_output("f")), {"cell_type": "markdown",
                                                          "source": "text"},
             code(figure_output("g", "../../figures")), code(table_output("b"))]
    assert float_numbers(cells) == {("table", "a"): 1, ("figure", "f"): 1,
                                    ("figure", "g"): 2, ("table", "b"): 2}


def test_a_reference_becomes_the_number_in_sources_and_prose_outputs():
    cells = [code(table_output("a"), table_output("b"), figure_output("f")),
             {"cell_type": "markdown", "source": ["See ", ref("b"), "."]},
             code({"output_type": "display_data", "data": {
                 "text/markdown": f"As {ref('f', 'figure')} and {ref('a')} show.",
                 "text/plain": "<Markdown>"}})]
    resolve(cells, float_numbers(cells))
    assert cells[1]["source"] == "See Table\u00a02."
    assert cells[2]["outputs"][0]["data"]["text/markdown"] == (
        "As Figure\u00a01 and Table\u00a01 show.")


def test_a_reference_to_a_float_nobody_shows_stops_with_its_name():
    cells = [code(table_output("a")), {"cell_type": "markdown", "source": ref("gone")}]
    with pytest.raises(RefError, match=r"'gone'.*its tables: a"):
        resolve(cells, float_numbers(cells))
    # a figure is not found among the tables of the same name
    cells = [code(table_output("a")), {"cell_type": "markdown", "source": ref("a", "figure")}]
    with pytest.raises(RefError, match="figure 'a'"):
        resolve(cells, float_numbers(cells))
    with pytest.raises(ValueError, match="kind='plot'"):
        ref("a", "plot")


def test_pages_show_the_number_in_each_caption():
    cells = [code(table_output("a"), figure_output("f"))]
    number_captions(cells, float_numbers(cells))
    table, figure = (o["data"]["text/html"] for o in cells[0]["outputs"])
    assert table == "<table><caption>Table 1: Caption</caption></table>"
    assert figure == "<figure><img/><figcaption>Figure 1: A figure</figcaption></figure>"
