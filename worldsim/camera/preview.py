"""Camera path preview: top (x-y) and side (x-z) views of the path, frustums every N frames,
look-at targets and entity footprints, drawn with matplotlib (Agg) into a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worldsim.camera.track import CameraTrack

FRUSTUM_DEPTH_FRACTION = 0.08
"""Frustum length as a fraction of the drawing's extent."""

CUT_STEP_RATIO = 20.0
"""A frame step this many times the median step is drawn as a cut (no connecting line)."""


@dataclass
class Footprint:
    """An entity drawn as its world-frame axis-aligned box ``lower``/``upper`` (3,) at frame 0."""

    name: str
    lower: np.ndarray
    upper: np.ndarray
    is_ground: bool = False


def _frustum_corners(track: CameraTrack, frame: int, depth: float) -> np.ndarray:
    """(4, 3) world points of the image corners at ``depth`` metres along the optical axis."""
    intrinsics = track.intrinsics(frame)
    corners = np.array(
        [[0, 0], [intrinsics.width, 0], [intrinsics.width, intrinsics.height], [0, intrinsics.height]]
    )
    cam = np.stack(
        [
            (corners[:, 0] - intrinsics.cx) / intrinsics.fx * depth,
            (corners[:, 1] - intrinsics.cy) / intrinsics.fy * depth,
            np.full(4, depth),
        ],
        axis=-1,
    )
    pose = track.cam_to_world[frame]
    return cam @ pose[:3, :3].T + pose[:3, 3]


def _break_at_cuts(path: np.ndarray) -> np.ndarray:
    """The path (T, 3) with a NaN row after each cut (a step over CUT_STEP_RATIO x the median step)."""
    if len(path) < 3:
        return path
    steps = np.linalg.norm(np.diff(path, axis=0), axis=-1)
    moving = steps[steps > 1e-9]
    if len(moving) == 0:
        return path
    typical = float(np.median(moving))
    cuts = np.flatnonzero(steps > CUT_STEP_RATIO * typical)
    return np.insert(path, cuts + 1, np.nan, axis=0)


def draw_preview(
    tracks: dict[str, CameraTrack],
    out: str | Path,
    *,
    every: int = 8,
    footprints: Sequence[Footprint] = (),
    targets: dict[str, np.ndarray] | None = None,
    title: str = "",
) -> Path:
    """Save the preview PNG of ``tracks`` to ``out``; ``targets`` maps a camera to (T, 3) look-at points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    every = max(1, int(every))
    points = [track.cam_to_world[:, :3, 3] for track in tracks.values()]
    points += [np.stack([f.lower, f.upper]) for f in footprints if not f.is_ground]
    points += [np.asarray(t) for t in (targets or {}).values()]
    cloud = np.concatenate(points)
    lower, upper = cloud.min(axis=0), cloud.max(axis=0)
    extent = float(np.max(upper - lower)) or 1.0
    margin = 0.1 * extent
    depth = FRUSTUM_DEPTH_FRACTION * extent * 1.5

    figure, axes = plt.subplots(1, 2, figsize=(11, 5.2), dpi=100, layout="constrained")
    views = [(axes[0], 0, 1, "top view (x, y)"), (axes[1], 0, 2, "side view (x, z)")]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, a, b, label in views:
        for footprint in footprints:
            style = {"color": "0.9", "zorder": 0} if footprint.is_ground else {"color": "0.6", "alpha": 0.6}
            axis.add_patch(
                Rectangle(
                    (footprint.lower[a], footprint.lower[b]),
                    footprint.upper[a] - footprint.lower[a],
                    footprint.upper[b] - footprint.lower[b],
                    **style,
                )
            )
            if not footprint.is_ground:
                centre = 0.5 * (footprint.lower + footprint.upper)
                axis.annotate(footprint.name, (centre[a], centre[b]), fontsize=7, ha="center", color="0.25")
        for index, (name, track) in enumerate(tracks.items()):
            color = colors[index % len(colors)]
            path = _break_at_cuts(track.cam_to_world[:, :3, 3])
            axis.plot(path[:, a], path[:, b], "-", color=color, lw=1.5, label=name)
            axis.plot(path[0, a], path[0, b], "o", color=color, ms=5)
            for frame in range(0, len(track), every):
                corners = _frustum_corners(track, frame, depth)
                apex = track.cam_to_world[frame, :3, 3]
                for corner in corners:
                    axis.plot([apex[a], corner[a]], [apex[b], corner[b]], "-", color=color, lw=0.6, alpha=0.8)
                loop = np.vstack([corners, corners[:1]])
                axis.plot(loop[:, a], loop[:, b], "-", color=color, lw=0.6, alpha=0.8)
            if targets and name in targets:
                aim = np.asarray(targets[name])
                axis.plot(aim[:, a], aim[:, b], "x", color=color, ms=4, alpha=0.7)
        axis.set_xlim(lower[a] - margin, upper[a] + margin)
        axis.set_ylim(lower[b] - margin, upper[b] + margin)
        axis.set_aspect("equal", adjustable="box")
        axis.set_title(label)
        axis.set_xlabel(f"{'xyz'[a]} (m)")
        axis.set_ylabel(f"{'xyz'[b]} (m)")
        axis.grid(True, lw=0.3)
    axes[0].legend(loc="best", fontsize=8)
    if title:
        figure.suptitle(title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.stem}.tmp.png")
    figure.savefig(temporary)
    plt.close(figure)
    temporary.replace(out)
    return out
