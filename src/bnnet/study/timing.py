"""Where a run's seconds go: the same training with one extra (augmentation, logging,
test-time flips) taken away at a time, so that each one's share of the time is measured
rather than guessed. ``scripts/profile_run.py`` writes the table the performance appendix
shows."""

from __future__ import annotations

import statistics

import pandas as pd

from bnnet.core.config import Config
from bnnet.core.data import Dataset
from bnnet.core.train import fit
from bnnet.study.provenance import run_flops

#: Each variant: its name, and the settings it changes (the run as trained has none).
VARIANTS: dict[str, dict[str, object]] = {
    "as trained": {},
    "without augmentation": {"flip": False, "shift": 0},
    "without logging": {"log_every": 10**9},
    "without test-time flips": {"test_flip": False},
    "bare (none of the three)": {"flip": False, "shift": 0, "log_every": 10**9,
                                 "test_flip": False},
}


def time_shares(config: Config, data: Dataset, *, updates: int, repeats: int = 3) -> pd.DataFrame:
    """Train ``config`` cut to ``updates`` steps (one cycle, the same log interval) in each of
    :data:`VARIANTS`, ``repeats`` times in turn (interleaved, so that a slower spell of the
    machine hits every variant alike), and time the training loop.

    Returns:
        one row per variant: ``variant``, ``updates``, ``seconds`` (the median),
        ``GFLOP/s`` (the training steps' arithmetic,
        :func:`~bnnet.study.provenance.run_flops`, over that median) and ``share`` (the
        fraction of the time as trained that the variant saves).
    """
    if updates < 2 or updates % 2:
        raise ValueError(f"updates={updates}: give an even number of at least 2 (one cycle "
                         "of two half-cycles)")
    cut = config.replace(n_s=updates // 2, cycles=1)
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(repeats):
        for name, change in VARIANTS.items():
            seconds[name].append(fit(cut.replace(**change), data, progress=False).seconds)
    flops = run_flops(cut.to_dict())
    median = {name: statistics.median(v) for name, v in seconds.items()}
    full = median["as trained"]
    return pd.DataFrame([{"variant": name, "updates": updates, "seconds": s,
                          "GFLOP/s": flops / s / 1e9, "share": (full - s) / full}
                         for name, s in median.items()])
