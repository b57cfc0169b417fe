import numpy as np
import pytest

from bnnet.core.layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_eval,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    softmax,
    softmax_cross_entropy,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_batchnorm_train_mode_normalises_each_feature(rng):
    x = rng.normal(loc=[3.0, -7.0, 0.5, 100.0], scale=[0.1, 5.0, 1.0, 30.0], size=(200, 4))
    gamma, beta = np.ones(4), np.zeros(4)
    out, cache = batchnorm_forward(x, gamma, beta, eps=1e-5)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    # exactly var / (var + eps): 1 up to eps / var (1e-3 for the feature with std 0.1)
    var = x.var(axis=0)
    np.testing.assert_allclose(out.var(axis=0), var / (var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=2e-3)
    np.testing.assert_allclose(cache[3], x.mean(axis=0))
    np.testing.assert_allclose(cache[4], x.var(axis=0))


def test_batchnorm_applies_gamma_and_beta_after_normalising(rng):
    x = rng.normal(size=(50, 3)) * 4 + 2
    gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([1.0, -3.0, 0.0])
    out, _ = batchnorm_forward(x, gamma, beta, eps=1e-5)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), rtol=1e-4)


def test_batchnorm_eval_uses_running_statistics_not_the_batch(rng):
    x = rng.normal(size=(10, 3)) * 5 + 1
    running_mean, running_var = np.array([1.0, 2.0, 3.0]), np.array([4.0, 9.0, 16.0])
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, -1.0])
    out = batchnorm_eval(x, gamma, beta, running_mean, running_var, eps=0.0 + 1e-12)
    expected = gamma * (x - running_mean) / np.sqrt(running_var) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-9)
    # one row alone gives the same output as in the batch: no batch statistics involved
    np.testing.assert_allclose(
        batchnorm_eval(x[:1], gamma, beta, running_mean, running_var, 1e-12), expected[:1])


def test_batchnorm_backward_matches_the_textbook_chain_rule(rng):
    x = rng.normal(size=(8, 5))
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    dout = rng.normal(size=(8, 5))
    eps = 1e-5
    _, cache = batchnorm_forward(x, gamma, beta, eps)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    # step-by-step chain rule (Ioffe & Szegedy, 2015, Alg. 1 backward)
    n = x.shape[0]
    mu, var = x.mean(0), x.var(0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmu = np.sum(-dx_hat / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2 * (x - mu), axis=0)
    dx_ref = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / n + dmu / n
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dgamma, np.sum(dout * x_hat, axis=0))
    np.testing.assert_allclose(dbeta, dout.sum(0))


def test_affine_forward_and_backward_shapes_and_values(rng):
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    out, cache = affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dout = rng.normal(size=(4, 2))
    dx, dW, db = affine_backward(dout, cache)
    np.testing.assert_allclose(dx, dout @ W.T)
    np.testing.assert_allclose(dW, x.T @ dout)
    np.testing.assert_allclose(db, dout.sum(0))
    assert affine_backward(dout, cache, need_dx=False)[0] is None
    assert affine_backward(dout, cache, need_db=False)[2] is None
    _, cache32 = affine_forward(x.astype(np.float32), W.astype(np.float32), None)
    assert affine_backward(dout.astype(np.float32), cache32)[1].dtype == np.float32
    np.testing.assert_allclose(affine_forward(x, W, None)[0], x @ W)


def test_relu_passes_gradient_only_where_active():
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(relu_backward(np.array([[5.0, 6.0, 7.0]]), cache),
                                  [[0.0, 0.0, 7.0]])
    dx32 = relu_backward(np.ones((1, 3), np.float32), cache)
    assert dx32.dtype == np.float32  # the mask must not promote float32 gradients


def test_softmax_cross_entropy_value_gradient_and_stability():
    scores = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    y = np.array([0, 2])
    loss, dscores = softmax_cross_entropy(scores, y)
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, (0.0 + np.log(3)) / 2)
    expected = (softmax(scores) - np.eye(3)[y]) / 2
    np.testing.assert_allclose(dscores, expected, atol=1e-15)


def test_label_smoothing_loss_and_gradient_match_the_smoothed_target(rng):
    scores, y, eps = rng.standard_normal((6, 4)), rng.integers(0, 4, 6), 0.2
    target = (1 - eps) * np.eye(4)[y] + eps / 4
    loss, dscores = softmax_cross_entropy(scores, y, eps)
    log_p = np.log(softmax(scores))
    np.testing.assert_allclose(loss, -(target * log_p).sum(axis=1).mean())
    np.testing.assert_allclose(dscores, (softmax(scores) - target) / 6, atol=1e-15)
    h = 1e-6  # central differences of the loss against the analytic gradient
    numeric = np.zeros_like(scores)
    for idx in np.ndindex(scores.shape):
        up, down = scores.copy(), scores.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (softmax_cross_entropy(up, y, eps)[0]
                        - softmax_cross_entropy(down, y, eps)[0]) / (2 * h)
    np.testing.assert_allclose(dscores, numeric, atol=1e-8)


def test_dropout_drops_the_given_fraction_and_keeps_the_expectation():
    x = np.ones((400, 50), np.float32)
    out, mask = dropout_forward(x, 0.3, np.random.default_rng(0))
    assert out.dtype == np.float32 and mask.dtype == np.float32
    assert abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.03  # inverted dropout: no rescaling at test time
    dout = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    np.testing.assert_array_equal(dropout_backward(dout, mask) == 0, out == 0)
    np.testing.assert_allclose(dropout_backward(dout, mask), dout * out)
