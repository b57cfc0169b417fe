"""One training run in a background thread, watched and stopped from another thread.

The engine of the explorer (:mod:`bnnet.report.explore`), usable without widgets::

    run = LiveRun(config, data).start()
    run.rows                      # history rows so far (grows while it trains)
    run.stop(); run.wait()        # ends after the current update
    run.state, run.result         # "stopped", a Result with the step reached

A run never raises into the caller: a diverging run ends in state ``"diverged"`` with the
step in :attr:`LiveRun.diverged_step`, a configuration the data cannot take (or data that
cannot be loaded) in ``"failed"``, with the reason in :attr:`LiveRun.message`; an error of
``on_update`` is kept in :attr:`LiveRun.view_error` and changes nothing else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pandas as pd

from bnnet.core.config import Config
from bnnet.core.data import Dataset
from bnnet.core.diagnostics import layer_statistics
from bnnet.core.network import Params
from bnnet.core.train import Result, TrainingDivergedError, fit

#: the states of a run; the last four are final
STATES = ("waiting", "running", "done", "stopped", "diverged", "failed")


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
        layers_at_init, layers_latest: per-layer statistics at step 0 and at the latest
            measured step (``None`` before the first).
        layers_step: the update step of ``layers_latest``.
        state: one of :data:`STATES`.
        result: the :class:`~bnnet.core.train.Result` of a run that is done or stopped.
        message: why a run diverged, failed or was stopped.
        diverged_step: the update step at which a diverged run's cost stopped being finite.
        view_error: the first error ``on_update`` raised (``""``: none).
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
        self.view_error = ""
        self.started: float | None = None
        self.finished: float | None = None
        self._stop = threading.Event()
        self._done = threading.Event()

    def start(self) -> LiveRun:
        """Train in a daemon thread; returns at once."""
        threading.Thread(target=self.run, daemon=True, name="bnnet-live-run").start()
        return self

    def run(self) -> LiveRun:
        """Train in this thread until done, stopped, diverged or failed."""
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
            self.view_error = self.view_error or f"{type(e).__name__}: {e}"

    def stop(self) -> None:
        """End the run after the current update (the step reached is logged)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run ends; ``False`` if ``timeout`` seconds passed first."""
        return self._done.wait(timeout)

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
