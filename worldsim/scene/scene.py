"""``Scene``: the Python scene-scripting API over the scene model."""

from __future__ import annotations

import math
from dataclasses import dataclass

from worldsim.camera.spec import CameraSpec
from worldsim.errors import SceneError
from worldsim.scene.material_presets import preset_material
from worldsim.scene.model import DefaultList, EntitySpec, LightSpec, MaterialSpec, SceneSpec


class SceneWarning(UserWarning):
    """A scene that is valid but probably not what was meant (e.g. ``lights: []``, a dark scene)."""


@dataclass
class Scene(SceneSpec):
    """A scene you build in Python or load from YAML (``worldsim.load_scene``).

    Entity ids are assigned by ``add`` in declaration order starting at 1 and are never reused,
    also after ``remove``; 0 is the background.
    """

    source_file: str | None = None
    """The YAML file this scene was loaded from (not serialised); relative paths resolve here."""

    def add(self, item: EntitySpec | LightSpec | CameraSpec) -> EntitySpec | LightSpec | CameraSpec:
        """Add an entity (assigning its id), a light or a camera; returns it.

        The first light added replaces the default sun and the first camera the default ``main``
        camera (defaults apply only to a scene that was given none).
        """
        if isinstance(item, EntitySpec):
            return self._add_entity(item)
        if isinstance(item, LightSpec):
            if isinstance(self.lights, DefaultList):
                self.lights = []
            self.lights.append(item)
            return item
        if isinstance(item, CameraSpec):
            if isinstance(self.cameras, DefaultList):
                self.cameras = []
            if any(camera.name == item.name for camera in self.cameras):
                raise SceneError(f"a camera named {item.name!r} already exists", key_path="cameras")
            self.cameras.append(item)
            return item
        raise TypeError(f"cannot add {type(item).__name__} to a scene")

    def _add_entity(self, entity: EntitySpec) -> EntitySpec:
        if not entity.name:
            entity.name = f"entity_{self.next_entity_id}"
        if any(existing.name == entity.name for existing in self.entities):
            raise SceneError(
                f"duplicate entity name {entity.name!r}", key_path=f"entities[{len(self.entities)}].name"
            )
        if entity.id is None:
            entity.id = self.next_entity_id
        elif any(existing.id == entity.id for existing in self.entities):
            raise SceneError(
                f"duplicate entity id {entity.id}", key_path=f"entities[{len(self.entities)}].id"
            )
        self.next_entity_id = max(self.next_entity_id, entity.id + 1)
        self.entities.append(entity)
        return entity

    def remove(self, name: str) -> EntitySpec:
        """Remove the entity called ``name``; its id is not reused."""
        entity = self.entity(name)
        self.entities.remove(entity)
        return entity

    def entity(self, name: str) -> EntitySpec:
        """The entity called ``name``."""
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(f"no entity named {name!r}")

    def camera(self, name: str | None = None) -> CameraSpec:
        """The camera called ``name`` (the first camera when ``None``)."""
        for camera in self.cameras:
            if name is None or camera.name == name:
                return camera
        raise KeyError(f"no camera named {name!r}")

    @property
    def frame_count(self) -> int:
        """Number of frames: ``num_frames``, else ``round(duration * fps)``, else 1 second."""
        if self.num_frames is not None:
            return int(self.num_frames)
        if self.duration is not None:
            return max(1, math.floor(self.duration * self.fps + 0.5))
        return max(1, round(self.fps))

    def resolve_material(self, entity: EntitySpec) -> MaterialSpec:
        """The entity's material with a named reference looked up in ``materials``, then in the
        presets (``worldsim.scene.material_presets``)."""
        if isinstance(entity.material, str):
            if entity.material not in self.materials and preset_material(entity.material) is not None:
                return preset_material(entity.material)  # type: ignore[return-value]
            if entity.material not in self.materials:
                raise SceneError(
                    f"unknown material {entity.material!r}",
                    file=self.source_file,
                    key_path=f"entities[{entity.name}].material",
                )
            return self.materials[entity.material]
        return entity.material

    def semantic_table(self) -> dict[str, int]:
        """Class name -> class id: ``semantic_classes`` first, then new classes in order of use."""
        table = dict(self.semantic_classes)
        next_id = max(table.values(), default=0) + 1
        for entity in self.entities:
            if entity.semantic_class not in table:
                table[entity.semantic_class] = next_id
                next_id += 1
        return table
