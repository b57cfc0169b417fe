"""The explorer: train a network from sliders and watch it learn, live, in a notebook.

The project's third use, beside the batch study (:mod:`bnnet.study`) and the PDF report
(:mod:`bnnet.report`); it imports :mod:`bnnet.study` and the floors beneath it, never
:mod:`bnnet.report`, and the report never imports it. Its rooms:

- :mod:`~bnnet.explore.explorer`: the widget (:class:`Explorer`), a facade over four parts
  of one concern each, which it builds and wires:

  - :mod:`~bnnet.explore.controls`: the controls, buttons and preset picker
    (:class:`~bnnet.explore.controls.ControlPanel`);
  - :mod:`~bnnet.explore.view`: the live figure, the findings, the runs table and the
    overlay (:class:`~bnnet.explore.view.View`);
  - :mod:`~bnnet.explore.runner`: the runs, started and stopped one at a time, and what
    their threads report (:class:`~bnnet.explore.runner.Runner`);
  - :mod:`~bnnet.explore.replay`: a preset's arms trained one after the other
    (:class:`~bnnet.explore.replay.Replayer`);

  and :mod:`~bnnet.explore.status`, the status line they share, with one owner at a time;
- :mod:`~bnnet.explore.live`: one run in a background thread, watched and stopped;
- :mod:`~bnnet.explore.runs`: the runs, what the status line says of them, and their table;
- :mod:`~bnnet.explore.data`: CIFAR-10 kept in the kernel between runs, within a memory
  limit;
- :mod:`~bnnet.explore.settings`: the controls' values into a Config and back into code;
- :mod:`~bnnet.explore.plots`: the live view and the overlay;
- :mod:`~bnnet.explore.presets`, :mod:`~bnnet.explore.committed`: the report's findings
  replayed, beside the report's committed numbers;
- :mod:`~bnnet.explore.lifecycle`: explorers that never outlive their cell or kernel.

Imports flow one way: explorer imports its parts; replay imports runner, view and
controls; runner imports view and status; view imports status; none imports the explorer
or a part above it, and all of them import down to the modules below (plots, and the
widget-free runs, live, data, settings, presets, committed).

``from bnnet.explore import Explorer`` needs ipywidgets and Matplotlib (``pip install
"bnnet[explore]"``); without them the import says so. The widget-free modules (settings,
presets, committed, live, runs, data, lifecycle) import without them.
"""

from __future__ import annotations

from typing import Any

#: what to install for the explorer (an extra of pyproject.toml)
EXTRA = "bnnet[explore]"
#: the modules the explorer's widget and figures need beyond bnnet's own dependencies
WIDGET_MODULES = ("ipywidgets", "matplotlib", "IPython", "traitlets")


def __getattr__(name: str) -> Any:
    if name != "Explorer":
        raise AttributeError(f"module 'bnnet.explore' has no attribute {name!r}")
    try:
        from bnnet.explore.explorer import Explorer
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in WIDGET_MODULES:
            raise
        raise ImportError(f"the explorer needs {e.name}, which is not installed: "
                          f'pip install "{EXTRA}" (ipywidgets and Matplotlib; JupyterLab to '
                          "show it)") from e
    return Explorer


__all__ = ["EXTRA", "Explorer"]
