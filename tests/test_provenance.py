"""What a report says it was built from: the data by md5, the runs by their ledger."""

import json

import pytest

from bnnet.cifar10 import md5sum
from bnnet.study import provenance


def test_the_data_is_described_by_fingerprint_not_by_path(fake_cifar, monkeypatch):
    text = provenance.describe_data(fake_cifar)
    assert text.startswith("a copy that differs from the official CIFAR-10 python release "
                           "in 7 of 7 files (md5)")
    assert str(fake_cifar) not in text
    official = {name: md5sum(fake_cifar / name) for name in provenance.OFFICIAL_MD5}
    monkeypatch.setattr(provenance, "OFFICIAL_MD5", official)
    assert provenance.describe_data(fake_cifar) == (
        "the official CIFAR-10 python release (md5 of every batch file verified)")
    (fake_cifar / "data_batch_3").write_bytes(b"changed")
    assert "in 1 of 7 files (md5): data_batch_3" in provenance.describe_data(fake_cifar)


def test_training_time_counts_each_run_once_and_says_what_was_trained_now(tmp_path,
                                                                         monkeypatch):
    ledger = tmp_path / "runs.jsonl"
    monkeypatch.setenv(provenance.LEDGER_ENV, str(ledger))
    haswell = {"kernel": "Haswell", "openblas": "0.3.31"}
    provenance.record_runs([{"key": "a", "desc": "02", "seconds": 10.0, "cached": True,
                             "blas": haswell},
                            {"key": "b", "desc": "02", "seconds": 20.0, "cached": False,
                             "blas": haswell}])
    # the same run used again by a later notebook, and a diverged run
    provenance.record_runs([{"key": "a", "desc": "05", "seconds": 10.0, "cached": True},
                            {"key": "c", "desc": "03", "seconds": float("nan"),
                             "cached": False}])
    assert len(ledger.read_text().splitlines()) == 4
    assert json.loads(ledger.read_text().splitlines()[0])["key"] == "a"
    assert provenance.training_summary(ledger) == {"runs": 3, "seconds": 30.0,
                                                   "trained_now": 2, "kernels": {"numpy": 3},
                                                   "blas": {("Haswell", "0.3.31"): 2,
                                                            ("", ""): 1}}
    assert provenance.training_summary(tmp_path / "none.jsonl")["runs"] == 0


def test_run_many_writes_the_ledger(fake_cifar, tmp_path, monkeypatch):
    from bnnet import Config
    from bnnet.study.jobs import DataSpec
    from bnnet.study.runs import run_many

    ledger = tmp_path / "runs.jsonl"
    monkeypatch.setenv(provenance.LEDGER_ENV, str(ledger))
    configs = [Config(hidden=(8,), n_s=10, cycles=1, batch_size=20, seed=s) for s in (0, 1)]
    spec = DataSpec(str(fake_cifar), n_val=30)
    first = run_many(configs, spec, progress=False)
    run_many(configs, spec, progress=False)
    summary = provenance.training_summary(ledger)
    assert summary["runs"] == 2 and summary["trained_now"] == 2
    assert summary["kernels"] == {"numba": 2}
    assert summary["seconds"] == sum(r.seconds for r in first)
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["cached"] for e in entries] == [False, False, True, True]


def test_the_offline_copy_is_named_and_explained_on_the_title_line(fake_cifar, monkeypatch):
    assert provenance.data_kind(fake_cifar) == "other"
    monkeypatch.setattr(provenance, "OFFLINE_COPY_MD5", dict(provenance.file_md5s(fake_cifar)))
    assert provenance.data_kind(fake_cifar) == "offline copy"
    text = provenance.describe_data(fake_cifar)
    assert text.startswith("not the official download but an offline copy of CIFAR-10")
    assert "the introduction says what this means" in text


def test_throughput_divides_each_runs_arithmetic_by_its_seconds(tmp_path):
    narrow = {"hidden": [50, 50], "batch_size": 100, "n_s": 2250, "cycles": 2}
    wide = {"hidden": [500, 500], "batch_size": 100, "n_s": 4000, "cycles": 1}
    # by hand: 4 x the first layer's weights, 6 x the others, per image and update
    assert provenance.run_flops(narrow) == 100 * 9000 * (4 * 3072 * 50 + 6 * (50 * 50 + 500))
    assert provenance.run_flops(wide) == 100 * 8000 * (4 * 3072 * 500
                                                      + 6 * (500 * 500 + 5000))
    entries = [{"key": "a", "seconds": 10.0, "cached": False, "config": narrow},
               {"key": "b", "seconds": 20.0, "cached": False, "config": narrow},
               {"key": "c", "seconds": 60.0, "cached": True, "config": wide},
               {"key": "d", "seconds": float("nan"), "cached": False, "config": wide}]
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(json.dumps(e) + "\n" for e in entries))
    table = provenance.throughput(provenance.read_ledger(ledger)).set_index("net")
    assert list(table.index) == ["500-500", "50-50"]  # most minutes first
    assert table.loc["50-50", "runs"] == 2 and table.loc["500-500", "runs"] == 1  # NaN: out
    rates = [provenance.run_flops(narrow) / s / 1e9 for s in (10.0, 20.0)]
    assert table.loc["50-50", "GFLOP/s"] == pytest.approx(sum(rates) / 2)  # their median
    assert table.loc["500-500", "minutes"] == 1.0
    # the values the medians reduce: every run with a training time, one row each
    speeds = provenance.run_speeds(provenance.read_ledger(ledger))
    assert list(speeds["net"]) == ["50-50", "50-50", "500-500"]
    assert list(speeds["GFLOP/s"].iloc[:2]) == pytest.approx(rates)


def test_wall_time_hands_the_longest_run_first_to_the_first_free_worker():
    assert provenance.wall_time([5.0], 4) == 5.0  # one run: more workers do not help
    assert provenance.wall_time([1.0] * 8, 2) == 4.0
    # longest first: 7 | 5 + 2 | 4 + 3  -> 7, not the 9 of 7 + 2 in input order on 2 workers
    assert provenance.wall_time([2.0, 4.0, 7.0, 3.0, 5.0], 3) == 7.0
    assert provenance.wall_time([3.0, float("nan"), 1.0], 1) == 4.0  # a diverged run costs 0
    with pytest.raises(ValueError, match="at least one worker"):
        provenance.wall_time([1.0], 0)


def test_the_cold_build_estimate_runs_the_sections_one_after_another():
    runs = ([{"section": "02", "seconds": 60.0}] * 4 + [{"section": "05", "seconds": 120.0}] * 2)
    table = provenance.cold_build_estimate(runs, workers=(1, 2, 4)).set_index("workers")
    assert table.loc[1, "minutes"] == 8.0
    assert table.loc[2, "minutes"] == 2.0 + 2.0
    assert table.loc[4, "minutes"] == 1.0 + 2.0
