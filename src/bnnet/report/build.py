"""The report builder behind ``make report`` (``scripts/build_report.py`` is its command
line): run the notebooks with papermill, one live progress line each, then build one PDF
with nbconvert, with a title page that says what the report was built from.

The executed notebooks go to report/executed/, figures to figures/, tables to
report/results/ and the PDF to report/report.pdf. A quick run writes all of these under
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
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import nbformat
import papermill
from nbconvert import PDFExporter
from nbconvert.exporters.pdf import LatexFailed
from tqdm import tqdm
from traitlets.config import Config as TraitletsConfig

from bnnet.cifar10 import DATA_DIR_ENV, DataError, ensure_cifar10
from bnnet.files import PROJECT_ROOT, atomic_path
from bnnet.report.display import FIGURES_ENV, RESULTS_ENV, STUDY_FIGURES, STUDY_RESULTS
from bnnet.report.latex import escape, to_latex
from bnnet.report.notebook import NOTEBOOKS as notebook_specs
from bnnet.study.cache import code_key
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
NOTEBOOKS = list(notebook_specs)  # in order
TEMPLATE = ROOT / "scripts" / "report_template" / "bnnet.tex.j2"
DROP_MIMETYPES = {"application/vnd.jupyter.widget-view+json"}
USAGE = "`make report`: run the notebooks with papermill, then build one PDF with nbconvert."
DEFAULT_TITLE = "Batch normalization in k-layer networks on CIFAR-10"
DEFAULT_AUTHOR = "bnnet workbook"
DEFAULT_COURSE = "DD2424 Deep Learning in Data Science, KTH"
DEFAULT_ASSIGNMENT = "Assignment 3: k-layer networks with batch normalization"
#: LaTeX's paper sizes by the build option's name.
PAPERS = {"a4": "a4paper", "letter": "letterpaper"}
OVERFULL_TOLERANCE_PT = 3.0  # what a reader cannot see; wider boxes run into the margin


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
# A progress bar that run_many writes as text to the kernel's stderr (BNNET_PROGRESS=text):
# "coarse search:  70%|#######   | 14/20 [02:41<01:10,  8.05s/run]"
TQDM_LINE = re.compile(r"([^\r\n]*?):\s+\d+%\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)")


def parse_progress(text: str) -> tuple[str, int, int, str] | None:
    """The last tqdm state in a chunk of stderr: (description, done, total, time left)."""
    matches = list(TQDM_LINE.finditer(text))
    if not matches:
        return None
    desc, done, total, _, left = matches[-1].groups()
    return desc.strip(), int(done), int(total), left


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class NotebookProgress:
    """One live line per notebook on the terminal, fed by the kernel's stderr (papermill's
    ``stderr_file``): ``[3/7] 03_lambda_search  coarse search 14/20 runs  2:41 elapsed,
    ~1:10 left``. Other stderr text (warnings, library chatter) is dropped; it stays in the
    executed notebook."""

    def __init__(self, index: int, count: int, name: str):
        self.prefix = f"[{index}/{count}] {name}"
        self.start = time.monotonic()
        self.state: tuple[str, int, int, str] | None = None
        interactive = sys.stderr.isatty()
        size = shutil.get_terminal_size((100, 20))  # a pty may report 0 x 0: tqdm hides bars
        self.bar = tqdm(total=None, bar_format="{desc}", file=sys.stderr, leave=True,
                        mininterval=0.5 if interactive else 60, ncols=size.columns or 100,
                        nrows=size.lines or 20)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True,
                                        args=(1.0 if interactive else 60.0,))
        self._ticker.start()
        self.refresh()

    def line(self) -> str:
        elapsed = clock(time.monotonic() - self.start)
        if self.state is None:
            return f"{self.prefix}  {elapsed} elapsed"
        desc, done, total, left = self.state
        eta = "" if done >= total or "?" in left else f", ~{left} left"
        return f"{self.prefix}  {desc} {done}/{total} runs  {elapsed} elapsed{eta}"

    def refresh(self) -> None:
        self.bar.set_description_str(self.line(), refresh=True)

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.refresh()

    # papermill writes the kernel's stderr here
    def write(self, text: str) -> int:
        state = parse_progress(text)
        if state is not None and state != self.state:
            self.state = state
            self.refresh()
        return len(text)

    def flush(self) -> None:
        pass

    def close(self, outcome: str) -> None:
        self._stop.set()
        self._ticker.join()
        self.bar.set_description_str(
            f"{self.prefix}  {outcome} in {clock(time.monotonic() - self.start)}", refresh=False)
        self.bar.close()  # draws the final line once and ends it


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


def clean_cells(nb: nbformat.NotebookNode) -> list:
    """The cells worth printing: no parameter cells, no stderr, no widget debris."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & {"parameters", "injected-parameters"}:
            continue
        if cell.cell_type == "code":
            outputs = []
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    continue
                if output.output_type in ("display_data", "execute_result"):
                    data = output.get("data", {})
                    if DROP_MIMETYPES & set(data):
                        continue
                outputs.append(output)
            cell.outputs = outputs
            if not outputs:
                continue
        cells.append(cell)
    return cells


def combine(executed: list[Path], *, quick: bool, data_source: str, seconds: float,
            commit: str, training: dict | None = None, title: str = DEFAULT_TITLE,
            author: str = DEFAULT_AUTHOR, course: str = DEFAULT_COURSE,
            assignment: str = DEFAULT_ASSIGNMENT, paper: str = "a4") -> nbformat.NotebookNode:
    combined = nbformat.v4.new_notebook()
    for path in executed:
        combined.cells.extend(clean_cells(nbformat.read(path, as_version=4)))
    title = title + (" (quick run)" if quick else "")
    combined.metadata["title"] = title
    combined.metadata["authors"] = [{"name": author}]
    combined.metadata["date"] = dt.date.today().isoformat()
    training = training or {"runs": 0, "seconds": 0.0, "trained_now": 0}
    combined.metadata["bnnet"] = {
        # what the title page prints, as LaTeX (any character a user may type is safe),
        # and the PDF's metadata (special characters escaped, letters kept)
        "title_tex": to_latex(title), "author_tex": to_latex(author),
        "title_pdf": escape(title), "author_pdf": escape(author),
        "data_source_tex": to_latex(data_source),
        "course_tex": to_latex(course), "assignment_tex": to_latex(assignment),
        "paper": PAPERS[paper],
        "quick": quick, "commit": commit, "data_source": data_source,
        "build_time": f"{seconds / 60:.1f} min",
        "training_time": training_time(training),
        "training_path": training_path(training.get("kernels", {})),
        "blas_kernel": blas_kernel(training.get("blas", {})),
        "notebooks": ", ".join(NOTEBOOKS),
    }
    return combined


def training_time(training: dict) -> str:
    """"88.4 min in 174 runs (all read from the run cache)" for the title page."""
    runs, now = training["runs"], training["trained_now"]
    origin = ("all read from the run cache" if now == 0
              else "all trained in this build" if now == runs
              else f"{now} trained in this build, {runs - now} read from the run cache")
    return f"{training['seconds'] / 60:.1f} min in {runs} runs ({origin})"


#: ``Config.kernels`` in words, for the title page.
TRAINING_PATHS = {
    "numba": "the fast path, compiled Numba kernels between the BLAS products",
    "numpy": "the NumPy reference",
}


def training_path(kernels: dict[str, int]) -> str:
    """"the NumPy reference (all 3 runs)" for the title page, from the runs per path."""
    if not kernels:
        return "no runs"
    if len(kernels) == 1:
        (path, runs), = kernels.items()
        return f"{TRAINING_PATHS.get(path, path)} (all {runs} runs)"
    return "; ".join(f"{TRAINING_PATHS.get(path, path)}: {runs} run{'s' * (runs != 1)}"
                     for path, runs in sorted(kernels.items()))


def blas_kernel(kernels: dict[tuple[str, str], int]) -> str:
    """"OpenBLAS 0.3.31, Haswell kernel (all 138 runs)" for the title page."""
    def name(kernel: str, version: str) -> str:
        return f"OpenBLAS {version}, {kernel} kernel" if kernel else "not recorded"

    if len(kernels) == 1:
        ((kernel, version), runs), = kernels.items()
        return f"{name(kernel, version)} (all {runs} runs)"
    return "; ".join(f"{name(*key)}: {runs} run{'s' * (runs != 1)}"
                     for key, runs in sorted(kernels.items())) or "no runs"


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
            culprit = "the title page: check --title/TITLE, --author/AUTHOR and --data-note"
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
    parser.add_argument("--output-root", type=Path, default=None,
                        help="put report.pdf, executed/, figures/ and results/ here "
                             "(default: the project layout; report/quick/ with --quick)")
    args = parser.parse_args()
    absolute_settings(args)
    root = args.output_root or (ROOT / "report" / "quick" if args.quick else None)
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
            executed.append(execute(name, executed_dir, parameters, progress))
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
    commit = git_commit()
    runs = write_manifest(ledger, Path(os.environ[RESULTS_ENV]) / MANIFEST, batches_dir=folder,
                          commit=commit, code=code_key())
    print(f"[report] manifest of the {runs} runs written (make verify re-trains them)",
          flush=True)
    nb = combine(executed, quick=args.quick, data_source=data_source, seconds=seconds,
                 commit=commit, training=training_summary(ledger), title=args.title,
                 author=args.author, course=args.course, assignment=args.assignment,
                 paper=args.paper)
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
          f"(bnnet {version('bnnet')})")
    return 0
