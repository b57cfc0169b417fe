"""Where the project keeps things, and writing files so that an interruption never leaves a
half-written one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import platformdirs

#: The project folder (the one with ``pyproject.toml``) of an editable install; for a
#: package installed with pip it is a folder inside the environment (see :func:`in_checkout`).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "BNNET_CACHE_DIR"


def in_checkout() -> bool:
    """Whether bnnet runs from a writable clone of the project (``make setup``'s editable
    install), not from a copy that pip put into an environment."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and os.access(PROJECT_ROOT, os.W_OK)


def work_root() -> Path:
    """The folder that relative output settings and ``scratch/`` belong to: the project
    checkout, or the current folder for a package installed with pip."""
    return PROJECT_ROOT if in_checkout() else Path.cwd()


def cache_root() -> Path:
    """``BNNET_CACHE_DIR``, else ``.cache/`` in the project checkout, else the user's cache
    folder (``platformdirs.user_cache_dir("bnnet")``: ``~/.cache/bnnet`` on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    if in_checkout():
        return PROJECT_ROOT / ".cache"
    return Path(platformdirs.user_cache_dir("bnnet"))


def data_root() -> Path:
    """Where CIFAR-10 is downloaded to when no data directory is configured: ``data/`` in
    the project checkout, else the user's data folder
    (``platformdirs.user_data_dir("bnnet")``: ``~/.local/share/bnnet`` on Linux)."""
    return PROJECT_ROOT / "data" if in_checkout() else Path(platformdirs.user_data_dir("bnnet"))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    The rename is atomic on POSIX, so readers see the old file or the new one, never part
    of one; on an error or interruption the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; outputs are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
