"""How quickly the explorer answers (notebooks/00_explore.ipynb), driven from code.

Times, for --reps repetitions after one warm-up (data loaded, kernels compiled, as after
the explorer's preload): from pressing Train to the first curve point drawn (the figure's
first PNG), and to the run's end (final accuracy in the status line); and from pressing
Stop during a long run to its end. The run is the explorer's default: the 3-layer BN net,
2 epochs on 10,000 CIFAR-10 images (a 9-layer row with --deep). With --presets, each
preset's replay from Replay to its last run's end (every arm trained, overlaid, the
report's numbers beside the explorer's). Medians and maxima are printed; nothing is
written.

    BNNET_DATA_DIR=... .venv/bin/python scripts/explore_latency.py --reps 5 --deep --presets
"""

from __future__ import annotations

import bnnet.blas  # noqa: F401  (first: pins the BLAS kernel before NumPy loads)

import argparse
import statistics
import time

from bnnet.explore import Explorer
from bnnet.explore.presets import PRESETS


def time_run(explorer: Explorer) -> tuple[float, float]:
    """Seconds from Train to the first figure, and to the end of the run."""
    explorer.figure.value = b""
    pressed = time.perf_counter()
    explorer.buttons["train"].click()
    while not explorer.figure.value:
        time.sleep(0.002)
    first = time.perf_counter() - pressed
    explorer.wait()
    assert explorer.runs[-1].live.state == "done", explorer.status.value
    return first, time.perf_counter() - pressed


def time_stop(explorer: Explorer) -> float:
    """Seconds from Stop, during a long run, to its end."""
    explorer.set(n_s=100_000)
    run = explorer.train()
    while len(run.live.rows) < 2:
        time.sleep(0.01)
    pressed = time.perf_counter()
    explorer.buttons["stop"].click()
    explorer.wait()
    assert run.live.state == "stopped"
    return time.perf_counter() - pressed


def time_replay(explorer: Explorer, key: str) -> float:
    """Seconds from Replay to the end of the preset's last run."""
    before = len(explorer.runs)
    pressed = time.perf_counter()
    explorer.replay(key)
    explorer.wait()
    took = time.perf_counter() - pressed
    runs = explorer.runs[before:]
    assert runs and all(r.live.state == "done" for r in runs), explorer.status.text
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--deep", action="store_true", help="also the 9-layer net at sigma 1e-3")
    parser.add_argument("--presets", action="store_true", help="also every preset's replay")
    args = parser.parse_args()
    explorer = Explorer(preload=False)
    start = time.perf_counter()
    explorer.loader(10_000)
    print(f"loading 10,000 training images: {time.perf_counter() - start:.2f} s (once per kernel)")
    cases = {"3-layer BN, 2 epochs, 10,000 images": {}}
    if args.deep:
        cases["9-layer BN, sigma 1e-3, 2 epochs"] = {"layers": 9, "init": "normal", "sigma": 1e-3}
    for name, values in cases.items():
        explorer.reset()
        explorer.set(**values)
        time_run(explorer)  # warm-up: compiled kernels loaded
        times = [time_run(explorer) for _ in range(args.reps)]
        first, done = zip(*times, strict=True)
        print(f"{name}: first curve point {statistics.median(first):.2f} s (max "
              f"{max(first):.2f}), done {statistics.median(done):.2f} s (max {max(done):.2f}), "
              f"{args.reps} runs")
    explorer.reset()
    stops = [time_stop(explorer) for _ in range(args.reps)]
    print(f"Stop to the end of a run: median {statistics.median(stops):.3f} s, "
          f"max {max(stops):.3f} s")
    if args.presets:
        for size in {p.common.get("n_train", 10_000) for p in PRESETS}:
            explorer.loader(size)  # loaded once per kernel, as the explorer's preload does
        time_replay(explorer, PRESETS[0].key)  # warm-up
        for preset in PRESETS:
            times = [time_replay(explorer, preset.key) for _ in range(args.reps)]
            print(f"preset {preset.title!r} ({len(preset.trained)} runs): median "
                  f"{statistics.median(times):.1f} s (max {max(times):.1f}), {args.reps} replays")


if __name__ == "__main__":
    main()
