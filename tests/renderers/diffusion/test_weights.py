"""Weights round trip through safetensors and fail with the file and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from renderers.diffusion.model import ModelConfig, VideoUNet
from renderers.diffusion.weights import load_weights, save_weights
from worldsim.errors import RenderError

TINY = ModelConfig(channels=[8, 16], patch_size=1, time_dim=16, groups=4)


def test_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    path = save_weights(model, TINY, tmp_path / "w.safetensors", {"step": 3})
    loaded, config, metadata = load_weights(path)
    assert config == TINY and metadata == {"step": 3}
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)


def test_errors_name_file_and_reason(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"missing\.safetensors: file not found"):
        load_weights(tmp_path / "missing.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file at all")
    with pytest.raises(RenderError, match=r"corrupt\.safetensors: not a readable safetensors"):
        load_weights(corrupt)
    no_config = tmp_path / "no_config.safetensors"
    save_file({"a": torch.zeros(1)}, str(no_config))
    with pytest.raises(RenderError, match="no model config"):
        load_weights(no_config)
    model = VideoUNet(TINY)
    tensors = dict(model.state_dict())
    first = next(iter(tensors))
    del tensors[first]
    broken = tmp_path / "broken.safetensors"
    save_file(
        tensors,
        str(broken),
        metadata={"config": '{"channels": [8, 16], "patch_size": 1, "time_dim": 16, "groups": 4}'},
    )
    with pytest.raises(RenderError, match=f"missing tensors: {first}"):
        load_weights(broken)
    bad_config = tmp_path / "bad_config.safetensors"
    save_file(tensors, str(bad_config), metadata={"config": '{"channel_count": 3}'})
    with pytest.raises(RenderError, match="invalid model config"):
        load_weights(bad_config)
