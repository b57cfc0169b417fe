"""Triangular cyclical learning rate (Smith, 2017), optionally with decaying peaks."""

from __future__ import annotations

import numpy as np


def cyclical_eta(
    t: int | np.ndarray, eta_min: float, eta_max: float, n_s: int, decay: float = 1.0
) -> np.ndarray:
    """Learning rate at update step ``t``.

    In cycle l = 0, 1, ... it rises linearly from ``eta_min`` at t = 2 l n_s to the peak
    ``max(eta_min, eta_max * decay**l)`` at t = (2 l + 1) n_s and falls back to ``eta_min``
    at t = 2 (l + 1) n_s. ``decay=1`` is the plain triangular schedule.

    Args:
        t: update step(s), >= 0, scalar or array.
        eta_min, eta_max: the two ends of the first cycle.
        n_s: half the cycle length, in updates.
        decay: factor applied to the peak from one cycle to the next, in (0, 1].

    Returns:
        eta with the shape of ``t`` (a 0-d array for a scalar ``t``).
    """
    t = np.asarray(t)
    if np.any(t < 0):
        raise ValueError("the update step t must be >= 0")
    if not 0 < decay <= 1:
        raise ValueError(f"decay={decay}: the peak decay factor must be in (0, 1]")
    cycle, within = np.divmod(t, 2 * n_s)
    phase = within / n_s  # in [0, 2): rising in [0, 1], falling in [1, 2)
    frac = np.where(phase <= 1, phase, 2 - phase)
    peak = np.maximum(eta_min, eta_max * decay**cycle.astype(float))
    return eta_min + frac * (peak - eta_min)
