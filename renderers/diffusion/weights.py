"""Saving and loading ``VideoUNet`` weights as safetensors (config and metadata as JSON; no pickle)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from renderers.diffusion.model import ModelConfig, VideoUNet
from worldsim.clip.atomic import atomic_path
from worldsim.errors import RenderError

FORMAT = "worldsim.video_unet.v1"


def save_weights(model: VideoUNet, config: ModelConfig, path: str | Path, metadata: dict[str, Any]) -> Path:
    """Write ``model``'s tensors to ``path`` (atomically) with ``config`` and ``metadata`` as JSON."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    header = {
        "format": FORMAT,
        "config": json.dumps(dataclasses.asdict(config)),
        "metadata": json.dumps(metadata, default=str),
    }
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=header)
    return path


def read_safetensors(path: Path, label: str) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(header metadata, tensors) of the safetensors file ``path``; ``RenderError`` naming it as
    ``label`` (``"diffusion weights"``) when it cannot be read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        return header, load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise RenderError(f"{label} {path}: not a readable safetensors file ({error})") from error


def load_weights(path: str | Path) -> tuple[VideoUNet, ModelConfig, dict[str, Any]]:
    """``(model in eval mode, config, metadata)`` from a file written by ``save_weights``.

    Raises ``RenderError`` naming the file and the reason: missing, not safetensors / corrupt,
    wrong or missing config, missing, unexpected or mis-shaped tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"diffusion weights {path}: file not found")
    header, tensors = read_safetensors(path, "diffusion weights")
    if "config" not in header:
        raise RenderError(f"diffusion weights {path}: no model config in the safetensors metadata")
    try:
        config = ModelConfig(**json.loads(header["config"]))
        model = VideoUNet(config)
    except (TypeError, ValueError, StopIteration) as error:
        raise RenderError(f"diffusion weights {path}: invalid model config ({error})") from error
    try:
        metadata = json.loads(header.get("metadata", "{}"))
    except ValueError as error:
        raise RenderError(f"diffusion weights {path}: metadata is not JSON ({error})") from error
    expected = model.state_dict()
    missing = [name for name in expected if name not in tensors]
    unexpected = [name for name in tensors if name not in expected]
    mismatched = [
        f"{name} {tuple(tensors[name].shape)} != {tuple(expected[name].shape)}"
        for name in expected
        if name in tensors and tensors[name].shape != expected[name].shape
    ]
    problems = []
    for label, names in (
        ("missing tensors", missing),
        ("unexpected tensors", unexpected),
        ("shape", mismatched),
    ):
        if names:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            problems.append(f"{label}: {', '.join(names[:3])}{more}")
    if problems:
        raise RenderError(f"diffusion weights {path}: do not match the config ({'; '.join(problems)})")
    model.load_state_dict({name: tensor.to(torch.float32) for name, tensor in tensors.items()})
    model.eval()
    return model, config, metadata
