"""Preview colourings: guidance maps as uint8 RGB images (for guidance.mp4, contact sheets, the viewer).

Each map's row in ``worldsim.clip.guidance_maps`` names its ``preview_*`` function here; its
``guidance_grid`` tiles those rows in table order.
"""

from __future__ import annotations

import numpy as np

from worldsim.guidance_frame import GuidanceFrame

DEPTH_PERCENTILES = (2.0, 98.0)
"""Robust near / far of the depth colour map, as percentiles of the finite depths."""


def _turbo(values: np.ndarray) -> np.ndarray:
    """matplotlib's turbo colour map of ``values`` in [0, 1] -> (..., 3) uint8."""
    from matplotlib import colormaps

    rgba = colormaps["turbo"](np.clip(values, 0.0, 1.0))
    return (rgba[..., :3] * 255.0 + 0.5).astype(np.uint8)


def colorize_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8 turbo colours (near warm, far cool), black background.

    Near / far are the 2nd / 98th percentiles of the finite depths; inverse depth is mapped so
    near structure gets most of the colour range.
    """
    depth = np.asarray(depth, dtype=np.float64)
    finite = np.isfinite(depth) & (depth > 0)
    image = np.zeros((*depth.shape, 3), dtype=np.uint8)
    if not finite.any():
        return image
    inverse = 1.0 / depth[finite]
    low, high = np.percentile(inverse, DEPTH_PERCENTILES)
    scaled = (inverse - low) / (high - low) if high > low else np.full_like(inverse, 0.5)
    image[finite] = _turbo(scaled)
    return image


def id_colors(ids: np.ndarray) -> np.ndarray:
    """(...,) integer ids -> (..., 3) uint8 stable hashed colours; id 0 is black."""
    ids = np.asarray(ids).astype(np.uint32)
    hashed = ids * np.uint32(2654435761)
    hashed ^= hashed >> np.uint32(15)
    hashed *= np.uint32(2246822519)
    hashed ^= hashed >> np.uint32(13)
    rgb = np.stack([(hashed >> np.uint32(shift)) & np.uint32(0xFF) for shift in (0, 8, 16)], axis=-1)
    # Keep colours away from black so no entity looks like background.
    rgb = (64 + (rgb.astype(np.uint32) * 191) // 255).astype(np.uint8)
    rgb[ids == 0] = 0
    return rgb


def colorize_ids(ids: np.ndarray) -> np.ndarray:
    """(H, W) instance or semantic ids -> (H, W, 3) uint8 stable colours, black background."""
    return id_colors(ids)


def colorize_normals(normal: np.ndarray) -> np.ndarray:
    """(H, W, 3) unit camera-frame normals -> (H, W, 3) uint8 ``(n + 1) / 2``; black where 0."""
    normal = np.asarray(normal, dtype=np.float64)
    image = ((normal + 1.0) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)
    image[np.all(normal == 0, axis=-1)] = 0
    return image


def colorize_flow(
    flow: np.ndarray | None, valid: np.ndarray | None, max_magnitude: float | None = None
) -> np.ndarray:
    """(H, W, 2) pixels -> (H, W, 3) uint8 on the HSV colour wheel (hue = direction, value =
    magnitude / max); invalid pixels black. ``max_magnitude`` defaults to the largest valid one."""
    if flow is None:
        shape = valid.shape if valid is not None else (1, 1)
        return np.zeros((*shape, 3), dtype=np.uint8)
    flow = np.asarray(flow, dtype=np.float64)
    valid = np.ones(flow.shape[:2], dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    scale = max_magnitude if max_magnitude else (magnitude[valid].max() if valid.any() else 0.0)
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    value = np.clip(magnitude / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(magnitude)
    rgb = _hsv_to_rgb(hue, np.ones_like(hue), value)
    image = (rgb * 255.0 + 0.5).astype(np.uint8)
    image[~valid] = 0
    return image


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    from matplotlib.colors import hsv_to_rgb

    return hsv_to_rgb(np.stack([hue, saturation, value], axis=-1))


def preview_depth(frame: GuidanceFrame) -> np.ndarray:
    """The depth map in turbo colours."""
    return colorize_depth(frame.depth)


def preview_instance(frame: GuidanceFrame) -> np.ndarray:
    """The instance ids in stable hashed colours."""
    return colorize_ids(frame.instance)


def preview_normal(frame: GuidanceFrame) -> np.ndarray:
    """The camera-frame normals as ``(n + 1) / 2``."""
    return colorize_normals(frame.normal)


def preview_flow(frame: GuidanceFrame) -> np.ndarray:
    """Forward flow on the colour wheel (backward at the last frame, black if neither)."""
    flow, valid = frame.flow_forward, frame.flow_forward_valid
    if flow is None:
        flow, valid = frame.flow_backward, frame.flow_backward_valid
    if flow is None:
        return np.zeros((*frame.depth.shape, 3), dtype=np.uint8)
    return colorize_flow(flow, valid)


PREVIEW_GAMMA = 2.2
"""Display curve of the lighting previews (a viewing aid; images are tone-mapped by renderers)."""


def colorize_radiance(values: np.ndarray) -> np.ndarray:
    """(H, W, 3) linear values (irradiance, specular radiance) -> uint8, scaled so the 98th
    percentile of the non-zero pixels is white, then ``PREVIEW_GAMMA``."""
    values = np.asarray(values, dtype=np.float32)
    peak = values.max(axis=-1)
    positive = peak[peak > 0]
    scale = 1.0 / float(np.percentile(positive, 98)) if positive.size else 1.0
    return (np.clip(values * scale, 0.0, 1.0) ** (1.0 / PREVIEW_GAMMA) * 255.0 + 0.5).astype(np.uint8)


def colorize_shadow(shadow: np.ndarray) -> np.ndarray:
    """(H, W, L) visible fractions -> (H, W, 3) uint8 grey of their mean (white = fully lit)."""
    shadow = np.asarray(shadow, dtype=np.float32)
    mean = shadow.mean(axis=-1) if shadow.shape[-1] else np.ones(shadow.shape[:2], dtype=np.float32)
    grey = (np.clip(mean, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def preview_irradiance(frame: GuidanceFrame) -> np.ndarray | None:
    """The irradiance (None when the frame has none)."""
    return None if frame.irradiance is None else colorize_radiance(frame.irradiance)


def preview_shadow(frame: GuidanceFrame) -> np.ndarray | None:
    """The mean light visibility (None when the frame has no shadow map)."""
    return None if frame.shadow is None else colorize_shadow(frame.shadow)


def preview_specular(frame: GuidanceFrame) -> np.ndarray | None:
    """The specular radiance (None when the frame has none)."""
    return None if frame.specular is None else colorize_radiance(frame.specular)
