"""A dataset folder as WebDataset tar shards (``webdataset``, the ``exports`` extra).

One sample per frame of every complete clip of ``DIR/clips/<id>/``, keyed ``<id>/<frame:05d>``
(dots in a clip id become ``_``: WebDataset splits a key from its extensions at the first dot of
the file name). A sample holds the clip's stored files of that frame byte for byte, named
``<folder><suffix>`` (``rgb.png``, ``depth.png``, ``depth.npy``, ``instance.png`` (uint16),
``semantic.png``, ``normal.png``, ``flow.npy`` with ``flow_valid.png``, ...; encodings in
``meta.json``), ``camera.json`` (``K`` (3, 3), ``cam_to_world`` (4, 4), width, height),
``visibility.json`` (the frame's rows, when rendered) and ``meta.json`` (clip id, scene, seed,
frame, num_frames, fps, entity table, encodings). Shards are ``shard-NNNNNN.tar`` in the output
folder with ``shards.json`` (each shard's sample count); tar members have a fixed mtime, so the
same dataset gives the same bytes. Incomplete clips (a failed or unfinished render) are skipped
with a warning.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from worldsim.errors import ExportError, MissingExtraError
from worldsim.exports.registry import WebDatasetOptions, complete_clips, stored_maps

EXTRA = "exports"
SHARD_PATTERN = "shard-{:06d}.tar"
INDEX_FILE = "shards.json"
logger = logging.getLogger("worldsim.exports")


def import_webdataset() -> Any:
    """The ``webdataset`` module; MissingExtraError naming the ``exports`` extra."""
    try:
        import webdataset
    except ImportError as error:
        raise MissingExtraError("webdataset", EXTRA, error) from None
    return webdataset


def frame_samples(clip_path: Path) -> Iterator[dict[str, Any]]:
    """The WebDataset samples (key -> bytes, ``__key__``) of every frame of one clip folder."""
    from worldsim.clip.clip import Clip
    from worldsim.clip.layout import CLIP_FILES, MAP_FILES

    clip = Clip(clip_path)
    maps = stored_maps(clip)
    files = list(dict.fromkeys(spec for name in maps if name not in CLIP_FILES for spec in MAP_FILES[name]))
    track = clip.trajectory().cameras[clip.camera]
    visibility = clip.layout.read_clip_file("visibility")["frames"] if "visibility" in maps else None
    clip_id = clip.path.name.replace(".", "_")
    meta = {
        "clip": clip.path.name,
        "scene": clip.metadata.get("scene_name"),
        "seed": clip.metadata.get("seed"),
        "num_frames": clip.num_frames,
        "fps": clip.fps,
        "camera": clip.camera,
        "entities": clip.entity_table(),
        "encodings": {
            name: text for name, text in clip.metadata.get("encodings", {}).items() if name in maps
        },
    }
    for frame in range(clip.num_frames):
        sample: dict[str, Any] = {"__key__": f"{clip_id}/{frame:05d}"}
        for folder, suffix in files:
            sample[f"{folder}{suffix}"] = clip.layout.frame_file(folder, frame, suffix).read_bytes()
        camera = {
            "K": track.intrinsics(frame).matrix.tolist(),
            "cam_to_world": track.cam_to_world[frame].tolist(),
            "width": track.width,
            "height": track.height,
        }
        sample["camera.json"] = _json(camera)
        if visibility is not None:
            sample["visibility.json"] = _json(visibility[str(frame)])
        sample["meta.json"] = _json({**meta, "frame": frame})
        yield sample


def _json(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True, sort_keys=True).encode("utf-8")


def export_webdataset(dataset_dir: Path, out: Path, options: WebDatasetOptions | None = None) -> Path:
    """Write the shards of the dataset folder ``dataset_dir`` into the folder ``out`` (each shard
    atomically; shards of an earlier, longer export beyond the last written are removed); returns
    ``out``. ExportError when the dataset holds no complete clip."""
    from worldsim.clip.atomic import atomic_path, write_json

    options = options or WebDatasetOptions()
    if options.samples_per_shard < 1:
        raise ExportError(
            f"must be >= 1, got {options.samples_per_shard}", key_path="option.samples_per_shard"
        )
    webdataset = import_webdataset()
    complete, incomplete = complete_clips(Path(dataset_dir))
    for path in incomplete:
        logger.warning("%s: incomplete clip, left out of the WebDataset shards", path)
    if not complete:
        raise ExportError("no complete clip to export (clips/ holds none)", file=str(dataset_dir))
    out = Path(out)
    samples = iter(sample for clip_path in complete for sample in frame_samples(clip_path))
    counts: list[int] = []
    first = next(samples, None)
    while first is not None:  # samples stream into the shard: one sample in memory at a time
        with atomic_path(out / SHARD_PATTERN.format(len(counts))) as temp, open(temp, "wb") as stream:
            writer = webdataset.TarWriter(stream, user="worldsim", group="worldsim", mtime=0.0, encoder=False)
            writer.write(first)
            count = 1
            for sample in itertools.islice(samples, options.samples_per_shard - 1):
                writer.write(sample)
                count += 1
            writer.close()
        counts.append(count)
        first = next(samples, None)
    for stale in out.glob("shard-*.tar"):
        if stale.name not in {SHARD_PATTERN.format(index) for index in range(len(counts))}:
            stale.unlink()
    shards = [{"file": SHARD_PATTERN.format(index), "samples": count} for index, count in enumerate(counts)]
    write_json(
        out / INDEX_FILE, {"shards": shards, "samples": sum(counts), "clips": [p.name for p in complete]}
    )
    return out
