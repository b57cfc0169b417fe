"""`make data`: make sure CIFAR-10 is available (download, verify md5, extract, cache)."""

from __future__ import annotations

import sys
import time

import bnnet
from bnnet.data import DataError, default_data_dir


def main() -> int:
    start = time.perf_counter()
    try:
        data = bnnet.load_cifar10(download=True)
    except DataError as e:
        print(f"make data: {e}", file=sys.stderr)
        return 1
    print(f"CIFAR-10 ready in {data.source} ({default_data_dir()}): "
          f"{len(data.y_train)} train / {len(data.y_val)} val / {len(data.y_test)} test, "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
