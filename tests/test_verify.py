"""make verify: the manifest a report build writes, and re-training runs from it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bnnet import Config
from bnnet.study.jobs import DataSpec
from bnnet.study.provenance import write_manifest
from bnnet.study.runs import run_many
from bnnet.study.verify import Check, arm_spreads, files_differing, load_manifest, retrain, sample
from tests.conftest import write_fake_cifar
from tests.report_checks import ROOT

SMALL = dict(hidden=(16,), n_s=10, cycles=1, batch_size=20, log_every=5)


def built_manifest(tmp_path, monkeypatch, fake_cifar):
    """A manifest as a report build writes it, from two sections' sweeps."""
    ledger = tmp_path / "runs.jsonl"
    monkeypatch.setenv("BNNET_RUN_LEDGER", str(ledger))
    spec = DataSpec(str(fake_cifar), n_val=30)
    monkeypatch.setenv("BNNET_SECTION", "02_three_vs_nine_layers")
    run_many([Config(**SMALL, seed=s) for s in (0, 1, 2)], spec, progress=False, desc="arm")
    monkeypatch.setenv("BNNET_SECTION", "05_bn_variants")
    run_many([Config(**{**SMALL, "hidden": (32,)}, seed=0)], spec, progress=False,
             desc="best")
    monkeypatch.delenv("BNNET_RUN_LEDGER")
    path = tmp_path / "manifest.json"
    assert write_manifest(ledger, path, batches_dir=fake_cifar, commit="abc",
                          code="k") == 4
    return path


def test_runs_from_the_manifest_train_again_bit_for_bit(tmp_path, monkeypatch, fake_cifar):
    manifest = load_manifest(built_manifest(tmp_path, monkeypatch, fake_cifar))
    runs = manifest["runs"]
    assert {r["section"] for r in runs} == {"02_three_vs_nine_layers", "05_bn_variants"}
    assert files_differing(manifest, fake_cifar) == []
    chosen = sample(runs, 0, seed=1)
    # the longest seed-0 run (the best network) and one run per section
    assert runs[chosen[0]]["config"]["hidden"] == [32] and len(chosen) == 2
    fresh = retrain(runs, fake_cifar, n_jobs=1)
    spreads = arm_spreads(runs)
    checks = [Check(r, f, s) for r, f, s in zip(runs, fresh, spreads, strict=True)]
    assert all(c.identical for c in checks), [c.line() for c in checks]
    # a value that differs by more than the seed spread of its arm is flagged
    tampered = json.loads(json.dumps(runs[0]))
    tampered["values"]["test_accuracy"] += 0.5
    check = Check(tampered, fresh[0], spreads[0])
    assert not check.identical and not check.within_spread and "BEYOND" in check.line()
    # the one-run arm gets the median spread of the others
    assert spreads[3] == spreads[0] > 0


def test_make_verify_checks_the_data_first(tmp_path, monkeypatch, fake_cifar):
    path = built_manifest(tmp_path, monkeypatch, fake_cifar)
    other = write_fake_cifar(tmp_path / "other", seed=5)
    env = {"BNNET_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    script = [sys.executable, str(ROOT / "scripts" / "verify_report.py"), "--manifest",
              str(path), "--runs", "1", "--n-jobs", "1"]
    ok = subprocess.run(script, env={**env, "BNNET_DATA_DIR": str(fake_cifar)},
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert ok.stdout.count("identical  ") == 3 and "3 runs: 3 identical" in ok.stdout
    bad = subprocess.run(script, env={**env, "BNNET_DATA_DIR": str(other)},
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "are not those of the report" in bad.stderr


def verify_script(path, *extra):
    return [sys.executable, str(ROOT / "scripts" / "verify_report.py"), "--manifest",
            str(path), "--n-jobs", "1", *extra]


def test_make_verify_on_another_blas_kernel_says_so_in_one_line_first(
        tmp_path, monkeypatch, fake_cifar):
    path = built_manifest(tmp_path, monkeypatch, fake_cifar)
    assert {r["blas"]["kernel"] for r in load_manifest(path)["runs"]} == {"Haswell"}
    env = {"BNNET_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "BNNET_DATA_DIR": str(fake_cifar)}
    other = subprocess.run(verify_script(path, "--runs", "0"),
                           env={**env, "OPENBLAS_CORETYPE": "Sandybridge"},
                           capture_output=True, text=True, timeout=300)
    lines = other.stdout.splitlines()
    notice = [i for i, line in enumerate(lines) if line.startswith("[verify] BLAS kernel")]
    assert len(notice) == 1, other.stdout
    assert ("this machine runs OpenBLAS's Sandybridge kernel, the report's numbers come from "
            "the Haswell kernel" in lines[notice[0]])
    assert "OPENBLAS_CORETYPE=Haswell (or BNNET_BLAS_CORETYPE=Haswell) set before Python " \
           "starts gives identical numbers" in lines[notice[0]]
    assert notice[0] < next(i for i, line in enumerate(lines) if "re-training" in line)
    same = subprocess.run(verify_script(path, "--runs", "0"), env=env, capture_output=True,
                          text=True, timeout=300)
    assert "Haswell kernel (pinned by bnnet" in same.stdout and "as in the report" in same.stdout


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[: len(text) // 2], "is not a readable manifest"),
    (lambda text: text.replace('"data_md5"', '"data_md"'), "lacks data_md5"),
    (lambda text: text.replace('"values"', '"value"', 1), "run 1 of 4 lacks some of"),
])
def test_a_damaged_manifest_is_one_line_naming_the_file(tmp_path, monkeypatch, fake_cifar,
                                                       damage, message):
    path = built_manifest(tmp_path, monkeypatch, fake_cifar)
    path.write_text(damage(path.read_text()))
    result = subprocess.run(verify_script(path), capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "BNNET_DATA_DIR": str(fake_cifar)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and message in result.stderr
    assert "make report" in result.stderr
