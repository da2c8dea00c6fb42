"""Tiny randomly initialised diffusers pipelines, built from configs under a fixed seed (the way
diffusers tests its own pipelines) and saved with ``save_pretrained``, so the adapters load them
through the ``weights`` folder exactly as they load real ones. The tokenizer is a word-level
``tokenizers`` model built here and the text encoders tiny (U)T5 configs: nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderers.guidance.synthetic import looking_at, make_trajectory, translation
from worldsim.camera.intrinsics import Intrinsics
from worldsim.scene.model import MeshSpec

WORDS = [
    "a",
    "an",
    "the",
    "of",
    "with",
    "and",
    "video",
    "scene",
    "realistic",
    "red",
    "blue",
    "box",
    "ball",
    "plane",
    "cube",
    "floor",
    "moving",
    "on",
]
TEXT_DIM = 32
TOKENS = 8
"""Prompt tokens in the tests (``max_sequence_length``)."""


def tiny_tokenizer():
    """A word-level tokenizer (T5-style pad / eos / unk) built in memory."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocabulary = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in WORDS:
        vocabulary.setdefault(word, len(vocabulary))
    model = Tokenizer(models.WordLevel(vocab=vocabulary, unk_token="<unk>"))
    model.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=model, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def tiny_text_encoder(config_class, model_class):
    """A one-layer (U)T5 encoder over the test vocabulary, seeded."""
    import torch

    torch.manual_seed(0)
    config = config_class(
        vocab_size=len(WORDS) + 3,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
    )
    return model_class(config)


def tiny_wan_vace_pipeline():
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    text_encoder = tiny_text_encoder(UMT5Config, UMT5EncoderModel)
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=3,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        vace_layers=[0, 2],
        vace_in_channels=96,
    )
    return WanVACEPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
    )


def tiny_cogvideox_fun_pipeline():
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXFunControlPipeline,
        CogVideoXTransformer3DModel,
        DDIMScheduler,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=8,
        in_channels=8,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=TEXT_DIM,
        num_layers=1,
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=TOKENS,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    text_encoder = tiny_text_encoder(T5Config, T5EncoderModel)
    return CogVideoXFunControlPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=DDIMScheduler(),
    )


def moving_box_trajectory(frames: int, *, box_x: float = 0.15, size: tuple[int, int] = (48, 32)):
    """A box sliding over a plane, seen from a fixed camera; ``box_x`` metres per frame."""
    poses = np.stack(
        [np.stack([translation(0, 0, 0), translation(-1.0 + box_x * t, 0.0, 0.3)]) for t in range(frames)]
    )
    cameras = np.stack([looking_at(np.array([-3.0, -1.0, 1.5]), np.array([0.0, 0.0, 0.3]))] * frames)
    return make_trajectory(
        [MeshSpec(type="plane", size=[8.0, 8.0]), MeshSpec(type="box", size=[0.6, 0.6, 0.6])],
        poses,
        cameras,
        Intrinsics.from_fov(50.0, *size),
        seed=3,
    )


CLIP_FRAMES = 13
"""Two windows of 9 frames with 5 frames of overlap (TINY): (0..8) and (4..12)."""

TINY = {
    "steps": 2,
    "guidance_scale": 2.0,
    "dtype": "float32",
    "vae_dtype": "float32",
    "device": "cpu",
    "resolution": [48, 32],
    "window": 9,
    "overlap": 5,
    "max_sequence_length": TOKENS,
    "prompt": "a red box moving on a blue floor",
    "negative_prompt": "",
}
"""Options that make a real adapter run the tiny pipelines in well under a second per window."""


@pytest.fixture
def tiny_options() -> dict:
    return dict(TINY)


@pytest.fixture
def render():
    """``render(adapter, trajectory, frames=range(CLIP_FRAMES))``: {frame: (H, W, 3) uint8}."""

    def run(adapter, trajectory, frames=range(CLIP_FRAMES)) -> dict[int, np.ndarray]:
        from renderers.guidance.source import ClipGuidance

        return dict(adapter.render_frames(trajectory, "main", list(frames), ClipGuidance(trajectory, "main")))

    return run


@pytest.fixture
def box_trajectory():
    """``box_trajectory(frames, box_x=0.15)``: see ``moving_box_trajectory``."""
    return moving_box_trajectory


@pytest.fixture(scope="session")
def make_adapter(tmp_path_factory):
    """``make_adapter(name, **options)``: a fresh adapter on its tiny saved pipeline, TINY options."""
    from renderers.base import create

    folders: dict[str, Path] = {}

    def make(name: str, **options):
        if name not in folders:
            pytest.importorskip("diffusers")
            build = {"wan_vace": tiny_wan_vace_pipeline, "cogvideox_fun": tiny_cogvideox_fun_pipeline}[name]
            folders[name] = tmp_path_factory.mktemp(name) / f"tiny-{name}"
            build().save_pretrained(folders[name])
        defaults = {**TINY, "weights": str(folders[name])}
        if name == "cogvideox_fun":
            defaults.update(references=False, max_references=0)
        return create(name, {**defaults, **options})

    make.folders = folders
    return make


class PipelineSpy:
    """Stands in for an adapter's pipeline: records each call's keyword arguments and its output
    frames ((T, h, w, 3) float32), forwards everything else."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self.calls: list[tuple[dict, np.ndarray]] = []

    def __call__(self, **kwargs):
        output = self.pipeline(**kwargs)
        self.calls.append((kwargs, np.array(output.frames[0], dtype=np.float32)))
        return output

    def __getattr__(self, name: str):
        return getattr(self.pipeline, name)


@pytest.fixture
def spy_on():
    """``spy_on(adapter)``: wrap its pipeline in a ``PipelineSpy`` and return the spy."""

    def wrap(adapter) -> PipelineSpy:
        adapter.pipeline = PipelineSpy(adapter.pipeline)
        return adapter.pipeline

    return wrap
