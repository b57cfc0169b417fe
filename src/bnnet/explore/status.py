"""The explorer's status line: one sentence, its detail (a traceback) one click away, and
one owner at a time.

The sentence belongs to its owner:

- **the newest run**, from the moment it is started (:meth:`StatusLine.hand_over`): its
  thread says "loading...", "training: epoch ...", and how it ended. An older run says
  nothing any more (:meth:`StatusLine.say` with ``owner`` checks, under the line's lock),
  so a run that ends late can never write over the newer one's "loading...".
- **an error of the user's last action** ("Cannot train: ...", "Cannot replay: ...";
  :meth:`StatusLine.hold`). It stays until the user starts or stops a run, which hands the
  line to that run again. Meanwhile the run that trains goes on reporting, on a smaller
  second line beneath the error (:attr:`StatusLine.aside`): the user reads why Train was
  refused and still sees the run they kept, and how it ends.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

COLOURS = {"info": "inherit", "error": "#b00020", "done": "#1b5e20"}
#: the owner of the line while an error holds it (runs are numbered from 1; 0 is the
#: explorer itself before its first run)
HELD = -1


class StatusLine:
    """A sentence (``kind`` colours it) and an optional detail, in one ``widgets.HTML``;
    while an error holds the line, the newest run's sentence beneath it."""

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.widget.add_class("bnnet-status")
        self.text = ""
        self.detail = ""
        self.kind = "info"
        self.owner = 0  # the explorer itself, until its first run takes the line
        self.run = 0  # the newest run, which owns the line unless an error holds it
        self.aside = ""  # what that run says while an error holds the line
        self.aside_kind = "info"
        self.aside_detail = ""
        self._lock = threading.RLock()

    @property
    def value(self) -> str:
        """The HTML shown."""
        return self.widget.value

    @property
    def held(self) -> bool:
        """An error of the user's last action holds the line."""
        return self.owner == HELD

    def say(self, text: str, kind: str = "info", *, detail: str = "",
            owner: int | None = None) -> bool:
        """Show ``text`` (and ``detail`` behind a click); with ``owner``, only if that run
        owns the line (``0``: no run has taken it yet). While an error holds the line, the
        newest run's ``text`` goes beneath it, to :attr:`aside`, and an older run's
        nowhere. Whether it became the line's sentence."""
        with self._lock:
            if owner is not None and owner != self.owner:
                if self.held and owner == self.run:
                    self.aside, self.aside_kind, self.aside_detail = text, kind, detail
                    self._render()
                return False
            self.text, self.detail, self.kind = text, detail, kind
            self._render()
            return True

    def hold(self, text: str, kind: str = "error", *, detail: str = "") -> None:
        """``text`` takes the line from every run until :meth:`hand_over`: the newest
        run's sentences go beneath it (:attr:`aside`), starting with the one it last said
        in the line."""
        with self._lock:
            if self.run and self.owner == self.run:  # the run's sentence moves beneath
                self.aside, self.aside_kind, self.aside_detail = (self.text, self.kind,
                                                                  self.detail)
            self.owner = HELD
            self.say(text, kind, detail=detail)

    def hand_over(self, owner: int, text: str) -> None:
        """Run ``owner`` owns the line from now on (an error that held it is gone), and
        says ``text``."""
        with self._lock:
            self.owner = self.run = owner
            self.aside, self.aside_kind, self.aside_detail = "", "info", ""
            self.say(text)

    def _render(self) -> None:
        self.widget.value = render(self.text, self.kind, self.detail) + (
            render(self.aside, self.aside_kind, self.aside_detail, aside=True)
            if self.aside else "")


def render(text: str, kind: str, detail: str = "", *, aside: bool = False) -> str:
    """The line's HTML: the sentence, then the detail in a ``<details>`` element; an
    ``aside`` in a smaller block of its own."""
    line = f'<span style="color:{COLOURS[kind]}">{html.escape(text)}</span>'
    if aside:
        line = (f'<div class="bnnet-status-aside" style="font-size:smaller">'
                f"{line}</div>")
    if not detail:
        return line
    return (f'{line}<details class="bnnet-status-detail"><summary>details (traceback)'
            f'</summary><pre style="font-size:11px;white-space:pre-wrap">{html.escape(detail)}'
            "</pre></details>")
