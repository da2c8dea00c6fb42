"""A clip as COCO instances (``coco.json``), read by ``pycocotools`` (the ``exports`` extra).

One image per frame (``id`` = frame + 1, ``frame_index``, ``video_id`` 1; ``file_name`` the rgb
frame relative to the clip folder, or the instance map when the clip has no rgb), one annotation
per visible entity per frame: ``segmentation`` the entity's pixels of the instance map as
compressed RLE (``pycocotools.mask.encode``), ``area`` its pixel count, ``bbox`` ``[x, y, w, h]``
from ``visibility.json`` (the one 2D box implementation), ``category_id`` the entity's semantic
class id, ``track_id`` = ``instance_id`` = its stable entity id (the same across frames), plus
``visible_fraction`` and ``occluders``. Categories are the clip's semantic classes. A
``videos`` list (one entry, the clip) follows the YouTube-VIS / TAO extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from worldsim.errors import MissingExtraError

EXTRA = "exports"


def import_coco_mask() -> Any:
    """``pycocotools.mask``; MissingExtraError naming the ``exports`` extra."""
    try:
        from pycocotools import mask
    except ImportError as error:
        raise MissingExtraError("pycocotools", EXTRA, error) from None
    return mask


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a (H, W) bool mask: ``{"size": [H, W], "counts": str}``."""
    coco_mask = import_coco_mask()
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(value) for value in rle["size"]], "counts": rle["counts"].decode("ascii")}


def coco_dataset(clip_path: Path) -> dict[str, Any]:
    """The COCO dictionary of the clip folder ``clip_path`` (see the module docstring)."""
    from worldsim.clip.clip import Clip
    from worldsim.exports.frame_visibility import ClipVisibility

    clip = Clip(clip_path)
    visibility = ClipVisibility(clip)
    table = clip.entity_table()
    by_id = {int(row["id"]): row for row in table}
    classes = sorted(
        {(int(row["semantic_id"]), str(row["semantic_class"])) for row in table}
        | {(int(class_id), str(name)) for name, class_id in clip.metadata.get("semantic_classes", {}).items()}
    )
    camera = clip.metadata["cameras"][clip.camera]
    width, height = int(camera["width"]), int(camera["height"])
    images, annotations = [], []
    for frame in range(clip.num_frames):
        rgb = clip.layout.frame_file("rgb", frame, ".png")
        source = rgb if rgb.is_file() else clip.layout.frame_file("instance", frame, ".png")
        image_id = frame + 1
        images.append(
            {
                "id": image_id,
                "file_name": source.relative_to(clip.path).as_posix(),
                "width": width,
                "height": height,
                "frame_index": frame,
                "video_id": 1,
            }
        )
        instance = clip.instance(frame)
        rows = visibility.rows(frame)
        for entity_id in sorted(rows):
            row = rows[entity_id]
            if row.bbox is None:
                continue
            mask = instance == entity_id
            x0, y0, x1, y1 = row.bbox
            entity = by_id[entity_id]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": int(entity["semantic_id"]),
                    "segmentation": encode_mask(mask),
                    "area": int(np.count_nonzero(mask)),
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "iscrowd": 0,
                    "track_id": entity_id,
                    "instance_id": entity_id,
                    "visible_fraction": row.visible_fraction,
                    "occluders": list(row.occluders),
                }
            )
    return {
        "info": {
            "description": f"worldsim clip {clip.path.name}",
            "version": str(clip.metadata.get("versions", {}).get("worldsim", "")),
            "scene": str(clip.metadata.get("scene_name", "")),
            "seed": clip.metadata.get("seed"),
        },
        "licenses": [],
        "videos": [{"id": 1, "name": clip.path.name, "width": width, "height": height}],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": class_id, "name": name, "supercategory": "object"} for class_id, name in classes
        ],
    }


def export_coco(clip_path: Path, out: Path, options: None = None) -> Path:
    """Write ``coco_dataset(clip_path)`` as JSON to ``out`` (atomically); returns ``out``."""
    from worldsim.clip.atomic import write_json

    return write_json(out, coco_dataset(Path(clip_path)), indent=None)
