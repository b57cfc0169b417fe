"""One notebook of the whole report into a PDF with nbconvert and the project's LaTeX
template, with the LaTeX log kept and its failures and overfull boxes made readable."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert import PDFExporter
from nbconvert.exporters.pdf import LatexFailed
from traitlets.config import Config as TraitletsConfig

from bnnet.files import PROJECT_ROOT, atomic_path

TEMPLATE = PROJECT_ROOT / "scripts" / "report_template" / "bnnet.tex.j2"
OVERFULL_TOLERANCE_PT = 3.0  # what a reader cannot see; wider boxes run into the margin


class _LoggedPDFExporter(PDFExporter):
    """nbconvert's PDF exporter, keeping the LaTeX source and log of the last run
    (``latex_source``, ``latex_log``)."""

    latex_log = ""
    latex_source = ""

    def run_latex(self, filename, raise_on_failure=None):
        kwargs = {} if raise_on_failure is None else {"raise_on_failure": raise_on_failure}
        tex = Path(filename)
        if tex.is_file():
            self.latex_source = tex.read_text(encoding="utf-8", errors="replace")
        try:
            return super().run_latex(filename, **kwargs)
        finally:
            log = tex.with_suffix(".log")
            if log.is_file():
                self.latex_log = log.read_text(encoding="utf-8", errors="replace")


SECTION = re.compile(r"\\section\{(.*?)\}")


class PDFFailed(RuntimeError):
    """LaTeX could not build the PDF; the message says where and what to check."""


def latex_failure(log: str, source: str, log_path: Path | None) -> str:
    """One message for a failed LaTeX run: the first error, the line of the LaTeX source,
    and which input caused it (the title page's inputs, or the notebook whose section
    holds that line)."""
    error = next((line for line in log.splitlines() if line.startswith("! ")),
                 "! (no error line in the log)")
    where = re.search(r"^l\.(\d+)", log, re.M)
    line = int(where.group(1)) if where else None
    culprit = "an unknown part of the report"
    if line is not None:
        before = source.splitlines()[:line]
        sections = [m.group(1) for m in map(SECTION.match, before) if m]
        if sections:
            culprit = f"the section {sections[-1]!r}"
        elif any(s.startswith("\\begin{document}") for s in before) or not source:
            culprit = ("the title page: check --title/TITLE, --author/AUTHOR, --course/COURSE, "
                       "--assignment/ASSIGNMENT and --data-note")
        else:
            culprit = "the preamble (the title, author or the template)"
    at = f" at line {line} of the LaTeX source" if line is not None else ""
    log_hint = f"; the full log is {log_path}" if log_path is not None else ""
    return f"LaTeX could not build the PDF: {error[2:]}{at}, in {culprit}{log_hint}"


def overfull_hboxes(log: str, tolerance: float = OVERFULL_TOLERANCE_PT) -> list[str]:
    """The overfull \\hbox warnings of a LaTeX log wider than ``tolerance`` points."""
    return [m.group(0) for m in re.finditer(
        r"Overfull \\hbox \(([\d.]+)pt too wide\)[^\n]*", log)
        if float(m.group(1)) > tolerance]


def to_pdf(nb: nbformat.NotebookNode, out: Path, log_path: Path | None = None) -> list[str]:
    """Write the PDF (atomically) and the LaTeX log; return the overfull boxes."""
    c = TraitletsConfig()
    c.TemplateExporter.exclude_input = True
    c.TemplateExporter.exclude_input_prompt = True
    c.TemplateExporter.exclude_output_prompt = True
    exporter = _LoggedPDFExporter(config=c, template_file=str(TEMPLATE))
    exporter.verbose = False
    try:
        pdf, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": "report"}})
    except LatexFailed:
        if log_path is not None:
            log_path.write_text(exporter.latex_log, encoding="utf-8")
            log_path.with_suffix(".tex").write_text(exporter.latex_source, encoding="utf-8")
        raise PDFFailed(latex_failure(exporter.latex_log, exporter.latex_source,
                                      log_path)) from None
    with atomic_path(out) as tmp:
        tmp.write_bytes(pdf)
    if log_path is not None:
        log_path.write_text(exporter.latex_log, encoding="utf-8")
    return overfull_hboxes(exporter.latex_log)

