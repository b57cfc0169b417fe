"""Getting CIFAR-10 onto a machine: find the batches, or download, verify and extract the
official archive. The one place that does it: :func:`ensure_cifar10` is what
``make data``, ``make report`` and ``bnnet.load_cifar10(download=True)`` call.

The data directory is, in order: the ``data_dir`` argument, the environment variable
``BNNET_DATA_DIR``, or the default folder (:func:`bnnet.files.data_root`: ``data/`` in a
project checkout, the user's data folder for a package installed with pip). It may be the
``cifar-10-batches-py`` folder itself or a folder that contains it. A configured data
directory (the argument or the variable) without the batches is an error, never a download:
only the default folder is downloaded into. The archive's address and md5 can be overridden with
``BNNET_CIFAR10_URL`` and ``BNNET_CIFAR10_MD5`` (a mirror, or a local test server).

Nothing here computes a number a run reports, so this module is not part of the run
cache's key: editing a message here retrains nothing.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from bnnet.files import data_root, in_checkout

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
ALL_FILES = (*TRAIN_FILES, TEST_FILE, META_FILE)
#: One image: 3 colour planes (red, green, blue) of 32 x 32 pixels, each plane row-major;
#: a row of the batches' ``data`` holds IMAGE_SIZE values in that order.
IMAGE_SHAPE = (3, 32, 32)
IMAGE_SIZE = 3 * 32 * 32

DATA_DIR_ENV = "BNNET_DATA_DIR"
URL_ENV = "BNNET_CIFAR10_URL"
MD5_ENV = "BNNET_CIFAR10_MD5"


class DataError(RuntimeError):
    """The data could not be found or read; the message says what to do."""


def default_data_dir() -> Path:
    """``BNNET_DATA_DIR`` if set, else the default folder (:func:`bnnet.files.data_root`)."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else data_root()


def fetch_hint() -> str:
    """What fetches the archive into the default folder: ``make data`` in a project
    checkout, the Python call for a package installed with pip."""
    call = "bnnet.load_cifar10(download=True)"
    return f"`make data` (or {call})" if in_checkout() else f"{call} in Python"


def _default_name() -> str:
    return "data/ of the project" if in_checkout() else f"the user data folder {data_root()}"


def _configured(data_dir: str | os.PathLike | None) -> str | None:
    """Which setting chose the data directory, if one did (``None``: the default)."""
    if data_dir is not None:
        return "the data_dir argument"
    if os.environ.get(DATA_DIR_ENV):
        return f"{DATA_DIR_ENV}={os.environ[DATA_DIR_ENV]}"
    return None


def find_batches_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding ``data_batch_1`` ... ``test_batch``; a clear error if none."""
    given = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    origin = _configured(data_dir)
    for candidate in (given, given / FOLDER_NAME):
        missing = [name for name in ALL_FILES if not (candidate / name).is_file()]
        if not missing:
            return candidate
        if len(missing) < len(ALL_FILES):
            raise DataError(
                f"{candidate} is an incomplete CIFAR-10 copy: missing {', '.join(missing)}. "
                + (f"Run {fetch_hint()}: it downloads the archive again and completes the "
                   "folder." if origin is None else
                   f"It comes from {origin}, and nothing is downloaded into a configured "
                   "folder: complete the copy or point the setting at a complete one."))
    if origin is None:
        todo = (f"To get it: run {fetch_hint()}, which downloads {URL} (163 MB) into "
                f"{_default_name()} and checks its md5; or, with a local copy, set "
                f"{DATA_DIR_ENV}=/path/to/cifar-10-batches-py.")
    elif data_dir is None:
        todo = (f"That setting wins over a download: point it at a complete copy, or unset "
                f"{DATA_DIR_ENV} to let {fetch_hint()} download the archive into "
                f"{_default_name()}.")
    else:
        todo = ("A data_dir given is never downloaded into: point it at a complete copy, or "
                f"leave it out to use {DATA_DIR_ENV} or {_default_name()} (which "
                f"{fetch_hint()} downloads into).")
    origin = origin or f"the default folder, {_default_name()}"
    raise DataError(
        f"CIFAR-10 not found in {given} (from {origin}): expected the files "
        f"{', '.join(TRAIN_FILES)}, {TEST_FILE} and {META_FILE} there or in "
        f"{given / FOLDER_NAME}.\n{todo}")


def archive_source() -> tuple[str, str]:
    """The archive's URL and md5: the official ones unless overridden by the environment."""
    return os.environ.get(URL_ENV) or URL, os.environ.get(MD5_ENV) or MD5


def ensure_cifar10(data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The batches folder, downloading the archive into the default folder
    (:func:`bnnet.files.data_root`) first when no data directory is configured and that
    folder has none.

    Returns:
        the folder and whether it was downloaded now.

    Raises:
        DataError: a configured directory has no batches, or the download failed (the
            message says how to get the data another way).
    """
    try:
        return find_batches_dir(data_dir), False
    except DataError:
        if _configured(data_dir) is not None:
            raise
    url, md5 = archive_source()
    return download_cifar10(data_root(), url=url, md5=md5), True


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def download_cifar10(root: str | os.PathLike, *, url: str = URL, md5: str = MD5) -> Path:
    """Download the archive into ``root``, verify its md5 and extract it.

    Returns:
        the extracted ``cifar-10-batches-py`` folder.
    """
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
                f"{fetch_hint()} again, or extract it anywhere and set "
                f"{DATA_DIR_ENV}=/path/to/cifar-10-batches-py."
            ) from None
        part.rename(archive)
    actual = md5sum(archive)
    if actual != md5:
        archive.unlink()
        raise DataError(f"{archive} has md5 {actual}, expected {md5}: the download is corrupt "
                        "or not the official archive. It was removed; run "
                        f"{fetch_hint()} again.")
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
