"""Where a run's seconds go (bnnet.study.timing): every variant timed, shares relative to
the run as trained."""

import pytest

import bnnet
from bnnet.study import timing
from bnnet.study.provenance import run_flops


def test_time_shares_times_every_variant_and_measures_what_each_saves(monkeypatch, spec):
    trained = []

    def fake_fit(config, data, progress=True):
        trained.append(config)
        # a run costs 1 s, plus 0.5 s of augmentation and 0.25 s of logging
        seconds = 1.0 + 0.5 * config.flip + 0.25 * (config.log_every < 10**9)
        return type("R", (), {"seconds": seconds})()

    monkeypatch.setattr(timing, "fit", fake_fit)
    config = bnnet.Config(hidden=[20], flip=True, shift=1, test_flip=True, log_every=5)
    table = timing.time_shares(config, spec.load(), updates=20, repeats=3).set_index("variant")
    assert len(trained) == 3 * len(timing.VARIANTS)
    assert all(c.n_updates == 20 for c in trained)
    assert table.loc["as trained", "seconds"] == 1.75
    assert table.loc["without augmentation", "share"] == pytest.approx(0.5 / 1.75)
    assert table.loc["without logging", "share"] == pytest.approx(0.25 / 1.75)
    assert table.loc["without test-time flips", "share"] == 0.0
    assert table.loc["bare (none of the three)", "seconds"] == 1.0
    flops = run_flops(config.replace(n_s=10, cycles=1).to_dict())
    assert table.loc["as trained", "GFLOP/s"] == pytest.approx(flops / 1.75 / 1e9)


def test_time_shares_trains_for_real_on_tiny_data(spec):
    config = bnnet.Config(hidden=[8], flip=True, shift=1, log_every=4, batch_size=20)
    table = timing.time_shares(config, spec.load(), updates=8, repeats=1)
    assert list(table["variant"]) == list(timing.VARIANTS)
    assert (table["seconds"] > 0).all() and table.loc[0, "share"] == 0.0


def test_time_shares_refuses_an_odd_number_of_updates(spec):
    with pytest.raises(ValueError, match="even number"):
        timing.time_shares(bnnet.Config(), spec.load(), updates=7)
