"""The k-layer network: parameters, forward and backward passes, cost, evaluation.

Parameters are a list with one dict per affine layer, ``params[l]``:

- ``W`` of shape (d_in, d_out) and, where the layer has one, ``b`` of shape (d_out,);
- for a hidden layer with batch normalization also ``gamma``, ``beta`` (trained) and
  ``running_mean``, ``running_var`` (population statistics for eval mode), shape (d_out,).

A hidden layer computes ``s = x W (+ b)`` and then, with ``bn="before"``,
``ReLU(BN(s))`` or, with ``bn="after"``, ``BN(ReLU(s))``; the last layer gives the
class scores. **The bias of a layer whose output goes straight into BN is left out**: BN
subtracts the batch mean, so any bias is cancelled exactly, its gradient is exactly 0 and
``beta`` takes its role. With ``bn="after"`` the ReLU sits in between, the bias is
not redundant and is kept.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from bnnet.core.augment import flip_images
from bnnet.core.config import Config
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

Params = list[dict[str, np.ndarray]]
TRAINABLE = ("W", "b", "gamma", "beta")


def layer_has_bn(config: Config, layer: int) -> bool:
    """Whether affine layer ``layer`` (0-based) is followed by batch normalization."""
    return config.has_bn and layer < len(config.hidden)


def layer_has_bias(config: Config, layer: int) -> bool:
    """Whether affine layer ``layer`` has a bias (not when BN comes straight after it)."""
    return not (layer_has_bn(config, layer) and config.bn == "before")


#: Standard deviation of the initial weights of a layer with ``d_in`` inputs, per
#: ``Config.init`` (``sigma`` is ``Config.sigma``).
INIT_STDS = {
    "he": lambda d_in, sigma: float(np.sqrt(2.0 / d_in)),
    "xavier": lambda d_in, sigma: float(np.sqrt(1.0 / d_in)),
    "normal": lambda d_in, sigma: sigma,
}


def init_std(config: Config, d_in: int) -> float:
    """Standard deviation of the initial weights of a layer with ``d_in`` inputs."""
    return INIT_STDS[config.init](d_in, config.sigma)


def init_params(
    config: Config, d_in: int, n_classes: int, rng: np.random.Generator | None = None
) -> Params:
    """Initial parameters of the network described by ``config``.

    Weights are Gaussian with the std of ``config.init`` (He, Xavier or a fixed sigma),
    biases and ``beta`` 0, ``gamma`` 1, ``running_mean`` 0 and ``running_var`` 1.

    Args:
        config: the network and its dtype; ``config.seed`` seeds the weights unless ``rng``
            is given.
        d_in: input dimension D (3072 for CIFAR-10).
        n_classes: number of classes C.
        rng: random generator to draw the weights from.

    Returns:
        one dict per affine layer (see the module docstring).
    """
    if d_in <= 0 or n_classes <= 0:
        raise ValueError(f"d_in={d_in} and n_classes={n_classes} must both be positive")
    if rng is None:
        rng = np.random.default_rng(config.seed)
    dtype = config.np_dtype
    sizes = [d_in, *config.hidden, n_classes]
    params: Params = []
    for layer, (m, n) in enumerate(itertools.pairwise(sizes)):
        p = {"W": (rng.standard_normal((m, n)) * init_std(config, m)).astype(dtype)}
        if layer_has_bias(config, layer):
            p["b"] = np.zeros(n, dtype)
        if layer_has_bn(config, layer):
            p["gamma"] = np.ones(n, dtype)
            p["beta"] = np.zeros(n, dtype)
            p["running_mean"] = np.zeros(n, dtype)
            p["running_var"] = np.ones(n, dtype)
        params.append(p)
    return params


def forward(
    X: np.ndarray, params: Params, config: Config, *, train: bool,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, list[dict]]:
    """Class scores of a batch.

    Args:
        X: inputs, shape (N, D).
        params: from :func:`init_params`.
        config: the architecture (``bn``, ``eps``, ``dropout``).
        train: BN uses the batch statistics (train mode) or the running ones (eval mode);
            dropout is applied in train mode only.
        rng: draws the dropout masks (train mode with ``config.dropout > 0``); default a
            generator seeded with ``config.seed``, so that repeated calls use the same masks
            (as a gradient check needs).

    Returns:
        scores of shape (N, C) and one cache dict per layer (empty in eval mode). In train
        mode a BN layer's cache holds its batch ``mean`` and ``var``.
    """
    caches: list[dict] = []
    h = X
    last = len(params) - 1
    for layer, p in enumerate(params):
        s, affine_cache = affine_forward(h, p["W"], p.get("b"))
        cache: dict = {"affine": affine_cache}
        if layer == last:
            h = s
        elif not layer_has_bn(config, layer):
            h, cache["relu"] = relu_forward(s)
        elif config.bn == "before":
            s, cache["bn"] = _bn(s, p, config, train)
            h, cache["relu"] = relu_forward(s)
        else:
            h, cache["relu"] = relu_forward(s)
            h, cache["bn"] = _bn(h, p, config, train)
        if train and config.dropout and layer != last:
            if rng is None:
                rng = np.random.default_rng(config.seed)
            h, cache["dropout"] = dropout_forward(h, config.dropout, rng)
        if train:
            caches.append(cache)
    return h, caches


def _bn(x: np.ndarray, p: dict, config: Config, train: bool) -> tuple[np.ndarray, tuple | None]:
    if train:
        return batchnorm_forward(x, p["gamma"], p["beta"], config.eps)
    out = batchnorm_eval(x, p["gamma"], p["beta"], p["running_mean"], p["running_var"], config.eps)
    return out, None


def backward(
    dscores: np.ndarray, caches: list[dict], config: Config, dW_out: list | None = None
) -> Params:
    """Gradients of the data loss with respect to every trainable parameter.

    Args:
        dscores: dL/dscores, shape (N, C).
        caches: from a train-mode :func:`forward`.
        config: the architecture.
        dW_out: optional per-layer arrays to write the W gradients into (reused buffers).

    Returns:
        one dict per layer with the gradients of ``W``, ``b``, ``gamma``, ``beta`` (those
        the layer has), same shapes as the parameters. Regularisation is not included.
    """
    grads: Params = [{} for _ in caches]
    dh = dscores
    for layer in range(len(caches) - 1, -1, -1):
        cache, g = caches[layer], grads[layer]
        ds = dh if "dropout" not in cache else dropout_backward(dh, cache["dropout"])
        if "bn" in cache and config.bn == "after":
            ds, g["gamma"], g["beta"] = batchnorm_backward(ds, cache["bn"])
        if "relu" in cache:
            ds = relu_backward(ds, cache["relu"])
        if "bn" in cache and config.bn == "before":
            ds, g["gamma"], g["beta"] = batchnorm_backward(ds, cache["bn"])
        has_bias = layer_has_bias(config, layer)
        dh, g["W"], db = affine_backward(ds, cache["affine"], need_dx=layer > 0,
                                         need_db=has_bias,
                                         dW_out=None if dW_out is None else dW_out[layer])
        if has_bias:
            g["b"] = db
    return grads


def l2_penalty(params: Params) -> float:
    """Sum of the squared weights of every layer (biases and BN parameters excluded)."""
    return float(sum(np.vdot(p["W"], p["W"]) for p in params))


@dataclass
class StepResult:
    """What one train-mode forward and backward pass gives."""

    cost: float
    loss: float
    grads: Params
    batch_stats: list[tuple[np.ndarray, np.ndarray] | None]
    scores: np.ndarray | None = None
    caches: list[dict] | None = None


def forward_backward(
    params: Params, X: np.ndarray, y: np.ndarray, config: Config, *,
    keep_caches: bool = False, l2_in_grads: bool = True, dW_out: list | None = None,
    rng: np.random.Generator | None = None,
) -> StepResult:
    """Train-mode cost, gradients (with the L2 term) and the BN batch statistics.

    With ``keep_caches`` the result also holds the scores and the per-layer caches (the
    input of every layer is ``caches[l]["affine"][0]``), for diagnostics. With
    ``l2_in_grads=False`` the W gradients are of the data loss only (the training loop
    applies the L2 term as weight decay, without a temporary array per layer); ``dW_out``
    are buffers for the W gradients (see :func:`backward`); ``rng`` draws the dropout
    masks (see :func:`forward`).
    """
    scores, caches = forward(X, params, config, train=True, rng=rng)
    loss, dscores = softmax_cross_entropy(scores, y, config.label_smoothing)
    grads = backward(dscores, caches, config, dW_out)
    if config.lam and l2_in_grads:
        for p, g in zip(params, grads, strict=True):
            g["W"] += (2 * config.lam) * p["W"]
    loss = float(loss)
    cost = loss + config.lam * l2_penalty(params) if config.lam else loss
    stats = [(c["bn"][3], c["bn"][4]) if "bn" in c else None for c in caches]
    if keep_caches:
        return StepResult(cost, loss, grads, stats, scores, caches)
    return StepResult(cost, loss, grads, stats)


def cost_and_gradients(
    params: Params, X: np.ndarray, y: np.ndarray, config: Config
) -> tuple[float, Params]:
    """Train-mode cost J = mean cross-entropy + lam * sum ||W||^2 and its gradients.

    Args:
        params: from :func:`init_params`; not modified (running statistics included).
        X: inputs, shape (N, D); y: labels, shape (N,).
        config: architecture and ``lam``.

    Returns:
        the cost and the gradients, one dict per layer mirroring ``params`` (trainable
        entries only: ``W``, ``b``, ``gamma``, ``beta``).
    """
    step = forward_backward(params, X, y, config)
    return step.cost, step.grads


def predict_scores(
    params: Params, X: np.ndarray, config: Config, *, chunk: int = 10_000
) -> np.ndarray:
    """Eval-mode class scores, shape (N, C), computed in chunks of ``chunk`` rows."""
    parts = [forward(X[i : i + chunk], params, config, train=False)[0]
             for i in range(0, X.shape[0], chunk)]
    return np.concatenate(parts) if parts else np.empty((0, params[-1]["W"].shape[1]))


def evaluate(params: Params, X: np.ndarray, y: np.ndarray, config: Config) -> dict[str, float]:
    """Eval-mode (running BN statistics) cost, loss and accuracy on ``(X, y)``.

    The loss is the plain cross-entropy (no label smoothing). With ``config.test_flip``
    the class probabilities are the mean of those of each image and of its mirror image
    (test-time augmentation; ``X`` must hold 32 x 32 x 3 images).
    """
    scores = predict_scores(params, X, config)
    if config.test_flip:
        probs = 0.5 * (softmax(scores) + softmax(predict_scores(params, flip_images(X), config)))
        loss = float(-np.log(probs[np.arange(len(y)), y]).mean())
        accuracy = float((probs.argmax(axis=1) == y).mean())
    else:
        loss = float(softmax_cross_entropy(scores, y)[0])
        accuracy = float((scores.argmax(axis=1) == y).mean())
    return {"cost": loss + config.lam * l2_penalty(params), "loss": loss, "accuracy": accuracy}


def population_statistics(
    params: Params, X: np.ndarray, config: Config, *, chunk: int = 10_000
) -> Params:
    """A copy of ``params`` whose BN statistics are the exact mean and variance over ``X``.

    Layer by layer: the inputs of BN layer l are computed with the new statistics of the
    layers below it, and its ``running_mean`` and ``running_var`` become their mean and
    (biased) variance over all N rows. With the training inputs this is "precise BN"
    (population statistics instead of running averages); with unlabelled test inputs it
    is "adaptive BN" (statistics of the distribution the net is evaluated on).

    Args:
        params: trained parameters (not modified).
        X: inputs, shape (N, D).
        config: the architecture.
        chunk: rows per matrix product of every layer (bounds the memory).

    Returns:
        new parameters, with the arrays that do not change shared with ``params``.
    """
    if X.ndim != 2 or X.shape[1] != params[0]["W"].shape[0]:
        raise ValueError(f"X has shape {X.shape}; expected (N, {params[0]['W'].shape[0]})")
    if X.shape[0] < 2:
        raise ValueError("population statistics need at least 2 rows of X")
    new = [dict(p) for p in params]
    h = X
    for layer, p in enumerate(new[:-1]):
        s = np.concatenate([affine_forward(h[i : i + chunk], p["W"], p.get("b"))[0]
                            for i in range(0, h.shape[0], chunk)])
        if not layer_has_bn(config, layer):
            h = relu_forward(s)[0]
            continue
        bn_input = s if config.bn == "before" else relu_forward(s)[0]
        p["running_mean"] = bn_input.mean(axis=0, dtype=np.float64).astype(s.dtype)
        p["running_var"] = bn_input.var(axis=0, dtype=np.float64).astype(s.dtype)
        out = batchnorm_eval(bn_input, p["gamma"], p["beta"], p["running_mean"],
                             p["running_var"], config.eps)
        h = relu_forward(out)[0] if config.bn == "before" else out
    return new
