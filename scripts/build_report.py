"""`make report`: run the notebooks with papermill, then build one PDF with nbconvert.

The command line of bnnet.report.build; `python scripts/build_report.py --help` lists the
options.
"""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import os
import signal
import sys

from bnnet.report.build import main


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # A handler of our own: asyncio (under papermill) replaces only Python's default SIGINT
    # handler, with one that cancels a task that nbclient goes on from; ours stops the build.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nmake report: interrupted. Finished training runs are cached; run make report "
              "again to resume from there.", file=sys.stderr, flush=True)
        os._exit(130)  # skip asyncio's reports about the notebook tasks it abandoned
