"""Handheld shake: smooth, seeded, zero-mean wobble of position and orientation."""

from __future__ import annotations

import numpy as np

from worldsim.camera.spec import CameraShake

SINES_PER_AXIS = 4
"""Each of the 6 axes is a sum of sines of random frequency and phase: smooth and drift-free."""


def _random_generator(seed: int) -> np.random.Generator:
    try:
        from worldsim.randomness import rng_for
    except ImportError:  # pragma: no cover - the assets module ships with worldsim
        return np.random.default_rng([seed, 0xCA3E5A])
    return rng_for(seed, "camera_shake")


def shake_offsets(shake: CameraShake, times: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(position (T, 3) metres in the camera frame, rotation vectors (T, 3) radians)``.

    Every component is a sum of sines (frequencies 0.5x..2x ``frequency_hz``, random phases),
    scaled to a root-mean-square of the amplitude; sines have zero mean, so nothing drifts.
    """
    times = np.asarray(times, dtype=np.float64)
    rng = _random_generator(seed)
    frequencies = shake.frequency_hz * rng.uniform(0.5, 2.0, size=(6, SINES_PER_AXIS))
    phases = rng.uniform(0.0, 2.0 * np.pi, size=(6, SINES_PER_AXIS))
    weights = rng.uniform(0.5, 1.0, size=(6, SINES_PER_AXIS))
    weights /= np.sqrt(0.5 * np.sum(weights**2, axis=1, keepdims=True))  # unit RMS per axis
    waves = np.sin(2.0 * np.pi * frequencies[None] * times[:, None, None] + phases[None])
    signal = np.sum(weights[None] * waves, axis=-1)  # (T, 6)
    position = signal[:, :3] * shake.amplitude_m
    rotation = signal[:, 3:] * np.radians(shake.amplitude_deg)
    return position, rotation
