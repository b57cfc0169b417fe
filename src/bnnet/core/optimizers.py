"""Parameter updates, one small class per optimizer with one method, ``update``, in the
spirit of scikit-learn's ``_stochastic_optimizers.py``. An optimizer may also declare
``update_fused``, the same update on the fast path's flat buffers in compiled kernels
(:class:`~bnnet.core.fast.FastStep` uses it where it exists). The learning rate comes with every
update (the cyclical schedule); the L2 term ``lam * sum ||W||^2`` of the cost is part of the
update, so the gradients passed in are those of the data loss alone.
"""

from __future__ import annotations

import math

import numpy as np

from bnnet.core import kernels
from bnnet.core.network import TRAINABLE, Params


class SGD:
    """Plain gradient descent on the regularised cost: ``p -= eta * grad``, and
    ``W -= eta * (dW + 2 lam W)`` as weight decay folded into one in-place update."""

    def __init__(self, params: Params, lam: float):
        self.lam = lam

    def update(self, params: Params, grads: Params, eta: float) -> None:
        """In place. The gradients are this step's own arrays (or reused buffers) and are
        scaled in place, which saves a temporary per parameter."""
        # eta is a Python float so that float32 parameters stay float32 (a NumPy float64
        # scalar would promote every product to float64)
        decay = 1.0 - 2.0 * eta * self.lam
        for p, g in zip(params, grads, strict=True):
            for key, grad in g.items():
                if key == "W" and self.lam:
                    p[key] *= decay
                grad *= eta
                p[key] -= grad

    def update_fused(self, weights: list[tuple[np.ndarray, np.ndarray]], vectors: np.ndarray,
                     vector_grads: np.ndarray, eta: float, dtype: np.dtype) -> None:
        """:meth:`update` in compiled kernels: every ``(W, dW)`` pair, then all the trained
        vectors (b, gamma, beta) of the net at once, held flat in ``vectors`` with their
        gradients in ``vector_grads``. ``dtype``: the parameters'. (A subclass that changes
        :meth:`update` must change this too, or delete it.)"""
        eta_, decay = dtype.type(eta), dtype.type(1.0 - 2.0 * eta * self.lam)
        for W, dW in weights:
            kernels.sgd_weight_update(W, dW, eta_, decay)
        kernels.sgd_update(vectors, vector_grads, eta_)


class Adam:
    """Adam (Kingma & Ba, 2015) on the regularised cost: the gradient of W includes
    2 lam W, first and second moments with factors ``beta1``, ``beta2``, bias-corrected.
    The state (``m``, ``v`` per trained parameter, the step count) lives here."""

    def __init__(self, params: Params, lam: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.lam, self.beta1, self.beta2, self.eps = lam, beta1, beta2, eps
        self.m = [{k: np.zeros_like(v) for k, v in p.items() if k in TRAINABLE} for p in params]
        self.v = [{k: np.zeros_like(v) for k, v in p.items() if k in TRAINABLE} for p in params]
        self.t = 0

    def update(self, params: Params, grads: Params, eta: float) -> None:
        self.t += 1
        b1, b2, lam = self.beta1, self.beta2, self.lam
        # both bias corrections folded into the step; a Python float keeps float32 float32
        correction = math.sqrt(1 - b2**self.t)
        step = eta * correction / (1 - b1**self.t)
        eps = self.eps * correction  # = eps added to the bias-corrected sqrt(v)
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            for key, grad in g.items():
                if key == "W" and lam:
                    grad += (2 * lam) * p[key]
                m[key] *= b1
                m[key] += (1 - b1) * grad
                v[key] *= b2
                v[key] += (1 - b2) * grad * grad
                p[key] -= step * m[key] / (np.sqrt(v[key]) + eps)


#: ``Config.optimizer`` -> the class that performs its updates.
OPTIMIZERS = {"sgd": SGD, "adam": Adam}
