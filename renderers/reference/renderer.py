"""``reference``: deterministic, physically based path tracing of world states with Mitsuba 3."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from renderers.base import GuidanceSource
from renderers.reference.denoise import denoise
from renderers.reference.options import ReferenceOptions, load_reference_options
from renderers.reference.scene_builder import MitsubaClip, build_clip_scene
from renderers.reference.variant import activate
from renderers.tonemap import tonemap_uint8
from worldsim.errors import RenderError
from worldsim.randomness import derive_seed
from worldsim.state import Trajectory

LOGGER = logging.getLogger(__name__)
SEED_PURPOSE = "reference_sampler"


class ReferenceRenderer:
    """Path-traces each frame; the same (trajectory, frame, options) always gives the same image."""

    name = "reference"

    def __init__(self, options: ReferenceOptions) -> None:
        self.options = options
        self.mi, self.variant = activate(options.variant)
        self._clip: MitsubaClip | None = None
        self._clip_key: tuple[Trajectory, str] | None = None
        """The (trajectory, camera) the cached scene shows; holding the trajectory keeps its
        identity from being reused by another object."""
        self._features: Any = None
        self._sample_counts: dict[int, int] = {}

    needs_guidance = False

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame, in order, through the
        camera's tone map and exposure (plus the ``exposure`` option)."""
        lens = self.clip(trajectory, camera).lens
        exposure = lens.exposure_ev + self.options.exposure
        for frame in frames:
            linear = self.render_linear(trajectory, camera, frame)
            yield frame, tonemap_uint8(linear, exposure_ev=exposure, curve=lens.tonemap)

    def render_linear(
        self,
        trajectory: Trajectory,
        camera: str,
        frame: int,
        spp: int | None = None,
        denoised: bool | None = None,
    ) -> np.ndarray:
        """(H, W, 3) float32 linear RGB radiance of ``frame`` (denoised per the options by default)."""
        clip = self.clip(trajectory, camera)
        if not 0 <= frame < trajectory.num_frames:
            raise RenderError(f"frame {frame} is outside the clip (0..{trajectory.num_frames - 1})")
        clip.set_frame(frame)
        seed = frame_seed(trajectory.seed, frame)
        spp = self.sample_count(clip, spp or self.options.spp)
        linear = np.asarray(self.mi.render(clip.scene, spp=spp, seed=seed), dtype=np.float32)
        use_denoiser = self.options.use_denoiser if denoised is None else denoised
        if not use_denoiser:
            return linear
        # the denoiser's features from the same number of samples (its own pass is faster than
        # one combined aov+path pass)
        features = self.mi.render(clip.scene, integrator=self._features, spp=spp, seed=seed)
        features = np.asarray(features, dtype=np.float32)
        albedo, normal, position, depth = (
            features[..., :3],
            features[..., 3:6],
            features[..., 6:9],
            features[..., 9],
        )
        return denoise(linear, albedo, normal, position, depth)

    def sample_count(self, clip: MitsubaClip, spp: int) -> int:
        """The samples per pixel the sampler really takes for ``spp`` (the multijitter sampler rounds
        up to a whole grid), said once per count instead of Mitsuba's warning on every frame."""
        if spp not in self._sample_counts:
            sampler = clip.scene.sensors()[0].sampler().fork()
            sampler.set_sample_count(int(spp))
            self._sample_counts[spp] = int(sampler.sample_count())
            if self._sample_counts[spp] != spp:
                LOGGER.info(
                    "reference renderer: %d samples per pixel rounded up to %d (the sampler's grid)",
                    spp,
                    self._sample_counts[spp],
                )
        return self._sample_counts[spp]

    def clip(self, trajectory: Trajectory, camera: str) -> MitsubaClip:
        """The Mitsuba scene of (trajectory, camera), built on first use and reused for every frame."""
        cached = self._clip_key
        if self._clip is None or cached is None or cached[0] is not trajectory or cached[1] != camera:
            self.mi.set_variant(self.variant)
            self._clip = build_clip_scene(
                self.mi,
                trajectory,
                camera,
                integrator=integrator(self.options.max_depth),
                reconstruction_filter=self.options.reconstruction_filter,
                near_clip=self.options.near_clip,
                max_triangles_per_entity=self.options.triangle_budget,
                warn_soft_textures=not self.options.preview,
                per_hit_materials=self.options.per_hit_materials,
            )
            self._clip_key = (trajectory, camera)
            self._features = self.mi.load_dict(FEATURES_INTEGRATOR)
            LOGGER.info(
                "reference renderer: %s, %d triangles, %d spp",
                self.variant,
                self._clip.triangles,
                self.options.spp,
            )
        return self._clip


def integrator(max_depth: int) -> dict[str, Any]:
    """Mitsuba's unidirectional path tracer (Russian roulette after a few bounces)."""
    return {"type": "path", "max_depth": int(max_depth), "hide_emitters": False}


FEATURES_INTEGRATOR = {"type": "aov", "aovs": "albedo:albedo,normal:sh_normal,position:position,depth:depth"}
"""The denoiser's feature buffers: albedo, shading normal, position (3 channels each), depth."""


def frame_seed(scene_seed: int, frame: int) -> int:
    """The sampler seed of ``frame`` (32 bits): fixed per (scene seed, frame), so resumes match."""
    return derive_seed(scene_seed, SEED_PURPOSE, frame) % (2**32)


def create_reference_renderer(options: dict[str, Any]) -> ReferenceRenderer:
    """Factory registered as ``reference``; options in ``renderers/reference/options.py``."""
    return ReferenceRenderer(load_reference_options(options))
