"""The fast path (compiled kernels, ``kernels="numba"``) against the NumPy reference."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from bnnet import Config, Dataset, fit
from bnnet.core import kernels
from bnnet.core.augment import augment_batch, augment_draws
from bnnet.core.data import load_cifar10, normalise
from bnnet.core.fast import FastStep, batch_source
from bnnet.core.layers import softmax_cross_entropy
from bnnet.core.network import forward_backward, init_params
from bnnet.core.optimizers import OPTIMIZERS
from bnnet.core.train import ReferenceStep, minibatches, update_running_statistics
from tests.test_train import blobs

NETS = [(20,), (50, 50), (50, 30, 20, 20, 10, 10, 10, 10)]
VARIANTS = [  # bn, dropout, label_smoothing
    ("before", 0.0, 0.0),
    ("after", 0.0, 0.0),
    ("none", 0.0, 0.0),
    ("before", 0.3, 0.1),
    ("after", 0.2, 0.0),
    ("none", 0.25, 0.1),
]
RTOL32 = 1e-5  # float32 round-off of sums over a batch of 64: a few ulps of the largest entry


def close(fast: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    """Equal within ``rtol`` of the array's largest magnitude (entries near 0 of an
    array of larger ones carry the round-off of the large ones)."""
    assert fast.shape == ref.shape and fast.dtype == ref.dtype
    np.testing.assert_allclose(fast, ref, rtol=0, atol=rtol * max(np.abs(ref).max(), 1e-30))


def one_step(config: Config, seed: int = 0, n: int = 64, d: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32).astype(config.np_dtype)
    y = rng.integers(0, 10, n)
    params = init_params(config, d, 10)
    return X, y, params


def fast_step(params, config: Config, X, y, optimizer: str = "sgd") -> FastStep:
    """A fast step for one batch (X, y), on its own copy of ``params`` when asked."""
    config = config.replace(batch_size=len(y))
    return FastStep(params, config, OPTIMIZERS[optimizer](params, config.lam), X, y)


#: dtype -> tolerance of the equivalence: float32 round-off of sums over a batch of 64,
#: or float64's
TOLERANCES = {"float32": RTOL32, "float64": 1e-12}


@pytest.mark.parametrize("dtype", list(TOLERANCES))
@pytest.mark.parametrize("hidden", NETS, ids=["2-layer", "3-layer", "9-layer"])
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(map(str, v)))
def test_loss_gradients_and_batch_statistics_equal_the_reference(hidden, variant, dtype):
    bn, dropout, smoothing = variant
    config = Config(hidden=hidden, bn=bn,
                    dropout=dropout, label_smoothing=smoothing, dtype=dtype)
    rtol = TOLERANCES[dtype]
    X, y, params = one_step(config)
    ref = forward_backward(params, X, y, config, l2_in_grads=False,
                           rng=np.random.default_rng(7))
    fast = fast_step([dict(p) for p in params], config, X, y)
    loss = fast.forward_backward(X, y, np.random.default_rng(7))
    assert loss == pytest.approx(ref.loss, rel=rtol)
    for layer, g in enumerate(ref.grads):
        assert sorted(fast.grads[layer]) == sorted(g)
        for key, value in g.items():
            close(fast.grads[layer][key], value, rtol)
        if ref.batch_stats[layer] is not None:
            mean, var = ref.batch_stats[layer]
            close(fast.batch[layer]["mean"], mean, rtol)
            close(fast.batch[layer]["var"], var, rtol)


def test_a_class_of_probability_zero_keeps_the_loss_finite_as_in_the_reference():
    """Without label smoothing only the label's log-probability enters the loss: a score
    of -inf elsewhere gives a finite loss on both paths (not 0 * -inf)."""
    config = Config(hidden=(20,))
    X, y, params = one_step(config, n=4)
    fast = fast_step([dict(p) for p in params], config, X, y)
    fast.forward_backward(X, y)
    scores = fast.s[-1] - params[-1]["b"]  # the scores before the bias the kernel added
    scores[:, :] = 0
    scores[np.arange(4), (y + 1) % 10] = -np.inf
    b = np.zeros(10, np.float32)
    ref_loss = softmax_cross_entropy(scores.copy(), y)[0]
    d, db = np.empty_like(scores), np.empty(10, np.float32)
    loss = kernels.softmax_cross_entropy(scores.copy(), b, y, 0.0, d, db)
    assert np.isfinite(ref_loss) and loss == pytest.approx(float(ref_loss), rel=1e-6)
    assert np.isfinite(d).all()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("variant", VARIANTS[:4], ids=lambda v: "-".join(map(str, v)))
def test_an_update_equals_the_reference_update(optimizer, variant):
    bn, dropout, smoothing = variant
    config = Config(hidden=(50, 30), bn=bn,
                    dropout=dropout, label_smoothing=smoothing, optimizer=optimizer)
    X, y, params = one_step(config)
    copies = [{k: v.copy() for k, v in p.items()} for p in params]
    eta = 0.05 if optimizer == "sgd" else 1e-3
    ref_config = config.replace(batch_size=len(y))
    ref_cost = ReferenceStep(params, ref_config, OPTIMIZERS[optimizer](params, config.lam),
                             X, y).update(X, y, eta, 0.9, np.random.default_rng(3))
    step = fast_step(copies, config, X, y, optimizer)
    cost = step.update(X, y, eta, 0.9, np.random.default_rng(3))
    assert cost == pytest.approx(ref_cost, rel=RTOL32)
    for p, q in zip(copies, params, strict=True):
        assert sorted(p) == sorted(q)
        for key in q:
            close(p[key], q[key], RTOL32)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("variant", VARIANTS[:3], ids=lambda v: "-".join(map(str, v)))
def test_a_non_finite_cost_changes_nothing(optimizer, variant):
    bn, _, _ = variant
    config = Config(hidden=(20, 10), bn=bn,
                    optimizer=optimizer)
    X, y, params = one_step(config)
    X[0, 0] = np.nan
    before = [{k: v.copy() for k, v in p.items()} for p in params]
    step = fast_step(params, config, X, y, optimizer)
    adam = step.optimizer
    assert np.isnan(step.update(X, y, 0.1, 0.9))
    for p, q in zip(params, before, strict=True):
        for key in q:
            np.testing.assert_array_equal(p[key], q[key])
    if optimizer == "adam":
        assert adam.t == 0
        assert all(not v.any() for m in adam.m + adam.v for v in m.values())


@pytest.mark.parametrize("flip, shift", [(False, 0), (True, 0), (False, 2), (True, 3)])
def test_gathered_batches_equal_take_then_augment_bit_for_bit(flip, shift):
    """From normalised inputs and from uint8 pixels with the normalisation folded in."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (50, 3072), dtype=np.uint8)
    mean, std = pixels.mean(0), pixels.std(0)
    X = normalise(pixels, mean, std, np.dtype(np.float32))
    rows = rng.permutation(50)[:20]
    ref = augment_batch(np.take(X, rows, axis=0), np.random.default_rng(1), flip=flip,
                        shift=shift)
    draws = augment_draws(np.random.default_rng(1), 20, flip=flip, shift=shift)
    sources = {"normalised": (X, np.zeros(3072, np.float32), np.ones(3072, np.float32)),
               "pixels": (pixels, mean.astype(np.float32), (1 / std).astype(np.float32))}
    for source, shift_, scale in sources.values():
        out = np.full((20, 3072), np.nan, np.float32)
        kernels.gather_batch(source, rows, shift_, scale, *draws, out)
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("flip, shift", [(False, 0), (True, 2)])
def test_fast_and_reference_steps_gather_the_same_batches_from_real_pixels(
        fake_cifar, flip, shift):
    data = load_cifar10(fake_cifar, n_val=20)
    assert data.train_pixels is not None
    config = Config(flip=flip, shift=shift, batch_size=10, n_s=15, cycles=1)
    X, y = data.X_train, data.y_train
    params = init_params(config, X.shape[1], 10)
    fast = FastStep(params, config, OPTIMIZERS["sgd"](params, config.lam), X, y, data)
    assert fast.source is data.train_pixels
    ref = ReferenceStep(params, config, OPTIMIZERS["sgd"](params, config.lam), X, y)
    count = 0
    for rows, draws in minibatches(len(y), config, np.random.default_rng(0),
                                   np.random.default_rng(1)):
        assert (draws is None) == (not flip and not shift)
        xf, yf = fast.gather(rows, draws)
        xr, yr = ref.gather(rows, draws)
        np.testing.assert_array_equal(xf, xr)
        np.testing.assert_array_equal(yf, yr)
        count += 1
    assert count == config.n_updates
    assert batch_source(config.replace(dtype="float64"), X, data)[0] is X
    # inputs changed after loading (a subset): the pixels no longer match, X is used
    subset = dataclasses.replace(data, X_train=data.X_train[:50], y_train=data.y_train[:50])
    assert batch_source(config, subset.X_train, subset)[0] is subset.X_train


def test_the_running_average_kernel_equals_the_reference_bit_for_bit():
    rng = np.random.default_rng(0)
    params = [{"running_mean": rng.standard_normal(7, dtype=np.float32),
               "running_var": rng.random(7, dtype=np.float32)}]
    batch = [(rng.standard_normal(7, dtype=np.float32), rng.random(7, dtype=np.float32))]
    running = np.concatenate([params[0]["running_mean"], params[0]["running_var"]])
    for alpha in (0.0, 0.9, 0.5):
        update_running_statistics(params, batch, alpha)
        kernels.running_average(running, np.concatenate(batch[0]), np.float32(alpha),
                                np.float32(1 - alpha))
        np.testing.assert_array_equal(running, np.concatenate(
            [params[0]["running_mean"], params[0]["running_var"]]))


def test_only_an_optimizer_that_declares_a_fused_update_gets_one():
    """SGD declares ``update_fused``; Adam, and an SGD subclass that opts out, get the
    gradients through ``update`` (and give the reference's result)."""
    class PlainSGD(OPTIMIZERS["sgd"]):
        update_fused = None

    config = Config(hidden=(20,))
    X, y, params = one_step(config)
    calls = []
    fused_copy = [{k: v.copy() for k, v in p.items()} for p in params]
    plain_copy = [{k: v.copy() for k, v in p.items()} for p in params]
    fused = fast_step(fused_copy, config, X, y)
    plain = FastStep(plain_copy, config.replace(batch_size=len(y)),
                     PlainSGD(plain_copy, config.lam), X, y)
    plain.optimizer.update = lambda *a: (calls.append(1), PlainSGD.update(plain.optimizer, *a))
    fused.update(X, y, 0.05, 0.9)
    plain.update(X, y, 0.05, 0.9)
    assert calls == [1]
    for p, q in zip(fused_copy, plain_copy, strict=True):
        for key in p:
            close(p[key], q[key], RTOL32)


def test_short_training_matches_the_reference_and_repeats_bit_for_bit():
    config = Config(hidden=(30, 20), n_s=60, cycles=2, batch_size=25, log_every=30,
                    dropout=0.1)
    data = blobs(600)
    fast = fit(config, data, progress=False)
    again = fit(config, data, progress=False)
    ref = fit(config.replace(kernels="numpy"), data, progress=False)
    assert fast.test_accuracy == pytest.approx(ref.test_accuracy, abs=0.02)
    np.testing.assert_allclose(fast.history["train_cost"], ref.history["train_cost"],
                               rtol=1e-3)
    for p, q in zip(fast.params, again.params, strict=True):
        for key in p:
            np.testing.assert_array_equal(p[key], q[key])


def test_augmented_training_uses_the_same_batches_as_the_reference():
    """Flips and shifts drawn from the same stream: after one step of a net whose weights
    barely move, the two paths hold the same batch statistics."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3072), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    data = Dataset.from_arrays(X, y, X[:50], y[:50])
    config = Config(hidden=(8,), flip=True, shift=2, n_s=3, cycles=1, batch_size=100,
                    eta_min=1e-12, eta_max=1e-12, alpha=0.0, log_every=6)
    fast, ref = fit(config, data, progress=False), fit(config.replace(kernels="numpy"), data,
                                                       progress=False)
    close(fast.params[0]["running_mean"], ref.params[0]["running_mean"], RTOL32)
    close(fast.params[0]["running_var"], ref.params[0]["running_var"], RTOL32)


def test_kernels_compile_once_and_later_processes_load_them_from_the_cache(tmp_path):
    """``cache=True``: a second process compiles nothing."""
    script = (
        "import json, numpy as np\n"
        "from bnnet import Config, fit\n"
        "from bnnet.core import kernels\n"
        "from tests.test_train import blobs\n"
        "fit(Config(hidden=(10, 10), n_s=5, cycles=1, batch_size=50), blobs(200),"
        " progress=False)\n"
        "print(json.dumps({k.__name__: [len(k.stats.cache_misses), len(k.stats.cache_hits)]"
        " for k in kernels.ALL}))\n"
    )
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], check=True,
                                      capture_output=True, text=True).stdout)
            for _ in range(2)]
    used = {"bn_relu_forward", "softmax_cross_entropy", "bn_relu_backward",
            "sgd_weight_update", "sgd_update", "running_average"}
    for name in used:
        misses, hits = runs[1][name]
        assert misses == 0 and hits >= 1, (name, runs)


def test_the_path_is_part_of_a_runs_configuration_and_cache_key(fake_cifar, tmp_path,
                                                                 monkeypatch):
    """Two runs that differ only in ``kernels`` are two cache entries, each read back as
    trained; the manifest's record of a run names its path."""
    from bnnet.study import provenance
    from bnnet.study.jobs import DataSpec
    from bnnet.study.runs import run_many

    ledger = tmp_path / "runs.jsonl"
    monkeypatch.setenv(provenance.LEDGER_ENV, str(ledger))
    fast = Config(hidden=(8,), n_s=10, cycles=1, batch_size=20)
    spec = DataSpec(str(fake_cifar), n_val=30)
    first = run_many([fast, fast.replace(kernels="numpy")], spec, progress=False)
    again = run_many([fast, fast.replace(kernels="numpy")], spec, progress=False)
    assert [r.config.kernels for r in again] == ["numba", "numpy"]
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["cached"] for e in entries] == [False, False, True, True]
    assert [e["config"]["kernels"] for e in entries[:2]] == ["numba", "numpy"]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.params[0]["W"], b.params[0]["W"])
