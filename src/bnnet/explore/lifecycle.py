"""Explorers that never outlive their cell or their kernel.

Every explorer registers here when it is made. A new one closes the older ones of the same
kernel (running a notebook cell again makes a new explorer, and the old one's run must not
go on taking a core with no Stop button on screen), and the kernel closes every open
explorer when it shuts down (``atexit``), so that no run trains in a thread the
interpreter is tearing down.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from typing import Protocol

#: how long, at shutdown, the kernel waits for each explorer's run to stop
SHUTDOWN_WAIT = 5.0
REPLACED = "a newer explorer was made in this kernel (did its cell run again?)"
SHUTDOWN = "the kernel is shutting down"


class Closable(Protocol):
    def close(self, reason: str = ..., timeout: float | None = ...) -> bool: ...


_OPEN: weakref.WeakSet = weakref.WeakSet()
_LOCK = threading.Lock()


def register(explorer: Closable) -> None:
    """``explorer`` is open: the kernel closes it at shutdown. A new explorer first closes
    the :func:`open_explorers` (with :data:`REPLACED`), then registers."""
    with _LOCK:
        _OPEN.add(explorer)


def forget(explorer: Closable) -> None:
    """``explorer`` is closed: the kernel need not close it again."""
    with _LOCK:
        _OPEN.discard(explorer)


def open_explorers() -> list[Closable]:
    """The explorers open in this kernel."""
    with _LOCK:
        return list(_OPEN)


def close_all(reason: str = SHUTDOWN, timeout: float = SHUTDOWN_WAIT) -> None:
    """Close every open explorer, each waiting up to ``timeout`` seconds for its run."""
    for explorer in open_explorers():
        # at shutdown the front end may be gone: a widget that cannot be updated must not
        # keep the next explorer's run going
        with contextlib.suppress(Exception):
            explorer.close(reason, timeout=timeout)


atexit.register(close_all)
