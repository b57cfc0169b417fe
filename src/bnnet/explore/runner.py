"""The explorer's runs: started one at a time, stopped, reported and joined
(:class:`Runner`).

A run trains in a thread of its own (:class:`~bnnet.explore.live.LiveRun`), so the controls
stay live. A new run first stops the one before and waits for it to end (one thread trains
at a time, and one thread draws the view); Train returns at once all the same. The run's
thread itself reports: at every logged step it says how far it is in the status line
(:mod:`~bnnet.explore.status`, which it owns as the newest run) and redraws the view
(:meth:`View.draw <bnnet.explore.view.View.draw>`); when it has ended, how it ended.

Settings that describe no valid run are refused before anything stops: the running run
goes on, and the refusal holds the status line (:meth:`StatusLine.hold
<bnnet.explore.status.StatusLine.hold>`) until the next run starts or is stopped, while the
running run reports beneath it. The refusal raised (:class:`ConfigError`) is the
validation's own sentence, never read back from the line.
"""

from __future__ import annotations

import functools
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from bnnet.core.config import ConfigError
from bnnet.core.data import Dataset
from bnnet.explore.data import warm_up
from bnnet.explore.live import LiveRun
from bnnet.explore.runs import Run, ending, running_sentence
from bnnet.explore.settings import ALL_TRAIN, CURVE_POINTS, config_from
from bnnet.explore.status import StatusLine
from bnnet.explore.view import View

#: how long a new explorer waits for the runs of the explorers it replaces to stop
TAKE_OVER_WAIT = 10.0


class Runner:
    """Starts (:meth:`start`), stops (:meth:`stop_latest`) and reports the runs of one
    explorer, appended to ``runs``; preloads the data (:meth:`preload`); refuses new runs
    once closed (:meth:`close`), and waits for every thread it started (:meth:`join`).

    Args:
        runs: the explorer's runs, which this appends to.
        loader: ``loader(n_train)`` returns the data of a run.
        status, view: where the runs report.
        before: runs of replaced explorers that the first run here waits for.
    """

    def __init__(self, runs: list[Run], loader: Callable[[int | None], Dataset],
                 status: StatusLine, view: View, *, before: list[LiveRun] | None = None):
        self.runs, self.loader, self.status, self.view = runs, loader, status, view
        self.closed = ""  # why it was closed ("": open)
        self.lock = threading.RLock()  # closing, and a replay's next run against Train
        self._before = list(before or [])
        self._preload: threading.Thread | None = None

    # ---- starting and stopping --------------------------------------------------------
    def start(self, values: Mapping[str, Any], curve_points: int = CURVE_POINTS) -> Run:
        """Start a run with the controls' ``values`` and return it at once; the run before
        is stopped and the new one trains when it has ended. A closed explorer, or values
        that describe no valid run, are a :class:`ConfigError` ("Cannot train: ...") that
        also holds the status line; the run before then goes on."""
        try:
            if self.closed:
                raise ConfigError(f"{self.closed_sentence()}.")
            config, n_train = config_from(values, curve_points)
        except ConfigError as e:
            refusal = f"Cannot train: {e}"
            self.status.hold(refusal)
            raise ConfigError(refusal) from None
        before = [self.runs[-1].live] if self.runs else list(self._before)
        self.stop_latest()
        number = len(self.runs) + 1

        def data() -> Dataset:
            for live in before:
                live.wait()  # one run at a time: the view is drawn by one thread
            return self.loader(n_train)

        live = LiveRun(config, data, on_update=functools.partial(self._update, number))
        run = Run(number, config, n_train, live)
        self.runs.append(run)
        self.status.hand_over(number, f"Run {number}: loading the data "
                                      f"({n_train or ALL_TRAIN:,} training images)...")
        live.start()
        return run

    def stop_latest(self) -> None:
        """Stop the newest run after its current update; it takes the status line back."""
        if self.runs and not self.runs[-1].live.ended and not self.runs[-1].live.stopping:
            run = self.runs[-1]
            run.live.stop()
            self.status.hand_over(run.number, f"Run {run.number}: stopping...")

    def preload(self, values: Mapping[str, Any]) -> None:
        """Load the data that ``values`` ask for and warm the compiled kernels, in a
        background thread, so that the first Train starts without waiting."""
        self._preload = threading.Thread(target=self._load, args=(dict(values),),
                                         daemon=True, name="bnnet-explorer-preload")
        self._preload.start()

    def _load(self, values: Mapping[str, Any]) -> None:
        try:
            data = self.loader(config_from(values)[1])
        except Exception as e:  # e.g. no data yet: the first Train says so again
            # only while no run owns the line (a run started meanwhile says it itself)
            if not self.closed:
                self.status.say(f"Cannot load the data: {e}", "error", owner=0)
            return
        if not self.closed:  # a load cannot be interrupted; the warm-up can be left out
            warm_up(data)

    # ---- closing ----------------------------------------------------------------------
    def close(self, reason: str) -> bool:
        """Refuse new runs from now on (``reason`` says why) and stop the newest run;
        whether this closed it (``False``: it was closed already)."""
        with self.lock:
            if self.closed:
                return False
            self.closed = reason
        latest = self.runs[-1] if self.runs and not self.runs[-1].live.ended else None
        if latest is not None:
            latest.live.stop()  # first: the widgets may be gone at shutdown
            self.status.hand_over(latest.number, f"{self.closed_sentence()}: stopping run "
                                                 f"{latest.number}...")
        else:
            self.status.say(self.closed_sentence() + ".")
        return True

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every thread this started (the runs', the preload) has ended;
        ``False`` if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for live in [r.live for r in self.runs]:
            if not live.join(_left(deadline)):
                return False
        if self._preload is not None:
            self._preload.join(_left(deadline))
            return not self._preload.is_alive()
        return True

    def closed_sentence(self) -> str:
        return f"This explorer is closed: {self.closed}"

    def took_over(self, replaced: list[Run]) -> str:
        """Wait for the runs of the explorers this one replaced (up to
        :data:`TAKE_OVER_WAIT` seconds), and say what became of them."""
        deadline = time.monotonic() + TAKE_OVER_WAIT
        for run in replaced:
            run.live.wait(max(0.0, deadline - time.monotonic()))
        if not replaced:
            return ""
        said = []
        for run in replaced:
            live = run.live
            if not live.ended:
                said.append(f"run {run.number} is still stopping (the first run here waits "
                            "for it)")
            elif live.result is not None:
                said.append(f"run {run.number} was stopped at update step "
                            f"{live.result.history['step'].iloc[-1]:,}")
            else:
                said.append(f"run {run.number} was {live.message or live.state}")
        return " The explorer this cell made before is closed: " + "; ".join(said) + "."

    # ---- called in the run's thread (LiveRun.on_update) -------------------------------
    def _update(self, number: int, live: LiveRun) -> None:
        run = self.runs[number - 1]
        try:
            if live.finished is not None:  # the last call: the run has ended
                if number == len(self.runs):  # a newer run's view is not drawn over
                    self.view.draw(run, force=True)  # so that "done" means the figure is final
                self._finish(run)
            else:
                self.status.say(running_sentence(run), owner=number)
                self.view.draw(run, force=False)
        except Exception as e:
            self._view_failed(run, e)
            raise  # LiveRun keeps it in view_error

    def _finish(self, run: Run) -> None:
        prefix = f"{self.closed_sentence()}: " if self.closed else ""
        text, kind, detail = ending(run, prefix)
        self.status.say(text, kind, detail=detail, owner=run.number)
        self.view.show_table()
        self.view.offer()

    def _view_failed(self, run: Run, error: Exception) -> None:
        """Say in the status line that the view of ``run`` failed; nothing here may raise."""
        try:
            self.status.say(f"Run {run.number}: the view failed ({type(error).__name__}: "
                            f"{error}); the run goes on and its figure stays at its last "
                            "frame.", "error", detail=traceback.format_exc(), owner=run.number)
            self.view.show_table()
        except Exception:  # the run must go on; LiveRun.view_error keeps the first error
            pass


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())
