"""What happens inside the network: per-layer activation spread and gradient norms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnet.core.config import Config
from bnnet.core.layers import affine_forward
from bnnet.core.network import Params, forward_backward, init_params


def layer_statistics(
    config: Config, X: np.ndarray, y: np.ndarray, n_classes: int, params: Params | None = None
) -> pd.DataFrame:
    """Per layer, in train mode: the spread of its pre-activations and of its output, and
    the norm of the gradient of its W.

    Args:
        config: the network (``params`` default to its initialisation).
        X, y: a mini-batch, shapes (N, D) and (N,).
        n_classes: number of classes C.
        params: the parameters to probe (not modified).

    Returns:
        one row per affine layer (1-based ``layer``): ``pre_mean`` and ``pre_std`` of the
        pre-activations s = x W + b (before BN and ReLU), ``output_mean`` and
        ``output_std`` of what the layer passes on (the hidden activations after ReLU/BN,
        or the class scores for the last layer), and ``grad_W_norm`` (Frobenius norm of
        the gradient of the data loss, without the L2 term, which would only reflect the
        size of W). Dropout is off while probing. Computed in float64 whatever the
        training dtype, so that spreads far below float32's range (which training in
        float32 sees as exact zeros) are still measured.
    """
    if params is None:
        params = init_params(config, X.shape[1], n_classes)
    params = [{k: v.astype(np.float64) for k, v in p.items()} for p in params]
    X = np.asarray(X, dtype=np.float64)
    step = forward_backward(params, X, y,
                            config.replace(lam=0.0, dropout=0.0, dtype="float64"),
                            keep_caches=True)
    inputs = [c["affine"][0] for c in step.caches]
    pre = [affine_forward(x, p["W"], p.get("b"))[0] for x, p in zip(inputs, params, strict=True)]
    outputs = [*inputs[1:], step.scores]
    return pd.DataFrame({
        "layer": np.arange(1, len(params) + 1),
        "pre_mean": [float(s.mean()) for s in pre],
        "pre_std": [float(s.std()) for s in pre],
        "output_mean": [float(h.mean()) for h in outputs],
        "output_std": [float(h.std()) for h in outputs],
        "grad_W_norm": [float(np.linalg.norm(g["W"])) for g in step.grads],
    })
