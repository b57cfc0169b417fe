"""Compiled kernels of the fast training step (Numba): the element-wise work of a layer in
one pass each, between the matrix products that stay in BLAS.

Each kernel computes what a chain of functions of :mod:`bnnet.core.layers` (the reference)
computes, in place on buffers the caller owns, for one mini-batch of ``N`` rows and ``M``
units; the docstring names the reference. Scalars come in the arrays' dtype (a float32
net stays float32 where it is stored); the BN and update kernels round each operation as
the reference rounds it, the softmax works in float64 before storing its gradient. No
``fastmath`` (the compiler keeps the order of every sum) and one thread, so a run is
reproducible bit for bit. ``cache=True`` compiles each kernel once per machine (next to
this file, in ``__pycache__``) and loads it in every later process.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _batch_statistics(x, eps, mean, var, inv_std):  # pragma: no cover - compiled
    n, m = x.shape
    mean[:] = 0
    for i in range(n):
        for j in range(m):
            mean[j] += x[i, j]
    for j in range(m):
        mean[j] /= n
    var[:] = 0
    for i in range(n):
        for j in range(m):
            c = x[i, j] - mean[j]
            var[j] += c * c
    for j in range(m):
        var[j] /= n
        inv_std[j] = 1.0 / np.sqrt(var[j] + eps)


@njit(cache=True)
def bias_relu_forward(s, b):  # pragma: no cover - compiled
    """A hidden layer without BN: ``s`` (N, M) becomes ReLU(s + b) in place."""
    n, m = s.shape
    for i in range(n):
        for j in range(m):
            v = s[i, j] + b[j]
            s[i, j] = 0 if v <= 0 else v  # NaN stays NaN, as np.maximum


@njit(cache=True)
def _bn_forward(s, gamma, beta, eps, x_hat, out, mean, var, inv_std, relu):  # pragma: no cover
    _batch_statistics(s, eps, mean, var, inv_std)
    n, m = s.shape
    for i in range(n):
        for j in range(m):
            xh = (s[i, j] - mean[j]) * inv_std[j]
            x_hat[i, j] = xh
            y = xh * gamma[j] + beta[j]
            if relu:
                out[i, j] = 0 if y <= 0 else y  # NaN stays NaN, as np.maximum
            else:
                out[i, j] = y


@njit(cache=True)
def bn_relu_forward(s, gamma, beta, eps, x_hat, out, mean, var, inv_std):  # pragma: no cover
    """BN (batch statistics) then ReLU: :func:`~bnnet.core.layers.batchnorm_forward` and
    :func:`~bnnet.core.layers.relu_forward`.

    ``s`` (N, M) the affine output; writes ``x_hat`` and ``out`` = ReLU(gamma x_hat + beta)
    (N, M), and the batch ``mean``, biased ``var`` and ``inv_std`` = 1/sqrt(var + eps) (M,).
    ``x_hat`` may be ``s`` itself.
    """
    _bn_forward(s, gamma, beta, eps, x_hat, out, mean, var, inv_std, True)


@njit(cache=True)
def relu_bn_forward(s, b, gamma, beta, eps, x_hat, out, mean, var, inv_std):  # pragma: no cover
    """Bias, ReLU, then BN: ``s`` (N, M) becomes ReLU(s + b) in place (the backward pass
    reads its sign); ``x_hat``, ``out`` = gamma x_hat + beta and the statistics as in
    :func:`bn_relu_forward`."""
    bias_relu_forward(s, b)
    _bn_forward(s, gamma, beta, eps, x_hat, out, mean, var, inv_std, False)


@njit(cache=True)
def dropout_apply(h, u, p, scale, mask):  # pragma: no cover - compiled
    """Inverted dropout as :func:`~bnnet.core.layers.dropout_forward`, with the uniform
    draws ``u`` (N, M) given: ``mask`` = scale where u >= p, else 0; ``h`` *= mask."""
    n, m = h.shape
    for i in range(n):
        for j in range(m):
            k = scale if u[i, j] >= p else 0
            mask[i, j] = k
            h[i, j] = h[i, j] * k


@njit(cache=True)
def softmax_cross_entropy(scores, b, y, smoothing, dscores, db):  # pragma: no cover
    """Output bias, softmax and the mean cross-entropy with label smoothing e, as
    :func:`~bnnet.core.layers.softmax_cross_entropy`.

    ``scores`` (N, C) gets ``b`` added in place; writes dL/dscores (N, C) and its column
    sums dL/db (C,). Returns the loss (accumulated in float64). As in the reference, the
    loss reads the label's log-probability and, only with e > 0, the sum of all of them
    (a class of probability 0 adds nothing then, not 0 * -inf).
    """
    n, c = scores.shape
    loss = 0.0
    db[:] = 0
    for i in range(n):
        top = scores[i, 0] + b[0]
        for k in range(c):
            v = scores[i, k] + b[k]
            scores[i, k] = v
            if v > top:
                top = v
        total = 0.0
        for k in range(c):
            e = np.exp(scores[i, k] - top)
            dscores[i, k] = e  # one exp per score: p = e / total below
            total += e
        log_z = np.log(total)
        loss -= (1.0 - smoothing) * ((scores[i, y[i]] - top) - log_z)
        if smoothing != 0:
            log_p_sum = 0.0
            for k in range(c):
                log_p_sum += (scores[i, k] - top) - log_z
            loss -= smoothing / c * log_p_sum
        for k in range(c):
            target = smoothing / c
            if k == y[i]:
                target += 1.0 - smoothing
            dscores[i, k] = (dscores[i, k] / total - target) / n
            db[k] += dscores[i, k]
    return loss / n


@njit(cache=True)
def _column_sums(x, out):  # pragma: no cover - compiled
    n, m = x.shape
    out[:] = 0
    for i in range(n):
        for j in range(m):
            out[j] += x[i, j]


@njit(cache=True)
def _bn_backward(d, x_hat, gamma, inv_std, dgamma, dbeta):  # pragma: no cover - compiled
    # batchnorm_backward in place on d, each step rounded as the NumPy reference rounds it
    n, m = d.shape
    dbeta[:] = 0
    dgamma[:] = 0
    for i in range(n):
        for j in range(m):
            dbeta[j] += d[i, j]
            dgamma[j] += d[i, j] * x_hat[i, j]
    mean_d = np.empty_like(dbeta)
    mean_dx = np.empty_like(dgamma)
    scale = np.empty_like(gamma)
    for j in range(m):
        mean_d[j] = dbeta[j] / n
        mean_dx[j] = dgamma[j] / n
        scale[j] = gamma[j] * inv_std[j]
    for i in range(n):
        for j in range(m):
            d[i, j] = ((d[i, j] - mean_d[j]) - x_hat[i, j] * mean_dx[j]) * scale[j]


@njit(cache=True)
def _dropout_relu_backward(d, gate, mask):  # pragma: no cover - compiled
    # dL/dh -> dL/ds through dropout (mask, empty for none) and the ReLU whose output (or
    # its dropout-scaled copy) is ``gate``; d * 0 where the ReLU was off, NaN kept
    n, m = d.shape
    dropout = mask.size > 0
    for i in range(n):
        for j in range(m):
            v = d[i, j] * mask[i, j] if dropout else d[i, j]
            d[i, j] = v if gate[i, j] > 0 else v * 0


@njit(cache=True)
def bn_relu_backward(d, out, mask, x_hat, gamma, inv_std, dgamma, dbeta):  # pragma: no cover
    """Backward through dropout (``mask`` (N, M), or an empty array for none), the ReLU
    (its output ``out``) and BN, in place on ``d`` (N, M): dL/dh becomes dL/ds. Writes
    dL/dgamma and dL/dbeta (M,). The reference: ``backward`` of
    :mod:`bnnet.core.network` with BN before the ReLU."""
    _dropout_relu_backward(d, out, mask)
    _bn_backward(d, x_hat, gamma, inv_std, dgamma, dbeta)


@njit(cache=True)
def relu_bn_backward(d, active, mask, x_hat, gamma, inv_std, dgamma, dbeta, db):  # pragma: no cover
    """Backward through dropout, BN and then the ReLU (BN after the ReLU), in place on
    ``d`` (N, M); ``active`` = ReLU(s + b) from :func:`relu_bn_forward`. Writes dL/dgamma,
    dL/dbeta and dL/db (M,)."""
    if mask.size > 0:
        d *= mask
    _bn_backward(d, x_hat, gamma, inv_std, dgamma, dbeta)
    n, m = d.shape
    for i in range(n):
        for j in range(m):
            if not active[i, j] > 0:
                d[i, j] = d[i, j] * 0
    _column_sums(d, db)


@njit(cache=True)
def relu_backward(d, active, mask, db):  # pragma: no cover - compiled
    """Backward through dropout and the ReLU of a hidden layer without BN, in place on
    ``d`` (N, M); writes dL/db (M,)."""
    _dropout_relu_backward(d, active, mask)
    _column_sums(d, db)


@njit(cache=True)
def sgd_weight_update(W, dW, eta, decay):  # pragma: no cover - compiled
    """W = decay W - eta dW in place (:class:`~bnnet.core.optimizers.SGD` with weight
    decay, rounded as it rounds: one vectorised pass instead of three)."""
    a = W.reshape(W.size)
    g = dW.reshape(dW.size)
    for k in range(a.size):
        a[k] = a[k] * decay - eta * g[k]


@njit(cache=True)
def sgd_update(p, g, eta):  # pragma: no cover - compiled
    """p -= eta g in place (flat arrays: biases, gamma, beta)."""
    for k in range(p.size):
        p[k] = p[k] - eta * g[k]


@njit(cache=True)
def running_average(running, batch, alpha, one_minus_alpha):  # pragma: no cover - compiled
    """running = alpha running + (1 - alpha) batch in place (flat arrays), as
    :func:`~bnnet.core.train.update_running_statistics`."""
    for k in range(running.size):
        running[k] = running[k] * alpha + one_minus_alpha * batch[k]


@njit(cache=True)
def gather_batch(source, rows, mean, inv_std, flipped, dy, dx, out):  # pragma: no cover
    """The mini-batch ``source[rows]``, normalised, flipped and translated in one pass: what
    :func:`numpy.take` of the normalised inputs and then
    :func:`~bnnet.core.augment.augment_batch` give, bit for bit.

    ``source`` (n, 3072) images in the official layout: the raw uint8 pixels with the
    normalisation ``(pixel - mean) * inv_std`` per feature (as
    :func:`~bnnet.core.data.normalise` computes it, in ``out``'s dtype), or inputs already
    normalised with ``mean`` = 0 and ``inv_std`` = 1. ``rows`` (N,) which images; per image
    ``flipped`` (bool), ``dy``, ``dx`` (the translation; pixels shifted in are 0, the
    training mean); ``out`` (N, 3072). Output pixel (r, c) is input pixel (r - dy, c - dx)
    of the (flipped) image.
    """
    size = 32
    for i in range(rows.size):
        src = source[rows[i]]
        dst = out[i]
        a = dy[i]
        b = dx[i]
        if a == 0 and b == 0 and not flipped[i]:
            for k in range(dst.size):
                dst[k] = (src[k] - mean[k]) * inv_std[k]
            continue
        for ch in range(3):
            base = ch * size * size
            for r in range(size):
                r_in = r - a
                row = base + r * size
                if r_in < 0 or r_in >= size:
                    dst[row : row + size] = 0
                    continue
                row_in = base + r_in * size
                for c in range(size):
                    c_in = c - b
                    if c_in < 0 or c_in >= size:
                        dst[row + c] = 0
                        continue
                    k = row_in + (size - 1 - c_in if flipped[i] else c_in)
                    dst[row + c] = (src[k] - mean[k]) * inv_std[k]


#: Every kernel a step calls (the test of the compile cache reads their statistics).
ALL = (bn_relu_forward, relu_bn_forward, bias_relu_forward, dropout_apply,
       softmax_cross_entropy, bn_relu_backward, relu_bn_backward, relu_backward,
       sgd_weight_update, sgd_update, running_average, gather_batch)
