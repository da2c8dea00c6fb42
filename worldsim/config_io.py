"""Typed configs: a dataclass schema <- a YAML defaults file <- overrides, with errors naming the key.

The YAML files live in the repository's ``configs/``; ``worldsim/configs`` links to it, and the
wheel ships it there as package data, so ``config_path`` finds them in a checkout and installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from worldsim.errors import WorldsimError

T = TypeVar("T")

CONFIG_DIR = (Path(__file__).resolve().parent / "configs").resolve()
"""``configs/`` of the checkout (through the ``worldsim/configs`` link) or of the installed wheel."""


def config_path(*parts: str) -> Path:
    """A file under ``configs/``, e.g. ``config_path("diffusion", "render.yaml")``."""
    return CONFIG_DIR.joinpath(*parts)


def load_structured(
    schema: type[T],
    defaults: Path,
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    error: type[WorldsimError] = WorldsimError,
    prefix: str = "",
) -> T:
    """``schema`` <- ``path`` (default ``defaults`` when that file exists) <- ``overrides``.

    Unknown keys, wrong types and unreadable files raise ``error`` as
    ``"{prefix}{source}: {key}: {reason}"``, where source is the file or "<overrides>".
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    config = OmegaConf.structured(schema)
    source = Path(path) if path is not None else defaults
    try:
        if path is not None or source.is_file():
            config = OmegaConf.merge(config, OmegaConf.load(source))
        if overrides:
            source = Path("<overrides>")
            config = OmegaConf.merge(config, OmegaConf.create(dict(overrides)))
    except FileNotFoundError:
        raise error(f"{prefix}{source}: config file not found") from None
    except OmegaConfBaseException as exception:
        key = getattr(exception, "full_key", "") or ""
        reason = str(exception).splitlines()[0]
        raise error(f"{prefix}{source}: {key}: {reason}" if key else f"{prefix}{source}: {reason}") from None
    return OmegaConf.to_object(config)
