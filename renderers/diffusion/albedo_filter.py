"""A box prefilter of the albedo the composition uses: each pixel's base colour averaged over
``factor`` x ``factor`` sub-pixel rays that hit its own entity.

The guidance samples materials at pixel centres; the camera (and the path tracer) integrates
them over each pixel, so a texture finer than a pixel (a checker seen at a grazing angle, fine
procedural noise) aliases into moire when point-sampled. Averaging the sub-pixel hits of the
pixel's own entity keeps silhouettes where the pixel-centre ids put them. Measured against the
path tracer at 512 spp (256 x 256: lit_900001, lit_900003, demo): SSIM 0.869 at 1, 0.890 at 2,
0.896 at 4 sub-pixel rays per axis.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from renderers.base import GuidanceSource
from renderers.guidance.maps import instance_map, material_maps
from worldsim.guidance_frame import GuidanceFrame


def supersampled_albedo(full: GuidanceFrame, guidance: GuidanceSource, factor: int) -> GuidanceFrame:
    """``full`` (an output-size frame of ``guidance``) with its albedo box-filtered over
    ``factor``² sub-pixel rays of the pixel's own entity (pixels none of whose rays hit it keep
    their own value). The finer size costs one cast of that frame (``guidance.at(...).hits``) and
    two maps of it, not a whole guidance frame."""
    if factor == 1:
        return full
    height, width = full.instance.shape
    fine = guidance.at(width * factor, height * factor)
    hits = fine.hits(full.frame)
    fine_instance = instance_map(hits, fine.trajectory)
    fine_albedo = material_maps(hits, fine.trajectory)[0]
    shape = (height, factor, width, factor)
    same = (fine_instance.reshape(shape) == full.instance[:, None, :, None]).astype(np.float32)
    albedo = fine_albedo.reshape(*shape, 3) * same[..., None]
    count = same.sum(axis=(1, 3))
    averaged = albedo.sum(axis=(1, 3)) / np.maximum(count, 1.0)[..., None]
    albedo = np.where((count > 0)[..., None], averaged, full.albedo).astype(np.float32)
    return dataclasses.replace(full, albedo=albedo)
