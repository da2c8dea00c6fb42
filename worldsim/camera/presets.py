"""Camera moves (presets): functions of a ``RigState`` returning the state with the move applied.

Relative moves (dolly, truck, pedestal, crane, pan, tilt, roll, zoom, dolly_zoom) add their
eased effect to every frame: 0 before the move, all of it after, so chained moves join
continuously. Absolute moves (orbit, flyover, follow, chase) leave frames before their start
untouched and define the pose from then on; their defaults continue from the current pose.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from worldsim.camera.conventions import look_at_rotation
from worldsim.camera.easing import eased_progress
from worldsim.camera.rig import RigState, axis_rotation
from worldsim.camera.spec import MOVE_TYPES, CameraMove
from worldsim.camera.track import EntityPositionLookup
from worldsim.errors import SceneError

MoveContext = tuple[np.ndarray, np.ndarray, EntityPositionLookup | None, str]
"""(times (T,), up (3,), entity lookup, key path) shared by every move."""


def _progress(move: CameraMove, times: np.ndarray, key_path: str) -> np.ndarray:
    duration = move.duration if move.duration is not None else max(times[-1] - move.start_time, 0.0)
    if duration < 0.0:
        raise SceneError(f"duration must be >= 0, got {duration}", key_path=f"{key_path}.duration")
    return eased_progress(times, move.start_time, duration, move.easing, key_path=f"{key_path}.easing")


def _start_frame(move: CameraMove, times: np.ndarray) -> int:
    return int(min(np.searchsorted(times, move.start_time - 1e-9), len(times) - 1))


def entity_positions(lookup: EntityPositionLookup | None, name: str, count: int, key_path: str) -> np.ndarray:
    """(T, 3) positions of entity ``name`` at frames ``0..count-1``; SceneError without a lookup."""
    if lookup is None:
        raise SceneError(
            f"target entity {name!r} needs entity positions (roll out the world)", key_path=key_path
        )
    return np.asarray(lookup(name, np.arange(count)), dtype=np.float64).reshape(count, 3)


def _subject(move: CameraMove, state: RigState, context: MoveContext, what: str) -> np.ndarray:
    times, _, lookup, key_path = context
    if move.center is not None:
        return np.broadcast_to(np.asarray(move.center, dtype=np.float64), (len(times), 3)).copy()
    if move.target is not None:
        return entity_positions(lookup, move.target, len(times), f"{key_path}.target")
    if state.subject is not None:
        return state.subject
    raise SceneError(f"a {what} needs 'center', 'target' or a camera look-at subject", key_path=key_path)


def _absolute(
    state: RigState,
    active: np.ndarray,
    position: np.ndarray,
    subject: np.ndarray,
    up: np.ndarray,
    key_path: str,
) -> None:
    """Set the pose of ``active`` frames to ``position`` looking at ``subject``."""
    state.position[active] = position[active]
    state.rotation[active] = look_at_rotation(position[active], subject[active], up, key_path=key_path)
    if state.subject is None:
        state.subject = subject.copy()
    state.subject[active] = subject[active]


def orbit(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    times, up, _, key_path = context
    center = _subject(move, state, context, "orbit")
    start = _start_frame(move, times)
    offset0 = state.position[start] - center[start]
    radius0 = float(np.linalg.norm(offset0))
    radius = move.radius if move.radius is not None else radius0
    if radius <= 0.0:
        raise SceneError("orbit radius must be > 0 (camera at the centre?)", key_path=f"{key_path}.radius")
    elevation = (
        math.radians(move.elevation_deg)
        if move.elevation_deg is not None
        else math.asin(np.clip(offset0[2] / radius0, -1.0, 1.0))
    )
    azimuth0 = (
        math.radians(move.start_angle_deg)
        if move.start_angle_deg is not None
        else math.atan2(offset0[1], offset0[0])
    )
    azimuth = azimuth0 + math.radians(move.sweep_deg) * _progress(move, times, key_path)
    direction = np.stack(
        [math.cos(elevation) * np.cos(azimuth), math.cos(elevation) * np.sin(azimuth),
         np.full_like(azimuth, math.sin(elevation))], axis=-1,
    )  # fmt: skip
    active = times >= times[start] - 1e-12
    _absolute(state, active, center + radius * direction, center, up, key_path)
    return state


def _translate(direction: np.ndarray) -> Callable[[CameraMove, RigState, MoveContext], RigState]:
    def move_fn(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
        times, up, _, key_path = context
        axis = direction(state, up)
        state.position += (move.distance * _progress(move, times, key_path))[:, None] * axis
        return state

    return move_fn


dolly = _translate(lambda state, up: state.rotation[:, :, 2])
truck = _translate(lambda state, up: state.rotation[:, :, 0])
pedestal = _translate(lambda state, up: np.broadcast_to(up, state.position.shape))


def crane(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    times, up, _, key_path = context
    progress = _progress(move, times, key_path)
    state.position += (move.distance * progress)[:, None] * up
    if state.subject is not None:
        if move.radius is not None:
            towards = state.subject - state.position
            towards -= np.sum(towards * up, axis=-1, keepdims=True) * up
            norm = np.linalg.norm(towards, axis=-1, keepdims=True)
            state.position += (move.radius * progress)[:, None] * towards / np.maximum(norm, 1e-12)
        state.rotation = look_at_rotation(state.position, state.subject, up, key_path=key_path)
    return state


def _rotate(kind: str) -> Callable[[CameraMove, RigState, MoveContext], RigState]:
    def move_fn(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
        times, up, _, key_path = context
        angle = math.radians(move.angle_deg) * _progress(move, times, key_path)
        if kind == "pan":  # about world up: positive turns left seen from above
            state.rotation = axis_rotation(up, angle) @ state.rotation
        elif kind == "tilt":  # about camera x: positive looks up
            state.rotation = state.rotation @ axis_rotation(np.array([1.0, 0.0, 0.0]), angle)
        else:  # roll about the optical axis: positive turns the image clockwise
            state.rotation = state.rotation @ axis_rotation(np.array([0.0, 0.0, 1.0]), angle)
        return state

    return move_fn


pan, tilt, roll = _rotate("pan"), _rotate("tilt"), _rotate("roll")


def zoom(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    times, _, _, key_path = context
    if move.end_fov_deg is None or not 0.0 < move.end_fov_deg < 180.0:
        raise SceneError("zoom needs end_fov_deg in (0, 180)", key_path=f"{key_path}.end_fov_deg")
    progress = _progress(move, times, key_path)
    state.fov_deg = state.fov_deg * (1.0 - progress) + move.end_fov_deg * progress
    return state


def dolly_zoom(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    """Towards the subject by ``distance`` while ``tan(fov / 2) * depth`` stays constant."""
    times, up, _, key_path = context
    subject = _subject(move, state, context, "dolly_zoom")
    offset = subject - state.position
    depth0 = np.linalg.norm(offset, axis=-1)
    depth = depth0 - move.distance * _progress(move, times, key_path)
    if np.any(depth <= 1e-6):
        raise SceneError(
            f"dolly_zoom distance {move.distance} reaches the subject (at {depth0.min():.3f} m)",
            key_path=f"{key_path}.distance",
        )
    state.position = subject - offset * (depth / depth0)[:, None]
    half = np.tan(np.radians(state.fov_deg) / 2.0) * depth0 / depth
    state.fov_deg = np.degrees(2.0 * np.arctan(half))
    state.rotation = look_at_rotation(state.position, subject, up, key_path=key_path)
    state.subject = subject
    return state


def flyover(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    times, up, _, key_path = context
    center = _subject(move, state, context, "flyover")
    heading = math.radians(move.heading_deg)
    direction = np.array([math.cos(heading), math.sin(heading), 0.0])
    along = move.distance * (_progress(move, times, key_path) - 0.5)
    position = center + along[:, None] * direction + move.height * up
    pitch = math.radians(move.angle_deg)
    forward = math.cos(pitch) * direction - math.sin(pitch) * up
    active = times >= times[_start_frame(move, times)] - 1e-12
    state.position[active] = position[active]
    ahead = position[active] + forward
    state.rotation[active] = look_at_rotation(position[active], ahead, up, key_path=key_path)
    return state


def _entity_target(move: CameraMove, context: MoveContext, kind: str) -> np.ndarray:
    times, _, lookup, key_path = context
    if move.target is None:
        raise SceneError(f"{kind} needs a 'target' entity", key_path=f"{key_path}.target")
    return entity_positions(lookup, move.target, len(times), f"{key_path}.target")


def follow(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    times, up, _, key_path = context
    target = _entity_target(move, context, "follow")
    offset = np.asarray(move.offset if move.offset is not None else [-3.0, 0.0, 1.5], dtype=np.float64)
    position = _hold_after_end(move, times, target + offset)
    _absolute(state, _active_window(move, times), position, target, up, key_path)
    return state


def chase(move: CameraMove, state: RigState, context: MoveContext) -> RigState:
    """``distance`` behind the target along its horizontal direction of travel, ``height`` above."""
    times, up, _, key_path = context
    target = _entity_target(move, context, "chase")
    velocity = np.gradient(target, times, axis=0) if len(times) > 1 else np.zeros_like(target)
    velocity -= np.sum(velocity * up, axis=-1, keepdims=True) * up
    speed = np.linalg.norm(velocity, axis=-1)
    heading = np.zeros_like(velocity)
    last = np.array([1.0, 0.0, 0.0])
    moving = speed > 1e-6
    first_moving = np.flatnonzero(moving)
    if len(first_moving):
        last = velocity[first_moving[0]] / speed[first_moving[0]]
    for frame in range(len(times)):  # carry the last heading through stops; ease round turns
        if moving[frame]:
            direction = velocity[frame] / speed[frame]
            if move.smoothing > 0.0 and frame > 0:
                blend = 1.0 - math.exp(-(times[frame] - times[frame - 1]) / move.smoothing)
                direction = last + blend * (direction - last)
                direction /= max(np.linalg.norm(direction), 1e-12)
            last = direction
        heading[frame] = last
    position = _hold_after_end(move, times, target - move.distance * heading + move.height * up)
    _absolute(state, _active_window(move, times), position, target, up, key_path)
    return state


def _active_window(move: CameraMove, times: np.ndarray) -> np.ndarray:
    """Frames from the move's start on; past ``start + duration`` the position stays where it ended."""
    return times >= move.start_time - 1e-9


def _hold_after_end(move: CameraMove, times: np.ndarray, position: np.ndarray) -> np.ndarray:
    if move.duration is None:
        return position
    after = times > move.start_time + move.duration + 1e-9
    ended = np.flatnonzero(~after)
    if len(ended):
        position = position.copy()
        position[after] = position[ended[-1]]
    return position


MOVES: dict[str, Callable[[CameraMove, RigState, MoveContext], RigState]] = {
    "orbit": orbit, "dolly": dolly, "truck": truck, "pedestal": pedestal, "pan": pan, "tilt": tilt,
    "roll": roll, "crane": crane, "zoom": zoom, "dolly_zoom": dolly_zoom, "flyover": flyover,
    "follow": follow, "chase": chase,
}  # fmt: skip
assert set(MOVES) == set(MOVE_TYPES)


def apply_move(
    move: CameraMove,
    state: RigState,
    times: np.ndarray,
    up: np.ndarray,
    entity_position: EntityPositionLookup | None,
    key_path: str,
) -> RigState:
    """``state`` with ``move`` applied (the input is not modified)."""
    if move.type not in MOVES:
        raise SceneError(
            f"unknown camera move {move.type!r}; choose one of {list(MOVES)}", key_path=f"{key_path}.type"
        )
    for name in ("center", "offset"):
        value = getattr(move, name)
        if value is not None and (len(value) != 3 or not np.all(np.isfinite(value))):
            raise SceneError(f"{name} must be 3 finite numbers, got {value}", key_path=f"{key_path}.{name}")
    numbers = [move.start_time, move.sweep_deg, move.distance, move.angle_deg, move.height, move.heading_deg]
    if not (math.isfinite(move.smoothing) and move.smoothing >= 0.0):
        raise SceneError("smoothing must be >= 0", key_path=f"{key_path}.smoothing")
    if not np.all(np.isfinite(numbers)):
        raise SceneError("move parameters must be finite", key_path=key_path)
    return MOVES[move.type](move, state.copy(), (times, up, entity_position, key_path))
