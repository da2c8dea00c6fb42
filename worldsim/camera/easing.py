"""Easing curves: maps of progress ``u`` in [0, 1] onto [0, 1], monotone, fixing 0 and 1."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from worldsim.errors import SceneError


def linear(u: np.ndarray) -> np.ndarray:
    return u


def ease_in(u: np.ndarray) -> np.ndarray:
    """Starts at rest, accelerates (quadratic)."""
    return u * u


def ease_out(u: np.ndarray) -> np.ndarray:
    """Decelerates to rest (quadratic)."""
    return 1.0 - (1.0 - u) ** 2


def ease_in_out(u: np.ndarray) -> np.ndarray:
    """Cubic in, cubic out: at rest at both ends."""
    return np.where(u < 0.5, 4.0 * u**3, 1.0 - (-2.0 * u + 2.0) ** 3 / 2.0)


def smoothstep(u: np.ndarray) -> np.ndarray:
    """``3u^2 - 2u^3``: zero slope at both ends."""
    return u * u * (3.0 - 2.0 * u)


EASINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": linear,
    "ease_in": ease_in,
    "ease_out": ease_out,
    "ease_in_out": ease_in_out,
    "smoothstep": smoothstep,
}


def get_easing(name: str, *, key_path: str = "") -> Callable[[np.ndarray], np.ndarray]:
    """The easing called ``name``; SceneError listing the choices otherwise."""
    try:
        return EASINGS[name]
    except KeyError:
        choices = sorted(EASINGS)
        raise SceneError(f"unknown easing {name!r}; choose one of {choices}", key_path=key_path) from None


def eased_progress(
    times: np.ndarray, start: float, duration: float, easing: str = "linear", *, key_path: str = ""
) -> np.ndarray:
    """(T,) eased progress of a move from ``start`` lasting ``duration`` s: 0 before, 1 after."""
    times = np.asarray(times, dtype=np.float64)
    if duration <= 0.0:
        return (times >= start).astype(np.float64)
    u = np.clip((times - start) / duration, 0.0, 1.0)
    return get_easing(easing, key_path=key_path)(u)
