"""Smoke test on the real CIFAR-10 copy named by BNNET_DATA_DIR (skipped without it)."""

import numpy as np

from bnnet import Config, fit, load_cifar10


def test_real_data_loads_with_the_course_split(real_data_dir):
    data = load_cifar10(real_data_dir)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (45_000, 5_000, 10_000)
    assert data.X_train.shape[1] == 3072 and data.X_train.dtype == np.float32
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert abs(float(data.X_train.mean())) < 1e-4


def test_three_layer_bn_short_run_is_clearly_above_chance(real_data_dir):
    data = load_cifar10(real_data_dir)
    cfg = Config(hidden=(50, 50), bn="before", n_s=450, cycles=1)  # 2 epochs
    result = fit(cfg, data, progress=False)
    assert result.test_accuracy > 0.40, result.test
    assert result.history["val_accuracy"].iloc[-1] > 0.40
