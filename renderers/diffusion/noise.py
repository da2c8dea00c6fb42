"""Surface-anchored initial noise: a surface point gets the same noise in every frame.

Every entity carries a white-noise texture on a 3D lattice in its own object frame (the
background one on the sphere of world ray directions). A pixel's noise is the area-correct
integral of that texture over the pixel's footprint: the pixel is covered by ``factor x factor``
sub-samples (guidance rendered ``factor`` times finer), each sub-sample reads the lattice cell
holding its surface point, and the pixel's value is ``sum_c n_c v_c / sqrt(sum_c n_c^2)`` over the
distinct cells ``c`` it met ``n_c`` times. That keeps every pixel exactly N(0, 1), neighbouring
pixels independent (they share no sub-samples), and a surface point's contribution fixed while it
moves, so the noise follows the surface with sub-pixel accuracy. The lattice cell is about one
sub-sample's footprint, chosen per pixel from a power-of-two ladder, so noise stays white as the
camera zooms (a pixel that changes level draws fresh noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldsim.camera.projection import world_rays
from worldsim.camera.track import CameraTrack
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import SPLITMIX64_GAMMA, splitmix64_finalise

BACKGROUND = 0


@dataclass(frozen=True)
class NoiseInputs:
    """Fine guidance of one frame, ``factor`` sub-samples per pixel and axis.

    instance: (H*f, W*f) entity ids, 0 = background.
    surface_coords: (H*f, W*f, 3) object-frame hit points (metres).
    ray_distance: (H*f, W*f) metres (+inf on background).
    ray_directions: (H*f, W*f, 3) unit world-frame ray directions (used on background).
    focal: the fine image's focal length in pixels (fx).
    """

    instance: np.ndarray
    surface_coords: np.ndarray
    ray_distance: np.ndarray
    ray_directions: np.ndarray
    focal: float


def anchored_noise(inputs: NoiseInputs, factor: int, seed: int, channels: int = 3) -> np.ndarray:
    """(channels, H, W) float32 standard normal noise anchored to the surfaces of ``inputs``."""
    instance = np.asarray(inputs.instance)
    fine_h, fine_w = instance.shape
    if fine_h % factor or fine_w % factor:
        raise ValueError(f"fine size {fine_w}x{fine_h} is not a multiple of factor {factor}")
    height, width = fine_h // factor, fine_w // factor
    foreground = instance != BACKGROUND
    # Footprint of a sub-sample: metres on surfaces, radians on the background.
    footprint = np.where(foreground, inputs.ray_distance, 1.0) / float(inputs.focal)
    coordinates = np.where(foreground[..., None], inputs.surface_coords, inputs.ray_directions)
    level = np.round(np.log2(np.maximum(_per_pixel(footprint, factor).mean(axis=-1), 1e-12)))
    level = np.repeat(np.repeat(level, factor, axis=0), factor, axis=1)
    cells = np.floor(coordinates / np.exp2(level)[..., None]).astype(np.int64)
    keys = _cell_keys(seed, instance.astype(np.int64), level.astype(np.int64), cells)
    keys = _per_pixel(keys, factor)  # (H, W, f*f)
    same = keys[..., :, None] == keys[..., None, :]
    normaliser = np.sqrt(same.sum(axis=(-1, -2)).astype(np.float64))  # sqrt(sum_c n_c^2)
    result = np.empty((channels, height, width), dtype=np.float32)
    for channel in range(channels):
        values = _gaussian(_mix(keys ^ np.uint64((channel + 1) * int(SPLITMIX64_GAMMA) % 2**64)))
        result[channel] = values.sum(axis=-1) / normaliser
    return result


def white_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Plain i.i.d. N(0, 1) noise (the mechanism switched off), deterministic for ``seed``."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _per_pixel(fine: np.ndarray, factor: int) -> np.ndarray:
    """(H*f, W*f) -> (H, W, f*f): the sub-samples of each pixel."""
    height, width = fine.shape[0] // factor, fine.shape[1] // factor
    blocks = fine.reshape(height, factor, width, factor).transpose(0, 2, 1, 3)
    return blocks.reshape(height, width, factor * factor)


def _cell_keys(seed: int, entity: np.ndarray, level: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """A 64-bit key per (seed, entity, level, cell) (uint64, well mixed)."""
    key = _mix(np.full(entity.shape, np.uint64(seed & 0xFFFFFFFFFFFFFFFF)) ^ entity.astype(np.uint64))
    for part in (level, cells[..., 0], cells[..., 1], cells[..., 2]):
        key = _mix(key ^ part.astype(np.uint64))
    return key


def _mix(values: np.ndarray) -> np.ndarray:
    """One splitmix64 step (add the increment, then finalise), elementwise on uint64."""
    with np.errstate(over="ignore"):
        return splitmix64_finalise(values.astype(np.uint64) + SPLITMIX64_GAMMA)


def _gaussian(keys: np.ndarray) -> np.ndarray:
    """N(0, 1) from 64-bit keys by Box-Muller on their two 32-bit halves."""
    high = (keys >> np.uint64(32)).astype(np.float64)
    low = (keys & np.uint64(0xFFFFFFFF)).astype(np.float64)
    u1 = (high + 0.5) / 2.0**32
    u2 = (low + 0.5) / 2.0**32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def frame_noise_inputs(guidance: GuidanceFrame, track: CameraTrack) -> NoiseInputs:
    """``NoiseInputs`` of one frame from its fine guidance and the fine camera track."""
    _, directions = world_rays(track.intrinsics(guidance.frame), track.cam_to_world[guidance.frame])
    return NoiseInputs(
        instance=guidance.instance,
        surface_coords=guidance.surface_coords,
        ray_distance=guidance.ray_distance,
        ray_directions=directions,
        focal=float(track.fx[guidance.frame]),
    )
