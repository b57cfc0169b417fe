"""One training run in a background thread, watched and stopped from another thread.

The engine of the explorer (:mod:`bnnet.explore.explorer`), usable without widgets::

    run = LiveRun(config, data).start()
    run.rows                      # history rows so far (grows while it trains)
    run.stop(); run.wait()        # ends after the current update
    run.state, run.result         # "stopped", a Result with the step reached

A run never raises into the caller: a diverging run ends in state ``"diverged"`` with the
step in :attr:`LiveRun.diverged_step`; a run that cannot train ends in ``"failed"``, with
the reason in :attr:`LiveRun.message`, the traceback in :attr:`LiveRun.traceback` and
what kind of failure it was in :attr:`LiveRun.failure` (a bad setting, data that cannot be
loaded, or a bug); an error of ``on_update`` is kept in :attr:`LiveRun.view_error` (its
traceback in :attr:`LiveRun.view_traceback`) and changes nothing else. A run starts once.

It lives in :mod:`bnnet.explore` because the explorer is its one user: the study trains
its many runs in worker processes (:mod:`bnnet.study.runs`), never in a watched thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

import pandas as pd

from bnnet.cifar10 import DataError
from bnnet.core.config import Config
from bnnet.core.data import Dataset
from bnnet.core.diagnostics import layer_statistics
from bnnet.core.network import Params
from bnnet.core.train import Result, TrainingDivergedError, fit

#: the states of a run; the last four are final
STATES = ("waiting", "running", "done", "stopped", "diverged", "failed")
#: why a run failed: a setting the data or fit refused (ConfigError, ValueError), data that
#: could not be loaded (DataError), or anything else, which is a bug
FAILURES = ("setting", "data", "bug")


def failure_kind(error: BaseException) -> str:
    """Which of :data:`FAILURES` ``error`` is."""
    if isinstance(error, DataError):
        return "data"
    if isinstance(error, ValueError):  # ConfigError is a ValueError
        return "setting"
    return "bug"


class LiveRun:
    """Train ``config`` in a daemon thread (:meth:`start`), or in this one (:meth:`run`).

    Args:
        config: what to train.
        data: the dataset, or a function that returns it (called in the run's thread, so
            that loading does not hold up the caller).
        probe: training images on which the per-layer statistics
            (:func:`~bnnet.core.diagnostics.layer_statistics`) are measured at
            initialisation and at logged steps, at most every ``probe_seconds``.
        probe_seconds: the least time between two measurements after the first.
        on_update: called as ``on_update(run)`` in the run's thread at every logged step
            and once more when the run has ended, e.g. to redraw a view: there the view
            sees the rows and statistics of one moment, and needs no thread of its own.

    Attributes:
        rows: the history rows logged so far (:data:`~bnnet.core.train.HISTORY_COLUMNS`).
        layers_at_init: per-layer statistics at step 0 (``None`` before they are measured).
        layers_latest: per-layer statistics at the latest measured step (``None`` before
            the first).
        layers_step: the update step of ``layers_latest``.
        state: one of :data:`STATES`.
        result: the :class:`~bnnet.core.train.Result` of a run that is done or stopped.
        message: why a run diverged, failed or was stopped.
        failure: for a failed run, one of :data:`FAILURES` (``""`` otherwise).
        traceback: the formatted traceback of a failed run (``""`` otherwise).
        diverged_step: the update step at which a diverged run's cost stopped being finite.
        view_error: the first error ``on_update`` raised (``""``: none).
        view_traceback: its formatted traceback.
    """

    def __init__(self, config: Config, data: Dataset | Callable[[], Dataset], *,
                 probe: int = 250, probe_seconds: float = 0.5,
                 on_update: Callable[[LiveRun], None] | None = None):
        self.config, self._data, self.probe, self.probe_seconds = (
            config, data, probe, probe_seconds)
        self.on_update = on_update
        self.rows: list[dict] = []
        self.layers_at_init: pd.DataFrame | None = None
        self.layers_latest: pd.DataFrame | None = None
        self.layers_step = 0
        self.state = "waiting"
        self.result: Result | None = None
        self.message = ""
        self.diverged_step: int | None = None
        self.failure = ""
        self.traceback = ""
        self.view_error = ""
        self.view_traceback = ""
        self.started: float | None = None
        self.finished: float | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._claimed = False
        self._claim_lock = threading.Lock()
        self.thread: threading.Thread | None = None  # the thread of start()

    def start(self) -> LiveRun:
        """Train in a daemon thread (:attr:`thread`); returns at once. A run starts once: a
        second :meth:`start` (or :meth:`run`) is a ``RuntimeError``."""
        self._claim()
        self.thread = threading.Thread(target=self._train, daemon=True,
                                       name="bnnet-live-run")
        self.thread.start()
        return self

    def run(self) -> LiveRun:
        """Train in this thread until done, stopped, diverged or failed (once, as
        :meth:`start`)."""
        self._claim()
        return self._train()

    def _claim(self) -> None:
        with self._claim_lock:
            if self._claimed:
                raise RuntimeError("this LiveRun has already started; a run trains once "
                                   "(make a new LiveRun to train again)")
            self._claimed = True

    def _train(self) -> LiveRun:
        try:
            data = self._data() if callable(self._data) else self._data
            if self.stopping:  # stopped while the data loaded: nothing trained
                self.message, self.state = "stopped before training", "stopped"
                return self
            self.started = time.perf_counter()
            self.state = "running"
            result = fit(self.config, data, progress=False, callback=_Probe(self, data),
                         rows=self.rows, stop=self._stop)
            self.result, self.message = result, result.message
            self.state = "stopped" if result.stopped else "done"
        except TrainingDivergedError as e:
            self.diverged_step, self.message = e.step, str(e)
            self.state = "diverged"
        except Exception as e:  # a run reports, it never raises
            self.failure, self.traceback = failure_kind(e), traceback.format_exc()
            self.message, self.state = f"{type(e).__name__}: {e}", "failed"
        finally:
            self.finished = time.perf_counter()
            try:
                self.notify()
            finally:
                self._done.set()
        return self

    def notify(self) -> None:
        """Call ``on_update``; its error is kept in :attr:`view_error`, not raised."""
        if self.on_update is None:
            return
        try:
            self.on_update(self)
        except Exception as e:  # the view's error must not end (or fail) the run
            if not self.view_error:
                self.view_error = f"{type(e).__name__}: {e}"
                self.view_traceback = traceback.format_exc()

    def stop(self) -> None:
        """End the run after the current update (the step reached is logged)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run ends; ``False`` if ``timeout`` seconds passed first."""
        return self._done.wait(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the run has ended and its thread (if :meth:`start` made one) is gone;
        ``False`` if ``timeout`` seconds passed first. A run never started has nothing to
        wait for."""
        if self.thread is None:
            return not self._claimed or self.wait(timeout)
        self.thread.join(timeout)
        return not self.thread.is_alive()

    @property
    def ended(self) -> bool:
        """The run is done, stopped, diverged or failed."""
        return self._done.is_set()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called."""
        return self._stop.is_set()

    @property
    def elapsed(self) -> float:
        """Seconds since training started (0 while the data loads, and for a run that
        never trained)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.perf_counter()) - self.started

    @property
    def progress(self) -> float:
        """The fraction of the updates done, at the latest logged step."""
        return self.rows[-1]["step"] / self.config.n_updates if self.rows else 0.0

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left, from the pace so far (``None`` before the first log
        after step 0)."""
        done = self.progress
        if not 0 < done < 1:
            return None
        return self.elapsed * (1 - done) / done

    def history(self) -> pd.DataFrame:
        """The rows so far as a table."""
        return pd.DataFrame(list(self.rows))


class _Probe:
    """``fit``'s callback: per-layer statistics at step 0, then at most every
    ``probe_seconds`` and at the last step; then ``on_update``."""

    def __init__(self, run: LiveRun, data: Dataset):
        self.run, self.n_classes = run, data.n_classes
        self.X, self.y = data.X_train[: run.probe], data.y_train[: run.probe]
        self.last = 0.0  # when the statistics were last measured

    def __call__(self, step: int, params: Params) -> None:
        run, now = self.run, time.perf_counter()
        last = step == run.config.n_updates or run.stopping
        if not step or last or now - self.last >= run.probe_seconds:
            stats = layer_statistics(run.config, self.X, self.y, self.n_classes, params)
            if step == 0:
                run.layers_at_init = stats
            run.layers_latest, run.layers_step, self.last = stats, step, now
        run.notify()
