from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnnet import Config, blas
from bnnet.core.diagnostics import layer_statistics
from bnnet.core.network import evaluate
from bnnet.study.analysis import bn_statistics_accuracy, flip_test_accuracy, summarise
from bnnet.study.cache import code_key, memory
from bnnet.study.jobs import DataSpec, train_run
from bnnet.study.runs import estimated_cost, run_many
from bnnet.study.search import fine_range, lambda_search, sample_lambdas, smooth_optimum

SMALL = dict(hidden=(16,), n_s=10, cycles=1, batch_size=20, log_every=5)


@pytest.fixture
def spec(fake_cifar):
    return DataSpec(str(fake_cifar), n_val=30)


def test_parallel_runs_equal_sequential_runs_bit_for_bit(spec):
    configs = [Config(**SMALL, seed=s, batch_norm=bn) for s in (0, 1) for bn in (False, True)]
    seq = run_many(configs, spec, n_jobs=1, cache=False, progress=False)
    par = run_many(configs, spec, n_jobs=2, cache=False, progress=False)
    for a, b in zip(seq, par, strict=True):
        assert a.config == b.config
        pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
        for p, q in zip(a.params, b.params, strict=True):
            for k in p:
                np.testing.assert_array_equal(p[k], q[k])


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
    assert Path(memory().location).name == f"{code_key()}-{blas.loaded()['kernel']}"


def test_lambda_search_is_seeded_sorted_and_reports_diverged_trials(spec):
    base = Config(**SMALL, batch_norm=False)
    table, results = lambda_search(base, spec, (-4, -1), 4, seed=3, progress=False)
    assert len(table) == 4 and len(results) == 4
    assert table["val_accuracy"].is_monotonic_decreasing
    np.testing.assert_allclose(sorted(table["lam"]), sorted(sample_lambdas(-4, -1, 4, 3)))
    lo, hi = fine_range(table)
    assert lo < table["log10_lam"].iloc[0] < hi

    exploding = base.replace(eta_min=1e3, eta_max=1e4)
    with np.errstate(all="ignore"):
        bad, _ = lambda_search(exploding, spec, (-4, -1), 2, seed=3, progress=False)
    assert bad["diverged"].all() and bad["val_accuracy"].isna().all()
    with pytest.raises(ValueError, match="every trial diverged"):
        fine_range(bad)


def test_lambda_search_trains_every_lambda_with_every_seed(spec):
    base = Config(**SMALL)
    table, _ = lambda_search(base, spec, (-4, -2), 2, seed=5, seeds=[0, 1], progress=False)
    assert len(table) == 4
    assert sorted(zip(table["lam"].round(12), table["seed"], strict=True)) == sorted(
        (round(float(lam), 12), s) for lam in sample_lambdas(-4, -2, 2, 5) for s in (0, 1))
    with pytest.raises(ValueError, match="at least one training seed"):
        lambda_search(base, spec, (-4, -2), 2, seeds=[], progress=False)


def test_smooth_optimum_finds_the_peak_under_seed_noise_with_an_interval():
    rng = np.random.default_rng(1)
    u = np.repeat(rng.uniform(-4, -2, 10), 2)
    acc = 0.54 - 0.02 * (u + 2.7) ** 2 + rng.normal(0, 0.003, u.size)  # peak at -2.7
    table = pd.DataFrame({"log10_lam": u, "lam": 10 ** u, "val_accuracy": acc})
    best = smooth_optimum(table, seed=0)
    assert best["low"] < -2.7 < best["high"] and abs(best["log10_lam"] + 2.7) < 0.15
    assert best["high"] - best["low"] < 0.6 and not best["at_edge"]
    assert best["lam"] == pytest.approx(10 ** best["log10_lam"])
    assert np.polyval(best["coef"], best["log10_lam"]) == pytest.approx(best["peak_accuracy"])
    assert best["coef"][0] < 0  # the fit that was maximised, for the figure to draw
    assert smooth_optimum(table, seed=0) == best  # seeded bootstrap
    # a lucky single run far from the peak is the best run, but not what is chosen
    lucky = table["log10_lam"].idxmin()
    table.loc[lucky, "val_accuracy"] = acc.max() + 0.005
    assert table["val_accuracy"].idxmax() == lucky
    assert abs(smooth_optimum(table)["log10_lam"] + 2.7) < 0.3
    rising = table.assign(val_accuracy=0.5 + 0.01 * u)  # no maximum inside: the better end
    edge = smooth_optimum(rising)
    assert edge["at_edge"] and edge["log10_lam"] == pytest.approx(u.max())
    with pytest.raises(ValueError, match="at least 4 runs at 3 or more"):
        smooth_optimum(table.head(2))


def test_summarise_gives_mean_std_and_text():
    table = pd.DataFrame({"net": ["a", "a", "b", "b"], "test_accuracy": [0.5, 0.6, 0.3, 0.3]})
    out = summarise(table, ["net"])
    assert out["mean"].tolist() == pytest.approx([0.55, 0.3])
    assert out["test_accuracy"].tolist() == ["55.00 ± 7.07", "30.00 ± 0.00"]


def test_small_sigma_kills_the_signal_without_bn_but_not_with_it():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 100)), rng.integers(0, 10, 200)
    hidden = (50, 30, 20, 20, 10, 10, 10, 10)
    plain = layer_statistics(Config(hidden=hidden, init="normal", sigma=1e-3,
                                    batch_norm=False, dtype="float64"), X, y, 10)
    bn = layer_statistics(Config(hidden=hidden, init="normal", sigma=1e-3,
                                 batch_norm=True, dtype="float64"), X, y, 10)
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


def test_bn_statistics_variants_of_trained_runs(spec):
    configs = [Config(**SMALL, seed=0), Config(**SMALL, seed=0, batch_norm=False)]
    results = run_many(configs, spec, progress=False)
    table = bn_statistics_accuracy(results, spec)
    assert len(table) == 1  # the run without BN has no statistics to recompute
    row = table.iloc[0]
    assert row["running"] == results[0].test_accuracy
    for column in ("precise", "adaptive"):
        assert 0 <= row[column] <= 1
    # adaptive BN normalises the test inputs with their own statistics: in eval mode the
    # first layer's BN output then has mean 0 over the test set
    from bnnet.core.network import forward, population_statistics
    data = spec.load()
    adapted = population_statistics(results[0].params, data.X_test, configs[0])
    s = data.X_test @ adapted[0]["W"]
    np.testing.assert_allclose(adapted[0]["running_mean"], s.mean(0), rtol=1e-4, atol=1e-5)
    assert forward(data.X_test, adapted, configs[0], train=False)[0].shape == (
        len(data.X_test), 10)


def test_longest_runs_are_dispatched_first_and_results_keep_the_input_order(spec):
    small = Config(**SMALL)
    assert estimated_cost(small.replace(cycles=2)) == 2 * estimated_cost(small)
    assert estimated_cost(small.replace(hidden=(64,))) > estimated_cost(small)
    configs = [small.replace(seed=1), small.replace(hidden=(64,), seed=1), small.replace(seed=2)]
    results = run_many(configs, spec, n_jobs=2, cache=False, progress=False)
    assert [r.config for r in results] == configs
    alone = run_many(configs[:1], spec, cache=False, progress=False)[0]
    pd.testing.assert_frame_equal(results[0].history, alone.history)


def test_flip_test_accuracy_evaluates_each_trained_net_both_ways(spec):
    runs = run_many([Config(**SMALL, flip=True, seed=s) for s in (0, 1)], spec, progress=False)
    table = flip_test_accuracy(runs, spec)
    assert table["seed"].tolist() == [0, 1]
    assert table["plain"].tolist() == [r.test_accuracy for r in runs]
    data = spec.load()
    for r, flipped in zip(runs, table["flipped"], strict=True):
        expected = evaluate(r.params, data.X_test, data.y_test, r.config.replace(test_flip=True))
        assert flipped == expected["accuracy"]


def test_one_batch_of_runs_on_two_data_splits(spec, fake_cifar):
    other = DataSpec(str(fake_cifar), n_val=40)
    configs = [Config(**SMALL, seed=0), Config(**SMALL, seed=0)]
    both = run_many(configs, [spec, other], n_jobs=2, progress=False)
    assert both[0].history.equals(run_many(configs[:1], spec, progress=False)[0].history)
    assert both[1].history.equals(run_many(configs[1:], other, progress=False)[0].history)
    assert not both[0].history.equals(both[1].history)  # another split, another run
    with pytest.raises(ValueError, match="one DataSpec, or one per config"):
        run_many(configs, [spec], progress=False)
