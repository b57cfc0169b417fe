"""Sphinx configuration of bnnet's documentation site (``make docs``).

Offline by design: no intersphinx, no remote assets, no notebook execution. The study's
pages are rendered from the committed notebooks of ``report/notebooks/`` (see
``_ext/study_pages.py``; without them the "Study" page says how to make them), the
landing page's results from the committed tables (``_ext/study_findings.py``), and the
committed PDF is copied to the site's root.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import bnnet.blas  # noqa: E402  (first: pins the BLAS kernel before NumPy loads)

import public_api  # noqa: E402  (_ext/)
import study_pages  # noqa: E402  (_ext/)

import bnnet  # noqa: E402

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
    "sphinx_copybutton",  # a copy button on every code block
    "study_pages",  # _ext/study_pages.py: the study's notebooks, copied in at build time
    "study_findings",  # _ext/study_findings.py: the results, from report/results/*.csv
    "public_api",  # _ext/public_api.py: bnnet.fit, not bnnet.core.train.fit
]

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# MyST: $math$, definition lists, ::: fences, ~~struck through~~ (a quick build's
# contradicted claims); headings get anchors for links like guides/workbook.md#papermill
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "attrs_inline",
                          "strikethrough"]
# strikethrough exists for HTML only; this site builds nothing else
suppress_warnings = ["myst.strikethrough"]
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
# the public objects of bnnet have pages of their own; the module pages leave them out
autosummary_context = {"public_names": public_api.public_names()}

# the copy button leaves out the prompts of a doctest and of a shell (">>> ", "... ", "$ ")
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

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
    # "On this page" on the right, but for a guide and a section of the study: their
    # contents go left, under their neighbours, so that code blocks and tables get the width
    "secondary_sidebar_items": {page: ["page-toc"] for page in ("index", "history", "api/**")},
}
html_show_sourcelink = False
# the landing page and the build history stand alone; the guides, the study's sections
# and the API pages list their neighbours on the left
html_sidebars = {"index": [], "history": [], "guides/*": ["sidebar-nav-bs", "page-toc"],
                 "study/*": ["sidebar-nav-bs", "page-toc"]}
if not study_pages.sections(study_pages.notebooks_folder()):
    html_sidebars["study/index"] = []  # the note that says how to make them: no neighbours
else:
    html_sidebars["study/index"] = ["sidebar-nav-bs"]

# the committed PDF at the site's root (the role {report-pdf} links it)
html_extra_path = [str(study_pages.REPORT_PDF)] if study_pages.REPORT_PDF.is_file() else []


#: |a - b| in a docstring's plain text is math, not a reStructuredText substitution
_BARS = re.compile(r"(?<![|\\])\|(?=[^|\s])([^|\n]*?[^|\s])\|(?!\|)")


def _literal_bars(app, what, name, obj, options, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("|", "+")):  # a table
            continue
        parts = line.split("``")
        parts[::2] = [_BARS.sub(r"\\|\1\\|", part) for part in parts[::2]]
        lines[i] = "``".join(parts)


#: words, not a type: "Total number of parameter updates" (a type reads "int | None")
_PROSE = re.compile(r"[A-Za-z]+ [A-Za-z]+")


def _no_type_from_prose(app, what, name, obj, options, lines: list[str]) -> None:
    """``autodoc-process-docstring``, after napoleon: napoleon reads the text before the
    first colon of an attribute's or property's docstring as its type ("Total number of
    parameter updates: ``2 * n_s * cycles``" would show "Type: Total number of parameter
    updates"), once per docstring style, so a second colon makes a second "type"; words
    (or a literal) are put back in front of the text they began."""
    if what not in ("attribute", "data", "property"):
        return
    types = []
    while len(lines) >= 2 and lines[-2] == "" and lines[-1].startswith(":type: "):
        types.insert(0, lines[-1].removeprefix(":type: "))
        del lines[-2:]
    if len(types) == 1 and not (_PROSE.search(types[0]) or types[0].startswith("``")):
        lines.extend(["", f":type: {types[0]}"])  # a type indeed
        return
    for text in reversed(types):  # the last one taken off the text came first
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            lines.append(text)
        else:
            lines[first] = f"{text}: {lines[first].lstrip()}"


def _source_of_code_only(app, modname: str, fullname: str) -> str | None:
    """``viewcode-follow-imported``: follow a documented name to the module that defines it
    only for code (a class, a function); a constant stays with the module it is documented
    in. Otherwise viewcode follows a value's type: a ``Path`` constant to ``pathlib``, a
    type alias to ``builtins``, whose source it cannot show, yet lists on
    ``_modules/index.html`` with a link to a page it never writes."""
    try:
        obj = importlib.import_module(modname)
        for part in fullname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    code = inspect.isclass(obj) or inspect.isroutine(obj) or isinstance(obj, property)
    return None if code else modname


def _fields_once(app, what, name, obj, options, signature, return_annotation) -> None:
    """``autodoc-process-signature``, after autodoc's own: a dataclass's fields are
    described, with their types, under its docstring's ``Attributes:``; the parameter list
    its signature's type hints would add repeats them, names and types only, so it goes."""
    if what == "class" and dataclasses.is_dataclass(obj):
        document = getattr(app.env, "current_document", None)
        annotations = getattr(document, "autodoc_annotations", None)
        if isinstance(annotations, dict):
            annotations.pop(name, None)


def _no_page_no_entry(app):
    """``html-collect-pages``, before viewcode's: forget the modules viewcode found no
    source for, which it would list on ``_modules/index.html`` all the same."""
    modules = getattr(app.env, "_viewcode_modules", {})
    for name in [name for name, entry in modules.items() if entry is False]:
        del modules[name]
    return []


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _no_type_from_prose, priority=600)
    app.connect("autodoc-process-docstring", _literal_bars)
    app.connect("viewcode-follow-imported", _source_of_code_only)
    app.connect("autodoc-process-signature", _fields_once)
    app.connect("html-collect-pages", _no_page_no_entry, priority=400)
    app.connect("build-finished", _copy_mathjax)
