"""A finding of the report, replayed live (:class:`Replayer`): the preset's arms trained one
after the other in a thread of their own, overlaid, and the report's numbers beside the
ones measured here.

The replay sets the controls to each arm, as a user would, and starts the arm's run through
the explorer's :class:`~bnnet.explore.runner.Runner`, under its lock: Train, Stop, picking
another preset and closing the explorer cancel the replay, and a cancelled replay starts no
further run.
"""

from __future__ import annotations

import threading
import traceback

from bnnet.core.config import ConfigError
from bnnet.explore.controls import ControlPanel
from bnnet.explore.presets import BY_KEY, Measured, Preset
from bnnet.explore.runner import Runner
from bnnet.explore.view import View


class Replayer:
    """Replays presets (:meth:`start`) with ``runner``'s runs, setting ``panel``'s controls
    and showing the findings in ``view``."""

    def __init__(self, runner: Runner, panel: ControlPanel, view: View):
        self.runner, self.panel, self.view = runner, panel, view
        self.thread: threading.Thread | None = None
        self._cancelled: threading.Event | None = None  # set: the replay is cancelled
        panel.preset.observe(lambda _: self.picked(), names="value")

    @property
    def running(self) -> bool:
        """A replay is in progress."""
        return self.thread is not None and self.thread.is_alive()

    def start(self, preset: Preset) -> None:
        """Replay ``preset`` in a thread; a replay in progress is cancelled first."""
        self.cancel()
        cancelled = self._cancelled = threading.Event()
        self.thread = threading.Thread(target=self._replay, args=(preset, cancelled),
                                       daemon=True, name="bnnet-explorer-replay")
        self.thread.start()

    def cancel(self) -> None:
        """The replay in progress starts no further run (its current run goes on until
        stopped)."""
        with self.runner.lock:  # a replay starts its next run under this lock, if not cancelled
            if self._cancelled is not None:
                self._cancelled.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the replay's thread has ended; ``False`` if ``timeout`` seconds
        passed first."""
        if self.thread is None:
            return True
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def picked(self) -> None:
        """A preset was picked: a replay in progress ends, the controls take the preset's
        first arm and the findings panel quotes the report."""
        if self.running:  # another finding: the replay of the last one ends
            self.cancel()
            self.runner.stop_latest()
        key = self.panel.preset.value
        self.panel.replay_button.disabled = key is None or bool(self.runner.closed)
        if key is None:
            self.view.clear_findings()
            return
        preset = BY_KEY[key]
        self.panel.set(**preset.values(preset.trained[0]))
        self.view.show_findings(preset, {})

    def _replay(self, preset: Preset, cancelled: threading.Event) -> None:
        measured: dict[str, Measured] = {}
        numbers = []
        try:
            for arm in preset.trained:
                values = preset.values(arm)
                with self.runner.lock:
                    if cancelled.is_set():
                        return
                    self.panel.set(**values)
                    try:
                        run = self.runner.start(values, preset.curve_points)
                    except ConfigError:  # the status line says why
                        return
                numbers.append(run.number)
                run.live.wait()
                result = run.live.result if run.live.state == "done" else None
                measured[arm.name] = Measured(run.label, result.test_accuracy if result
                                              else None, run.live.state)
                self.view.show_findings(preset, measured)
                if run.live.state == "stopped":
                    return
            shown = [n for n in numbers if self.runner.runs[n - 1].live.rows]
            if shown:
                self.view.picker.value = tuple(shown)
        except Exception as e:  # a replay reports, it never raises into a thread
            self.runner.status.hold(f"The replay of {preset.title!r} failed: "
                                    f"{type(e).__name__}: {e}", detail=traceback.format_exc())
