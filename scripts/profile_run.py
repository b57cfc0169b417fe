"""Where a run's seconds go (``make profile``): the best network of section 5 trained for a
few thousand updates as trained and with augmentation, logging or test-time flips taken
away, interleaved, median of three; writes ``report/results/run_profile.csv``, which the
performance appendix shows. Run it on an otherwise idle machine (3.5 minutes here)."""

from __future__ import annotations

import bnnet.blas

import argparse
from pathlib import Path

import bnnet
from bnnet.files import PROJECT_ROOT
from bnnet.study.jobs import DataSpec
from bnnet.study.timing import time_shares

#: The best network of section 5, as its parameters cell defines it.
BEST = {"hidden": [500, 500], "flip": True, "shift": 2, "lam": 0.002, "test_flip": True,
        "log_every": 500}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000,
                        help="training steps of each timed run (default 1000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=None,
                        help="training images (default: all but the 1,000 kept for validation)")
    parser.add_argument("--out", type=Path,
                        default=PROJECT_ROOT / "report" / "results" / "run_profile.csv")
    args = parser.parse_args(argv)
    data = DataSpec(n_val=1000, n_train=args.n_train).load()
    table = time_shares(bnnet.Config(**BEST), data, updates=args.updates, repeats=args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
