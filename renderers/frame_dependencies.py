"""What each appearance renderer reads to make a frame: the reach of its frame inputs
(``worldsim.clip.frame_inputs.REACH_KINDS``) and, for window renderers, which frames one stale
frame drags along. The orchestrator uses it to re-render only what an edit touched.

A renderer may also declare ``frame_reach`` (a reach kind) and ``affected_frames(stale, count)``
itself; a renderer neither does nor this table knows reads the whole clip (``clip``): every edit
re-renders every frame.
"""

from __future__ import annotations

from typing import Any

RENDERER_REACH: dict[str, str] = {
    "reference": "global",  # path tracing: shadows, bounce light, reflections
    "direct": "shadow",  # guidance albedo x shadowed irradiance + environment specular
    "flat": "view",
    "jitter": "view",
    "reseed": "view",
    "diffusion": "view",  # its condition is the frame's guidance; windows below
}
"""Renderer name -> reach kind of its frames' inputs."""


def frame_reach(name: str, renderer: Any) -> str:
    """The reach kind of ``renderer``'s frame inputs (``clip`` when unknown)."""
    declared = getattr(renderer, "frame_reach", None)
    if isinstance(declared, str):
        return declared
    return RENDERER_REACH.get(name, "clip")


def affected_frames(
    name: str, renderer: Any, stale: set[int], count: int, previous_count: int | None = None
) -> set[int]:
    """Every frame of a ``count``-frame clip that must be re-rendered when ``stale`` changed;
    ``previous_count``: the frame count the folder's frames were made with (an extended clip)."""
    declared = getattr(renderer, "affected_frames", None)
    if callable(declared):
        return set(declared(stale, count, previous_count))
    if name == "diffusion":
        return diffusion_affected_frames(getattr(renderer, "options", None), stale, count, previous_count)
    if frame_reach(name, renderer) == "clip":
        return set(range(count)) if stale else set()
    return set(stale)


def diffusion_affected_frames(
    options: Any, stale: set[int], count: int, previous_count: int | None = None
) -> set[int]:
    """The diffusion renderer's windows: a window whose support (its frames and margins) holds a
    stale frame is re-sampled, with every frame it makes; with window context or the appearance
    memory a window reads what earlier ones made, so every window after the first stale one is
    too (conservative: the memory may not have learnt anything there). A window planned or
    supported differently at ``previous_count`` frames (the old last window of an extended clip)
    is re-sampled as well."""
    from renderers.diffusion.windows import plan_windows, support_frames

    try:
        window, overlap, margin = int(options.window), int(options.overlap), int(options.margin)
        chained = bool(options.context) or bool(options.memory)
    except AttributeError:  # options of another shape: assume everything depends on everything
        return set(range(count)) if stale else set()
    before = previous_count if previous_count is not None else count
    old_plan = {(w.start, w.stop, w.context): w for w in plan_windows(max(before, 1), window, overlap)}
    affected: set[int] = set()
    first_stale = None
    for planned in plan_windows(count, window, overlap):
        support = support_frames(planned, margin, count)
        old = old_plan.get((planned.start, planned.stop, planned.context))
        replanned = old is None or support_frames(old, margin, before) != support
        hit = replanned or bool(stale.intersection(support))
        if hit and first_stale is None:
            first_stale = planned.index
        if hit or (chained and first_stale is not None):
            affected.update(planned.frames)
    return affected
