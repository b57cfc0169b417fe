"""Mini-batch gradient descent with a cyclical learning rate: :func:`fit`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bnnet.augment import IMAGE_SIZE, augment_batch
from bnnet.config import Config
from bnnet.data import Dataset
from bnnet.network import TRAINABLE, Params, evaluate, forward_backward, init_params
from bnnet.schedule import cyclical_eta

HISTORY_COLUMNS = [
    "step", "epoch", "eta",
    "train_cost", "train_loss", "train_accuracy",
    "val_cost", "val_loss", "val_accuracy",
]


class TrainingDivergedError(FloatingPointError):
    """The cost became NaN or infinite. ``history`` and ``params`` hold what was reached."""

    def __init__(self, message: str, step: int, history: pd.DataFrame, params: Params):
        super().__init__(message)
        self.step = step
        self.history = history
        self.params = params


@dataclass
class Result:
    """The outcome of :func:`fit`.

    Attributes:
        config: the configuration that was trained.
        params: final parameters (with the BN running statistics).
        history: one row per logged update step, columns ``HISTORY_COLUMNS``; train metrics
            are on ``config.train_eval_size`` training images, all in eval mode.
        test: eval-mode cost, loss and accuracy on the test split.
        seconds: wall time of the training loop (logging included).
    """

    config: Config
    params: Params
    history: pd.DataFrame
    test: dict[str, float]
    seconds: float

    @property
    def test_accuracy(self) -> float:
        return self.test["accuracy"]

    @property
    def val_accuracy(self) -> float:
        return float(self.history["val_accuracy"].iloc[-1])


def fit(
    config: Config, data: Dataset, *, progress: bool = True,
    callback: Callable[[int, Params], None] | None = None,
) -> Result:
    """Train the network of ``config`` on ``data`` with mini-batch gradient descent.

    The training set is reshuffled every epoch (the last incomplete batch of an epoch is
    dropped so that every BN batch has ``batch_size`` rows); with ``flip`` or ``shift`` each
    mini-batch is augmented (:func:`~bnnet.augment.augment_batch`); the learning rate follows
    :func:`~bnnet.schedule.cyclical_eta` for ``config.n_updates`` updates, with plain SGD or
    Adam; BN running statistics are updated after every step with factor ``alpha`` (set to
    the first batch's statistics at step 0). Cost, loss and accuracy on the training and
    validation sets are logged every ``log_every`` updates and at the end.

    Args:
        config: what to train.
        data: the dataset; ``data.X_train`` must have ``config.dtype``.
        progress: show a tqdm progress bar.
        callback: called as ``callback(step, params)`` at every logged step (0 included),
            e.g. to record per-layer statistics; it must not modify ``params``.

    Raises:
        ValueError: the data do not fit the configuration.
        TrainingDivergedError: the cost became NaN or infinite (e.g. eta_max too large).
    """
    X, y = data.X_train, data.y_train
    n, d_in = X.shape
    if config.batch_size > n:
        raise ValueError(
            f"batch_size={config.batch_size} is larger than the training set ({n} images); "
            "use a smaller batch_size or more training data"
        )
    if X.dtype != config.np_dtype:
        X = X.astype(config.np_dtype)
    if (config.flip or config.shift or config.test_flip) and d_in != IMAGE_SIZE:
        raise ValueError(
            f"flip/shift augmentation needs 32 x 32 x 3 images ({IMAGE_SIZE} inputs), the "
            f"data have {d_in}; set flip=False, shift=0 and test_flip=False"
        )
    # one stream per random choice; the first three are those of earlier versions
    seeds = np.random.SeedSequence(config.seed).spawn(5)
    params = init_params(config, d_in, data.n_classes, np.random.default_rng(seeds[0]))
    shuffle_rng = np.random.default_rng(seeds[1])
    eval_rows = _eval_subset(n, config.train_eval_size, np.random.default_rng(seeds[2]))
    augment_rng = np.random.default_rng(seeds[3])
    dropout_rng = np.random.default_rng(seeds[4])
    optimizer = Adam(params) if config.optimizer == "adam" else None
    X_train_eval, y_train_eval = X[eval_rows], y[eval_rows]
    X_val = data.X_val.astype(config.np_dtype, copy=False)

    log_every = config.log_every or max(1, config.n_s // 5)
    batches_per_epoch = n // config.batch_size
    etas = cyclical_eta(np.arange(config.n_updates + 1), config.eta_min, config.eta_max,
                        config.n_s, config.eta_decay)
    alpha = config.alpha
    rows: list[dict] = []

    def log(step: int) -> None:
        train = evaluate(params, X_train_eval, y_train_eval, config)
        val = evaluate(params, X_val, data.y_val, config)
        rows.append({
            "step": step, "epoch": step / batches_per_epoch,
            "eta": float(etas[step]),
            **{f"train_{k}": v for k, v in train.items()},
            **{f"val_{k}": v for k, v in val.items()},
        })
        if callback is not None:
            callback(step, params)

    # reused every step: the mini-batch and the W gradients (large arrays allocated anew
    # each step cost page faults that were measured to double the epoch time)
    X_batch = np.empty((config.batch_size, d_in), dtype=config.np_dtype)
    dW_out = [np.empty_like(p["W"]) for p in params]
    start = time.perf_counter()
    # a diverging run overflows; the cost check below turns that into one clear error
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        log(0)
        bar = tqdm(total=config.n_updates, disable=not progress, desc=_describe(config),
                   unit="step", mininterval=0.5, leave=False)
        step = 0
        while step < config.n_updates:
            order = shuffle_rng.permutation(n)
            for j in range(batches_per_epoch):
                if step >= config.n_updates:
                    break
                idx = order[j * config.batch_size : (j + 1) * config.batch_size]
                np.take(X, idx, axis=0, out=X_batch)
                batch = X_batch
                if config.flip or config.shift:
                    batch = augment_batch(X_batch, augment_rng, flip=config.flip,
                                          shift=config.shift)
                cost = sgd_step(params, batch, y[idx], config, etas[step],
                                0.0 if step == 0 else alpha, dW_out,
                                rng=dropout_rng, optimizer=optimizer)
                if not np.isfinite(cost):
                    bar.close()
                    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
                    raise TrainingDivergedError(
                        f"training diverged: the cost became {cost} at update step {step} "
                        f"(eta={etas[step]:.3g}); lower eta_max (now {config.eta_max}) or check "
                        "the input normalisation. The history up to that step is in "
                        "error.history.",
                        step, history, params,
                    )
                step += 1
                bar.update()
                if step % log_every == 0 or step == config.n_updates:
                    log(step)
                    bar.set_postfix(val_acc=f"{rows[-1]['val_accuracy']:.3f}", refresh=False)
    bar.close()
    seconds = time.perf_counter() - start
    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    test = evaluate(params, data.X_test.astype(config.np_dtype, copy=False), data.y_test, config)
    return Result(config, params, history, test, seconds)


def sgd_step(params: Params, X: np.ndarray, y: np.ndarray, config: Config, eta: float,
             alpha: float, dW_out: list | None = None, *,
             rng: np.random.Generator | None = None, optimizer: Adam | None = None) -> float:
    """One update on the mini-batch ``(X, y)``, in place; returns its train-mode cost.

    p -= eta * grad for every trained parameter (or the Adam update when ``optimizer`` is
    given), and for BN layers running = alpha * running + (1 - alpha) * batch statistic
    (alpha = 0 at the first step starts the running statistics at the batch's). A
    non-finite cost changes nothing. ``dW_out``: reusable buffers for the W gradients
    (``[np.empty_like(p["W"]) ...]``); ``rng``: draws the dropout masks.
    """
    result = forward_backward(params, X, y, config, l2_in_grads=False, dW_out=dW_out,
                              rng=rng)
    if np.isfinite(result.cost):
        if optimizer is None:
            _sgd_update(params, result.grads, float(eta), config.lam)
        else:
            optimizer.update(params, result.grads, float(eta), config.lam)
        _update_running_statistics(params, result.batch_stats, alpha)
    return result.cost


def _sgd_update(params: Params, grads: Params, eta: float, lam: float) -> None:
    # eta is a Python float so that float32 parameters stay float32 (a NumPy float64
    # scalar would promote every product to float64); the gradients are this step's own
    # arrays (or the dW buffers), scaled in place to avoid a temporary per parameter.
    decay = 1.0 - 2.0 * eta * lam  # W -= eta * (dW + 2 lam W)
    for p, g in zip(params, grads, strict=True):
        for key, grad in g.items():
            if key == "W" and lam:
                p[key] *= decay
            grad *= eta
            p[key] -= grad


def _update_running_statistics(params: Params, batch_stats: list, alpha: float) -> None:
    for p, stats in zip(params, batch_stats, strict=True):
        if stats is not None:
            for key, batch_value in zip(("running_mean", "running_var"), stats, strict=True):
                p[key] *= alpha
                p[key] += (1 - alpha) * batch_value


class Adam:
    """Adam (Kingma & Ba, 2015) on the regularised cost: the gradient of W includes
    2 lam W, first and second moments with factors ``beta1``, ``beta2``, bias-corrected.

    The state (``m``, ``v`` per trained parameter, the step count) lives here; the
    learning rate comes with every update (the cyclical schedule)."""

    def __init__(self, params: Params, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [{k: np.zeros_like(v) for k, v in p.items() if k in TRAINABLE}
                  for p in params]
        self.v = [{k: np.zeros_like(v) for k, v in p.items() if k in TRAINABLE}
                  for p in params]
        self.t = 0

    def update(self, params: Params, grads: Params, eta: float, lam: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
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


def _eval_subset(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def _describe(config: Config) -> str:
    bn = f"BN-{config.bn_position}" if config.batch_norm else "no BN"
    return f"{config.n_layers}-layer {bn}"
