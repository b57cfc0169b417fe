"""`make data`: make sure CIFAR-10 is available (download, verify md5, extract, cache).

The archive's address and md5 can be overridden with BNNET_CIFAR10_URL and
BNNET_CIFAR10_MD5; BNNET_DATA_DIR points at a copy that is already there.
"""

from __future__ import annotations

import bnnet.blas  # first: pins the BLAS kernel before NumPy loads

import sys
import time

import bnnet
from bnnet.cifar10 import DataError, ensure_cifar10


def main() -> int:
    start = time.perf_counter()
    try:
        folder, _ = ensure_cifar10()
        data = bnnet.load_cifar10(folder)
    except DataError as e:
        print(f"make data: {e}", file=sys.stderr)
        return 1
    print(f"CIFAR-10 ready in {folder}: {len(data.y_train)} train / {len(data.y_val)} val / "
          f"{len(data.y_test)} test, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
