#!/usr/bin/env bash
# Create the second venv that runs the pytorch3d guidance backend (CPU) for the agreement test.
#
# pytorch3d has no current PyPI release; the one prebuilt for a recent torch is
# easypytorch3d==0.7.9.post1, built against torch 2.11.0. PyPI has torch 2.11.0 for Linux only as
# the CUDA 13 build: a 530 MB wheel plus the nvidia-* / cuda-toolkit runtime wheels it imports
# even on the CPU (libcudnn etc.); the venv takes about 5 GB and about 1.5 minutes to build here.
# easypytorch3d itself is installed with --no-deps (it would pull nothing else we need).
#
#   tools/ci/setup_pytorch3d_venv.sh [VENV_DIR]        (default: .venv-p3d)
#   export WORLDSIM_P3D_PYTHON=$PWD/.venv-p3d/bin/python
#
# WORLDSIM_P3D_WHEELS=DIR: also look for wheels in DIR (e.g. a CI cache) before PyPI.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${1:-${repo_root}/.venv-p3d}"
python="${PYTHON:-python3.11}"
find_links=()
if [[ -n "${WORLDSIM_P3D_WHEELS:-}" ]]; then
  find_links=(--find-links "${WORLDSIM_P3D_WHEELS}")
fi

if [[ -x "${venv}/bin/python" ]] && "${venv}/bin/python" -c "import pytorch3d.renderer, worldsim" 2>/dev/null; then
  echo "pytorch3d venv ready: ${venv}"
  exit 0
fi

"${python}" -m venv "${venv}"
pip=("${venv}/bin/python" -m pip install --disable-pip-version-check --no-input "${find_links[@]}")
"${pip[@]}" "torch==2.11.0"
"${pip[@]}" --no-deps "easypytorch3d==0.7.9.post1"
"${pip[@]}" iopath
# worldsim's light requirements for the trajectory / mesh code the backend imports.
"${pip[@]}" "numpy>=1.26" "scipy>=1.11" "trimesh>=4.0" "omegaconf>=2.3" "PyYAML>=6.0" "tqdm>=4.66"
"${pip[@]}" --no-deps -e "${repo_root}"

"${venv}/bin/python" -c "import torch, pytorch3d.renderer, worldsim; print('torch', torch.__version__)"
echo "pytorch3d venv ready: ${venv}"
echo "export WORLDSIM_P3D_PYTHON=${venv}/bin/python"
