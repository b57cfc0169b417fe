"""`make study-pages`: the committed pages of the study (report/notebooks/) from the executed
notebooks of the last `make report` (report/executed/) and its figures.

`make report` writes them itself; this is for executed notebooks a build left before it
did. The command line of bnnet.report.pages; `python scripts/study_pages.py --help` lists
the options.
"""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import sys

from bnnet.report.pages import main

if __name__ == "__main__":
    sys.exit(main())
