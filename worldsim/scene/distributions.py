"""Randomised scene files: distributions resolved in the template layer, before the typed model.

Any value of a scene document may be a distribution, a mapping with exactly one of these keys:

- ``{uniform: [lo, hi]}``: a float in ``[lo, hi)``;
- ``{normal: [mean, std]}``: a float, ``std >= 0``;
- ``{randint: [lo, hi]}``: an integer in ``[lo, hi]`` (both ends included);
- ``{choice: [a, b, ...]}``: one of the items (any YAML value: numbers, strings, mappings; a chosen
  item may itself hold distributions).

``uniform``, ``normal`` and ``randint`` work element-wise on vectors: ``{uniform: [[-1, -1, 0],
[1, 1, 0.5]]}`` draws a 3-vector (a scalar bound is broadcast over the other's length). A list
item ``{repeat: {count: N, entity: {...}}}`` stands for ``N`` copies of ``entity`` (``count`` may
be a ``randint`` or ``choice``), each drawn on its own and named ``<name>_<copy>``.

Every draw is a pure function of (scene seed, key path): a PCG64 generator seeded with
``derive_seed(seed, "distribution " + key_path)``, so each seed gives a different, reproducible
scene and editing one value leaves the draws of the others unchanged. The key path of a repeated
entity's value names the copy: ``entities[2].repeat[0].entity.pose.position``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worldsim.randomness import rng_for
from worldsim.scene.schema import join_path, type_name

DISTRIBUTIONS = ("uniform", "normal", "randint", "choice")
REPEAT_KEY = "repeat"
REPEAT_KEYS = ("count", "entity")
NOT_RANDOMISED = ("seed", "includes")
"""Top-level keys that must be plain values (the seed picks the draws; includes are read first)."""

ALIASES = {"gaussian": "normal", "gauss": "normal", "randn": "normal", "integer": "randint",
           "randrange": "randint", "rand": "uniform", "oneof": "choice", "one_of": "choice"}  # fmt: skip
"""Names other libraries use for our distributions: the did-you-mean of an unknown one."""

Issue = tuple[str, str]


@dataclass
class ResolvedTemplate:
    """A scene document with every distribution drawn, and what the resolution found."""

    data: dict[str, Any]
    seed: int
    randomised: bool = False
    """Whether the document held any distribution or repeat."""
    issues: list[Issue] = field(default_factory=list)
    """``(key path, reason)`` for every malformed distribution or repeat (nothing is drawn there)."""
    suspects: dict[str, str] = field(default_factory=dict)
    """Key path -> key of single-key mappings of a list that look like a misspelt distribution;
    ``explain_unknown_distributions`` words the typed model's complaint about them."""
    entity_sources: list[int] | None = None
    """For each entity of ``data["entities"]``, its index in the template (repeats expand one item
    into many); None when the entities were not expanded."""


def is_distribution(value: Any) -> bool:
    """Whether ``value`` is a distribution mapping (exactly one key, a known distribution)."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def resolve_template(data: dict[str, Any], seed: int, *, max_copies: int = 10000) -> ResolvedTemplate:
    """``data`` with every distribution drawn from (``seed``, key path) and repeats expanded.

    Nothing is raised: malformed distributions are listed in ``issues`` (and left in place).
    ``max_copies`` bounds one repeat's ``count`` (the entity limit of the scene).
    """
    resolver = _Resolver(seed, max_copies)
    resolved: dict[str, Any] = {}
    for key, value in data.items():
        path = join_path("", str(key))
        if key in NOT_RANDOMISED and _holds_randomness(value):
            resolver.issues.append((path, f"'{key}' cannot be randomised (give a plain value)"))
            resolved[key] = value
        elif key == "entities" and isinstance(value, list):
            resolved[key], sources = resolver.resolve_list(value, path)
            resolver.entity_sources = sources
        else:
            resolved[key] = resolver.resolve(value, path)
    return ResolvedTemplate(
        resolved,
        seed,
        randomised=resolver.randomised,
        issues=resolver.issues,
        suspects=resolver.suspects,
        entity_sources=resolver.entity_sources if resolver.expanded else None,
    )


def explain_unknown_distributions(issues: list[Issue], suspects: dict[str, str]) -> list[Issue]:
    """Issues of the typed model with those about a suspected distribution reworded as "unknown
    distribution": ``{gausian: [0, 1]}`` where a number or list was expected, or where a mapping
    was expected and ``gausian`` is no key of it but close to a distribution's name."""
    if not suspects:
        return issues
    explained: list[Issue] = []
    for path, reason in issues:
        name = suspects.get(path)
        if name is None:
            parent, _, key = path.rpartition(".")
            name = suspects.get(parent)
            if name != key or not reason.startswith("unknown key") or not _closest_distribution(key):
                explained.append((path, reason))
                continue
            path = parent
        explained.append((path, unknown_distribution_reason(name)))
    return explained


def unknown_distribution_reason(name: str) -> str:
    """The reason given for a mapping ``{name: [...]}`` that is no distribution."""
    close = _closest_distribution(name)
    hint = f" (did you mean '{close}'?)" if close else ""
    return f"unknown distribution {name!r}{hint}; known: {', '.join(DISTRIBUTIONS)}"


def _closest_distribution(name: str) -> str | None:
    lowered = name.lower()
    if lowered in ALIASES:
        return ALIASES[lowered]
    close = difflib.get_close_matches(lowered, DISTRIBUTIONS, n=1, cutoff=0.6)
    return close[0] if close else None


def _holds_randomness(value: Any) -> bool:
    if is_distribution(value):
        return True
    if isinstance(value, dict):
        return (len(value) == 1 and REPEAT_KEY in value) or any(_holds_randomness(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_randomness(item) for item in value)
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


class _Resolver:
    """One walk over a document: checks and draws each distribution, expands each repeat."""

    def __init__(self, seed: int, max_copies: int) -> None:
        self.seed, self.max_copies = seed, max_copies
        self.issues: list[Issue] = []
        self.suspects: dict[str, str] = {}
        self.randomised = False
        self.expanded = False
        self.entity_sources: list[int] | None = None

    def resolve(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key, argument), *_ = value.items()
                if key in DISTRIBUTIONS:
                    self.randomised = True
                    return self.draw(str(key), argument, join_path(path, str(key)), path)
                if key == REPEAT_KEY:
                    self.issues.append((path, "'repeat' is only allowed as an item of a list"))
                    return value
                if isinstance(key, str) and isinstance(argument, list):
                    self.suspects[path] = key
            return {key: self.resolve(item, join_path(path, str(key))) for key, item in value.items()}
        if isinstance(value, list):
            return self.resolve_list(value, path)[0]
        return value

    def resolve_list(self, items: list[Any], path: str) -> tuple[list[Any], list[int]]:
        """The list with its items resolved and repeats expanded; with each output item's
        index in ``items``."""
        out: list[Any] = []
        sources: list[int] = []
        for index, item in enumerate(items):
            item_path = join_path(path, index)
            if isinstance(item, dict) and len(item) == 1 and REPEAT_KEY in item:
                self.randomised = self.expanded = True
                copies = self.repeat(item[REPEAT_KEY], join_path(item_path, REPEAT_KEY))
                out.extend(copies)
                sources.extend([index] * len(copies))
            else:
                out.append(self.resolve(item, item_path))
                sources.append(index)
        return out, sources

    def repeat(self, spec: Any, path: str) -> list[Any]:
        if not isinstance(spec, dict):
            self.issues.append((path, f"expected a mapping with count and entity, got {type_name(spec)}"))
            return []
        unknown = [str(key) for key in spec if key not in REPEAT_KEYS]
        for key in unknown:
            self.issues.append((join_path(path, key), f"unknown key {key!r}; allowed keys: count, entity"))
        missing = [key for key in REPEAT_KEYS if key not in spec]
        for key in missing:
            self.issues.append((path, f"missing key {key!r} (repeat needs count and entity)"))
        if unknown or missing:
            return []
        count = self.resolve(spec["count"], join_path(path, "count"))
        if not _is_integer(count) or not 0 <= count <= self.max_copies:
            if not is_distribution(count):  # a malformed count distribution was reported already
                self.issues.append(
                    (
                        join_path(path, "count"),
                        f"expected an integer from 0 to {self.max_copies} (or randint/choice of them), "
                        f"got {type_name(count)} {count!r}",
                    )
                )
            return []
        template = spec["entity"]
        if not isinstance(template, dict):
            self.issues.append((join_path(path, "entity"), f"expected a mapping, got {type_name(template)}"))
            return []
        copies = []
        for copy in range(int(count)):
            entity = self.resolve(template, join_path(join_path(path, copy), "entity"))
            if isinstance(entity, dict) and isinstance(entity.get("name"), str) and entity["name"]:
                entity = {**entity, "name": f"{entity['name']}_{copy}"}
            copies.append(entity)
        return copies

    def draw(self, kind: str, argument: Any, path: str, value_path: str) -> Any:
        """One draw of distribution ``kind`` at ``value_path`` (``path`` names its argument)."""
        if kind == "choice":
            if not isinstance(argument, list) or not argument:
                self.issues.append((path, f"expected a non-empty list of items, got {type_name(argument)}"))
                return {kind: argument}
            index = int(rng_for(self.seed, "distribution " + value_path).integers(len(argument)))
            return self.resolve(argument[index], join_path(path, index))
        bounds = self.bounds(kind, argument, path)
        if bounds is None:
            return {kind: argument}
        first, second, length = bounds
        rng = rng_for(self.seed, "distribution " + value_path)
        size = None if length is None else length
        if kind == "uniform":
            drawn = rng.uniform(first, second, size=size)
        elif kind == "normal":
            drawn = rng.normal(first, second, size=size)
        else:
            drawn = rng.integers(first, second, size=size, endpoint=True)
        if length is None:
            return int(drawn) if kind == "randint" else float(drawn)
        return [int(v) if kind == "randint" else float(v) for v in np.asarray(drawn).tolist()]

    def bounds(self, kind: str, argument: Any, path: str) -> tuple[Any, Any, int | None] | None:
        """The two parameters as numpy values and the vector length (None: scalar); None after
        reporting a malformed argument."""
        names = {"uniform": ("lo", "hi"), "normal": ("mean", "std"), "randint": ("lo", "hi")}[kind]
        shape = f"[{names[0]}, {names[1]}]"
        if not isinstance(argument, list) or len(argument) != 2:
            got = f"a list of {len(argument)}" if isinstance(argument, list) else type_name(argument)
            self.issues.append((path, f"expected {shape}, got {got}"))
            return None
        check = _is_integer if kind == "randint" else _is_number
        what = "an integer" if kind == "randint" else "a finite number"
        lengths = set()
        for index, part in enumerate(argument):
            values = part if isinstance(part, list) else [part]
            if isinstance(part, list):
                lengths.add(len(part))
            if not values or not all(check(v) for v in values):
                self.issues.append(
                    (
                        join_path(path, index),
                        f"{names[index]} must be {what} or a non-empty list of them, got {part!r}",
                    )
                )
                return None
        if len(lengths) > 1:
            self.issues.append((path, f"{names[0]} and {names[1]} have different lengths {sorted(lengths)}"))
            return None
        length = lengths.pop() if lengths else None
        dtype = np.int64 if kind == "randint" else np.float64
        first, second = (np.asarray(part, dtype=dtype) for part in argument)
        if kind == "normal":
            if np.any(second < 0):
                self.issues.append((join_path(path, 1), f"std must be >= 0, got {argument[1]!r}"))
                return None
        elif np.any(first > second):
            self.issues.append(
                (path, f"{names[0]} > {names[1]} ({argument[0]!r} > {argument[1]!r}); give {shape}")
            )
            return None
        if length is not None:
            first, second = np.broadcast_to(first, (length,)), np.broadcast_to(second, (length,))
        return first, second, length
