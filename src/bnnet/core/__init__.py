"""The numbers: everything that decides what a training run computes.

Configuration, layers, network, optimizers (the NumPy reference), the fast training step
and its compiled kernels, training loop, learning-rate schedule, augmentation, reading and
normalising the data, gradient checks and per-layer diagnostics. The run cache's key
hashes every module of this package (:func:`bnnet.study.cache.code_key`), so a change here
retrains and a change anywhere else does not. Imports only :mod:`bnnet.files`,
:mod:`bnnet.validation` and :mod:`bnnet.cifar10` from the rest of bnnet.
"""
