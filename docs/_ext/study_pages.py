"""The study as pages of the documentation, from the committed notebooks, nothing run.

``make report`` writes each executed section of the report, its figures by reference to
``figures/*.png``, into ``report/notebooks/`` (:mod:`bnnet.report.pages`), and those files
are committed: a fresh clone shows the study here without building anything. When the
build starts, this extension copies ``NN_name.ipynb`` from there (or from the folder
``BNNET_DOCS_NOTEBOOKS`` names: a quick build's ``report/quick/notebooks``, or executed
notebooks as ``make report`` leaves them, figures embedded) into ``study/`` beside the
documentation's sources, each figure as a MyST figure of its PNG, and writes
``study/index.md``: the abstract (printed first in the PDF, as here) and the sections'
table of contents. Without pages, ``study/index.md`` says which command makes them and
links the PDF, and the build passes all the same. ``study/`` is generated (gitignored) and
rewritten on every build: what is not in the source folder any more is removed, so a page
never outlives its notebook.

It also adds the role ``report-pdf`` (in MyST: ``{report-pdf}`the report```): a link to the
committed PDF, which the build copies to the site's root (``html_extra_path`` in
``conf.py``), or the words "not built yet" when there is no PDF.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

from bnnet.files import PROJECT_ROOT
from bnnet.report.pages import FIGURE_KEY, STUDY_EXECUTED, STUDY_PAGES

#: Environment variable: the folder of notebooks to render (default :data:`STUDY_PAGES`).
NOTEBOOKS_ENV = "BNNET_DOCS_NOTEBOOKS"
DEFAULT_NOTEBOOKS = STUDY_PAGES
REPORT_PDF = PROJECT_ROOT / "report" / "report.pdf"
#: A section of the report: 00_introduction.ipynb ... 08_benchmark.ipynb.
SECTION = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
#: The cell (in the conclusion) whose output opens the report
#: (``bnnet.report.assemble.ABSTRACT``).
ABSTRACT = "abstract"

MISSING = """\
# The study

Each section of {report} appears here as a page, with its text, tables and figures as
`make report` executed them, from the notebooks it writes to `{default}/`. This build
found none in `{folder}`.

{how}

Until then, the whole study is in {report}.
"""

#: What MISSING says to do: executed notebooks are there, or they are not.
HOW_FROM_EXECUTED = """\
The last `make report` left executed notebooks in `{executed}/`; one command makes the
pages from them (and `git add {default}` commits them, as `make report` now writes them
itself):

```bash
make study-pages   # report/executed/ and figures/ -> report/notebooks/
make docs
```
"""
HOW_FROM_BUILD = """\
`make report` writes them (a cold build takes the time the README gives; `make report
QUICK=1` about 2 minutes, into `report/quick/`):

```bash
make report
make docs
```

`BNNET_DOCS_NOTEBOOKS=report/quick/notebooks make docs` renders a quick build's pages
instead (every page of a quick build says that it is one).
"""

FOUND = """\
# The study

Each section of {report} as a page: the report's text, tables and figures as `make report`
executed them ({source}), the code hidden as in the PDF.

{abstract}

```{{toctree}}
:maxdepth: 1
:caption: Sections

{entries}
```
"""


def notebooks_folder() -> Path:
    folder = os.environ.get(NOTEBOOKS_ENV)
    return Path(folder).expanduser().resolve() if folder else DEFAULT_NOTEBOOKS


def sections(folder: Path) -> list[str]:
    """The report's sections in ``folder`` (file names, in order)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*.ipynb") if SECTION.match(p.name))


#: Cells for someone who opens the notebook, left out of the pages as out of the PDF: the
#: parameters and the "Running it" note (``bnnet.report.assemble.LAB_ONLY``), and the
#: abstract, which opens the study's index page instead.
HIDDEN_TAGS = {"parameters", "injected-parameters", "lab-only", ABSTRACT}

#: Characters that Markdown would read as markup in a caption (escaped with a backslash).
_MARKUP = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


def _figure_markdown(path: str, caption: str) -> str:
    """A MyST figure of the PNG at ``path`` (relative to the page), with its caption."""
    text = _MARKUP.sub(r"\\\1", " ".join(caption.split()))
    alt = " ".join(caption.split()).replace("\n", " ")
    return f"```{{figure}} {path}\n:alt: {alt}\n\n{text}\n```\n"


def _figure_output(output: dict, source: Path, target: Path) -> dict:
    """A figure of a committed page (:data:`FIGURE_KEY`) as Markdown that shows its PNG:
    Sphinx then copies the image into the site."""
    ref = output["metadata"][FIGURE_KEY]
    png = (source / ref["path"]).resolve()
    if png.is_file():
        text = _figure_markdown(Path(os.path.relpath(png, target.resolve())).as_posix(),
                                ref.get("caption", ""))
    else:  # a figure deleted since: the caption and where the PNG should be, no warning
        text = f"*(Figure `{ref['path']}` is missing.)* {ref.get('caption', '')}\n"
    return {**output, "data": {"text/markdown": text, "text/plain": text}}


def page_of(notebook: Path, target: Path) -> str:
    """The notebook as the page in folder ``target`` shows it: the cells of
    :data:`HIDDEN_TAGS` tagged ``remove-cell`` (MyST-NB leaves them out), each figure of a
    committed page as a MyST figure, everything else as executed."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if HIDDEN_TAGS & set(tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.get("cell_type") == "code":
            cell["outputs"] = [_figure_output(o, notebook.parent, target)
                               if FIGURE_KEY in o.get("metadata", {}) else o
                               for o in cell.get("outputs", [])]
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def abstract_of(notebook: Path) -> str:
    """The Markdown the abstract cell displayed (empty if the notebook has none)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if ABSTRACT in cell.get("metadata", {}).get("tags", []):
            return "\n\n".join(
                "".join(o["data"]["text/markdown"]) if isinstance(
                    o["data"]["text/markdown"], list) else o["data"]["text/markdown"]
                for o in cell.get("outputs", []) if "text/markdown" in o.get("data", {}))
    return ""


def sync(source: Path, target: Path, names: list[str]) -> None:
    """Make ``target`` hold exactly the notebooks ``names`` of ``source``, as pages (files
    that did not change are left alone, so that Sphinx re-reads only what changed)."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        if old.is_file() and old.name not in names and old.name != "index.md":
            old.unlink()
    for name in names:
        write_if_changed(target / name, page_of(source / name, target))


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def shown(folder: Path) -> str:
    try:
        return str(folder.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(folder)


def index_text(folder: Path, names: list[str]) -> str:
    """``study/index.md``: the abstract and the sections, or how to make them."""
    report = "{report-pdf}`the report (PDF)`"
    if names:
        abstract = "\n\n".join(abstract_of(folder / n) for n in names)
        return FOUND.format(report=report, source=f"`{shown(folder)}`",
                            abstract=abstract.strip(),
                            entries="\n".join(Path(n).stem for n in names))
    executed = sections(STUDY_EXECUTED)
    how = (HOW_FROM_EXECUTED if executed and folder == DEFAULT_NOTEBOOKS
           else HOW_FROM_BUILD).format(executed=shown(STUDY_EXECUTED),
                                       default=shown(DEFAULT_NOTEBOOKS))
    return MISSING.format(report=report, default=shown(DEFAULT_NOTEBOOKS),
                          folder=shown(folder), how=how.strip())


def study_pages(app: Sphinx) -> None:
    srcdir = Path(app.srcdir)
    folder = notebooks_folder()
    names = sections(folder)
    study = srcdir / "study"
    sync(folder, study, names)
    write_if_changed(study / "index.md", index_text(folder, names))


def report_pdf_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{report-pdf}`the report```: a link to ``report.pdf`` at the site's root (the
    committed PDF, copied there by the build), or the text and "(not built yet)"."""
    label = text or "report.pdf"
    if not REPORT_PDF.is_file():
        return [nodes.Text(f"{label} (report/report.pdf, not built yet: make report)")], []
    docname = inliner.document.settings.env.docname
    uri = "../" * docname.count("/") + REPORT_PDF.name
    return [nodes.reference(rawtext, label, refuri=uri, classes=["report-pdf"])], []


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", study_pages)
    app.add_role("report-pdf", report_pdf_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
