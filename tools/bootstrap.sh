#!/usr/bin/env bash
# Set up worldsim on a fresh machine: system libraries, .venv (Python 3.11), torch, the package.
# Idempotent: a re-run with an unchanged pyproject.toml and this script takes seconds.
#   bash tools/bootstrap.sh            # then .venv/bin/worldsim ... / .venv/bin/python -m pytest -q
# Environment: PYTHON (interpreter for the venv, default python3.11), VENV (default .venv),
# WORLDSIM_EXTRAS (default dev,ml,reference,metrics,adapters,provenance,viewer,exports).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-.venv}"
EXTRAS="${WORLDSIM_EXTRAS:-dev,ml,reference,metrics,adapters,provenance,viewer,exports}"
TORCH_SPEC="torch==2.13.0"
SYSTEM_PACKAGES=(libusb-1.0-0 libllvm19 ffmpeg)

say() { echo "[bootstrap] $*" >&2; }

# 1. System libraries: libllvm19 for Mitsuba's LLVM variant, ffmpeg for videos, libusb for open3d.
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
fi
if ((${#missing[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "not root (or no apt-get): skipping system packages ${missing[*]}; install them yourself"
    say "  (without libllvm19 the reference renderer falls back to Mitsuba's slower scalar variant)"
  fi
fi

# 2. The virtual environment.
if [[ ! -x "$VENV/bin/python" ]]; then
  command -v "$PYTHON" >/dev/null 2>&1 || { say "error: $PYTHON not found; set PYTHON=/path/to/python3.11"; exit 1; }
  say "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi

# 3. Python packages, skipped when the stamp (hash of pyproject.toml + this script) matches.
stamp_key="$(cat pyproject.toml "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)-$EXTRAS"
stamp="$VENV/.worldsim-bootstrap-$stamp_key"
if [[ -f "$stamp" ]] && "$VENV/bin/python" -c "import worldsim, torch" >/dev/null 2>&1; then
  say "environment up to date ($VENV)"
  exit 0
fi
# torch first, pinned, so that no later requirement pulls another build.
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '2.13.0' else 1)" >/dev/null 2>&1; then
  say "installing $TORCH_SPEC"
  "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
fi
say "installing worldsim[$EXTRAS] (editable)"
"$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]" "$TORCH_SPEC"
rm -f "$VENV"/.worldsim-bootstrap-*
touch "$stamp"
say "done: $VENV/bin/worldsim --help"
