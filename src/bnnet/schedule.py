"""Triangular cyclical learning rate (Smith, 2017)."""

from __future__ import annotations

import numpy as np


def cyclical_eta(t: int | np.ndarray, eta_min: float, eta_max: float, n_s: int) -> np.ndarray:
    """Learning rate at update step ``t``.

    It rises linearly from ``eta_min`` at t = 2 l n_s to ``eta_max`` at t = (2 l + 1) n_s and
    falls back to ``eta_min`` at t = 2 (l + 1) n_s, for every cycle l = 0, 1, ...

    Args:
        t: update step(s), >= 0, scalar or array.
        eta_min, eta_max: the two ends of the cycle.
        n_s: half the cycle length, in updates.

    Returns:
        eta with the shape of ``t`` (a 0-d array for a scalar ``t``).
    """
    t = np.asarray(t)
    if np.any(t < 0):
        raise ValueError("the update step t must be >= 0")
    phase = np.mod(t, 2 * n_s) / n_s  # in [0, 2): rising in [0, 1], falling in [1, 2)
    frac = np.where(phase <= 1, phase, 2 - phase)
    return eta_min + frac * (eta_max - eta_min)
