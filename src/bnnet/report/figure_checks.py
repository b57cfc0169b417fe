"""Rules a figure must meet before it is saved: a legend a reader can scan, and a shape a
printed page can hold."""

from __future__ import annotations


class FigureError(ValueError):
    """A figure that a printed page cannot hold or a reader cannot scan."""


#: At most this many legend entries in one figure: more belong in small multiples.
MAX_LEGEND_ENTRIES = 8
#: Height / width of a saved figure: above this, at the text width it would be taller than
#: the text block of the page (letter paper, 1-inch margins, room for the caption) ...
MAX_HEIGHT_TO_WIDTH = 1.2
#: ... and width / height: above this, at the text width its lettering becomes unreadable.
MAX_WIDTH_TO_HEIGHT = 4.0
#: The size a figure is printed at, in inches: 0.95 of A4's text width (1-inch margins; US
#: letter's is wider) and at most 0.75 of its text height (see ``show_figure``).
PRINT_WIDTH, PRINT_HEIGHT = 0.95 * 6.27, 0.75 * 9.69
#: The smallest lettering (legends, tick labels, titles) at print size, in points.
MIN_PRINTED_POINTS = 7.0


def printed_scale(width_px: int, height_px: int, dpi: float) -> float:
    """How much the saved figure is scaled on the page (it fills the print width unless
    that would make it taller than the print height)."""
    return min(PRINT_WIDTH / (width_px / dpi), PRINT_HEIGHT / (height_px / dpi))


def check_lettering(fig, scale: float, name: str) -> None:
    """Refuse lettering smaller than :data:`MIN_PRINTED_POINTS` once the figure is printed
    at ``scale`` (call after the figure has been drawn, so that tick labels exist)."""
    texts = [t for t in fig.findobj(match=lambda a: hasattr(a, "get_fontsize")
                                    and hasattr(a, "get_text"))
             if t.get_visible() and t.get_text().strip()]
    if not texts:
        return
    smallest = min(texts, key=lambda t: t.get_fontsize())
    printed = smallest.get_fontsize() * scale
    if printed < MIN_PRINTED_POINTS:
        raise FigureError(
            f"figure {name}: its smallest lettering ({smallest.get_text()!r}, "
            f"{smallest.get_fontsize():g} pt) is printed at {printed:.1f} pt, below "
            f"{MIN_PRINTED_POINTS:g} pt: the figure is scaled by {scale:.2f} to fit the page; "
            "use a narrower figsize or larger fonts")


def legend_entries(fig) -> int:
    """The number of legend entries over all axes and figure legends of ``fig``."""
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return sum(len(legend.get_texts()) for legend in legends if legend is not None)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG image (from its header)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def check_figure_shape(width: int, height: int, name: str) -> None:
    """Refuse an aspect ratio no page can hold (see :data:`MAX_HEIGHT_TO_WIDTH`)."""
    if height > MAX_HEIGHT_TO_WIDTH * width:
        raise FigureError(
            f"figure {name} is {width} x {height} px (height/width {height / width:.2f} > "
            f"{MAX_HEIGHT_TO_WIDTH}): at the text width it is taller than a page; use fewer "
            "rows of panels or a wider figsize")
    if width > MAX_WIDTH_TO_HEIGHT * height:
        raise FigureError(
            f"figure {name} is {width} x {height} px (width/height {width / height:.2f} > "
            f"{MAX_WIDTH_TO_HEIGHT}): at the text width its text is unreadably small; wrap "
            "the panels into more rows")


def check_legend(fig, name: str) -> None:
    """Refuse more than :data:`MAX_LEGEND_ENTRIES` legend entries."""
    entries = legend_entries(fig)
    if entries > MAX_LEGEND_ENTRIES:
        raise FigureError(
            f"figure {name} has {entries} legend entries (at most {MAX_LEGEND_ENTRIES}): a "
            "reader cannot scan them; draw small multiples (one panel per group) and "
            "average over seeds")
