"""Layers with hand-written forward and backward passes, vectorised over the mini-batch.

Each ``*_forward`` returns ``(out, cache)`` and each ``*_backward`` takes the upstream
gradient and that cache. ``N`` is the mini-batch size, ``D`` the input and ``M`` the
output dimension of a layer.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def affine_forward(x: Array, W: Array, b: Array | None) -> tuple[Array, tuple]:
    """s = x W + b.

    Args:
        x: inputs, shape (N, D).
        W: weights, shape (D, M).
        b: biases, shape (M,), or ``None`` for a layer without bias.

    Returns:
        out of shape (N, M) and the cache ``(x, W)``.
    """
    out = x @ W
    if b is not None:
        out += b
    return out, (x, W)


def affine_backward(
    dout: Array, cache: tuple, *, need_dx: bool = True, need_db: bool = True,
    dW_out: Array | None = None,
) -> tuple[Array | None, Array, Array | None]:
    """Gradients of s = x W + b.

    Args:
        dout: upstream gradient dL/ds, shape (N, M).
        cache: ``(x, W)`` from :func:`affine_forward`.
        need_dx: compute dL/dx; the first layer skips it (it is the largest product).
        need_db: compute dL/db; a layer without bias skips it.
        dW_out: array of shape (D, M) to write dW into (a buffer reused across steps
            saves allocating, and page-faulting, a large array every step).

    Returns:
        dx of shape (N, D) (or ``None``), dW of shape (D, M), db of shape (M,) (or ``None``).
    """
    x, W = cache
    dx = dout @ W.T if need_dx else None
    db = np.add.reduce(dout, axis=0) if need_db else None
    return dx, np.matmul(x.T, dout, out=dW_out), db


def relu_forward(x: Array) -> tuple[Array, Array]:
    """max(0, x), elementwise. The cache is the output (its sign is the mask)."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout: Array, cache: Array) -> Array:
    """dL/dx = dL/dout where the ReLU was active, 0 elsewhere."""
    return dout * (cache > 0)


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array, eps: float
) -> tuple[Array, tuple]:
    """Train-mode batch normalization with the statistics of the mini-batch.

    x_hat = (x - mean) / sqrt(var + eps), out = gamma * x_hat + beta, where mean and the
    biased variance are taken over the batch, per feature.

    Args:
        x: inputs, shape (N, M).
        gamma, beta: scale and shift, shape (M,).
        eps: added to the variance.

    Returns:
        out of shape (N, M) and the cache ``(x_hat, gamma, inv_std, mean, var)``; ``mean``
        and ``var`` (shape (M,)) are what the running averages are updated with.
    """
    # np.add.reduce rather than x.mean: the same sum without the Python-level wrapper,
    # which is a measurable share of a step on batches of 100 x 50
    n = x.shape[0]
    mean = np.add.reduce(x, axis=0) / n
    centred = x - mean
    var = np.einsum("ij,ij->j", centred, centred) / n
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centred
    x_hat *= inv_std
    out = x_hat * gamma + beta
    return out, (x_hat, gamma, inv_std, mean, var)


def batchnorm_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Gradients of train-mode batch normalization, in the compact closed form.

    dx = gamma / sqrt(var + eps) * (dout - mean(dout) - x_hat * mean(dout * x_hat)),
    with both means over the batch.

    Args:
        dout: upstream gradient, shape (N, M).
        cache: from :func:`batchnorm_forward`.

    Returns:
        dx of shape (N, M), dgamma and dbeta of shape (M,).
    """
    x_hat, gamma, inv_std, _, _ = cache
    n = dout.shape[0]
    dbeta = np.add.reduce(dout, axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    dx = dout - dbeta / n
    dx -= x_hat * (dgamma / n)
    dx *= gamma * inv_std
    return dx, dgamma, dbeta


def batchnorm_eval(
    x: Array, gamma: Array, beta: Array, running_mean: Array, running_var: Array, eps: float
) -> Array:
    """Eval-mode batch normalization with the population (running-average) statistics.

    Args:
        x: inputs, shape (N, M); the other arrays have shape (M,).

    Returns:
        gamma * (x - running_mean) / sqrt(running_var + eps) + beta, shape (N, M).
    """
    scale = gamma / np.sqrt(running_var + eps)
    return x * scale + (beta - running_mean * scale)


def softmax_cross_entropy(
    scores: Array, y: Array, smoothing: float = 0.0
) -> tuple[np.floating, Array]:
    """Mean cross-entropy of softmax(scores) against integer labels.

    With ``smoothing`` = e the target of each row is (1 - e) one_hot(y) + e / C instead of
    one_hot(y) (label smoothing); the loss is then -sum_c t_c log p_c and its gradient
    (p - t) / N.

    Args:
        scores: class scores, shape (N, C).
        y: labels in [0, C), shape (N,).
        smoothing: label smoothing e in [0, 1).

    Returns:
        the mean loss (a NumPy scalar of the dtype of ``scores``) and dL/dscores of
        shape (N, C).
    """
    n, c = scores.shape
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dscores = np.exp(log_probs)
    if smoothing:
        loss = (1 - smoothing) * loss - smoothing / c * log_probs.sum(axis=1).mean()
        dscores -= smoothing / c
        dscores[rows, y] -= 1 - smoothing
    else:
        dscores[rows, y] -= 1
    dscores /= n
    return loss, dscores


def softmax(scores: Array) -> Array:
    """Row-wise softmax, shape (N, C) -> (N, C)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def dropout_forward(x: Array, p: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Inverted dropout: zero each unit with probability ``p``, scale the rest by 1/(1-p).

    Args:
        x: activations, shape (N, M).
        p: drop probability, in [0, 1).
        rng: draws the mask.

    Returns:
        out of shape (N, M) and the cache: the scaled mask, same shape and dtype as ``x``.
    """
    mask = (rng.random(x.shape, dtype=np.float32) >= p).astype(x.dtype)
    mask *= 1.0 / (1.0 - p)
    return x * mask, mask


def dropout_backward(dout: Array, cache: Array) -> Array:
    """dL/dx = dL/dout * mask (the scaled mask from :func:`dropout_forward`)."""
    return dout * cache
