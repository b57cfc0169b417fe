"""bnnet: batch normalization in k-layer fully-connected networks, in NumPy.

The main entry points::

    data = bnnet.load_cifar10()                    # normalised 45k / 5k / 10k splits
    result = bnnet.fit(bnnet.Config(hidden=[50, 50], batch_norm=True), data)
    result.test_accuracy, result.history           # float, pandas DataFrame
"""

from bnnet.config import NINE_LAYER, THREE_LAYER, Config, ConfigError
from bnnet.data import DataError, Dataset, download_cifar10, load_cifar10
from bnnet.gradcheck import check_gradients, numerical_gradients, relative_error
from bnnet.network import (
    cost_and_gradients,
    evaluate,
    forward,
    init_params,
    predict,
)
from bnnet.schedule import cyclical_eta
from bnnet.train import Result, TrainingDivergedError, fit

__version__ = "0.1.0"

__all__ = [
    "NINE_LAYER",
    "THREE_LAYER",
    "Config",
    "ConfigError",
    "DataError",
    "Dataset",
    "Result",
    "TrainingDivergedError",
    "check_gradients",
    "cost_and_gradients",
    "cyclical_eta",
    "download_cifar10",
    "evaluate",
    "fit",
    "forward",
    "init_params",
    "load_cifar10",
    "numerical_gradients",
    "predict",
    "relative_error",
]
