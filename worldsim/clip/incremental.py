"""Re-rendering an edited scene into its clip folder: only the frames whose inputs changed.

``plan_rerender`` computes this render's frame inputs for the guidance and the rgb frames,
compares them with the folder's ``frame_inputs.json`` and removes the stale frames' files (so the
ordinary resume renders exactly those), then records the new inputs. The result goes into
``metadata.json`` ``rerendered``: per product, the frames re-rendered and why, and the stated
approximation of what an entity's light can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from worldsim.clip.frame_inputs import APPROXIMATION, FrameInputs, frame_inputs
from worldsim.clip.invalidation import (
    Staleness,
    discard_frames,
    frames_beyond,
    read_frame_inputs,
    stale_frames,
    write_frame_inputs,
)
from worldsim.clip.layout import CLIP_FILES, LIGHTING_MAPS, ClipLayout
from worldsim.state import Trajectory

MATERIAL_MAPS = ("albedo", "roughness", "metallic", "shading_normal")
"""Guidance maps that read the entities' materials (the lighting maps do too)."""


@dataclass(frozen=True)
class ProductInputs:
    """How one product's frame inputs are computed. expand: stale frames -> every frame to re-render
    (given the frame count the folder was made with, or None)."""

    maps: Sequence[str]
    settings: dict[str, Any]
    reach: str
    with_lights: bool = True
    with_materials: bool = True
    neighbours: Sequence[int] = ()
    expand: Callable[[set[int], int | None], set[int]] | None = None


@dataclass
class Rerender:
    """What this render found stale in the folder, per product (``guidance``, ``rgb``)."""

    stale: dict[str, Staleness] = field(default_factory=dict)
    reach: dict[str, str] = field(default_factory=dict)
    removed_beyond: list[int] = field(default_factory=list)
    digests: dict[str, list[str]] = field(default_factory=dict)
    """Product -> (T,) this render's frame input digests."""

    def to_json(self) -> dict[str, Any]:
        return {
            "approximation": APPROXIMATION,
            "reach": self.reach,
            **{name: staleness.to_json() for name, staleness in self.stale.items()},
            "frames_beyond_the_clip_removed": self.removed_beyond,
        }


def guidance_product(maps: Sequence[str], settings: dict[str, Any]) -> ProductInputs:
    """The guidance maps' inputs: what is in view (plus shadows when lighting maps are written);
    forward flow reads the next frame, backward flow the previous one."""
    lighting = any(name in LIGHTING_MAPS for name in maps)
    materials = lighting or any(name in MATERIAL_MAPS for name in maps)
    backward = any(name.startswith("flow_backward") for name in maps)
    forward = any(name.startswith("flow") and not name.startswith("flow_backward") for name in maps)
    neighbours = [offset for offset, wanted in ((1, forward), (-1, backward)) if wanted]
    return ProductInputs(
        maps=list(maps),
        settings=settings,
        reach="shadow" if lighting else "view",
        with_lights=lighting,
        with_materials=materials,
        neighbours=neighbours,
    )


def plan_rerender(
    layout: ClipLayout,
    trajectory: Trajectory,
    camera: str,
    products: dict[str, ProductInputs],
    *,
    previous_count: int | None,
) -> Rerender:
    """Remove the stale frames of every product from ``layout`` and record the new frame inputs.

    previous_count: the frame count of the clip in the folder (None: no clip there yet).
    A folder without ``frame_inputs.json`` (written before frame inputs were recorded) was checked
    to hold the same scene and settings (``render._check_existing``): its files are kept, as a
    resume keeps them. A product the record lacks while its files exist is stale everywhere."""
    recorded = read_frame_inputs(layout) if previous_count is not None else None
    trusted = previous_count is None or recorded is None
    result = Rerender()
    computed: dict[str, FrameInputs | None] = {}
    count = len(trajectory)
    for name, product in products.items():
        inputs = frame_inputs(
            trajectory,
            camera,
            product.settings,
            reach=product.reach,
            with_lights=product.with_lights,
            with_materials=product.with_materials,
            neighbours=product.neighbours,
        )
        computed[name] = inputs
        result.digests[name] = inputs.digests
        result.reach[name] = product.reach
        old_json = recorded.get(name) if recorded is not None else None
        old = FrameInputs.from_json(old_json) if old_json else None
        per_frame = [map_name for map_name in product.maps if map_name not in CLIP_FILES]
        held = set().union(
            *(
                layout.read_clip_file(map_name)["frames"]
                for map_name in product.maps
                if map_name in CLIP_FILES
            )
        )

        def on_disk(frame: int, maps: list[str] = per_frame, held: set[str] = held) -> bool:
            return str(frame) in held or any(path.is_file() for path in layout.frame_files(maps, frame))

        expand = None
        if product.expand is not None:
            expand_function = product.expand

            def expand(stale: set[int], function=expand_function) -> set[int]:
                return function(stale, previous_count)

        staleness = Staleness() if trusted else stale_frames(old, inputs, on_disk=on_disk, expand=expand)
        if trusted and previous_count is not None and previous_count < count and 1 in product.neighbours:
            # no record to compare, but the old last frame's forward flow now has a frame after it
            last = previous_count - 1
            if on_disk(last):
                staleness = Staleness([last], {last: ["the next frame now exists (forward flow)"]})
        if product.expand is not None and previous_count is not None and previous_count != count:
            # a window plan that changed with the frame count (an extended clip) re-samples windows
            # whose frames' digests did not change
            extra = product.expand(set(), previous_count) - set(staleness.frames)
            for frame in sorted(extra):
                if on_disk(frame):
                    staleness.reasons[frame] = ["its window changed with the clip's length"]
            staleness.frames = sorted(staleness.reasons)
        discard_frames(layout, product.maps, staleness.frames)
        beyond = frames_beyond(layout, product.maps, count)
        discard_frames(layout, product.maps, beyond)
        result.removed_beyond = sorted(set(result.removed_beyond) | set(beyond))
        result.stale[name] = staleness
    write_frame_inputs(layout, camera, computed)
    return result


def touched_frames(
    before: Trajectory, after: Trajectory, camera: str, product: ProductInputs
) -> dict[str, list[int]]:
    """What changed -> the frames of ``after`` it touches, for one product (``worldsim diff``).

    Keys are part names (``entity 3``, ``camera``, ``lights``, ``settings``), ``new frame`` for
    frames ``before`` lacks, and ``window`` for frames a window renderer re-renders with them."""

    def inputs(trajectory: Trajectory) -> FrameInputs:
        return frame_inputs(
            trajectory,
            camera,
            product.settings,
            reach=product.reach,
            with_lights=product.with_lights,
            with_materials=product.with_materials,
            neighbours=product.neighbours,
        )

    old, new = inputs(before), inputs(after)
    touched: dict[str, set[int]] = {}
    for frame, digest in enumerate(new.digests):
        if frame >= len(old.digests):
            touched.setdefault("new frame", set()).add(frame)
            continue
        if old.digests[frame] == digest:
            continue
        old_parts, new_parts = old.parts[frame], new.parts[frame]
        for name in set(old_parts) | set(new_parts):
            if old_parts.get(name) != new_parts.get(name):
                touched.setdefault(name.split(" @")[0], set()).add(frame)
    stale = set().union(*touched.values()) if touched else set()
    if product.expand is not None:
        dragged = product.expand(stale - touched.get("new frame", set()), len(before)) - stale
        if dragged:
            touched["window"] = dragged
    return {name: sorted(frames) for name, frames in sorted(touched.items())}


def frame_ranges(frames: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    runs: list[list[int]] = []
    for frame in sorted(frames):
        if runs and frame == runs[-1][1] + 1:
            runs[-1][1] = frame
        else:
            runs.append([frame, frame])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
