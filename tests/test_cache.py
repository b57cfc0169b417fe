"""The run cache (bnnet.study.cache): finished runs are read back, interrupted sweeps
resume, a corrupt entry costs one line."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from bnnet import Config, blas
from bnnet.study.cache import code_key, memory
from bnnet.study.jobs import DataSpec, train_run
from bnnet.study.runs import run_many
from tests.conftest import SMALL, write_fake_cifar

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


def test_finished_runs_come_from_the_cache(spec):
    cfg = Config(**SMALL)
    cached = memory().cache(train_run)
    pinned = spec.pinned()
    assert not cached.check_call_in_cache(cfg, pinned, 0)
    (first,) = run_many([cfg], spec, progress=False)
    assert cached.check_call_in_cache(cfg, pinned, 0)
    (again,) = run_many([cfg], spec, progress=False)
    pd.testing.assert_frame_equal(first.history, again.history)
    # another configuration, split, data or training code is a different cache entry
    assert not cached.check_call_in_cache(cfg.replace(lam=0.1), pinned, 0)
    assert not cached.check_call_in_cache(cfg, DataSpec(spec.data_dir, n_val=40).pinned(), 0)
    other_data = DataSpec(spec.data_dir, n_val=30, source="0123456789abcdef")
    assert not cached.check_call_in_cache(cfg, other_data, 0)
    # other training code or another BLAS kernel, other folder
    assert Path(memory().location).name == (f"{code_key()}-{blas.loaded()['kernel']}-"
                                            f"{blas.simd()}")


def test_a_copy_of_the_data_keeps_its_runs_and_other_bytes_do_not(spec, tmp_path,
                                                                  monkeypatch):
    """The run cache is keyed to the data's bytes, not to where the files are or when they
    were copied: a data folder copied anew (new modification times, another place) that
    BNNET_DATA_DIR points at, as make report reads it, reads its runs back; one changed
    byte trains them again."""
    cfg = Config(**SMALL)
    monkeypatch.setenv("BNNET_DATA_DIR", spec.data_dir)
    report = DataSpec(None, n_val=30)
    (first,) = run_many([cfg], report, progress=False)
    pinned = report.pinned()
    copy = tmp_path / "copy" / "cifar-10-batches-py"
    shutil.copytree(spec.data_dir, copy)
    for f in copy.iterdir():  # copied later: other modification times
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    monkeypatch.setenv("BNNET_DATA_DIR", str(copy))
    assert report.pinned() == pinned
    cached = memory().cache(train_run)
    assert cached.check_call_in_cache(cfg, report.pinned(), 0)
    (again,) = run_many([cfg], report, progress=False)
    pd.testing.assert_frame_equal(first.history, again.history)
    batch = copy / "data_batch_1"
    changed = bytearray(batch.read_bytes())
    changed[-1] ^= 1
    batch.write_bytes(bytes(changed))
    assert report.pinned().source != pinned.source
    assert not cached.check_call_in_cache(cfg, report.pinned(), 0)
