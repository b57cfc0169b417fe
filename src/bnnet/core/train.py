"""Mini-batch gradient descent with a cyclical learning rate: :func:`fit`.

The loop reads on one screen; its helpers: :func:`minibatches` (which rows, and how they
are augmented), a step of :data:`STEPS` (gathers its batch and updates; the NumPy reference
:class:`ReferenceStep` or the compiled :class:`~bnnet.core.fast.FastStep`), :class:`History`
(the logged curves).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from bnnet.cifar10 import IMAGE_SIZE
from bnnet.core.augment import Draws, apply_augmentation, augment_draws
from bnnet.core.config import Config, bn_placement
from bnnet.core.data import Dataset
from bnnet.core.fast import FastStep
from bnnet.core.network import Params, evaluate, forward_backward, init_params
from bnnet.core.optimizers import OPTIMIZERS, SGD, Adam
from bnnet.core.schedule import cyclical_eta

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


@dataclass(repr=False)
class Result:
    """The outcome of a training run.

    Attributes:
        config: the configuration that was trained.
        params: final parameters (with the BN running statistics); ``None`` for a run
            that diverged.
        history: one row per logged update step, columns ``HISTORY_COLUMNS``; train metrics
            are on ``config.train_eval_size`` training images, all in eval mode.
        test: eval-mode cost, loss and accuracy on the test split (empty if diverged).
        seconds: wall time of the training loop (logging included; NaN if diverged).
        diverged: the cost became NaN or infinite (see ``message``).
        message: why the run diverged, or where it was stopped.
        stopped: the run was stopped (:func:`fit`'s ``stop``) before ``config.n_updates``
            updates; ``params``, ``history`` and ``test`` are those of the step reached.
    """

    config: Config
    params: Params | None
    history: pd.DataFrame
    test: dict[str, float]
    seconds: float
    diverged: bool = False
    message: str = ""
    stopped: bool = False

    @property
    def test_accuracy(self) -> float:
        return self.test.get("accuracy", float("nan"))

    def __repr__(self) -> str:
        state = ("diverged" if self.diverged else "stopped" if self.stopped else "finished")
        return (f"Result({_describe(self.config)} {list(self.config.hidden)}, {state}: test "
                f"{100 * self.test_accuracy:.2f}%, val {100 * self.val_accuracy:.2f}%, "
                f"{self.seconds:.1f} s, {len(self.history)} logged steps)")

    @property
    def val_accuracy(self) -> float:
        if self.diverged or not len(self.history):
            return float("nan")
        return float(self.history["val_accuracy"].iloc[-1])


#: BLAS threads :func:`fit` trains with unless told otherwise: the study's runs use one, and
#: OpenBLAS sums a product in another order with more threads, so the last digits (and over
#: thousands of updates, the trained network) would depend on the caller's core count.
BLAS_THREADS = 1
#: A learning rate above this is large for plain SGD on normalised inputs, whatever the
#: schedule: a divergence there is blamed on the rate, not on the initial weights.
SMALL_ETA = 1.0


def fit(
    config: Config, data: Dataset, *, progress: bool = True,
    callback: Callable[[int, Params], None] | None = None,
    rows: list[dict] | None = None, stop: threading.Event | None = None,
    blas_threads: int | None = BLAS_THREADS,
) -> Result:
    """Train the network of ``config`` on ``data`` with mini-batch gradient descent.

    The training set is reshuffled every epoch (the last incomplete batch of an epoch is
    dropped so that every BN batch has ``batch_size`` rows); with ``flip`` or ``shift`` each
    mini-batch is augmented (:func:`~bnnet.core.augment.augment_batch`); the learning rate
    follows :func:`~bnnet.core.schedule.cyclical_eta` for ``config.n_updates`` updates, with
    the optimizer of ``config.optimizer``, each step on the path of ``config.kernels``
    (:data:`STEPS`: compiled kernels or the NumPy reference); BN running statistics are
    updated after every step with factor ``alpha`` (set to the first batch's statistics at
    step 0). Cost, loss and accuracy on the training and validation sets are logged every
    ``log_every`` updates and at the end.

    Args:
        config: what to train.
        data: the dataset; ``data.X_train`` is cast to ``config.dtype`` if needed.
        progress: show a tqdm progress bar.
        callback: called as ``callback(step, params)`` at every logged step (0 included),
            e.g. to record per-layer statistics; it must not modify ``params``.
        rows: a list that receives each history row (a dict of ``HISTORY_COLUMNS``) as it
            is logged, before ``callback``: another thread can read it to watch the run.
        stop: an event checked after every update; once it is set (from another thread,
            or from ``callback``), the step reached is logged and the run ends with
            ``Result.stopped``. Neither ``rows`` nor ``stop`` changes any number.
        blas_threads: BLAS threads for the run (:data:`BLAS_THREADS`, one, as every run of
            the report: then ``fit`` gives the report's numbers in any process on any core
            count). ``None`` leaves the process's setting: faster for a wide net on many
            cores, but the last digits then depend on the number of threads.

    Raises:
        TypeError: ``data`` is not a :class:`~bnnet.core.data.Dataset` (or the two
            arguments are swapped).
        ValueError: the data do not fit the configuration.
        TrainingDivergedError: the cost became NaN or infinite (e.g. eta_max too large).

    Examples
    --------
    A net with one hidden layer (BN before the ReLU, the default) on random data whose class
    the first input decides (100 updates, under a second):

    >>> import numpy as np
    >>> import bnnet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 20)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> data = bnnet.Dataset.from_arrays(X[:200], y[:200], X[200:], y[200:])
    >>> config = bnnet.Config(hidden=[16], n_s=50, cycles=1, batch_size=20)
    >>> result = bnnet.fit(config, data, progress=False)
    >>> result.diverged, result.stopped
    (False, False)
    >>> len(result.history), list(result.history.columns[:4])
    (11, ['step', 'epoch', 'eta', 'train_cost'])
    >>> 0.5 < result.test_accuracy <= 1.0  # a fraction of the test set
    True

    On CIFAR-10 with the course's settings (20 epochs, about 15 s for this net):

    >>> cifar = bnnet.load_cifar10()  # doctest: +SKIP
    >>> course = bnnet.Config(hidden=bnnet.THREE_LAYER, bn="before")
    >>> result = bnnet.fit(course, cifar)  # doctest: +SKIP
    """
    if isinstance(config, Dataset) and isinstance(data, Config):
        raise TypeError("fit takes the configuration first: fit(config, data), not "
                        "fit(data, config)")
    if not isinstance(data, Dataset):
        raise TypeError(
            f"fit takes a bnnet Dataset, got {type(data).__name__}: load one with "
            "bnnet.load_cifar10(), or wrap arrays with bnnet.Dataset.from_arrays(X_train, "
            "y_train, X_val, y_val, X_test, y_test)")
    if blas_threads is None:
        return _fit(config, data, progress, callback, rows, stop)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _fit(config, data, progress, callback, rows, stop)


def _fit(config: Config, data: Dataset, progress: bool,
         callback: Callable[[int, Params], None] | None, rows: list[dict] | None,
         stop: threading.Event | None) -> Result:
    X, y = training_inputs(config, data)
    if rows:
        raise ValueError(f"rows has {len(rows)} entries already: pass an empty list, which "
                         "fit fills with the history rows of this run")
    # one stream per random choice, in the order of earlier versions
    init_rng, shuffle_rng, eval_rng, augment_rng, dropout_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5))
    params = init_params(config, X.shape[1], data.n_classes, init_rng)
    optimizer = OPTIMIZERS[config.optimizer](params, config.lam)
    step_fn = STEPS[config.kernels](params, config, optimizer, X, y, data)
    etas = cyclical_eta(np.arange(config.n_updates + 1), config.eta_min, config.eta_max,
                        config.n_s, config.eta_decay)
    history = History(config, data, X, y, params, etas, eval_rng, callback, rows)
    log_every = config.log_every or max(1, config.n_s // 5)
    bar = tqdm(total=config.n_updates, disable=not progress, desc=_describe(config),
               unit="step", mininterval=0.5, leave=False)
    stopped_at = None
    start = time.perf_counter()
    # a diverging run overflows; the cost check below turns that into one clear error
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), bar:
        history.log(0)
        for step, (rows, draws) in enumerate(minibatches(len(X), config, shuffle_rng,
                                                         augment_rng)):
            alpha = 0.0 if step == 0 else config.alpha
            cost = step_fn(rows, draws, etas[step], alpha, dropout_rng)
            if not np.isfinite(cost):
                raise divergence_error(config, step, cost, etas[step], history.frame(), params)
            bar.update()
            if step == 0:  # the first step's warm-up (compiling, the first log) is no rate
                bar.reset()
                bar.update()
            stopping = stop is not None and stop.is_set() and step + 1 < config.n_updates
            if stopping or (step + 1) % log_every == 0 or step + 1 == config.n_updates:
                history.log(step + 1)
                bar.set_postfix(val_acc=f"{history.rows[-1]['val_accuracy']:.3f}",
                                refresh=False)
            if stopping:
                stopped_at = step + 1
                break
    seconds = time.perf_counter() - start
    test = evaluate(params, data.X_test.astype(config.np_dtype, copy=False), data.y_test, config)
    if stopped_at is None:
        return Result(config, params, history.frame(), test, seconds)
    return Result(config, params, history.frame(), test, seconds, stopped=True,
                  message=f"stopped at update step {stopped_at} of {config.n_updates}")


def training_inputs(config: Config, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The training inputs in ``config.dtype`` and their labels, checked against
    ``config`` (a clear ``ValueError`` before any training)."""
    X, y = data.X_train, data.y_train
    n, d_in = X.shape
    if config.batch_size > n:
        raise ValueError(
            f"batch_size={config.batch_size} is larger than the training set ({n} images); "
            "use a smaller batch_size or more training data"
        )
    if (config.flip or config.shift or config.test_flip) and d_in != IMAGE_SIZE:
        raise ValueError(
            f"flip/shift augmentation needs 32 x 32 x 3 images ({IMAGE_SIZE} inputs), the "
            f"data have {d_in}; set flip=False, shift=0 and test_flip=False"
        )
    return (X if X.dtype == config.np_dtype else X.astype(config.np_dtype)), y


def minibatches(
    n: int, config: Config, shuffle_rng: np.random.Generator,
    augment_rng: np.random.Generator,
) -> Iterator[tuple[np.ndarray, Draws | None]]:
    """``config.n_updates`` mini-batches of a training set of ``n`` images, as ``(rows,
    draws)``: which rows (a new permutation every epoch, the last incomplete batch of an
    epoch dropped) and how each image is flipped and shifted
    (:func:`~bnnet.core.augment.augment_draws`; ``None`` when ``config`` augments nothing).
    The step gathers the batch itself."""
    size = config.batch_size
    augment = config.flip or config.shift
    step = 0
    while step < config.n_updates:
        order = shuffle_rng.permutation(n)
        for j in range(min(n // size, config.n_updates - step)):
            draws = (augment_draws(augment_rng, size, flip=config.flip, shift=config.shift)
                     if augment else None)
            yield order[j * size : (j + 1) * size], draws
            step += 1


def train_step(params: Params, X: np.ndarray, y: np.ndarray, config: Config, eta: float,
               alpha: float, optimizer: SGD | Adam, *, dW_out: list | None = None,
               rng: np.random.Generator | None = None) -> float:
    """One update on the mini-batch ``(X, y)``, in place; returns its train-mode cost.

    The optimizer updates every trained parameter; for BN layers running = alpha * running
    + (1 - alpha) * batch statistic (alpha = 0 at the first step starts the running
    statistics at the batch's). A non-finite cost changes nothing. ``dW_out``: reusable
    buffers for the W gradients (``[np.empty_like(p["W"]) ...]``); ``rng``: draws the
    dropout masks.
    """
    result = forward_backward(params, X, y, config, l2_in_grads=False, dW_out=dW_out,
                              rng=rng)
    if np.isfinite(result.cost):
        optimizer.update(params, result.grads, float(eta))
        update_running_statistics(params, result.batch_stats, alpha)
    return result.cost


class ReferenceStep:
    """The NumPy training step (``Config.kernels="numpy"``): gathers a batch of the training
    inputs ``X`` (N, D) in ``config.dtype`` and labels ``y`` (N,) with :func:`numpy.take`,
    augments it (:func:`~bnnet.core.augment.apply_augmentation`), and updates with
    :func:`train_step`, on buffers reused from step to step. Called like
    :class:`~bnnet.core.fast.FastStep` (``data`` is not needed here)."""

    def __init__(self, params: Params, config: Config, optimizer: SGD | Adam,
                 X: np.ndarray, y: np.ndarray, data: Dataset | None = None):
        self.params, self.config, self.optimizer, self.X, self.y = params, config, optimizer, X, y
        # large arrays allocated anew each step cost page faults that were measured to
        # double the epoch time
        self.dW_out = [np.empty_like(p["W"]) for p in params]
        self.X_batch = np.empty((config.batch_size, X.shape[1]), config.np_dtype)

    def gather(self, rows: np.ndarray, draws: Draws | None) -> tuple[np.ndarray, np.ndarray]:
        """The batch ``(X[rows] augmented as draws say, y[rows])``."""
        np.take(self.X, rows, axis=0, out=self.X_batch)
        batch = self.X_batch if draws is None else apply_augmentation(
            self.X_batch, draws, flip=self.config.flip, shift=self.config.shift)
        return batch, self.y[rows]

    def update(self, X: np.ndarray, y: np.ndarray, eta: float, alpha: float,
               rng: np.random.Generator | None = None) -> float:
        """One update on the batch ``(X, y)``; returns its train-mode cost."""
        return train_step(self.params, X, y, self.config, eta, alpha, self.optimizer,
                          dW_out=self.dW_out, rng=rng)

    def __call__(self, rows: np.ndarray, draws: Draws | None, eta: float, alpha: float,
                 rng: np.random.Generator | None = None) -> float:
        return self.update(*self.gather(rows, draws), eta, alpha, rng)


#: ``Config.kernels`` -> the class that performs a training step.
STEPS = {"numpy": ReferenceStep, "numba": FastStep}


def update_running_statistics(params: Params, batch_stats: list, alpha: float) -> None:
    """running = alpha * running + (1 - alpha) * batch, for every BN layer, in place."""
    for p, stats in zip(params, batch_stats, strict=True):
        if stats is not None:
            for key, batch_value in zip(("running_mean", "running_var"), stats, strict=True):
                p[key] *= alpha
                p[key] += (1 - alpha) * batch_value


class History:
    """The logged curves: eval-mode cost, loss and accuracy on a fixed random subset of
    ``config.train_eval_size`` training images and on the validation set."""

    def __init__(self, config: Config, data: Dataset, X: np.ndarray, y: np.ndarray,
                 params: Params, etas: np.ndarray, rng: np.random.Generator,
                 callback: Callable[[int, Params], None] | None = None,
                 rows: list[dict] | None = None):
        subset = _eval_subset(len(X), config.train_eval_size, rng)
        self.X_train, self.y_train = X[subset], y[subset]
        self.X_val, self.y_val = data.X_val.astype(config.np_dtype, copy=False), data.y_val
        self.config, self.params, self.etas, self.callback = config, params, etas, callback
        self.batches_per_epoch = len(X) // config.batch_size
        self.rows: list[dict] = [] if rows is None else rows

    def log(self, step: int) -> None:
        """Evaluate the current parameters and append one row (and call the callback)."""
        train = evaluate(self.params, self.X_train, self.y_train, self.config)
        val = evaluate(self.params, self.X_val, self.y_val, self.config)
        self.rows.append({
            "step": step, "epoch": step / self.batches_per_epoch,
            "eta": float(self.etas[step]),
            **{f"train_{k}": v for k, v in train.items()},
            **{f"val_{k}": v for k, v in val.items()},
        })
        if self.callback is not None:
            self.callback(step, self.params)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=HISTORY_COLUMNS)


#: A run that diverges within this many updates, at a learning rate still small, fails
#: from its initial weights rather than from its learning rate.
EARLY = 10


def divergence_error(config: Config, step: int, cost: float, eta: float,
                     history: pd.DataFrame, params: Params) -> TrainingDivergedError:
    """The error of a run whose cost became ``cost``, with the likely cause: the initial
    scale for a run that fails in its first :data:`EARLY` updates at a learning rate below
    a tenth of ``eta_max``, else the learning rate."""
    # a rate above SMALL_ETA is large whatever the schedule: then the rate is the cause
    if step < EARLY and eta < min(0.1 * config.eta_max, SMALL_ETA):
        scale = (f'init="normal" with sigma={config.sigma:g}' if config.init == "normal"
                 else f"init={config.init!r}")
        tries = (["a smaller sigma or init=\"he\""] if config.init == "normal"
                 else [] if config.init == "he" else ['init="he"'])
        tries += [] if config.has_bn else ['bn="before"']
        cause = (f"this early the learning rate is still small (eta={eta:.3g}), so "
                 f"the initial weights are the likely cause ({scale} on {config.n_layers} "
                 "layers)" + (f": try {' or '.join(tries)}" if tries else
                              ": check the input normalisation"))
    elif config.eta_max > config.eta_min:
        cause = (f"lower eta_max (now {config.eta_max:g}) or check the input normalisation")
    else:
        cause = ("the learning rate is already at its minimum: check the input "
                 "normalisation and the initial weights")
    return TrainingDivergedError(
        f"training diverged: the cost became {cost} at update step {step} (eta={eta:.3g}); "
        f"{cause}. The history up to that step is in error.history.",
        step, history, params,
    )


def _eval_subset(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def _describe(config: Config) -> str:
    bn = f"BN {bn_placement(config)}" if config.has_bn else "no BN"
    return f"{config.n_layers}-layer {bn}"
