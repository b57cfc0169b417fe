"""The report builder: one live progress line per notebook, one build per output folder,
the data fetched when a fresh machine has none."""

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from bnnet.report.notebook import NOTEBOOKS
from tests.conftest import write_fake_cifar
from tests.report_checks import ROOT, build_report_module

BUILD = ROOT / "scripts" / "build_report.py"


@pytest.fixture(scope="module")
def builder():
    return build_report_module()


def test_a_second_build_in_the_same_folder_stops_at_once(builder, tmp_path):
    with builder.build_lock(tmp_path / "executed"):
        proc = subprocess.run([sys.executable, str(BUILD), "--quick", "--output-root",
                               str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "another make report is writing to" in proc.stderr
    assert f"process {os.getpid()}" in proc.stderr
    assert not list((tmp_path / "executed").glob("*.ipynb"))
    with builder.build_lock(tmp_path / "executed"):  # released when the holder ends
        pass


def serve(folder: Path):
    """An HTTP server on 127.0.0.1 (free port) standing in for the download site."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def official_layout_archive(tmp_path: Path, n_per_batch: int) -> tuple[Path, str]:
    source = write_fake_cifar(tmp_path / "source", n_per_batch=n_per_batch)
    site = tmp_path / "site"
    site.mkdir()
    archive = site / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for path in sorted(source.iterdir()):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{path.name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive, hashlib.md5(archive.read_bytes()).hexdigest()


@pytest.mark.slow
def test_fresh_clone_reaches_the_quick_pdf_with_the_readme_commands(tmp_path):
    """`make setup && make report QUICK=1` in a fresh clone with an empty data/: the
    archive comes from a local server through BNNET_CIFAR10_URL / BNNET_CIFAR10_MD5."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # enough images for the quick sizes: 5,000 validation + 3,000 training
    archive, md5 = official_layout_archive(tmp_path, n_per_batch=1700)
    server = serve(archive.parent)
    try:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BNNET_", "PYTEST", "VIRTUAL_ENV"))}
        env.update(BNNET_CIFAR10_URL=f"http://127.0.0.1:{server.server_port}/{archive.name}",
                   BNNET_CIFAR10_MD5=md5, PYTHON=shutil.which("python3") or sys.executable)
        # make clean first: a report still builds after it (it keeps the benchmark table)
        steps = subprocess.run("make setup && make clean && make report QUICK=1 N_JOBS=1",
                               shell=True, cwd=clone, env=env, capture_output=True, text=True,
                               timeout=1500)
    finally:
        server.shutdown()
        server.server_close()
    assert steps.returncode == 0, steps.stdout[-3000:] + steps.stderr[-3000:]
    assert (clone / "report" / "quick" / "report.pdf").stat().st_size > 10_000
    assert (clone / "data" / "cifar-10-batches-py" / "test_batch").is_file()
    assert "CIFAR-10 downloaded to" in steps.stdout
    assert "Kernel is running over TCP" not in steps.stdout + steps.stderr
    assert "[9/9] 08_benchmark  done in" in steps.stderr
    # a quick build checks its claims too, and marks (never stops at) a contradicted one
    claims = pd.read_csv(clone / "report" / "quick" / "results" / "claims.csv")
    assert len(claims) >= 10 and list(claims.columns) == ["section", "kind", "claim",
                                                          "evidence", "holds"]
    assert "claims checked against their data" in steps.stdout
    assert not steps.stdout.startswith(".venv/bin/python")  # make prints its own lines only

    # the README's papermill lines, each made quick, then make clean: the study is untouched
    lines = readme_papermill_lines()
    assert len(lines) == 10 and lines[0].startswith("mkdir")
    commands = [line.split("#")[0].strip() for line in lines]  # a comment would end the chain
    quick = [c if "quick True" in c or not c.startswith("papermill") else c + " -p quick True"
             for c in commands]
    explore = subprocess.run(". .venv/bin/activate && " + " && ".join(quick) + " && make clean",
                             shell=True, cwd=clone, env=env, capture_output=True, text=True,
                             timeout=1500)
    assert explore.returncode == 0, explore.stdout[-3000:] + explore.stderr[-3000:]
    assert explore.stderr.count("Executing: 100%") == 9 or "Executing" in explore.stderr
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=clone, capture_output=True, text=True, check=True).stdout
    assert status == "", status
    assert not (clone / "scratch").exists() and not (clone / "report" / "quick").exists()


def readme_papermill_lines() -> list[str]:
    """The commands of the README's block of papermill examples."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("```bash\nmkdir -p scratch"):]
    block = block[len("```bash\n"):block.index("```", 8)]
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_a_configured_data_dir_without_data_is_an_error_not_a_download(tmp_path, monkeypatch):
    from bnnet.cifar10 import DataError, ensure_cifar10

    monkeypatch.setenv("BNNET_CIFAR10_URL", "http://127.0.0.1:9/never.tar.gz")
    with pytest.raises(DataError, match="CIFAR-10 not found"):
        ensure_cifar10(tmp_path / "empty")
    monkeypatch.setenv("BNNET_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DataError, match="from BNNET_DATA_DIR"):
        ensure_cifar10()


def test_offline_download_fails_at_once_with_the_usual_message(tmp_path, monkeypatch):
    import bnnet.cifar10 as fetch
    from bnnet.cifar10 import DataError

    monkeypatch.delenv("BNNET_DATA_DIR", raising=False)
    monkeypatch.setattr(fetch, "data_root", lambda: tmp_path / "data")
    monkeypatch.setattr(fetch, "find_batches_dir", lambda d=None: (_ for _ in ()).throw(
        DataError("CIFAR-10 not found")))
    monkeypatch.setenv("BNNET_CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    with pytest.raises(DataError, match=r"could not download.*BNNET_DATA_DIR"):
        fetch.ensure_cifar10()


def test_download_honours_the_url_and_md5_overrides(tmp_path, monkeypatch):
    import bnnet.cifar10 as fetch
    from bnnet.cifar10 import DataError

    archive, md5 = official_layout_archive(tmp_path, n_per_batch=20)
    server = serve(archive.parent)
    try:
        monkeypatch.delenv("BNNET_DATA_DIR", raising=False)
        monkeypatch.setattr(fetch, "data_root", lambda: tmp_path / "project" / "data")
        monkeypatch.setattr(fetch, "find_batches_dir", lambda d=None: (_ for _ in ()).throw(
            DataError("CIFAR-10 not found")))
        monkeypatch.setenv("BNNET_CIFAR10_URL",
                           f"http://127.0.0.1:{server.server_port}/{archive.name}")
        monkeypatch.setenv("BNNET_CIFAR10_MD5", "0" * 32)
        with pytest.raises(DataError, match=r"expected 0{32}"):
            fetch.ensure_cifar10()
        monkeypatch.setenv("BNNET_CIFAR10_MD5", md5)
        folder, downloaded = fetch.ensure_cifar10()
    finally:
        server.shutdown()
        server.server_close()
    assert downloaded and (folder / "test_batch").is_file()
    assert folder == tmp_path / "project" / "data" / "cifar-10-batches-py"


def test_an_incomplete_data_folder_is_completed_by_make_data_unless_configured(
        tmp_path, monkeypatch):
    """A partial download in data/ is not taken for the data: ensure_cifar10 (what `make
    data` runs) downloads the archive again; a configured partial folder is an error that
    names the missing files and says that nothing is downloaded into it."""
    import bnnet.cifar10 as fetch
    from bnnet.cifar10 import DataError

    archive, md5 = official_layout_archive(tmp_path, n_per_batch=20)
    partial = tmp_path / "project" / "data" / "cifar-10-batches-py"
    partial.mkdir(parents=True)
    (partial / "data_batch_1").write_bytes(b"half")
    server = serve(archive.parent)
    try:
        monkeypatch.delenv("BNNET_DATA_DIR", raising=False)
        monkeypatch.setattr(fetch, "data_root", lambda: tmp_path / "project" / "data")
        monkeypatch.setenv("BNNET_CIFAR10_URL",
                           f"http://127.0.0.1:{server.server_port}/{archive.name}")
        monkeypatch.setenv("BNNET_CIFAR10_MD5", md5)
        with pytest.raises(DataError, match=r"incomplete CIFAR-10 copy: missing data_batch_2"
                                            r".*Run `make data`"):
            fetch.find_batches_dir()
        folder, downloaded = fetch.ensure_cifar10()
        assert downloaded and folder == partial
        assert fetch.find_batches_dir() == partial
        (partial / "test_batch").unlink()
        monkeypatch.setenv("BNNET_DATA_DIR", str(partial))
        with pytest.raises(DataError, match=r"missing test_batch\. It comes from "
                                            r"BNNET_DATA_DIR=.*nothing is downloaded"):
            fetch.ensure_cifar10()
    finally:
        server.shutdown()
        server.server_close()


def test_load_with_download_takes_the_make_data_path(tmp_path, monkeypatch):
    """load_cifar10(download=True) honours the URL/md5 overrides and never downloads into a
    configured data directory (the local server must see no request)."""
    import bnnet
    import bnnet.cifar10 as cifar10
    from bnnet.cifar10 import DataError

    archive, md5 = official_layout_archive(tmp_path, n_per_batch=20)
    requests = []

    class Recorded(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            requests.append(format % args)

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(Recorded, directory=str(archive.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("BNNET_CIFAR10_URL",
                           f"http://127.0.0.1:{server.server_port}/{archive.name}")
        monkeypatch.setenv("BNNET_CIFAR10_MD5", md5)
        (tmp_path / "empty").mkdir()
        monkeypatch.setenv("BNNET_DATA_DIR", str(tmp_path / "empty"))
        with pytest.raises(DataError, match="unset BNNET_DATA_DIR"):
            bnnet.load_cifar10(download=True)
        with pytest.raises(DataError, match="never downloaded into"):
            bnnet.load_cifar10(tmp_path / "empty", download=True)
        assert requests == [] and not any((tmp_path / "empty").iterdir())
        monkeypatch.delenv("BNNET_DATA_DIR")
        monkeypatch.setattr(cifar10, "data_root", lambda: tmp_path / "project" / "data")
        data = bnnet.load_cifar10(download=True, n_val=10)
    finally:
        server.shutdown()
        server.server_close()
    assert len(requests) == 1 and data.X_train.shape == (90, 3072)
    assert (tmp_path / "project" / "data" / "cifar-10-batches-py" / "test_batch").is_file()


def test_folders_given_relative_to_the_shell_stay_right_for_the_kernels(builder, tmp_path,
                                                                     monkeypatch):
    """The notebooks' kernels run in notebooks/: a relative BNNET_DATA_DIR, BNNET_CACHE_DIR
    or --data-dir is made absolute where make report was started."""
    import argparse

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BNNET_DATA_DIR", "../shared/cifar-10-batches-py")
    monkeypatch.setenv("BNNET_CACHE_DIR", "cache")
    args = argparse.Namespace(data_dir="data")
    builder.absolute_settings(args)
    assert os.environ["BNNET_DATA_DIR"] == str(tmp_path / "../shared/cifar-10-batches-py")
    assert os.environ["BNNET_CACHE_DIR"] == str(tmp_path / "cache")
    assert args.data_dir == str(tmp_path / "data")


@pytest.mark.parametrize("path", [ROOT / "notebooks" / f"{name}.ipynb" for name in NOTEBOOKS],
                         ids=lambda p: p.stem)
def test_every_notebook_of_the_report_opens_with_how_long_it_runs_and_how_to_try_it_quick(path):
    import nbformat

    first = nbformat.read(path, as_version=4).cells[0]
    assert "lab-only" in first.metadata.get("tags", []), path.name
    assert "quick = True" in first.source and re.search(r"\d+ (s|min)", first.source)


def test_a_parameters_file_builds_into_its_own_folder_with_its_changes(builder, tmp_path,
                                                                       monkeypatch):
    mine = tmp_path / "test-lam-change.yaml"
    mine.write_text("02_three_vs_nine_layers:\n  lam: 0.01\n")
    seen = {}

    def fake_build(args, pdf_path, executed_dir):
        seen.update(args=args, pdf=pdf_path, executed=executed_dir,
                    results=os.environ["BNNET_RESULTS_DIR"])
        return 0

    monkeypatch.setattr(builder, "build", fake_build)
    for name in ("BNNET_RESULTS_DIR", "BNNET_FIGURES_DIR"):  # main sets them: restored after
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["build_report.py", "--params", str(mine)])
    folder = ROOT / "report" / "test-lam-change"
    try:
        assert builder.main() == 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert seen["pdf"] == folder / "report.pdf"
    assert seen["executed"] == folder / "executed"
    assert Path(seen["results"]) == folder / "results"
    assert seen["args"].changes == {"02_three_vs_nine_layers": {"lam": 0.01}}
    assert builder.output_root(True, mine) == ROOT / "report" / "quick-test-lam-change"
    assert builder.output_root(False, None) is None  # the study's own layout


def test_a_wrong_parameters_file_stops_the_build_before_any_notebook(builder, tmp_path,
                                                                    monkeypatch, capsys):
    mine = tmp_path / "typo.yaml"
    mine.write_text("03_lambda_search:\n  n_fien: 3\n")
    monkeypatch.setattr(builder, "build", lambda *a: pytest.fail("the build started"))
    monkeypatch.setattr(sys, "argv", ["build_report.py", "--params", str(mine)])
    assert builder.main() == 1
    err = capsys.readouterr().err
    assert "has no parameter 'n_fien'" in err and "did you mean 'n_fine'" in err
    results = tmp_path / "results.yaml"  # a name that would write into the study's folders
    results.write_text("")
    monkeypatch.setattr(sys, "argv", ["build_report.py", "--params", str(results)])
    assert builder.main() == 1
    assert "committed study keeps its outputs" in capsys.readouterr().err
