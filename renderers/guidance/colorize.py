"""Viewing helpers: guidance maps as uint8 RGB images (for guidance.mp4 and contact sheets)."""

from __future__ import annotations

import numpy as np

from renderers.guidance.frame import GuidanceFrame

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


def colorize_radiance(values: np.ndarray) -> np.ndarray:
    """(H, W, 3) linear values (irradiance / pi, specular radiance) -> uint8 sRGB, scaled so the
    98th percentile of the non-zero pixels is white."""
    from renderers.tonemap import linear_to_srgb_uint8

    values = np.asarray(values, dtype=np.float32)
    peak = values.max(axis=-1)
    positive = peak[peak > 0]
    scale = 1.0 / float(np.percentile(positive, 98)) if positive.size else 1.0
    return linear_to_srgb_uint8(values * scale)


def colorize_shadow(shadow: np.ndarray) -> np.ndarray:
    """(H, W, L) visible fractions -> (H, W, 3) uint8 grey of their mean (white = fully lit)."""
    mean = np.asarray(shadow, dtype=np.float32).mean(axis=-1) if shadow.shape[-1] else shadow[..., 0]
    grey = (np.clip(mean, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def lighting_row(frame: GuidanceFrame) -> np.ndarray | None:
    """(H, 2W, 3) uint8: irradiance (or shadow) | specular (or shadow), or None without lighting maps."""
    panels = []
    if frame.irradiance is not None:
        panels.append(colorize_radiance(frame.irradiance))
    if frame.shadow is not None and frame.shadow.shape[-1] > 0:
        panels.append(colorize_shadow(frame.shadow))
    if frame.specular is not None:
        panels.append(colorize_radiance(frame.specular))
    if not panels:
        return None
    panels = (panels + panels)[:2] if len(panels) < 2 else panels[:2]
    return np.concatenate(panels, axis=1)


def guidance_grid(frame: GuidanceFrame) -> np.ndarray:
    """(2H, 2W, 3) uint8: depth | instances over normals | forward flow (backward at the last frame);
    with lighting maps a third row (``lighting_row``) makes it (3H, 2W, 3)."""
    flow, valid = frame.flow_forward, frame.flow_forward_valid
    if flow is None:
        flow, valid = frame.flow_backward, frame.flow_backward_valid
    if flow is None:
        flow_image = np.zeros((*frame.depth.shape, 3), dtype=np.uint8)
    else:
        flow_image = colorize_flow(flow, valid)
    top = np.concatenate([colorize_depth(frame.depth), colorize_ids(frame.instance)], axis=1)
    bottom = np.concatenate([colorize_normals(frame.normal), flow_image], axis=1)
    lighting = lighting_row(frame)
    return np.concatenate([top, bottom] + ([] if lighting is None else [lighting]), axis=0)
