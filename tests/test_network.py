import numpy as np
import pytest

from bnnet import NINE_LAYER, Config, cost_and_gradients, evaluate, forward, init_params
from bnnet.core.network import population_statistics


def test_init_shapes_and_which_layers_have_bias_and_bn():
    cfg = Config(hidden=(50, 30), bn="before")
    params = init_params(cfg, 3072, 10)
    assert [p["W"].shape for p in params] == [(3072, 50), (50, 30), (30, 10)]
    # hidden layers feed BN directly: no bias (beta replaces it); the output layer has one
    assert [sorted(p) for p in params[:2]] == [
        ["W", "beta", "gamma", "running_mean", "running_var"]] * 2
    assert sorted(params[2]) == ["W", "b"]
    assert all(p["W"].dtype == np.float32 for p in params)

    after = init_params(cfg.replace(bn="after"), 3072, 10)
    assert "b" in after[0] and "gamma" in after[0]
    plain = init_params(cfg.replace(bn="none"), 3072, 10)
    assert [sorted(p) for p in plain] == [["W", "b"]] * 3


@pytest.mark.parametrize(("init", "expected_std"), [
    ("he", np.sqrt(2 / 2000)), ("xavier", np.sqrt(1 / 2000)), ("normal", 1e-3)])
def test_initial_weight_scale(init, expected_std):
    cfg = Config(hidden=(400,), init=init, dtype="float64",
                 **({"sigma": 1e-3} if init == "normal" else {}))
    W = init_params(cfg, 2000, 10)[0]["W"]
    assert W.std() == pytest.approx(expected_std, rel=0.01)
    assert abs(W.mean()) < 0.01 * expected_std * 10


def test_bias_before_bn_is_redundant_so_it_is_left_out():
    """A bias added before BN is removed by the mean subtraction: the output is unchanged.

    The bias is emulated with a constant input column whose weights are the bias.
    """
    rng = np.random.default_rng(0)
    cfg = Config(hidden=(20, 20), dtype="float64")
    params = init_params(cfg, 12, 10)
    X = rng.normal(size=(16, 12))
    scores, _ = forward(X, params, cfg, train=True)
    with_bias = [{**params[0], "W": np.vstack([params[0]["W"], rng.normal(size=20)])},
                 *params[1:]]
    X_with_ones = np.hstack([X, np.ones((16, 1))])
    scores_with_bias, _ = forward(X_with_ones, with_bias, cfg, train=True)
    np.testing.assert_allclose(scores_with_bias, scores, atol=1e-10)


def test_gradients_mirror_parameters():
    cfg = Config(hidden=NINE_LAYER, dtype="float64", lam=0.01)
    params = init_params(cfg, 20, 10)
    rng = np.random.default_rng(1)
    cost, grads = cost_and_gradients(params, rng.normal(size=(8, 20)), rng.integers(0, 10, 8), cfg)
    assert np.isfinite(cost)
    for p, g in zip(params, grads, strict=True):
        assert set(g) == {k for k in p if k in ("W", "b", "gamma", "beta")}
        for k, v in g.items():
            assert v.shape == p[k].shape and v.dtype == p[k].dtype


def test_cost_includes_l2_penalty_and_does_not_touch_params():
    cfg = Config(hidden=(10,), dtype="float64", lam=0.0)
    params = init_params(cfg, 5, 3)
    before = [{k: v.copy() for k, v in p.items()} for p in params]
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    c0, _ = cost_and_gradients(params, X, y, cfg)
    c1, _ = cost_and_gradients(params, X, y, cfg.replace(lam=0.5))
    penalty = sum(np.sum(p["W"] ** 2) for p in params)
    assert c1 - c0 == pytest.approx(0.5 * penalty)
    for p, q in zip(params, before, strict=True):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])


def test_eval_mode_uses_running_statistics():
    cfg = Config(hidden=(8,), dtype="float64", lam=0.0)
    params = init_params(cfg, 4, 3)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 4)) * 3 + 5, rng.integers(0, 3, 30)
    s = X @ params[0]["W"]
    params[0]["running_mean"][:] = s.mean(0)
    params[0]["running_var"][:] = s.var(0)
    train_scores, _ = forward(X, params, cfg, train=True)
    eval_scores, _ = forward(X, params, cfg, train=False)
    np.testing.assert_allclose(eval_scores, train_scores, rtol=1e-6)  # same statistics
    params[0]["running_mean"][:] += 1.0
    moved, _ = forward(X, params, cfg, train=False)
    assert not np.allclose(moved, train_scores)
    metrics = evaluate(params, X, y, cfg)
    assert set(metrics) == {"cost", "loss", "accuracy"} and 0 <= metrics["accuracy"] <= 1


@pytest.mark.parametrize("position", ["before", "after"])
def test_population_statistics_make_eval_mode_equal_train_mode_on_the_whole_set(position):
    """Eval mode with statistics recomputed over X is train mode with X as one batch."""
    cfg = Config(hidden=(12, 9, 7), bn=position, dtype="float64")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 6)) * 2 + 1
    params = init_params(cfg, 6, 5)
    for p in params[:-1]:  # trained-looking gamma, beta and stale running statistics
        p["gamma"] = rng.uniform(0.5, 2, p["gamma"].shape)
        p["beta"] = rng.normal(size=p["beta"].shape)
        p["running_mean"] += 3.0
    precise = population_statistics(params, X, cfg, chunk=70)
    np.testing.assert_allclose(forward(X, precise, cfg, train=False)[0],
                               forward(X, params, cfg, train=True)[0], rtol=1e-9, atol=1e-12)
    assert all((p["running_mean"] == 3.0).all() for p in params[:-1])  # input untouched
    assert precise[0]["W"] is params[0]["W"]
    with pytest.raises(ValueError, match="expected"):
        population_statistics(params, X[:, :5], cfg)


def test_dropout_is_seeded_in_train_mode_and_off_in_eval_mode():
    cfg = Config(hidden=(30, 30), dropout=0.5, dtype="float64")
    X = np.random.default_rng(0).normal(size=(40, 8))
    params = init_params(cfg, 8, 10)
    a, _ = forward(X, params, cfg, train=True)
    b, _ = forward(X, params, cfg, train=True)
    c, _ = forward(X, params, cfg, train=True, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(forward(X, params, cfg, train=False)[0],
                                  forward(X, params, cfg.replace(dropout=0.0), train=False)[0])


def test_test_flip_averages_the_probabilities_of_each_image_and_its_mirror():
    from bnnet.core.augment import flip_images
    from bnnet.core.layers import softmax

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3072)), rng.integers(0, 10, 20)
    config = Config(hidden=[8], dtype="float64")
    params = init_params(config, 3072, 10, rng)
    mirrored = flip_images(X)
    np.testing.assert_array_equal(flip_images(mirrored), X)
    np.testing.assert_array_equal(mirrored.reshape(20, 3, 32, 32)[..., 0],
                                  X.reshape(20, 3, 32, 32)[..., 31])
    probs = 0.5 * (softmax(forward(X, params, config, train=False)[0])
                   + softmax(forward(mirrored, params, config, train=False)[0]))
    result = evaluate(params, X, y, config.replace(test_flip=True))
    assert result["accuracy"] == (probs.argmax(axis=1) == y).mean()
    np.testing.assert_allclose(result["loss"], -np.log(probs[np.arange(20), y]).mean())
    plain = evaluate(params, X, y, config)
    assert plain["loss"] != result["loss"]
