import threading

import numpy as np
import pandas as pd
import pytest

import bnnet.core.train as train
from bnnet import Config, Dataset, TrainingDivergedError, fit
from bnnet.core.config import ConfigError
from bnnet.core.train import HISTORY_COLUMNS


def blobs(n: int, d: int = 40, classes: int = 10, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d)) * 1.5

    def draw(m):
        y = rng.integers(0, classes, m)
        return (centres[y] + rng.normal(size=(m, d))).astype(np.float32), y

    return Dataset.from_arrays(*draw(n), *draw(200), *draw(200))


@pytest.mark.parametrize("bn", ["none", "before"])
def test_small_net_overfits_100_samples(bn):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 40)).astype(np.float32)
    y = rng.integers(0, 10, 100)  # random labels: only memorisation gets them right
    data = Dataset.from_arrays(X, y, X, y)
    cfg = Config(hidden=(50, 50), bn=bn, lam=0.0, batch_size=20,
                 eta_min=1e-3, eta_max=0.1, n_s=250, cycles=2, log_every=250)
    result = fit(cfg, data, progress=False)
    assert result.history["train_accuracy"].iloc[0] < 0.3
    assert result.history["train_accuracy"].iloc[-1] == 1.0
    assert result.history["train_loss"].iloc[-1] < 0.05


def test_history_schedule_and_logging():
    cfg = Config(hidden=(20,), n_s=50, cycles=2, batch_size=25, log_every=20)
    result = fit(cfg, blobs(500), progress=False)
    h = result.history
    assert list(h.columns) == HISTORY_COLUMNS
    assert h["step"].tolist() == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]
    assert h.loc[h.step == 0, "eta"].item() == pytest.approx(cfg.eta_min)
    assert h.loc[h.step == 100, "eta"].item() == pytest.approx(cfg.eta_min)
    assert h.loc[h.step == 60, "eta"].item() == pytest.approx(
        cfg.eta_min + 0.8 * (cfg.eta_max - cfg.eta_min))
    assert h["epoch"].iloc[-1] == pytest.approx(200 / 20)
    assert h["val_accuracy"].iloc[-1] > 0.8 > h["val_accuracy"].iloc[0]
    assert 0.8 < result.test_accuracy <= 1.0
    assert result.val_accuracy == h["val_accuracy"].iloc[-1]


def test_running_statistics_track_the_batch_statistics():
    cfg = Config(hidden=(16,), n_s=100, cycles=1, batch_size=50, alpha=0.9,
                 eta_min=1e-9, eta_max=1e-9)  # (almost) frozen weights
    data = blobs(1000)
    result = fit(cfg, data, progress=False)
    p = result.params[0]
    s = data.X_train @ p["W"]
    np.testing.assert_allclose(p["running_mean"], s.mean(0), atol=0.05 * s.std(0).max())
    np.testing.assert_allclose(p["running_var"], s.var(0), rtol=0.1)


def test_same_seed_gives_identical_results_and_another_seed_does_not():
    cfg = Config(hidden=(30, 20), n_s=40, cycles=1, batch_size=20, log_every=10)
    data = blobs(400)
    a, b = fit(cfg, data, progress=False), fit(cfg, data, progress=False)
    pd.testing.assert_frame_equal(a.history, b.history)
    for p, q in zip(a.params, b.params, strict=True):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])
    c = fit(cfg.replace(seed=1), data, progress=False)
    assert not np.array_equal(a.params[0]["W"], c.params[0]["W"])


def test_divergence_stops_with_a_clear_error_and_keeps_the_history():
    cfg = Config(hidden=(50, 50), bn="none", eta_min=1e3, eta_max=1e4, n_s=100,
                 batch_size=20, log_every=5)
    with np.errstate(all="ignore"), pytest.raises(TrainingDivergedError) as err:
        fit(cfg, blobs(400), progress=False)
    assert "lower eta_max" in str(err.value)
    assert err.value.step < cfg.n_updates
    assert len(err.value.history) >= 1


def test_batch_larger_than_training_set_is_rejected():
    with pytest.raises(ValueError, match="batch_size=500 is larger than the training set"):
        fit(Config(batch_size=500), blobs(100), progress=False)


def test_float64_training_runs_in_float64():
    result = fit(Config(hidden=(10,), n_s=10, cycles=1, batch_size=50, dtype="float64"),
                 blobs(200), progress=False)
    assert all(v.dtype == np.float64 for p in result.params for v in p.values())


def test_sgd_train_step_is_gradient_descent_on_the_full_cost():
    """The in-place update (weight decay folded in, reused buffers) equals
    p - eta * dJ/dp with J including the L2 term."""
    from bnnet import cost_and_gradients, init_params
    from bnnet.core.optimizers import SGD
    from bnnet.core.train import train_step

    cfg = Config(hidden=(12, 8), lam=0.05, dtype="float64")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 6)), rng.integers(0, 10, 20)
    params = init_params(cfg, 6, 10)
    _, grads = cost_and_gradients(params, X, y, cfg)
    expected = [{k: p[k] - 0.3 * g[k] for k in g} for p, g in zip(params, grads, strict=True)]
    buffers = [np.empty_like(p["W"]) for p in params]
    for _ in range(2):  # the buffers are reused: a second step must not see the first's
        work = [{k: v.copy() for k, v in p.items()} for p in params]
        train_step(work, X, y, cfg, 0.3, 0.9, SGD(work, cfg.lam), dW_out=buffers)
        for p, e in zip(work, expected, strict=True):
            for k in e:
                np.testing.assert_allclose(p[k], e[k], rtol=1e-12, atol=1e-14)


def test_adam_step_matches_the_textbook_update():
    from bnnet import cost_and_gradients, init_params
    from bnnet.core.optimizers import Adam
    from bnnet.core.train import train_step

    cfg = Config(hidden=(12, 8), lam=0.05, dtype="float64", optimizer="adam")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 6)), rng.integers(0, 10, 20)
    params = init_params(cfg, 6, 10)
    ref = [{k: v.copy() for k, v in p.items()} for p in params]
    m = [{k: 0.0 for k in g} for g in cost_and_gradients(ref, X, y, cfg)[1]]
    v = [dict(mi) for mi in m]
    adam = Adam(params, cfg.lam)
    for t in range(1, 4):
        _, grads = cost_and_gradients(ref, X, y, cfg)
        for p, g, mi, vi in zip(ref, grads, m, v, strict=True):
            for k in g:
                mi[k] = 0.9 * mi[k] + 0.1 * g[k]
                vi[k] = 0.999 * vi[k] + 0.001 * g[k] ** 2
                m_hat, v_hat = mi[k] / (1 - 0.9**t), vi[k] / (1 - 0.999**t)
                p[k] = p[k] - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
        train_step(params, X, y, cfg, 0.01, 0.9, adam)
    for p, r in zip(params, ref, strict=True):
        for k in ("W", "b", "gamma", "beta"):
            if k in p:
                np.testing.assert_allclose(p[k], r[k], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("changes", [
    dict(optimizer="adam", eta_min=1e-5, eta_max=3e-3),
    dict(dropout=0.2),
    dict(eta_decay=0.5),
])
def test_variants_train_to_good_accuracy_and_stay_float32(changes):
    cfg = Config(hidden=(30, 30), n_s=100, cycles=2, batch_size=25, **changes)
    result = fit(cfg, blobs(1000), progress=False)
    assert result.test_accuracy > 0.8
    assert all(v.dtype == np.float32 for p in result.params for v in p.values())
    if "eta_decay" in changes:  # the second peak is half the first
        eta = cfg.eta_min + 0.6 * (cfg.eta_max / 2 - cfg.eta_min)
        h = result.history.set_index("step")["eta"]
        assert h[100] == pytest.approx(cfg.eta_max)
        assert h[300] == pytest.approx(cfg.eta_max / 2)
        assert h[260] == pytest.approx(eta)


def test_augmentation_needs_images_and_callback_sees_every_logged_step():
    with pytest.raises(ValueError, match="flip/shift augmentation needs"):
        fit(Config(hidden=(10,), flip=True, n_s=10, cycles=1), blobs(200), progress=False)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3072)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    data = Dataset.from_arrays(X, y, X[:50], y[:50])
    seen = []
    cfg = Config(hidden=(10,), flip=True, shift=2, n_s=10, cycles=1, batch_size=50,
                 log_every=5)
    a = fit(cfg, data, progress=False, callback=lambda step, params: seen.append(step))
    b = fit(cfg, data, progress=False)
    c = fit(cfg.replace(shift=0), data, progress=False)
    assert seen == [0, 5, 10, 15, 20]
    np.testing.assert_array_equal(a.params[0]["W"], b.params[0]["W"])  # seeded augmentation
    assert not np.array_equal(a.params[0]["W"], c.params[0]["W"])


def test_rows_fill_as_logged_and_change_no_number():
    cfg = Config(hidden=(20,), n_s=30, cycles=1, batch_size=25, log_every=20)
    data = blobs(500)
    rows, seen = [], []
    live = fit(cfg, data, progress=False, rows=rows,
               callback=lambda step, params: seen.append(len(rows)))
    plain = fit(cfg, data, progress=False)
    assert seen == [1, 2, 3, 4]  # each row is there before its callback
    pd.testing.assert_frame_equal(pd.DataFrame(rows), live.history)
    pd.testing.assert_frame_equal(live.history, plain.history)
    np.testing.assert_array_equal(live.params[0]["W"], plain.params[0]["W"])
    with pytest.raises(ValueError, match="pass an empty list"):
        fit(cfg, data, progress=False, rows=rows)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_stop_ends_the_run_at_the_step_reached(kernels):
    cfg = Config(hidden=(20,), n_s=100, cycles=2, batch_size=25, log_every=50,
                 kernels=kernels)
    data = blobs(500)
    stop = threading.Event()

    def callback(step, params):
        if step == 50:
            stop.set()  # checked after the next update

    result = fit(cfg, data, progress=False, callback=callback, stop=stop)
    assert result.stopped and not result.diverged
    assert result.history["step"].tolist() == [0, 50, 51]
    assert result.message == "stopped at update step 51 of 400"
    assert 0 <= result.test_accuracy <= 1
    full = fit(cfg, data, progress=False, stop=threading.Event())  # never set
    assert not full.stopped and full.history["step"].iloc[-1] == 400


def test_a_divergence_in_the_first_updates_blames_the_initial_scale():
    """A 20-layer net without BN at sigma 1 overflows at once, at eta_min: lowering eta_max
    would not help, the initial weights would."""
    cfg = Config(hidden=(50,) * 19, bn="none", init="normal", sigma=1.0, n_s=50,
                 batch_size=20)
    with np.errstate(all="ignore"), pytest.raises(TrainingDivergedError) as err:
        fit(cfg, blobs(400), progress=False)
    message = str(err.value)
    assert err.value.step < 10 and "initial weights" in message
    assert 'sigma=1' in message and 'bn="before"' in message
    assert "lower eta_max" not in message


def test_fit_says_what_it_takes_when_given_arrays():
    data = blobs(100)
    with pytest.raises(TypeError, match=r"fit takes a bnnet Dataset, got tuple.*from_arrays"):
        fit(Config(), (data.X_train, data.y_train), progress=False)


def test_a_result_prints_in_one_line():
    result = fit(Config(hidden=(20,), n_s=10, cycles=1, batch_size=20), blobs(200),
                 progress=False)
    text = repr(result)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("Result(2-layer BN before the ReLU [20], finished: test ")
    assert f"{100 * result.test_accuracy:.2f}%" in text


def test_fit_trains_with_one_blas_thread_unless_told_otherwise():
    from threadpoolctl import threadpool_info

    seen = []
    fit(Config(hidden=(20,), n_s=5, cycles=1, batch_size=20), blobs(200), progress=False,
        callback=lambda step, params: seen.append(
            {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}))
    assert seen and all(threads == {1} for threads in seen)
    outside = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert outside  # the process's own setting is back after the run


def test_swapped_arguments_name_the_order():
    data = blobs(100)
    with pytest.raises(TypeError, match=r"configuration first: fit\(config, data\), not "
                                        r"fit\(data, config\)"):
        fit(data, Config(hidden=(8,)), progress=False)


def test_the_progress_estimate_starts_after_the_first_steps_warm_up(monkeypatch):
    """The first step (the first log, compiling) is slow: the bar's clock restarts after it,
    so that its rate and time left come from the steps that follow."""
    events = []

    class Recording(train.tqdm):
        def update(self, n=1):
            events.append(("update", self.n))
            return super().update(n)

        def reset(self, total=None):
            events.append(("reset", self.n))
            return super().reset(total)

    monkeypatch.setattr(train, "tqdm", Recording)
    cfg = Config(hidden=(8,), n_s=5, cycles=1, batch_size=20)
    result = fit(cfg, blobs(100), progress=True)
    assert events[:3] == [("update", 0), ("reset", 1), ("update", 0)]
    assert [e for e in events if e[0] == "reset"] == [("reset", 1)]
    assert len(result.history) and not result.stopped


def test_a_huge_rate_is_blamed_for_a_divergence_not_the_he_init_already_set():
    """eta_max=1e4 from the default eta_min: a few updates in, the rate is already large,
    so the message names it and never suggests init="he", which is set."""
    cfg = Config(hidden=(50, 50), eta_max=1e4, n_s=100, batch_size=20)
    with np.errstate(all="ignore"), pytest.raises(TrainingDivergedError) as err:
        fit(cfg, blobs(400), progress=False)
    message = str(err.value)
    assert "lower eta_max (now 10000)" in message
    assert 'init="he"' not in message and "initial weights" not in message


def test_a_single_number_is_no_list_of_hidden_layers():
    with pytest.raises(ConfigError, match=r"hidden=50: expected a list of hidden-layer sizes.*"
                                          r"\[50\] \(one hidden layer of 50\), got int"):
        Config(hidden=50)
