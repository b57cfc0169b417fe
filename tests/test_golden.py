"""Golden runs guard NUMERICS_VERSION, the run cache's stand-in for the source of the numbers:
any change to the arithmetic of training fails here until the version is raised and the
golden runs are rewritten (``python -m bnnet.study.golden --write``)."""

from __future__ import annotations

import json

import pytest

import bnnet.core.train as train
from bnnet.core import NUMERICS_VERSION
from bnnet.study import golden
from bnnet.study.cache import environment

GOLDEN = json.loads(golden.GOLDEN_FILE.read_text(encoding="utf-8"))
REWRITE = "python -m bnnet.study.golden --write"


def differences(found: dict, expected: dict) -> list[str]:
    return [f"{name}: {key} {expected[name][key]} -> {found.get(name, {}).get(key)}"
            for name in expected for key in expected[name]
            if found.get(name, {}).get(key) != expected[name][key]]


def same_machine_arithmetic() -> None:
    here = environment()
    other = {k: (GOLDEN["environment"][k], here[k]) for k in golden.ENVIRONMENT_FIELDS
             if GOLDEN["environment"][k] != here[k]}
    if other:
        pytest.skip("the golden runs were recorded with other arithmetic ("
                    + ", ".join(f"{k} {a} here {b}" for k, (a, b) in other.items())
                    + "): their bits cannot be compared here")


def test_golden_runs_cover_every_path_of_training():
    configs = golden.GOLDEN_CONFIGS.values()
    assert {c.kernels for c in configs} == {"numba", "numpy"}
    assert {c.bn for c in configs} == {"none", "before", "after"}
    assert {c.dtype for c in configs} == {"float32", "float64"}
    assert {c.optimizer for c in configs} == {"sgd", "adam"}
    assert any(c.flip and c.shift and c.test_flip for c in configs)
    assert any(c.dropout and c.label_smoothing for c in configs)
    assert GOLDEN["runs"].keys() == golden.GOLDEN_CONFIGS.keys(), (
        f"the golden configurations changed: rewrite the golden runs with {REWRITE}")


def test_golden_runs_give_their_committed_bits():
    assert GOLDEN["numerics_version"] == NUMERICS_VERSION, (
        f"NUMERICS_VERSION is {NUMERICS_VERSION} but the golden runs were written for "
        f"{GOLDEN['numerics_version']}: rewrite them with {REWRITE}")
    same_machine_arithmetic()
    changed = differences(golden.compute(), GOLDEN["runs"])
    assert not changed, (
        "the arithmetic of training changed (" + "; ".join(changed[:4])
        + f"{'; ...' if len(changed) > 4 else ''}). If that is meant, raise NUMERICS_VERSION "
        f"in src/bnnet/core/__init__.py (now {NUMERICS_VERSION}) so that the run cache does "
        f"not return runs of the old arithmetic, and rewrite the golden runs with {REWRITE}")


def test_golden_runs_notice_a_change_of_one_part_in_ten_million(monkeypatch):
    """A schedule 1e-7 off (relative) changes every run's bits: the guard is that fine."""
    same_machine_arithmetic()
    schedule = train.cyclical_eta
    monkeypatch.setattr(train, "cyclical_eta",
                        lambda *args, **kwargs: schedule(*args, **kwargs) * (1 + 1e-7))
    data = golden.golden_data()
    for name in ("numba, BN before the ReLU", "numpy, float64, fixed-sigma init"):
        found = golden.fingerprint(golden.GOLDEN_CONFIGS[name], data)
        assert found["params_sha256"] != GOLDEN["runs"][name]["params_sha256"], name
