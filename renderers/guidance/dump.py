"""Render guidance hits of a saved trajectory with one backend into an .npz (cross-venv checks).

    python -m renderers.guidance.dump TRAJECTORY.json OUT.npz [--backend pytorch3d]

Writes, per frame f: depth_f (H, W) float32, instance_f (H, W) uint16, normal_f (H, W, 3) float32.
The pytorch3d agreement test runs this under the second venv's python.
"""

from __future__ import annotations

import argparse

import numpy as np

from renderers.guidance.backend import create_backend
from renderers.guidance.maps import camera_normal_map, depth_map, instance_map
from worldsim.state import Trajectory


def dump(trajectory: Trajectory, backend: str) -> dict[str, np.ndarray]:
    """The depth, instance and normal maps of every frame of the primary camera."""
    caster = create_backend(backend, trajectory)
    track = trajectory.cameras[trajectory.primary_camera]
    maps = {}
    for frame in range(len(trajectory)):
        hits = caster.cast(frame, track.cam_to_world[frame], track.intrinsics(frame))
        maps[f"depth_{frame}"] = depth_map(hits)
        maps[f"instance_{frame}"] = instance_map(hits, trajectory)
        maps[f"normal_{frame}"] = camera_normal_map(hits)
    return maps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trajectory")
    parser.add_argument("out")
    parser.add_argument("--backend", default="pytorch3d")
    args = parser.parse_args(argv)
    np.savez(args.out, **dump(Trajectory.load(args.trajectory), args.backend))


if __name__ == "__main__":
    main()
