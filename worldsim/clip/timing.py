"""Timing a clip was first rendered with, kept when it is extended or re-rendered.

A camera move without a ``duration`` lasts to the end of the clip, so a longer clip would slow it
down and change every frame. A clip folder records the durations such moves got
(``metadata.json`` ``timing``: key path -> seconds); a later render into the folder (``--extend``,
a scene with more frames, an edit) gives those moves their recorded duration, so the first frames
stay as they were. Entity motions never depend on the clip's length (paths default to a speed,
orbits to a period), and ``follow``/``chase`` moves track their target to the end whatever it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from worldsim.camera.spec import CameraMove

UNTIMED_MOVES = ("follow", "chase")
"""Move types whose motion does not stretch with the clip (they keep tracking their target)."""


def _moves(scene: Any) -> Iterator[tuple[str, CameraMove]]:
    for camera_index, camera in enumerate(scene.cameras):
        for move_index, move in enumerate(camera.moves):
            yield f"cameras[{camera_index}].moves[{move_index}]", move
        for segment_index, segment in enumerate(camera.segments):
            for move_index, move in enumerate(segment.moves):
                yield f"cameras[{camera_index}].segments[{segment_index}].moves[{move_index}]", move


def implicit_timings(scene: Any) -> dict[str, float]:
    """Key path of each ``duration`` a move takes from the clip's length -> that duration (s)."""
    end = (scene.frame_count - 1) / float(scene.fps)
    return {
        f"{path}.duration": max(end - float(move.start_time), 0.0)
        for path, move in _moves(scene)
        if move.duration is None and move.type not in UNTIMED_MOVES
    }


def pin_timings(scene: Any, recorded: dict[str, float]) -> list[str]:
    """Give the moves of ``scene`` (in place) without a duration the ``recorded`` one; returns the
    key paths pinned."""
    pinned = []
    for path, move in _moves(scene):
        key = f"{path}.duration"
        if move.duration is None and key in recorded and move.type not in UNTIMED_MOVES:
            move.duration = float(recorded[key])
            pinned.append(key)
    return pinned


def continued_scene(
    scene: Any, previous: dict[str, Any] | None, extend: int | None, out: str
) -> tuple[Any, dict[str, float]]:
    """The scene to render into a folder whose clip has ``previous`` metadata (None: no clip), and
    the timing to record: ``extend`` more frames than that clip, every move without a duration
    pinned to the duration it was first rendered with. ``scene`` itself is not changed."""
    import copy

    from worldsim.errors import RenderError

    if extend is not None:
        if isinstance(extend, bool) or not isinstance(extend, int) or extend < 1:
            raise RenderError(f"--extend: N must be a whole number of frames >= 1, got {extend!r}")
        if previous is None:
            raise RenderError(
                f"--extend: {out} holds no rendered clip to extend (render it first, without --extend)"
            )
    if previous is None:
        return scene, implicit_timings(scene)
    scene = copy.deepcopy(scene)
    recorded = previous.get("timing")
    if not isinstance(recorded, dict):  # a folder from before timings were recorded
        first = copy.deepcopy(scene)
        first.num_frames, first.duration = int(previous.get("num_frames", scene.frame_count)), None
        recorded = implicit_timings(first)
    if extend is not None:
        scene.num_frames, scene.duration = int(previous["num_frames"]) + extend, None
    pin_timings(scene, recorded)
    return scene, {**implicit_timings(scene), **recorded}
