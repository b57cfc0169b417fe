"""The explorer's status line: one sentence, its detail (a traceback) one click away, and
one owner.

What the line says belongs to its owner, the newest run: a run's thread says something
only while its run owns the line (:meth:`StatusLine.say` with ``owner``), and a new run
takes the line over (:meth:`StatusLine.hand_over`) under the same lock, so an older run
that ends late can never write over the newer one's "loading...".
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

COLOURS = {"info": "inherit", "error": "#b00020", "done": "#1b5e20"}


class StatusLine:
    """A sentence (``kind`` colours it) and an optional detail, in one ``widgets.HTML``."""

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.widget.add_class("bnnet-status")
        self.text = ""
        self.detail = ""
        self.kind = "info"
        self.owner = 0  # the explorer itself, until its first run takes the line
        self._lock = threading.RLock()

    @property
    def value(self) -> str:
        """The HTML shown."""
        return self.widget.value

    def say(self, text: str, kind: str = "info", *, detail: str = "",
            owner: int | None = None) -> bool:
        """Show ``text`` (and ``detail`` behind a click); with ``owner``, only if that run
        owns the line (``0``: no run has taken it yet). Whether it was shown."""
        with self._lock:
            if owner is not None and owner != self.owner:
                return False
            self.text, self.detail, self.kind = text, detail, kind
            self.widget.value = render(text, kind, detail)
            return True

    def hand_over(self, owner: int, text: str) -> None:
        """Run ``owner`` owns the line from now on, and says ``text``."""
        with self._lock:
            self.owner = owner
            self.say(text)


def render(text: str, kind: str, detail: str = "") -> str:
    """The line's HTML: the sentence, then the detail in a ``<details>`` element."""
    line = f'<span style="color:{COLOURS[kind]}">{html.escape(text)}</span>'
    if not detail:
        return line
    return (f'{line}<details class="bnnet-status-detail"><summary>details (traceback)'
            f'</summary><pre style="font-size:11px;white-space:pre-wrap">{html.escape(detail)}'
            "</pre></details>")
