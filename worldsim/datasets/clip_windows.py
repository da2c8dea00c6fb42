"""``ClipWindowDataset``: clip folders as a ``torch.utils.data.Dataset`` of (frames, guidance, labels)
windows of ``window`` consecutive frames (the ``ml`` extra: torch).

Item ``i`` is one window of one clip, read from disk on demand (workers of a ``DataLoader`` each
read their own windows):

- ``frames``: (T, 3, H, W) float32 sRGB in [0, 1] from ``rgb/`` ((T, 0, H, W) with ``rgb=False``).
- ``guidance``: field name -> tensor, for every field of the listed guidance maps
  (``GUIDANCE_MAP_TABLE``): (T, H, W) maps become (T, 1, H, W), (T, H, W, C) become (T, C, H, W);
  float32 (``depth`` metres, +inf background, as stored), bool for validity masks.
- ``labels``: ``instance`` / ``semantic`` (T, H, W) int64 ids (0 = background); with ``boxes``
  (read from ``visibility.json``): ``entity_ids`` (E,) int64, ``boxes`` (T, E, 4) float32 half-open
  pixel ``[x0, y0, x1, y1]`` of each entity's visible part (NaN where not visible) and
  ``visible_fraction`` (T, E) float32, over the clip's entities padded to ``max_entities`` (id 0).
- ``clip`` (the clip folder's name) and ``start`` (the window's first frame).

Every clip is checked when the dataset is built: a missing file raises ``ClipFolderError`` naming
it, so a bad clip fails at once rather than in a worker mid-epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from worldsim.clip.clip import Clip
from worldsim.clip.guidance_maps import GUIDANCE_MAP_TABLE
from worldsim.clip.metadata import ClipFolderError
from worldsim.errors import MissingExtraError
from worldsim.exports.frame_visibility import ClipVisibility

try:
    import torch
    from torch.utils.data import Dataset
except ImportError as _error:
    raise MissingExtraError("torch", "ml", _error) from None

DEFAULT_GUIDANCE = ("depth", "normal")
"""Guidance maps a window holds unless told otherwise."""


def find_clips(sources: str | Path | Sequence[str | Path]) -> list[Path]:
    """Clip folders of ``sources``: each a clip folder or a dataset folder (``DIR/clips/<id>/``)."""
    if isinstance(sources, str | Path):
        sources = [sources]
    clips: list[Path] = []
    for source in map(Path, sources):
        if (source / "metadata.json").is_file():
            clips.append(source)
        elif (source / "clips").is_dir():
            clips += sorted(
                path for path in (source / "clips").iterdir() if (path / "metadata.json").is_file()
            )
        else:
            raise ClipFolderError(
                f"{source}: neither a clip folder (metadata.json) nor a dataset folder (clips/)"
            )
    if not clips:
        raise ClipFolderError(f"{', '.join(map(str, sources))}: no clip folders")
    return clips


class ClipWindowDataset(Dataset):
    """Windows of ``window`` frames, every ``stride`` frames (default ``window``: no overlap), of the
    clip folders in ``sources`` (clip or dataset folders); clips shorter than ``window`` give none.

    guidance: guidance map names (``GUIDANCE_MAP_TABLE`` rows with per-frame files).
    rgb: include the appearance frames (the clips must have them).
    boxes: include per-entity boxes from ``visibility.json``.
    max_entities: pad the entity axis to this many (so clips with different entity counts batch);
      None = each clip's own count.
    """

    def __init__(
        self,
        sources: str | Path | Sequence[str | Path],
        window: int = 8,
        stride: int | None = None,
        guidance: Sequence[str] = DEFAULT_GUIDANCE,
        rgb: bool = True,
        boxes: bool = True,
        max_entities: int | None = None,
    ) -> None:
        if window < 1 or (stride is not None and stride < 1):
            raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
        for name in guidance:
            row = GUIDANCE_MAP_TABLE.get(name)
            if row is None or row.clip_file is not None:
                known = [key for key, value in GUIDANCE_MAP_TABLE.items() if value.clip_file is None]
                raise ValueError(f"guidance map {name!r} is not a per-frame map; known: {', '.join(known)}")
        self.window, self.stride = window, stride or window
        self.guidance, self.rgb, self.boxes, self.max_entities = tuple(guidance), rgb, boxes, max_entities
        self.clips = [Clip(path) for path in find_clips(sources)]
        self._visibility: dict[Path, ClipVisibility] = {}
        needed = [*self.guidance, "instance", "semantic", *(["rgb"] if rgb else [])]
        needed += ["visibility"] if boxes else []
        self.windows: list[tuple[int, int]] = []
        for index, clip in enumerate(self.clips):
            self._check(clip, needed)
            starts = range(0, clip.num_frames - window + 1, self.stride)
            self.windows += [(index, start) for start in starts]

    def _check(self, clip: Clip, maps: list[str]) -> None:
        frames = range(clip.num_frames)
        for name in maps:
            missing = clip.layout.incomplete_frames([name], frames)
            if missing:
                path = (
                    clip.layout.clip_file(name)
                    if name == "visibility"
                    else next(p for p in clip.layout.map_files(name, missing[0]) if not p.is_file())
                )
                raise ClipFolderError(
                    f"{path}: missing frame {missing[0]} of the {name} map this dataset reads"
                )
        if self.boxes and self.max_entities is not None and len(clip.entity_table()) > self.max_entities:
            raise ClipFolderError(
                f"{clip.layout.metadata_json}: {len(clip.entity_table())} entities, over max_entities="
                f"{self.max_entities}"
            )

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip_index, start = self.windows[index]
        clip = self.clips[clip_index]
        frames = range(start, start + self.window)
        height, width = clip.instance(start).shape
        if self.rgb:
            rgb = np.stack([clip.rgb(frame) for frame in frames]).astype(np.float32) / 255.0
            images = torch.from_numpy(rgb).permute(0, 3, 1, 2).contiguous()
        else:
            images = torch.zeros((self.window, 0, height, width), dtype=torch.float32)
        guidance: dict[str, Any] = {}
        for name in self.guidance:
            per_frame = [clip.map(name, frame) for frame in frames]
            for field in per_frame[0]:
                guidance[field] = _channels_first(np.stack([maps[field] for maps in per_frame]))
        labels: dict[str, Any] = {
            kind: torch.from_numpy(
                np.stack([getattr(clip, kind)(frame) for frame in frames]).astype(np.int64)
            )
            for kind in ("instance", "semantic")
        }
        if self.boxes:
            labels.update(self._boxes(clip, frames))
        return {
            "frames": images,
            "guidance": guidance,
            "labels": labels,
            "clip": clip.path.name,
            "start": start,
        }

    def _boxes(self, clip: Clip, frames: range) -> dict[str, Any]:
        ids = [int(row["id"]) for row in clip.entity_table()]
        count = self.max_entities or len(ids)
        column = {entity_id: position for position, entity_id in enumerate(ids)}
        boxes = np.full((len(frames), count, 4), np.nan, dtype=np.float32)
        fraction = np.zeros((len(frames), count), dtype=np.float32)
        visibility = self._visibility.get(clip.path)
        if visibility is None:
            visibility = self._visibility[clip.path] = ClipVisibility(clip)  # parsed once per clip
        for step, frame in enumerate(frames):
            for row in visibility.rows(frame).values():
                fraction[step, column[row.entity_id]] = row.visible_fraction
                if row.bbox is not None:
                    boxes[step, column[row.entity_id]] = row.bbox
        entity_ids = np.zeros(count, dtype=np.int64)
        entity_ids[: len(ids)] = ids
        return {
            "entity_ids": torch.from_numpy(entity_ids),
            "boxes": torch.from_numpy(boxes),
            "visible_fraction": torch.from_numpy(fraction),
        }


def _channels_first(stacked: np.ndarray) -> torch.Tensor:
    """(T, H, W) -> (T, 1, H, W); (T, H, W, C) -> (T, C, H, W); float16 becomes float32."""
    if stacked.dtype == np.float16:
        stacked = stacked.astype(np.float32)
    tensor = torch.from_numpy(np.ascontiguousarray(stacked))
    return tensor.unsqueeze(1) if tensor.ndim == 3 else tensor.permute(0, 3, 1, 2).contiguous()
