"""The study's executed notebooks as committed, readable pages: ``report/notebooks/``.

``make report`` executes the notebooks into ``report/executed/``, which stays out of git:
each executed notebook embeds its figures as PNG (a second copy of ``figures/*.png``) and
records the paths and timings of the machine that ran it. :func:`write_pages` turns them
into copies fit to commit, one per section of the report (:data:`NOTEBOOKS`), which the
documentation site renders as the study's pages (``docs/_ext/study_pages.py``) without
running anything:

- every figure :func:`~bnnet.report.display.show_figure` displayed is replaced by a
  reference to the same PNG in the figures folder (``../../figures/02_curves_3layer.png``
  from ``report/notebooks/``), checked byte for byte, so no image is stored twice; the
  output's metadata names the file and caption (:data:`FIGURE_KEY`);
- stderr (progress bars) and widget outputs are dropped, as the PDF drops them;
- the machine's paths and the per-cell timings are dropped from the metadata.

Text, tables, prose and code stay as executed. ``make report`` writes the pages after its
notebooks have run (:mod:`bnnet.report.build`); ``make study-pages`` (this module's
:func:`main`) writes them from an existing ``report/executed/`` and ``figures/``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import sys
from pathlib import Path

import nbformat

from bnnet.files import PROJECT_ROOT, atomic_path
from bnnet.report.assemble import clean_cells
from bnnet.report.display import STUDY_FIGURES
from bnnet.report.notebook import NOTEBOOKS as _SPECS
from bnnet.report.refs import float_numbers, notebook_text, number_captions, resolve

#: The report's sections, in order: the notebooks a folder of pages holds.
NOTEBOOKS = list(_SPECS)
#: Where the committed study keeps them (a build with another output root: ``notebooks/``
#: beside its PDF).
STUDY_PAGES = PROJECT_ROOT / "report" / "notebooks"
STUDY_EXECUTED = PROJECT_ROOT / "report" / "executed"
#: The key, in a figure output's metadata, of the PNG it refers to and its caption:
#: ``{"path": "../../figures/x.png", "caption": "..."}``, the path relative to the notebook.
FIGURE_KEY = "bnnet_figure"
#: What a reader of the pages never sees: widget views (as in the PDF).
DROP_MIMETYPES = {"application/vnd.jupyter.widget-view+json"}

_DATA_URI = re.compile(r'src="data:image/png;base64,[^"]*"')
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
_INCLUDE = re.compile(r"(\\includegraphics(?:\[[^\]]*\])?\{)[^}]*(\})")


class PagesError(RuntimeError):
    """The executed notebooks cannot be turned into pages (missing, failed, or from another
    build than the figures)."""


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start`` (with ``..`` where needed), POSIX style."""
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def figure_index(figures: Path) -> dict[str, Path]:
    """The PNGs of a figures folder by the SHA-256 of their bytes."""
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p
            for p in sorted(figures.glob("*.png"))}


def _figure(output: dict, figures: dict[str, Path], target: Path, where: str) -> dict:
    """A figure output with its PNG replaced by a reference to the same file in the figures
    folder (:data:`FIGURE_KEY`)."""
    data = output["data"]
    png = base64.b64decode(notebook_text(data["image/png"]))
    found = figures.get(hashlib.sha256(png).hexdigest())
    shown = notebook_text(data.get("text/plain", "a figure"))
    if found is None:
        raise PagesError(
            f"{where}: the figure {shown} is not in the figures folder (no PNG there has its "
            "bytes): the executed notebooks and the figures come from different builds. Run "
            "make report again (it writes the pages itself)")
    path = _relative(found, target)
    new = {k: v for k, v in data.items() if k != "image/png"}
    caption = ""
    if "text/html" in new:
        page = _DATA_URI.sub(f'src="{html.escape(path)}"', notebook_text(new["text/html"]))
        new["text/html"] = page
        if match := _CAPTION.search(page):
            caption = html.unescape(match.group(1))
    if "text/latex" in new:  # the build machine's absolute path, made relative
        new["text/latex"] = _INCLUDE.sub(lambda m: m.group(1) + path + m.group(2),
                                         notebook_text(new["text/latex"]))
    metadata = {k: v for k, v in output.get("metadata", {}).items() if k != "image/png"}
    metadata[FIGURE_KEY] = {"path": path, "caption": caption}
    return {**output, "data": new, "metadata": metadata}


def page(notebook: dict, figures: dict[str, Path], target: Path, name: str,
         numbers: dict[tuple[str, str], int] | None = None) -> dict:
    """The executed notebook ``notebook`` (JSON) as the committed page in folder ``target``
    (see the module's description); ``numbers``: the report's tables and figures by number
    (:func:`report_numbers`), which its references and captions then show."""
    nb = json.loads(json.dumps(notebook))  # a copy
    if numbers is not None:
        resolve(nb.get("cells", []), numbers)
        number_captions(nb.get("cells", []), numbers)
    for index, cell in enumerate(nb.get("cells", []), start=1):
        metadata = cell.get("metadata", {})
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            metadata.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error":
                raise PagesError(f"{name}, cell {index}: an error ({output.get('ename')}: "
                                 f"{output.get('evalue')}); a failed build makes no pages")
            if kind == "stream" and output.get("name") == "stderr":
                continue
            data = output.get("data", {})
            if kind in ("display_data", "execute_result"):
                if DROP_MIMETYPES & set(data):
                    continue
                if "image/png" in data:
                    output = _figure(output, figures, target, f"{name}, cell {index}")
            outputs.append(output)
        cell["outputs"] = outputs
    metadata = nb.get("metadata", {})
    metadata.pop("widgets", None)
    papermill = metadata.get("papermill")
    if isinstance(papermill, dict):
        for key in ("input_path", "output_path", "environment_variables"):
            papermill.pop(key, None)
        papermill["input_path"] = f"notebooks/{name}.ipynb"
    return nb


def report_numbers(notebooks) -> dict[tuple[str, str], int]:
    """The numbers of the tables and figures the PDF prints from these executed notebooks
    (JSON, in the report's order): counted over the cells it prints
    (:func:`~bnnet.report.assemble.clean_cells`)."""
    cells = [cell for nb in notebooks
             for cell in clean_cells(nbformat.from_dict(json.loads(json.dumps(nb))))]
    return float_numbers(cells)


def write_pages(executed: Path = STUDY_EXECUTED, figures: Path = STUDY_FIGURES,
                target: Path = STUDY_PAGES) -> list[Path]:
    """Write the pages of every section executed in ``executed`` into ``target`` (created if
    needed), each figure a reference into ``figures``; remove the pages of sections that
    ``executed`` does not have (nothing else in ``target``). Returns the pages written.

    Raises:
        PagesError: ``executed`` has none of the report's notebooks, one of them holds an
            error, or a figure is not in ``figures`` byte for byte.
    """
    executed, figures, target = Path(executed), Path(figures), Path(target)
    names = [n for n in NOTEBOOKS if (executed / f"{n}.ipynb").is_file()]
    if not names:
        raise PagesError(f"{executed} holds none of the report's executed notebooks "
                         f"({NOTEBOOKS[0]}.ipynb ...): run make report first")
    index = figure_index(figures)
    notebooks = {name: json.loads((executed / f"{name}.ipynb").read_text(encoding="utf-8"))
                 for name in names}
    numbers = report_numbers(notebooks.values())
    pages = {}
    for name in names:  # all converted before any is written: no half-updated folder
        pages[name] = page(notebooks[name], index, target, name, numbers)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.ipynb"):
        if old.stem in NOTEBOOKS and old.stem not in pages:
            old.unlink()
    written = []
    for name, nb in pages.items():
        path = target / f"{name}.ipynb"
        text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``make study-pages``: the pages of the executed notebooks of the last build."""
    parser = argparse.ArgumentParser(
        prog="study_pages.py", description="Write the committed pages of the study "
        "(report/notebooks/) from the executed notebooks of the last make report.")
    parser.add_argument("--quick", action="store_true",
                        help="the quick build's: report/quick/{executed,figures,notebooks}")
    parser.add_argument("--executed", type=Path, default=None,
                        help="the executed notebooks (default: report/executed)")
    parser.add_argument("--figures", type=Path, default=None,
                        help="the figures of the same build (default: figures)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where the pages go (default: report/notebooks)")
    args = parser.parse_args(argv)
    root = PROJECT_ROOT / "report" / "quick" if args.quick else None
    executed = args.executed or (root / "executed" if root else STUDY_EXECUTED)
    figures = args.figures or (root / "figures" if root else STUDY_FIGURES)
    out = args.out or (root / "notebooks" if root else STUDY_PAGES)
    try:
        written = write_pages(executed, figures, out)
    except PagesError as e:
        print(f"make study-pages: {e}", file=sys.stderr)
        return 1
    print(f"[report] {len(written)} pages of the study written to {_shown(out)}/ from "
          f"{_shown(executed)}/ (make docs shows them)")
    return 0
