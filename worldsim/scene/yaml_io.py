"""YAML scene files <-> ``Scene``: parsing, includes, interpolation, ids, saving.

Format: the keys of ``worldsim.scene.model.SceneSpec`` one to one, plus two load-time-only keys:

- ``includes: [lib.yaml, ...]``: files (relative to the including file, nested includes allowed)
  whose ``materials``, ``entities`` and ``vars`` are merged in before this file's own (this file's
  materials and vars win on a name clash; included entities come first, in include order).
- ``vars: {...}``: values used only for omegaconf interpolation (``${vars.size}``); dropped after.

Distributions (``{uniform: [0, 1]}``, ``repeat: {...}``; ``worldsim.scene.distributions``) are
drawn from (scene seed, key path) after includes are merged and before interpolation, so a
randomised ``vars`` entry gives one value to every place that refers to it.

Interpolation (``${materials.red.base_color}``, ``${vars.x}``) is resolved by omegaconf over the
merged document. A loaded scene is fully merged: its ``includes`` is empty and relative mesh
``file`` paths are resolved to absolute paths, so a saved scene (``scene.yaml`` in a clip folder)
is self-contained and re-runnable as is from any folder.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from worldsim.errors import SceneError, SceneLimitError
from worldsim.scene.distributions import explain_unknown_distributions, resolve_template
from worldsim.scene.hdri import is_hdri_path
from worldsim.scene.limits import LIMITS_FILE_NAME, Limits, load_limits, over_limit
from worldsim.scene.scene import Scene
from worldsim.scene.schema import from_data, join_path, to_data, type_name

LOAD_ONLY_KEYS = ("includes", "vars")
INCLUDED_KEYS = ("materials", "entities", "vars")

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _SceneLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader (plain data only) bounded by ``Limits``; rejects duplicate mapping keys
    (they silently lose data otherwise).

    An alias (``*name``) adds no node to the composed graph, but it stands for a copy of its
    anchor's whole subtree to everything that walks the loaded data. So before anything is
    constructed, the graph is walked once (each node visited once: linear in the file, not in the
    expansion): a node reached again is an alias and is charged the expanded size of its subtree,
    and the document is refused as soon as the charges pass ``max_alias_nodes`` (a 1 KB file of
    nested aliases expanding to billions of nodes is refused after a few thousand). The same walk
    checks nesting depth and string length and tracks keys, so a refusal names the key path.
    """

    def __init__(self, text: str, limits: Limits, source: str) -> None:
        super().__init__(text)
        self._limits, self._source = limits, source

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _GraphBudget(self._limits, self._source).measure(node, [])
        return node


class _GraphBudget:
    """One walk over a composed YAML node graph, charging aliases and checking the limits."""

    def __init__(self, limits: Limits, source: str) -> None:
        self.limits, self.source = limits, source
        self.sizes: dict[int, int] = {}  # id(node) -> node count of its expanded subtree
        self.active: set[int] = set()  # collections being walked (an alias to one is a cycle)
        self.alias_nodes = 0

    def refuse(self, reason: str, node: yaml.Node, path: list[str | int]) -> None:
        mark = node.start_mark
        key_path = ""
        for key in path:
            key_path = join_path(key_path, key)
        raise SceneLimitError(
            f"{reason} (line {mark.line + 1}, column {mark.column + 1})", file=self.source, key_path=key_path
        )

    def measure(self, node: yaml.Node, path: list[str | int]) -> int:
        """The node count of ``node``'s subtree with every alias expanded."""
        limits = self.limits
        known = self.sizes.get(id(node))
        if known is not None:  # reached again: an alias
            self.alias_nodes += known
            if self.alias_nodes > limits.max_alias_nodes:
                self.refuse(
                    f"aliases expand to more than {limits.max_alias_nodes} nodes "
                    f"(max_alias_nodes in {LIMITS_FILE_NAME})",
                    node,
                    path,
                )
            return known
        if id(node) in self.active:
            self.refuse("an alias refers to a node that contains it", node, path)
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > limits.max_string_length:
                length = len(node.value)
                reason = over_limit(
                    "a string of", length, limits.max_string_length, "max_string_length", " characters"
                )
                self.refuse(reason, node, path)
            size = 1
        else:
            depth = len(path) + 1
            if depth > limits.max_nesting_depth:
                reason = over_limit("nesting depth", depth, limits.max_nesting_depth, "max_nesting_depth")
                self.refuse(reason, node, path)
            count = len(node.value)
            if path == ["entities"] and isinstance(node, yaml.SequenceNode) and count > limits.max_entities:
                # refused before the entities are read
                reason = over_limit("an entity count of", count, limits.max_entities, "max_entities")
                self.refuse(reason, node, path)
            self.active.add(id(node))
            size = 1
            if isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    path.append(index)
                    size += self.measure(item, path)
                    path.pop()
            else:
                for key, value in node.value:
                    size += self.measure(key, path)
                    path.append(str(key.value) if isinstance(key, yaml.ScalarNode) else "?")
                    size += self.measure(value, path)
                    path.pop()
            self.active.discard(id(node))
        self.sizes[id(node)] = size
        return size


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, f"a mapping key must be a plain value, not {type_name(key)}", key_node.start_mark
            )
        if key in mapping:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_SceneLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# YAML 1.1 (PyYAML) reads ``1e3``, ``1e-3`` and ``1.0e308`` as strings (its floats need a dot
# and a signed exponent); YAML 1.2 and every other tool read them as numbers, so does a scene file.
_SceneLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, source_name: str, *, allow_empty: bool = False) -> dict[str, Any]:
    """Parse YAML text into a plain mapping within ``Limits``.

    Syntax errors become a SceneError with line/column, limit breaches a SceneLimitError; an
    empty document (nothing but comments or blanks) is refused unless ``allow_empty`` (included
    files), since a scene file with nothing in it is almost certainly not what was meant.
    """
    limits = load_limits()
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limits.max_file_bytes:
        raise SceneLimitError(
            over_limit("file size", size, limits.max_file_bytes, "max_file_bytes", " bytes"), file=source_name
        )
    loader = _SceneLoader(text, limits, source_name)
    try:
        data = loader.get_single_data()  # a safe loader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise SceneError(f"{where}invalid YAML: {problem}", file=source_name) from None
    except yaml.YAMLError as error:
        raise SceneError(f"invalid YAML: {error}", file=source_name) from None
    except RecursionError:
        raise SceneLimitError("nesting too deep to read", file=source_name) from None
    finally:
        loader.dispose()
    if data is None:
        if allow_empty:
            return {}
        raise SceneError(
            "the scene file is empty (no name, entities, cameras or settings); "
            "write at least 'name: ...' to render the default scene",
            file=source_name,
        )
    if not isinstance(data, dict):
        raise SceneError(
            f"a scene file must be a mapping at the top level, got {type_name(data)}", file=source_name
        )
    return data


def _read_file(path: Path, *, included_from: str | None = None) -> str:
    """The text of a scene file; refused unread when it is over ``max_file_bytes``."""
    limit = load_limits().max_file_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise SceneLimitError(
                over_limit("file size", size, limit, "max_file_bytes", " bytes"), file=str(path)
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if included_from is not None:
            raise SceneError(
                f"included file not found: {path}", file=included_from, key_path="includes"
            ) from None
        raise SceneError("scene file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SceneError(f"cannot read scene file: {error}", file=str(path)) from None


class _Origin:
    """Where each merged entity came from, so error key paths name the right file and index; and
    each included file's merged content, so a file included many times is read and merged once."""

    def __init__(self) -> None:
        self.entities: list[tuple[str, int]] = []
        self.merged: dict[str, tuple[dict[str, Any], list[tuple[str, int]]]] = {}


def _check_entity_count(entities: list[Any], source: str, key_path: str) -> None:
    limit = load_limits().max_entities
    if len(entities) > limit:
        raise SceneLimitError(
            over_limit("an entity count of", len(entities), limit, "max_entities"),
            file=source,
            key_path=key_path,
        )


def _merge_included_file(path: Path, source: str, stack: tuple[str, ...], origin: _Origin) -> dict[str, Any]:
    """The included file ``path`` with its own includes merged in (cached per load)."""
    cached = origin.merged.get(str(path))
    if cached is not None:
        origin.entities.extend(cached[1])
        return cached[0]
    start = len(origin.entities)
    included = parse_yaml(_read_file(path, included_from=source), str(path), allow_empty=True)
    unknown = sorted(set(included) - {*INCLUDED_KEYS, "includes"}, key=str)
    if unknown:
        raise SceneError(
            f"an included file may only hold {', '.join(INCLUDED_KEYS)} and includes; "
            f"found {', '.join(map(str, unknown))}",
            file=str(path),
            key_path=str(unknown[0]),
        )
    merged = _merge_includes(included, str(path), path.parent, (*stack, str(path)), origin)
    origin.merged[str(path)] = (merged, origin.entities[start:])
    return merged


def _merge_includes(
    data: dict[str, Any], source: str, base_dir: Path | None, stack: tuple[str, ...], origin: _Origin
) -> dict[str, Any]:
    """``data`` with its includes' materials, entities and vars merged in (recursively)."""
    includes = data.get("includes") or []
    if not isinstance(includes, list) or not all(isinstance(item, str) for item in includes):
        raise SceneError("expected a list of file names", file=source, key_path="includes")
    materials: dict[str, Any] = {}
    entities: list[Any] = []
    variables: dict[str, Any] = {}
    for index, include in enumerate(includes):
        if base_dir is None:
            raise SceneError(
                "includes need a scene file on disk to resolve against",
                file=source,
                key_path=f"includes[{index}]",
            )
        path = (base_dir / include).resolve()
        if str(path) in stack:
            chain = " -> ".join([*stack, str(path)])
            raise SceneError(f"include cycle: {chain}", file=source, key_path=f"includes[{index}]")
        merged = _merge_included_file(path, source, stack, origin)
        for key, target in (("materials", materials), ("vars", variables)):
            section = merged.get(key) or {}
            if not isinstance(section, dict):
                raise SceneError("expected a mapping", file=str(path), key_path=key)
            target.update(section)
        section = merged.get("entities") or []
        if not isinstance(section, list):
            raise SceneError("expected a list", file=str(path), key_path="entities")
        entities.extend(section)
        _check_entity_count(entities, source, f"includes[{index}]")
    own_entities = data.get("entities")
    if isinstance(own_entities, list):
        origin.entities.extend((source, index) for index in range(len(own_entities)))
    if not includes:
        return data
    merged = dict(data)
    merged.pop("includes")
    for key, target in (("materials", materials), ("vars", variables)):
        own = data.get(key)
        if own is not None and not isinstance(own, dict):
            raise SceneError("expected a mapping", file=source, key_path=key)
        merged[key] = {**target, **(own or {})}
    if own_entities is not None and not isinstance(own_entities, list):
        raise SceneError("expected a list", file=source, key_path="entities")
    merged["entities"] = entities + (own_entities or [])
    return merged


_REFERENCE = re.compile(r"\$\{([^${}]*)\}")
"""An interpolation ``${a.b[0]}`` (innermost, so nested ones are seen one level at a time)."""


def _lookup(data: Any, reference: str) -> Any:
    """The value at the absolute dotted ``reference`` of ``data`` (``None`` where there is none)."""
    node = data
    for part in re.split(r"\.|\[|\]", reference.strip()):
        if not part:
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _check_interpolation_expansion(data: dict[str, Any], source: str) -> None:
    """Refuse ``${...}`` references whose resolution would add over ``max_alias_nodes`` nodes.

    Like a YAML alias, a reference to a mapping or list is replaced by a copy of it, so nested
    references can expand exponentially; each reference is charged the expanded size of its
    target (memoised), counted before omegaconf resolves anything.
    """
    limit = load_limits().max_alias_nodes
    sizes: dict[str, int] = {}
    active: set[str] = set()
    added = 0

    def expanded(value: Any) -> int:
        if isinstance(value, dict):
            return 1 + sum(expanded(item) for item in value.values())
        if isinstance(value, list):
            return 1 + sum(expanded(item) for item in value)
        if isinstance(value, str) and "${" in value:
            return max(1, sum(target_size(reference) for reference in _REFERENCE.findall(value)))
        return 1

    def target_size(reference: str) -> int:
        if reference in sizes:
            return sizes[reference]
        if reference in active:  # a cycle: omegaconf reports it
            return 1
        active.add(reference)
        size = expanded(_lookup(data, reference))
        active.discard(reference)
        sizes[reference] = size
        return size

    def walk(value: Any, path: str) -> None:
        nonlocal added
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, join_path(path, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, join_path(path, index))
        elif isinstance(value, str) and "${" in value:
            added += expanded(value) - 1
            if added > limit:
                raise SceneLimitError(
                    f"interpolations expand to more than {limit} nodes "
                    f"(max_alias_nodes in {LIMITS_FILE_NAME})",
                    file=source,
                    key_path=path,
                )

    try:
        walk(data, "")
    except RecursionError:
        raise SceneLimitError("interpolations nest too deeply to resolve", file=source) from None


def _resolve_interpolation(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Resolve ``${...}`` with omegaconf (skipped when the text has none: omegaconf is slow)."""
    if "${" not in repr(data):
        return data
    _check_interpolation_expansion(data, source)
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        config = OmegaConf.create(data)
        resolved = OmegaConf.to_container(config, resolve=True)
    except OmegaConfBaseException as error:
        key = str(getattr(error, "full_key", "") or "")
        reason = str(error).split("\n")[0]
        raise SceneError(f"interpolation failed: {reason}", file=source, key_path=key) from None
    assert isinstance(resolved, dict)
    return resolved


def _assign_ids(scene: Scene) -> None:
    """Give entities without an id the next ids in declaration order; keep ``next_entity_id`` ahead."""
    given = [entity.id for entity in scene.entities if isinstance(entity.id, int)]
    next_id = max(scene.next_entity_id, max(given, default=0) + 1)
    for entity in scene.entities:
        if entity.id is None:
            entity.id = next_id
            next_id += 1
    scene.next_entity_id = max(next_id, scene.next_entity_id)


def _resolve_mesh_files(scene: Scene, base_dir: Path | None) -> None:
    if base_dir is None:
        return
    for entity in scene.entities:
        file = entity.mesh.file
        if isinstance(file, str) and file and not Path(file).expanduser().is_absolute():
            entity.mesh.file = str((base_dir / file).resolve())
        elif isinstance(file, str) and file.startswith("~"):
            entity.mesh.file = str(Path(file).expanduser())


def _resolve_hdri_files(scene: Scene, base_dir: Path | None) -> None:
    """Environment ``hdri`` values that are relative paths become absolute (shipped names stay)."""
    for light in scene.lights:
        value = light.hdri
        if not isinstance(value, str) or not value or not is_hdri_path(value):
            continue
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = (base_dir / path).resolve()
        light.hdri = str(path)


def _relocate_issue(path: str, source: str, origin: _Origin) -> tuple[str, str]:
    """Map ``entities[i]...`` of the merged document to the file and index it came from."""
    if path.startswith("entities[") and origin.entities:
        index_text, _, rest = path[len("entities[") :].partition("]")
        if index_text.isdigit() and int(index_text) < len(origin.entities):
            file, local = origin.entities[int(index_text)]
            return file, f"entities[{local}]{rest}"
    return source, path


def scene_from_data(
    data: dict[str, Any],
    *,
    source_name: str = "<data>",
    base_dir: str | Path | None = None,
    validate: bool = True,
    seed: int | None = None,
) -> Scene:
    """A ``Scene`` from a parsed YAML mapping (includes, distributions, interpolation, ids; then
    validation). ``seed`` replaces the document's ``seed`` before its distributions are drawn
    (``worldsim.scene.distributions``); a problem of a randomised scene names the seed."""
    base = Path(base_dir).resolve() if base_dir is not None else None
    origin = _Origin()
    stack = (source_name,) if base is not None else ()
    merged = _merge_includes(data, source_name, base, stack, origin)
    if isinstance(merged.get("entities"), list):
        _check_entity_count(merged["entities"], source_name, "entities")
    merged, suspects, seed_note = _resolve_distributions(merged, source_name, origin, seed)
    resolved = _resolve_interpolation(merged, source_name)
    for key in LOAD_ONLY_KEYS:
        resolved.pop(key, None)
    issues: list[tuple[str, str]] = []
    scene = from_data(Scene, resolved, "", issues)
    issues = explain_unknown_distributions(issues, suspects)
    _assign_ids(scene)
    _resolve_mesh_files(scene, base)
    _resolve_hdri_files(scene, base)
    if validate or issues:
        # Semantic checks run also after type errors (bad values kept their defaults), so one
        # pass reports every problem of the file.
        from worldsim.scene.validation import collect_issues

        issues.extend(collect_issues(scene))
    if issues:
        raise SceneError(
            issues[0][1] + seed_note,
            issues=[
                (*_relocate_issue(path, source_name, origin), reason + seed_note) for path, reason in issues
            ],
        )
    return scene


def _resolve_distributions(
    data: dict[str, Any], source: str, origin: _Origin, seed: int | None
) -> tuple[dict[str, Any], dict[str, str], str]:
    """``data`` with its distributions drawn (``seed`` over the document's own), the suspected
    misspelt distributions, and the note that problems of the resolved scene carry (its seed)."""
    if seed is not None:
        data = {**data, "seed": int(seed)}
    document_seed = data.get("seed", 0)
    draw_seed = document_seed if isinstance(document_seed, int) and not isinstance(document_seed, bool) else 0
    template = resolve_template(data, draw_seed, max_copies=load_limits().max_entities)
    if template.issues:
        raise SceneError(
            template.issues[0][1],
            issues=[(*_relocate_issue(path, source, origin), reason) for path, reason in template.issues],
        )
    if template.entity_sources is not None:
        if len(origin.entities) == len(data.get("entities") or []):
            origin.entities = [origin.entities[index] for index in template.entity_sources]
        _check_entity_count(template.data["entities"], source, "entities")
    note = f" (resolved with seed {draw_seed})" if template.randomised else ""
    return template.data, template.suspects, note


def load_scene(path: str | Path, *, validate: bool = True, seed: int | None = None) -> Scene:
    """Load and validate a YAML scene file (raises SceneError naming file, key path and reason);
    ``seed`` replaces the file's ``seed`` before its distributions are drawn."""
    resolved = Path(path).expanduser().resolve()
    text = _read_file(resolved)
    scene = scene_from_data(
        parse_yaml(text, str(resolved)),
        source_name=str(resolved),
        base_dir=resolved.parent,
        validate=validate,
        seed=seed,
    )
    scene.source_file = str(resolved)
    return scene


def load_scene_from_string(
    text: str,
    source_name: str = "<string>",
    *,
    base_dir: str | Path | None = None,
    validate: bool = True,
    seed: int | None = None,
) -> Scene:
    """Load a scene from YAML text; ``base_dir`` resolves includes and relative mesh files,
    ``seed`` replaces the text's ``seed`` before its distributions are drawn."""
    return scene_from_data(
        parse_yaml(text, source_name),
        source_name=source_name,
        base_dir=base_dir,
        validate=validate,
        seed=seed,
    )


def scene_to_data(scene: Scene) -> dict[str, Any]:
    """The scene as plain data (what the YAML file holds); includes are already merged in.

    Top-level settings, lights and cameras are written in full; other nested fields equal to their
    defaults are left out.
    """
    data = to_data(scene, omit_defaults=True)
    if not data.get("includes"):
        data.pop("includes", None)
    if data.get("lighting") == "given":  # the default, left out so older scenes read the same
        data.pop("lighting")
    # Lights and cameras field by field, defaults included: a scene that named none shows the
    # default sun and camera it got, and writing it again from its scene.yaml gives the same text.
    for key in ("lights", "cameras"):
        data[key] = [to_data(item) for item in getattr(scene, key)]
    return data


def scene_to_yaml(scene: Scene) -> str:
    """The scene as YAML text; loading it gives an equal scene with the same entity ids."""
    return yaml.dump(
        scene_to_data(scene),
        Dumper=_BaseDumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=100,
    )


def save_scene(scene: Scene, path: str | Path) -> Path:
    """Write ``scene_to_yaml(scene)`` to ``path`` atomically (temp file + rename); returns the path."""
    from worldsim.clip.atomic import write_text

    return write_text(path, scene_to_yaml(scene))
