"""``diffusion``: the guided video diffusion renderer v2 (trained here, weights shipped).

A neural deferred renderer lit by the world's own lights. At a small native resolution, window by
window (``windows``), one network reads the guidance stack with the lighting guidance and the
global lighting code (``conditioning``, ``lighting_code``) and predicts

- the shading residual over the ``direct`` baseline (indirect light, soft and contact shadows,
  glossy reflection: what the exact buffers do not give), and
- in ``structure`` mode, each entity's invented albedo, drawn by rectified flow from
  surface-anchored noise (``noise``), optionally conditioned on what earlier windows made
  (context: each surface point's first look from a ``surface_cache``, or the previous window's
  frames) and on each entity's remembered look (``memory``). ``gbuffer`` mode takes the scene's
  materials instead (one network pass per window, deterministic).

The frame is composed at the output resolution from the exact full-resolution buffers
(``compose``): ``pixel_filter(direct + albedo x upsampled residual)`` with the residual (and an
invented albedo) brought up by the guided upsampler (``upsample``), then the camera's tone map.
Every mechanism is an option, so its effect can be measured with ``worldsim experiment``."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from renderers.base import FrameGuidance, GuidanceSource
from renderers.diffusion.albedo_filter import supersampled_albedo
from renderers.diffusion.compose import compose
from renderers.diffusion.conditioning import (
    CONDITION_CHANNELS,
    LightingInputs,
    guidance_condition,
    shadow_summary,
    srgb_decode,
    srgb_encode,
    to_model_space,
    with_context,
    with_memory,
)
from renderers.diffusion.entity_noise import entity_vectors, mix
from renderers.diffusion.lighting_code import CODE_DIM, LightingCode
from renderers.diffusion.memory import AppearanceMemory
from renderers.diffusion.noise import anchored_noise, frame_noise_inputs, white_noise
from renderers.diffusion.options import DEFAULT_WEIGHTS, DiffusionOptions, load_diffusion_options
from renderers.diffusion.surface_cache import SurfaceCache
from renderers.diffusion.upsample import UpsampleGuide, guided_upsample
from renderers.diffusion.windows import (
    Window,
    WindowStream,
    plan_windows,
    plan_windows_to_sample,
    support_frames,
)
from renderers.direct.renderer import shade
from renderers.tonemap import tonemap_uint8
from worldsim.errors import RenderError
from worldsim.guidance_frame import GuidanceFrame
from worldsim.randomness import derive_seed
from worldsim.scene.scene import Scene
from worldsim.state import Trajectory

if TYPE_CHECKING:
    import torch

LOGGER = logging.getLogger(__name__)
NOISE_PURPOSE = "diffusion_noise"
LIGHTING_INPUTS = ("shadow", "irradiance", "specular")
"""The lighting maps the model reads at its native resolution."""
INVENTED_ROUGHNESS = 0.5
"""Structure mode invents albedo only: it shades its entities as this rough dielectric."""
ENTITY_NOISE_PURPOSE = "diffusion_entity_noise"


class DiffusionRenderer:
    """Guidance -> frames with a small video diffusion model; deterministic for a seed."""

    name = "diffusion"
    needs_guidance = True
    generative = True
    """Frames come from a trained model (provenance: trained algorithmic media)."""
    guidance_maps = ("irradiance", "specular")
    """The lighting maps the output-resolution composition reads (``compose``)."""
    # Persistent identity (``memory_io``, ``worldsim render --appearance-from``): the memory and
    # surface cache a render starts from (None: empty), and those it ended with.
    initial_memory: AppearanceMemory | None = None
    initial_surface_cache: SurfaceCache | None = None
    final_memory: AppearanceMemory | None = None
    final_surface_cache: SurfaceCache | None = None
    # What the scene's words set (``resolve_words``): entity id -> linear albedo painted as its
    # memory colour, the entities whose finish the words gave, and the tone's exposure shift.
    text_colours: Mapping[int, np.ndarray] = MappingProxyType({})
    text_described: frozenset[int] = frozenset()
    tone_ev: float = 0.0

    def __init__(self, options: DiffusionOptions) -> None:
        from renderers.diffusion.weights import load_weights

        self.options = options
        if options.weights is None and not DEFAULT_WEIGHTS.is_file():
            raise RenderError(
                f"no trained diffusion weights at {DEFAULT_WEIGHTS}: train them with "
                "`python tools/train_renderer.py --config configs/diffusion/train.yaml` (about an hour on "
                "2 CPU cores) or pass --option weights=PATH"
            )
        self.weights_source = options.weights_path
        self.model, self.config, self.metadata = load_weights(options.weights_path)
        expected = {"prediction": "x0", "code_channels": CODE_DIM, "shading_channels": 3}
        found = {key: getattr(self.config, key) for key in expected}
        if found != expected or self.config.condition_channels != CONDITION_CHANNELS:
            raise RenderError(
                f"diffusion weights {self.weights_source}: not a renderer v2 model (needs {expected} and "
                f"{CONDITION_CHANNELS} condition channels, the file has {found} and "
                f"{self.config.condition_channels}); retrain with tools/train_renderer.py"
            )
        self.stride = 2**self.config.levels

    def resolve_words(self, scene: Scene) -> tuple[Scene, dict[str, Any]]:
        """The scene as its words make it for this render, and the report for ``metadata.json``
        (``renderers/diffusion/words.py``); unchanged with ``text`` off or without words."""
        from renderers.diffusion.text_encoder import load_text_model
        from renderers.diffusion.words import resolve_words

        options = self.options
        prompt = scene.prompt if options.prompt is None else options.prompt
        if not options.text or not (prompt or any(entity.description for entity in scene.entities)):
            return scene, {"text": options.text}
        resolution = resolve_words(
            scene,
            load_text_model(options.text_weights),
            mode=options.mode,
            prompt=options.prompt,
            guidance_scale=options.text_guidance_scale,
        )
        self.text_colours = resolution.colours
        self.text_described = frozenset(resolution.described)
        self.tone_ev = resolution.tone_ev
        return resolution.scene, {"text": True, **resolution.report}

    def native_size(self, width: int, height: int) -> tuple[int, int]:
        """The model's (width, height) for an output of ``width x height``: longer side
        ``native_size``, both multiples of the model's stride."""
        scale = self.options.native_size / max(width, height)
        return (
            max(self.stride, round(width * scale / self.stride) * self.stride),
            max(self.stride, round(height * scale / self.stride) * self.stride),
        )

    def render_frames(
        self, trajectory: Trajectory, camera: str, frames: Sequence[int], guidance: GuidanceSource | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame, (H, W, 3) uint8 sRGB) for each requested frame, in order.

        Only the windows ``frames`` need are sampled (``windows.plan_windows_to_sample``), so a
        resumed render costs about the missing frames' windows and matches an uninterrupted one
        byte for byte. With ``context`` on every window reads all earlier ones: the chain is
        regenerated from frame 0 up to the last requested frame. ``guidance`` gives the
        output-resolution frames (for the upsampler) and, through ``guidance.at``, the native and
        anchored-noise resolutions.
        """
        if guidance is None:
            raise RenderError(f"renderer {self.name!r} needs guidance maps; none were given")
        wanted = sorted({int(frame) for frame in frames})
        if not wanted:
            return
        lens = trajectory.cameras[camera].lens
        made = set()
        for frame, native_out, native in self.generate_native(trajectory, camera, guidance, wanted):
            if frame in wanted:
                made.add(frame)
                full = guidance(frame)
                if self.options.mode == "gbuffer":
                    full = supersampled_albedo(full, guidance, self.options.albedo_supersample)
                linear = self.compose_frame(trajectory, camera, native_out, native, full)
                exposure = lens.exposure_ev + self.tone_ev
                yield frame, tonemap_uint8(linear, exposure_ev=exposure, curve=lens.tonemap)
        if len(made) < len(wanted):
            missing = sorted(set(wanted) - made)
            raise RenderError(f"renderer 'diffusion': the window plan did not make frames {missing}")

    def generate_native(
        self,
        trajectory: Trajectory,
        camera: str,
        guidance: GuidanceSource,
        frames: Sequence[int] | None = None,
    ) -> Iterator[tuple[int, np.ndarray, GuidanceFrame]]:
        """Yield (frame, native (h, w, 6) output, native guidance) in order for ``frames``
        (default: every frame of the clip) and for the other final frames of the windows sampled
        to make them (see ``render_frames``). The output's channels: 0:3 the albedo,
        sRGB-encoded in [0, 1] (invented in structure mode, the scene's in G-buffer mode), 3:6
        the exposure-scaled shading residual (``compose_frame``).

        The native frames come from ``guidance.at(native size)``, the anchored noise's (structure
        mode) from ``guidance.at(noise_factor x native size)``: each frame is cast once per
        resolution."""
        options = self.options
        if camera not in trajectory.cameras:
            raise RenderError(f"no camera named {camera!r} in the trajectory")
        track = trajectory.cameras[camera]
        width, height = self.native_size(track.width, track.height)
        native = guidance.at(width, height, lighting=LIGHTING_INPUTS)
        code = LightingCode(native.trajectory, camera)
        gbuffer = options.mode == "gbuffer"
        fine = None
        if options.anchored_noise and not gbuffer:
            factor = options.noise_factor
            fine = guidance.at(width * factor, height * factor)
        seed = trajectory.seed if options.seed is None else options.seed
        count = trajectory.num_frames
        windows = plan_windows(count, options.window, options.overlap)
        wanted = range(count) if frames is None else frames
        order = plan_windows_to_sample(windows, wanted, chained=options.context)
        if options.memory and not options.context and order != list(range(len(order))):
            learns = self._memory_windows(windows[: order[-1]], native)
            order = plan_windows_to_sample(windows, wanted, chained=False, state_windows=learns)
        margin = options.margin
        memory = self._starting_memory()
        text_memory = self._starting_memory(inherited=False)
        surface_context = options.context and options.context_method == "surface"
        # filled with every final frame when surface_context
        cache = copy.deepcopy(self.initial_surface_cache) if self.initial_surface_cache else SurfaceCache()
        self.final_memory, self.final_surface_cache = memory, cache
        stream = WindowStream(windows)
        # native guidance and noise of the frames the window being sampled (and the next) needs
        carried: dict[int, tuple[GuidanceFrame, np.ndarray]] = {}

        def sample(window: Window) -> np.ndarray:
            """The window's (len(window.frames), h, w, 6) output before the overlap cross-fade."""
            nonlocal carried
            import torch

            support = support_frames(window, margin, count)
            carried = {frame: carried[frame] for frame in support if frame in carried}
            for frame in support:
                if frame not in carried:
                    carried[frame] = self._frame_inputs(native, fine, frame, seed, gbuffer)
            inputs = [carried[frame] for frame in support]
            maps = [frame_maps for frame_maps, _ in inputs]
            own = slice(margin, margin + len(window.frames))
            if gbuffer:
                albedo = np.stack([frame.albedo for frame in maps])
                return self._shaded(maps, albedo, native.trajectory, camera, code)[own]
            instance = np.stack([frame.instance for frame in maps])
            lighting = self._lighting_inputs(maps, native.trajectory, camera, code)
            cond = guidance_condition(maps, gbuffer=False, lighting=lighting)
            known = None
            if surface_context:
                # needs no overlap: every earlier final frame is in the cache
                known = self._surface_context(maps, cache) if len(cache) else None
            elif options.context and window.context:
                end = window.start + window.context
                known = self._context_frames(support, end, stream.previous, cond.shape[-2:])
                if options.context_method == "channel":
                    cond, known = with_context(cond, *known), None
            noise = torch.from_numpy(np.stack([frame_noise for _, frame_noise in inputs], 1))[None]
            colours = memory.colours if options.memory else text_memory.colours
            window_cond = with_memory(cond, instance, colours) if colours else cond
            srgb = self._sample(window_cond, noise, known)
            if options.memory and memory.remember(list(window.frames), srgb[own], instance[own]):
                # Entities first seen here: draw the window again with their colours painted, so
                # their first frames are made under the same condition as every later window.
                srgb = self._sample(with_memory(cond, instance, memory.colours), noise, known)
            albedo = srgb_decode(srgb)
            invented = [
                _with_materials(frame, values, self.text_described)
                for frame, values in zip(maps, albedo, strict=True)
            ]
            return self._shaded(invented, albedo, native.trajectory, camera, code)[own]

        for made in stream.run(sample, order):
            for frame in made.final:
                frame_maps = carried[frame][0]
                if surface_context:
                    cache.add(made.output(frame)[..., :3], frame_maps)
                yield frame, made.output(frame), frame_maps

    def _lighting_inputs(
        self, maps: list[GuidanceFrame], trajectory: Trajectory, camera: str, code: LightingCode
    ) -> LightingInputs:
        """The lighting part of a window's condition from its native guidance frames."""
        summaries = [shadow_summary(frame) for frame in maps]
        return LightingInputs(
            direct=np.stack([shade(frame, trajectory, camera) for frame in maps]),
            irradiance=np.stack([frame.irradiance for frame in maps]),
            specular=np.stack([frame.specular for frame in maps]),
            shadow_key=np.stack([key for key, _ in summaries]),
            shadow_mean=np.stack([mean for _, mean in summaries]),
            code=np.stack([code(frame.frame) for frame in maps]),
            exposure_ev=trajectory.cameras[camera].lens.exposure_ev,
        )

    def _shaded(
        self,
        maps: list[GuidanceFrame],
        albedo: np.ndarray,
        trajectory: Trajectory,
        camera: str,
        code: LightingCode,
    ) -> np.ndarray:
        """(T, h, w, 6): the albedo (T, h, w, 3) linear, sRGB-encoded, and the shading residual
        one network pass predicts for it under the frames' lights (G-buffer condition, t = 0)."""
        import torch

        lighting = self._lighting_inputs(maps, trajectory, camera, code)
        cond = guidance_condition(maps, gbuffer=True, lighting=lighting)
        x = np.moveaxis(to_model_space(albedo), -1, 0)
        with torch.no_grad():
            _, residual = self.model.predict(
                torch.from_numpy(np.ascontiguousarray(x))[None], torch.zeros(1), torch.from_numpy(cond)[None]
            )
        residual = residual[0].permute(1, 2, 3, 0).numpy()
        return np.concatenate([srgb_encode(albedo), residual], axis=-1)

    def compose_frame(
        self,
        trajectory: Trajectory,
        camera: str,
        native_out: np.ndarray,
        native: GuidanceFrame,
        full: GuidanceFrame,
    ) -> np.ndarray:
        """(H, W, 3) linear radiance at the output resolution: ``compose`` of the ``direct`` term
        and albedo of the full-resolution guidance (the invented albedo, upsampled, in structure
        mode) with the upsampled shading residual."""
        height, width = full.instance.shape
        albedo_native, residual = srgb_decode(native_out[..., :3]), native_out[..., 3:6]
        if self.options.mode != "gbuffer":
            invented = self.upsample(albedo_native, native, full, (width, height))
            full = _with_materials(full, invented, self.text_described)
        residual = self.upsample(residual, native, full, (width, height))
        scale = np.float32(2.0 ** trajectory.cameras[camera].lens.exposure_ev)
        albedo = np.where((full.instance > 0)[..., None], full.albedo, 0.0)
        return compose(shade(full, trajectory, camera), albedo, residual / scale)

    def _memory_windows(self, windows: list[Window], native: FrameGuidance) -> list[int]:
        """The windows of ``windows`` where the appearance memory learns an entity: its choice
        depends on the instance maps only (``AppearanceMemory.remember``), so a dry run with
        blank colours finds them without sampling."""
        dry_run = self._starting_memory()
        learns = []
        for window in windows:
            instance = np.stack([native(frame).instance for frame in window.frames])
            blank = np.zeros((*instance.shape, 3), dtype=np.float32)
            if dry_run.remember(list(window.frames), blank, instance):
                learns.append(window.index)
        return learns

    def _starting_memory(self, inherited: bool = True) -> AppearanceMemory:
        """The memory a render starts from: the inherited one (``initial_memory``, when
        ``inherited``) with the words' colours (``text_colours``, sRGB-encoded) over it."""
        memory = (
            copy.deepcopy(self.initial_memory) if inherited and self.initial_memory else AppearanceMemory()
        )
        for entity, linear in self.text_colours.items():
            memory.colours[int(entity)] = srgb_encode(np.asarray(linear, dtype=np.float32))
        return memory

    def _sample(
        self, cond: np.ndarray, noise: torch.Tensor, known: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """One window: condition (27, T, h, w), noise (1, 3, T, h, w) -> (T, h, w, 3) sRGB in [0, 1];
        ``known`` = (sRGB (T, h, w, 3), (T,) frames or (T, h, w) pixels) pinned in the sampler."""
        import torch

        from renderers.diffusion.flow_matching import drop_condition, sample

        options = self.options
        cond_tensor = torch.from_numpy(cond)[None]
        pinned = {}
        if known is not None:
            rgb, mask = known
            pinned = {
                "known": torch.from_numpy(np.ascontiguousarray(2.0 * rgb - 1.0)).permute(3, 0, 1, 2)[None],
                "known_frames": torch.from_numpy(mask),
            }
        with torch.no_grad():
            x0 = sample(
                self.model,
                cond_tensor,
                noise,
                steps=options.steps,
                method=options.sampler,
                guidance_scale=options.guidance_scale,
                uncond=drop_condition(cond_tensor, "all") if options.guidance_scale != 1.0 else None,
                **pinned,
            )
        return np.clip((x0[0].permute(1, 2, 3, 0).numpy() + 1.0) / 2.0, 0.0, 1.0)

    def upsample(
        self, linear: np.ndarray, native: GuidanceFrame, full: GuidanceFrame | None, size: tuple[int, int]
    ) -> np.ndarray:
        """Native linear RGB -> (H, W, 3) at the output ``size`` (width, height)."""
        width, height = size
        if linear.shape[:2] == (height, width):
            return linear
        if self.options.upsample and full is not None:
            guide = UpsampleGuide(instance=native.instance, normal=native.normal, depth=native.depth)
            target = UpsampleGuide(instance=full.instance, normal=full.normal, depth=full.depth)
            return guided_upsample(linear, guide, target)
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(linear)).permute(2, 0, 1)[None]
        resized = torch.nn.functional.interpolate(
            tensor, size=(height, width), mode="bilinear", align_corners=False
        )
        return resized[0].permute(1, 2, 0).numpy()

    def _frame_inputs(
        self, native: FrameGuidance, fine: FrameGuidance | None, frame: int, seed: int, gbuffer: bool = False
    ) -> tuple[GuidanceFrame, np.ndarray]:
        """(native guidance, (3, h, w) initial noise) of ``frame``. The noise is surface-anchored
        (``fine`` guidance given) or white per frame, mixed with the entity vectors the model was
        trained with (keyed by entity, and by frame too when anchoring is off); G-buffer mode
        draws nothing (an empty noise array)."""
        maps = native(frame)
        if gbuffer:
            return maps, np.zeros((0,), dtype=np.float32)
        if fine is None:
            noise = white_noise((3, *maps.instance.shape), derive_seed(seed, NOISE_PURPOSE, frame))
            entity_seed = derive_seed(seed, ENTITY_NOISE_PURPOSE, frame)
        else:
            inputs = frame_noise_inputs(fine(frame), fine.track)
            noise = anchored_noise(
                inputs, self.options.noise_factor, derive_seed(seed, NOISE_PURPOSE) % 2**63
            )
            entity_seed = derive_seed(seed, ENTITY_NOISE_PURPOSE)
        share = self.config.entity_noise_share
        if share > 0.0:
            noise = mix(noise, entity_vectors(maps.instance, entity_seed), share)
        return maps, noise

    @staticmethod
    def _surface_context(maps: list[GuidanceFrame], cache: SurfaceCache) -> tuple[np.ndarray, np.ndarray]:
        """(sRGB (T, h, w, 3), (T, h, w) bool): on every frame of the window, the pixels whose
        surface point the cache holds, with the colour it was first made with."""
        looked_up = [cache.lookup(frame_maps) for frame_maps in maps]
        return np.stack([rgb for rgb, _ in looked_up]), np.stack([covered for _, covered in looked_up])

    @staticmethod
    def _context_frames(
        support: list[int], end: int, previous: dict[int, np.ndarray], size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(sRGB (T, h, w, 3), (T,) bool): the previous window's outputs on the sampled frames
        before ``end`` (the margin and overlap frames that window already made)."""
        rgb = np.zeros((len(support), *size, 3), dtype=np.float32)
        mask = np.zeros(len(support), dtype=bool)
        for index, frame in enumerate(support):
            if frame < end and frame in previous:
                rgb[index], mask[index] = previous[frame][..., :3], True
        return rgb, mask


def _with_materials(
    frame: GuidanceFrame, albedo: np.ndarray, described: frozenset[int] = frozenset()
) -> GuidanceFrame:
    """``frame`` with an invented ``albedo`` (H, W, 3) linear, ``INVENTED_ROUGHNESS``, no metal,
    except on the pixels of the ``described`` entities, whose finish the words gave (the frame's
    roughness and metalness: the scene's materials as ``resolve_words`` made them)."""
    import dataclasses

    height, width = frame.instance.shape
    roughness = np.full((height, width), INVENTED_ROUGHNESS, dtype=np.float32)
    metallic = np.zeros((height, width), dtype=np.float32)
    if described and frame.roughness is not None and frame.metallic is not None:
        keep = np.isin(frame.instance, np.fromiter(described, dtype=np.int64))
        roughness = np.where(keep, frame.roughness, roughness).astype(np.float32)
        metallic = np.where(keep, frame.metallic, metallic).astype(np.float32)
    return dataclasses.replace(
        frame, albedo=np.asarray(albedo, dtype=np.float32), roughness=roughness, metallic=metallic
    )


def create_diffusion_renderer(options: dict[str, Any]) -> DiffusionRenderer:
    """Factory registered as ``diffusion``; options in ``renderers/diffusion/options.py``."""
    return DiffusionRenderer(load_diffusion_options(options))
