"""The prompt probes end to end on a small scene: rows, the path tracer's pairs, and adherence."""

from __future__ import annotations

import json

import numpy as np

from worldsim.experiments.prompt_probes import PromptProbes, probe_report, run_prompt_probes

SCENE = """
name: probe_scene
seed: 3
num_frames: 1
resolution: [48, 48]
semantic_classes: {ground: 1, crate: 2, ball: 3}
entities:
  - {name: ground, semantic_class: ground, mesh: {type: plane, size: [6, 6]}, physics: {mode: static}}
  - name: crate
    semantic_class: crate
    mesh: {type: box, size: [0.7, 0.7, 0.7]}
    pose: {position: [-0.4, 0.0, 0.35]}
    physics: {mode: static}
  - name: ball
    semantic_class: ball
    mesh: {type: sphere, radius: 0.4}
    pose: {position: [0.5, 0.2, 0.4]}
    physics: {mode: static}
cameras:
  - {name: main, fov_deg: 50, position: [2.4, -2.4, 1.6], look_at: [0, 0, 0.3]}
"""


def test_probes_measure_colour_finish_and_lighting(tmp_path) -> None:
    scene = tmp_path / "probe_scene.yaml"
    scene.write_text(SCENE)
    probes = PromptProbes(frames=1, resolution=[48, 48], reference_options={"samples_per_pixel": 8})
    result = run_prompt_probes(probes, [scene], [0], tmp_path / "out")
    assert json.loads((tmp_path / "out" / "prompt_probes.json").read_text())["summary"] == result["summary"]
    summary = result["summary"]
    # three entities with a colour word each; the words' colours are drawn, text off is chance
    assert summary["colour_entities"] == 3
    assert summary["colour_adherence"] >= 2 / 3 > summary["colour_chance"]
    assert all(row["word"] in row["description"] for row in result["colour"])  # the words were said
    # each finish pair carries the path tracer's areas of the same two worlds
    assert summary["finish_pairs"] == len(result["finish"]) > 0
    for row in result["finish"]:
        assert {"reference_glossy", "reference_matte", "reference_adheres", "decided"} <= set(row)
        assert row["decided"] <= row["reference_adheres"]
    assert summary["finish_decided_pairs"] == sum(row["decided"] for row in result["finish"])
    # the lighting words order the image: night < sunset < midday
    (lighting,) = result["lighting"]
    brightness = [lighting["kinds"][kind]["brightness"] for kind in ("night", "sunset", "midday")]
    assert np.all(np.diff(brightness) > 0) and lighting["brightness_ordered"]
    assert "| colour word in its CIELAB region |" in probe_report(result)
