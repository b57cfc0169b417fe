"""Progress bars of sweeps: a widget in JupyterLab, plain text for ``make report``."""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm.auto import tqdm
from tqdm.std import tqdm as text_tqdm

#: ``BNNET_PROGRESS=text``: progress bars as plain text on stderr (``make report`` reads
#: them from the kernel's stderr to show one live line per notebook) instead of widgets.
PROGRESS_ENV = "BNNET_PROGRESS"


def progress_bar(**kwargs: Any) -> tqdm:
    """A tqdm bar: a widget in JupyterLab, plain text on stderr under ``BNNET_PROGRESS=text``."""
    if os.environ.get(PROGRESS_ENV) == "text":
        return text_tqdm(file=sys.stderr, mininterval=0.5, **kwargs)
    return tqdm(**kwargs)
