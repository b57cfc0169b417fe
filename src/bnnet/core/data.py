"""CIFAR-10 as a run sees it: read the batches safely, cache them, split and normalise.

Where the batches are, and the download, are :mod:`bnnet.cifar10`'s job. Data directories
are only ever read: the fast ``.npy`` cache goes to ``BNNET_CACHE_DIR``, or ``.cache/`` in
the project, or the user's cache folder, under a key made of the batch files' names, sizes
and modification times, so that a changed source is read again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bnnet.cifar10 import (
    ALL_FILES,
    IMAGE_SIZE,
    META_FILE,
    TEST_FILE,
    TRAIN_FILES,
    DataError,
    ensure_cifar10,
    fetch_hint,
    find_batches_dir,
)
from bnnet.files import cache_root
from bnnet.validation import is_int

N_CLASSES = 10
CACHE_VERSION = 1


@dataclass
class Dataset:
    """Normalised CIFAR-10 splits.

    Attributes:
        X_train: training inputs of shape (N, 3072), normalised per feature with ``mean``
            and ``std`` of the training split.
        y_train: their integer labels in [0, 10), shape (N,).
        X_val: validation inputs, normalised as ``X_train``.
        y_val: their labels.
        X_test: test inputs, normalised as ``X_train``.
        y_test: their labels.
        label_names: the 10 class names.
        mean: the per-feature mean of the training split, shape (3072,).
        std: the per-feature standard deviation of the training split, shape (3072,).
        source: the folder the batches were read from.
        train_pixels: the training images as read, uint8 (N, 3072), with ``X_train`` ==
            :func:`normalise` of them; the fast training path gathers its mini-batches from
            these (a quarter of the bytes). ``None`` for data given as arrays.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    label_names: list[str]
    mean: np.ndarray
    std: np.ndarray
    source: str = ""
    train_pixels: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @classmethod
    def from_arrays(
        cls, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
        X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
        label_names: list[str] | None = None,
    ) -> Dataset:
        """A dataset from arrays that are already normalised (e.g. synthetic data)."""
        if X_test is None or y_test is None:
            X_test, y_test = X_val, y_val
        n_classes = int(max(y_train.max(), y_val.max(), y_test.max())) + 1
        return cls(X_train, y_train, X_val, y_val, X_test, y_test,
                   label_names or [str(c) for c in range(n_classes)],
                   mean=np.zeros(X_train.shape[1]), std=np.ones(X_train.shape[1]),
                   source="arrays")


# ---------------------------------------------------------------------------------------
# Reading batch files safely


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds: dicts, lists, strings, NumPy arrays."""

    ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 pickles bytes with protocol 2
    })

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load global '{module}.{name}': a CIFAR-10 batch holds only "
            "arrays, lists and strings"
        )


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = _BatchUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(
            f"{path} is missing; the folder {path.parent} is not a complete CIFAR-10 copy. "
            f"Download it again with {fetch_hint()}."
        ) from None
    except pickle.UnpicklingError as e:
        if "refusing" in str(e):
            raise DataError(f"{path} is not a plain CIFAR-10 batch, not loaded: {e}") from None
        raise DataError(_corrupt(path, e)) from None
    except (EOFError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as e:
        raise DataError(_corrupt(path, e)) from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a dict, found {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _corrupt(path: Path, error: Exception) -> str:
    return (f"{path} is truncated or corrupt ({type(error).__name__}: {error}); an interrupted "
            f"download leaves such files. Delete the folder and run {fetch_hint()} again, "
            "or point BNNET_DATA_DIR at a complete copy.")


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One batch file: uint8 images of shape (N, 3072) and int64 labels of shape (N,)."""
    path = Path(path)
    batch = _unpickle(path)
    if "data" not in batch or "labels" not in batch:
        raise DataError(f"{path}: expected keys 'data' and 'labels', found {sorted(batch)}")
    X = batch["data"]
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 \
            or X.shape[1] != IMAGE_SIZE:
        shape = getattr(X, "shape", None)
        dtype = getattr(X, "dtype", type(X).__name__)
        raise DataError(f"{path}: 'data' must be a uint8 array of shape (N, {IMAGE_SIZE}), "
                        f"found {dtype} with shape {shape}")
    try:
        y = np.asarray(batch["labels"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{path}: 'labels' must be a list of integers") from None
    if y.shape != (X.shape[0],):
        raise DataError(f"{path}: {X.shape[0]} images but {y.size} labels")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise DataError(f"{path}: labels must be in 0..{N_CLASSES - 1}, "
                        f"found values from {y.min()} to {y.max()}")
    return X, y


def read_label_names(batches_dir: Path) -> list[str]:
    meta = _unpickle(batches_dir / META_FILE)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != N_CLASSES:
        raise DataError(f"{batches_dir / META_FILE}: expected 'label_names' with "
                        f"{N_CLASSES} names, found {names!r}")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


# ---------------------------------------------------------------------------------------
# The .npy cache


def _stats(batches_dir: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((name, (st := (batches_dir / name).stat()).st_size, st.st_mtime_ns)
                 for name in ALL_FILES)


def source_key(batches_dir: Path) -> str:
    """A key of these files where they are: their folder, names, sizes and modification
    times (cheap; the ``.npy`` cache's folder, rebuilt when the files change)."""
    blob = json.dumps([CACHE_VERSION, str(batches_dir.resolve()), _stats(batches_dir)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def content_key(batches_dir: Path) -> str:
    """A key of the files' names and bytes: the same for every copy of the same data,
    wherever it is and whenever it was copied (the run cache's key, so that a moved or
    copied data folder keeps its runs). Hashing all of CIFAR-10 takes about 0.15 s (0.36 s
    when its files are not yet in the page cache; measured on the 2-core machine); it is
    done once per process for files that have not changed."""
    folder = batches_dir.resolve()
    return _content_key(folder, _stats(folder))


@functools.lru_cache(maxsize=8)
def _content_key(folder: Path, stats: tuple) -> str:
    h = hashlib.sha256()
    for name, *_ in stats:
        h.update(name.encode())
        with open(folder / name, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()[:16]


def load_raw(data_dir: str | os.PathLike | None = None, *, cache: bool = True) -> dict:
    """All 60,000 images as uint8, read from the batches or from the ``.npy`` cache.

    Returns:
        dict with ``X_train`` (50000, 3072) uint8, ``y_train`` (50000,), ``X_test``,
        ``y_test``, ``batch_sizes`` (rows per training batch), ``label_names``, ``source``.
    """
    batches_dir = find_batches_dir(data_dir)
    cache_dir = cache_root() / f"cifar10-{source_key(batches_dir)}" if cache else None
    if cache_dir is not None and (cache_dir / "meta.json").is_file():
        meta = json.loads((cache_dir / "meta.json").read_text())
        arrays = {k: np.load(cache_dir / f"{k}.npy", mmap_mode="r")
                  for k in ("X_train", "y_train", "X_test", "y_test")}
        return {**arrays, "batch_sizes": meta["batch_sizes"],
                "label_names": meta["label_names"], "source": str(batches_dir)}

    train = [read_batch(batches_dir / n) for n in TRAIN_FILES]
    X_test, y_test = read_batch(batches_dir / TEST_FILE)
    raw = {
        "X_train": np.concatenate([X for X, _ in train]),
        "y_train": np.concatenate([y for _, y in train]),
        "X_test": X_test, "y_test": y_test,
        "batch_sizes": [len(y) for _, y in train],
        "label_names": read_label_names(batches_dir),
        "source": str(batches_dir),
    }
    if cache_dir is not None:
        _write_cache(cache_dir, raw)
    return raw


def _write_cache(cache_dir: Path, raw: dict) -> None:
    """Write the cache into a temporary folder, then rename it: never half-written."""
    try:
        cache_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir.parent, prefix=".tmp-"))
    except OSError:
        return  # a read-only cache location only costs speed
    try:
        for k in ("X_train", "y_train", "X_test", "y_test"):
            np.save(tmp / f"{k}.npy", raw[k])
        (tmp / "meta.json").write_text(json.dumps(
            {"batch_sizes": raw["batch_sizes"], "label_names": raw["label_names"],
             "source": raw["source"]}))
        tmp.rename(cache_dir)
    except OSError:
        pass  # e.g. another process renamed its copy first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Splitting and normalising


def load_cifar10(
    data_dir: str | os.PathLike | None = None,
    *,
    n_val: int = 5000,
    seed: int = 0,
    dtype: Any = np.float32,
    split: Literal["full", "small"] = "full",
    n_train: int | None = None,
    download: bool = False,
    cache: bool = True,
) -> Dataset:
    """CIFAR-10 split into train / validation / test and normalised.

    Args:
        data_dir: folder with the batches (see :mod:`bnnet.cifar10` for the default).
        n_val: with ``split="full"``, images held out of the 50,000 training images for
            validation, chosen with ``seed`` (the course setup: 45,000 / 5,000 / 10,000).
        seed: seed of the validation split and of the ``n_train`` subsample.
        dtype: float dtype of the returned inputs.
        split: ``"full"`` as above, or ``"small"``: ``data_batch_1`` for training and
            ``data_batch_2`` for validation (the assignment's small setup).
        n_train: keep only this many training images (random, with ``seed``), for quick
            runs; ``None`` keeps all.
        download: when no data directory is configured and the default folder
            (:func:`bnnet.files.data_root`: ``data/`` of a project checkout, else the user's
            data folder) has no batches, download the archive there first (as ``make data``
            does, :func:`bnnet.cifar10.ensure_cifar10`); a configured directory is never
            downloaded into.
        cache: use and fill the ``.npy`` cache.

    Returns:
        a :class:`Dataset`; inputs normalised with the per-feature mean and std of the
        (final) training split only, applied to all three splits.

    Examples
    --------
    These need CIFAR-10 (``make data`` downloads it into ``data/``; the test suite runs
    them when ``BNNET_DATA_DIR`` points at a copy). The course's split:

    >>> import bnnet
    >>> data = bnnet.load_cifar10()  # doctest: +SKIP
    >>> data.X_train.shape, data.X_val.shape, data.X_test.shape  # doctest: +SKIP
    ((45000, 3072), (5000, 3072), (10000, 3072))
    >>> data.label_names[:3], data.X_train.dtype  # doctest: +SKIP
    (['airplane', 'automobile', 'bird'], dtype('float32'))

    The assignment's small setup, and a random 1,000 of the training images for a quick
    run:

    >>> bnnet.load_cifar10(split="small").X_train.shape  # doctest: +SKIP
    (10000, 3072)
    >>> bnnet.load_cifar10(n_train=1000).X_train.shape  # doctest: +SKIP
    (1000, 3072)

    A folder without the batches is an error that says where it looked, never a download:

    >>> bnnet.load_cifar10("no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    bnnet.cifar10.DataError: CIFAR-10 not found in no/such/folder (from the data_dir argument): ...
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype={dtype}: expected a float dtype such as np.float32")
    if split not in ("full", "small"):
        raise ValueError(f"split={split!r}: expected 'full' or 'small'")
    folder = ensure_cifar10(data_dir)[0] if download else data_dir
    raw = load_raw(folder, cache=cache)
    train_idx, val_idx = split_indices(raw, split=split, n_val=n_val, n_train=n_train,
                                       seed=seed)
    X_train_u8 = np.asarray(raw["X_train"][train_idx])
    mean = X_train_u8.mean(axis=0, dtype=np.float64)
    std = X_train_u8.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0  # a constant pixel carries no information; avoid 0/0
    return Dataset(
        X_train=normalise(X_train_u8, mean, std, dtype),
        y_train=np.asarray(raw["y_train"][train_idx]),
        X_val=normalise(raw["X_train"][val_idx], mean, std, dtype),
        y_val=np.asarray(raw["y_train"][val_idx]),
        X_test=normalise(raw["X_test"], mean, std, dtype), y_test=np.asarray(raw["y_test"]),
        label_names=list(raw["label_names"]), mean=mean, std=std, source=raw["source"],
        train_pixels=X_train_u8,
    )


def split_indices(raw: dict, *, split: str, n_val: int, n_train: int | None,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted row indices of the training and validation images in ``raw["X_train"]``."""
    n_all = len(raw["y_train"])
    rng = np.random.default_rng(seed)
    if split == "small":
        if len(raw["batch_sizes"]) < 2:
            raise DataError(f"the small split needs {TRAIN_FILES[0]} and {TRAIN_FILES[1]}")
        b1, b2 = raw["batch_sizes"][:2]
        train_idx, val_idx = np.arange(b1), np.arange(b1, b1 + b2)
    else:
        if not is_int(n_val) or not 0 < n_val < n_all:
            raise ValueError(f"n_val={n_val!r}: must be an integer between 1 and {n_all - 1}")
        perm = rng.permutation(n_all)
        train_idx, val_idx = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    if n_train is not None:
        if not is_int(n_train) or not 0 < n_train <= len(train_idx):
            raise ValueError(f"n_train={n_train!r}: must be an integer between 1 and "
                             f"{len(train_idx)} (the size of the training split)")
        train_idx = np.sort(rng.choice(train_idx, n_train, replace=False))
    return train_idx, val_idx


def normalise(X_u8: np.ndarray, mean: np.ndarray, std: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``(X - mean) / std`` per feature, computed in ``dtype`` (a new array)."""
    X = np.asarray(X_u8, dtype=dtype)
    X -= mean.astype(dtype)
    X *= (1.0 / std).astype(dtype)
    return X
