import numpy as np
import pytest

from bnnet import cyclical_eta


@pytest.mark.parametrize("n_s", [1, 7, 2250])
def test_cycle_hits_both_ends(n_s):
    lo, hi = 1e-5, 1e-1
    assert cyclical_eta(0, lo, hi, n_s) == pytest.approx(lo)
    assert cyclical_eta(n_s, lo, hi, n_s) == pytest.approx(hi)
    assert cyclical_eta(2 * n_s, lo, hi, n_s) == pytest.approx(lo)
    assert cyclical_eta(3 * n_s, lo, hi, n_s) == pytest.approx(hi)


def test_cycle_is_linear_and_symmetric():
    n_s = 100
    t = np.arange(0, 4 * n_s + 1)
    eta = cyclical_eta(t, 0.0 + 1e-5, 1.0, n_s)
    np.testing.assert_allclose(eta[n_s // 2], 1e-5 + 0.5 * (1 - 1e-5))
    np.testing.assert_allclose(np.diff(eta[: n_s + 1]), (1 - 1e-5) / n_s)
    np.testing.assert_allclose(eta[: 2 * n_s + 1], eta[: 2 * n_s + 1][::-1])
    np.testing.assert_allclose(eta[: 2 * n_s], eta[2 * n_s : 4 * n_s])


def test_negative_step_is_rejected():
    with pytest.raises(ValueError, match="t must be >= 0"):
        cyclical_eta(-1, 1e-5, 1e-1, 10)


def test_decaying_peaks_shrink_by_the_factor_each_cycle_and_stop_at_eta_min():
    n_s, lo, hi = 10, 1e-4, 1e-1
    peaks = [float(cyclical_eta((2 * l + 1) * n_s, lo, hi, n_s, decay=0.5)) for l in range(4)]
    assert peaks == pytest.approx([hi, hi / 2, hi / 4, hi / 8])
    assert float(cyclical_eta(2 * n_s, lo, hi, n_s, decay=0.5)) == pytest.approx(lo)
    assert float(cyclical_eta(41 * n_s, lo, hi, n_s, decay=0.5)) == pytest.approx(lo)
    with pytest.raises(ValueError, match="decay"):
        cyclical_eta(0, lo, hi, n_s, decay=0.0)
