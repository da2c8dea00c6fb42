"""Write the held-out evaluation scenes of the diffusion renderer: ``scenes/heldout/lit_<seed>.yaml``.

They are ``worldsim.datasets.lit_scenes.lit_scene`` draws from generator seeds far from those the
training data uses (``configs/diffusion/train.yaml``: seeds 0..num_clips-1), at 256 x 256 and 24
frames, written as ordinary scene files so ``worldsim experiment`` (``configs/experiments/
renderer_fidelity.yaml``) and anyone else can render them. Deterministic: the same seeds give the
same files.

Run: ``.venv/bin/python tools/make_heldout_scenes.py [--seeds 900000:900004]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worldsim.datasets.lit_scenes import lit_scene  # noqa: E402
from worldsim.scene.yaml_io import save_scene  # noqa: E402

HELDOUT_SEEDS = range(900000, 900004)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=f"{HELDOUT_SEEDS.start}:{HELDOUT_SEEDS.stop}")
    parser.add_argument("--out", default=str(ROOT / "scenes" / "heldout"))
    args = parser.parse_args(argv)
    start, stop = (int(part) for part in args.seeds.split(":"))
    for seed in range(start, stop):
        scene = lit_scene(seed, size=(256, 256), num_frames=24)
        for entity in scene.entities:  # mesh files relative to the scene file, as in every shipped scene
            if entity.mesh.file:
                entity.mesh.file = os.path.relpath(entity.mesh.file, args.out)
        path = save_scene(scene, Path(args.out) / f"lit_{seed}.yaml")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
