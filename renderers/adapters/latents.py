"""Initial latents of a window in the model's latent space, anchored to the surfaces.

Wan's and CogVideoX's VAEs compress 8x in space and 4x in time, causally: latent frame 0 holds
pixel frame 0 alone and latent frame j >= 1 holds pixel frames 4j-3 .. 4j. A latent pixel is
therefore an 8x8 block of 4 frames, and anchored noise (``renderers.diffusion.noise``) applies at
that grid: each latent pixel's noise is the area-correct integral of the per-entity noise textures
over its 8x8 footprint, so a surface point keeps its noise while it moves and the noise stays
exactly N(0, 1) per latent value. In time the noise cannot follow the motion inside a latent frame,
so each latent frame takes the geometry of one pixel frame: its last one, ``start + 4j`` (frame
``start`` for j = 0). With windows whose stride is a multiple of 4 (``overlap`` = 4m + 1), a pixel
frame plays that role in every window it belongs to, so overlapping windows start from the same
noise where they share frames. The latent channels (16 for both families) draw independent
values from the same texture cells.

With the mechanism off, each latent frame draws white noise keyed by (seed, pixel frame), so the
result still does not depend on how a clip is cut into windows or resumed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from renderers.diffusion.noise import anchored_noise, frame_noise_inputs, white_noise
from worldsim.camera.track import CameraTrack
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import derive_seed

NOISE_PURPOSE = "adapter_latent_noise"
REFERENCE_PURPOSE = "adapter_reference_noise"

FineGuidance = Callable[[int], GuidanceFrame]
"""``fine(frame)``: guidance of ``frame`` at ``factor`` times the latent resolution."""


def latent_count(frames: int, temporal: int) -> int:
    """Latent frames of ``frames`` pixel frames (causal VAE: the first frame alone, then groups)."""
    return (frames - 1) // temporal + 1


def slice_frames(start: int, count: int, temporal: int, last: int) -> list[int]:
    """The pixel frame whose geometry each of ``count`` latent frames takes (clamped to ``last``,
    the clip's last real frame, for a padded final window)."""
    return [min(start + temporal * index, last) for index in range(count)]


def window_latents(
    frames: list[int],
    channels: int,
    size: tuple[int, int],
    seed: int,
    fine: FineGuidance | None,
    track: CameraTrack | None,
    factor: int,
) -> np.ndarray:
    """(channels, len(frames), h, w) float32 standard normal latents, ``size`` = (h, w).

    ``fine`` given (with its camera ``track`` at ``factor`` x latent resolution): anchored to the
    surfaces seen in each of ``frames``; None: white noise keyed by (seed, frame).
    """
    height, width = size
    slices = []
    for frame in frames:
        if fine is None:
            slices.append(white_noise((channels, height, width), derive_seed(seed, NOISE_PURPOSE, frame)))
            continue
        guidance = fine(frame)
        expected = (height * factor, width * factor)
        if guidance.instance.shape != expected:
            raise ValueError(f"fine guidance is {guidance.instance.shape}, expected {expected}")
        inputs = frame_noise_inputs(guidance, track)
        slices.append(anchored_noise(inputs, factor, derive_seed(seed, NOISE_PURPOSE), channels=channels))
    return np.stack(slices, axis=1)


def reference_latents(entities: list[int], channels: int, size: tuple[int, int], seed: int) -> np.ndarray:
    """(channels, len(entities), h, w) white noise for the latent frames of reference images
    (they have no geometry to anchor to), keyed by entity so each keeps its noise across windows."""
    height, width = size
    if not entities:
        return np.zeros((channels, 0, height, width), dtype=np.float32)
    return np.stack(
        [
            white_noise((channels, height, width), derive_seed(seed, REFERENCE_PURPOSE, entity))
            for entity in entities
        ],
        axis=1,
    )
