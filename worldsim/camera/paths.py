"""Keyframed position paths: interpolation, holds, easing and arc-length (constant speed) timing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.interpolate import CubicHermiteSpline, CubicSpline

from worldsim.camera.easing import get_easing
from worldsim.errors import SceneError

POSITION_INTERPOLATIONS = ("linear", "catmull_rom", "cubic")
ARC_LENGTH_SAMPLES_PER_SEGMENT = 512
"""Dense samples per key interval used to tabulate arc length (chord error ~1e-6 relative)."""


def position_interpolator(
    key_times: np.ndarray, key_positions: np.ndarray, method: str = "linear", *, key_path: str = ""
) -> Callable[[np.ndarray], np.ndarray]:
    """A function ``path_time (T,) -> positions (T, 3)`` through the keys, held past the ends.

    linear: piecewise linear. catmull_rom: cubic Hermite with Catmull-Rom tangents for uneven key
    times (passes through every key). cubic: natural cubic spline (zero second derivative at ends).
    """
    key_times = np.asarray(key_times, dtype=np.float64)
    key_positions = np.asarray(key_positions, dtype=np.float64)
    if method not in POSITION_INTERPOLATIONS:
        raise SceneError(
            f"unknown position_interpolation {method!r}; choose one of {list(POSITION_INTERPOLATIONS)}",
            key_path=key_path,
        )
    if len(key_times) == 1:
        return lambda t: np.broadcast_to(key_positions[0], (len(np.atleast_1d(t)), 3)).copy()
    t0, t1 = key_times[0], key_times[-1]
    if method == "linear" or len(key_times) == 2:

        def evaluate(t: np.ndarray) -> np.ndarray:
            t = np.atleast_1d(np.asarray(t, dtype=np.float64))
            return np.stack([np.interp(t, key_times, key_positions[:, axis]) for axis in range(3)], axis=-1)

        return evaluate
    if method == "cubic":
        spline = CubicSpline(key_times, key_positions, bc_type="natural", axis=0)
    else:
        tangents = np.gradient(key_positions, key_times, axis=0, edge_order=1)
        # np.gradient's interior formula weights uneven spacing; Catmull-Rom uses the chord of the neighbours.
        tangents[1:-1] = (key_positions[2:] - key_positions[:-2]) / (key_times[2:] - key_times[:-2])[:, None]
        spline = CubicHermiteSpline(key_times, key_positions, tangents, axis=0)
    return lambda t: spline(np.clip(np.atleast_1d(np.asarray(t, dtype=np.float64)), t0, t1))


def hold_time_map(key_times: np.ndarray, holds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints ``(clip_times, path_times)`` of the piecewise-linear map that pauses at each key.

    Key ``i`` is reached at clip time ``t_i + sum(holds[:i])`` and rests ``holds[i]`` seconds.
    Use ``np.interp(clip_time, clip_times, path_times)``.
    """
    key_times = np.asarray(key_times, dtype=np.float64)
    holds = np.asarray(holds, dtype=np.float64)
    delay = np.concatenate([[0.0], np.cumsum(holds)[:-1]])
    arrive = key_times + delay
    leave = arrive + holds
    clip_times = np.stack([arrive, leave], axis=-1).reshape(-1)
    path_times = np.repeat(key_times, 2)
    return clip_times, path_times


def arc_length_table(
    position_at: Callable[[np.ndarray], np.ndarray], t0: float, t1: float, segments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(path_times (S,), cumulative arc length (S,))`` from ``t0`` to ``t1`` (metres)."""
    samples = np.linspace(t0, t1, max(2, segments * ARC_LENGTH_SAMPLES_PER_SEGMENT + 1))
    points = position_at(samples)
    lengths = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=-1))])
    return samples, lengths


def path_times(
    times: np.ndarray,
    key_times: np.ndarray,
    holds: np.ndarray,
    position_at: Callable[[np.ndarray], np.ndarray],
    *,
    easing: str = "linear",
    timing: str = "keys",
    key_path: str = "",
) -> np.ndarray:
    """Clip times (T,) -> path times (T,) at which to evaluate the keyed path.

    keys: holds, then ``easing`` over the keyed time range. constant_speed: the eased fraction
    of the clip's keyed range is the fraction of the path's arc length covered.
    """
    times = np.asarray(times, dtype=np.float64)
    key_times = np.asarray(key_times, dtype=np.float64)
    ease = get_easing(easing, key_path=f"{key_path}.easing")
    if len(key_times) == 1:
        return np.full_like(times, key_times[0])
    t0, t1 = key_times[0], key_times[-1]
    if timing == "keys":
        clip_breaks, path_breaks = hold_time_map(key_times, holds)
        held = np.interp(times, clip_breaks, path_breaks)
        return t0 + (t1 - t0) * ease(np.clip((held - t0) / (t1 - t0), 0.0, 1.0))
    if timing != "constant_speed":
        raise SceneError(
            f"unknown timing {timing!r}; choose keys or constant_speed", key_path=f"{key_path}.timing"
        )
    if np.any(holds > 0.0):
        raise SceneError(
            "keyframe holds need timing 'keys' (constant_speed has no pauses)", key_path=f"{key_path}.timing"
        )
    samples, lengths = arc_length_table(position_at, t0, t1, len(key_times) - 1)
    if lengths[-1] <= 0.0:
        return np.full_like(times, t0)
    fraction = ease(np.clip((times - t0) / (t1 - t0), 0.0, 1.0))
    return np.interp(fraction * lengths[-1], lengths, samples)
