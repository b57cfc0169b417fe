"""The PDF: LaTeX failures in one line."""

from bnnet.report import pdf as builder


def test_a_latex_failure_names_the_input_and_the_log(tmp_path):
    source = "\\documentclass{article}\n\\title{A \\& B}\n\\begin{document}\n\\maketitle\n" \
             "\\section{Gradient check}\\label{gradient-check}\ntext & more\n\\end{document}\n"
    log = "This is XeTeX\n! Misplaced alignment tab character &.\nl.6 text &\n more\n"
    message = builder.latex_failure(log, source, tmp_path / "report.log")
    assert message.startswith("LaTeX could not build the PDF: Misplaced alignment tab")
    assert "line 6" in message and "'Gradient check'" in message
    assert str(tmp_path / "report.log") in message
    title_log = "! Undefined control sequence.\nl.4 \\maketitle\n"
    assert "the title page: check --title/TITLE, --author/AUTHOR" in builder.latex_failure(
        title_log, source, None)
