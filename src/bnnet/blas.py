"""The BLAS kernel and NumPy SIMD level every run uses, so that the same parameters give the
same numbers on any x86-64 CPU with AVX2 and FMA.

NumPy and SciPy each bundle OpenBLAS, which picks the matrix-product kernels of the CPU it
finds when it is loaded: ``SkylakeX`` on a CPU with AVX-512, ``Haswell`` or ``Zen`` on one
without. The kernels sum in different orders, so the last bits of a product differ, and
over thousands of updates so do the trained networks. Importing this module (``import
bnnet`` does it first) sets ``OPENBLAS_CORETYPE`` to :data:`DEFAULT` (``Haswell``: any
x86-64 CPU with AVX2 and FMA, Intel since 2013, AMD since 2015) unless

- the environment already sets ``OPENBLAS_CORETYPE`` (some machines do, to avoid a faulty
  kernel): it is kept, and :func:`describe` says so;
- ``BNNET_BLAS_CORETYPE`` names another kernel, or ``detected`` to let OpenBLAS choose;
- the CPU is not x86-64 or lacks AVX2 and FMA (forcing Haswell would crash), or NumPy was
  imported first and already runs another kernel (then nothing is pinned, so that the
  workers this process starts run its kernel, and one line says so).

NumPy itself picks, function by function, code for the widest SIMD its CPU has (AVX-512 or
AVX2); a float64 ``exp`` or sum then rounds differently, which the gradient check's
round-off-sized errors show in their last digits. With the Haswell kernel, :func:`pin` also
caps NumPy's dispatch at the same level (``NPY_DISABLE_CPU_FEATURES`` =
:func:`above_haswell`, unless the environment sets it), so an AVX-512 CPU runs the AVX2
code of an AVX2 CPU. Trained runs do not depend on that level (their element-wise work runs
in Numba), the gradient checks' last digits do. When NumPy was imported before bnnet,
nothing is set for the worker processes either, so that they compute at the level of the
process that starts them, and one line says when that level is not the report's.

The setting only takes effect in a process that sets it before NumPy is first imported
(OpenBLAS reads it when it is loaded); processes started from it (joblib/loky workers, a
Dask ``LocalCluster``, papermill's kernels) inherit it; the warning of the last case is a
:class:`BlasKernelWarning`.

Nothing here imports NumPy: that is the point of the module.
"""

from __future__ import annotations

import difflib
import functools
import os
import platform
import re
import sys
import warnings
from importlib.metadata import PackageNotFoundError, version

from threadpoolctl import threadpool_info

#: The kernel of the committed report's numbers.
DEFAULT = "Haswell"
CORETYPE_ENV = "OPENBLAS_CORETYPE"
#: bnnet's own setting: a kernel name, or ``detected`` (no pin).
CHOICE_ENV = "BNNET_BLAS_CORETYPE"
DETECTED = "detected"
#: NumPy's switch for its SIMD dispatch, read when NumPy loads.
SIMD_ENV = "NPY_DISABLE_CPU_FEATURES"
#: NumPy's dispatch targets above AVX2 + FMA, by NumPy version: 2.4 groups AVX-512 into
#: X86_V4 and names the rest as before; older versions name each AVX-512 extension. A name
#: the installed NumPy does not dispatch makes it raise an ImportWarning, so the list must
#: match the version (:func:`above_haswell`).
ABOVE_HASWELL = {(2, 4): "X86_V4 AVX512_ICL AVX512_SPR",
                 (0, 0): ("AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX "
                          "AVX512_CNL AVX512_ICL AVX512_SPR")}
#: NumPy's widest dispatch level that an AVX2 + FMA CPU runs (the report's level).
HASWELL_SIMD = "X86_V3"


def numpy_version() -> tuple[int, int]:
    """``(major, minor)`` of the installed NumPy, read from its metadata (NumPy is not
    imported); ``(0, 0)`` when it cannot be read."""
    try:
        found = re.match(r"(\d+)\.(\d+)", version("numpy"))
    except PackageNotFoundError:
        return (0, 0)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def above_haswell() -> str:
    """:data:`ABOVE_HASWELL`'s names for the installed NumPy."""
    installed = numpy_version()
    return next(names for since, names in ABOVE_HASWELL.items() if installed >= since)


class BlasKernelWarning(UserWarning):
    """NumPy was loaded before bnnet could pin its BLAS kernel, and runs another one."""


def wanted() -> str:
    """The kernel this process should run: ``OPENBLAS_CORETYPE`` if set, else
    ``BNNET_BLAS_CORETYPE``, else :data:`DEFAULT` (``detected``: whatever OpenBLAS picks)."""
    return os.environ.get(CORETYPE_ENV) or os.environ.get(CHOICE_ENV) or DEFAULT


def origin() -> str:
    """Which setting chose the kernel, in words."""
    coretype = os.environ.get(CORETYPE_ENV)
    if coretype and coretype == os.environ.get(CHOICE_ENV):
        return f"pinned by bnnet, {CORETYPE_ENV}={coretype}"
    if coretype:
        return f"{CORETYPE_ENV}={coretype} from the environment, kept"
    if _unpinned_reason:
        return f"not pinned: {_unpinned_reason}"
    return f"{CHOICE_ENV}={DETECTED}: OpenBLAS's choice for this CPU"


def supports_pin() -> bool:
    """Whether this CPU can run the Haswell kernels: x86-64 with AVX2 and FMA (where the
    CPU's flags cannot be read, an x86-64 CPU is assumed to have them: all since 2015 do).
    Forcing them elsewhere would stop NumPy with an illegal instruction."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return True
    return not flags or ("avx2" in flags and "fma" in flags)


#: The kernel names OpenBLAS's x86-64 builds know (``OPENBLAS_CORETYPE``; OpenBLAS ignores
#: any other name and picks the CPU's own kernel without a word).
KNOWN_KERNELS = (
    "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn",
    "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano",
    "Sandybridge", "Bobcat", "Bulldozer", "Piledriver", "Haswell", "Steamroller",
    "Excavator", "Zen", "SkylakeX", "CooperLake", "SapphireRapids")


class UnknownKernelError(ValueError):
    """``BNNET_BLAS_CORETYPE`` names a kernel OpenBLAS does not know."""


def check_choice(choice: str) -> str:
    """``choice`` as OpenBLAS spells it, or :class:`UnknownKernelError` naming the kernels
    it knows (a typo would otherwise run the CPU's own kernel under the typo's name)."""
    if choice == DETECTED:
        return choice
    spelt = {name.lower(): name for name in KNOWN_KERNELS}
    if choice.lower() in spelt:
        return spelt[choice.lower()]
    close = difflib.get_close_matches(choice, KNOWN_KERNELS, n=1)
    raise UnknownKernelError(
        f"{CHOICE_ENV}={choice!r} is not a kernel OpenBLAS knows"
        + (f" (did you mean {close[0]!r}?)" if close else "")
        + f"; use one of {', '.join(KNOWN_KERNELS)}, or {DETECTED!r} to let OpenBLAS choose "
        f"(the report's numbers need {DEFAULT!r})")


def pin() -> str:
    """Set ``OPENBLAS_CORETYPE`` (and ``BNNET_BLAS_CORETYPE``, which marks it as bnnet's)
    for this process and the ones it starts, unless the environment set it already; with
    the Haswell kernel, cap NumPy's SIMD dispatch at AVX2 too (:data:`ABOVE_HASWELL`).
    Returns why nothing was pinned (``""``: pinned, or the environment's setting kept)."""
    choice = check_choice(os.environ.get(CHOICE_ENV) or DEFAULT)
    if not os.environ.get(CORETYPE_ENV):
        if choice == DETECTED:
            return ""
        if choice == DEFAULT and not supports_pin():
            return (f"this CPU ({platform.machine()}) cannot run the {DEFAULT} kernels, so "
                    "OpenBLAS chooses; the numbers will not be bit-identical to the report's")
        os.environ[CORETYPE_ENV] = os.environ[CHOICE_ENV] = choice
    if os.environ[CORETYPE_ENV].lower() == DEFAULT.lower():
        os.environ.setdefault(SIMD_ENV, above_haswell())
    return ""


@functools.cache
def _numpy_openblas() -> dict[str, str]:
    for lib in threadpool_info():
        path = lib.get("filepath", "").replace("\\", "/")
        # NumPy's wheels bundle it in numpy.libs/ (SciPy's in scipy.libs/)
        if lib.get("internal_api") == "openblas" and ("numpy.libs/" in path
                                                      or "/numpy/" in path):
            return {"kernel": str(lib.get("architecture", "")), "openblas": str(lib["version"])}
    return {"kernel": "", "openblas": ""}


def loaded() -> dict[str, str]:
    """``{"kernel": ..., "openblas": version}`` of the OpenBLAS that NumPy loaded (empty
    values when NumPy is not loaded yet or uses another BLAS)."""
    if "numpy" not in sys.modules:
        return {"kernel": "", "openblas": ""}
    return _numpy_openblas()


def simd() -> str:
    """The widest of NumPy's SIMD dispatch targets this process runs (``"X86_V3"``: AVX2
    and FMA; ``"X86_V4"`` or above: AVX-512); ``""`` before NumPy is loaded or where NumPy
    does not say."""
    if "numpy" not in sys.modules:
        return ""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # another NumPy layout: the level stays unnamed
        return ""
    enabled = [target for target in __cpu_dispatch__ if __cpu_features__.get(target)]
    return enabled[-1] if enabled else "baseline"


def describe() -> str:
    """One line for a log or a title page: the kernel in use and why."""
    info, level = loaded(), simd()
    return (f"OpenBLAS {info['openblas']}, {info['kernel']} kernel ({origin()})"
            + (f"; NumPy SIMD up to {level}" if level else ""))


def identical_numbers_hint(kernel: str) -> str:
    """The setting that runs ``kernel`` (given before Python starts), with the SIMD cap that
    goes with the Haswell kernel."""
    simd = (f" and {SIMD_ENV}=\"{above_haswell()}\"" if kernel.lower() == DEFAULT.lower()
            else "")
    return (f"{CORETYPE_ENV}={kernel}{simd} (or {CHOICE_ENV}={kernel}) set before Python "
            "starts")


def _above_level(level: str) -> bool:
    return level.startswith(("X86_V4", "AVX512"))


def _simd_too_late() -> None:
    """With NumPy imported before bnnet: one line when its SIMD level is above the report's
    (AVX-512 where the report's kernel caps NumPy at AVX2). Nothing is changed, so that the
    workers this process starts compute at its level."""
    level = simd()
    if wanted().lower() != DEFAULT.lower() or not _above_level(level):
        return
    warnings.warn_explicit(
        f"NumPy was imported before bnnet and computes at {level}, not the report's "
        f"{HASWELL_SIMD}: trained networks are the same, gradient checks differ in their last "
        f"digits. Import bnnet first, or start Python with {SIMD_ENV}=\"{above_haswell()}\".",
        BlasKernelWarning, "bnnet", 0)


def _too_late() -> str:
    """With NumPy imported before bnnet: why the kernel cannot be pinned any more (one
    warning line), or ``""`` when it already runs the kernel asked for."""
    running, want = loaded()["kernel"], wanted()
    if want == DETECTED or not running or running.lower() == want.lower():
        return ""
    # one line: a warning of no source file prints no source line under it
    warnings.warn_explicit(
        f"NumPy was imported before bnnet, so bnnet could not choose NumPy's matrix-product "
        f"code ({running} here, {want} in the report): networks trained in this process "
        "will differ from the report's in their last digits, and their accuracies by up to a few "
        "tenths of a point. For the report's numbers, import bnnet first (or start "
        f"Python with {identical_numbers_hint(want)}).", BlasKernelWarning, "bnnet", 0)
    return f"NumPy was imported before bnnet and runs the {running} kernel"


# Too late for this process: pin nothing, so that the worker processes it starts run the
# same kernel as it does (and the cache, keyed by this process's kernel, stays true).
if "numpy" in sys.modules:
    _unpinned_reason = _too_late()
    _simd_too_late()
    if (not _unpinned_reason and not os.environ.get(CORETYPE_ENV) and wanted() != DETECTED
            and loaded()["kernel"]):
        # NumPy already runs the kernel asked for: name it for the workers, but leave
        # NumPy's SIMD level to what this process runs
        os.environ[CORETYPE_ENV] = os.environ[CHOICE_ENV] = check_choice(wanted())
else:
    _unpinned_reason = pin()
