"""The documentation site cannot go stale: it builds with warnings as errors, offline, with
the study's committed notebooks as pages (or a note and the PDF without them) and the
findings of the committed tables on its landing page; the API under the public names; the
Python examples of its pages run; every signature in its API table is the code's; and a
reader at 1280 px sees one header row."""

from __future__ import annotations

import html
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet
from bnnet.report.findings import findings
from bnnet.report.pages import write_pages
from tests import study_notebooks
from tests.examples import run_example
from tests.report_checks import ROOT
from tests.study_notebooks import write_executed

DOCS = ROOT / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))
#: what a build generates inside the source folder (gitignored), never copied
GENERATED = ("_build", "study", "generated")


def source_copy(tmp_path: Path) -> Path:
    """The documentation's sources in a folder of their own, so that builds of the tests
    and ``make docs`` never write into each other's generated files."""
    target = tmp_path / "docs"
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns(*GENERATED))
    # the project's figures, beside the docs as in a clone: the guides show them by path
    shutil.copytree(DOCS.parent / "figures", tmp_path / "figures")
    return target


def study_pages():
    """The documentation's extension ``docs/_ext/study_pages.py``."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("study_pages")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def build(source: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``make docs``'s command."""
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", str(source), str(out)], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> SimpleNamespace:
    """The site built by ``make docs``'s command from a copy of the sources, the study's
    pages from a folder as ``make report`` writes it (``bnnet.report.pages``: section 2 and
    the conclusion, their figures by reference) plus one executed notebook as ``make report``
    executes it (figures embedded), and files that are not sections."""
    tmp = tmp_path_factory.mktemp("site")
    source, out = source_copy(tmp), tmp / "html"
    executed, figures, pages = tmp / "executed", tmp / "study_figures", tmp / "notebooks"
    write_executed(executed, figures, tmp / "results")
    write_pages(executed, figures, pages)
    shutil.copy(executed / "02_three_vs_nine_layers.ipynb", pages / "03_lambda_search.ipynb")
    (pages / "report.log").write_text("LaTeX")
    shutil.copy(executed / ".04_init_sensitivity.running.ipynb", pages)
    # a stub an earlier build generated for a module that has since moved (as
    # bnnet.report.explore did): written anew, not left to fail the build
    (source / "api" / "generated").mkdir(parents=True)
    (source / "api" / "generated" / "bnnet.report.explore.rst").write_text(
        "bnnet.report.explore\n====================\n\n.. automodule:: bnnet.report.explore\n")
    done = build(source, out, {"BNNET_DOCS_NOTEBOOKS": str(pages)})
    return SimpleNamespace(out=out, build=done, pages=pages, figures=figures)


def page(site: SimpleNamespace, name: str) -> str:
    return (site.out / f"{name}.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_docs_build_offline_with_warnings_as_errors(site):
    out, done = site.out, site.build
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr == "", done.stderr[-3000:]  # no warning at all
    for guide in GUIDES:
        assert (out / "guides" / f"{guide.stem}.html").is_file(), guide.name
    for name in ("index", "history", "api/index", "study/index"):
        assert (out / f"{name}.html").is_file(), name
    # the API reference comes from the docstrings
    train = page(site, "api/generated/bnnet.core.train")
    assert "blas_threads" in page(site, "api/generated/bnnet.fit") and "STEPS" in train
    assert (out / "api" / "generated" / "bnnet.study.verify.html").is_file()
    # the explorer's screenshot, from the project's figures/
    assert "_images/explorer.png" in page(site, "guides/explorer")
    assert (out / "_images" / "explorer.png").is_file()
    # offline: nothing is fetched at build time, and no page loads anything from elsewhere;
    # MathJax comes with the pages (the formulas of the prose render without a network)
    for built in out.rglob("*.html"):
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"',
                            built.read_text())
        assert remote == [], (built, remote)
    assert "_static/mathjax/tex-chtml.js" in page(site, "study/02_three_vs_nine_layers")
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.slow
def test_the_study_pages_show_the_committed_notebooks(site):
    """Each section as a page with its prose, table and figure, without the cells the PDF
    leaves out; the figure from the figures folder (no image embedded in the page), the
    abstract first, on the study's index, as in the PDF."""
    section = page(site, "study/02_three_vs_nine_layers")
    assert "BN raises test accuracy by" in section and "9-layer" in section
    (png,) = re.findall(r'<img[^>]+src="([^"]+)"', section)
    assert png == "../_images/02_curves_9layer.png" and "data:image" not in section
    assert (site.out / "_images" / "02_curves_9layer.png").read_bytes() == \
        (site.figures / "02_curves_9layer.png").read_bytes()
    assert "<figcaption>" in section and "Training (dashed) and validation" in section
    assert "Running it" not in section and "seeds = [0, 1]" not in section
    assert "100%|" not in section  # stderr (progress bars) stays out, as in the PDF
    # a notebook as make report executes it (its figure embedded) renders too
    assert "data:image/png;base64," in page(site, "study/03_lambda_search")
    index = page(site, "study/index")
    for name in ("02_three_vs_nine_layers", "03_lambda_search", "07_conclusion"):
        assert f"{name}.html" in index, name
    assert not (site.out / "study" / ".04_init_sensitivity.running.html").exists()
    assert "This report studies batch normalization" in index
    assert "This report studies batch normalization" not in page(site, "study/07_conclusion")
    assert "Are the gradients right?" in page(site, "study/07_conclusion")
    # the sections are listed beside each page
    assert 'href="07_conclusion.html"' in section.split('class="bd-sidebar-primary')[1]


@pytest.mark.slow
def test_contradicted_claims_are_struck_through(site):
    """A quick build writes a sentence its data contradict as ``~~...~~``: struck through
    on the page, no tildes."""
    section = page(site, "study/02_three_vs_nine_layers")
    assert f"<s>{study_notebooks.CONTRADICTED}</s>" in section
    assert "~~" not in section


@pytest.mark.slow
def test_the_committed_pdf_is_in_the_site_and_linked(site):
    assert (site.out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert 'href="report.pdf"' in page(site, "index")
    assert 'href="../report.pdf"' in page(site, "study/index")


@pytest.mark.slow
def test_code_blocks_have_a_copy_button(site):
    python = page(site, "guides/python")
    assert "_static/copybutton.js" in python and "_static/clipboard.min.js" in python
    assert (site.out / "_static" / "copybutton.js").is_file()


@pytest.mark.slow
def test_the_api_pages_are_under_the_public_names(site):
    """``bnnet.fit`` has a page of its own; its module's page leaves it out and points to
    it; a reference to the defining module's name leads to the public page."""
    generated = site.out / "api" / "generated"
    for name in bnnet.__all__:
        obj = getattr(bnnet, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        html = (generated / f"bnnet.{name}.html").read_text(encoding="utf-8")
        assert f'id="bnnet.{name}"' in html, name
        module = (generated / f"{obj.__module__}.html").read_text(encoding="utf-8")
        assert f'id="{obj.__module__}.{name}"' not in module, name
        assert f'href="bnnet.{name}.html#bnnet.{name}"' in module, name
    index = page(site, "api/index")
    assert 'href="generated/bnnet.fit.html#bnnet.fit"' in index
    fit = page(site, "api/generated/bnnet.fit")
    assert 'href="bnnet.Config.html#bnnet.Config"' in fit  # config: Config
    assert 'href="bnnet.core.train.html#bnnet.core.train.STEPS"' in fit  # :data:`STEPS`
    assert "bnnet.core.config.Config.html" not in fit
    # the numpydoc Examples, as a doctest block
    assert '<p class="rubric">Examples</p>' in fit and "&gt;&gt;&gt;" in fit
    # a dataclass as a reader calls it: its fields in the signature, described once; an
    # attribute's words not taken for its type
    config = text_of(page(site, "api/generated/bnnet.Config"))
    assert "classbnnet.Config(hidden=(50,50),bn='before'," in config.replace(" ", "")
    assert "args (Any)" not in config and "Parameters: hidden" not in config
    assert "Total number of parameter updates: 2 * n_s * cycles" in config
    dataset = text_of(page(site, "api/generated/bnnet.Dataset")).replace("( ", "(")
    assert "X_val (numpy.ndarray) – validation inputs" in dataset
    for name in ("THREE_LAYER", "NINE_LAYER"):  # the constants as the code has them
        assert f"bnnet.{name} is {getattr(bnnet, name)}" in text_of(index), name


@pytest.mark.slow
def test_the_source_index_links_only_pages_that_exist(site):
    """viewcode lists on ``_modules/index.html`` only modules whose source page it wrote
    (not ``builtins``, the type of a documented constant)."""
    modules = site.out / "_modules"
    links = re.findall(r'href="([^"#]+)"', (modules / "index.html").read_text())
    local = [link for link in links if not link.startswith(("http", "../"))]
    assert "bnnet/core/train.html" in local
    for link in local:
        assert (modules / link).is_file(), link


def plain(markdown: str) -> str:
    """The text a reader sees of the Markdown lines :func:`findings` writes."""
    text = re.sub(r"(?m)^\s*- ", "", markdown).replace("**", "")
    return " ".join(text.split())


def text_of(html_fragment: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", html_fragment))
    text = re.sub(r"\s+([.,;:)\]])", r"\1", " ".join(text.split()))
    return text.replace("\u2019", "'")  # Sphinx's smart quotes


@pytest.mark.slow
def test_the_landing_page_shows_the_findings_of_the_committed_tables(site):
    index = page(site, "index")
    box = re.search(r'<div class="bnnet-findings[^"]*">(.*?)</div>', index, re.S)
    assert box, "no findings on the landing page"
    assert text_of(box.group(1)) == plain("\n".join(findings())).replace("\u2019", "'")
    assert "<strong>Does BN help the course" in box.group(1)
    # a getting-started path and the way into the rest
    text = text_of(index)
    assert "Getting started" in text and "make setup" in text and "make report" in text
    for target in ("guides/index.html", "study/index.html", "api/index.html"):
        assert f'href="{target}' in index, target


@pytest.mark.slow
def test_the_guides_have_a_navigation_beside_them(site):
    python = page(site, "guides/python")
    left = python.split('class="bd-sidebar-primary')[1].split("</div>\n  </div>")[0]
    for guide in ("setup", "workbook", "troubleshooting"):
        assert f'href="{guide}.html"' in left, guide
    assert "Section Navigation" in left


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.slow
def test_the_search_box_stays_on_the_navbar_at_1280px(site, tmp_path):
    """At 1280 x 800 the header is one row: the search button level with the links."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (make setup installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 800})
            for name in ("index", "guides/python", "api/generated/bnnet.fit"):
                view.goto((site.out / f"{name}.html").as_uri())
                search = view.locator(".bd-header .search-button__button:visible").first
                link = view.locator(".bd-header .navbar-header-items .nav-link:visible").first
                header = view.locator(".bd-header").first.bounding_box()
                s, n = search.bounding_box(), link.bounding_box()
                view.screenshot(path=str(tmp_path / f"{name.replace('/', '_')}.png"))
                assert abs((s["y"] + s["height"] / 2) - (n["y"] + n["height"] / 2)) < 10, \
                    (name, s, n)
                assert header["height"] < 90, (name, header)
        finally:
            browser.close()


def test_without_pages_the_study_page_says_how_to_make_them(tmp_path, monkeypatch):
    pages = study_pages()
    monkeypatch.setenv(pages.NOTEBOOKS_ENV, str(tmp_path / "nowhere"))
    monkeypatch.setattr(pages, "STUDY_EXECUTED", tmp_path / "executed")
    app = SimpleNamespace(srcdir=str(tmp_path / "src"))
    (tmp_path / "src").mkdir()
    pages.study_pages(app)
    index = (tmp_path / "src" / "study" / "index.md").read_text()
    assert "found none in" in index and "make report" in index and "toctree" not in index
    assert "{report-pdf}" in index  # the PDF instead
    # executed notebooks of a build that did not write pages: the command that does
    monkeypatch.delenv(pages.NOTEBOOKS_ENV)
    monkeypatch.setattr(pages, "DEFAULT_NOTEBOOKS", tmp_path / "no pages")  # not the committed
    write_executed(tmp_path / "executed", tmp_path / "figures", tmp_path / "results")
    pages.study_pages(app)
    assert "make study-pages" in (tmp_path / "src" / "study" / "index.md").read_text()
    # with pages, then without them again: no page outlives its notebook
    folder = tmp_path / "notebooks"
    write_pages(tmp_path / "executed", tmp_path / "figures", folder)
    monkeypatch.setenv(pages.NOTEBOOKS_ENV, str(folder))
    pages.study_pages(app)
    assert "07_conclusion" in (tmp_path / "src" / "study" / "index.md").read_text()
    copied = json.loads((tmp_path / "src" / "study" / "02_three_vs_nine_layers.ipynb")
                        .read_text())
    assert copied["cells"][0]["metadata"]["tags"] == ["lab-only", "remove-cell"]
    (figure,) = [o for o in copied["cells"][3]["outputs"] if "```{figure}" in
                 o["data"].get("text/markdown", "")]
    path = figure["data"]["text/markdown"].splitlines()[0].split()[-1]
    assert (tmp_path / "src" / "study" / path).resolve() == \
        (tmp_path / "figures" / "02_curves_9layer.png").resolve()
    (folder / "02_three_vs_nine_layers.ipynb").unlink()
    pages.study_pages(app)
    assert not (tmp_path / "src" / "study" / "02_three_vs_nine_layers.ipynb").exists()


def test_a_figure_deleted_since_leaves_its_caption_not_a_broken_build(tmp_path):
    pages = study_pages()
    write_executed(tmp_path / "executed", tmp_path / "figures", tmp_path / "results")
    write_pages(tmp_path / "executed", tmp_path / "figures", tmp_path / "notebooks")
    (tmp_path / "figures" / "02_curves_9layer.png").unlink()
    text = pages.page_of(tmp_path / "notebooks" / "02_three_vs_nine_layers.ipynb",
                         tmp_path / "study")
    assert "02_curves_9layer.png` is missing" in text and "```{figure}" not in text


def test_every_page_is_in_the_site_and_every_guide_linked_from_its_index():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for part in ("guides/index", "study/index", "api/index", "history"):
        assert f"\n{part}\n" in index, part  # in the toctree: the header's links
    guides = (DOCS / "guides" / "index.md").read_text(encoding="utf-8")
    for guide in GUIDES:
        if guide.name == "index.md":
            continue
        assert f"\n{guide.stem}\n" in guides, guide.name  # in a toctree
        assert f"]({guide.name})" in guides, guide.name  # and linked in words


EXAMPLES = list(find_examples(*map(str, [*GUIDES, DOCS / "index.md"])))


def test_the_guides_have_python_examples():
    assert {e.path.name for e in EXAMPLES} >= {"python.md", "writing.md", "explorer.md"}


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_guides_python_examples_run(example: CodeExample, eval_example: EvalExample,
                                        tmp_path, monkeypatch):
    run_example(example, eval_example, tmp_path, monkeypatch)


PYTHON_GUIDE = DOCS / "guides" / "python.md"
#: a row of the API table: | `module.name(arguments)` ...
ROW = re.compile(r"^\| `([\w.]+)\((.*?)\)`", re.M)


def documented_signatures() -> list[tuple[str, str]]:
    return ROW.findall(PYTHON_GUIDE.read_text(encoding="utf-8"))


def resolve(name: str):
    dotted = name if name.startswith("bnnet.") else f"bnnet.{name}"
    module, attr = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def test_the_api_table_lists_the_main_entry_points():
    names = {name for name, _ in documented_signatures()}
    assert {"bnnet.load_cifar10", "bnnet.fit", "bnnet.Config", "study.runs.run_many",
            "study.stats.compare", "study.search.lambda_search",
            "bnnet.check_gradients"} <= names


@pytest.mark.parametrize(("name", "args"), documented_signatures(), ids=lambda v: str(v)[:40])
def test_every_documented_signature_is_the_codes(name, args):
    real = inspect.signature(resolve(name))
    if args == "...":  # "Config(...)": the fields are listed in words
        return
    from bnnet.study.jobs import DataSpec

    namespace: dict = {"np": np, "DataSpec": DataSpec}
    exec(f"def documented({args}): pass", namespace)
    doc = inspect.signature(namespace["documented"])
    assert list(doc.parameters) == list(real.parameters), name
    for p, q in zip(doc.parameters.values(), real.parameters.values(), strict=True):
        assert p.kind == q.kind, f"{name}: {p.name} is {q.kind.description} in the code"
        assert p.default == q.default, (f"{name}: {p.name} defaults to {q.default!r} in the "
                                        f"code, {p.default!r} in the guide")
