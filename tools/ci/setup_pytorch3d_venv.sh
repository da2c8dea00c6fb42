#!/usr/bin/env bash
# Create the second venv that runs the pytorch3d guidance backend (CPU) for the agreement test.
#
# pytorch3d has no current PyPI release; the one prebuilt for a recent torch is
# easypytorch3d==0.7.9.post1, built against torch 2.11.0 with CUDA 13 (its _C links libtorch_cuda
# and libcudart). PyPI has torch 2.11.0 for Linux only as that CUDA build, and importing it loads
# the CUDA runtime libraries even on the CPU. Installed with all its dependencies it takes about
# 5 GB plus about 2.3 GB of downloaded wheels, which once filled a CI machine's disk. So this
# script installs torch without dependencies and then only the libraries torch links at load
# (read off `readelf -d libtorch_cuda.so libtorch_python.so`), one wheel at a time, without
# pip's cache: 3.9 GB in all (du -sh), never more than the largest wheel (530 MB) on top. Left out:
# triton, cusolver, cupti, nvrtc, nvtx and cuda-bindings, which torch loads only on first CUDA use.
#
#   tools/ci/setup_pytorch3d_venv.sh [VENV_DIR]        (default: .venv-p3d)
#   export WORLDSIM_P3D_PYTHON=$PWD/.venv-p3d/bin/python
#
# WORLDSIM_P3D_WHEELS=DIR: also look for wheels in DIR (e.g. a CI cache) before PyPI.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${1:-${repo_root}/.venv-p3d}"
python="${PYTHON:-python3.11}"
required_free_gib=5
find_links=()
if [[ -n "${WORLDSIM_P3D_WHEELS:-}" ]]; then
  find_links=(--find-links "${WORLDSIM_P3D_WHEELS}")
fi

if [[ -x "${venv}/bin/python" ]] && "${venv}/bin/python" -c "import pytorch3d.renderer, worldsim" 2>/dev/null; then
  echo "pytorch3d venv ready: ${venv}"
  exit 0
fi

venv_parent="$(dirname "${venv}")"
mkdir -p "${venv_parent}"
free_kib="$(df -Pk "${venv_parent}" | awk 'NR == 2 {print $4}')"
if (( free_kib < required_free_gib * 1024 * 1024 )); then
  echo "setup_pytorch3d_venv: ${venv_parent} has $((free_kib / 1024)) MiB free; the pytorch3d venv" \
       "(torch 2.11.0 CUDA build + easypytorch3d) needs about ${required_free_gib} GiB" >&2
  exit 1
fi

# CUDA runtime wheels torch 2.11.0 links at load, at the versions its cuda-toolkit==13.0.2 pins.
cuda_runtime_wheels=(
  "nvidia-cuda-runtime==13.0.96" "nvidia-cublas==13.1.0.3" "nvidia-cudnn-cu13==9.19.0.56"
  "nvidia-cufft==12.0.0.61" "nvidia-cufile==1.15.1.6" "nvidia-curand==10.4.0.35"
  "nvidia-cusparse==12.6.3.3" "nvidia-nvjitlink==13.0.88" "nvidia-cusparselt-cu13==0.8.0"
  "nvidia-nccl-cu13==2.28.9" "nvidia-nvshmem-cu13==3.4.5"
)

"${python}" -m venv "${venv}"
pip=("${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --no-cache-dir
     "${find_links[@]}")
"${pip[@]}" --no-deps "torch==2.11.0"
"${pip[@]}" "filelock" "typing-extensions>=4.10.0" "sympy>=1.13.3" "networkx>=2.5.1" "jinja2" \
  "fsspec>=0.8.5"
for wheel in "${cuda_runtime_wheels[@]}"; do
  "${pip[@]}" --no-deps "${wheel}"
done
"${pip[@]}" --no-deps "easypytorch3d==0.7.9.post1"
"${pip[@]}" iopath
# worldsim's light requirements for the trajectory / mesh code the backend imports.
"${pip[@]}" "numpy>=1.26" "scipy>=1.11" "trimesh>=4.0" "omegaconf>=2.3" "PyYAML>=6.0" "tqdm>=4.66" \
  "numba>=0.61"
"${pip[@]}" --no-deps -e "${repo_root}"

"${venv}/bin/python" - <<'PY'
import torch
from pytorch3d.renderer import MeshRasterizer, PerspectiveCameras, RasterizationSettings
from pytorch3d.structures import Meshes

import worldsim  # noqa: F401

triangle = Meshes(verts=[torch.tensor([[-1.0, -1.0, 3.0], [1.0, -1.0, 3.0], [0.0, 1.0, 3.0]])],
                  faces=[torch.tensor([[0, 1, 2]])])
rasterizer = MeshRasterizer(cameras=PerspectiveCameras(),
                            raster_settings=RasterizationSettings(image_size=16))
covered = int((rasterizer(triangle).pix_to_face >= 0).sum())
assert covered > 0, "pytorch3d rasterized nothing"
print("torch", torch.__version__, "- pytorch3d rasterized", covered, "pixels on the CPU")
PY
echo "pytorch3d venv ready: ${venv}"
echo "export WORLDSIM_P3D_PYTHON=${venv}/bin/python"
