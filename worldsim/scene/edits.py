"""Edits as data: changes to a scene written as key paths, from an edit file or ``--set``.

An edit file (YAML) is a list of edits, applied in order::

    - set: entities[ball].material.base_color   # change a material
      value: [0.1, 0.8, 0.2]
    - set: entities[ball].pose.position          # move an entity
      value: [1.0, 0.0, 0.3]
    - set: entities[cart].motion.period          # retime a motion
      value: 6.0
    - set: lights[0].intensity                   # change the light
      value: 5.0
    - remove: entities[lamp]                     # remove an entity (its id is not reused)

A key path names scene keys separated by dots; a list item is selected by index or by its
``name`` in brackets (``entities[ball]``, ``lights[0]``, ``cameras[main]``) or as a dotted segment
(``entities.ball``). ``--set KEY.PATH=VALUE`` is one ``set`` edit, VALUE parsed as YAML. The edited
scene is validated like a scene file; every problem names the edit (file and position) and key path.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.errors import SceneError

OPERATIONS = ("set", "remove")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\[\]]*)\]")


class EditError(SceneError):
    """An edit that cannot be applied: names the edit's source (file or ``--set``), key path, reason."""


@dataclass(frozen=True)
class Edit:
    """One change: ``operation`` (``set`` | ``remove``) at ``key_path``; ``value`` for ``set``.

    source: where the edit came from, for messages (``edits.yaml: [2]`` or ``--set``)."""

    operation: str
    key_path: str
    value: Any = None
    source: str = "--set"


def parse_set(text: str) -> Edit:
    """``"key.path=value"`` -> a ``set`` edit (value parsed as YAML)."""
    import yaml

    key, separator, value_text = text.partition("=")
    if not separator or not key.strip():
        raise EditError(f"expected KEY.PATH=VALUE, got {text!r}", file="--set")
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError as error:
        raise EditError(f"cannot parse value {value_text!r}: {error}", file="--set", key_path=key) from None
    return Edit("set", key.strip(), value, source="--set")


def load_edits(path: str | Path) -> list[Edit]:
    """The edits of an edit file (a YAML list, or a mapping with an ``edits`` list)."""
    from worldsim.scene.yaml_io import parse_yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise EditError(f"cannot read the edit file ({error.strerror or error})", file=str(path)) from None
    content = [
        line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    if content and content[0].startswith("-"):  # a bare list: parse it as the value of ``edits``
        text = "edits:\n" + "\n".join(f"  {line}" for line in text.splitlines())
    data: Any = parse_yaml(text, str(path))
    items = data.get("edits") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EditError("an edit file is a list of edits (or a mapping with an 'edits' list)", file=str(path))
    edits = []
    for index, item in enumerate(items):
        where = f"[{index}]"
        if not isinstance(item, dict):
            raise EditError(
                "an edit is a mapping like {set: KEY.PATH, value: V}", file=str(path), key_path=where
            )
        operations = [name for name in OPERATIONS if name in item]
        unknown = [key for key in item if key not in (*OPERATIONS, "value")]
        if unknown or len(operations) != 1:
            hint = _did_you_mean(str(unknown[0]), [*OPERATIONS, "value"]) if unknown else ""
            raise EditError(
                f"an edit has exactly one of {', '.join(OPERATIONS)} (and 'value' with 'set')"
                + (f"; unknown key {unknown[0]!r}{hint}" if unknown else ""),
                file=str(path),
                key_path=where,
            )
        operation = operations[0]
        if not isinstance(item[operation], str) or not item[operation].strip():
            raise EditError(
                f"'{operation}' takes a key path", file=str(path), key_path=f"{where}.{operation}"
            )
        if operation == "set" and "value" not in item:
            raise EditError("a 'set' edit needs a 'value'", file=str(path), key_path=where)
        if operation == "remove" and "value" in item:
            raise EditError("a 'remove' edit takes no 'value'", file=str(path), key_path=where)
        edits.append(Edit(operation, item[operation].strip(), item.get("value"), source=f"{path}: {where}"))
    return edits


def split_key_path(key_path: str, source: str = "--set") -> list[str]:
    """``entities[ball].material.base_color`` -> ``["entities", "[ball]", "material", "base_color"]``."""
    segments, position = [], 0
    text = key_path.strip()
    while position < len(text):
        if text[position] == "." and position > 0:
            position += 1
        match = _SEGMENT.match(text, position)
        if match is None:
            raise EditError(f"malformed key path {key_path!r}", file=source, key_path=key_path)
        name, selector = match.groups()
        segments.append(name if name is not None else f"[{selector.strip()}]")
        position = match.end()
    if not segments or segments[0].startswith("["):
        raise EditError(f"malformed key path {key_path!r}", file=source, key_path=key_path)
    return segments


def apply_edits(scene: Any, edits: Sequence[Edit]) -> Any:
    """A new, validated ``Scene``: ``scene`` with ``edits`` applied in order (``scene`` unchanged)."""
    from worldsim.scene.yaml_io import scene_from_data, scene_to_data

    data = copy.deepcopy(scene_to_data(scene))
    for edit in edits:
        _apply(data, edit)
    base_dir = Path(scene.source_file).parent if scene.source_file else None
    sources = ", ".join(dict.fromkeys(edit.source for edit in edits)) or "no edits"
    try:
        edited = scene_from_data(data, source_name=f"scene after edits ({sources})", base_dir=base_dir)
    except SceneError as error:
        raise EditError(error.reason, issues=error.issues) from None
    edited.source_file = scene.source_file
    return edited


def _apply(data: dict[str, Any], edit: Edit) -> None:
    segments = split_key_path(edit.key_path, edit.source)
    parent: Any = data
    walked: list[str] = []
    for segment in segments[:-1]:
        parent = _child(parent, segment, walked, edit, create=edit.operation == "set")
        walked.append(segment)
    last = segments[-1]
    if edit.operation == "remove":
        if not isinstance(parent, list):
            raise EditError(
                "only list items (an entity, a light, a camera, a key) can be removed",
                file=edit.source,
                key_path=edit.key_path,
            )
        parent.pop(_index(parent, last, walked, edit))
        return
    if isinstance(parent, list):
        parent[_index(parent, last, walked, edit)] = edit.value
    elif isinstance(parent, dict):
        parent[last.strip("[]")] = edit.value
    else:
        raise EditError(
            f"{_path(walked)} is {parent!r}, not a section", file=edit.source, key_path=edit.key_path
        )


def _child(parent: Any, segment: str, walked: list[str], edit: Edit, *, create: bool) -> Any:
    if isinstance(parent, list):
        return parent[_index(parent, segment, walked, edit)]
    if isinstance(parent, dict):
        key = segment.strip("[]")
        if key not in parent or parent[key] is None:
            if not create:
                raise EditError(f"no key {key!r}", file=edit.source, key_path=edit.key_path)
            parent[key] = {}
        return parent[key]
    raise EditError(f"{_path(walked)} is {parent!r}, not a section", file=edit.source, key_path=edit.key_path)


def _path(walked: list[str]) -> str:
    parts = [part if part.startswith("[") or not index else f".{part}" for index, part in enumerate(walked)]
    return "".join(parts)


def _index(items: list[Any], segment: str, walked: list[str], edit: Edit) -> int:
    """The position of ``segment`` (an index or an item's name) in ``items``."""
    selector = segment.strip("[]")
    names = [item.get("name") for item in items if isinstance(item, dict)]
    for position, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == selector:
            return position
    if re.fullmatch(r"-?\d+", selector):
        position = int(selector)
        if -len(items) <= position < len(items):
            return position % len(items)
        raise EditError(
            f"{_path(walked)} has {len(items)} items; index {position} is out of range",
            file=edit.source,
            key_path=edit.key_path,
        )
    known = [str(name) for name in names if name]
    raise EditError(
        f"{_path(walked)} has no item named {selector!r}{_did_you_mean(selector, known)}"
        + (f" (names: {', '.join(known)})" if known else ""),
        file=edit.source,
        key_path=edit.key_path,
    )


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
