"""``render``: scene -> rollout -> guidance maps -> appearance frames -> clip folder on disk.

The orchestration layer: the only place (with the CLI) that reaches ``renderers``, by name
through the registry. It composes the clip's guidance once (``ClipGuidance``: one backend from
the resolved settings, every frame cast once per resolution) and hands it to the appearance
renderer; each guidance frame is written to the clip folder when first computed and the same
object is handed on. Frames are streamed one at a time, so memory does not grow with the clip
length; every file is written atomically and a re-run only renders the frames missing on disk.
"""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from worldsim.clip.atomic import write_json, write_png, write_text
from worldsim.clip.clip import Clip
from worldsim.clip.config import RenderConfig, load_render_config, resolve_render_settings
from worldsim.clip.guidance_io import (
    ClipFileWriter,
    read_exact_guidance_frame,
    read_guidance_frame,
    write_guidance_frame,
)
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.clip.incremental import ProductInputs, guidance_product, plan_rerender
from worldsim.clip.invalidation import read_frame_inputs
from worldsim.clip.layout import FRAME_FOLDERS, GUIDANCE_MAPS, LIGHTING_MAPS, TOP_LEVEL_FILES, ClipLayout
from worldsim.clip.lock import holding_clip_lock
from worldsim.clip.metadata import ClipFolderError, build_metadata, read_metadata, settings_digest
from worldsim.clip.preview_cache import PreviewCache
from worldsim.clip.timing import continued_scene
from worldsim.clip.video import evenly_spaced, write_contact_sheet, write_mp4
from worldsim.errors import RenderError, SceneError
from worldsim.provenance.clip_stamp import ClipProvenance

if TYPE_CHECKING:
    from renderers.base import AppearanceRenderer, GuidanceSource
    from worldsim.guidance_frame import GuidanceFrame
    from worldsim.scene.scene import Scene
    from worldsim.state import Trajectory

logger = logging.getLogger("worldsim.render")


def load_and_validate(scene_or_path: Scene | str | Path) -> Scene:
    """A validated ``Scene`` from a Scene object or a YAML path (raises SceneError)."""
    from worldsim.scene.scene import Scene
    from worldsim.scene.validation import validate_scene
    from worldsim.scene.yaml_io import load_scene

    if isinstance(scene_or_path, Scene):
        scene = scene_or_path
    elif isinstance(scene_or_path, str | Path):
        scene = load_scene(scene_or_path)
    else:
        raise TypeError(f"expected a Scene or a path, got {type(scene_or_path).__name__}")
    validate_scene(scene)
    return scene


def rollout(scene: Scene, *, progress: bool = False) -> Trajectory:
    """``World(scene).rollout()``."""
    from worldsim.world.world import World

    return World(scene).rollout(progress=progress)


def write_simulation(
    scene: Scene,
    trajectory: Trajectory,
    out: str | Path,
    settings: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> ClipLayout:
    """Write ``scene.yaml``, ``trajectory.json`` and ``metadata.json`` (with ``extra`` keys) into ``out``."""
    from worldsim.scene.yaml_io import scene_to_yaml

    layout = ClipLayout(Path(out))
    layout.root.mkdir(parents=True, exist_ok=True)
    write_text(layout.scene_yaml, scene_to_yaml(scene))
    trajectory.save(layout.trajectory_json)
    write_json(layout.metadata_json, build_metadata(trajectory, settings=settings, extra=extra))
    return layout


@holding_clip_lock("out")
def simulate(scene_or_path: Scene | str | Path, out: str | Path, *, progress: bool = True) -> Path:
    """Roll a scene out and write ``scene.yaml``, ``metadata.json`` and ``trajectory.json``."""
    from worldsim.scene.yaml_io import scene_to_yaml

    scene = load_and_validate(scene_or_path)
    trajectory = rollout(scene, progress=progress)
    settings = {
        "scene_digest": settings_digest({"yaml": scene_to_yaml(scene)}),
        "camera": trajectory.primary_camera,
    }
    return write_simulation(scene, trajectory, out, settings).root


def parse_frames(frames: str | Sequence[int] | range | None, num_frames: int) -> list[int]:
    """The frame list: all for None, ``"A:B"`` (B exclusive, either may be empty) or a sequence."""
    if frames is None:
        return list(range(num_frames))
    if isinstance(frames, str):
        start_text, separator, stop_text = frames.partition(":")
        try:
            if not separator:
                start = int(start_text)
                selected = [start]
            else:
                start = int(start_text) if start_text.strip() else 0
                stop = int(stop_text) if stop_text.strip() else num_frames
                selected = list(range(start, stop))
        except ValueError:
            raise RenderError(f"frames: {frames!r} is not A:B (integers, B exclusive)") from None
    else:
        selected = [int(frame) for frame in frames]
    if not selected:
        raise RenderError(f"frames: {frames!r} selects no frames")
    if any(not 0 <= frame < num_frames for frame in selected):
        low, high = min(selected), max(selected)
        asked = f"frame {low}" if low == high else f"frames {low} to {high}"
        given = repr(frames) if isinstance(frames, str) else "the list"
        raise RenderError(
            f"frames: {given} asks for {asked}, outside the clip's {num_frames} frames (0..{num_frames - 1})"
        )
    return sorted(set(selected))


def _guidance_maps(scene: Scene) -> list[str]:
    maps = list(dict.fromkeys(scene.render.guidance))
    for index, name in enumerate(maps):
        if name not in GUIDANCE_MAPS:
            raise SceneError(
                f"unknown guidance map {name!r}; known: {', '.join(GUIDANCE_MAPS)}",
                file=scene.source_file,
                key_path=f"render.guidance[{index}]",
            )
    if "depth_exact" in maps and "depth" not in maps:
        maps.insert(0, "depth")
    return maps


def _camera_name(scene: Scene, camera: str | None) -> str:
    names = [spec.name for spec in scene.cameras]
    if not names:
        raise SceneError("the scene has no camera", file=scene.source_file, key_path="cameras")
    if camera is None:
        return names[0]
    if camera not in names:
        raise RenderError(f"no camera named {camera!r}; the scene has: {', '.join(names)}")
    return camera


def _create_renderer(name: str, options: dict[str, Any]) -> tuple[str, AppearanceRenderer]:
    from renderers import base

    try:
        return name, base.create(name, options)
    except ImportError as error:
        raise RenderError(
            f"renderer {name!r} is not available ({error}); install its extra or render with --guidance-only"
        ) from None


def _check_existing(layout: ClipLayout, settings: dict[str, Any], overwrite: bool) -> dict[str, Any] | None:
    """Refuse a folder holding another clip; returns the old settings to keep, or None.

    An edited scene (same name and seed, other content) is not another clip when the folder
    records its frame inputs (``frame_inputs.json``): its stale frames are re-rendered
    (``worldsim.clip.incremental``)."""
    if overwrite:
        layout.clear()
        return None
    if layout.metadata_json.is_file():
        old = read_metadata(layout.metadata_json).get("settings", {})
        editable = layout.frame_inputs_json.is_file() and "scene_identity" in old
        keys = ("scene_identity",) if editable else ("scene_digest",)
        # A key the old run did not record (e.g. a folder written by `simulate`) does not conflict.
        mismatched = [
            key
            for key in (*keys, "camera", "guidance_backend")
            if old.get(key, settings[key]) != settings[key]
        ]
        old_rgb, new_rgb = old.get("appearance"), settings["appearance"]
        if old_rgb is not None and new_rgb is not None and old_rgb != new_rgb:
            mismatched.append("appearance")
        if mismatched:
            raise ClipFolderError(
                f"{layout.root}: holds a clip of a different scene or settings "
                f"({', '.join(mismatched)} differ); choose another --out or pass --overwrite"
            )
        return old
    leftovers = [name for name in (*FRAME_FOLDERS, *TOP_LEVEL_FILES) if (layout.root / name).exists()]
    if leftovers:
        raise ClipFolderError(
            f"{layout.root}: has clip files ({', '.join(leftovers)}) but no metadata.json; "
            "choose another --out or pass --overwrite"
        )
    return None


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="frame",
        file=sys.stderr,
        delay=1.0,
        disable=not enabled or total == 0,
        leave=False,
    )


def _clip_guidance(
    trajectory: Trajectory,
    clip: Clip,
    camera: str,
    maps: list[str],
    stored_maps: list[str],
    frames: list[int],
    backend: str,
    config: RenderConfig,
    lighting: Sequence[str] = (),
) -> tuple[GuidanceSource, list[int], ClipFileWriter]:
    """The clip's guidance, composed once: one backend from the resolved settings, frames written
    to the clip folder the first time they are computed, read back when stored exactly.

    Returns it, the (growing-shorter) list of frames whose maps are still missing on disk and the
    writer of the per-clip files (flush it at the end)."""
    from renderers.guidance.source import ClipGuidance

    layout = clip.layout
    missing = layout.incomplete_frames(maps, frames)
    if len(missing) < len(frames):
        logger.info("guidance: %d of %d frames already on disk", len(frames) - len(missing), len(frames))
    pending = set(missing)
    clip_files = ClipFileWriter(layout, maps)

    def computed(guidance: GuidanceFrame) -> None:
        if guidance.frame in pending:
            write_guidance_frame(layout, guidance, maps)
            clip_files.add(guidance)
            pending.discard(guidance.frame)
            missing.remove(guidance.frame)

    def stored(frame: int) -> GuidanceFrame | None:
        # Lighting maps are stored as float16 (not exact): frames that need them are recomputed.
        if lighting or frame in pending:
            return None
        return read_exact_guidance_frame(clip, frame, stored_maps)

    source = ClipGuidance(
        trajectory,
        camera,
        backend=backend,
        supersample=config.guidance_supersample,
        batch_size=config.guidance_batch_size,
        lighting=lighting,
        stored=stored,
        computed=computed,
    )
    return source, missing, clip_files


def clip_guidance(clip: Clip) -> GuidanceSource:
    """The guidance of a rendered clip folder for its consumers (metrics): its camera and recorded
    backend over its trajectory.json, exact maps read back from disk, the rest recomputed."""
    from renderers.guidance.source import ClipGuidance

    settings = clip.metadata.get("settings", {})
    maps = [name for name in settings.get("guidance", []) if name in GUIDANCE_MAP_TABLE]
    return ClipGuidance(
        clip.trajectory(),
        clip.camera,
        backend=settings.get("guidance_backend", "open3d"),
        lighting=[name for name in LIGHTING_MAPS if name in maps],
        stored=lambda frame: read_exact_guidance_frame(clip, frame, maps),
    )


def _render_guidance(
    guidance: GuidanceSource, missing: list[int], clip_files: ClipFileWriter, progress: bool
) -> int:
    """Compute (and so write) the frames still ``missing`` on disk, in order; flush the clip files."""
    todo = list(missing)
    with _progress(len(todo), "guidance", progress) as bar:
        for frame in todo:
            guidance(frame)
            bar.update(1)
    clip_files.flush()
    return len(todo)


def _render_appearance(
    renderer: AppearanceRenderer,
    trajectory: Trajectory,
    layout: ClipLayout,
    camera: str,
    frames: list[int],
    guidance: GuidanceSource,
    progress: bool,
    stamp: ClipProvenance,
    before_each_frame: Callable[[], None] = lambda: None,
) -> int:
    """Render and write the frames of ``frames`` missing on disk; ``before_each_frame`` runs before
    each frame is written (keeping the renderer's state on disk first, so a render stopped after
    its last frame still has it)."""
    todo = layout.incomplete_frames(["rgb"], frames)
    if len(todo) < len(frames):
        logger.info("rgb: %d of %d frames already on disk", len(frames) - len(todo), len(frames))
    if not todo:
        return 0
    expected = set(todo)
    handed = guidance if renderer.needs_guidance else None
    with _progress(len(todo), renderer.name, progress) as bar:
        for frame, rgb in renderer.render_frames(trajectory, camera, todo, handed):
            if frame not in expected:
                raise RenderError(
                    f"renderer {renderer.name!r} returned frame {frame}, which was not asked for"
                )
            rgb = np.asarray(rgb)
            if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
                raise RenderError(
                    f"renderer {renderer.name!r} returned {rgb.dtype} {rgb.shape}, expected (H, W, 3) uint8"
                )
            before_each_frame()
            write_png(layout.map_files("rgb", frame)[0], rgb, stamp.frame_text(frame))
            bar.update(1)
    return len(todo)


def _write_previews(
    clip: Clip,
    maps: list[str],
    frames: list[int],
    with_rgb: bool,
    config: RenderConfig,
    progress: bool,
    stamp: ClipProvenance,
    guidance_digests: Sequence[str],
) -> None:
    """Write the videos and the contact sheet of ``frames``; guidance grids are cached under the
    frames' ``guidance_digests`` (``worldsim.clip.preview_cache``)."""
    grid = _guidance_grid_function()

    def tracked(images: Iterator[np.ndarray], desc: str) -> Iterator[np.ndarray]:
        with _progress(len(frames), desc, progress) as bar:
            for image in images:
                yield image
                bar.update(1)

    # The contact sheet's frames are kept from the video pass instead of being read and drawn twice.
    on_sheet = set(evenly_spaced(frames, config.contact_sheet_frames))
    drawn: dict[int, np.ndarray] = {}

    cache = PreviewCache(clip.layout.root, guidance_digests, maps)

    def guidance_image(frame: int) -> np.ndarray:
        if frame in drawn:
            return drawn[frame]
        image = cache.image(frame, lambda frame: grid(read_guidance_frame(clip, frame, maps)))
        if frame in on_sheet:
            drawn[frame] = image
        return image

    layout = clip.layout
    if config.videos:
        if with_rgb:
            rgb_images = tracked((clip.rgb(frame) for frame in frames), "video.mp4")
            write_mp4(rgb_images, layout.video_mp4, clip.fps, stamp.video_tags())
            stamp.sign(layout.video_mp4, f"{clip.layout.root.name}: video")
        guidance_images = tracked((guidance_image(frame) for frame in frames), "guidance.mp4")
        write_mp4(guidance_images, layout.guidance_mp4, clip.fps, stamp.video_tags())
    sheet_source = clip.rgb if with_rgb else guidance_image
    write_contact_sheet(
        sheet_source,
        frames,
        layout.contact_sheet_png,
        count=config.contact_sheet_frames,
        columns=config.contact_sheet_columns,
        text=stamp.clip_text(),
    )
    if with_rgb:
        stamp.sign(layout.contact_sheet_png, f"{clip.layout.root.name}: contact sheet")


def _guidance_grid_function() -> Callable[[GuidanceFrame], np.ndarray]:
    try:
        from worldsim.clip.guidance_maps import guidance_grid
    except ImportError as error:
        raise RenderError(f"the guidance colour maps are not available ({error})") from None
    return guidance_grid


@holding_clip_lock("out")
def render(
    scene_or_path: Scene | str | Path,
    renderer: str = "default",
    out: str | Path = "out/clip",
    guidance_only: bool = False,
    camera: str | None = None,
    frames: str | Sequence[int] | range | None = None,
    progress: bool = True,
    overwrite: bool = False,
    options: dict[str, Any] | None = None,
    config: RenderConfig | None = None,
    sign_with: tuple[str | Path, str | Path] | None = None,
    extend: int | None = None,
    appearance_from: str | Path | None = None,
) -> Clip:
    """Render a scene into the clip folder ``out`` and return it as a ``Clip``.

    renderer: a registered appearance renderer; ``default`` = the scene's ``render.renderer``,
      else ``RenderConfig.renderer`` (``worldsim.clip.config.resolve_render_settings``).
    guidance_only: write only the guidance maps (+ guidance.mp4, contact sheet), no rgb.
    camera: the camera to render (default: the scene's first).
    frames: ``"A:B"`` or a sequence of frame indices (default: all); rollout is always complete.
    overwrite: clear ``out``'s clip files first; otherwise a folder holding a clip with other
      settings is refused and one with the same settings is resumed (only missing frames render).
      A folder another render is writing is refused (``ClipLockedError``, ``worldsim.clip.lock``).
      The videos and contact sheet show the frames asked for, or the whole clip once a run
      completes it (a split render: ``frames="0:12"``, then ``"12:24"``).
    options: renderer options over the scene's ``render.renderer_options``.
    sign_with: (key, certificate) PEM files for the content credentials of ``video.mp4`` and
      ``contact_sheet.png`` (default: ``config.signing_key``/``signing_certificate``, else a local
      test identity; signing needs ``worldsim[provenance]`` and ``config.content_credentials``).
    extend: continue the clip in ``out`` by this many frames (its frames stay as they are).
    appearance_from: a rendered clip folder whose appearance memory this render starts from
      (``appearance_memory.json``; renderers with an appearance memory: ``diffusion``).

    Rendering an edited scene (same name and seed) into its folder re-renders only the frames whose
    inputs changed (``worldsim.clip.incremental``; ``metadata.json`` ``rerendered`` says which and
    why); camera moves without a duration keep the timing they were first rendered with
    (``worldsim.clip.timing``).
    """
    from worldsim.scene.yaml_io import scene_to_yaml

    config = config or load_render_config()
    layout = ClipLayout(Path(out))
    previous = None if overwrite else _previous_metadata(layout)
    scene, timing = continued_scene(load_and_validate(scene_or_path), previous, extend, str(layout.root))
    maps = _guidance_maps(scene)
    camera_name = _camera_name(scene, camera)
    from renderers.base import scene_options

    resolved = resolve_render_settings(
        scene.render, config, renderer=renderer, options=options, scene_options=scene_options
    )
    backend = resolved.guidance_backend
    selected = parse_frames(frames, scene.frame_count)

    appearance = None
    renderer_options = resolved.renderer_options
    words = None
    if not guidance_only:
        name, appearance = _create_renderer(resolved.renderer, renderer_options)
        # A renderer that reads words (``diffusion``) resolves them into the world it draws.
        resolve_words = getattr(appearance, "resolve_words", None)
        if resolve_words is not None:
            scene, words = resolve_words(scene)
    elif appearance_from is not None:
        raise RenderError(
            "--appearance-from starts a renderer's appearance memory; --guidance-only renders none"
        )
    settings = {
        "scene_digest": settings_digest({"yaml": scene_to_yaml(scene)}),
        "scene_identity": scene_identity(scene),
        "camera": camera_name,
        "guidance_backend": backend,
        "guidance": maps,
        "appearance": None if appearance is None else {"renderer": name, "options": renderer_options},
    }
    old_settings = _check_existing(layout, settings, overwrite)
    previous_count = None if old_settings is None or previous is None else previous.get("num_frames")
    if old_settings is not None:
        settings["guidance"] = list(dict.fromkeys([*old_settings.get("guidance", []), *maps]))
        settings["appearance"] = settings["appearance"] or old_settings.get("appearance")
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.remove_stale_temp_files()
    start = _start_appearance(appearance, name if appearance is not None else "", appearance_from, layout)

    stamp = _clip_provenance(
        name if appearance is not None else None, appearance, settings, scene, config, sign_with, layout
    )
    settings["provenance"] = stamp.record
    trajectory = rollout(scene, progress=progress)
    if "shadow" in maps:
        from renderers.lighting.lights import shadow_channel_names

        settings["shadow_channels"] = shadow_channel_names(trajectory)
    products = rerender_products(
        scene,
        trajectory,
        config,
        maps=settings["guidance"],
        backend=backend,
        renderer_name=name if appearance is not None else None,
        renderer=appearance,
        renderer_options=renderer_options,
        recorded_rgb=(read_frame_inputs(layout) or {}).get("rgb"),
        appearance_start=start,
    )
    rerendered = plan_rerender(layout, trajectory, camera_name, products, previous_count=previous_count)
    stamp.frame_inputs = rerendered.digests.get("rgb")
    extra = {"rerendered": rerendered.to_json(), "timing": timing}
    if words is not None:
        extra["words"] = words
    write_simulation(scene, trajectory, layout.root, settings, extra=extra)
    clip = Clip(layout.root)

    # One guidance source for the clip: the appearance renderer gets the frames as they are
    # computed and written; whatever it did not ask for is computed (and written) after it.
    # Lighting maps are computed only when listed or read by the renderer (``direct``).
    lighting = [name for name in LIGHTING_MAPS if name in maps]
    lighting += [name for name in getattr(appearance, "guidance_maps", ()) if name not in lighting]
    guidance, missing, clip_files = _clip_guidance(
        trajectory, clip, camera_name, maps, settings["guidance"], selected, backend, config, lighting
    )
    if appearance is not None:
        keeper = AppearanceKeeper(appearance, layout)
        _render_appearance(
            appearance, trajectory, layout, camera_name, selected, guidance, progress, stamp, keeper.keep
        )
        keeper.keep()
    _render_guidance(guidance, missing, clip_files, progress)
    finished = [*maps, *(["rgb"] if appearance is not None else [])]
    if not layout.incomplete_frames(finished, range(trajectory.num_frames)):
        selected = list(range(trajectory.num_frames))  # this run completed the clip
    with_rgb = all(layout.is_complete(["rgb"], frame) for frame in selected)
    _write_previews(clip, maps, selected, with_rgb, config, progress, stamp, rerendered.digests["guidance"])
    return clip


def _start_appearance(
    renderer: AppearanceRenderer | None, name: str, source: str | Path | None, layout: ClipLayout
) -> str | None:
    """Give ``renderer`` the appearance memory (and surface cache) it starts from: the clip folder
    ``source``'s (``--appearance-from``, copied into ``layout`` so a resume starts from it again),
    else the one ``layout`` already started from. Returns its digest (None: an empty start)."""
    from worldsim.clip.frame_inputs import file_digest

    if source is not None:
        if renderer is None or not hasattr(renderer, "initial_memory"):
            raise RenderError(
                f"--appearance-from: renderer {name!r} keeps no appearance memory "
                "(renderers that do: diffusion)"
            )
        origin = ClipLayout(Path(source))
        if not origin.appearance_memory_json.is_file():
            raise RenderError(
                f"--appearance-from {source}: no appearance_memory.json there (render that clip "
                "with a renderer that keeps an appearance memory: diffusion)"
            )
        from renderers.diffusion.memory_io import load_memory, save_memory, save_surface_cache

        layout.root.mkdir(parents=True, exist_ok=True)
        save_memory(load_memory(origin.appearance_memory_json), layout.appearance_start_json)
        if origin.surface_cache_npz.is_file():
            from renderers.diffusion.memory_io import load_surface_cache

            save_surface_cache(load_surface_cache(origin.surface_cache_npz), layout.surface_cache_start_npz)
        else:
            layout.surface_cache_start_npz.unlink(missing_ok=True)
    if (
        renderer is None
        or not hasattr(renderer, "initial_memory")
        or not layout.appearance_start_json.is_file()
    ):
        return None
    from renderers.diffusion.memory_io import load_memory, load_surface_cache

    renderer.initial_memory = load_memory(layout.appearance_start_json)
    digest = file_digest(layout.appearance_start_json)
    if layout.surface_cache_start_npz.is_file():
        renderer.initial_surface_cache = load_surface_cache(layout.surface_cache_start_npz)
        digest += file_digest(layout.surface_cache_start_npz)
    return digest


class AppearanceKeeper:
    """Saves the appearance memory (merged over the folder's) and surface cache a renderer holds,
    for ``--appearance-from``, whenever they grew since the last save: before each frame is written
    (the memory a frame was made with is on disk before the frame) and at the end. A renderer
    without a memory, or that rendered nothing, saves none."""

    def __init__(self, renderer: AppearanceRenderer, layout: ClipLayout) -> None:
        self.renderer, self.layout = renderer, layout
        self.saved: tuple[int, int] | None = None

    def keep(self) -> None:
        memory = getattr(self.renderer, "final_memory", None)
        if memory is None:
            return
        cache = getattr(self.renderer, "final_surface_cache", None)
        sizes = (len(memory), len(cache) if cache is not None else 0)
        if sizes == self.saved:
            return
        from renderers.diffusion.memory_io import load_memory, merged, save_memory, save_surface_cache

        path = self.layout.appearance_memory_json
        older = load_memory(path) if path.is_file() else None
        save_memory(merged(memory, older), path)
        if cache is not None and len(cache):
            save_surface_cache(cache, self.layout.surface_cache_npz)
        self.saved = sizes


def _previous_metadata(layout: ClipLayout) -> dict[str, Any] | None:
    """The metadata of the clip in the folder (None when there is none)."""
    return read_metadata(layout.metadata_json) if layout.metadata_json.is_file() else None


def scene_identity(scene: Scene) -> str:
    """What makes a folder's clip the same clip after an edit: the scene's name and seed."""
    return settings_digest({"name": scene.name, "seed": int(scene.seed)})


def rerender_products(
    scene: Scene,
    trajectory: Trajectory,
    config: RenderConfig,
    *,
    maps: Sequence[str],
    backend: str,
    renderer_name: str | None = None,
    renderer: Any = None,
    renderer_options: dict[str, Any] | None = None,
    recorded_rgb: dict[str, Any] | None = None,
    appearance_start: str | None = None,
) -> dict[str, ProductInputs]:
    """How a render's frame inputs are computed: the guidance ``maps`` and, with a renderer, the rgb
    frames at the renderer's reach (``renderers.frame_dependencies``; ``renderer`` may be None, then
    only its name is known and window renderers count as reading the whole clip). Without one,
    ``recorded_rgb`` (a folder's rgb record) checks the folder's rgb frames with the inputs they
    were recorded with. ``appearance_start``: digest of the appearance memory the render starts from."""
    from renderers.frame_dependencies import affected_frames, frame_reach

    guidance_settings = {
        "backend": backend,
        "supersample": config.guidance_supersample,
        "seed": int(scene.seed),
    }
    products = {"guidance": guidance_product(maps, guidance_settings)}
    count = len(trajectory)
    if renderer_name is not None:
        name = renderer_name
        rgb_settings = {
            **guidance_settings,
            "renderer": name,
            "options": dict(renderer_options or {}),
            "prompt": trajectory.prompt,
            "appearance_start": appearance_start,
        }
    elif recorded_rgb:
        rgb_settings = dict(recorded_rgb.get("settings", {}))
        name = str(rgb_settings.get("renderer", ""))
    else:
        return products

    def expand(stale: set[int], previous: int | None) -> set[int]:
        return affected_frames(name, renderer, stale, count, previous)

    reach = frame_reach(name, renderer) if renderer_name is not None else str(recorded_rgb["reach"])
    products["rgb"] = ProductInputs(maps=["rgb"], settings=rgb_settings, reach=reach, expand=expand)
    return products


def _clip_provenance(
    name: str | None,
    renderer: AppearanceRenderer | None,
    settings: dict[str, Any],
    scene: Scene,
    config: RenderConfig,
    sign_with: tuple[str | Path, str | Path] | None,
    layout: ClipLayout,
) -> ClipProvenance:
    """The provenance stamps of this render (record in ``metadata.json``, frames and videos)."""
    from worldsim import __version__
    from worldsim.provenance.record import clip_record, renderer_provenance

    record = clip_record(
        None if renderer is None or name is None else renderer_provenance(name, renderer),
        scene_digest=settings["scene_digest"],
        seed=scene.seed,
        version=__version__,
    )
    if sign_with is None and config.signing_key and config.signing_certificate:
        sign_with = (config.signing_key, config.signing_certificate)
    return ClipProvenance(
        record,
        sign=config.content_credentials,
        signing_files=sign_with,
        scene_file=layout.scene_yaml,
        timestamp_url=config.signing_timestamp_url,
    )


class _CallableModule(types.ModuleType):
    """``import worldsim.render`` makes the package attribute ``worldsim.render`` this module,
    shadowing the lazily exported function of the same name; calling the module calls it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Clip:
        return render(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
