
import numpy as np
import pandas as pd
import pytest

from bnnet import Config
from bnnet.core.diagnostics import layer_statistics
from bnnet.study.jobs import DataSpec
from bnnet.study.runs import estimated_cost, run_many
from tests.conftest import SMALL


def test_parallel_runs_equal_sequential_runs_bit_for_bit(spec):
    configs = [Config(**SMALL, seed=s, bn=bn) for s in (0, 1) for bn in ("none", "before")]
    seq = run_many(configs, spec, n_jobs=1, cache=False, progress=False)
    par = run_many(configs, spec, n_jobs=2, cache=False, progress=False)
    for a, b in zip(seq, par, strict=True):
        assert a.config == b.config
        pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
        for p, q in zip(a.params, b.params, strict=True):
            for k in p:
                np.testing.assert_array_equal(p[k], q[k])












def test_small_sigma_kills_the_signal_without_bn_but_not_with_it():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 100)), rng.integers(0, 10, 200)
    hidden = (50, 30, 20, 20, 10, 10, 10, 10)
    plain = layer_statistics(Config(hidden=hidden, init="normal", sigma=1e-3,
                                    bn="none", dtype="float64"), X, y, 10)
    bn = layer_statistics(Config(hidden=hidden, init="normal", sigma=1e-3,
                                 bn="before", dtype="float64"), X, y, 10)
    assert plain["output_std"].iloc[-1] < 1e-15  # scores vanish: uniform softmax
    assert plain["grad_W_norm"].iloc[0] < 1e-15
    # BN rescales the tiny pre-activations: outputs and gradients keep a usable size
    # (not quite 1: the variance floor eps = 1e-5 is not small next to var(s) here)
    assert bn["output_std"].iloc[0] > 0.3 and (bn["output_std"].iloc[:-1] > 0.01).all()
    assert (bn["grad_W_norm"] > 1e-3).all()
    # pre-activations shrink by orders of magnitude layer by layer in both (same weights)
    assert plain["pre_std"].iloc[-1] < 1e-15 and bn["pre_std"].iloc[0] < 1e-1
    np.testing.assert_allclose(plain["pre_std"].iloc[0], bn["pre_std"].iloc[0])


def test_probe_records_layer_statistics_at_every_logged_step(spec):
    cfg = Config(**SMALL, seed=3)
    (probed,) = run_many([cfg], spec, progress=False, probe=20)
    (plain,) = run_many([cfg], spec, progress=False)
    assert plain.layers is None
    assert sorted(set(probed.layers["step"])) == [0, 5, 10, 15, 20]
    assert len(probed.layers) == 5 * cfg.n_layers
    assert {"pre_std", "output_std", "grad_W_norm"} <= set(probed.layers.columns)
    pd.testing.assert_frame_equal(probed.history, plain.history)  # probing changes nothing




def test_longest_runs_are_dispatched_first_and_results_keep_the_input_order(spec):
    small = Config(**SMALL)
    assert estimated_cost(small.replace(cycles=2)) == 2 * estimated_cost(small)
    assert estimated_cost(small.replace(hidden=(64,))) > estimated_cost(small)
    configs = [small.replace(seed=1), small.replace(hidden=(64,), seed=1), small.replace(seed=2)]
    results = run_many(configs, spec, n_jobs=2, cache=False, progress=False)
    assert [r.config for r in results] == configs
    alone = run_many(configs[:1], spec, cache=False, progress=False)[0]
    pd.testing.assert_frame_equal(results[0].history, alone.history)




def test_one_batch_of_runs_on_two_data_splits(spec, fake_cifar):
    other = DataSpec(str(fake_cifar), n_val=40)
    configs = [Config(**SMALL, seed=0), Config(**SMALL, seed=0)]
    both = run_many(configs, [spec, other], n_jobs=2, progress=False)
    assert both[0].history.equals(run_many(configs[:1], spec, progress=False)[0].history)
    assert both[1].history.equals(run_many(configs[1:], other, progress=False)[0].history)
    assert not both[0].history.equals(both[1].history)  # another split, another run
    with pytest.raises(ValueError, match="one DataSpec, or one per config"):
        run_many(configs, [spec], progress=False)
