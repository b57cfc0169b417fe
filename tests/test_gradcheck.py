import numpy as np
import pytest

from bnnet import NINE_LAYER, Config, check_gradients, init_params
from bnnet.core.gradcheck import numerical_gradients, relative_error

DEPTHS = {2: (50,), 3: (50, 50), 4: (50, 30, 20), 9: NINE_LAYER}
BN_MODES = {"no BN": dict(bn="none"), "BN before ReLU": dict(bn="before"),
            "BN after ReLU": dict(bn="after"),
            "BN before ReLU + dropout": dict(bn="before", dropout=0.3),
            "BN after ReLU + dropout": dict(bn="after",
                                            dropout=0.3),
            "BN before ReLU + label smoothing": dict(bn="before", label_smoothing=0.2)}


@pytest.fixture(scope="module")
def small_batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((20, 15)), rng.integers(0, 10, 20)


@pytest.mark.parametrize("lam", [0.0, 0.1])
@pytest.mark.parametrize("bn", list(BN_MODES))
@pytest.mark.parametrize("layers", list(DEPTHS))
def test_analytic_gradients_match_centred_differences(layers, bn, lam, small_batch):
    X, y = small_batch
    cfg = Config(hidden=DEPTHS[layers], lam=lam, **BN_MODES[bn])
    table = check_gradients(cfg, X, y, n_classes=10)
    expected = {"W", "b"} | ({"gamma", "beta"} if cfg.has_bn else set())
    assert set(table["parameter"]) == expected
    assert len(table[table.parameter == "W"]) == layers
    worst = table.loc[table.max_rel_error.idxmax()]
    assert table.max_rel_error.max() < 1e-6, worst.to_dict()


def test_gradient_check_catches_a_wrong_gradient(small_batch):
    """The check is not vacuous: a wrong BN gradient gives a large relative error."""
    X, y = small_batch
    cfg = Config(hidden=(20,), dtype="float64", lam=0.0)
    params = init_params(cfg, X.shape[1], 10)
    numeric = numerical_gradients(params, X, y, cfg, 1e-6)
    table = check_gradients(cfg, X, y, n_classes=10, params=params)
    assert table.max_rel_error.max() < 1e-6
    wrong = numeric[0]["gamma"] * 1.01
    assert relative_error(wrong, numeric[0]["gamma"]).max() > 1e-3


def test_relative_error_formula():
    a, b = np.array([1.0, 0.0, 1e-20]), np.array([1.1, 0.0, 0.0])
    np.testing.assert_allclose(relative_error(a, b, eps=1e-12), [0.1 / 2.1, 0.0, 1e-8])


def test_grid_of_checks_is_cached_and_labelled(small_batch, tmp_path, monkeypatch):
    from bnnet.core.gradcheck import check_gradients
    from bnnet.study.cache import memory
    from bnnet.study.gradients import check_gradients_grid

    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path))
    X, y = small_batch[0][:, :5], small_batch[1]
    configs = [Config(hidden=(6,), bn="none"), Config(hidden=(6,), lam=0.1)]
    first = check_gradients_grid(configs, X, y, n_classes=10, cache=True)
    assert memory(simd=True).cache(check_gradients).check_call_in_cache(
        configs[0], np.ascontiguousarray(X), y, None, n_classes=10)
    again = check_gradients_grid(configs, X, y, n_classes=10, cache=True)
    assert first.equals(again)
    assert set(first["bn"]) == {"none", "before the ReLU"} and set(first["lam"]) == {0.005, 0.1}
    assert (first["max_rel_error"] < 1e-6).all()


def test_a_corrupt_cached_check_costs_one_line(small_batch, tmp_path, monkeypatch, caplog):
    import logging

    from bnnet.study.gradients import check_gradients_grid

    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path))
    X, y = small_batch[0][:, :5], small_batch[1]
    configs = [Config(hidden=(6,), bn="none"), Config(hidden=(6,), lam=0.1)]
    first = check_gradients_grid(configs, X, y, n_classes=10, n_jobs=2, cache=True)
    outputs = sorted(tmp_path.rglob("output.pkl"))
    assert len(outputs) == 2
    outputs[1].write_bytes(outputs[1].read_bytes()[:50])
    with caplog.at_level(logging.WARNING):
        again = check_gradients_grid(configs, X, y, n_classes=10, n_jobs=2, cache=True)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(messages) == 1 and "\n" not in messages[0], messages
    assert "cached result of gradient check" in messages[0]
    assert "checking it again" in messages[0]
    assert first.equals(again)
