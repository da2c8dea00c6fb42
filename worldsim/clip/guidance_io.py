"""Guidance frames to and from a clip folder, driven by the table of maps (``guidance_maps``).

``write_guidance_frame`` writes a frame's per-frame files, ``ClipFileWriter`` the maps stored once
per clip (``visibility.json``); ``read_guidance_frame`` rebuilds a frame for previews (maps not
written are zero / +inf) and ``read_exact_guidance_frame`` one that stands in for a computed frame
(resume) when every field is stored losslessly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from worldsim.clip.atomic import write_json, write_npy, write_png
from worldsim.clip.clip import Clip
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.clip.layout import CLIP_FILES, ClipLayout
from worldsim.guidance_frame import GuidanceFrame


def write_guidance_frame(layout: ClipLayout, guidance: GuidanceFrame, maps: Iterable[str]) -> None:
    """Write the maps ``maps`` (rows of ``GUIDANCE_MAP_TABLE``) of one guidance frame, each file
    atomically."""
    for name in maps:
        row = GUIDANCE_MAP_TABLE[name]
        if row.clip_file is not None:
            continue  # one file per clip: ``ClipFileWriter``
        paths = layout.map_files(name, guidance.frame)
        for path, array in zip(paths, row.encode(guidance), strict=True):
            (write_npy if path.suffix == ".npy" else write_png)(path, array)


class ClipFileWriter:
    """Entries of the maps stored once per clip (``visibility.json``) for the frames computed this
    run, merged into their files (atomically) every ``FLUSH_EVERY`` frames and at the end."""

    FLUSH_EVERY = 64

    def __init__(self, layout: ClipLayout, maps: Iterable[str]) -> None:
        self.layout = layout
        self.pending: dict[str, dict[str, Any]] = {name: {} for name in maps if name in CLIP_FILES}
        self.count = 0

    def add(self, guidance: GuidanceFrame) -> None:
        for name, entries in self.pending.items():
            entries[str(guidance.frame)] = GUIDANCE_MAP_TABLE[name].encode(guidance)
        self.count += 1
        if self.count >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        for name, entries in self.pending.items():
            if entries:
                data = self.layout.read_clip_file(name)
                frames = {**data.get("frames", {}), **entries}
                data["frames"] = {key: frames[key] for key in sorted(frames, key=int)}
                write_json(self.layout.clip_file(name), data)
                entries.clear()
        self.count = 0


def read_guidance_frame(clip: Clip, frame: int, maps: Sequence[str]) -> GuidanceFrame:
    """Rebuild a GuidanceFrame from the maps on disk (maps not written are zero / +inf)."""
    height, width = (int(clip.metadata["cameras"][clip.camera][key]) for key in ("height", "width"))
    zeros3 = np.zeros((height, width, 3), dtype=np.float32)
    zeros = np.zeros((height, width), dtype=np.float32)
    ids = np.zeros((height, width), dtype=np.uint16)
    fields: dict[str, Any] = {
        "depth": np.full((height, width), np.inf, dtype=np.float32),
        "instance": ids,
        "semantic": ids,
        "normal": zeros3,
        "surface_coords": zeros3,
        "albedo": zeros3,
        "roughness": zeros,
        "metallic": zeros,
    }
    # Lossy rows first, so an exact map of the same field (depth_exact) wins.
    for name in sorted(dict.fromkeys(maps), key=lambda name: GUIDANCE_MAP_TABLE[name].lossless):
        fields.update(clip.map(name, frame))
    fields.setdefault("ray_distance", fields["depth"])
    if "shadow" in fields:
        fields["shadow_lights"] = tuple(clip.metadata.get("settings", {}).get("shadow_channels", ()))
    return GuidanceFrame(frame=frame, camera=clip.camera, **fields)


LIGHTING_FIELDS = ("shadow", "shadow_lights", "irradiance", "specular")
"""The optional lighting fields of ``GuidanceFrame`` (``renderers.guidance.lighting``)."""

REQUIRED_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(GuidanceFrame)
    if field.name not in ("frame", "camera", "visibility", *LIGHTING_FIELDS)
)
"""The fields a read-back frame must have exactly to stand in for a computed one (not visibility,
nor the lighting maps, which are computed only when asked for: a render that needs them recomputes)."""


def read_exact_guidance_frame(clip: Clip, frame: int, maps: Sequence[str]) -> GuidanceFrame | None:
    """The frame read back from ``maps`` on disk when they hold every field of ``REQUIRED_FIELDS``
    losslessly (resume), else None: then it is recomputed."""
    exact = [name for name in dict.fromkeys(maps) if GUIDANCE_MAP_TABLE[name].lossless]
    held = {field for name in exact for field in GUIDANCE_MAP_TABLE[name].fields}
    if not held.issuperset(REQUIRED_FIELDS) or not clip.layout.is_complete(exact, frame):
        return None
    fields: dict[str, Any] = {}
    for name in exact:
        fields.update(clip.map(name, frame))
    # No flow leaves the clip's ends (the files hold zeros there).
    if frame == clip.num_frames - 1:
        fields["flow_forward"] = fields["flow_forward_valid"] = None
    if frame == 0:
        fields["flow_backward"] = fields["flow_backward_valid"] = None
    kept = (*REQUIRED_FIELDS, "visibility")
    return GuidanceFrame(
        frame=frame, camera=clip.camera, **{key: fields[key] for key in kept if key in fields}
    )
