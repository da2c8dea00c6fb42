"""The ``coco`` export, read by pycocotools: ``annToMask`` equals our instance maps exactly, boxes are
visibility.json's, entity ids are the track ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocotools", reason="the COCO export needs worldsim[exports]")


def test_pycocotools_masks_equal_the_instance_maps(clip_copy: Path) -> None:
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    from worldsim.clip.clip import Clip
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["coco"])
    path = clip_copy / "exports" / "coco.json"
    coco = COCO(str(path))
    clip = Clip(clip_copy)
    assert sorted(coco.getImgIds()) == [frame + 1 for frame in range(clip.num_frames)]
    classes = {row["semantic_id"]: row["semantic_class"] for row in clip.entity_table()}
    assert {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == classes
    checked = 0
    for frame in range(clip.num_frames):
        instance = clip.instance(frame)
        image = coco.loadImgs(frame + 1)[0]
        assert (image["width"], image["height"], image["file_name"]) == (32, 32, f"rgb/{frame:05d}.png")
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=frame + 1))
        shown = sorted(int(value) for value in np.unique(instance) if value)
        assert sorted(a["track_id"] for a in annotations) == shown  # one annotation per visible entity
        boxes = {row.entity_id: row.bbox for row in clip.visibility(frame)}
        entities = {row["id"]: row for row in clip.entity_table()}
        for annotation in annotations:
            entity_id = annotation["track_id"]
            expected = instance == entity_id
            assert np.array_equal(coco.annToMask(annotation).astype(bool), expected)
            assert annotation["area"] == int(expected.sum())
            x0, y0, x1, y1 = boxes[entity_id]
            assert annotation["bbox"] == [x0, y0, x1 - x0, y1 - y0]
            rle = coco.annToRLE(annotation)
            np.testing.assert_array_equal(mask_utils.toBbox(rle), annotation["bbox"])
            assert annotation["category_id"] == entities[entity_id]["semantic_id"]
            checked += 1
    assert checked >= 3 * clip.num_frames  # floor, crate and ball in every frame
    data = json.loads(path.read_text())
    assert data["videos"][0]["name"] == "clip" and {a["video_id"] for a in data["images"]} == {1}


def test_coco_refuses_a_clip_without_visibility(clip_copy: Path) -> None:
    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_clip

    (clip_copy / "visibility.json").unlink()
    with pytest.raises(ExportError) as error:
        export_clip(clip_copy, ["coco"])
    message = str(error.value)
    assert str(clip_copy / "visibility.json") in message and "list 'visibility' in render.guidance" in message
    assert not (clip_copy / "exports" / "coco.json").exists()


def test_an_entity_on_screen_without_a_visibility_row_is_refused(clip_copy: Path) -> None:
    """A backend without per-entity silhouettes writes no rows: no COCO or boxes without 2D boxes."""
    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_clip

    path = clip_copy / "visibility.json"
    data = json.loads(path.read_text())
    data["frames"]["2"] = [row for row in data["frames"]["2"] if row["entity_id"] != 3]
    path.write_text(json.dumps(data))
    for name in ("coco", "boxes"):
        with pytest.raises(ExportError) as error:
            export_clip(clip_copy, [name])
        assert f"{path}: frame 2: entity 3 is in the instance map but has no visibility row" in str(
            error.value
        )
