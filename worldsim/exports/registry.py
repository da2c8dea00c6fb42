"""The table of export formats: one registry for ``worldsim export --format`` and ``worldsim dataset
--export`` (docs/ARCHITECTURE.md, "Table: exports").

A row names the function that writes the format (``"module:function"``, imported on first use so
the CLI stays fast), whether it exports one clip folder or a whole dataset folder, where its output
goes by default, the guidance maps it reads (``required_maps``: a dataset lists them in the scenes'
``render.guidance``), its options dataclass and the extra its library comes with.

Writers are called as ``write(source, out, options)``: ``source`` the clip (or dataset) folder,
``out`` the output path, ``options`` an instance of the row's options dataclass (or None).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worldsim.errors import ExportError

if TYPE_CHECKING:
    from worldsim.clip.clip import Clip


@dataclass(frozen=True)
class PointCloudOptions:
    """Options of the ``pointcloud`` export."""

    frame: str = "world"
    """Coordinate frame of the points: ``world`` (Z up), ``camera`` (OpenCV) or ``both`` (two folders)."""
    color: str = "auto"
    """``auto``: rgb colours when the clip has rgb frames; ``rgb``: required (an error without them);
    ``none``: positions (and entity ids) only."""


@dataclass(frozen=True)
class WebDatasetOptions:
    """Options of the ``webdataset`` export."""

    samples_per_shard: int = 1000
    """Frames per tar shard (the last shard holds the rest)."""


@dataclass(frozen=True)
class ExportFormat:
    """One row of ``EXPORT_TABLE``."""

    name: str
    writer: str
    """``"module:function"`` writing the format: ``function(source, out, options) -> Path``."""
    scope: str
    """``clip`` (one clip folder) or ``dataset`` (``DIR/clips/<id>/`` clip folders)."""
    default_out: str
    """Output path relative to the clip's exports folder (``clip``: ``<clip>/exports/``,
    ``worldsim.clip.layout.EXPORTS_FOLDER``) or to the dataset folder (``dataset``)."""
    required_maps: tuple[str, ...]
    """Guidance maps (``GUIDANCE_MAP_TABLE`` rows) every frame must hold; ``rgb`` for appearance."""
    description: str
    options: type | None = None
    extra: str | None = None
    """The pyproject extra its library comes with (None: a core dependency)."""

    def default_path(self, source: Path) -> Path:
        """Where the format of the clip (or dataset) folder ``source`` goes by default."""
        if self.scope == "dataset":
            return Path(source) / self.default_out
        from worldsim.clip.layout import EXPORTS_FOLDER

        return Path(source) / EXPORTS_FOLDER / self.default_out

    def load_writer(self) -> Callable[..., Path]:
        module, function = self.writer.split(":")
        return getattr(importlib.import_module(module), function)


EXPORT_TABLE: dict[str, ExportFormat] = {
    row.name: row
    for row in (
        ExportFormat(
            "coco",
            "worldsim.exports.coco:export_coco",
            "clip",
            "coco.json",
            ("instance", "visibility"),
            "COCO instances per frame: RLE masks (pycocotools), boxes from visibility.json, categories "
            "from the semantic classes, entity ids as track ids",
            extra="exports",
        ),
        ExportFormat(
            "boxes",
            "worldsim.exports.boxes:export_boxes",
            "clip",
            "boxes.json",
            ("visibility",),
            "per entity per frame: the 2D box of visibility.json and the oriented 3D box (mesh bounds and "
            "pose) in the world and camera frames",
        ),
        ExportFormat(
            "pointcloud",
            "worldsim.exports.pointcloud:export_pointcloud",
            "clip",
            "pointcloud",
            ("depth",),
            "PLY point cloud per frame from depth (exact when depth_exact was rendered), rgb colours and "
            "entity ids, world and/or camera frame",
            options=PointCloudOptions,
        ),
        ExportFormat(
            "exr",
            "worldsim.exports.exr:export_exr",
            "clip",
            "depth_exr",
            ("depth_exact",),
            "depth per frame as OpenEXR float32 (channel Z, metres along the optical axis, +inf background)",
        ),
        ExportFormat(
            "rerun",
            "worldsim.exports.rerun_recording:export_rerun_recording",
            "clip",
            "clip.rrd",
            (),
            "a Rerun recording (.rrd): rgb, depth, segmentation, flow, lighting maps, camera, entity boxes",
            extra="viewer",
        ),
        ExportFormat(
            "webdataset",
            "worldsim.exports.webdataset_shards:export_webdataset",
            "dataset",
            "webdataset",
            (),
            "WebDataset tar shards of every complete clip of a dataset: one sample per frame (its stored "
            "map files, camera, visibility, clip metadata) and shards.json",
            options=WebDatasetOptions,
            extra="exports",
        ),
    )
}
"""Format name -> row; the table's order is the help text's order."""

EXPORT_FORMATS = tuple(EXPORT_TABLE)
"""Every export format name."""
CLIP_FORMATS = tuple(name for name, row in EXPORT_TABLE.items() if row.scope == "clip")
DATASET_FORMATS = tuple(name for name, row in EXPORT_TABLE.items() if row.scope == "dataset")


def export_row(name: str) -> ExportFormat:
    """The row of format ``name``; ExportError naming the known formats otherwise."""
    row = EXPORT_TABLE.get(name)
    if row is None:
        import difflib

        close = difflib.get_close_matches(str(name), EXPORT_FORMATS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExportError(
            f"unknown export format {name!r}{hint}; known: {', '.join(EXPORT_FORMATS)}", key_path="format"
        )
    return row


def check_formats(formats: Sequence[str]) -> list[ExportFormat]:
    """The rows of ``formats`` (each once, in order); ExportError for an unknown name."""
    if isinstance(formats, str):
        raise TypeError("formats is a sequence of names, e.g. ['coco', 'boxes'], not a string")
    return [export_row(name) for name in dict.fromkeys(formats)]


def required_maps(formats: Sequence[str]) -> tuple[str, ...]:
    """The guidance maps (and ``rgb``) the clip formats among ``formats`` read: what a dataset's
    scenes must list in ``render.guidance`` for those exports."""
    rows = check_formats(formats)
    return tuple(dict.fromkeys(name for row in rows if row.scope == "clip" for name in row.required_maps))


def resolve_options(rows: Iterable[ExportFormat], options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Format name -> its options dataclass instance, from ``options`` (key -> value, applied to
    every format of ``rows`` that declares the key; strings are converted to the field's type).
    ExportError for a key none of them declares or a value of the wrong type."""
    rows = list(rows)
    options = dict(options or {})
    declared = {
        row.name: {field.name: field for field in dataclasses.fields(row.options)}
        for row in rows
        if row.options
    }
    unknown = [key for key in options if not any(key in fields for fields in declared.values())]
    if unknown:
        known = sorted({f"{name}.{key}" for name, fields in declared.items() for key in fields})
        raise ExportError(
            f"no selected format takes option {unknown[0]!r}; options: {', '.join(known) or 'none'}",
            key_path=f"option.{unknown[0]}",
        )
    resolved: dict[str, Any] = {}
    for row in rows:
        if row.options is None:
            resolved[row.name] = None
            continue
        values = {}
        for key, field in declared[row.name].items():
            if key in options:
                values[key] = _convert(options[key], field, row.name)
        resolved[row.name] = row.options(**values)
    return resolved


def _convert(value: Any, field: dataclasses.Field, format_name: str) -> Any:
    kind = type(field.default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        return kind(value)
    except (TypeError, ValueError):
        raise ExportError(
            f"expected {kind.__name__}, got {value!r}", key_path=f"option.{format_name}.{field.name}"
        ) from None


def _check_clip_folder(clip_dir: Path) -> None:
    if not clip_dir.exists():
        raise ExportError("no such clip folder", file=str(clip_dir))
    if not clip_dir.is_dir():
        raise ExportError("not a folder (a clip folder is expected)", file=str(clip_dir))
    for name in ("metadata.json", "trajectory.json"):
        if not (clip_dir / name).is_file():
            raise ExportError(f"not a clip folder (no {name})", file=str(clip_dir))


def check_clip_maps(clip_dir: Path, row: ExportFormat) -> None:
    """ExportError naming the first missing file when a frame lacks a map ``row`` reads."""
    from worldsim.clip.clip import Clip
    from worldsim.clip.layout import CLIP_FILES

    clip = Clip(clip_dir)
    frames = range(clip.num_frames)
    for name in row.required_maps:
        missing = clip.layout.incomplete_frames([name], frames)
        if not missing:
            continue
        if name in CLIP_FILES:
            path = clip.layout.clip_file(name)
            where = f"no entry for frame {missing[0]}" if path.is_file() else "missing"
        else:
            path = next(p for p in clip.layout.map_files(name, missing[0]) if not p.is_file())
            where = "missing"
        how = "render with an appearance renderer" if name == "rgb" else f"list {name!r} in render.guidance"
        raise ExportError(
            f"{where}: the {row.name} export reads the {name} map of every frame ({how})", file=str(path)
        )


def export_clip(clip_dir: Path, formats: Sequence[str], *, options: Mapping[str, Any] | None = None) -> None:
    """Write the clip-scope formats among ``formats`` for the clip folder ``clip_dir``, each to its
    ``default_path`` inside the clip (``<clip>/exports/...``), every file atomically.

    Dataset-scope formats (``webdataset``) in ``formats`` are left to ``export_dataset``, so one
    list serves both. Every name and option is checked before anything is written; ExportError
    names the file (or format) and reason for an unknown format, a missing clip folder or a map
    a format needs and the clip lacks.
    """
    clip_dir = Path(clip_dir)
    rows = [row for row in check_formats(formats) if row.scope == "clip"]
    resolved = resolve_options(rows, options)
    _check_clip_folder(clip_dir)
    for row in rows:
        check_clip_maps(clip_dir, row)
    for row in rows:
        row.load_writer()(clip_dir, row.default_path(clip_dir), resolved[row.name])


def export_clip_to(clip_dir: Path, name: str, out: Path, *, options: Mapping[str, Any] | None = None) -> Path:
    """Write the clip-scope format ``name`` of ``clip_dir`` to ``out`` (``worldsim export --out``)."""
    clip_dir = Path(clip_dir)
    row = export_row(name)
    if row.scope != "clip":
        raise ExportError(
            f"{name} exports a dataset folder (DIR/clips/<id>/...), not a clip folder", file=str(clip_dir)
        )
    resolved = resolve_options([row], options)
    _check_clip_folder(clip_dir)
    check_clip_maps(clip_dir, row)
    return row.load_writer()(clip_dir, Path(out), resolved[row.name])


def dataset_clips(dataset_dir: Path) -> list[Path]:
    """The clip folders of a dataset folder, ``DIR/clips/<id>/`` (sorted by id); ExportError when
    ``dataset_dir`` is not a dataset folder."""
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise ExportError("no such dataset folder", file=str(dataset_dir))
    clips = dataset_dir / "clips"
    if not clips.is_dir():
        raise ExportError("not a dataset folder (no clips/ folder of clip folders)", file=str(dataset_dir))
    return sorted(path for path in clips.iterdir() if (path / "metadata.json").is_file())


def stored_maps(clip: Clip) -> list[str]:
    """The maps a clip was rendered with: its ``settings.guidance``, plus ``rgb`` when an
    appearance renderer made it."""
    settings = clip.metadata.get("settings", {})
    return [*settings.get("guidance", []), *(["rgb"] if settings.get("appearance") else [])]


def complete_clips(dataset_dir: Path) -> tuple[list[Path], list[Path]]:
    """(complete, incomplete) clip folders of ``dataset_dir``: complete when every frame holds every
    map its metadata lists (and rgb when it was rendered with an appearance renderer)."""
    from worldsim.clip.clip import Clip

    complete, incomplete = [], []
    for path in dataset_clips(dataset_dir):
        clip = Clip(path)
        ok = (path / "trajectory.json").is_file() and not clip.layout.incomplete_frames(
            stored_maps(clip), range(clip.num_frames)
        )
        (complete if ok else incomplete).append(path)
    return complete, incomplete


def is_dataset_folder(path: Path) -> bool:
    """Whether ``path`` holds ``clips/`` (a ``worldsim dataset`` output) rather than one clip."""
    return (Path(path) / "clips").is_dir() and not (Path(path) / "metadata.json").is_file()


def export_dataset(
    dataset_dir: Path,
    formats: Sequence[str],
    *,
    options: Mapping[str, Any] | None = None,
    out: Path | None = None,
) -> None:
    """Write the dataset-scope formats among ``formats`` (``webdataset``) for the dataset folder
    ``dataset_dir`` (``DIR/clips/<id>/``), each to ``out`` or its ``default_out`` in the dataset.

    Clip-scope formats in ``formats`` are left to ``export_clip`` (run per clip).
    """
    dataset_dir = Path(dataset_dir)
    rows = [row for row in check_formats(formats) if row.scope == "dataset"]
    if out is not None and len(rows) > 1:
        raise ExportError("one output path for several dataset formats", key_path="out")
    resolved = resolve_options(rows, options)
    dataset_clips(dataset_dir)
    for row in rows:
        row.load_writer()(
            dataset_dir, Path(out) if out else row.default_path(dataset_dir), resolved[row.name]
        )
