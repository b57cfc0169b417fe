"""The fast training step (``Config.kernels="numba"``): the update of
:func:`bnnet.core.train.train_step`, with the matrix products in BLAS and everything between
them in the compiled kernels of :mod:`bnnet.core.kernels`, on buffers allocated once.

The NumPy code of :mod:`bnnet.core.layers` and :mod:`bnnet.core.network` stays the
reference: it is the hand-written backward pass a reader studies and the one the gradient
checks use. Both paths compute the same quantities; ``tests/test_fast.py`` holds them equal
within float32 round-off.
"""

from __future__ import annotations

import numpy as np

from bnnet.core import kernels
from bnnet.core.augment import Draws
from bnnet.core.config import Config
from bnnet.core.data import Dataset
from bnnet.core.network import Params, l2_penalty, layer_has_bn
from bnnet.core.optimizers import SGD, Adam

#: The element-wise work after the affine product of a hidden layer, by BN placement.
FORWARD_KINDS = {"before": "bn_relu", "after": "relu_bn"}
VECTORS = ("b", "gamma", "beta")  # the trained vectors of a layer
RUNNING = ("running_mean", "running_var")


def _views(params: Params, keys: tuple[str, ...], dtype: np.dtype) -> tuple[np.ndarray, list]:
    """One flat array holding ``params[l][key]`` for every key a layer has, and per layer
    a dict of the views into it (so that one kernel call updates all of them)."""
    sizes = [(l, k, p[k].size) for l, p in enumerate(params) for k in keys if k in p]
    flat = np.zeros(sum(size for *_, size in sizes), dtype)
    views: list[dict[str, np.ndarray]] = [{} for _ in params]
    start = 0
    for layer, key, size in sizes:
        views[layer][key] = flat[start : start + size]
        start += size
    return flat, views


def batch_source(config: Config, X: np.ndarray,
                 data: Dataset | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(source, mean, inv_std)`` with the training inputs ``X`` == (source - mean) *
    inv_std in ``config.dtype`` bit for bit: the uint8 pixels of ``data`` with the
    normalisation of :func:`~bnnet.core.data.normalise` (a quarter of the bytes to read),
    or, when ``data`` has no pixels, pixels of another shape than ``X`` (a changed
    ``X_train``) or inputs of another dtype, ``X`` itself with mean 0 and inv_std 1."""
    dtype, d_in = config.np_dtype, X.shape[1]
    pixels = None if data is None else data.train_pixels
    if pixels is None or pixels.shape != X.shape or data.X_train.dtype != dtype:
        return X, np.zeros(d_in, dtype), np.ones(d_in, dtype)
    return pixels, data.mean.astype(dtype), (1.0 / data.std).astype(dtype)


class FastStep:
    """A training step on the fast path: gathers, normalises and augments a mini-batch in
    one compiled pass (:func:`~bnnet.core.kernels.gather_batch`, from the pixels of
    :func:`batch_source`), then updates in place as :func:`~bnnet.core.train.train_step`.

    Creating it moves the biases, ``gamma``, ``beta`` and the running statistics of
    ``params`` into flat arrays (each ``params[l][key]`` becomes a view with the same
    values), so that the optimizer and the running averages touch all of them in one call:
    read them through ``params`` afterwards, not through arrays taken out before.

    Args:
        params: from :func:`~bnnet.core.network.init_params`; updated in place.
        config: the architecture, ``batch_size``, ``lam``, ``eps``, ``dropout``,
            ``label_smoothing``, ``flip``, ``shift``.
        optimizer: one that declares ``update_fused`` (:class:`~bnnet.core.optimizers.SGD`)
            updates the flat buffers in compiled kernels; any other gets the gradients
            computed here through its ``update`` (:class:`~bnnet.core.optimizers.Adam`).
        X, y: the training inputs in ``config.dtype`` (N, D) and labels (N,).
        data: the dataset ``X`` comes from, whose uint8 pixels are gathered when they match.
    """

    def __init__(self, params: Params, config: Config, optimizer: SGD | Adam,
                 X: np.ndarray, y: np.ndarray, data: Dataset | None = None):
        dt, batch_size = config.np_dtype, config.batch_size
        self.params, self.config, self.optimizer, self.dtype = params, config, optimizer, dt
        self.X, self.y = X, y
        #: what gather_batch reads: (source - shift) * scale are the training inputs
        self.source, self.shift, self.scale = batch_source(config, X, data)
        self.X_batch = np.empty((batch_size, X.shape[1]), dt)
        self.unchanged = (np.zeros(batch_size, bool), np.zeros(batch_size, np.int64),
                          np.zeros(batch_size, np.int64))
        last = len(params) - 1
        self.kinds = [("bias_relu" if not layer_has_bn(config, l)
                       else FORWARD_KINDS[config.bn]) for l in range(last)]
        # the vectors of every layer in flat arrays: the trained ones (b, gamma, beta) and
        # their gradients, the running statistics and this batch's statistics. Each pair is
        # built by the same call, so one kernel call pairs every entry with its partner.
        self.vectors, vector_views = _views(params, VECTORS, dt)
        self.vector_grads, self.grads = _views(params, VECTORS, dt)
        self.running, running_views = _views(params, RUNNING, dt)
        self.batch_stats, batch_views = _views(params, RUNNING, dt)
        #: per BN layer, the batch ``mean`` and ``var`` of the last forward pass
        self.batch = [{"mean": v["running_mean"], "var": v["running_var"]} if v else None
                      for v in batch_views]
        for p, vectors, running in zip(params, vector_views, running_views, strict=True):
            for key, view in (vectors | running).items():
                view[:] = p[key]
                p[key] = view
        # per layer: the affine output s and dL/d(output) (N, M); per hidden layer its
        # output (s itself after an in-place ReLU), x_hat (s itself for BN before the
        # ReLU), 1/sqrt(var + eps) and the dropout mask (empty without dropout)
        self.s, self.d, self.out, self.x_hat, self.inv_std, self.masks = [], [], [], [], [], []
        for layer, p in enumerate(params):
            s = np.empty((batch_size, p["W"].shape[1]), dt)
            self.s.append(s)
            self.d.append(np.empty_like(s))
            if layer == last:
                break
            kind = self.kinds[layer]
            if kind == "bn_relu":  # s is not needed once normalised
                self.x_hat.append(s)
                self.out.append(np.empty_like(s))
            elif kind == "relu_bn":  # s keeps ReLU(s + b), the gate of the backward pass
                self.x_hat.append(np.empty_like(s))
                self.out.append(np.empty_like(s))
            else:  # ReLU in place
                self.x_hat.append(None)
                self.out.append(s)
            self.inv_std.append(np.empty(s.shape[1], dt))
            self.masks.append(np.empty_like(s) if config.dropout else np.empty((0, 0), dt))
        for g, p in zip(self.grads, params, strict=True):
            g["W"] = np.empty_like(p["W"])
        self.inputs: list[np.ndarray] = [np.empty(0)] * len(params)

    def forward_backward(self, X: np.ndarray, y: np.ndarray,
                         rng: np.random.Generator | None = None) -> float:
        """The train-mode loss (without the L2 term) of the batch ``X`` (N, D), ``y`` (N,);
        fills ``self.grads`` (gradients of that loss, one dict per layer like
        :func:`~bnnet.core.network.backward`) and ``self.batch`` (each BN layer's batch
        ``mean`` and ``var``).
        ``rng`` draws the dropout masks (default: seeded with ``config.seed``)."""
        config, params, dt = self.config, self.params, self.dtype
        eps, last = dt.type(config.eps), len(params) - 1
        h = X
        for layer, p in enumerate(params):
            self.inputs[layer] = h
            s = self.s[layer]
            np.matmul(h, p["W"], out=s)
            if layer == last:
                break
            kind, stats = self.kinds[layer], self.batch[layer]
            if kind == "bn_relu":
                kernels.bn_relu_forward(s, p["gamma"], p["beta"], eps, self.x_hat[layer],
                                        self.out[layer], stats["mean"], stats["var"],
                                        self.inv_std[layer])
            elif kind == "relu_bn":
                kernels.relu_bn_forward(s, p["b"], p["gamma"], p["beta"], eps,
                                        self.x_hat[layer], self.out[layer], stats["mean"],
                                        stats["var"], self.inv_std[layer])
            else:
                kernels.bias_relu_forward(s, p["b"])
            h = self.out[layer]
            if config.dropout:
                if rng is None:
                    rng = np.random.default_rng(config.seed)
                u = rng.random(h.shape, dtype=np.float32)
                kernels.dropout_apply(h, u, np.float32(config.dropout),
                                      dt.type(1.0 / (1.0 - config.dropout)), self.masks[layer])
        loss = kernels.softmax_cross_entropy(self.s[last], params[last]["b"], y,
                                             config.label_smoothing, self.d[last],
                                             self.grads[last]["b"])
        self._backward()
        return float(loss)

    def _backward(self) -> None:
        # The ReLU gate of a hidden layer is read from a forward buffer that dropout may
        # have scaled in place (out, or s without BN): where the mask is 0 the gradient is
        # multiplied by 0 anyway, and elsewhere the sign is unchanged.
        d = self.d[-1]
        for layer in range(len(self.params) - 1, -1, -1):
            g = self.grads[layer]
            np.matmul(self.inputs[layer].T, d, out=g["W"])
            if layer == 0:
                break
            below, d_below = layer - 1, self.d[layer - 1]
            np.matmul(d, self.params[layer]["W"].T, out=d_below)
            p, gb, mask = self.params[below], self.grads[below], self.masks[below]
            kind = self.kinds[below]
            if kind == "bn_relu":
                kernels.bn_relu_backward(d_below, self.out[below], mask, self.x_hat[below],
                                         p["gamma"], self.inv_std[below], gb["gamma"],
                                         gb["beta"])
            elif kind == "relu_bn":
                kernels.relu_bn_backward(d_below, self.s[below], mask, self.x_hat[below],
                                         p["gamma"], self.inv_std[below], gb["gamma"],
                                         gb["beta"], gb["b"])
            else:
                kernels.relu_backward(d_below, self.s[below], mask, gb["b"])
            d = d_below

    def gather(self, rows: np.ndarray, draws: Draws | None) -> tuple[np.ndarray, np.ndarray]:
        """The batch ``(X[rows] augmented as draws say, y[rows])``, bit for bit what
        :meth:`~bnnet.core.train.ReferenceStep.gather` gives; ``X_batch`` is reused."""
        kernels.gather_batch(self.source, rows, self.shift, self.scale,
                             *(self.unchanged if draws is None else draws), self.X_batch)
        return self.X_batch, self.y[rows]

    def __call__(self, rows: np.ndarray, draws: Draws | None, eta: float, alpha: float,
                 rng: np.random.Generator | None = None) -> float:
        return self.update(*self.gather(rows, draws), eta, alpha, rng)

    def update(self, X: np.ndarray, y: np.ndarray, eta: float, alpha: float,
               rng: np.random.Generator | None = None) -> float:
        """Update ``params`` on the batch; returns its train-mode cost (loss + lam
        sum ||W||^2 before the update). A non-finite cost changes nothing."""
        loss = self.forward_backward(X, y, rng)
        lam, dt = self.config.lam, self.dtype
        cost = loss + lam * l2_penalty(self.params) if lam else loss
        if not np.isfinite(cost):
            return cost
        fused = getattr(self.optimizer, "update_fused", None)
        if fused is not None:
            fused([(p["W"], g["W"]) for p, g in zip(self.params, self.grads, strict=True)],
                  self.vectors, self.vector_grads, eta, dt)
        else:
            self.optimizer.update(self.params, self.grads, float(eta))
        kernels.running_average(self.running, self.batch_stats, dt.type(alpha),
                                dt.type(1 - alpha))
        return cost
