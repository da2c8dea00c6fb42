"""The world-state contract every renderer reads: plain numpy data, one ``WorldState`` per frame.

A ``Trajectory`` stores the clip column-wise (arrays over frames x entities) so that 1,000
entities x 1,000 frames stay cheap; indexing it gives one frame's ``WorldState`` view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from worldsim.camera.intrinsics import Intrinsics
from worldsim.camera.track import CameraTrack
from worldsim.scene.model import LightSpec, MaterialSpec, MeshSpec

EVENT_KINDS = ("spawn", "despawn", "enter_view", "leave_view")


@dataclass
class EntityInfo:
    """One row of the entity table that travels with every output.

    ``mesh.file`` is an absolute path (resolved when the scene was loaded); ``material`` is the
    resolved material (named references replaced).
    """

    id: int
    name: str
    semantic_class: str
    semantic_id: int
    mesh: MeshSpec
    material: MaterialSpec
    physics_mode: str = "static"


@dataclass
class Event:
    """Something that happened at a frame: ``kind`` is one of ``EVENT_KINDS``.

    View events name the ``camera``; they come from bounding volumes against the view frustum.
    """

    frame: int
    time: float
    kind: str
    entity_id: int
    camera: str | None = None


@dataclass
class CameraState:
    """One camera at one frame. cam_to_world: (4, 4) float64, OpenCV axes."""

    name: str
    cam_to_world: np.ndarray
    intrinsics: Intrinsics


@dataclass
class WorldState:
    """One frame of the world.

    entity_ids: (N,) int32, the entities that exist at this frame (spawned, not despawned).
    object_to_world: (N, 4, 4) float64, their poses, row i for entity_ids[i].
    in_view: camera name -> (N,) bool, whether each entity's bounding volume meets the frustum.
    """

    frame: int
    time: float
    entity_ids: np.ndarray
    object_to_world: np.ndarray
    camera: CameraState
    cameras: dict[str, CameraState]
    in_view: dict[str, np.ndarray]
    events: list[Event]


@dataclass
class Trajectory:
    """A rolled-out clip.

    entities: the entity table (every entity that ever exists, in id order).
    object_to_world: (T, E, 4, 4) float64, pose of entity column e at frame t (also while not
      present: held at the spawn / despawn pose).
    present: (T, E) bool, entity exists at frame t.
    cameras: camera name -> CameraTrack over the same T frames; the first is the primary camera.
    in_view: camera name -> (T, E) bool.
    """

    scene_name: str
    seed: int
    fps: float
    resolution: tuple[int, int]
    entities: list[EntityInfo]
    object_to_world: np.ndarray
    present: np.ndarray
    cameras: dict[str, CameraTrack]
    in_view: dict[str, np.ndarray]
    events: list[Event] = field(default_factory=list)
    lights: list[LightSpec] = field(default_factory=list)
    semantic_classes: dict[str, int] = field(default_factory=dict)
    prompt: str = ""

    def __len__(self) -> int:
        return int(self.object_to_world.shape[0])

    @property
    def num_frames(self) -> int:
        return len(self)

    @property
    def times(self) -> np.ndarray:
        """(T,) float64 seconds; frame i is at i / fps."""
        return np.arange(len(self)) / self.fps

    @property
    def primary_camera(self) -> str:
        return next(iter(self.cameras))

    def save(self, path: str | Path) -> Path:
        """Write this trajectory as lossless JSON, atomically (``worldsim.state_io``)."""
        from worldsim.state_io import save_trajectory

        return save_trajectory(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Trajectory:
        """Read a file written by ``save``; raises WorldsimError naming the file if malformed."""
        from worldsim.state_io import load_trajectory

        return load_trajectory(path)

    def with_resolution(self, width: int, height: int) -> Trajectory:
        """The same rollout seen at ``width x height`` (every camera's intrinsics scaled); the
        arrays are shared, not copied."""
        return replace(
            self,
            resolution=(int(width), int(height)),
            cameras={name: track.resized(width, height) for name, track in self.cameras.items()},
        )

    def entity_column(self, entity_id: int) -> int:
        """The column of ``entity_id`` in the per-entity arrays."""
        for column, info in enumerate(self.entities):
            if info.id == entity_id:
                return column
        raise KeyError(f"no entity with id {entity_id}")

    def __getitem__(self, frame: int) -> WorldState:
        if not -len(self) <= frame < len(self):
            raise IndexError(f"frame {frame} out of range for {len(self)} frames")
        frame = frame % len(self)
        columns = np.flatnonzero(self.present[frame])
        ids = np.array([self.entities[c].id for c in columns], dtype=np.int32)
        cameras = {
            name: CameraState(name, track.cam_to_world[frame], track.intrinsics(frame))
            for name, track in self.cameras.items()
        }
        return WorldState(
            frame=frame,
            time=frame / self.fps,
            entity_ids=ids,
            object_to_world=self.object_to_world[frame, columns],
            camera=cameras[self.primary_camera],
            cameras=cameras,
            in_view={name: mask[frame, columns] for name, mask in self.in_view.items()},
            events=[event for event in self.events if event.frame == frame],
        )
