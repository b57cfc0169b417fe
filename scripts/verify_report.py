"""`make verify`: check a report without its run cache.

Usage: python scripts/verify_report.py [--runs N|all] [--seed 0] [--n-jobs 2]
                                       [--manifest report/results/manifest.json]

Checks that the data here are the data the report was built from (md5 of every batch
file), then re-trains a sample of the report's runs from its manifest and prints one line
per run: identical (bit for bit), or the difference in points and whether it lies within
the seed spread of its arm. Each line names the run's section, its sweep and what tells it
apart there (the settings that vary within the sweep, and the seed). Exits with 1 when the
data differ or any run differs by more than that spread.

The sample: the best network's seed 0 and one run of each other section (the fixed
sample), then, by default, as many runs at random as fit in about 10 minutes by the run
times the manifest records; --runs N: the fixed sample and N at random; --runs all: every
run. --seed picks the random ones. --manifest: another build's manifest, e.g. a quick
build's report/quick/results/manifest.json (make verify MANIFEST=...).
"""

from __future__ import annotations

import bnnet.blas as blas

import argparse
import sys
import time
import warnings

from bnnet.cifar10 import DataError, ensure_cifar10
from bnnet.files import PROJECT_ROOT
from bnnet.study.cache import environment
from bnnet.study.provenance import MANIFEST
from bnnet.study.verify import (
    Check,
    ManifestError,
    arm_spreads,
    describe_sample,
    files_differing,
    load_manifest,
    report_kernels,
    retrain,
    run_labels,
    sample,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=None, help="N runs at random beside the fixed "
                        "sample (the best network's seed 0, one run of each other section), "
                        "or 'all' (default: as many as fit in about 10 minutes)")
    parser.add_argument("--seed", type=int, default=0, help="picks the random sample")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--manifest", default=PROJECT_ROOT / "report" / "results" / MANIFEST)
    args = parser.parse_args()
    # loky says so when an idle worker times out while a long run goes on: not a problem
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs")
    start = time.perf_counter()
    try:
        manifest = load_manifest(args.manifest)
        folder, _ = ensure_cifar10()
    except (ManifestError, DataError) as e:
        print(f"make verify: {e}", file=sys.stderr)
        return 1
    differ = files_differing(manifest, folder)
    if differ:
        print(f"make verify: the data at {folder} are not those of the report: "
              f"{', '.join(differ)} differ (md5). Point BNNET_DATA_DIR at the same copy.",
              file=sys.stderr)
        return 1
    print(f"[verify] data: the report's (md5 of all {len(manifest['data_md5'])} batch files)")
    here, theirs = blas.loaded()["kernel"], sorted(report_kernels(manifest))
    if not theirs:
        print(f"[verify] BLAS kernel: {blas.describe()}; the report's manifest does not say "
              "which kernel its runs used (built before it was recorded)", flush=True)
    elif here not in theirs:
        runs = f"OpenBLAS's {here} kernel" if here else "no OpenBLAS"
        print(f"[verify] BLAS kernel: this machine runs {runs}, the report's numbers come "
              f"from the {' and '.join(theirs)} kernel: expect small "
              f"differences; {blas.identical_numbers_hint(theirs[0])} gives identical numbers",
              flush=True)
    else:
        print(f"[verify] BLAS kernel: {blas.describe()}, as in the report", flush=True)
    theirs_key, here_key = manifest.get("run_key"), environment(simd=True)
    other = {k: (v, here_key.get(k)) for k, v in (theirs_key or {}).items()
             if k != "simd" and here_key.get(k) != v}
    if theirs_key is None:
        print("[verify] note: the manifest does not record its run key (numerics version, "
              "library versions; built before it was recorded)", flush=True)
    elif other:
        print("[verify] note: the arithmetic here is not the report's ("
              + ", ".join(f"{k} {a} there, {b} here" for k, (a, b) in other.items())
              + f"; commit {manifest['commit']}): differences are expected", flush=True)
    runs = manifest["runs"]
    if args.runs == "all":
        chosen = list(range(len(runs)))
    else:
        try:
            n = None if args.runs is None else int(args.runs)
        except ValueError:
            print(f"make verify: RUNS={args.runs!r}: give a number of runs or all",
                  file=sys.stderr)
            return 1
        chosen = sample(runs, n, seed=args.seed, n_jobs=args.n_jobs)
    spreads, labels = arm_spreads(runs), run_labels(runs)
    print(f"[verify] re-training {describe_sample(runs, chosen, args.runs, args.seed)}",
          flush=True)
    fresh = retrain([runs[i] for i in chosen], folder, n_jobs=args.n_jobs)
    by_index = {i: Check(runs[i], f, spreads[i], labels[i])
                for i, f in zip(chosen, fresh, strict=True)}
    # in the manifest's order: section by section, sweep by sweep
    checks = [by_index[i] for i in sorted(by_index)]
    for check in checks:
        print(check.line())
    same = sum(c.identical for c in checks)
    beyond = sum(not c.within_spread for c in checks)
    print(f"[verify] {len(checks)} runs: {same} identical, {len(checks) - same - beyond} "
          f"within the seed spread, {beyond} beyond it; "
          f"{(time.perf_counter() - start) / 60:.1f} min")
    return 1 if beyond else 0


if __name__ == "__main__":
    sys.exit(main())
