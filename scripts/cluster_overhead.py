"""The cost of the Dask engine: one sweep (the lambda search's coarse stage) on a
LocalCluster of 2 worker processes against run_many(n_jobs=2) on the same machine.

Usage: python scripts/cluster_overhead.py [--full] [--trials 20]

Quick sizes by default (3,000 training images, n_s = 60, one cycle: about a second per
run, so the per-run overhead shows); --full uses the course sizes. Both arms train every
run (no cache) and load the data once per worker process.
"""

from __future__ import annotations

import bnnet.blas  # first: pins the BLAS kernel before NumPy loads

import argparse
import time

import numpy as np

import bnnet
from bnnet.study.jobs import DataSpec
from bnnet.study.runs import run_many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="course sizes (45,000 images)")
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    from distributed import LocalCluster

    spec = DataSpec(n_train=None if args.full else 3000)
    n_s, cycles = (2250, 2) if args.full else (60, 1)
    lams = 10 ** np.random.default_rng(0).uniform(-5, -1, args.trials)
    configs = [bnnet.Config(hidden=bnnet.THREE_LAYER, n_s=n_s, cycles=cycles, lam=float(lam))
               for lam in lams]

    start = time.perf_counter()
    local = run_many(configs, spec, n_jobs=2, cache=False, desc="n_jobs=2")
    local_s = time.perf_counter() - start

    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        startup_s = time.perf_counter() - start
        start = time.perf_counter()
        remote = run_many(configs, spec, scheduler=cluster.scheduler_address, cache=False,
                          desc="LocalCluster(2)")
        cluster_s = time.perf_counter() - start
    same = all(a.test == b.test for a, b in zip(local, remote, strict=True))
    print(f"{len(configs)} runs, {'full' if args.full else 'quick'} sizes: "
          f"n_jobs=2 {local_s:.1f} s, LocalCluster(2 workers) {cluster_s:.1f} s "
          f"(+ {startup_s:.1f} s to start it): ratio {cluster_s / local_s:.2f}, "
          f"overhead {(cluster_s - local_s) / len(configs):+.2f} s per run; "
          f"identical results: {same}; training time inside a run (fit): "
          f"{np.mean([r.seconds for r in local]):.2f} s locally, "
          f"{np.mean([r.seconds for r in remote]):.2f} s on the cluster")


if __name__ == "__main__":
    main()
