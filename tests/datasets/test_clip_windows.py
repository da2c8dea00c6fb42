"""``ClipWindowDataset``: clip folders as (frames, guidance, labels) windows for a torch DataLoader."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exports"))
from export_scene import box_scene  # noqa: E402  (the export tests' scene)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DIR/clips/ with a 5-frame rgb clip and a 4-frame one, 32x32."""
    import worldsim as ws

    root = tmp_path_factory.mktemp("windows")
    ws.render(box_scene(1, frames=5), renderer="flat", out=root / "clips" / "a-1", progress=False)
    ws.render(box_scene(2), renderer="flat", out=root / "clips" / "b-2", progress=False)
    return root


def test_windows_hold_the_clip_data(dataset_dir: Path) -> None:
    from worldsim.clip.clip import Clip
    from worldsim.datasets.clip_windows import ClipWindowDataset

    dataset = ClipWindowDataset(dataset_dir, window=2, stride=1, guidance=("depth_exact", "normal", "flow"))
    assert isinstance(dataset, torch.utils.data.Dataset)
    assert len(dataset) == (5 - 1) + (4 - 1)
    item = dataset[5]  # clip b-2, frames 1..2
    assert (item["clip"], item["start"]) == ("b-2", 1)
    clip = Clip(dataset_dir / "clips" / "b-2")
    frames = item["frames"]
    assert frames.shape == (2, 3, 32, 32) and frames.dtype == torch.float32
    np.testing.assert_allclose(frames[1].permute(1, 2, 0).numpy(), clip.rgb(2) / 255.0, atol=1e-7)
    guidance = item["guidance"]
    assert set(guidance) == {"depth", "normal", "flow_forward", "flow_forward_valid"}
    assert guidance["depth"].shape == (2, 1, 32, 32)
    assert np.array_equal(guidance["depth"][0, 0].numpy(), clip.depth(1))
    assert (
        guidance["flow_forward"].shape == (2, 2, 32, 32)
        and guidance["flow_forward_valid"].dtype == torch.bool
    )
    np.testing.assert_array_equal(guidance["normal"][1].permute(1, 2, 0).numpy(), clip.normal(2))
    labels = item["labels"]
    assert np.array_equal(labels["instance"][0].numpy(), clip.instance(1).astype(np.int64))
    assert np.array_equal(labels["semantic"][1].numpy(), clip.semantic(2).astype(np.int64))
    assert labels["entity_ids"].tolist() == [1, 2, 3]
    crate = clip.visibility(2)[1]
    assert crate.entity_id == 2 and labels["boxes"][1, 1].tolist() == list(crate.bbox)
    assert labels["visible_fraction"][1, 1].item() == pytest.approx(crate.visible_fraction)


def test_a_dataloader_batches_windows_of_different_clips(dataset_dir: Path) -> None:
    from worldsim.datasets.clip_windows import ClipWindowDataset

    dataset = ClipWindowDataset(dataset_dir, window=4, stride=2, max_entities=5)
    assert [(dataset.clips[c].path.name, s) for c, s in dataset.windows] == [("a-1", 0), ("b-2", 0)]
    batches = list(torch.utils.data.DataLoader(dataset, batch_size=2))
    assert len(batches) == math.ceil(len(dataset) / 2) == 1
    batch = batches[0]
    assert batch["frames"].shape == (2, 4, 3, 32, 32) and batch["labels"]["boxes"].shape == (2, 4, 5, 4)
    assert (
        batch["labels"]["entity_ids"][:, 3:].eq(0).all() and batch["labels"]["boxes"][:, :, 3:].isnan().all()
    )
    assert batch["clip"] == ["a-1", "b-2"]


def test_a_clip_missing_a_file_fails_when_the_dataset_is_built(dataset_dir: Path, tmp_path: Path) -> None:
    from worldsim.clip.metadata import ClipFolderError
    from worldsim.datasets.clip_windows import ClipWindowDataset

    clip = Path(shutil.copytree(dataset_dir / "clips" / "a-1", tmp_path / "a-1"))
    (clip / "rgb" / "00003.png").unlink()
    with pytest.raises(ClipFolderError, match=r"rgb/00003\.png: missing frame 3 of the rgb map"):
        ClipWindowDataset(clip, window=2)
    dataset = ClipWindowDataset(clip, window=2, rgb=False)
    assert dataset[0]["frames"].shape == (2, 0, 32, 32)
    with pytest.raises(ClipFolderError, match="neither a clip folder"):
        ClipWindowDataset(tmp_path / "nowhere")
