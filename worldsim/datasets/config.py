"""Dataset configs: what ``worldsim dataset`` renders, as a typed omegaconf schema and its loader.

A config file (YAML) holds the keys of ``DatasetConfig``; command-line flags override them. It is
told apart from a scene file by its ``scenes`` or ``generators`` key. ``DIR/dataset.yaml`` is the
resolved config of a dataset (scene paths absolute, flags applied), loadable as is.

```yaml
scenes: [../scenes/random_balls.yaml]      # relative to this file
generators: [{name: random_scenes, id: random, options: {size: [64, 64], num_frames: 16}}]
seeds: "0:100"
renderer: flat                             # or guidance_only: true
exports: [coco, boxes]
workers: 2
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldsim.errors import DatasetError

CLIP_SETTINGS = ("renderer", "guidance_only", "options", "camera", "resolution", "num_frames")
"""Settings every clip of a dataset folder shares: a re-run with others is refused."""


@dataclass
class GeneratorSource:
    """A registered scene generator (``worldsim.datasets.generators.GENERATORS``)."""

    name: str = "random_scenes"
    id: str = ""
    """The clip-id stem, ``<id>-<seed>`` (default: ``name``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The generator's settings (``random_scenes``: ``RandomSceneConfig`` fields)."""


@dataclass
class ResourceConfig:
    """What each clip's Ray task declares (the scheduler runs as many at once as fit)."""

    num_cpus: float = 1.0
    memory_mb: int = 0
    """0: not declared."""
    num_gpus: float = 0.0


@dataclass
class DatasetConfig:
    """Every scene (file or generator) rendered at every seed: one clip each, ``<stem>-<seed>``."""

    scenes: list[str] = field(default_factory=list)
    """Scene files (randomised or not), relative to the config file or absolute."""
    generators: list[GeneratorSource] = field(default_factory=list)
    seeds: Any = "0:1"
    """``"A:B"`` (A to B-1), one integer, or a list of integers: each clip's ``scene.seed``."""
    renderer: str = "default"
    """An appearance renderer, as ``worldsim render --renderer`` (``default``: the scene's)."""
    guidance_only: bool = False
    """Only the guidance maps (no appearance renderer)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Renderer options (``--option KEY=VALUE``)."""
    camera: str | None = None
    """The camera to render (default: each scene's first)."""
    resolution: list[int] | None = None
    """``[width, height]`` over every scene's own."""
    num_frames: int | None = None
    """Frames per clip over every scene's own."""
    exports: list[str] = field(default_factory=list)
    """Export formats (``worldsim.exports.registry``): per clip, and dataset-wide ones at the end."""
    workers: int = 0
    """Local Ray CPUs, one clip per CPU at a time (0: every core of this machine)."""
    address: str | None = None
    """An existing Ray cluster (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``) instead of a local Ray."""
    threads_per_worker: int = 1
    """Threads of torch, numba, OpenMP and Embree in each worker."""
    max_retries: int = 2
    """Attempts after the first for a clip whose worker died or raised."""
    resources: ResourceConfig = field(default_factory=ResourceConfig)


def is_dataset_config(path: Path) -> bool:
    """Whether the YAML file ``path`` is a dataset config (a mapping with ``scenes`` or
    ``generators``) rather than a scene file."""
    import yaml

    try:
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and ("scenes" in data or "generators" in data) and "entities" not in data


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """The config of ``path`` with its scene paths made absolute; DatasetError naming file, key
    and reason for a bad key or value (omegaconf checks the types)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(path).expanduser().resolve()
    try:
        loaded = OmegaConf.load(path)
        merged = OmegaConf.merge(OmegaConf.structured(DatasetConfig), loaded)
        config: DatasetConfig = OmegaConf.to_object(merged)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        key = str(getattr(error, "full_key", "") or "")
        raise DatasetError(str(error).splitlines()[0], file=str(path), key_path=key) from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read the dataset config: {error}", file=str(path)) from None
    config.scenes = [str((path.parent / scene).expanduser().resolve()) for scene in config.scenes]
    check_config(config, str(path))
    return config


def check_config(config: DatasetConfig, file: str | None = None, *, other_sources: int = 0) -> None:
    """DatasetError listing every problem of ``config`` that can be seen without rendering
    (``other_sources``: generators given besides the config, from Python)."""
    problems: list[tuple[str, str]] = []
    if not config.scenes and not config.generators and not other_sources:
        problems.append(("scenes", "name at least one scene file or generator"))
    if config.workers < 0:
        problems.append(("workers", f"must be >= 0 (0: every core), got {config.workers}"))
    if config.threads_per_worker < 1:
        problems.append(("threads_per_worker", f"must be >= 1, got {config.threads_per_worker}"))
    if config.max_retries < 0:
        problems.append(("max_retries", f"must be >= 0, got {config.max_retries}"))
    if config.resolution is not None and (len(config.resolution) != 2 or min(config.resolution) < 1):
        problems.append(
            ("resolution", f"expected [width, height] of positive integers, got {config.resolution}")
        )
    if config.num_frames is not None and config.num_frames < 1:
        problems.append(("num_frames", f"must be >= 1, got {config.num_frames}"))
    if config.resources.num_cpus <= 0:
        problems.append(("resources.num_cpus", f"must be > 0, got {config.resources.num_cpus}"))
    if config.resources.memory_mb < 0 or config.resources.num_gpus < 0:
        problems.append(("resources", "memory_mb and num_gpus must be >= 0"))
    for index, scene in enumerate(config.scenes):
        if not Path(scene).is_file():
            problems.append((f"scenes[{index}]", f"scene file not found: {scene}"))
    if problems:
        raise DatasetError(problems[0][1], issues=[(file, key, reason) for key, reason in problems])


def config_to_yaml(config: DatasetConfig) -> str:
    """The config as YAML text (``DIR/dataset.yaml``)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(config))


def clip_settings(config: DatasetConfig) -> dict[str, Any]:
    """The settings every clip of the dataset shares (``CLIP_SETTINGS``)."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(OmegaConf.structured(config))
    assert isinstance(data, dict)
    return {key: data[key] for key in CLIP_SETTINGS}


def check_same_clip_settings(config: DatasetConfig, dataset_yaml: Path) -> None:
    """DatasetError when ``dataset_yaml`` (an earlier run's config) rendered its clips with other
    ``CLIP_SETTINGS``, or exports that need other maps: its clips would not match (seeds, scenes
    and exports reading the same maps may change)."""
    if not dataset_yaml.is_file():
        return
    old = load_dataset_config_loosely(dataset_yaml)
    if old is None:
        return
    from worldsim.datasets.exports import maps_for_exports

    new = clip_settings(config)
    differ = [key for key in CLIP_SETTINGS if old.get(key) != new[key]]
    # exports may change, except where the maps they make every clip render would
    new["exports"] = list(config.exports)
    if set(maps_for_exports(old["exports"])) != set(maps_for_exports(new["exports"])):
        differ.append("exports")
    if differ:
        detail = ", ".join(f"{key}: {old.get(key)!r} then, {new[key]!r} now" for key in differ)
        raise DatasetError(
            f"its clips were rendered with other settings ({detail}); choose another --out",
            file=str(dataset_yaml),
        )


def load_dataset_config_loosely(path: Path) -> dict[str, Any] | None:
    """The clip settings and exports of an existing ``dataset.yaml`` (None: unreadable)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    defaults = clip_settings(DatasetConfig())
    settings = {key: data.get(key, defaults[key]) for key in CLIP_SETTINGS}
    settings["exports"] = list(data.get("exports") or [])
    return settings
