"""Scene generators: any callable ``seed -> Scene``. A YAML scene file (randomised or not) is one
(``SceneFileGenerator``); ``GENERATORS`` names the built-in ones a dataset config can use.

A registered generator is a settings dataclass (its fields are the config's ``options``, checked
by omegaconf) and a factory from the settings to the callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from worldsim.datasets.random_scenes import RandomSceneConfig, RandomSceneGenerator
from worldsim.errors import DatasetError
from worldsim.scene.scene import Scene


class SceneGenerator(Protocol):
    """What a dataset renders: ``generator(seed)`` is a Scene (whose seed becomes ``seed``)."""

    def __call__(self, seed: int) -> Scene: ...


@dataclass(frozen=True)
class RegisteredGenerator:
    """A generator a dataset config can name: its settings type and how to build it."""

    settings: type
    build: Callable[[Any], SceneGenerator]
    description: str


GENERATORS: dict[str, RegisteredGenerator] = {
    "random_scenes": RegisteredGenerator(
        RandomSceneConfig,
        RandomSceneGenerator,
        "random procedural scenes (the diffusion renderer's training data): "
        "worldsim.datasets.random_scenes.RandomSceneConfig",
    ),
}


def build_generator(
    name: str, options: dict[str, Any], *, file: str | None = None, key_path: str = ""
) -> SceneGenerator:
    """The registered generator ``name`` with ``options`` over its settings' defaults."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    registered = GENERATORS.get(name)
    if registered is None:
        raise DatasetError(
            f"unknown generator {name!r}; known: {', '.join(GENERATORS)}",
            file=file,
            key_path=join(key_path, "name"),
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(registered.settings), options)
        settings = OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        key = str(getattr(error, "full_key", "") or "")
        reason = str(error).splitlines()[0]
        raise DatasetError(reason, file=file, key_path=join(join(key_path, "options"), key)) from None
    problems = settings.problems() if hasattr(settings, "problems") else []
    if problems:
        raise DatasetError(
            problems[0][1],
            issues=[(file, join(join(key_path, "options"), key), reason) for key, reason in problems],
        )
    return registered.build(settings)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and key else path or key


class SceneFileGenerator:
    """A YAML scene file as a generator: ``generator(seed)`` loads it with its ``seed`` replaced,
    so its distributions are drawn for that seed (``worldsim.scene.distributions``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().resolve()

    def __call__(self, seed: int) -> Scene:
        from worldsim.scene.yaml_io import load_scene

        return load_scene(self.path, seed=seed)

    def __repr__(self) -> str:
        return f"SceneFileGenerator({str(self.path)!r})"
