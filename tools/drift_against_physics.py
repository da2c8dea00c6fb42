"""Identity drift with text on and off, beside the path tracer's drift of the same two worlds.

The prompt-adherence sweep (``configs/experiments/prompt_adherence.yaml``) renders
``scenes/described.yaml`` in structure mode with the words read (``text_on``) and ignored
(``text_off``). The two runs draw different looks: the words' colours, or colours the model
invents. The drift metric (each entity's mean Lab against its first appearance) also counts the
light moving over an entity, and that moves a saturated colour further than a muted one. This
tool path-traces both worlds: the text-on clip's ``scene.yaml`` (the scene as the words made it),
and the same scene with each entity's base colour set to the text-off clip's memory colour. It
prints each renderer's drift beside the physics' drift for the same look. The ratio is the drift
the renderer adds or removes.

    .venv/bin/python tools/drift_against_physics.py out/experiments/prompt_adherence [--spp 32]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renderers.tonemap import srgb_decode
from worldsim.clip.clip import Clip
from worldsim.errors import WorldsimError
from worldsim.metrics.identity import mean_drift
from worldsim.render import render
from worldsim.scene.scene import Scene
from worldsim.scene.yaml_io import load_scene

RUN = "described__{}__seed0__{}f"


def clip_drift(clip: Clip) -> tuple[float, dict[int, float]]:
    """(mean over entities, entity -> mean over its visible frames) of the drift delta E."""
    per_entity = mean_drift((clip.rgb(frame), clip.instance(frame)) for frame in range(clip.num_frames))
    return float(np.mean(list(per_entity.values()))), per_entity


def worlds(runs: Path, frames: int) -> dict[str, tuple[Clip, Scene]]:
    """label -> (the diffusion clip, the world it drew, without words)."""
    text_on = Clip(runs / RUN.format("text_on", frames) / "clip")
    text_off = Clip(runs / RUN.format("text_off", frames) / "clip")
    worded = load_scene(text_on.layout.scene_yaml)
    invented = copy.deepcopy(worded)
    memory = json.loads(text_off.layout.appearance_memory_json.read_text())["entities"]
    for entity in invented.entities:
        colour = np.asarray(memory[str(entity.id)]["colour"], dtype=np.float32)  # sRGB-encoded
        entity.material.base_color = [float(value) for value in srgb_decode(colour)]
    for scene in (worded, invented):
        scene.prompt = ""
        for entity in scene.entities:
            entity.description = ""
    return {"text_on": (text_on, worded), "text_off": (text_off, invented)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="the prompt_adherence experiment's --out folder")
    parser.add_argument("--frames", type=int, default=600, help="the sweep's clip length")
    parser.add_argument("--spp", type=int, default=32)
    args = parser.parse_args()
    try:
        looks = worlds(args.experiment / "runs", args.frames)
    except (WorldsimError, OSError, KeyError) as error:
        parser.error(
            f"{args.experiment}: not a prompt_adherence experiment with {args.frames}-frame runs ({error})"
        )
    with tempfile.TemporaryDirectory() as folder:
        for label, (clip, world) in looks.items():
            traced = render(
                world,
                renderer="reference",
                out=Path(folder) / label,
                options={"samples_per_pixel": args.spp},
                progress=False,
            )
            ours, ours_entities = clip_drift(clip)
            physics, physics_entities = clip_drift(traced)
            print(
                f"{label}: diffusion drift {ours:.2f} dE, path tracer on the same look {physics:.2f} dE, "
                f"ratio {ours / physics:.2f}"
            )
            for entity in ours_entities:
                physics_entity = physics_entities.get(entity, float("nan"))
                print(f"  entity {entity}: {ours_entities[entity]:.2f} against {physics_entity:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
