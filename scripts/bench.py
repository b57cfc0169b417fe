"""`make bench`: bnnet against its BLAS floor, PyTorch eager and torch.compile (CPU).

One run, interleaved, median of --reps repetitions of one training epoch (45,000 images,
batch 100, float32, BN before the ReLU, course-default sizes) of the 3-layer and the 9-layer
net, by:

- ``floor``: the mini-batch gathers and the matrix products of forward and backward alone
  (same shapes): what any step built on BLAS products pays;
- ``bnnet``: the fast path (``kernels="numba"``, compiled element-wise kernels), on the
  pinned BLAS kernel (``bnnet.blas``, Haswell by default);
- ``bnnet detected``: the same in a second process where OpenBLAS picks the kernel of this
  CPU (``BNNET_BLAS_CORETYPE=detected``): what the pinned kernel costs;
- ``bnnet numpy``: the NumPy reference (``kernels="numpy"``);
- ``pytorch``: an equivalent model (Linear + BatchNorm1d + ReLU, plain SGD with weight
  decay), eager, and ``torch.compile``: the same training step compiled (inductor, CPU);

and eval-mode prediction of 10,000 images (bnnet, PyTorch). Every library uses the same
number of threads. "% of limit" is the FLOPs of the matrix products divided by the float32
matmul throughput measured here. Each row of NumPy's OpenBLAS says which kernel it ran on.

Needs PyTorch: pip install -r requirements-bench.txt (torch==2.13.0, CPU build).
Writes report/results/bench.csv (or --out).
"""

from __future__ import annotations

import bnnet.blas  # first: pins the BLAS kernel before NumPy loads

import argparse
import contextlib
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import bnnet
from bnnet.core.network import init_params, predict_scores
from bnnet.core.optimizers import SGD
from bnnet.core.train import STEPS, minibatches

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN, D, C, BATCH = 45_000, 3072, 10, 100
FLOOR = "floor"
#: Libraries with their own BLAS (not NumPy's OpenBLAS): no kernel to name.
TORCH = ("pytorch", "torch.compile")


def reset_peak_rss() -> None:
    """Reset the kernel's high-water mark of this process's RSS (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def matmul_gflops(n: int = 2048, reps: int = 5) -> float:
    """Best float32 throughput of a large np.matmul, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_time(lambda: a @ b) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def epoch_flops(sizes: list[int], n: int, batch: int) -> float:
    """Matrix-product FLOPs of one epoch: forward s = xW, backward dW = x^T ds and
    dx = ds W^T (not for the input layer), 2 FLOPs per multiply-add."""
    per_row = sum(3 * a * b for a, b in itertools.pairwise(sizes))
    per_row -= sizes[0] * sizes[1]  # no dx for the first layer
    return 2.0 * per_row * (n // batch) * batch


def _time(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def floor_epoch(config: bnnet.Config, X: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The gathers and the matrix products of one epoch, nothing else: forward s = x W,
    backward dW = x^T ds and dx = ds W^T (not for the input layer), into reused buffers."""
    rng = np.random.default_rng(0)
    sizes = [X.shape[1], *config.hidden, C]
    Ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.01
          for a, b in itertools.pairwise(sizes)]
    outs = [np.empty((BATCH, b), np.float32) for b in sizes[1:]]
    dxs = [np.empty((BATCH, a), np.float32) for a in sizes[:-1]]
    dWs = [np.empty_like(W) for W in Ws]
    X_batch = np.empty((BATCH, X.shape[1]), np.float32)

    def run() -> None:
        order = rng.permutation(len(y))
        for j in range(len(y) // BATCH):
            np.take(X, order[j * BATCH : (j + 1) * BATCH], axis=0, out=X_batch)
            h = X_batch
            for W, out in zip(Ws, outs, strict=True):
                h = np.matmul(h, W, out=out)
            g = outs[-1]
            for layer in range(len(Ws) - 1, -1, -1):
                np.matmul((outs[layer - 1] if layer else X_batch).T, g, out=dWs[layer])
                if layer:
                    g = np.matmul(g, Ws[layer].T, out=dxs[layer])

    return run


def bnnet_epoch(config: bnnet.Config, X: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One epoch as :func:`bnnet.fit` runs it (without its logging), on the path of
    ``config.kernels``."""
    params = init_params(config, X.shape[1], C)
    rng = np.random.default_rng(0)
    config = config.replace(batch_size=BATCH)
    step = STEPS[config.kernels](params, config, SGD(params, config.lam), X, y)
    epoch = config.replace(n_s=len(y) // BATCH // 2, cycles=1)  # n_updates = one epoch

    def run() -> None:
        for rows, draws in minibatches(len(y), epoch, rng, rng):
            step(rows, draws, 0.01, config.alpha)

    return run


def bnnet_predict(config: bnnet.Config, X: np.ndarray) -> Callable[[], None]:
    params = init_params(config, X.shape[1], C)
    return lambda: predict_scores(params, X, config)


def torch_model(hidden: tuple[int, ...]):
    import torch

    layers, d = [], D
    for h in hidden:
        layers += [torch.nn.Linear(d, h, bias=False), torch.nn.BatchNorm1d(h, momentum=0.1),
                   torch.nn.ReLU()]
        d = h
    layers.append(torch.nn.Linear(d, C))
    return torch.nn.Sequential(*layers)


def torch_epoch(config: bnnet.Config, X: np.ndarray, y: np.ndarray, *,
                compiled: bool = False) -> Callable[[], None]:
    """One epoch of the equivalent PyTorch model; with ``compiled`` the training step
    (forward, backward, SGD update) goes through ``torch.compile`` (inductor)."""
    import torch

    model = torch_model(config.hidden)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, weight_decay=2 * config.lam)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)

    def train_step(xb, yb) -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    step = torch.compile(train_step) if compiled else train_step

    def run() -> None:
        model.train()
        order = torch.randperm(len(yt), generator=gen)
        for j in range(len(yt) // BATCH):
            idx = order[j * BATCH : (j + 1) * BATCH]
            step(Xt[idx], yt[idx])

    return run


def torch_predict(config: bnnet.Config, X: np.ndarray) -> Callable[[], None]:
    import torch

    model = torch_model(config.hidden).eval()
    Xt = torch.from_numpy(X)

    def run() -> None:
        with torch.inference_mode():
            model(Xt)

    return run


def inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random normalised inputs (speed does not depend on pixel values): training X, y and
    10,000 test images."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_TRAIN, D), dtype=np.float32)
    y = rng.integers(0, C, N_TRAIN)
    return X, y, rng.standard_normal((10_000, D), dtype=np.float32)


def serve_epochs(threads: int) -> int:
    """The second process of ``bnnet detected``: one fast-path epoch of the net named on
    each line of stdin; prints its kernel first, then a line per epoch done."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    X, y, _ = inputs()
    epochs = {name: bnnet_epoch(bnnet.Config(hidden=hidden, bn="before"), X, y)
              for name, hidden in bnnet.NETS.items()}
    print(bnnet.blas.loaded()["kernel"], flush=True)
    for line in sys.stdin:
        epochs[line.strip()]()
        print("done", flush=True)
    return 0


class DetectedKernel:
    """The fast path in a process of its own whose OpenBLAS picks this CPU's kernel; an
    epoch is a request to it, so that its repetitions interleave with the others."""

    def __init__(self, threads: int):
        env = {k: v for k, v in os.environ.items()
               if k not in (bnnet.blas.CORETYPE_ENV, bnnet.blas.CHOICE_ENV)}
        env[bnnet.blas.CHOICE_ENV] = bnnet.blas.DETECTED
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-epochs", "--threads", str(threads)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.kernel = self.proc.stdout.readline().strip()

    def epoch(self, net: str) -> Callable[[], None]:
        def run() -> None:
            self.proc.stdin.write(net + "\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "done"
        return run

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "report" / "results" / "bench.csv")
    parser.add_argument("--serve-epochs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_epochs:
        return serve_epochs(args.threads)
    try:
        import torch
    except ImportError:
        print("bench: PyTorch is not installed. Install the CPU build with\n"
              "    .venv/bin/pip install -r requirements-bench.txt\n"
              "(torch==2.13.0; on this kind of machine a local CPU wheel is used).",
              file=sys.stderr)
        return 1
    if not (shutil.which("c++") or shutil.which("g++")):
        print("bench: torch.compile (inductor) compiles C++ and needs a compiler; none found.\n"
              "Install one, e.g. `apt-get install g++`, and run `make bench` again.",
              file=sys.stderr)
        return 1
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    X, y, X_test = inputs()
    limit = matmul_gflops()
    pinned = bnnet.blas.loaded()["kernel"]
    detected = DetectedKernel(args.threads)
    print(f"float32 matmul limit: {limit:.1f} GFLOP/s ({args.threads} threads); BLAS kernel "
          f"{pinned} ({bnnet.blas.origin()}), {detected.kernel} where detected")
    kernel = {"bnnet detected": detected.kernel}
    cases = {}
    for name, hidden in bnnet.NETS.items():
        config = bnnet.Config(hidden=hidden, bn="before")
        sizes = [D, *hidden, C]
        flops = epoch_flops(sizes, N_TRAIN, BATCH)
        train = {
            FLOOR: floor_epoch(config, X, y),
            "bnnet": bnnet_epoch(config, X, y),
            "bnnet detected": detected.epoch(name),
            "bnnet numpy": bnnet_epoch(config.replace(kernels="numpy"), X, y),
            "pytorch": torch_epoch(config, X, y),
            "torch.compile": torch_epoch(config, X, y, compiled=True),
        }
        for library, fn in train.items():
            cases[(name, "train epoch", library)] = (fn, flops)
        pred_flops = 2.0 * 10_000 * sum(a * b for a, b in itertools.pairwise(sizes))
        cases[(name, "predict 10k", "bnnet")] = (bnnet_predict(config, X_test), pred_flops)
        cases[(name, "predict 10k", "pytorch")] = (torch_predict(config, X_test), pred_flops)

    times: dict[tuple, list[float]] = {k: [] for k in cases}
    rss: dict[tuple, float] = {}
    for key, (fn, _) in cases.items():  # warm-up (torch.compile compiles here), peak RSS
        reset_peak_rss()
        fn()
        rss[key] = peak_rss_mib() if key[2] != "bnnet detected" else float("nan")  # elsewhere
    for rep in range(args.reps):  # interleaved repetitions
        for key, (fn, _) in cases.items():
            times[key].append(_time(fn))
        print(f"repetition {rep + 1}/{args.reps} done", flush=True)
    detected.close()

    median = {key: statistics.median(t) for key, t in times.items()}
    rows = []
    for (net, task, lib), (_, flops) in cases.items():
        t = median[(net, task, lib)]
        rows.append({"net": net, "task": task, "library": lib, "seconds": t,
                     "ratio_to_floor": t / median.get((net, task, FLOOR), np.nan),
                     "ratio_to_pytorch": t / median[(net, task, "pytorch")],
                     "ratio_to_torch_compile": t / median.get((net, task, "torch.compile"),
                                                              np.nan),
                     "percent_of_limit": 100 * flops / t / 1e9 / limit,
                     "peak_rss_mib": rss[(net, task, lib)],
                     "blas_kernel": kernel.get(lib, "" if lib in TORCH else pinned)})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.assign(matmul_limit_gflops=limit, threads=args.threads).to_csv(args.out, index=False)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
