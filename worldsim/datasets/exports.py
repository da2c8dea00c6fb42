"""The dataset's side of the export registry (``worldsim.exports.registry``, shared with
``worldsim export``): format names checked before any clip starts, each finished clip exported in
its worker, dataset-wide formats (WebDataset shards) written once at the end.

The registry is imported on first use, so a dataset without ``--export`` never loads it.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from worldsim.errors import DatasetError

REGISTRY_MODULE = "worldsim.exports.registry"
KNOWN_FORMATS = ("coco", "boxes", "pointcloud", "exr", "webdataset")
"""The formats of issue 19, for checking names where the registry is not installed."""


def _registry() -> ModuleType | None:
    try:
        return importlib.import_module(REGISTRY_MODULE)
    except ModuleNotFoundError as error:
        if error.name not in (REGISTRY_MODULE, "worldsim.exports"):
            raise
        return None


def export_format_names() -> tuple[str, ...]:
    """The export formats a dataset can ask for."""
    registry = _registry()
    return tuple(registry.EXPORT_FORMATS) if registry is not None else KNOWN_FORMATS


def check_exports(names: Sequence[str], *, file: str | None = None, key_path: str = "exports") -> list[str]:
    """``names`` (each once, in order); DatasetError for an unknown name, or for any name when the
    export registry is not installed."""
    known = export_format_names()
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    for index, name in enumerate(chosen):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DatasetError(
                f"unknown export format {name!r}{hint}; known: {', '.join(known)}",
                file=file,
                key_path=f"{key_path}[{index}]",
            )
    if chosen and _registry() is None:
        raise DatasetError(
            f"exports need {REGISTRY_MODULE}, which this installation lacks", file=file, key_path=key_path
        )
    return chosen


def maps_for_exports(names: Sequence[str]) -> list[str]:
    """Guidance maps the exports read, which every clip then renders (``rgb`` is left out: it
    comes from the appearance renderer)."""
    registry = _registry()
    if not names or registry is None or not hasattr(registry, "required_maps"):
        return []
    return [name for name in registry.required_maps(list(names)) if name != "rgb"]


def export_clip_formats(clip_dir: Path, names: Sequence[str]) -> None:
    """Write the per-clip formats among ``names`` into the clip folder ``clip_dir``."""
    registry = _registry()
    if names and registry is not None:
        registry.export_clip(Path(clip_dir), list(names))


def export_dataset_formats(dataset_dir: Path, names: Sequence[str]) -> None:
    """Write the dataset-wide formats among ``names`` (WebDataset shards) of ``dataset_dir``."""
    registry = _registry()
    if names and registry is not None and hasattr(registry, "export_dataset"):
        registry.export_dataset(Path(dataset_dir), list(names))
