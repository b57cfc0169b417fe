"""Train the course-default 3- and 9-layer nets with and without BN; print a table.

Usage: python scripts/course_defaults.py [--seeds 0 1 2] [--out report/results/course_defaults.csv]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import bnnet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    data = bnnet.load_cifar10()
    print(f"data loaded in {time.perf_counter() - start:.1f} s from {data.source}")
    rows = []
    for name, hidden in [("3-layer", bnnet.THREE_LAYER), ("9-layer", bnnet.NINE_LAYER)]:
        for batch_norm in (False, True):
            for seed in args.seeds:
                cfg = bnnet.Config(hidden=hidden, batch_norm=batch_norm, seed=seed)
                result = bnnet.fit(cfg, data, progress=False)
                epochs = cfg.n_updates / (len(data.y_train) // cfg.batch_size)
                rows.append({"net": name, "batch_norm": batch_norm, "seed": seed,
                             "test_accuracy": result.test_accuracy,
                             "val_accuracy": result.val_accuracy,
                             "seconds": result.seconds,
                             "seconds_per_epoch": result.seconds / epochs})
                print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1))
    table = pd.DataFrame(rows)
    summary = table.groupby(["net", "batch_norm"]).agg(
        test_mean=("test_accuracy", "mean"), test_std=("test_accuracy", "std"),
        sec_per_epoch=("seconds_per_epoch", "mean"), runs=("seed", "count"))
    print(summary.to_string())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
