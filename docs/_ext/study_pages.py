"""The study's executed notebooks as pages of the documentation, copied in at build time.

``make report`` leaves the executed notebooks in ``report/executed/`` (gitignored). When
the build starts, this extension copies ``NN_name.ipynb`` from there (or from the folder
``BNNET_DOCS_NOTEBOOKS`` names) into ``study/`` beside the documentation's sources and
writes ``study/index.md``, their table of contents. Without executed notebooks that page
says how to make them, and the build passes all the same. The folder is generated
(gitignored) and rewritten on every build: what is not in the source folder any more is
removed, so a page never outlives its notebook. (The guides show the project's figures by
their path, ``../../figures/...``, which reads the same on GitHub.)
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sphinx.application import Sphinx

from bnnet.files import PROJECT_ROOT

#: Environment variable: the folder of executed notebooks to render (default below).
NOTEBOOKS_ENV = "BNNET_DOCS_NOTEBOOKS"
DEFAULT_NOTEBOOKS = PROJECT_ROOT / "report" / "executed"
#: An executed section of the report: 00_introduction.ipynb ... 08_benchmark.ipynb.
SECTION = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")

MISSING = """\
# The study

The study's notebooks, as executed by `make report`, are shown here when they exist: this
build found none in `{folder}`. They are not committed (the PDF they make is:
`report/report.pdf` in the repository); to render them here, run

```bash
make report        # the study, about 30 minutes on 2 cores (make report QUICK=1: 2 minutes)
make docs          # then copies report/executed/*.ipynb into these pages
```

`BNNET_DOCS_NOTEBOOKS=report/quick/executed make docs` renders a quick build's notebooks
instead (every page of a quick build says that it is one).
"""

FOUND = """\
# The study

The report's sections as executed by `make report` ({source}), one page each, code hidden
as in the PDF. The same tables and figures are in `report/report.pdf`.

```{{toctree}}
:maxdepth: 1

{entries}
```
"""


def notebooks_folder() -> Path:
    folder = os.environ.get(NOTEBOOKS_ENV)
    return Path(folder).expanduser().resolve() if folder else DEFAULT_NOTEBOOKS


#: Cells for someone who opens the notebook, left out of the pages as out of the PDF: the
#: parameters and the "Running it" note (``bnnet.report.assemble.LAB_ONLY``).
HIDDEN_TAGS = {"parameters", "injected-parameters", "lab-only"}


def page_of(notebook: Path) -> str:
    """The notebook as the page shows it: the cells of :data:`HIDDEN_TAGS` tagged
    ``remove-cell`` (MyST-NB leaves them out), everything else as executed."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if HIDDEN_TAGS & set(tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def sync(source: Path, target: Path, names: list[str]) -> None:
    """Make ``target`` hold exactly the notebooks ``names`` of ``source``, as pages (files
    that did not change are left alone, so that Sphinx re-reads only what changed)."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        if old.is_file() and old.name not in names and old.name != "index.md":
            old.unlink()
    for name in names:
        write_if_changed(target / name, page_of(source / name))


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def study_pages(app: Sphinx) -> None:
    srcdir = Path(app.srcdir)
    folder = notebooks_folder()
    names = sorted(p.name for p in folder.glob("*.ipynb") if SECTION.match(p.name)) \
        if folder.is_dir() else []
    study = srcdir / "study"
    sync(folder, study, names)
    try:
        shown = folder.relative_to(PROJECT_ROOT)
    except ValueError:
        shown = folder
    if names:
        entries = "\n".join(Path(n).stem for n in names)
        text = FOUND.format(source=f"`{shown}`", entries=entries)
    else:
        text = MISSING.format(folder=shown)
    write_if_changed(study / "index.md", text)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", study_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
