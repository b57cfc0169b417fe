"""Tables of runs and analyses of trained nets: one row per run, mean ± std per group, the
histories in one long table, and trained nets evaluated again (other BN statistics,
test-time flips)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from bnnet.core.network import evaluate, population_statistics
from bnnet.core.train import HISTORY_COLUMNS
from bnnet.study.jobs import DataSpec, RunResult
from bnnet.study.stats import mean_std, percent_pm


def results_table(results: Iterable[RunResult], columns: Iterable[str] = ()) -> pd.DataFrame:
    """One row per run: the chosen config fields and the final metrics."""
    rows = [r.row() for r in results]
    keep = [*columns, "val_accuracy", "test_accuracy", "seconds", "diverged"]
    return pd.DataFrame(rows)[keep]


def summarise(table: pd.DataFrame, by: list[str], value: str = "test_accuracy") -> pd.DataFrame:
    """Mean, std and count of ``value`` per group, plus a "mean ± std" text column."""
    g = table.groupby(by, sort=False)[value]
    moments = g.agg(lambda v: mean_std(v.dropna()))
    out = pd.DataFrame({"mean": moments.str[0], "std": moments.str[1], "runs": g.count()})
    out[value] = [percent_pm(m, s) for m, s in zip(out["mean"], out["std"], strict=True)]
    return out.reset_index()


def stacked_histories(results: Iterable[RunResult], labels: Iterable[str]) -> pd.DataFrame:
    """All histories in one long DataFrame with a ``label`` and a ``seed`` column."""
    frames = [r.history.assign(label=label, seed=r.config.seed)
              for r, label in zip(results, labels, strict=True)]
    if not frames:
        return pd.DataFrame(columns=[*HISTORY_COLUMNS, "label", "seed"])
    return pd.concat(frames, ignore_index=True)


def bn_statistics_accuracy(results: Iterable[RunResult], spec: DataSpec) -> pd.DataFrame:
    """Test accuracy of each trained BN run with three choices of BN statistics.

    ``running``: the running averages of training (as trained); ``precise``: mean and
    variance recomputed over the whole training set; ``adaptive``: recomputed over the
    (unlabelled) test inputs. See :func:`bnnet.core.network.population_statistics`.

    Returns:
        one row per run (diverged runs and runs without BN are skipped): ``alpha``,
        ``seed`` and the three accuracies.
    """
    data = spec.load()
    rows = []
    for r in results:
        if r.diverged or r.params is None or not r.config.has_bn:
            continue
        config = r.config
        X_train = data.X_train.astype(config.np_dtype, copy=False)
        X_test = data.X_test.astype(config.np_dtype, copy=False)
        accuracy = {}
        for name, X in (("precise", X_train), ("adaptive", X_test)):
            params = population_statistics(r.params, X, config)
            accuracy[name] = evaluate(params, X_test, data.y_test, config)["accuracy"]
        rows.append({"alpha": config.alpha, "seed": config.seed,
                     "running": r.test_accuracy, **accuracy})
    return pd.DataFrame(rows, columns=["alpha", "seed", "running", "precise", "adaptive"])


def flip_test_accuracy(results: Iterable[RunResult], spec: DataSpec) -> pd.DataFrame:
    """Test accuracy of each trained run evaluated as trained and with test-time flips.

    ``plain``: each test image once; ``flipped``: the class probabilities of each image
    and its mirror image averaged (``Config.test_flip``). The same trained net is evaluated
    both ways, so the two columns pair by ``seed``.

    Returns:
        one row per run that did not diverge: ``seed``, ``plain`` and ``flipped``.
    """
    data = spec.load()
    rows = []
    for r in results:
        if r.diverged or r.params is None:
            continue
        config = r.config
        X_test = data.X_test.astype(config.np_dtype, copy=False)
        plain = evaluate(r.params, X_test, data.y_test, config.replace(test_flip=False))
        flipped = evaluate(r.params, X_test, data.y_test, config.replace(test_flip=True))
        rows.append({"seed": config.seed, "plain": plain["accuracy"],
                     "flipped": flipped["accuracy"]})
    return pd.DataFrame(rows, columns=["seed", "plain", "flipped"])


def curve_reading(histories: pd.DataFrame, label: str) -> dict[str, float]:
    """What the learning curves of ``label`` (mean over seeds) say at a glance.

    Returns:
        ``gap``: final training minus validation accuracy (a fraction); ``peak_epoch``: the
        epoch where validation accuracy peaks and ``final_epoch``; ``from_peak``: how far the
        final validation accuracy is below the peak; ``last_gain``: the change of validation
        accuracy over the last tenth of training (> 0: still rising).
    """
    mean = (histories[histories["label"] == label]
            .groupby("step", sort=True)[["epoch", "train_accuracy", "val_accuracy"]].mean())
    if mean.empty:
        raise KeyError(f"curve_reading: no histories labelled {label!r}")
    final, peak = mean.iloc[-1], mean["val_accuracy"].idxmax()
    tenth = mean[mean["epoch"] >= 0.9 * final["epoch"]]
    return {"gap": float(final["train_accuracy"] - final["val_accuracy"]),
            "peak_epoch": float(mean.loc[peak, "epoch"]), "final_epoch": float(final["epoch"]),
            "from_peak": float(mean["val_accuracy"].max() - final["val_accuracy"]),
            "last_gain": float(tenth["val_accuracy"].iloc[-1] - tenth["val_accuracy"].iloc[0])}


def mean_curve(histories: pd.DataFrame, label: str, column: str = "val_accuracy") -> pd.Series:
    """``column`` of the runs labelled ``label``, averaged over seeds at each logged step
    (indexed by step)."""
    runs = histories[histories["label"] == label]
    if runs.empty:
        raise KeyError(f"mean_curve: no histories labelled {label!r}")
    return runs.groupby("step", sort=True)[column].mean()


def cycle_reading(histories: pd.DataFrame, label: str, n_s: int, cycles: int,
                  column: str = "val_accuracy") -> pd.DataFrame:
    """``column`` (mean over seeds; validation accuracy by default) where each cycle of the
    cyclical learning rate peaks (step ``(2c + 1) n_s``, eta at its largest) and where it ends
    (``2 (c + 1) n_s``, eta back at its smallest): one row per cycle, with ``dip`` = end minus
    peak."""
    curve = mean_curve(histories, label, column)
    rows = [{"cycle": c + 1, "at_peak_eta": curve.get((2 * c + 1) * n_s, float("nan")),
             "at_end": curve.get(2 * (c + 1) * n_s, float("nan"))} for c in range(cycles)]
    table = pd.DataFrame(rows)
    return table.assign(dip=table["at_end"] - table["at_peak_eta"])


#: "Far below" BN's ε: a pre-activation variance under this fraction of it, which BN's
#: division by sqrt(var + ε) shrinks instead of normalising.
FAR_BELOW = 0.1


def collapse_layer(variance: pd.DataFrame, sigma: float, eps: float,
                   far: float = FAR_BELOW) -> int | None:
    """The first hidden layer from which every hidden layer's pre-activation variance is
    below ``far`` × ``eps`` in every seed, in the runs at ``sigma`` with BN's ``eps``
    (``variance``: one row per layer, sigma, eps and seed, as section 4's
    ``04_epsilon_variance`` table; the last layer, the scores, has no BN and is left out).
    None if the last hidden layer is not that far below."""
    runs = variance[(variance["sigma"] == sigma) & (variance["eps"] == eps)]
    hidden = runs[runs["layer"] < runs["layer"].max()]
    worst = hidden.groupby("layer")["variance"].max()
    below = worst < far * eps
    return next((int(k) for k in worst.index if below.loc[k:].all()), None)
