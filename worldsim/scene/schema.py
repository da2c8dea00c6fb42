"""Typed conversion between plain data (dicts, lists, scalars from YAML) and the scene dataclasses.

Generic over the dataclasses' type hints, so fields added later with defaults need no change here.
Every problem is collected as ``(key_path, reason)``; conversion carries on past bad values (they
keep their defaults) so one pass reports all of them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from functools import cache
from typing import Any, Union

VECTOR_LENGTHS: dict[str, int] = {
    "position": 3, "look_at": 3, "center": 3, "euler_deg": 3, "quat_xyzw": 4, "base_color": 3,
    "color": 3, "color_a": 3, "color_b": 3, "emission": 3, "linear_velocity": 3,
    "angular_velocity_deg": 3, "axis": 3, "up": 3, "gravity": 3, "direction": 3, "offset": 3,
    "resolution": 2, "points": 3, "scale": 3, "LightSpec.size": 2,
}  # fmt: skip
"""Required list lengths, keyed by field name or ``Class.field``; ``points`` applies per point."""

NOT_SERIALISED = frozenset({"source_file"})
"""Fields that live only in Python (never read from or written to YAML)."""

Issue = tuple[str, str]


@cache
def field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved type hint of a dataclass (serialised fields only)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in NOT_SERIALISED}


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def join_path(path: str, key: str | int) -> str:
    """``entities`` + 3 -> ``entities[3]``; ``motion`` + ``type`` -> ``motion.type``; a key that
    is not a plain name is quoted: ``materials`` + ``red metal`` -> ``materials['red metal']``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.fullmatch(key):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def type_name(value: Any) -> str:
    """A user-facing name of a YAML value's type."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)  # fmt: skip


def _describe(tp: Any) -> str:
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "a boolean (true/false)"
    if tp is str:
        return "a string"
    if dataclasses.is_dataclass(tp):
        return f"a mapping ({tp.__name__})"
    origin = typing.get_origin(tp)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def from_data(cls: type, data: Any, path: str = "", issues: list[Issue] | None = None) -> Any:
    """Build a ``cls`` dataclass from plain data, appending ``(key_path, reason)`` to ``issues``.

    Raises nothing for bad input; callers check ``issues``.
    """
    if issues is None:
        issues = []
    return _convert(data, cls, path, "", issues)


def _convert(value: Any, tp: Any, path: str, field_key: str, issues: list[Issue]) -> Any:
    """Convert ``value`` to type ``tp``; returns ``_INVALID`` after recording an issue."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _convert_union(value, tp, path, field_key, issues)
    if dataclasses.is_dataclass(tp):
        return _convert_dataclass(value, tp, path, issues)
    if origin is list:
        return _convert_list(value, typing.get_args(tp)[0], path, field_key, issues)
    if origin is dict:
        return _convert_dict(value, typing.get_args(tp), path, field_key, issues)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            issues.append((path, f"expected a number, got {type_name(value)} {value!r}"))
            return _INVALID
        if not math.isfinite(value):
            issues.append((path, f"non-finite number {value!r} (NaN and infinity are not allowed)"))
            return _INVALID
        return float(value)
    if tp is int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            issues.append((path, f"expected an integer, got {type_name(value)} {value!r}"))
            return _INVALID
        return value
    if tp is bool:
        if not isinstance(value, bool):
            issues.append((path, f"expected a boolean (true/false), got {type_name(value)} {value!r}"))
            return _INVALID
        return value
    if tp is str:
        if not isinstance(value, str):
            issues.append((path, f"expected a string, got {type_name(value)} {value!r}"))
            return _INVALID
        return value
    if tp is object or tp is Any:
        _check_plain(value, path, issues)
        return value
    raise TypeError(f"schema: unsupported field type {tp!r} at {path}")


class _Invalid:
    """Marker for a value that failed conversion (the field keeps its default)."""

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID = _Invalid()


def _convert_union(value: Any, tp: Any, path: str, field_key: str, issues: list[Issue]) -> Any:
    args = typing.get_args(tp)
    if value is None:
        if type(None) in args:
            return None
        issues.append((path, f"expected {_describe(tp)}, got null"))
        return _INVALID
    candidates = [arg for arg in args if arg is not type(None)]
    if len(candidates) == 1:
        return _convert(value, candidates[0], path, field_key, issues)
    # Pick the member matching the value's shape (e.g. ``MaterialSpec | str``).
    for arg in candidates:
        if _shape_matches(value, arg):
            return _convert(value, arg, path, field_key, issues)
    issues.append((path, f"expected {_describe(tp)}, got {type_name(value)} {value!r}"))
    return _INVALID


def _shape_matches(value: Any, tp: Any) -> bool:
    if dataclasses.is_dataclass(tp) or typing.get_origin(tp) is dict:
        return isinstance(value, dict)
    if typing.get_origin(tp) is list:
        return isinstance(value, list)
    if tp is str:
        return isinstance(value, str)
    if tp is bool:
        return isinstance(value, bool)
    if tp in (int, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


def _convert_dataclass(value: Any, cls: type, path: str, issues: list[Issue]) -> Any:
    if not isinstance(value, dict):
        issues.append((path, f"expected {_describe(cls)}, got {type_name(value)} {value!r}"))
        return _INVALID
    hints = field_types(cls)
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        key_path = join_path(path, str(key))
        if not isinstance(key, str) or key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed keys: {', '.join(hints)}"
            issues.append((key_path, f"unknown key {str(key)!r}{hint}"))
            continue
        vector_key = f"{cls.__name__}.{key}"
        field_key = vector_key if vector_key in VECTOR_LENGTHS else key
        converted = _convert(item, hints[key], key_path, field_key, issues)
        if converted is not _INVALID:
            kwargs[key] = converted
    return cls(**kwargs)


def _convert_list(value: Any, item_type: Any, path: str, field_key: str, issues: list[Issue]) -> Any:
    if not isinstance(value, list):
        issues.append((path, f"expected a list, got {type_name(value)} {value!r}"))
        return _INVALID
    nested = typing.get_origin(item_type) is list
    length = VECTOR_LENGTHS.get(field_key)
    if length is not None and not nested and item_type in (float, int) and len(value) != length:
        issues.append((path, f"expected a list of {length} numbers, got {len(value)}"))
        return _INVALID
    out = []
    ok = True
    for index, item in enumerate(value):
        converted = _convert(item, item_type, join_path(path, index), field_key if nested else "", issues)
        ok = ok and converted is not _INVALID
        out.append(converted)
    return out if ok else _INVALID


def _convert_dict(value: Any, args: tuple, path: str, field_key: str, issues: list[Issue]) -> Any:
    if not isinstance(value, dict):
        issues.append((path, f"expected a mapping, got {type_name(value)} {value!r}"))
        return _INVALID
    key_type, value_type = args
    out = {}
    ok = True
    for key, item in value.items():
        if key_type is str and not isinstance(key, str):
            issues.append((join_path(path, str(key)), f"expected a string key, got {type_name(key)}"))
            ok = False
            continue
        converted = _convert(item, value_type, join_path(path, str(key)), "", issues)
        ok = ok and converted is not _INVALID
        out[key] = converted
    return out if ok else _INVALID


def _check_plain(value: Any, path: str, issues: list[Issue]) -> None:
    """Free-form data (``renderer_options``): plain YAML types with finite numbers only."""
    if isinstance(value, float) and not math.isfinite(value):
        issues.append((path, f"non-finite number {value!r} (NaN and infinity are not allowed)"))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, join_path(path, str(key)), issues)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_plain(item, join_path(path, index), issues)
    elif value is not None and not isinstance(value, str | int | float | bool):
        issues.append((path, f"unsupported value of type {type(value).__name__}"))


def to_data(obj: Any, *, omit_defaults: bool = False) -> Any:
    """Plain data (dicts, lists, scalars) of a dataclass tree, lossless for ``from_data``.

    Omits ``source_file`` and ``None`` fields whose default is ``None``; with ``omit_defaults``
    also every field of a nested dataclass that equals its default (the top level stays explicit).
    """
    return _to_data(obj, omit_defaults=omit_defaults, top=True)


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _INVALID


def _to_data(obj: Any, *, omit_defaults: bool, top: bool = False) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            if f.name in NOT_SERIALISED:
                continue
            value = getattr(obj, f.name)
            if value is None and f.default is None:
                continue
            if omit_defaults and not top and value == _default_of(f):
                continue
            out[f.name] = _to_data(value, omit_defaults=omit_defaults)
        return out
    if isinstance(obj, list | tuple):
        return [_to_data(item, omit_defaults=omit_defaults) for item in obj]
    if isinstance(obj, dict):
        return {key: _to_data(item, omit_defaults=omit_defaults) for key, item in obj.items()}
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return obj.tolist()
    return obj


to_dict = to_data
