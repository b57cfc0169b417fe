"""The numbers: everything that decides what a training run computes.

Configuration, layers, network, optimizers (the NumPy reference), the fast training step
and its compiled kernels, training loop, learning-rate schedule, augmentation, reading and
normalising the data, gradient checks and per-layer diagnostics. The run cache's key holds
:data:`NUMERICS_VERSION`, not this package's source: raise it when a change here alters
what a run computes (``tests/test_golden.py`` fails until it is raised and the golden runs
are rewritten). Imports only :mod:`bnnet.files`,
:mod:`bnnet.validation` and :mod:`bnnet.cifar10` from the rest of bnnet.
"""

#: The version of the arithmetic of training and of the gradient checks. Raise it by hand
#: whenever a change alters any number they compute (another order of operations, a new
#: default, a kernel rewritten), then rewrite the golden runs:
#: ``python -m bnnet.study.golden --write``. It is part of the run cache's key
#: (:mod:`bnnet.study.cache`), so the cache never returns a result the code would not give.
NUMERICS_VERSION = 1
