"""Bad input and faults: every one ends in a clear message, and no finished work is lost."""

import contextlib
import hashlib
import io
import os
import pickle
import re
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from bnnet import DataError, download_cifar10, load_cifar10
from bnnet.core.data import read_batch
from bnnet.report.notebook import (
    NET_NAMES,
    OPTIONAL_SIZE,
    POSITIVE_INT,
    SEEDS,
    ParameterError,
    check_parameters,
)
from bnnet.validation import PATH, Bool, Interval, Optional
from tests.conftest import write_fake_cifar

ROOT = Path(__file__).resolve().parents[1]


def rewrite_batch(path: Path, **changes) -> None:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch.update({k.encode(): v for k, v in changes.items()})
    with open(path, "wb") as f:
        pickle.dump(batch, f)


@pytest.mark.parametrize(("data", "message"), [
    (np.zeros((30, 1024), np.uint8), r"shape \(N, 3072\), found uint8 with shape \(30, 1024\)"),
    (np.zeros((30, 3072), np.float64), "found float64"),
    ("not an array", "found str"),
])
def test_batch_with_wrong_shape_or_dtype_is_refused(fake_cifar, data, message):
    rewrite_batch(fake_cifar / "data_batch_4", data=data)
    with pytest.raises(DataError, match=f"data_batch_4: 'data' must be a uint8 array.*{message}"):
        load_cifar10(fake_cifar)


def test_batch_with_fewer_labels_than_images_is_refused(fake_cifar):
    rewrite_batch(fake_cifar / "test_batch", labels=[1, 2, 3])
    with pytest.raises(DataError, match="test_batch: 30 images but 3 labels"):
        read_batch(fake_cifar / "test_batch")


def test_missing_batch_file_is_named(fake_cifar):
    (fake_cifar / "data_batch_5").unlink()
    with pytest.raises(DataError, match="incomplete CIFAR-10 copy: missing data_batch_5"):
        load_cifar10(fake_cifar)


def make_archive(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_md5_extracts_and_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    source = write_fake_cifar(tmp_path / "src")
    members = {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in source.iterdir()}
    archive = tmp_path / "served.tar.gz"
    md5 = make_archive(archive, members)
    folder = download_cifar10(tmp_path / "data", url=archive.as_uri(), md5=md5)
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    assert load_cifar10(tmp_path / "data", n_val=20).X_train.shape == (130, 3072)


def test_download_with_wrong_md5_is_refused_and_removed(tmp_path):
    archive = tmp_path / "served.tar.gz"
    make_archive(archive, {"cifar-10-batches-py/test_batch": b"x"})
    target = tmp_path / "data"
    with pytest.raises(DataError, match=r"has md5 .* expected 0{32}.*It was removed"):
        download_cifar10(target, url=archive.as_uri(), md5="0" * 32)
    assert list(target.iterdir()) == []  # neither the archive nor a partial file is left


def test_archive_escaping_the_target_is_refused(tmp_path):
    archive = tmp_path / "served.tar.gz"
    md5 = make_archive(archive, {"cifar-10-batches-py/test_batch": b"x",
                                 "../escaped.txt": b"owned"})
    with pytest.raises(DataError, match=r"refusing to extract '\.\./escaped\.txt'"):
        download_cifar10(tmp_path / "data", url=archive.as_uri(), md5=md5)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()  # nothing extracted


def test_no_network_says_how_to_get_the_data(tmp_path):
    with pytest.raises(DataError, match=r"could not download.*BNNET_DATA_DIR"):
        download_cifar10(tmp_path / "data", url="http://127.0.0.1:9/cifar-10-python.tar.gz")
    assert not any((tmp_path / "data").iterdir())


@pytest.mark.parametrize(("params", "message"), [
    (dict(n_jobs=("two", POSITIVE_INT)), r"n_jobs='two' \(str\): expected a positive integer"),
    (dict(seeds=("0,1", SEEDS)), '-y "seeds: \\[0, 1, 2\\]"'),
    (dict(quick=("yes", Bool())), "expected True or False"),
    (dict(coarse_range=([-1, -5], Interval())), "low < high"),
    (dict(n_train=(0, OPTIONAL_SIZE)), "positive integer or None"),
    (dict(position_nets=(["5-layer"], NET_NAMES)), '"3-layer" and "9-layer"'),
])
def test_notebook_parameters_of_the_wrong_type_are_rejected(params, message):
    with pytest.raises(ParameterError, match=message):
        check_parameters({k: v for k, (v, _) in params.items()},
                         {k: c for k, (_, c) in params.items()})
    good = {"n_jobs": (2, POSITIVE_INT), "seeds": ([0, 1], SEEDS),
            "data_dir": (None, Optional(PATH)), "n_train": (None, OPTIONAL_SIZE),
            "position_nets": (["3-layer", "9-layer"], NET_NAMES)}
    check_parameters({k: v for k, (v, _) in good.items()}, {k: c for k, (_, c) in good.items()})


@pytest.mark.slow
def test_papermill_parameter_of_the_wrong_type_stops_the_notebook_early(tmp_path):
    import papermill

    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb", out,
                                   parameters={"n_jobs": "two"}, kernel_name="python3",
                                   progress_bar=False, cwd=ROOT / "notebooks")
    assert err.value.ename == "ParameterError"
    assert "n_jobs='two'" in err.value.evalue and "-p n_jobs 2" in err.value.evalue


@pytest.mark.slow
def test_a_misspelt_papermill_parameter_stops_the_notebook_with_the_closest_name(tmp_path):
    """papermill itself only warns ("Passed unknown parameter: cylces") and runs on."""
    import papermill

    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb", out,
                                   parameters={"quick": True, "cylces": 2},
                                   kernel_name="python3", progress_bar=False,
                                   cwd=ROOT / "notebooks")
    assert err.value.ename == "ParameterError"
    assert "no parameter 'cylces' (did you mean 'cycles'?)" in err.value.evalue


@pytest.mark.slow
def test_a_report_without_a_benchmark_file_says_how_to_make_one(tmp_path):
    import nbformat
    import papermill

    out = tmp_path / "07.ipynb"
    papermill.execute_notebook(ROOT / "notebooks" / "08_benchmark.ipynb", out,
                               parameters={"bench_csv": str(tmp_path / "none.csv")},
                               kernel_name="python3", progress_bar=False,
                               cwd=ROOT / "notebooks")
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"
               for o in c.outputs]
    text = " ".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert "make bench" in text and "none.csv" in text


def papermill_cli(tmp_path, *args):
    papermill = Path(sys.executable).parent / "papermill"
    return subprocess.run(
        [str(papermill), str(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb"),
         str(tmp_path / "out.ipynb"), "--cwd", str(ROOT / "notebooks"), "-k", "python3", *args],
        capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_papermill_cli_list_parameter_hint_works(tmp_path):
    """A list given with -p (as text) stops with a hint; the hint, typed as given, passes
    the check (the run then stops at the next, deliberately wrong, parameter)."""
    typed = papermill_cli(tmp_path, "-p", "seeds", "[0, 1]")
    assert typed.returncode != 0
    assert "ParameterError" in typed.stderr + typed.stdout
    hint = re.search(r'with papermill: -y "(seeds: \[[^"]*\])"', typed.stderr + typed.stdout)
    assert hint, typed.stderr[-2000:]
    # the message is the last thing on the screen, and the notebook's part of it is short
    last = typed.stderr.strip().splitlines()[-1]
    assert last.startswith("ParameterError: parameter seeds=") and "-y" in last
    notebook_part = typed.stderr[typed.stderr.index("Exception encountered"):]
    assert len(notebook_part.splitlines()) <= 3, notebook_part
    followed = papermill_cli(tmp_path, "-y", hint.group(1), "-p", "n_jobs", "two")
    output = followed.stderr + followed.stdout
    assert followed.returncode != 0 and "n_jobs='two'" in output
    assert "parameter seeds=" not in output


RUNNER = textwrap.dedent("""
    import sys
    from bnnet import Config
    from bnnet.study.jobs import DataSpec
    from bnnet.study.runs import run_many
    configs = [Config(hidden=(64, 64), n_s=150, cycles=2, batch_size=20, seed=s)
               for s in range(6)]
    run_many(configs, DataSpec(sys.argv[1], n_val=30), n_jobs=1, progress=False)
    print("done")
""")


def cached_outputs(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (cache / "runs").rglob("output.pkl")}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_runs_resume_from_the_cache(tmp_path, sig):
    data = write_fake_cifar(tmp_path / "data")
    cache = tmp_path / "cache"
    env = {**os.environ, "BNNET_CACHE_DIR": str(cache)}
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    # a job started in the background by a non-interactive shell (as CI may run us) inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler: restore it
    proc = subprocess.Popen([sys.executable, str(script), str(data)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(list((cache / "runs").rglob("metadata.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    # joblib writes and reads a run's metadata inside bare ``except:`` clauses, which
    # swallow a SIGINT landing there (right after a run ends, before the next starts): like
    # a user pressing Ctrl-C again, signal until the process has stopped
    while proc.poll() is None:
        proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    proc.communicate(timeout=60)
    finished = cached_outputs(cache)
    assert 2 <= len(finished) < 6, "the interruption should land mid-way"
    # nothing half-written: every stored result loads
    for path in finished:
        with open(path, "rb") as f:
            assert f.read(1)
    rerun = subprocess.run([sys.executable, str(script), str(data)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = cached_outputs(cache)
    assert len(after) == 6
    for path, mtime in finished.items():  # finished runs were read back, not recomputed
        assert after[path] == mtime


def test_a_corrupt_cached_run_is_recomputed_with_one_line(fake_cifar, caplog):
    import logging

    from bnnet import Config
    from bnnet.study.jobs import DataSpec
    from bnnet.study.runs import run_many

    configs = [Config(hidden=(16,), n_s=10, cycles=1, batch_size=20, seed=s) for s in (0, 1)]
    spec = DataSpec(str(fake_cifar), n_val=30)
    first = run_many(configs, spec, progress=False)
    outputs = sorted((fake_cifar.parents[1] / "cache" / "runs").rglob("output.pkl"))
    assert len(outputs) == 2
    outputs[0].write_bytes(outputs[0].read_bytes()[:100])  # an interrupted copy, say
    with caplog.at_level(logging.WARNING):
        again = run_many(configs, spec, progress=False)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(messages) == 1, messages
    assert "\n" not in messages[0] and "Traceback" not in messages[0]
    assert "could not be read" in messages[0] and "training it again" in messages[0]
    assert "of 'runs' (hidden=[16]" in messages[0]
    assert [r.test_accuracy for r in again] == [r.test_accuracy for r in first]
    with caplog.at_level(logging.WARNING):  # and it is cached again
        caplog.clear()
        run_many(configs, spec, progress=False)
    assert not caplog.records
