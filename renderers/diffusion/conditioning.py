"""The diffusion renderer's condition tensor: guidance maps packed into 60 channels per pixel.

Layout of ``cond`` (60, T, H, W) float32, channel slices in this order:

- ``0`` INV_DEPTH: 1/depth divided by its maximum over the window's foreground, 0 on background.
- ``1:4`` NORMAL: camera-frame unit normals (OpenCV axes), 0 on background.
- ``4:7`` ALBEDO: linear albedo in [0, 1]; ``7`` ROUGHNESS; ``8`` METALLIC.
- ``9`` GBUFFER_MASK: 1 where albedo/roughness/metallic are given; else channels 4:10 are all 0.
- ``10:14`` IDENTITY: 4 values in [-1, 1] hashed from the instance id (``id_features``), 0 on bg.
- ``14:18`` SEMANTIC: 4 values hashed the same way from the semantic class id.
- ``18`` FOREGROUND: 1 on pixels covered by an entity.
- ``19:22`` CONTEXT_RGB: colours of frames given from a previous window, model space [-1, 1].
- ``22`` CONTEXT_MASK: 1 on frames that carry context.
- ``23:26`` MEMORY_RGB: an entity's stored colour painted on its pixels, model space [-1, 1].
- ``26`` MEMORY_MASK: 1 on pixels painted from memory.
- ``27:30`` DIRECT: the ``direct`` baseline's radiance (``renderers.direct.renderer.shade``),
  G-buffer mode only (it needs the materials); background: the environment, in both modes.
- ``30:33`` IRRADIANCE: the ``irradiance`` map as diffuse shading ``E / pi``.
- ``33:36`` SPECULAR: the ``specular`` map (G-buffer mode only: it is prefiltered by roughness).
- ``36`` SHADOW_KEY: the ``shadow`` map's channel of the strongest direct light (1 without one);
  ``37`` SHADOW_MEAN: its mean over the direct lights (1 without any).
- ``38:60`` CODE: the frame's global lighting code (``lighting_code``), constant over the image
  (the model pools it and applies it through FiLM).

Radiometric channels (27:36) are exposure-scaled (``2 ** exposure_ev``) and compressed,
``2 x / (1 + x) - 1`` (``compress``), so they lie in [-1, 1).

Colour space: the model works in sRGB-encoded values mapped to [-1, 1], ``x = 2 * srgb - 1``
with the IEC 61966-2-1 curve on linear RGB clipped to [0, 1] (``to_model_space``,
``from_model_space``). Context and memory colours are given to ``with_context`` and
``with_memory`` as sRGB-encoded values in [0, 1] (what ``(x + 1) / 2`` of a model output or
``uint8 / 255`` of a written frame is); pass ``linear=True`` to give linear RGB instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.tonemap import srgb_decode, srgb_encode
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import SPLITMIX64_GAMMA, splitmix64_finalise

CONDITION_CHANNELS = 60
INV_DEPTH = slice(0, 1)
NORMAL = slice(1, 4)
ALBEDO = slice(4, 7)
ROUGHNESS = slice(7, 8)
METALLIC = slice(8, 9)
GBUFFER_MASK = slice(9, 10)
GBUFFER = slice(4, 10)
"""Albedo, roughness, metallic and their mask: what structure-only mode leaves out."""
IDENTITY = slice(10, 14)
SEMANTIC = slice(14, 18)
FOREGROUND = slice(18, 19)
CONTEXT_RGB = slice(19, 22)
CONTEXT_MASK = slice(22, 23)
CONTEXT = slice(19, 23)
MEMORY_RGB = slice(23, 26)
MEMORY_MASK = slice(26, 27)
MEMORY = slice(23, 27)
DIRECT = slice(27, 30)
IRRADIANCE = slice(30, 33)
SPECULAR = slice(33, 36)
SHADOW_KEY = slice(36, 37)
SHADOW_MEAN = slice(37, 38)
CODE = slice(38, 60)
SPATIAL = slice(0, 38)
"""The per-pixel channels (the rest is the per-frame code)."""
ID_FEATURES = 4


@dataclass(frozen=True)
class LightingInputs:
    """The lighting part of a window's condition; arrays stacked over its T frames.

    direct, irradiance, specular: (T, H, W, 3) linear radiance / irradiance (W/m^2/sr, W/m^2);
    shadow_key, shadow_mean: (T, H, W) in [0, 1] (``shadow_summary``); code: (T, CODE_DIM);
    exposure_ev: the camera's exposure.
    """

    direct: np.ndarray
    irradiance: np.ndarray
    specular: np.ndarray
    shadow_key: np.ndarray
    shadow_mean: np.ndarray
    code: np.ndarray
    exposure_ev: float


def compress(values: np.ndarray, exposure_ev: float) -> np.ndarray:
    """Radiometric values -> ``2 x / (1 + x) - 1`` of ``x = max(values, 0) 2 ** exposure_ev``."""
    x = np.maximum(np.nan_to_num(np.asarray(values, dtype=np.float32), posinf=1e4), 0.0)
    x = x * np.float32(2.0**exposure_ev)
    return 2.0 * x / (1.0 + x) - 1.0


def shadow_summary(frame: GuidanceFrame) -> tuple[np.ndarray, np.ndarray]:
    """(key, mean) (H, W) float32: the ``shadow`` channel of the first direct light (the sun
    where there is one: ``lighting_code`` takes the strongest sun) and the mean over all; 1
    without direct lights or without a shadow map."""
    shadow = frame.shadow
    if shadow is None or shadow.shape[-1] == 0:
        ones = np.ones(frame.instance.shape, dtype=np.float32)
        return ones, ones
    shadow = np.asarray(shadow, dtype=np.float32)
    return shadow[..., 0], shadow.mean(axis=-1)


def to_model_space(linear_rgb: np.ndarray) -> np.ndarray:
    """Linear RGB (any shape, last axis or not) -> model space ``2 * srgb - 1`` in [-1, 1]."""
    return 2.0 * srgb_encode(linear_rgb) - 1.0


def from_model_space(x: np.ndarray) -> np.ndarray:
    """Model-space values in [-1, 1] (clipped) -> linear RGB in [0, 1]."""
    return srgb_decode((np.asarray(x, dtype=np.float32) + 1.0) / 2.0)


def id_features(ids: np.ndarray) -> np.ndarray:
    """(...,) integer ids -> (..., 4) float32 in [-1, 1]: a fixed splitmix64 hash; id 0 -> 0."""
    ids = np.asarray(ids)
    unique, inverse = np.unique(ids, return_inverse=True)
    lanes = np.arange(1, ID_FEATURES + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = unique.astype(np.uint64)[:, None] * np.uint64(ID_FEATURES + 1) + lanes[None, :]
        z = splitmix64_finalise(z * SPLITMIX64_GAMMA)
    table = ((z >> np.uint64(11)).astype(np.float64) / float(2**53) * 2.0 - 1.0).astype(np.float32)
    table[unique == 0] = 0.0
    return table[inverse.reshape(ids.shape)]


def condition_from_maps(
    depth: np.ndarray,
    normal: np.ndarray,
    instance: np.ndarray,
    semantic: np.ndarray,
    albedo: np.ndarray | None = None,
    roughness: np.ndarray | None = None,
    metallic: np.ndarray | None = None,
    lighting: LightingInputs | None = None,
) -> np.ndarray:
    """(60, T, H, W) float32 from stacked maps: depth (T, H, W) metres (+inf bg), normal
    (T, H, W, 3), instance / semantic (T, H, W) ids; G-buffer maps (albedo (T, H, W, 3) linear,
    roughness / metallic (T, H, W)) all given or all None; ``lighting`` (else its channels are
    0). Context and memory channels are 0."""
    depth = np.asarray(depth, dtype=np.float32)
    frames, height, width = depth.shape
    instance = np.asarray(instance)
    foreground = np.isfinite(depth) & (depth > 0) & (instance > 0)
    cond = np.zeros((CONDITION_CHANNELS, frames, height, width), dtype=np.float32)
    inverse_depth = np.where(foreground, 1.0 / np.where(foreground, depth, 1.0), 0.0)
    peak = float(inverse_depth.max()) if foreground.any() else 0.0
    if peak > 0:
        cond[INV_DEPTH][0] = inverse_depth / peak
    fg = foreground[..., None]
    cond[NORMAL] = np.moveaxis(np.where(fg, np.nan_to_num(normal), 0.0), -1, 0)
    if albedo is not None:
        if roughness is None or metallic is None:
            raise ValueError("condition_from_maps: give albedo, roughness and metallic together")
        cond[ALBEDO] = np.moveaxis(np.where(fg, np.clip(albedo, 0.0, 1.0), 0.0), -1, 0)
        cond[ROUGHNESS][0] = np.where(foreground, np.clip(roughness, 0.0, 1.0), 0.0)
        cond[METALLIC][0] = np.where(foreground, np.clip(metallic, 0.0, 1.0), 0.0)
        cond[GBUFFER_MASK] = 1.0
    cond[IDENTITY] = np.moveaxis(id_features(np.where(foreground, instance, 0)), -1, 0)
    cond[SEMANTIC] = np.moveaxis(id_features(np.where(foreground, semantic, 0)), -1, 0)
    cond[FOREGROUND][0] = foreground
    if lighting is not None:
        _put_lighting(cond, lighting, foreground, gbuffer=albedo is not None)
    return cond


def _put_lighting(
    cond: np.ndarray, lighting: LightingInputs, foreground: np.ndarray, *, gbuffer: bool
) -> None:
    """Fill the lighting channels of ``cond`` in place (see the module docstring)."""
    fg = foreground[None]
    ev = lighting.exposure_ev
    direct = np.moveaxis(compress(lighting.direct, ev), -1, 0)
    cond[DIRECT] = direct if gbuffer else np.where(fg, 0.0, direct)
    cond[IRRADIANCE] = np.where(fg, np.moveaxis(compress(lighting.irradiance / np.pi, ev), -1, 0), 0.0)
    if gbuffer:
        cond[SPECULAR] = np.where(fg, np.moveaxis(compress(lighting.specular, ev), -1, 0), 0.0)
    cond[SHADOW_KEY][0] = np.where(foreground, lighting.shadow_key, 0.0)
    cond[SHADOW_MEAN][0] = np.where(foreground, lighting.shadow_mean, 0.0)
    code = np.asarray(lighting.code, dtype=np.float32)
    cond[CODE] = np.broadcast_to(code.T[:, :, None, None], cond[CODE].shape)


def guidance_condition(
    frames: list[GuidanceFrame], *, gbuffer: bool, lighting: LightingInputs | None = None
) -> np.ndarray:
    """(60, T, H, W) float32 condition of a window of guidance frames (context, memory = 0).

    ``gbuffer=False`` leaves albedo, roughness, metallic and their mask at 0 (structure only),
    and the material-dependent lighting channels too.
    """
    if not frames:
        raise ValueError("guidance_condition: no frames")
    stack = {
        name: np.stack([getattr(frame, name) for frame in frames])
        for name in ("depth", "normal", "instance", "semantic")
    }
    if gbuffer:
        for name in ("albedo", "roughness", "metallic"):
            stack[name] = np.stack([getattr(frame, name) for frame in frames])
    return condition_from_maps(**stack, lighting=lighting)


def with_context(
    cond: np.ndarray, context_rgb: np.ndarray, context_mask: np.ndarray, *, linear: bool = False
) -> np.ndarray:
    """A copy of ``cond`` whose frames where ``context_mask`` (T,) bool is set carry
    ``context_rgb`` (T, H, W, 3): sRGB-encoded in [0, 1] (or linear RGB with ``linear=True``)."""
    cond = np.array(cond, dtype=np.float32, copy=True)
    mask = np.asarray(context_mask, dtype=bool)
    srgb = srgb_encode(context_rgb) if linear else np.clip(np.asarray(context_rgb, dtype=np.float32), 0, 1)
    rgb = np.moveaxis(2.0 * srgb - 1.0, -1, 0)
    cond[CONTEXT_RGB] = np.where(mask[None, :, None, None], rgb, 0.0)
    cond[CONTEXT_MASK] = mask[None, :, None, None].astype(np.float32) * np.ones_like(cond[CONTEXT_MASK])
    return cond


def with_memory(
    cond: np.ndarray, instance: np.ndarray, colours: dict[int, np.ndarray], *, linear: bool = False
) -> np.ndarray:
    """A copy of ``cond`` with each entity's stored colour (3,) painted on its pixels of
    ``instance`` (T, H, W); colours sRGB-encoded in [0, 1] (or linear with ``linear=True``)."""
    cond = np.array(cond, dtype=np.float32, copy=True)
    instance = np.asarray(instance)
    rgb = np.zeros((*instance.shape, 3), dtype=np.float32)
    painted = np.zeros(instance.shape, dtype=bool)
    for entity, colour in colours.items():
        if int(entity) == 0:
            continue
        colour = np.asarray(colour, dtype=np.float32).reshape(3)
        colour = srgb_encode(colour) if linear else np.clip(colour, 0.0, 1.0)
        pixels = instance == int(entity)
        rgb[pixels] = 2.0 * colour - 1.0
        painted |= pixels
    cond[MEMORY_RGB] = np.moveaxis(rgb, -1, 0)
    cond[MEMORY_MASK][0] = painted
    return cond
