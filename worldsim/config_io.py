"""Typed configs: a dataclass schema <- a YAML defaults file <- overrides, with errors naming the key.

The YAML files live in the repository's ``configs/``; ``worldsim/configs`` links to it, and the
wheel ships it there as package data, so ``config_path`` finds them in a checkout and installed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from worldsim.errors import UnknownOptionError, WorldsimError

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
    ``"{prefix}{file}: {key}: {reason}"``; in ``overrides`` (options a caller gave) as
    ``"{prefix}option {key!r}: {reason}"``, an unknown one as ``UnknownOptionError`` (when
    ``error`` admits it) listing the schema's options.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

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
        if str(source) == "<overrides>" and key:  # options given by a caller, not a file
            known = tuple(field.name for field in dataclasses.fields(schema))  # type: ignore[arg-type]
            if isinstance(exception, ConfigKeyError) and issubclass(UnknownOptionError, error):
                message = f"{prefix}unknown option {key!r}; its options are {', '.join(known)}"
                raise UnknownOptionError(message, option=str(key), known=known) from None
            raise error(f"{prefix}option {key!r}: {reason}") from None
        raise error(f"{prefix}{source}: {key}: {reason}" if key else f"{prefix}{source}: {reason}") from None
    return OmegaConf.to_object(config)
