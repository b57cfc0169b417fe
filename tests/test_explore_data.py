"""The explorer's data (bnnet.explore.data): CIFAR-10 kept in the kernel between runs, at
most CACHE_LIMIT bytes of it, also while a new set loads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bnnet.core.data import Dataset, load_cifar10
from bnnet.explore.data import (
    CACHE,
    CACHE_LIMIT,
    DataCache,
    cifar10,
    cifar10_bytes,
    dataset_bytes,
)


def zeros(n_train: int | None) -> Dataset:
    """A dataset of CIFAR-10's shapes and dtypes with ``n_train`` training images (zeros:
    the pages are never touched, so a full-size set costs no memory here)."""
    n = n_train or 45_000
    return Dataset(X_train=np.zeros((n, 3072), np.float32), y_train=np.zeros(n, np.int64),
                   X_val=np.zeros((5000, 3072), np.float32), y_val=np.zeros(5000, np.int64),
                   X_test=np.zeros((10_000, 3072), np.float32),
                   y_test=np.zeros(10_000, np.int64), label_names=list("abcdefghij"),
                   mean=np.zeros(3072), std=np.ones(3072),
                   train_pixels=np.zeros((n, 3072), np.uint8))


def test_the_limit_holds_one_full_set_or_two_default_ones():
    assert CACHE.limit == CACHE_LIMIT == 1_000_000_000
    full, default = cifar10_bytes(None), cifar10_bytes(10_000)
    assert full <= CACHE_LIMIT < 2 * full
    assert 2 * default <= CACHE_LIMIT < 3 * default


def test_a_users_sizes_never_make_the_cache_hold_more_than_its_limit():
    """10,000 images (the preload), then 45,000, 44,000, 20,000 and 10,000 again: the old
    cache (the last three sets) held 2.2 GB after the fourth."""
    held_at_load = []
    cache = DataCache(lambda n: held_at_load.append(cache.held) or zeros(n),
                      estimate=cifar10_bytes)
    for n in (10_000, None, 44_000, 20_000, 10_000):
        data = cache.get(n)
        assert cache.held <= CACHE_LIMIT
        assert cache.keys()[-1] == n and cache.get(n) is data  # the newest is kept
    # while a set loaded, the sets held beside it left it room
    sizes = [dataset_bytes(zeros(n)) for n in (10_000, None, 44_000, 20_000, 10_000)]
    assert all(h + s <= CACHE_LIMIT for h, s in zip(held_at_load, sizes, strict=True))
    assert cache.peak <= CACHE_LIMIT
    assert cache.keys() == [20_000, 10_000]  # the last two fit; 44,000 was let go
    assert len(held_at_load) == 5  # 10,000 was let go for 45,000 and loaded again


def test_the_least_recently_used_set_goes_first():
    size = dataset_bytes(zeros(1000))
    loads = []
    cache = DataCache(lambda key: loads.append(key) or zeros(1000), limit=2 * size)
    a = cache.get("a")
    cache.get("b")
    assert cache.get("a") is a  # used again: b is now the least recently used
    cache.get("c")
    assert cache.keys() == ["a", "c"] and loads == ["a", "b", "c"]
    assert cache.held == 2 * size


def test_a_set_larger_than_the_limit_is_returned_but_not_kept():
    cache = DataCache(zeros, limit=dataset_bytes(zeros(1000)))
    cache.get(1000)
    data = cache.get(2000)
    assert len(data.y_train) == 2000 and cache.keys() == [1000]  # what fitted stays
    # with an estimate, the cache makes room first: here, all it has
    cache = DataCache(zeros, limit=dataset_bytes(zeros(1000)), estimate=cifar10_bytes)
    cache.get(1000)
    cache.get(2000)
    assert cache.keys() == [] and cache.held == 0


def test_one_load_at_a_time_and_the_waiting_caller_finds_it():
    gate, loading, loads = threading.Event(), threading.Event(), []

    def slow(n):
        loads.append(n)
        loading.set()
        assert gate.wait(30)
        return zeros(n)

    cache = DataCache(slow)
    got = []
    first = threading.Thread(target=lambda: got.append(cache.get(1000)))
    first.start()
    assert loading.wait(30)
    second = threading.Thread(target=lambda: got.append(cache.get(1000)))
    second.start()
    gate.set()
    first.join(30)
    second.join(30)
    assert loads == [1000] and len(got) == 2 and got[0] is got[1]


@pytest.mark.realdata
def test_the_estimate_is_the_bytes_of_a_real_load(real_data_dir):
    data = load_cifar10(real_data_dir, n_train=1000)
    assert 0 < dataset_bytes(data) - cifar10_bytes(1000) < 0.01 * cifar10_bytes(1000)
    assert cifar10(str(real_data_dir), 1000) is cifar10(str(real_data_dir), 1000)
