"""Getting CIFAR-10 onto a machine that has none: the data directory when it has the
batches, else a download of the official archive into ``data/`` of the project.

The download address and the expected md5 can be overridden with the environment
variables ``BNNET_CIFAR10_URL`` and ``BNNET_CIFAR10_MD5`` (a mirror, or a local test
server). ``BNNET_DATA_DIR`` and an explicit ``data_dir`` always win: a configured data
directory without the batches is an error, never a download.
"""

from __future__ import annotations

import os
from pathlib import Path

from bnnet.data import MD5, PROJECT_ROOT, URL, DataError, download_cifar10, find_batches_dir

URL_ENV = "BNNET_CIFAR10_URL"
MD5_ENV = "BNNET_CIFAR10_MD5"


def archive_source() -> tuple[str, str]:
    """The archive's URL and md5: the official ones unless overridden by the environment."""
    return os.environ.get(URL_ENV) or URL, os.environ.get(MD5_ENV) or MD5


def ensure_cifar10(data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The batches folder, downloading the archive into ``data/`` first when no data
    directory is configured and ``data/`` has none.

    Returns:
        the folder and whether it was downloaded now.

    Raises:
        DataError: a configured directory has no batches, or the download failed (the
            message says how to get the data another way).
    """
    try:
        return find_batches_dir(data_dir), False
    except DataError:
        if data_dir is not None or os.environ.get("BNNET_DATA_DIR"):
            raise
    url, md5 = archive_source()
    return download_cifar10(PROJECT_ROOT / "data", url=url, md5=md5), True
