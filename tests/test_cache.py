"""The run cache (bnnet.study.cache): finished runs are read back, interrupted sweeps
resume, a corrupt entry costs one line; the key holds what decides a run's numbers (the
configuration, the data's bytes and split, the arithmetic's versions) and nothing else
(no source text, no folder, no SIMD level)."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

from bnnet import Config, blas
from bnnet.core import NUMERICS_VERSION
from bnnet.files import PROJECT_ROOT
from bnnet.study.cache import environment, folder_name, memory
from bnnet.study.jobs import DataSpec, keyed_run
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


def in_cache(cfg: Config, spec: DataSpec, probe: int = 0) -> bool:
    """Whether run_many would read ``cfg`` on ``spec`` back from the cache."""
    pinned = spec.pinned()
    cached = memory().cache(keyed_run, ignore=["spec"])
    return cached.check_call_in_cache(cfg, pinned.key(), probe, pinned)


def test_finished_runs_come_from_the_cache(spec):
    cfg = Config(**SMALL)
    assert not in_cache(cfg, spec)
    (first,) = run_many([cfg], spec, progress=False)
    assert in_cache(cfg, spec)
    (again,) = run_many([cfg], spec, progress=False)
    pd.testing.assert_frame_equal(first.history, again.history)
    # another configuration, split or probe is a different cache entry
    assert not in_cache(cfg.replace(lam=0.1), spec)
    assert not in_cache(cfg, DataSpec(spec.data_dir, n_val=40))
    assert not in_cache(cfg, spec, probe=10)


def test_the_cache_folder_names_what_decides_the_numbers_besides_the_arguments():
    env = environment()
    assert env == {"numerics": str(NUMERICS_VERSION), "numpy": version("numpy"),
                   "numba": version("numba"), "openblas": blas.loaded()["openblas"],
                   "kernel": blas.loaded()["kernel"], "blas_threads": "1"}
    name = Path(memory().location).name
    assert name == folder_name(env)
    assert f"numerics{NUMERICS_VERSION}-numpy{version('numpy')}-numba{version('numba')}" in name
    assert name.endswith(f"kernel{blas.loaded()['kernel']}-blas_threads1")
    # the gradient checks' folder adds NumPy's SIMD level (their round-off shows it)
    assert Path(memory(simd=True).location).name == f"{name}-simd{blas.simd()}"
    assert "simd" not in name


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
    assert in_cache(cfg, report)
    (again,) = run_many([cfg], report, progress=False)
    pd.testing.assert_frame_equal(first.history, again.history)
    # the folder named explicitly is not part of the key either: moved, it keeps its runs
    assert in_cache(cfg, DataSpec(str(copy), n_val=30))
    batch = copy / "data_batch_1"
    changed = bytearray(batch.read_bytes())
    changed[-1] ^= 1
    batch.write_bytes(bytes(changed))
    assert report.pinned().source != pinned.source
    assert not in_cache(cfg, report)


EDITED_RUNNER = textwrap.dedent("""
    import sys
    from bnnet import Config
    from bnnet.study.jobs import DataSpec
    from bnnet.study.provenance import read_ledger
    from bnnet.study.runs import run_many
    import bnnet
    run_many([Config(hidden=(16,), n_s=20, cycles=1, batch_size=20)],
             DataSpec(sys.argv[1], n_val=30), progress=False)
    print(bnnet.__file__)
    print(sum(not e["cached"] for e in read_ledger(sys.argv[2])))
""")


def test_a_comment_or_a_message_edited_in_core_retrains_nothing(tmp_path):
    """Train a run with this checkout, then with a copy of it whose core modules have a new
    comment and another error message: the copy reads the run back and trains nothing."""
    data = write_fake_cifar(tmp_path / "data")
    copy = tmp_path / "copy"
    shutil.copytree(PROJECT_ROOT / "src", copy / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    core = copy / "src" / "bnnet" / "core"
    for module in core.glob("*.py"):
        module.write_text("# an edit that changes no number\n" + module.read_text())
    config = core / "config.py"
    config.write_text(config.read_text().replace("swap them", "exchange them"))
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
           "BNNET_CACHE_DIR": str(tmp_path / "cache")}

    def trained(src: Path, ledger: str) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", EDITED_RUNNER, str(data),
                              str(tmp_path / ledger)],
                             env={**env, "PYTHONPATH": str(src),
                                  "BNNET_RUN_LEDGER": str(tmp_path / ledger)},
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        where, count = out.stdout.split()[-2:]
        return where, int(count)

    assert trained(PROJECT_ROOT / "src", "first.jsonl") == (
        str(PROJECT_ROOT / "src" / "bnnet" / "__init__.py"), 1)
    assert trained(copy / "src", "edited.jsonl") == (
        str(copy / "src" / "bnnet" / "__init__.py"), 0)


SIMD_RUNNER = textwrap.dedent("""
    import json
    from bnnet import blas
    from bnnet.study import golden
    data = golden.golden_data()
    print(blas.simd())
    print(json.dumps({name: golden.fingerprint(golden.GOLDEN_CONFIGS[name], data)
                      for name in ("numba, BN before the ReLU", "numba, augmentation and "
                                   "test-time flips", "numba, float64")}))
""")


def test_trained_numbers_do_not_depend_on_numpys_simd_level():
    """Why the SIMD level is in the gradient checks' key only: training's element-wise work
    runs in Numba, so NumPy's dispatch (AVX2 here, or capped below it) changes no bit."""
    env = {k: v for k, v in os.environ.items() if k != blas.SIMD_ENV}

    def run(**extra: str) -> tuple[str, str]:
        out = subprocess.run([sys.executable, "-c", SIMD_RUNNER], env={**env, **extra},
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        level, results = out.stdout.splitlines()[-2:]
        return level, results

    top, at_top = run()
    below, capped = run(**{blas.SIMD_ENV: "X86_V3 " + blas.above_haswell()})
    if top == below:
        pytest.skip(f"NumPy runs at {top} either way here: nothing to compare")
    assert at_top == capped, f"trained runs differ between {top} and {below}"
