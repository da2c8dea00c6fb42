"""The provenance record: what made an output, as deterministic JSON (no times, no host names).

The same scene, settings and weights give the same record, so frames of a resumed render stay
byte-identical. Frames carry the clip record plus their frame index.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD_KEY = "worldsim"
"""PNG text key, MP4 tag payload key and C2PA assertion suffix of the record."""

SOFTWARE = "worldsim"

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
"""IPTC digital source type of media made by a trained generative model (diffusion, adapters)."""
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
"""IPTC digital source type of media computed by an algorithm without training data (path tracer,
direct lighting, flat colours)."""

WEIGHT_HEADER_BYTES = 1 << 20
"""A weights *folder* is fingerprinted by its configs and the first MiB of each weight file
(safetensors headers name every tensor, its shape and offsets), not by hashing gigabytes."""


@dataclass(frozen=True)
class RendererProvenance:
    """What the record says about the renderer: ``generative`` and its weights (file or folder)."""

    name: str
    generative: bool
    weights: Path | None = None


def renderer_provenance(name: str, renderer: Any) -> RendererProvenance:
    """From a renderer's optional attributes ``generative`` (bool) and ``weights_source`` (path)."""
    weights = getattr(renderer, "weights_source", None)
    return RendererProvenance(
        name=name,
        generative=bool(getattr(renderer, "generative", False)),
        weights=None if weights is None else Path(weights),
    )


def digital_source_type(generative: bool) -> str:
    """The IPTC digital source type URL for a generative (trained) or algorithmic renderer."""
    return TRAINED_ALGORITHMIC_MEDIA if generative else ALGORITHMIC_MEDIA


def weights_sha256(path: Path) -> str:
    """sha256 of a weights file, or the fingerprint of a weights folder (``WEIGHT_HEADER_BYTES``)."""
    digest = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    for file in sorted(item for item in path.rglob("*") if item.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        digest.update(str(file.stat().st_size).encode() + b"\0")
        with open(file, "rb") as stream:
            digest.update(stream.read(WEIGHT_HEADER_BYTES))
    return digest.hexdigest()


def clip_record(
    renderer: RendererProvenance | None, *, scene_digest: str, seed: int, version: str
) -> dict[str, Any]:
    """The record of a clip; ``renderer`` None for guidance-only clips (labels, not appearance)."""
    record: dict[str, Any] = {
        "software": SOFTWARE,
        "version": version,
        "synthetic": True,
        "renderer": None if renderer is None else renderer.name,
        "generative": False if renderer is None else renderer.generative,
        "digital_source_type": digital_source_type(renderer is not None and renderer.generative),
        "weights": None,
        "weights_sha256": None,
        "scene_digest": scene_digest,
        "seed": int(seed),
    }
    if renderer is not None and renderer.weights is not None:
        record["weights"] = renderer.weights.name
        record["weights_sha256"] = weights_sha256(renderer.weights)
    return record


def frame_record(record: dict[str, Any], frame: int, frame_inputs: str | None = None) -> dict[str, Any]:
    """The clip ``record`` of one frame. With ``frame_inputs`` (the frame's content address,
    ``worldsim.clip.frame_inputs``) the record is keyed to the frame's own inputs instead of the
    whole scene's digest, so a frame an edit did not touch keeps its record (and its bytes)."""
    if frame_inputs is None:
        return {**record, "frame": int(frame)}
    own = {key: value for key, value in record.items() if key != "scene_digest"}
    return {**own, "frame": int(frame), "frame_inputs": frame_inputs}


def encode_record(record: dict[str, Any]) -> str:
    """Canonical JSON (sorted keys, no spaces): the same record always gives the same bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"))
