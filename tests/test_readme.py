"""The README is the front page and stays true: its Python example runs (pytest-examples),
every command and setting it names exists, its papermill lines cover the workbook, its
links lead to pages that exist, and its findings are those of the committed tables."""

from __future__ import annotations

import re
import shlex

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet  # noqa: F401
from bnnet.report.assemble import NOTEBOOKS
from bnnet.report.findings import findings, readme_findings
from tests.examples import run_example
from tests.report_checks import ROOT

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")


@pytest.mark.parametrize("example", list(find_examples(str(README))), ids=str)
def test_readme_python_examples_run(example: CodeExample, eval_example: EvalExample,
                                    tmp_path, monkeypatch):
    run_example(example, eval_example, tmp_path, monkeypatch)


def test_the_readme_is_a_front_page():
    lines = TEXT.splitlines()
    assert len(lines) <= 200, f"{len(lines)} lines: the manual belongs in docs/"
    for section in ("## What the study found", "## Set-up", "## The two commands",
                    "## The data", "## Quick paths", "## The package in ten lines",
                    "## Documentation"):
        assert section in TEXT, section
    # the API example is about ten lines
    (example,) = find_examples(str(README))
    code = [line for line in example.source.splitlines()
            if line.strip() and not line.startswith("#>")]
    assert len(code) <= 12, code
    # build history stays out of the user documentation: no commit ids, no past builds
    assert not re.search(r"\bcommit [0-9a-f]{7}\b", TEXT)
    assert "value cells" not in TEXT and "fresh-clone CI run" not in TEXT


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def makefile_variables() -> set[str]:
    """The settings the Makefile reads (``$(NAME)``, ``NAME ?=``), and those its set-up
    script reads from the environment (``make setup PYTHON=...`` passes them on)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    return (set(re.findall(r"\$\((?:if )?\$?\(?([A-Z_]+)\)", text))
            | set(re.findall(r"^([A-Z_]+) \?=", text, re.M))
            | set(re.findall(r"\$\{([A-Z_]+):-", setup)))


def code_of(text: str) -> str:
    """The inline code and the commands of the shell blocks (without their comments) of a
    Markdown text, one per line."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)
    commands = [line.split("#")[0] for block in blocks for line in block.splitlines()]
    return "\n".join(commands + re.findall(r"`([^`\n]+)`", text))


def test_every_make_command_the_readme_names_exists():
    targets, variables = makefile_targets(), makefile_variables()
    named = re.findall(r"\bmake ([a-z][\w-]*)((?: [A-Z_]+=\S+)*)", code_of(TEXT))
    assert {"setup", "report", "test", "data", "lab", "docs", "verify"} <= {t for t, _ in named}
    for target, settings in named:
        assert target in targets, f"make {target}"
        for setting in re.findall(r"([A-Z_]+)=", settings):
            assert setting in variables, f"make {target} {setting}="
    # the settings of the title page and the build, in words
    for setting in ("AUTHOR", "TITLE", "COURSE", "ASSIGNMENT", "PAPER", "N_JOBS", "QUICK",
                    "MANIFEST"):
        assert f"{setting}=" in TEXT and setting in variables, setting


def test_the_progress_line_shown_is_the_builders():
    """The live line of make report as the README shows it: [index/count] of the notebooks
    the build runs (bnnet.report.terminal.NotebookProgress)."""
    shown = re.findall(r"`\[(\d+)/(\d+)\] (\d\d_\w+)  ", TEXT)
    assert shown
    for index, count, name in shown:
        assert int(count) == len(NOTEBOOKS) and NOTEBOOKS[int(index) - 1] == name


def papermill_lines() -> list[list[str]]:
    """The README's papermill commands, as argument lists."""
    block = TEXT[TEXT.index("```bash\nmkdir -p scratch"):]
    block = block[len("```bash\n"):block.index("```", 8)]
    return [shlex.split(line.split("#")[0]) for line in block.splitlines()
            if line.startswith("papermill")]


def test_the_papermill_lines_run_every_notebook_quick_with_its_time():
    lines = papermill_lines()
    names = [args[1].removeprefix("notebooks/").removesuffix(".ipynb") for args in lines]
    assert names == NOTEBOOKS  # the report's notebooks, in order
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert set(names) | {"00_explore"} == set(notebooks)
    block = TEXT[TEXT.index("```bash\nmkdir -p scratch"):]
    for args, line in zip(lines, [ln for ln in block.splitlines()
                                  if ln.startswith("papermill")], strict=False):
        assert args[args.index("-p") + 1:args.index("-p") + 3] == ["quick", "True"], line
        assert re.search(r"# ~\d+ s\b", line), f"no time: {line}"
    # the explorer is named as the third quick path
    assert "`00_explore`" in TEXT and "make lab" in TEXT


def test_every_link_leads_to_a_file_that_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", TEXT)
    assert any(link.startswith("docs/guides/") for link in links)
    for link in links:
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link
    # every guide of the documentation is reachable from the front page
    guides = {f"docs/guides/{p.name}" for p in (ROOT / "docs" / "guides").glob("*.md")}
    assert guides <= set(links), guides - set(links)


def test_the_readme_states_the_findings_of_the_committed_tables():
    """The README's findings are the lines bnnet.report.findings reads from the committed
    tables (the docs' landing page shows the same): each number, interval and verdict."""
    assert readme_findings(TEXT) == findings(), (
        "the README's findings differ from the committed tables': run "
        "python -m bnnet.report.findings --readme")
