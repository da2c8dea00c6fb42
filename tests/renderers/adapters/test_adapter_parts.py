"""The adapters' parts that need no model (control maps, latent geometry, references, options,
weights-folder checks) and the ways in: offline loading, ``worldsim render --weights``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from renderers.adapters.control import DepthNormaliser, edge_control, segmentation_control
from renderers.adapters.latents import latent_count, slice_frames
from renderers.adapters.options import load_adapter_options
from renderers.adapters.references import EntityReferences
from renderers.adapters.weights import PipelineSpec, check_pipeline_folder
from renderers.adapters.windowed import LatentGeometry, default_prompt
from renderers.base import available, create
from renderers.guidance import render_guidance
from worldsim.errors import MissingExtraError, RenderError

WAN = PipelineSpec("WanVACEPipeline", ("tokenizer", "text_encoder", "vae", "scheduler", "transformer"), "x")


def test_adapters_are_registered():
    assert {"wan_vace", "cogvideox_fun"} <= set(available())


def test_frame_counts_follow_the_latent_geometry():
    wan = LatentGeometry(temporal=4, spatial=8, channels=16, size_step=16)
    assert [wan.frame_count(n) for n in (1, 2, 5, 9, 10, 81)] == [1, 5, 5, 9, 13, 81]
    cogvideox_15 = LatentGeometry(temporal=4, spatial=8, channels=16, size_step=16, temporal_patch=2)
    assert cogvideox_15.frame_count(81) == 85  # 21 latent frames -> 22, a whole number of patches
    assert latent_count(81, 4) == 21 and latent_count(5, 4) == 2
    # Each latent frame takes the geometry of its last pixel frame; a padded window clamps.
    assert slice_frames(8, 3, 4, last=100) == [8, 12, 16]
    assert slice_frames(8, 3, 4, last=13) == [8, 12, 13]


def test_depth_control_is_inverse_depth_with_one_range_per_clip(box_trajectory):
    frames = list(render_guidance(box_trajectory(3)))
    depth = DepthNormaliser()
    depth.fit([frame.depth for frame in frames])
    near, far = depth.near, depth.far
    image = depth(frames[0].depth)
    assert image.shape == (32, 48, 3) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    finite = np.isfinite(frames[0].depth)
    # Nearer is brighter.
    order = np.argsort(frames[0].depth[finite])
    values = image[..., 0][finite][order]
    assert (
        values[0] >= values[-1] and values[: len(values) // 10].mean() > values[-len(values) // 10 :].mean()
    )
    depth.fit([frames[0].depth * 3.0])  # later windows keep the first range
    assert (depth.near, depth.far) == (near, far)


def test_edges_outline_entities_and_segmentation_colours_them(box_trajectory):
    (frame,) = render_guidance(box_trajectory(1))
    edges = edge_control(frame)[..., 0] > 0
    ids = frame.instance
    # Every pair of neighbours showing different entities has an edge pixel on one side.
    horizontal = ids[:, :-1] != ids[:, 1:]
    vertical = ids[:-1] != ids[1:]
    assert horizontal.any() and vertical.any()
    assert np.all((edges[:, :-1] | edges[:, 1:])[horizontal])
    assert np.all((edges[:-1] | edges[1:])[vertical])
    assert edges.mean() < 0.3  # a line drawing, not a fill
    box = ids == 2
    colours = segmentation_control(frame)
    assert np.allclose(colours[frame.instance == 0], 0.0)
    assert len(np.unique(colours[box], axis=0)) == 1 and colours[box].max() > 0.2


def test_references_keep_first_crops_of_subjects_only():
    instance = np.zeros((2, 20, 30), dtype=np.uint16)
    instance[:, 9:, :] = 1  # a floor over the lower half: scenery, skipped
    instance[0, 2:6, 3:8] = 2  # a small subject, bigger in frame 1
    instance[1, 2:8, 3:10] = 2
    instance[1, 0, 0] = 3  # a speck, too small
    rgb = np.full((2, 20, 30, 3), 0.25, dtype=np.float32)
    references = EntityReferences(limit=2, min_pixels=4)
    assert references.remember([10, 11], rgb, instance) == [2]
    (crop,) = references.images()
    assert crop.shape == (6, 7, 3) and references.first_frame[2] == 11
    assert np.allclose(crop, 0.25)
    rgb[:] = 0.75
    assert references.remember([12, 13], rgb, instance) == []  # first look kept
    np.testing.assert_allclose(references.images()[0], 0.25)
    assert EntityReferences(limit=0).remember([0, 1], rgb, instance) == []


def test_default_prompt_is_the_scenes_else_its_classes(box_trajectory):
    from dataclasses import replace

    trajectory = box_trajectory(2)
    assert default_prompt(trajectory) == "A realistic video of a scene with plane, box."
    assert default_prompt(replace(trajectory, prompt="a red cart")) == "a red cart"


@pytest.mark.parametrize("name", ["wan_vace", "cogvideox_fun"])
def test_shipped_defaults_load_and_bad_options_name_the_key(name):
    options = load_adapter_options(name)
    assert options.weights is None and (options.window - 1) % 4 == 0 and (options.overlap - 1) % 4 == 0
    for bad, fragment in (
        ({"control": "pose"}, "'control'"),
        ({"dtype": "float8"}, "'dtype'"),
        ({"offload": "disk"}, "'offload'"),
        ({"overlap": 81 if name == "wan_vace" else 49}, "'overlap'"),
        ({"attention_backend": "flash_hub"}, "'attention_backend'"),
        ({"windw": 9}, "windw"),
    ):
        with pytest.raises(RenderError, match=name) as error:
            load_adapter_options(name, bad)
        assert fragment in str(error.value)


def test_missing_weights_say_what_to_pass(tmp_path):
    with pytest.raises(RenderError, match=r"--weights PATH") as error:
        create("wan_vace", {})
    assert "Wan-AI/Wan2.1-VACE-1.3B-diffusers" in str(error.value)
    with pytest.raises(RenderError, match=r"does not exist"):
        create("wan_vace", {"weights": str(tmp_path / "nowhere")})


def test_an_incomplete_folder_lists_everything_missing(tmp_path):
    folder = tmp_path / "partial"
    (folder / "vae").mkdir(parents=True)
    (folder / "vae" / "config.json").write_text("{}")
    (folder / "scheduler").mkdir()
    with pytest.raises(RenderError) as error:
        check_pipeline_folder("wan_vace", folder, WAN)
    message = str(error.value)
    for missing in (
        "model_index.json",
        "tokenizer/",
        "text_encoder/",
        "vae/ weights",
        "scheduler/scheduler_config.json",
        "transformer/",
    ):
        assert missing in message, (missing, message)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "CogVideoXFunControlPipeline"}))
    with pytest.raises(
        RenderError, match="holds a CogVideoXFunControlPipeline pipeline, expected WanVACEPipeline"
    ):
        check_pipeline_folder("wan_vace", folder, WAN)


def test_a_saved_pipeline_loads_offline_from_its_folder(make_adapter, tmp_path, monkeypatch):
    import socket

    make_adapter("wan_vace")  # writes the folder
    folder = make_adapter.folders["wan_vace"]

    def no_network(*args, **kwargs):
        raise AssertionError("the adapter tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    copy = tmp_path / "Wan2.1-VACE-tiny-diffusers"
    shutil.copytree(folder, copy)
    adapter = create(
        "wan_vace", {"weights": str(copy), "dtype": "float32", "vae_dtype": "float32", "device": "cpu"}
    )
    assert type(adapter.pipeline).__name__ == "WanVACEPipeline"
    assert adapter.geometry == LatentGeometry(temporal=4, spatial=8, channels=16, size_step=16)

    shutil.rmtree(copy / "transformer")
    (copy / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(RenderError, match=r"missing: vae/ weights \(\*\.safetensors\), transformer/"):
        create("wan_vace", {"weights": str(copy)})


def test_without_diffusers_the_error_names_the_extra(monkeypatch):
    from renderers.adapters.weights import import_diffusers

    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(MissingExtraError, match=r"worldsim\[adapters\]"):
        import_diffusers()


def test_importing_the_adapters_does_not_import_diffusers():
    code = (
        "import sys, renderers.adapters.wan_vace, renderers.adapters.cogvideox_fun; "
        "sys.exit(int(any(m in sys.modules for m in ('diffusers', 'transformers', 'torch'))))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[3]).returncode == 0


def test_render_command_takes_weights(make_adapter, tiny_options, tmp_path, capsys):
    import worldsim as ws
    from worldsim.cli.main import main
    from worldsim.clip import Clip
    from worldsim.scene.yaml_io import scene_to_yaml

    scene = ws.Scene(name="adapter", seed=2, fps=8, num_frames=5, resolution=[48, 32])
    scene.add(ws.Entity(name="ground", semantic_class="ground", mesh=ws.Mesh(type="plane", size=[20, 20])))
    scene.add(
        ws.Entity(
            name="crate",
            semantic_class="box",
            mesh=ws.Mesh(type="box", size=[0.6, 0.6, 0.6]),
            pose=ws.Pose(position=[0, 0, 0.3]),
            motion=ws.Motion(type="velocity", linear_velocity=[0.4, 0.0, 0.0]),
            physics=ws.Physics(mode="kinematic", collides=False),
        )
    )
    scene.cameras = [ws.Camera(name="main", fov_deg=50, position=[-3, -1, 1.5], look_at=[0, 0, 0.3])]
    path = tmp_path / "adapter.yaml"
    path.write_text(scene_to_yaml(scene), encoding="utf-8")
    out = tmp_path / "clip"
    base = ["--quiet", "render", str(path), "--out", str(out), "--renderer", "wan_vace"]

    assert main([*base, "--weights", str(tmp_path / "absent")]) == 1
    assert "absent does not exist" in capsys.readouterr().err

    make_adapter("wan_vace")
    options = {**tiny_options, "window": 5, "overlap": 1}
    pairs = [f"{key}={json.dumps(value)}" for key, value in options.items()]
    weights = str(make_adapter.folders["wan_vace"])
    assert main([*base, "--weights", weights, *[arg for p in pairs for arg in ("--option", p)]]) == 0
    clip = Clip(out)
    assert clip.metadata["settings"]["appearance"]["options"]["weights"] == weights
    assert clip.rgb(4).shape == (32, 48, 3)
