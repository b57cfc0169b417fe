"""Sphinx configuration of bnnet's documentation site (``make docs``).

Offline by design: no intersphinx, no remote assets, no notebook execution. The study's
executed notebooks are rendered from ``report/executed/`` when a ``make report`` left them
there (see ``_ext/study_pages.py``); without them the "Study" page says how to make them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import bnnet  # noqa: E402  (pins the BLAS kernel before anything loads NumPy)

project = "bnnet"
author = "the bnnet authors"
copyright = "the bnnet authors"
release = version = bnnet.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and .ipynb notebooks (it sets up myst_parser itself)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "study_pages",  # _ext/study_pages.py: the executed notebooks, copied in at build time
]

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# MyST: $math$, definition lists, ::: fences; headings get anchors for links like
# guides/workbook.md#papermill
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3

# MyST-NB: the notebooks are shown as executed by make report, never run here; their code
# stays hidden, as in the PDF
nb_execution_mode = "off"
nb_remove_code_source = True
nb_render_markdown_format = "myst"  # the prose outputs carry $math$
nb_output_stderr = "remove"  # progress bars and kernel chatter, as in the PDF
nb_merge_streams = True

# API reference from the docstrings (NumPy/Google sections through napoleon). autosummary
# writes a stub per module into api/generated/ and never removes one: a stub of a module
# that moved or went away would fail the build, so the stubs are written anew every time
shutil.rmtree(HERE / "api" / "generated", ignore_errors=True)
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# a dataclass's "Attributes:" as fields of its entry: autodoc documents the attributes too,
# and two entries of one attribute are a warning
napoleon_use_ivar = True

# MathJax 3 from the sphinx-mathjax-offline package (requirements.txt), copied into the
# build: the formulas render without a network. Without that package, Sphinx's default
# (a CDN) is used, and offline the TeX shows as written.
_MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2")


def _mathjax_folder() -> Path | None:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")  # its package has a dash
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return folder if all((folder / f).exists() for f in _MATHJAX_FILES) else None


MATHJAX = _mathjax_folder()
if MATHJAX is not None:
    mathjax_path = "mathjax/tex-chtml.js"


def _copy_mathjax(app, exception) -> None:
    """Only what tex-chtml.js loads (1.5 MB), not the package's 24 MB of MathJax."""
    if MATHJAX is None or exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in _MATHJAX_FILES:
        source = MATHJAX / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)

html_theme = "pydata_sphinx_theme"
html_title = "bnnet"
html_static_path = ["_static"]
html_css_files = ["bnnet.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
# the guides are single pages: no section navigation beside them, the width for tables
html_sidebars = {"index": [], "history": [], "guides/*": []}


#: |a - b| in a docstring's plain text is math, not a reStructuredText substitution
_BARS = re.compile(r"(?<![|\\])\|(?=[^|\s])([^|\n]*?[^|\s])\|(?!\|)")


def _literal_bars(app, what, name, obj, options, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("|", "+")):  # a table
            continue
        parts = line.split("``")
        parts[::2] = [_BARS.sub(r"\\|\1\\|", part) for part in parts[::2]]
        lines[i] = "``".join(parts)


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _literal_bars)
    app.connect("build-finished", _copy_mathjax)
