"""The report: tables into notebooks and the PDF.

Notebook parameters and set-up (:mod:`~bnnet.report.notebook`), tables and figures that
render in JupyterLab and in the PDF (:mod:`~bnnet.report.display`, with the checks of
:mod:`~bnnet.report.figure_checks` and the LaTeX of :mod:`~bnnet.report.latex`), prose
computed from results (:mod:`~bnnet.report.prose`), plots, and the benchmark table.
Imports :mod:`bnnet.study`, :mod:`bnnet.core` and the modules beneath them.
"""
