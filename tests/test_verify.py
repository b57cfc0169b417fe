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
from bnnet.study.verify import (
    Check,
    arm_spreads,
    describe_sample,
    files_differing,
    load_manifest,
    retrain,
    run_labels,
    sample,
)
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
                          run_key={"numerics": "1"}) == 4
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
    # what the sample is, then one line per run naming its section, its sweep and what
    # tells it apart there, in the manifest's order
    assert ("re-training 3 of the report's 4 runs: the best network's seed 0 and one run of "
            "the other section, then 1 at random (RUNS=1; sample seed 0)") in ok.stdout
    lines = [line for line in ok.stdout.splitlines() if line.startswith("identical")]
    assert lines[-1].startswith("identical  05_bn_variants · best · 2-layer [32], n_s 10, "
                                "1 cycle, batch 20, 30 validation images, seed 0: test ")
    assert all(line.startswith("identical  02_three_vs_nine_layers · arm · 2-layer [16], "
                               "n_s 10, 1 cycle, batch 20, 30 validation images, seed ")
               for line in lines[:-1])
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
    assert ("OPENBLAS_CORETYPE=Haswell and NPY_DISABLE_CPU_FEATURES=\"X86_V4 AVX512_ICL "
            "AVX512_SPR\" (or BNNET_BLAS_CORETYPE=Haswell) set before Python starts gives "
            "identical numbers") in lines[notice[0]]
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


def manifest_run(section: str, desc: str, seed: int = 0, *, n_val: int = 5000,
                 **config) -> dict:
    """A run as a manifest records it (no training needed to name it)."""
    return {"section": section, "desc": desc,
            "config": Config(**config, seed=seed).to_dict(),
            "data": {"n_val": n_val, "seed": 0, "split": "full", "n_train": None},
            "values": {"test_accuracy": 0.5, "val_accuracy": 0.5, "test_cost": 1.5,
                       "final_train_cost": 1.4}}


def test_each_run_is_named_by_what_tells_it_apart_in_its_section():
    nine = dict(hidden=(50, 30, 20, 20, 10, 10, 10, 10), init="normal")
    best = dict(hidden=(500, 500), lam=0.002, flip=True, shift=2, n_s=4000, cycles=1)
    runs = [
        # section 4's epsilon sweep: sigma and epsilon vary, the 9-layer net throughout
        *[manifest_run("04_init_sensitivity", "epsilon", s, sigma=sigma, eps=eps, **nine)
          for sigma in (1e-3, 1e-4) for eps in (1e-8, 1e-16) for s in (0, 1)],
        # a sweep of one setting away from the course's: said although it does not vary
        manifest_run("05_bn_variants", "alpha", 0, hidden=nine["hidden"], alpha=0.5),
        # an ablation: the ingredients that vary, the data split among them
        manifest_run("05_bn_variants", "ablation", 0, n_val=1000, **best),
        manifest_run("05_bn_variants", "ablation", 0, n_val=1000,
                     **{**best, "flip": False, "shift": 0}),
        manifest_run("05_bn_variants", "ablation", 0, **best),
        # two lambdas that three digits cannot tell apart
        manifest_run("03_lambda_search", "fine search", 0, lam=0.013148427482071049),
        manifest_run("03_lambda_search", "fine search", 0, lam=0.01309408303152376),
    ]
    labels = run_labels(runs)
    assert labels[:4] == ["9-layer, σ 1e-3, ε 1e-8, seed 0", "9-layer, σ 1e-3, ε 1e-8, seed 1",
                          "9-layer, σ 1e-3, ε 1e-16, seed 0",
                          "9-layer, σ 1e-3, ε 1e-16, seed 1"]
    assert labels[7] == "9-layer, σ 1e-4, ε 1e-16, seed 1"
    assert labels[8] == "9-layer, α 0.5, seed 0"
    assert labels[9] == ("3-layer [500, 500], λ 2e-3, n_s 4000, 1 cycle, flips, shifts of up "
                         "to 2 px, 1,000 validation images, seed 0")
    assert "no flips, no shifts, 1,000 validation images" in labels[10]
    assert "flips, shifts of up to 2 px, 5,000 validation images" in labels[11]
    assert labels[12:] == ["λ 0.01315, seed 0", "λ 0.01309, seed 0"]
    # every line of make verify carries its section and sweep beside the label
    line = Check(runs[8], runs[8]["values"], 0.01, labels[8]).line()
    assert line == "identical  05_bn_variants · alpha · 9-layer, α 0.5, seed 0: test 50.00%"


def test_the_sample_is_described_as_what_it_is():
    runs = [manifest_run(section, "sweep", s, n_s=n_s)
            for section, n_s in (("02", 100), ("03", 100), ("05", 900)) for s in range(4)]
    for run in runs:
        run["seconds"] = 60.0
    fixed = sample(runs, 0)
    assert len(fixed) == 3 and runs[fixed[0]]["section"] == "05"  # the costliest seed-0 run
    assert describe_sample(runs, fixed, "0") == (
        "3 of the report's 12 runs: the best network's seed 0 and one run of each of the "
        "other 2 sections")
    assert len(sample(runs, 2)) == 5
    default = sample(runs, None, minutes=2.0)  # 2 workers, one minute a run: 4 runs fit
    assert len(default) == 4
    assert describe_sample(runs, default, None).endswith(
        "then 1 at random (as many as fit in about 10 minutes by the run times the manifest "
        "records; sample seed 0)")
    assert describe_sample(runs, list(range(12)), "all") == "all 12 runs of the report"


def test_a_quick_build_says_how_to_verify_its_own_manifest(tmp_path):
    from bnnet.report.build import verify_command
    from bnnet.report.display import STUDY_RESULTS

    assert verify_command(STUDY_RESULTS / "manifest.json") == "make verify"
    quick = ROOT / "report" / "quick" / "results" / "manifest.json"
    assert verify_command(quick) == "make verify MANIFEST=report/quick/results/manifest.json"
    elsewhere = tmp_path / "my report" / "manifest.json"
    assert verify_command(elsewhere) == f"make verify MANIFEST='{elsewhere.resolve()}'"
    # and make verify takes it
    dry = subprocess.run(["make", "-n", "verify", "MANIFEST=report/quick/results/manifest.json",
                          "RUNS=2"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ('--runs 2 --n-jobs 2 --manifest "report/quick/results/manifest.json"'
            in dry.stdout.replace("\\\n", "").replace("\t", " ").replace("  ", " "))
