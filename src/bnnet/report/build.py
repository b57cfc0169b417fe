"""The report builder behind ``make report`` (``scripts/build_report.py`` is its command
line): run the notebooks with papermill, one live progress line each, then build one PDF
with nbconvert, with a title page that says what the report was built from.

The executed notebooks go to report/executed/, figures to figures/, tables to
report/results/ and the PDF to report/report.pdf; the executed notebooks also go, without
their embedded figures, to report/notebooks/ (:mod:`bnnet.report.pages`: committed, they are
the study's pages of the documentation site). A quick run writes all of these under
report/quick/ instead, so it never overwrites the study's outputs. Expensive runs are
cached (.cache/), so a second build after a prose edit is fast. The LaTeX log of the PDF
goes beside the executed notebooks (report.log); overfull boxes are reported.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import papermill

from bnnet.cifar10 import DATA_DIR_ENV, DataError, ensure_cifar10
from bnnet.files import PROJECT_ROOT
from bnnet.report import claims
from bnnet.report.assemble import (
    DEFAULT_ASSIGNMENT,
    DEFAULT_AUTHOR,
    DEFAULT_COURSE,
    DEFAULT_TITLE,
    NOTEBOOKS,
    PAPERS,
    combine,
)
from bnnet.report.display import (
    BUILD_START_ENV,
    FIGURES_ENV,
    RESULTS_ENV,
    STUDY_FIGURES,
    STUDY_RESULTS,
)
from bnnet.report.notebook import ParameterError
from bnnet.report.pages import PagesError, write_pages
from bnnet.report.params import changed, describe_changes, load_params
from bnnet.report.pdf import PDFFailed, to_pdf
from bnnet.report.terminal import NotebookProgress
from bnnet.study.cache import environment
from bnnet.study.cluster import SCHEDULER_ENV, insecure_address
from bnnet.study.progress import PROGRESS_ENV
from bnnet.study.provenance import (
    LEDGER_ENV,
    MANIFEST,
    SECTION_ENV,
    describe_data,
    training_summary,
    write_manifest,
)

ROOT = PROJECT_ROOT
USAGE = "`make report`: run the notebooks with papermill, then build one PDF with nbconvert."


def verify_command(manifest: Path) -> str:
    """The ``make verify`` command that checks the report whose manifest is ``manifest``:
    plain for the study's, with ``MANIFEST=`` for a quick build's or another folder's."""
    if manifest.resolve() == (STUDY_RESULTS / MANIFEST).resolve():
        return "make verify"
    try:
        shown = manifest.resolve().relative_to(ROOT.resolve())
    except ValueError:
        shown = manifest.resolve()
    return f"make verify MANIFEST={shlex.quote(str(shown))}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        # only the code counts: the outputs (figures, results, PDF) change with every run
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                "src", "notebooks", "scripts"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return out + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# The kernel's own warnings (e.g. "Kernel is running over TCP without encryption") are
# chatter for a user of make report; its errors still reach the terminal.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def execute(name: str, out_dir: Path, parameters: dict,
            progress: NotebookProgress | None = None) -> Path:
    """Run one notebook. papermill writes as it goes, so it writes to a hidden temporary
    file that replaces the executed notebook only when the run ends (failed runs too, so
    the error can be read there); an interrupted run leaves the previous one in place."""
    out = out_dir / f"{name}.ipynb"
    tmp = out_dir / f".{name}.running.ipynb"
    try:
        papermill.execute_notebook(
            ROOT / "notebooks" / f"{name}.ipynb", tmp, parameters=parameters,
            kernel_name="python3", cwd=ROOT / "notebooks", progress_bar=False,
            log_output=False, stderr_file=progress, extra_arguments=KERNEL_ARGUMENTS,
        )
    except papermill.PapermillExecutionError:
        os.replace(tmp, out)
        raise
    os.replace(tmp, out)
    return out


class BuildLocked(RuntimeError):
    """Another build is writing to the same output folder."""


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.build.lock`` for the whole build, so that two builds started at once
    in one checkout never share the executed notebooks; the second stops at once. The
    kernel releases the lock when the process ends, however it ends."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".build.lock"
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise BuildLocked(
                f"another make report is writing to {folder} (process {holder}); wait for "
                "it to finish or stop it, then run make report again") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}, started {dt.datetime.now():%H:%M:%S}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


#: Folders a user may give relative to where they run make report.
PATH_SETTINGS = (DATA_DIR_ENV, "BNNET_CACHE_DIR")


def absolute_settings(args: argparse.Namespace) -> None:
    """Make the folders a user gave (``--data-dir``, ``BNNET_DATA_DIR``, ``BNNET_CACHE_DIR``)
    absolute, relative to this process's folder: the kernels run in ``notebooks/``, where a
    relative path would point elsewhere."""
    for name in PATH_SETTINGS:
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).expanduser().absolute())
    if args.data_dir:
        args.data_dir = str(Path(args.data_dir).expanduser().absolute())


def main() -> int:
    parser = argparse.ArgumentParser(prog="build_report.py", description=USAGE)
    parser.add_argument("--quick", action="store_true", help="small sizes (pipeline test)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                        help="train on this Dask cluster (tcp://host:8786); default: "
                             "BNNET_DASK_SCHEDULER, else this machine")
    parser.add_argument("--author", default=DEFAULT_AUTHOR,
                        help=f"the title page's author (default: {DEFAULT_AUTHOR!r})")
    parser.add_argument("--title", default=DEFAULT_TITLE,
                        help=f"the report's title (default: {DEFAULT_TITLE!r})")
    parser.add_argument("--course", default=DEFAULT_COURSE,
                        help=f"the course on the title page (default: {DEFAULT_COURSE!r})")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT,
                        help=f"the assignment on the title page (default: "
                             f"{DEFAULT_ASSIGNMENT!r})")
    parser.add_argument("--paper", choices=list(PAPERS), default="a4",
                        help="paper size of the PDF (default: a4)")
    parser.add_argument("--data-note", default="",
                        help="what the title page should say about the data, e.g. where "
                             "the copy differs from the official archive")
    parser.add_argument("--params", type=Path, default=None, metavar="FILE",
                        help="a copy of study.yaml with some parameters changed; the report "
                             "goes to report/<its name>/ (never over the committed study)")
    parser.add_argument("--output-root", type=Path, default=None,
                        help="put report.pdf, executed/, figures/ and results/ here "
                             "(default: the project layout; report/quick/ with --quick)")
    args = parser.parse_args()
    absolute_settings(args)
    args.changes = {}
    if args.params is not None:
        try:
            args.changes = changed(load_params(args.params))
        except ParameterError as e:
            print(f"make report: {e}", file=sys.stderr)
            return 1
    root = args.output_root or output_root(args.quick, args.params)
    if root is not None and root.resolve() in RESERVED:
        print(f"make report: {root} is where the committed study keeps its outputs; give "
              "the parameters file another name", file=sys.stderr)
        return 1
    if root is None:  # the study: the committed outputs
        pdf_path, executed_dir = ROOT / "report" / "report.pdf", ROOT / "report" / "executed"
        figures, results = STUDY_FIGURES, STUDY_RESULTS
    else:
        pdf_path, executed_dir = root / "report.pdf", root / "executed"
        figures, results = root / "figures", root / "results"
    os.environ[FIGURES_ENV], os.environ[RESULTS_ENV] = str(figures), str(results)

    try:
        with build_lock(executed_dir):
            return build(args, pdf_path, executed_dir)
    except BuildLocked as e:
        print(f"make report: {e}", file=sys.stderr)
        return 1


#: Folders of the committed study that no other build may write into as its own root.
RESERVED = {(ROOT / "report" / name).resolve() for name in ("results", "executed")}


def output_root(quick: bool, params: Path | None) -> Path | None:
    """Where a build writes: None for the study (the project layout), ``report/quick/`` for
    a quick build, ``report/<name>/`` for a parameters file ``<name>.yaml`` (quick:
    ``report/quick-<name>/``)."""
    if params is None:
        return ROOT / "report" / "quick" if quick else None
    return ROOT / "report" / (f"quick-{params.stem}" if quick else params.stem)


def build(args: argparse.Namespace, pdf_path: Path, executed_dir: Path) -> int:
    try:
        folder, downloaded = ensure_cifar10(args.data_dir)
        if downloaded:
            print(f"[report] CIFAR-10 downloaded to {folder}", flush=True)
        data_source = describe_data(folder)
    except DataError as e:
        print(f"make report: {e}", file=sys.stderr)
        return 1
    if args.data_note:
        data_source += f" ({args.data_note})"

    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    ledger = executed_dir / "runs.jsonl"  # every run the notebooks use (run_many appends)
    ledger.unlink(missing_ok=True)
    os.environ[LEDGER_ENV] = str(ledger)
    os.environ[PROGRESS_ENV] = "text"  # the kernels' progress bars, read by NotebookProgress
    # a sentence its data contradict stops a full build; a quick build marks it in the PDF
    os.environ[claims.MODE_ENV] = claims.MARK if args.quick else claims.STRICT
    claims.reset()  # this build's sentences only: none of an earlier build or notebook
    os.environ[BUILD_START_ENV] = str(time.time())  # tables older than this: another build's
    parameters = {"quick": args.quick, "n_jobs": args.n_jobs, "data_dir": args.data_dir,
                  "scheduler": args.dask_scheduler}
    scheduler = args.dask_scheduler or os.environ.get(SCHEDULER_ENV)
    if scheduler and (warning := insecure_address(scheduler)):
        print(warning, file=sys.stderr, flush=True)
    start = time.perf_counter()
    executed = []
    for index, name in enumerate(NOTEBOOKS, start=1):
        progress = NotebookProgress(index, len(NOTEBOOKS), name)
        os.environ[SECTION_ENV] = name  # the ledger says which section each run serves
        try:
            executed.append(execute(name, executed_dir,
                                    {**parameters, **args.changes.get(name, {})}, progress))
        except papermill.PapermillExecutionError as e:
            progress.close("FAILED")
            trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(e.traceback))
            print(f"{trace}\nmake report: notebook {name} failed in cell {e.exec_count}: "
                  f"{e.ename}: {e.evalue}\nSee {executed_dir / (name + '.ipynb')}. Finished "
                  "runs are cached; fix the cause and run make report again.", file=sys.stderr)
            return 1
        except BaseException:
            progress.close("stopped")
            raise
        progress.close("done")
    seconds = time.perf_counter() - start
    sentences = claims.assemble(NOTEBOOKS)
    print(f"[report] {claims.summary(sentences)} "
          f"({Path(os.environ[RESULTS_ENV]) / claims.CLAIMS_CSV})"
          + ("; a quick build's small runs contradict some sentences, which its PDF marks "
             "struck through: a full build stops on any" if args.quick
             and not claims.checked(sentences)["holds"].all() else ""), flush=True)
    commit = git_commit()
    manifest = Path(os.environ[RESULTS_ENV]) / MANIFEST
    runs = write_manifest(ledger, manifest, batches_dir=folder, commit=commit,
                          run_key=environment(simd=True), parameters=args.changes)
    verify = verify_command(manifest)
    print(f"[report] manifest of the {runs} runs written to {manifest} ({verify} re-trains "
          "a sample of them)", flush=True)
    pages_dir = pdf_path.parent / "notebooks"
    try:
        pages = write_pages(executed_dir, Path(os.environ[FIGURES_ENV]), pages_dir)
    except PagesError as e:
        print(f"make report: {e}", file=sys.stderr)
        return 1
    print(f"[report] {len(pages)} pages of the study (the executed notebooks, their figures "
          f"by reference) written to {pages_dir} (make docs shows them)", flush=True)
    nb = combine(executed, quick=args.quick, data_source=data_source, seconds=seconds,
                 commit=commit, training=training_summary(ledger), title=args.title,
                 author=args.author, course=args.course, assignment=args.assignment,
                 paper=args.paper, parameters=describe_changes(args.changes))
    print("[report] building the PDF ...", flush=True)
    try:
        overfull = to_pdf(nb, pdf_path, executed_dir / "report.log")
    except PDFFailed as e:
        print(f"make report: {e}", file=sys.stderr)
        return 1
    for box in overfull:
        print(f"[report] warning: LaTeX {box} (see {executed_dir / 'report.log'})",
              file=sys.stderr)
    total = time.perf_counter() - start
    print(f"[report] {pdf_path} written; notebooks {seconds:.0f} s, total {total:.0f} s "
          f"(bnnet {version('bnnet')}); to check its numbers: {verify}")
    return 0
