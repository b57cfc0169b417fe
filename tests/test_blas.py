"""The pinned BLAS kernel (bnnet.blas): set before NumPy loads, inherited by workers, the
only CPU-dependent piece of a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from bnnet import blas
from tests.conftest import write_fake_cifar

#: This process's environment without any BLAS setting: what a fresh shell has.
CLEAN = {k: v for k, v in os.environ.items()
         if k not in (blas.CORETYPE_ENV, blas.CHOICE_ENV, blas.SIMD_ENV)}


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code], env={**CLEAN, **env},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


REPORT = "import bnnet, numpy; from bnnet import blas; print(blas.loaded()['kernel']); " \
         "print(blas.describe())"


def test_importing_bnnet_first_pins_the_haswell_kernel():
    out = python(REPORT).stdout.splitlines()
    assert out[0] == "Haswell"
    assert "pinned by bnnet, OPENBLAS_CORETYPE=Haswell" in out[1]


def test_a_kernel_the_environment_sets_is_kept_and_said():
    out = python(REPORT, OPENBLAS_CORETYPE="Sandybridge").stdout.splitlines()
    assert out[0] == "Sandybridge"
    assert "OPENBLAS_CORETYPE=Sandybridge from the environment, kept" in out[1]
    detected = python(REPORT, BNNET_BLAS_CORETYPE="detected").stdout.splitlines()
    assert "OpenBLAS's choice for this CPU" in detected[1]


def test_numpy_imported_first_costs_one_warning_line_not_an_error():
    # ask for a kernel no recent CPU detects, so that the one loaded first differs
    result = python("import numpy; import bnnet; print('trained on')",
                    BNNET_BLAS_CORETYPE="Sandybridge")
    assert result.stdout.strip() == "trained on"
    warning = [line for line in result.stderr.splitlines() if "BlasKernelWarning" in line]
    assert len(warning) == 1
    assert "NumPy was imported before bnnet" in warning[0]
    assert "OPENBLAS_CORETYPE=Sandybridge" in warning[0]
    assert "Python with" in warning[0] and "last digits" in warning[0]
    first = python("import bnnet; import numpy", BNNET_BLAS_CORETYPE="Sandybridge")
    assert "BlasKernelWarning" not in first.stderr


INHERIT = """
import bnnet, joblib
from bnnet import blas
workers = joblib.Parallel(n_jobs=2)(joblib.delayed(blas.loaded)() for _ in range(4))
print(blas.loaded()["kernel"], *sorted({w["kernel"] for w in workers}))
"""


@pytest.mark.parametrize("setting", [blas.CORETYPE_ENV, blas.CHOICE_ENV])
def test_loky_workers_run_the_kernel_of_their_parent(setting):
    """A parent on Sandybridge, a kernel that is neither bnnet's pin (Haswell) nor what
    OpenBLAS detects on a recent CPU: workers that re-pinned, or detected their own, would
    report another. Set in the environment (kept) or as bnnet's choice (bnnet pins it)."""
    if blas.platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("Sandybridge is an x86-64 kernel")
    out = python(INHERIT, **{setting: "Sandybridge"}).stdout.split()
    assert out == ["Sandybridge", "Sandybridge"], out


FIT = """
import hashlib, sys
import bnnet, numpy as np
from bnnet import blas
data = bnnet.load_cifar10(sys.argv[1], n_val=200)
config = bnnet.Config(hidden=[50, 50], n_s=20, cycles=1, batch_size=50, log_every=10)
result = bnnet.fit(config, data, progress=False)
h = hashlib.md5(result.history.to_numpy().tobytes())
for layer in result.params:
    for key in sorted(layer):
        h.update(np.ascontiguousarray(layer[key]).tobytes())
print(blas.loaded()["kernel"], h.hexdigest())
"""


@pytest.mark.slow
def test_the_pinned_kernel_alone_fixes_the_numbers(tmp_path):
    """NumPy's own AVX-512 loops disabled and the Numba kernels compiled for Haswell give
    the same bits as the pinned BLAS kernel alone: the kernel is the only CPU-dependent
    piece of a run."""
    from numpy._core._multiarray_umath import __cpu_features__

    avx512 = " ".join(k for k, on in __cpu_features__.items() if on and k.startswith("AVX512"))
    if not avx512:
        pytest.skip("this CPU has no AVX-512: its own kernels are already Haswell's kind")
    data = write_fake_cifar(tmp_path / "data", n_per_batch=300)
    cache = {"BNNET_CACHE_DIR": str(tmp_path / "cache")}
    pinned = python(FIT.replace("sys.argv[1]", json.dumps(str(data))), **cache).stdout
    haswell_only = python(FIT.replace("sys.argv[1]", json.dumps(str(data))), **cache,
                          NPY_DISABLE_CPU_FEATURES=avx512, NUMBA_CPU_NAME="haswell",
                          NUMBA_CACHE_DIR=str(tmp_path / "numba")).stdout
    assert pinned.startswith("Haswell ")
    assert haswell_only == pinned


def test_a_misspelt_kernel_is_an_error_that_names_the_kernels_openblas_knows():
    result = subprocess.run([sys.executable, "-c", "import bnnet"],
                            env={**CLEAN, "BNNET_BLAS_CORETYPE": "Haswel"},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "UnknownKernelError: BNNET_BLAS_CORETYPE='Haswel' is not a kernel OpenBLAS knows" in last
    assert "did you mean 'Haswell'?" in last and "SkylakeX" in last
    assert blas.check_choice("skylakex") == "SkylakeX" and blas.check_choice("detected")


def test_the_haswell_pin_caps_numpys_simd_at_avx2_and_says_so():
    code = ("import bnnet, numpy, os; from bnnet import blas; "
            "print(os.environ.get('NPY_DISABLE_CPU_FEATURES', '')); print(blas.simd()); "
            "print(blas.describe())")
    capped = python(code).stdout.splitlines()
    assert "X86_V4" in capped[0] and capped[1] in ("X86_V3", "baseline")
    assert capped[2].endswith(f"NumPy SIMD up to {capped[1]}")
    # the environment's own Haswell setting gets the same cap; another kernel none
    assert "X86_V4" in python(code, OPENBLAS_CORETYPE="Haswell").stdout.splitlines()[0]
    assert python(code, OPENBLAS_CORETYPE="Sandybridge").stdout.splitlines()[0] == ""


def test_supports_pin_is_false_off_x86_and_without_avx2(monkeypatch, tmp_path):
    monkeypatch.setattr(blas.platform, "machine", lambda: "aarch64")
    assert not blas.supports_pin()
    monkeypatch.setattr(blas.platform, "machine", lambda: "x86_64")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse sse2 avx\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(
        cpuinfo if path == "/proc/cpuinfo" else path, *a, **k))
    assert not blas.supports_pin()
    cpuinfo.write_text("processor : 0\nflags : fpu avx avx2 fma\n")
    assert blas.supports_pin()


def test_import_bnnet_works_when_warnings_are_errors():
    """NumPy 2.4 raises an ImportWarning for feature names it does not dispatch: the cap
    must name only its own (a pytest run with filterwarnings = error imports bnnet)."""
    result = subprocess.run([sys.executable, "-W", "error", "-c", "import bnnet, numpy"],
                            env=CLEAN, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]


def test_the_simd_cap_is_named_for_the_installed_numpy(monkeypatch):
    monkeypatch.setattr(blas, "numpy_version", lambda: (2, 4))
    assert blas.above_haswell() == "X86_V4 AVX512_ICL AVX512_SPR"
    monkeypatch.setattr(blas, "numpy_version", lambda: (2, 3))
    assert "AVX512F" in blas.above_haswell() and "X86_V4" not in blas.above_haswell()
    monkeypatch.undo()
    from numpy._core._multiarray_umath import __cpu_dispatch__
    assert set(blas.above_haswell().split()) <= set(__cpu_dispatch__)


def test_numpy_imported_first_leaves_the_workers_at_its_own_simd_level():
    """With the report's kernel already set, NumPy loaded first computes at the CPU's level:
    nothing caps the workers this process starts either, so they compute as it does."""
    code = ("import numpy, os; import bnnet; from bnnet import blas; "
            "print(repr(os.environ.get('NPY_DISABLE_CPU_FEATURES'))); "
            "print(os.environ.get('OPENBLAS_CORETYPE')); print(blas.loaded()['kernel'])")
    out = python(code, OPENBLAS_CORETYPE="Haswell").stdout.splitlines()
    assert out == ["None", "Haswell", "Haswell"]


def test_numpy_imported_first_above_avx2_costs_one_plain_line(monkeypatch):
    monkeypatch.setattr(blas, "simd", lambda: "AVX512_ICL")
    monkeypatch.setattr(blas, "wanted", lambda: "Haswell")
    with pytest.warns(blas.BlasKernelWarning) as caught:
        blas._simd_too_late()
    (message,) = [str(w.message) for w in caught]
    assert "\n" not in message
    assert "computes at AVX512_ICL, not the report's X86_V3" in message
    assert "trained networks are the same, gradient checks differ" in message
    assert f'NPY_DISABLE_CPU_FEATURES="{blas.above_haswell()}"' in message
    monkeypatch.setattr(blas, "simd", lambda: "X86_V3")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blas._simd_too_late()  # at the report's level: no line
