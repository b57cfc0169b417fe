"""CIFAR-10: find, download, read safely, cache, split and normalise.

The data directory is, in order: the ``data_dir`` argument, the environment variable
``BNNET_DATA_DIR``, or ``data/`` in the project. It may be the ``cifar-10-batches-py``
folder itself or a folder that contains it. Data directories are only ever read: the
fast ``.npy`` cache goes to ``BNNET_CACHE_DIR``, or ``.cache/`` in the project, or the
user's cache folder, under a key made of the batch files' names, sizes and modification
times, so that a changed source is read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
N_FEATURES = 3072  # 32 x 32 x 3, stored as 1024 R, 1024 G, 1024 B values
N_CLASSES = 10
CACHE_VERSION = 1

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DataError(RuntimeError):
    """The data could not be found or read; the message says what to do."""


@dataclass
class Dataset:
    """Normalised CIFAR-10 splits.

    Attributes:
        X_train, X_val, X_test: inputs of shape (N, 3072), normalised per feature with
            ``mean`` and ``std`` of the training split.
        y_train, y_val, y_test: integer labels in [0, 10), shape (N,).
        label_names: the 10 class names.
        mean, std: the training statistics, shape (3072,).
        source: the folder the batches were read from.
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
# Finding the data


def default_data_dir() -> Path:
    """``BNNET_DATA_DIR`` if set, else ``data/`` in the project."""
    env = os.environ.get("BNNET_DATA_DIR")
    return Path(env).expanduser() if env else PROJECT_ROOT / "data"


def find_batches_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding ``data_batch_1`` ... ``test_batch``; a clear error if none."""
    given = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    origin = ("the data_dir argument" if data_dir is not None
              else "BNNET_DATA_DIR" if os.environ.get("BNNET_DATA_DIR")
              else "the default data/ folder of the project")
    for candidate in (given, given / FOLDER_NAME):
        if (candidate / TEST_FILE).is_file() or (candidate / TRAIN_FILES[0]).is_file():
            return candidate
    raise DataError(
        f"CIFAR-10 not found in {given} (from {origin}): expected the files "
        f"{', '.join(TRAIN_FILES)}, {TEST_FILE} and {META_FILE} there or in "
        f"{given / FOLDER_NAME}.\n"
        "To get it: run `make data` (or bnnet.load_cifar10(download=True)), which downloads "
        f"{URL} (163 MB) into data/ and checks its md5; or, with a local copy, set "
        "BNNET_DATA_DIR=/path/to/cifar-10-batches-py or pass data_dir=..."
    )


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
            "Download it again with `make data`."
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
            "download leaves such files. Delete the folder and run `make data` again, or "
            "point BNNET_DATA_DIR at a complete copy.")


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One batch file: uint8 images of shape (N, 3072) and int64 labels of shape (N,)."""
    path = Path(path)
    batch = _unpickle(path)
    if "data" not in batch or "labels" not in batch:
        raise DataError(f"{path}: expected keys 'data' and 'labels', found {sorted(batch)}")
    X = batch["data"]
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 \
            or X.shape[1] != N_FEATURES:
        shape = getattr(X, "shape", None)
        dtype = getattr(X, "dtype", type(X).__name__)
        raise DataError(f"{path}: 'data' must be a uint8 array of shape (N, {N_FEATURES}), "
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


def cache_root() -> Path:
    """``BNNET_CACHE_DIR``, else ``.cache/`` in the project, else the user's cache folder."""
    env = os.environ.get("BNNET_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    if (PROJECT_ROOT / "pyproject.toml").is_file() and os.access(PROJECT_ROOT, os.W_OK):
        return PROJECT_ROOT / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bnnet"


def source_key(batches_dir: Path) -> str:
    entries = []
    for name in (*TRAIN_FILES, TEST_FILE, META_FILE):
        st = (batches_dir / name).stat()
        entries.append([name, st.st_size, st.st_mtime_ns])
    blob = json.dumps([CACHE_VERSION, str(batches_dir.resolve()), entries]).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def load_raw(data_dir: str | os.PathLike | None = None, *, cache: bool = True) -> dict:
    """All 60,000 images as uint8, read from the batches or from the ``.npy`` cache.

    Returns:
        dict with ``X_train`` (50000, 3072) uint8, ``y_train`` (50000,), ``X_test``,
        ``y_test``, ``batch_sizes`` (rows per training batch), ``label_names``, ``source``.
    """
    batches_dir = find_batches_dir(data_dir)
    missing = [n for n in (*TRAIN_FILES, TEST_FILE, META_FILE)
               if not (batches_dir / n).is_file()]
    if missing:
        raise DataError(f"{batches_dir} is an incomplete CIFAR-10 copy: missing "
                        f"{', '.join(missing)}. Download it again with `make data`.")
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
        data_dir: folder with the batches (see the module docstring for the default).
        n_val: with ``split="full"``, images held out of the 50,000 training images for
            validation, chosen with ``seed`` (the course setup: 45,000 / 5,000 / 10,000).
        seed: seed of the validation split and of the ``n_train`` subsample.
        dtype: float dtype of the returned inputs.
        split: ``"full"`` as above, or ``"small"``: ``data_batch_1`` for training and
            ``data_batch_2`` for validation (the assignment's small setup).
        n_train: keep only this many training images (random, with ``seed``), for quick
            runs; ``None`` keeps all.
        download: download the official archive into ``data_dir`` (or ``data/``) if the
            data are not there.
        cache: use and fill the ``.npy`` cache.

    Returns:
        a :class:`Dataset`; inputs normalised with the per-feature mean and std of the
        (final) training split only, applied to all three splits.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype={dtype}: expected a float dtype such as np.float32")
    if split not in ("full", "small"):
        raise ValueError(f"split={split!r}: expected 'full' or 'small'")
    if download:
        try:
            find_batches_dir(data_dir)
        except DataError:
            download_cifar10(Path(data_dir) if data_dir is not None else default_data_dir())
    raw = load_raw(data_dir, cache=cache)
    n_all = len(raw["y_train"])
    rng = np.random.default_rng(seed)
    if split == "small":
        if len(raw["batch_sizes"]) < 2:
            raise DataError("the small split needs data_batch_1 and data_batch_2")
        b1, b2 = raw["batch_sizes"][:2]
        train_idx, val_idx = np.arange(b1), np.arange(b1, b1 + b2)
    else:
        if not isinstance(n_val, (int, np.integer)) or not 0 < n_val < n_all:
            raise ValueError(f"n_val={n_val!r}: must be an integer between 1 and {n_all - 1}")
        perm = rng.permutation(n_all)
        train_idx, val_idx = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    if n_train is not None:
        if not isinstance(n_train, (int, np.integer)) or not 0 < n_train <= len(train_idx):
            raise ValueError(f"n_train={n_train!r}: must be an integer between 1 and "
                             f"{len(train_idx)} (the size of the training split)")
        train_idx = np.sort(rng.choice(train_idx, n_train, replace=False))

    X_train_u8 = np.asarray(raw["X_train"][train_idx])
    mean = X_train_u8.mean(axis=0, dtype=np.float64)
    std = X_train_u8.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0  # a constant pixel carries no information; avoid 0/0

    def normalise(X_u8: np.ndarray) -> np.ndarray:
        X = np.asarray(X_u8, dtype=dtype)
        X -= mean.astype(dtype)
        X *= (1.0 / std).astype(dtype)
        return X

    return Dataset(
        X_train=normalise(X_train_u8), y_train=np.asarray(raw["y_train"][train_idx]),
        X_val=normalise(raw["X_train"][val_idx]), y_val=np.asarray(raw["y_train"][val_idx]),
        X_test=normalise(raw["X_test"]), y_test=np.asarray(raw["y_test"]),
        label_names=list(raw["label_names"]), mean=mean, std=std, source=raw["source"],
    )


# ---------------------------------------------------------------------------------------
# Downloading


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def download_cifar10(root: str | os.PathLike, *, url: str = URL, md5: str = MD5) -> Path:
    """Download the official archive into ``root``, verify its md5 and extract it.

    Returns:
        the extracted ``cifar-10-batches-py`` folder.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / ARCHIVE_NAME
    if not archive.is_file():
        part = archive.with_name(archive.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=ARCHIVE_NAME) as bar:
                    while block := response.read(1 << 20):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            part.unlink(missing_ok=True)
            raise DataError(
                f"could not download {url} ({e}). Without network access: fetch "
                f"{ARCHIVE_NAME} (md5 {md5}) on another machine, put it in {root} and run "
                "`make data` again, or extract it anywhere and set "
                "BNNET_DATA_DIR=/path/to/cifar-10-batches-py."
            ) from None
        part.rename(archive)
    actual = md5sum(archive)
    if actual != md5:
        archive.unlink()
        raise DataError(f"{archive} has md5 {actual}, expected {md5}: the download is corrupt "
                        "or not the official archive. It was removed; run `make data` again.")
    extract_archive(archive, root)
    return root / FOLDER_NAME


def extract_archive(archive: Path, root: Path) -> None:
    """Extract a tar archive into ``root``, refusing members that would land outside it."""
    root_resolved = root.resolve()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = (root / member.name).resolve()
            if not (member.isfile() or member.isdir()) or not target.is_relative_to(
                root_resolved
            ):
                raise DataError(f"{archive}: refusing to extract '{member.name}', which is not "
                                f"a plain file or folder inside {root}")
        tar.extractall(root, filter="data")
