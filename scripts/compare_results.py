"""Compare two folders of report CSVs cell by cell, value columns only (timing aside).

Usage: python scripts/compare_results.py OLD_RESULTS_DIR NEW_RESULTS_DIR

Every CSV of OLD must exist in NEW with the same columns and rows; each cell is compared as
the text written to the file (so "bit for bit" as far as the CSV shows it), except columns
that hold wall times (a name with "seconds" or "minutes"). Prints one line per file and a
summary; exits 1 when any value cell differs.
"""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import sys
from pathlib import Path

import pandas as pd

TIMING = ("seconds", "minutes")


def compare(old: Path, new: Path) -> tuple[int, int]:
    """(value cells compared, cells that differ) of one pair of CSV files."""
    a = pd.read_csv(old, dtype=str, keep_default_na=False)
    b = pd.read_csv(new, dtype=str, keep_default_na=False)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        print(f"{old.name}: shape or columns differ: {a.shape} {list(a.columns)} vs "
              f"{b.shape} {list(b.columns)}")
        return a.size, a.size
    values = [c for c in a.columns if not any(t in c for t in TIMING)]
    differ = a[values] != b[values]
    for row, col in zip(*differ.to_numpy().nonzero(), strict=True):
        print(f"  {old.name} row {row} {values[col]!r}: {a[values].iat[row, col]!r} -> "
              f"{b[values].iat[row, col]!r}")
    return differ.size, int(differ.to_numpy().sum())


def main() -> int:
    old_dir, new_dir = (Path(p) for p in sys.argv[1:3])
    total = bad = 0
    for old in sorted(old_dir.glob("*.csv")):
        new = new_dir / old.name
        if not new.is_file():
            print(f"{old.name}: missing in {new_dir}")
            bad += 1
            continue
        cells, differ = compare(old, new)
        total, bad = total + cells, bad + differ
        print(f"{old.name}: {cells} value cells, {differ} differ")
    print(f"{len(list(old_dir.glob('*.csv')))} files, {total} value cells compared, "
          f"{bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
