"""bnnet: batch normalization in k-layer fully-connected networks, in NumPy.

The main entry points::

    data = bnnet.load_cifar10()                    # normalised 45k / 5k / 10k splits
    result = bnnet.fit(bnnet.Config(hidden=[50, 50], bn="before"), data)
    result.test_accuracy, result.history           # float, pandas DataFrame

The package has three floors, each importing only from those below it: :mod:`bnnet.core`
(the numbers of one run), :mod:`bnnet.study` (many runs into tables: the run cache, the
Dask backend, analyses, search, statistics), and on the top floor two rooms that never
import each other, :mod:`bnnet.report` (tables into notebooks and the PDF) and
:mod:`bnnet.explore` (the live explorer of ``notebooks/00_explore.ipynb``). Beneath them,
modules that compute no number: :mod:`bnnet.files`, :mod:`bnnet.validation`,
:mod:`bnnet.cifar10` (getting the data) and :mod:`bnnet.blas` (the BLAS kernel every run
uses, pinned when bnnet is imported).
"""

# first: pins OpenBLAS's kernel before anything loads NumPy (see bnnet.blas)
from bnnet.blas import BlasKernelWarning

from bnnet.cifar10 import DataError, download_cifar10, ensure_cifar10
from bnnet.core.config import NETS, NINE_LAYER, THREE_LAYER, Config, ConfigError
from bnnet.core.data import Dataset, load_cifar10
from bnnet.core.gradcheck import check_gradients, numerical_gradients, relative_error
from bnnet.core.network import cost_and_gradients, evaluate, forward, init_params
from bnnet.core.schedule import cyclical_eta
from bnnet.core.train import Result, TrainingDivergedError, fit

__version__ = "0.1.0"

__all__ = [
    "NETS",
    "NINE_LAYER",
    "THREE_LAYER",
    "BlasKernelWarning",
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
    "ensure_cifar10",
    "evaluate",
    "fit",
    "forward",
    "init_params",
    "load_cifar10",
    "numerical_gradients",
    "relative_error",
]
