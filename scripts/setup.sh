#!/usr/bin/env bash
# One-command set-up: .venv with the pinned requirements and bnnet (editable), the Jupyter
# kernel registered inside the venv, and the Debian packages the PDF export and the
# explorer's browser test (chromium) need.
# Idempotent: re-running only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
APT_PACKAGES=(texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc poppler-utils chromium)

start=$(date +%s)

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "setup: bnnet needs Python >= 3.10; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
    echo "       Point the PYTHON variable at a newer interpreter: make setup PYTHON=python3.11" >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r requirements.txt -e .
# The notebooks' kernel starts through bnnet.report.kernel, which imports bnnet (and so
# pins OpenBLAS's kernel, src/bnnet/blas.py) before a notebook can import NumPy.
"$VENV/bin/python" -m ipykernel install --sys-prefix --name bnnet --display-name "Python (bnnet)" >/dev/null
"$VENV/bin/python" - "$VENV/share/jupyter/kernels/bnnet/kernel.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["argv"] = [a if a != "ipykernel_launcher" else "bnnet.report.kernel" for a in spec["argv"]]
json.dump(spec, open(path, "w"), indent=1)
PY
echo "setup: Python packages and the 'bnnet' Jupyter kernel are in $VENV"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${BNNET_SKIP_APT:-0}" = 1 ]; then
        echo "setup: BNNET_SKIP_APT=1, not installing ${missing[*]}; the PDF report will not build (nor the browser test run) without them." >&2
    elif ! command -v apt-get >/dev/null; then
        echo "setup: the PDF report and the browser test need ${missing[*]}, and this machine has no apt-get." >&2
        echo "       Install TeX Live (XeLaTeX), pandoc, poppler-utils and chromium with your package manager," >&2
        echo "       or set BNNET_SKIP_APT=1 to skip this step (tests that build the PDF or open a browser will then fail)." >&2
        exit 1
    else
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        echo "setup: installing Debian packages for the PDF export and the browser test: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# Stamp: `make` re-runs set-up only when the requirements or the package metadata change.
touch "$VENV/.setup-done"
echo "setup: done in $(( $(date +%s) - start )) s"
