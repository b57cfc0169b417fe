"""The terminal side of ``make report``: one live line per notebook, fed by the progress
bars that the notebook's kernel writes to its stderr."""

from __future__ import annotations

import re
import shutil
import sys
import threading
import time

from tqdm import tqdm

# A progress bar that run_many writes as text to the kernel's stderr (BNNET_PROGRESS=text):
# "coarse search:  70%|#######   | 14/20 [02:41<01:10,  8.05s/run]"
TQDM_LINE = re.compile(r"([^\r\n]*?):\s+\d+%\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([\d:]+)<([\d:?]+)")


def parse_progress(text: str) -> tuple[str, int, int, str] | None:
    """The last tqdm state in a chunk of stderr: (description, done, total, time left)."""
    matches = list(TQDM_LINE.finditer(text))
    if not matches:
        return None
    desc, done, total, _, left = matches[-1].groups()
    return desc.strip(), int(done), int(total), left


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class NotebookProgress:
    """One live line per notebook on the terminal, fed by the kernel's stderr (papermill's
    ``stderr_file``): ``[3/7] 03_lambda_search  coarse search 14/20 runs  2:41 elapsed,
    ~1:10 left``. Other stderr text (warnings, library chatter) is dropped; it stays in the
    executed notebook."""

    def __init__(self, index: int, count: int, name: str):
        self.prefix = f"[{index}/{count}] {name}"
        self.start = time.monotonic()
        self.state: tuple[str, int, int, str] | None = None
        interactive = sys.stderr.isatty()
        size = shutil.get_terminal_size((100, 20))  # a pty may report 0 x 0: tqdm hides bars
        self.bar = tqdm(total=None, bar_format="{desc}", file=sys.stderr, leave=True,
                        mininterval=0.5 if interactive else 60, ncols=size.columns or 100,
                        nrows=size.lines or 20)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True,
                                        args=(1.0 if interactive else 60.0,))
        self._ticker.start()
        self.refresh()

    def line(self) -> str:
        elapsed = clock(time.monotonic() - self.start)
        if self.state is None:
            return f"{self.prefix}  {elapsed} elapsed"
        desc, done, total, left = self.state
        eta = "" if done >= total or "?" in left else f", ~{left} left"
        return f"{self.prefix}  {desc} {done}/{total} runs  {elapsed} elapsed{eta}"

    def refresh(self) -> None:
        self.bar.set_description_str(self.line(), refresh=True)

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.refresh()

    # papermill writes the kernel's stderr here
    def write(self, text: str) -> int:
        state = parse_progress(text)
        if state is not None and state != self.state:
            self.state = state
            self.refresh()
        return len(text)

    def flush(self) -> None:
        pass

    def close(self, outcome: str) -> None:
        self._stop.set()
        self._ticker.join()
        self.bar.set_description_str(
            f"{self.prefix}  {outcome} in {clock(time.monotonic() - self.start)}", refresh=False)
        self.bar.close()  # draws the final line once and ends it

