"""The ``webdataset`` export of a dataset folder: ``webdataset.WebDataset`` reads back every frame of
every complete clip, byte for byte; incomplete clips are left out; the shards are reproducible."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

wds = pytest.importorskip("webdataset", reason="the WebDataset export needs worldsim[exports]")


@pytest.fixture
def dataset(dataset_dir: Path, tmp_path: Path) -> Path:
    """A copy of the three-clip dataset plus an unfinished clip (a frame's instance map missing)."""
    root = Path(shutil.copytree(dataset_dir, tmp_path / "dataset"))
    shutil.copytree(root / "clips" / "exports-1", root / "clips" / "exports-9")
    (root / "clips" / "exports-9" / "instance" / "00002.png").unlink()
    return root


def test_every_sample_reads_back(dataset: Path) -> None:
    from worldsim.clip.clip import Clip
    from worldsim.clip.encodings import read_png
    from worldsim.exports.registry import export_dataset

    export_dataset(dataset, ["webdataset"], options={"samples_per_shard": 5})
    out = dataset / "webdataset"
    index = json.loads((out / "shards.json").read_text())
    assert index["clips"] == ["exports-1", "exports-2", "exports-3"]  # not the unfinished exports-9
    assert index["samples"] == 12 and [s["samples"] for s in index["shards"]] == [5, 5, 2]
    shards = [str(out / shard["file"]) for shard in index["shards"]]
    samples = list(wds.WebDataset(shards, shardshuffle=False))
    assert [s["__key__"] for s in samples] == [f"exports-{c}/{f:05d}" for c in (1, 2, 3) for f in range(4)]
    decoded = list(wds.WebDataset(shards, shardshuffle=False).decode())
    for raw, sample in zip(samples, decoded):
        clip_id, frame_name = raw["__key__"].split("/")
        frame = int(frame_name)
        clip = Clip(dataset / "clips" / clip_id)
        has_rgb = clip_id != "exports-2"
        expected = {"depth.png", "depth.npy", "instance.png", "semantic.png", "normal.png", "flow.npy"}
        expected |= {"flow_valid.png", "camera.json", "visibility.json", "meta.json"}
        expected |= {"rgb.png"} if has_rgb else set()
        assert set(raw) - {"__key__", "__url__", "__local_path__"} == expected
        for name in expected - {"camera.json", "visibility.json", "meta.json"}:
            folder, suffix = name.split(".")
            assert raw[name] == clip.layout.frame_file(folder, frame, f".{suffix}").read_bytes(), name
        assert np.array_equal(read_png(io.BytesIO(raw["instance.png"])), clip.instance(frame))
        assert np.array_equal(sample["depth.npy"], clip.depth(frame), equal_nan=True)
        assert sample["meta.json"]["frame"] == frame and sample["meta.json"]["clip"] == clip_id
        assert sample["meta.json"]["entities"] == clip.entity_table()
        np.testing.assert_allclose(
            sample["camera.json"]["cam_to_world"], clip.trajectory().cameras["main"].cam_to_world[frame]
        )
        assert [row["entity_id"] for row in sample["visibility.json"]] == [
            r.entity_id for r in clip.visibility(frame)
        ]


def test_shards_are_reproducible_and_stale_ones_removed(dataset: Path) -> None:
    from worldsim.exports.registry import export_dataset

    out = dataset / "webdataset"
    export_dataset(dataset, ["webdataset"], options={"samples_per_shard": 5})
    first = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    export_dataset(dataset, ["webdataset"], options={"samples_per_shard": 5})
    assert {path.name: path.read_bytes() for path in sorted(out.iterdir())} == first
    export_dataset(dataset, ["webdataset"])  # one shard now: the other two go
    assert sorted(path.name for path in out.iterdir()) == ["shard-000000.tar", "shards.json"]


def test_a_dataset_without_complete_clips_is_refused(tmp_path: Path) -> None:
    from worldsim.errors import ExportError
    from worldsim.exports.registry import export_dataset

    with pytest.raises(ExportError, match="not a dataset folder"):
        export_dataset(tmp_path, ["webdataset"])
    (tmp_path / "clips").mkdir()
    with pytest.raises(ExportError, match="no complete clip"):
        export_dataset(tmp_path, ["webdataset"])
