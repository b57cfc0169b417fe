"""What happens inside the network: per-layer activation spread and gradient norms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnnet.config import Config
from bnnet.network import Params, forward_backward, init_params


def layer_statistics(
    config: Config, X: np.ndarray, y: np.ndarray, n_classes: int, params: Params | None = None
) -> pd.DataFrame:
    """Per layer, in train mode: std of its output and the norm of the gradient of its W.

    Args:
        config: the network (``params`` default to its initialisation).
        X, y: a mini-batch, shapes (N, D) and (N,).
        n_classes: number of classes C.

    Returns:
        one row per affine layer (1-based ``layer``): ``output_std`` (the hidden
        activations after ReLU/BN, or the class scores for the last layer),
        ``output_mean`` and ``grad_W_norm`` (Frobenius norm of the gradient of the data
        loss, without the L2 term, which would only reflect the size of W).
    """
    if params is None:
        params = init_params(config, X.shape[1], n_classes)
    step = forward_backward(params, X, y, config.replace(lam=0.0), keep_caches=True)
    outputs = [c["affine"][0] for c in step.caches[1:]] + [step.scores]
    return pd.DataFrame({
        "layer": np.arange(1, len(params) + 1),
        "output_mean": [float(h.mean()) for h in outputs],
        "output_std": [float(h.std()) for h in outputs],
        "grad_W_norm": [float(np.linalg.norm(g["W"])) for g in step.grads],
    })
