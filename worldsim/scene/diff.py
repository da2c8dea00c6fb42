"""What changed between two scenes, as key paths (the ones edits use: ``worldsim.scene.edits``).

Lists of named items (entities, lights, cameras, segments) are matched by ``name``, so removing an
entity reads as one removal, not as every later entity changing; other lists by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = object()


@dataclass(frozen=True)
class Change:
    """One difference: ``key_path``, the value ``before`` and ``after`` (``MISSING`` when absent)."""

    key_path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        if self.after is MISSING:
            return "removed"
        return "changed"

    def describe(self) -> str:
        if self.kind == "added":
            return f"{self.key_path}: added {_short(self.after)}"
        if self.kind == "removed":
            return f"{self.key_path}: removed"
        return f"{self.key_path}: {_short(self.before)} -> {_short(self.after)}"


def scene_changes(scene_a: Any, scene_b: Any) -> list[Change]:
    """Every difference between two scenes' data (``scene_to_data``), in key-path order."""
    from worldsim.scene.yaml_io import scene_to_data

    changes: list[Change] = []
    _compare(scene_to_data(scene_a), scene_to_data(scene_b), "", changes)
    return changes


def _join(prefix: str, key: str) -> str:
    return key if not prefix else f"{prefix}.{key}"


def _compare(before: Any, after: Any, path: str, changes: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(key for key in after if key not in before)]:
            _compare(before.get(key, MISSING), after.get(key, MISSING), _join(path, str(key)), changes)
        return
    if isinstance(before, list) and isinstance(after, list):
        if _named(before) and _named(after):
            old = {item["name"]: item for item in before}
            new = {item["name"]: item for item in after}
            for name in [*old, *(name for name in new if name not in old)]:
                _compare(old.get(name, MISSING), new.get(name, MISSING), f"{path}[{name}]", changes)
            return
        if len(before) == len(after) and all(isinstance(item, dict | list) for item in [*before, *after]):
            for index, (old_item, new_item) in enumerate(zip(before, after, strict=True)):
                _compare(old_item, new_item, f"{path}[{index}]", changes)
            return
    if before != after:
        changes.append(Change(path, before, after))


def _named(items: list[Any]) -> bool:
    names = [item.get("name") for item in items if isinstance(item, dict)]
    return len(names) == len(items) and all(names) and len(set(names)) == len(names)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, dict | list) else _compact(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _compact(value: Any) -> str:
    import json

    return json.dumps(value, default=str, separators=(", ", ": "))
