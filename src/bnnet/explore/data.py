"""The explorer's data: CIFAR-10 kept in the kernel between runs, within a memory limit.

A run of the explorer asks for its training images by number (``n_train``); loading them
takes a few seconds, so the sets asked for last stay loaded (:data:`CACHE`), shared by every
explorer of the kernel (running the notebook's cell again does not load them again). The
cache is bounded by bytes, not by count: it holds at most :data:`CACHE_LIMIT` bytes, also
while it loads (it first lets go of the sets a new one would not fit beside), so a user who
tries 45,000 images, then 44,000, then 20,000 keeps one kernel's worth of data, not three.
Widget-free.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

from bnnet.core.config import Config
from bnnet.core.data import Dataset, load_cifar10
from bnnet.core.train import fit
from bnnet.explore.settings import ALL_TRAIN

#: the most bytes of data the explorer's cache holds: one full set of 45,000 training
#: images (:func:`cifar10_bytes`: 0.88 GB), or two of 10,000 (0.34 GB each)
CACHE_LIMIT = 1_000_000_000
#: bytes per image: 3,072 float32 inputs; a training image also keeps its uint8 pixels
#: (``Dataset.train_pixels``, which the fast path gathers its mini-batches from)
IMAGE_BYTES = 3072 * 4
TRAIN_IMAGE_BYTES = IMAGE_BYTES + 3072
#: CIFAR-10's validation and test images (the course's split)
N_VAL, N_TEST = 5_000, 10_000


def dataset_bytes(data: Dataset) -> int:
    """The bytes of ``data``'s arrays (inputs, labels, pixels, statistics)."""
    arrays = (data.X_train, data.y_train, data.X_val, data.y_val, data.X_test, data.y_test,
              data.train_pixels, data.mean, data.std)
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def cifar10_bytes(n_train: int | None) -> int:
    """About the bytes of :func:`~bnnet.core.data.load_cifar10` with ``n_train`` training
    images (``None``: all), before it is loaded (the labels and statistics aside)."""
    return (n_train or ALL_TRAIN) * TRAIN_IMAGE_BYTES + (N_VAL + N_TEST) * IMAGE_BYTES


class DataCache:
    """Datasets by key, the least recently used let go first, at most ``limit`` bytes.

    Args:
        load: ``load(key)`` loads the dataset of ``key``.
        limit: the most bytes held (:func:`dataset_bytes`). A dataset larger than the
            limit by itself is returned but not kept.
        estimate: ``estimate(key)``: about the bytes of the dataset of ``key`` before it
            is loaded; the cache then lets go of enough first that the held sets and the
            new one together stay within the limit (without it, only after loading).

    One load at a time: a caller that asks while another loads waits, and then finds the
    set the other loaded if it asked for the same.
    """

    def __init__(self, load: Callable[[Hashable], Dataset], limit: int = CACHE_LIMIT,
                 estimate: Callable[[Hashable], int] | None = None):
        self.load, self.limit, self.estimate = load, limit, estimate
        self._sets: OrderedDict[Hashable, tuple[Dataset, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.peak = 0  # the most bytes held at once, a set being loaded included

    @property
    def held(self) -> int:
        """The bytes held now."""
        return sum(size for _, size in self._sets.values())

    def keys(self) -> list[Hashable]:
        """The keys held, the least recently used first."""
        return list(self._sets)

    def get(self, key: Hashable) -> Dataset:
        """The dataset of ``key``, loaded unless held."""
        with self._lock:
            if key in self._sets:
                self._sets.move_to_end(key)
                return self._sets[key][0]
            if self.estimate is not None:
                self._evict(self.limit - self.estimate(key))
            data = self.load(key)
            size = dataset_bytes(data)
            self.peak = max(self.peak, self.held + size)
            if size <= self.limit:
                self._evict(self.limit - size)
                self._sets[key] = (data, size)
            return data

    def clear(self) -> None:
        """Let go of every dataset."""
        with self._lock:
            self._sets.clear()

    def _evict(self, room: int) -> None:
        """Let go of the least recently used sets until at most ``room`` bytes are held."""
        while self._sets and self.held > max(room, 0):
            self._sets.popitem(last=False)


#: the CIFAR-10 sets of this kernel, by ``(data_dir, n_train)``
CACHE = DataCache(lambda key: load_cifar10(key[0], n_train=key[1]),
                  estimate=lambda key: cifar10_bytes(key[1]))


def cifar10(data_dir: str | None, n_train: int | None) -> Dataset:
    """CIFAR-10 with ``n_train`` training images (``None``: all 45,000), from
    :data:`CACHE`: the sets asked for last stay loaded, at most :data:`CACHE_LIMIT` bytes
    of them (all 45,000 images take 0.88 GB). One load at a time: a run started while the
    explorer preloads waits for that load."""
    return CACHE.get((data_dir, n_train))


def warm_up(data: Dataset) -> None:
    """Train a tiny BN net for two updates, so that the first real run finds the fast
    path's kernels loaded (:mod:`bnnet.core.fast`)."""
    tiny = Dataset.from_arrays(data.X_train[:200], data.y_train[:200], data.X_val[:100],
                               data.y_val[:100])
    fit(Config(hidden=(10,), n_s=1, cycles=1, train_eval_size=100), tiny, progress=False)
