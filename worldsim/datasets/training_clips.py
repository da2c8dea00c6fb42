"""Training data for the diffusion renderer: clips the simulator makes, and windows drawn from them.

``build_dataset`` writes ``clip_00000.npz`` ... (one compressed file per clip, written atomically,
skipped when present so an interrupted build resumes) and ``index.json``. Arrays per clip of T
frames at H x W: ``rgb`` (T, H, W, 3) float16 linear reference render, ``depth`` (T, H, W)
float16 metres (+inf bg), ``normal`` (T, H, W, 3) float16, ``albedo`` (T, H, W, 3) float16
linear, ``roughness`` / ``metallic`` (T, H, W) uint8 (value * 255), ``instance`` / ``semantic``
(T, H, W) uint16; the lighting inputs ``direct`` (the ``direct`` baseline's radiance),
``irradiance``, ``specular`` (T, H, W, 3) float16, ``shadow_key`` / ``shadow_mean`` (T, H, W)
uint8 (``conditioning.shadow_summary`` * 255), ``code`` (T, 22) float32
(``renderers.diffusion.lighting_code``), and the camera's ``exposure_ev`` and ``tonemap``.
Scenes come from ``lit_scenes.lit_scene``.

``ClipDataset`` yields windows as dicts of float32 tensors (``TRAINING_FIELDS``) with the
training-time condition dropout.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from renderers.diffusion.conditioning import (
    CODE,
    NORMAL,
    LightingInputs,
    condition_from_maps,
    shadow_summary,
    srgb_encode,
    to_model_space,
    with_context,
    with_memory,
)
from renderers.diffusion.lighting_code import AMBIENT, DOMINANT_DIRECTION
from renderers.tonemap import tonemap
from worldsim.clip.atomic import atomic_path, write_text
from worldsim.datasets.lit_scenes import lit_scene
from worldsim.text.captions import write_captions

LOGGER = logging.getLogger("worldsim.datasets.training_clips")
REFERENCE_OPTIONS = {"max_triangles_per_entity": 30_000}
"""Reference-render settings for training targets (a smaller texture-refinement budget: 64 px)."""
LIGHTING_INPUTS = ("shadow", "irradiance", "specular")
"""The lighting guidance maps the renderer v2 reads (``renderers.diffusion.conditioning``)."""


def clip_path(out_dir: Path, index: int) -> Path:
    """Where clip ``index`` is stored."""
    return Path(out_dir) / f"clip_{index:05d}.npz"


def render_clip(seed: int, *, size: int, frames_per_clip: int, spp: int) -> dict[str, np.ndarray]:
    """The arrays of one clip: lit scene ``seed`` (``lit_scenes.lit_scene``) -> rollout ->
    guidance with lighting maps, the ``direct`` baseline, the lighting code, and the path tracer."""
    from renderers.base import create
    from renderers.diffusion.lighting_code import LightingCode
    from renderers.direct.renderer import shade
    from renderers.guidance.source import ClipGuidance
    from worldsim.render import load_and_validate, rollout

    scene = load_and_validate(lit_scene(seed, size=(size, size), num_frames=frames_per_clip))
    trajectory = rollout(scene)
    camera = scene.cameras[0].name
    source = ClipGuidance(trajectory, camera, lighting=LIGHTING_INPUTS)
    guidance = [source(frame) for frame in range(len(trajectory))]
    reference = create("reference", {"samples_per_pixel": spp, **REFERENCE_OPTIONS})
    rgb = np.stack([reference.render_linear(trajectory, camera, frame) for frame in range(len(trajectory))])
    direct = np.stack([shade(g, trajectory, camera) for g in guidance])
    code = LightingCode(trajectory, camera)
    lens = trajectory.cameras[camera].lens
    stack = {name: np.stack([getattr(g, name) for g in guidance]) for name in ("depth", "normal", "albedo")}
    shadow_key, shadow_mean = zip(*(shadow_summary(g) for g in guidance), strict=True)
    return {
        "rgb": _half(rgb),
        "direct": _half(direct),
        "irradiance": _half(np.stack([g.irradiance for g in guidance])),
        "specular": _half(np.stack([g.specular for g in guidance])),
        "shadow_key": _unit_to_uint8(np.stack(shadow_key)),
        "shadow_mean": _unit_to_uint8(np.stack(shadow_mean)),
        "code": np.stack([code(frame) for frame in range(len(trajectory))]),
        "exposure_ev": np.float32(lens.exposure_ev),
        "tonemap": np.array(lens.tonemap),
        "depth": stack["depth"].astype(np.float16),
        "normal": stack["normal"].astype(np.float16),
        "albedo": stack["albedo"].astype(np.float16),
        "roughness": _unit_to_uint8(np.stack([g.roughness for g in guidance])),
        "metallic": _unit_to_uint8(np.stack([g.metallic for g in guidance])),
        "instance": np.stack([g.instance for g in guidance]).astype(np.uint16),
        "semantic": np.stack([g.semantic for g in guidance]).astype(np.uint16),
    }


def _half(values: np.ndarray) -> np.ndarray:
    """float16 of radiometric values (NaN -> 0, +inf -> the largest half)."""
    return np.nan_to_num(values, nan=0.0, posinf=65000.0).clip(-65000.0, 65000.0).astype(np.float16)


def write_clip(path: Path, seed: int, size: int, frames_per_clip: int, spp: int) -> Path:
    """Render clip ``seed`` and write it to ``path`` atomically (temp file, then rename)."""
    arrays = render_clip(seed, size=size, frames_per_clip=frames_per_clip, spp=spp)
    write_captions(captions_path(path), lit_scene(seed, size=(size, size), num_frames=frames_per_clip), seed)
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, **arrays)
    return path


def captions_path(clip: Path) -> Path:
    """Where the captions of the clip stored at ``clip`` are (``clip_00000.captions.json``)."""
    return clip.with_name(clip.stem + ".captions.json")


def build_dataset(
    out_dir: str | Path,
    num_clips: int,
    *,
    size: int = 64,
    frames_per_clip: int = 16,
    spp: int = 16,
    seed: int = 0,
    progress: bool = True,
    workers: int = 1,
) -> Path:
    """Render ``num_clips`` random clips (scene seeds ``seed + i``) into ``out_dir``; resumable.

    ``workers`` > 1 renders clips in that many processes. Returns the path of ``index.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    todo = [index for index in range(num_clips) if not clip_path(out_dir, index).exists()]
    jobs = [(clip_path(out_dir, index), seed + index, size, frames_per_clip, spp) for index in todo]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            done = pool.map(write_clip, *zip(*jobs, strict=True))
            for count, _ in enumerate(done, 1):
                _report(progress, count, len(jobs), start)
    else:
        for count, job in enumerate(jobs, 1):
            write_clip(*job)
            _report(progress, count, len(jobs), start)
    if progress and jobs:
        sys.stderr.write("\n")
    index_path = out_dir / "index.json"
    index = {
        "num_clips": num_clips,
        "size": size,
        "frames_per_clip": frames_per_clip,
        "spp": spp,
        "seed": seed,
        "clips": [clip_path(out_dir, i).name for i in range(num_clips)],
    }
    write_text(index_path, json.dumps(index, indent=2))
    return index_path


def _report(enabled: bool, count: int, total: int, start: float) -> None:
    if enabled:
        sys.stderr.write(f"\rdataset: clip {count}/{total} ({time.perf_counter() - start:.0f} s)")
        sys.stderr.flush()


TRAINING_FIELDS = ("x0", "cond", "direct", "albedo", "target", "filmic", "gbuffer")
"""What a ``ClipDataset`` item holds (``Batch`` below)."""


class ClipDataset(Dataset):
    """Random windows of ``window`` frames from the clips of a ``build_dataset`` folder.

    Item ``i`` reads clip ``i % num_clips`` at a random start; ``names`` picks clip files (default:
    all of ``index.json``). An item is a dict of float32 tensors (``TRAINING_FIELDS``):

    - ``x0`` (3, T, H, W): the albedo in model space (``to_model_space``), what structure-only
      mode draws; ``cond`` (60, T, H, W): the condition (``condition_from_maps`` with lighting);
    - ``direct``, ``albedo`` (3, T, H, W): the exposure-scaled ``direct`` radiance and the linear
      albedo (0 on background) the composition (``renderers.diffusion.compose``) starts from;
    - ``target`` (3, T, H, W): the path tracer through the camera's tone map (sRGB in [0, 1]);
    - ``filmic``, ``gbuffer`` (): 1.0 for the filmic tone map / a G-buffer-mode item.

    ``augment`` turns on the training dropout: structure-only mode with ``p_structure_only``
    (materials and material-dependent lighting channels dropped), and in that mode everything
    dropped with ``p_drop_all`` (classifier-free guidance), the first 1-3 frames' albedo given
    as context with ``p_context``, entity albedos of another frame painted as memory with
    ``p_memory``; a left-right mirror (``mirrored``) with 0.5. Clips are held in memory (about
    2 MB each at 64 px, 12 frames).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        window: int = 8,
        augment: bool = True,
        p_structure_only: float = 0.35,
        p_drop_all: float = 0.1,
        p_context: float = 0.3,
        p_memory: float = 0.5,
        repeats: int = 1,
        seed: int = 0,
        names: list[str] | None = None,
    ) -> None:
        names = json.loads((Path(root) / "index.json").read_text())["clips"] if names is None else names
        self.clips = []
        for name in names:
            with np.load(Path(root) / name) as data:
                self.clips.append({key: data[key] for key in data.files})
        self.window = window
        self.augment = augment
        self.p_structure_only, self.p_drop_all = p_structure_only, p_drop_all
        self.p_context, self.p_memory = p_context, p_memory
        self.repeats = repeats
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.clips) * self.repeats

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        clip = self.clips[item % len(self.clips)]
        rng = self.rng
        frames = clip["rgb"].shape[0]
        start = int(rng.integers(0, frames - self.window + 1)) if frames > self.window else 0
        window = slice(start, start + self.window)
        gbuffer = not (self.augment and rng.random() < self.p_structure_only)
        exposure = float(clip["exposure_ev"])
        curve = str(clip["tonemap"])
        albedo = clip["albedo"][window].astype(np.float32)
        lighting = LightingInputs(
            direct=clip["direct"][window].astype(np.float32),
            irradiance=clip["irradiance"][window].astype(np.float32),
            specular=clip["specular"][window].astype(np.float32),
            shadow_key=clip["shadow_key"][window] / np.float32(255),
            shadow_mean=clip["shadow_mean"][window] / np.float32(255),
            code=clip["code"][window],
            exposure_ev=exposure,
        )
        cond = condition_from_maps(
            depth=clip["depth"][window].astype(np.float32),
            normal=clip["normal"][window].astype(np.float32),
            instance=clip["instance"][window],
            semantic=clip["semantic"][window],
            albedo=albedo if gbuffer else None,
            roughness=clip["roughness"][window] / np.float32(255) if gbuffer else None,
            metallic=clip["metallic"][window] / np.float32(255) if gbuffer else None,
            lighting=lighting,
        )
        if self.augment and not gbuffer:
            cond = self._augment_condition(cond, clip, albedo, window, rng)
        foreground = (clip["instance"][window] > 0)[..., None]
        item = {
            "x0": np.moveaxis(to_model_space(albedo), -1, 0),
            "cond": cond,
            "direct": np.moveaxis(lighting.direct * np.float32(2.0**exposure), -1, 0),
            "albedo": np.moveaxis(np.where(foreground, albedo, 0.0), -1, 0),
            "target": np.moveaxis(
                tonemap(clip["rgb"][window].astype(np.float32), exposure_ev=exposure, curve=curve), -1, 0
            ),
            "filmic": np.float32(curve == "filmic"),
            "gbuffer": np.float32(gbuffer),
        }
        if self.augment and rng.random() < 0.5:
            item = mirrored(item)
        return {key: torch.from_numpy(np.array(value, dtype=np.float32)) for key, value in item.items()}

    def _augment_condition(
        self,
        cond: np.ndarray,
        clip: dict[str, np.ndarray],
        albedo: np.ndarray,
        window: slice,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Context frames, memory colours and full dropout, drawn independently."""
        count = albedo.shape[0]
        if rng.random() < self.p_context:
            mask = np.zeros(count, dtype=bool)
            mask[: int(rng.integers(1, min(3, count) + 1))] = True
            cond = with_context(cond, srgb_encode(albedo), mask)
        if rng.random() < self.p_memory:
            other = int(rng.integers(0, clip["rgb"].shape[0]))
            cond = with_memory(cond, clip["instance"][window], entity_colours(clip, other, "albedo"))
        if rng.random() < self.p_drop_all:
            cond = np.zeros_like(cond)
        return cond


def mirrored(item: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A training item flipped left-right: images mirrored, camera-frame x negated (normals, the
    lighting code's dominant direction), the code's +x and -x ambient terms swapped."""
    flipped = {key: value[..., ::-1] if np.ndim(value) >= 2 else value for key, value in item.items()}
    cond = flipped["cond"].copy()
    cond[NORMAL.start] *= -1.0
    ambient = CODE.start + AMBIENT.start
    plus_x, minus_x = cond[ambient : ambient + 3].copy(), cond[ambient + 3 : ambient + 6].copy()
    cond[ambient : ambient + 3], cond[ambient + 3 : ambient + 6] = minus_x, plus_x
    cond[CODE.start + DOMINANT_DIRECTION.start] *= -1.0
    flipped["cond"] = cond
    return flipped


def entity_colours(clip: dict[str, np.ndarray], frame: int, key: str = "rgb") -> dict[int, np.ndarray]:
    """Each entity's mean ``key`` colour in ``frame`` (linear mean, sRGB-encoded (3,) in [0, 1])."""
    instance = clip["instance"][frame]
    rgb = clip[key][frame].astype(np.float32)
    colours = {}
    for entity in np.unique(instance):
        if entity == 0:
            continue
        colours[int(entity)] = srgb_encode(rgb[instance == entity].mean(axis=0))
    return colours


def _unit_to_uint8(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
