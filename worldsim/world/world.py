"""``World(scene).rollout()``: kinematics + MuJoCo physics + cameras + events -> ``Trajectory``.

Order of evaluation: kinematic motions that do not depend on a simulated body (topologically,
parents and orbit targets first); physics for the colliding entities, with kinematic ones as
mocap bodies; then the motions that follow a simulated body (attached to or orbiting a dynamic
entity; those are not colliders, see ``physics.py``). A dynamic entity with ``collides: false``
is not simulated and follows its motion. Entities that do not exist at a frame (spawn /
despawn) are held at their first / last present pose.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from worldsim.camera.evaluate import evaluate_camera
from worldsim.camera.track import CameraTrack
from worldsim.errors import SceneError, format_issue
from worldsim.memory import keep_freed_memory
from worldsim.scene.hdri import is_hdri_path
from worldsim.scene.meshes import load_mesh, mesh_bounds
from worldsim.scene.model import EntitySpec, LightSpec
from worldsim.scene.scene import Scene, SceneWarning
from worldsim.state import EntityInfo, Trajectory
from worldsim.world.events import detect_events, presence, spheres_in_view
from worldsim.world.kinematics import evaluate_motions, evaluate_motions_into, motion_dependencies
from worldsim.world.physics import PhysicsWorld
from worldsim.world.rotations import pose_matrix

if TYPE_CHECKING:
    from tqdm import tqdm

PHYSICS_STAGES = 100
"""Progress-bar units of the physics simulation."""
ROLLOUT_STAGES = PHYSICS_STAGES + 3
"""Physics, then poses, cameras and visibility/events one unit each."""


class World:
    """The simulated world of one scene; ``rollout`` evaluates every frame."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.base_dir = Path(scene.source_file).resolve().parent if scene.source_file else None
        index = {id(entity): i for i, entity in enumerate(scene.entities)}
        names: set[str] = set()
        for i, entity in enumerate(scene.entities):
            if entity.id is None:
                raise SceneError(
                    "entity has no id; add entities with Scene.add",
                    file=scene.source_file,
                    key_path=f"entities[{i}].id",
                )
            if entity.name in names:
                raise SceneError(
                    f"duplicate entity name {entity.name!r}",
                    file=scene.source_file,
                    key_path=f"entities[{i}].name",
                )
            names.add(entity.name)
        self.entities = sorted(scene.entities, key=lambda entity: int(entity.id))
        self.key_paths = {entity.name: f"entities[{index[id(entity)]}]" for entity in self.entities}

    @property
    def times(self) -> np.ndarray:
        """(T,) float64 seconds of the frames; frame i is at i / fps."""
        fps = float(self.scene.fps)
        if not np.isfinite(fps) or fps <= 0:
            raise SceneError("fps must be a positive number", file=self.scene.source_file, key_path="fps")
        return np.arange(self.scene.frame_count) / fps

    def rollout(self, progress: bool = False) -> Trajectory:
        """Simulate the whole clip; a progress bar shows when ``progress`` and it takes over 1 s."""
        from tqdm import tqdm

        keep_freed_memory()  # a second rollout reuses the first one's pages (no page faults)
        try:
            with tqdm(
                total=ROLLOUT_STAGES, desc="rollout", delay=1.0, disable=not progress, leave=False
            ) as bar:
                return self._rollout(bar)
        except SceneError as error:
            if error.file is None and self.scene.source_file:
                raise SceneError(error.reason, file=self.scene.source_file, key_path=error.key_path) from None
            raise

    def _rollout(self, bar: tqdm) -> Trajectory:
        if not self.scene.lights:
            message = format_issue(
                self.scene.source_file, "lights", "no lights (an empty list): a dark scene"
            )
            warnings.warn(message, SceneWarning, stacklevel=3)
        times = self.times
        object_to_world = np.empty((len(times), len(self.entities), 4, 4))
        self._fill_poses(times, object_to_world, bar)
        present = presence(
            times, [e.spawn_time for e in self.entities], [e.despawn_time for e in self.entities]
        )
        _hold_outside_presence(object_to_world, present)
        bar.update(1)
        cameras = self._cameras(times, object_to_world)
        bar.update(1)
        centers, radii = self._bounding_spheres()
        in_view = {
            name: spheres_in_view(object_to_world, centers, radii, track) & present
            for name, track in cameras.items()
        }
        events = detect_events(
            times,
            [e.id for e in self.entities],
            present,
            [e.spawn_time is not None for e in self.entities],
            [e.despawn_time is not None for e in self.entities],
            in_view,
        )
        bar.update(1)
        scene = self.scene
        return Trajectory(
            scene_name=scene.name,
            seed=int(scene.seed),
            fps=float(scene.fps),
            resolution=(int(scene.resolution[0]), int(scene.resolution[1])),
            entities=self.entity_table(),
            object_to_world=object_to_world,
            present=present,
            cameras=cameras,
            in_view=in_view,
            events=events,
            lights=self.light_table(),
            semantic_classes=scene.semantic_table(),
            prompt=scene.prompt,
        )

    def entity_poses(self, times: np.ndarray, *, bar: tqdm | None = None) -> dict[str, np.ndarray]:
        """name -> (T, 4, 4) ``object_to_world`` of every entity at ``times`` (no spawn holding).

        ``bar``: an optional tqdm bar; physics moves it through ``PHYSICS_STAGES`` units.
        """
        poses = np.empty((len(times), len(self.entities), 4, 4))
        self._fill_poses(times, poses, bar)
        return {entity.name: poses[:, column] for column, entity in enumerate(self.entities)}

    def _fill_poses(self, times: np.ndarray, out: np.ndarray, bar: tqdm | None) -> None:
        """Write every entity's poses at ``times`` into ``out`` (T, E, 4, 4), columns in id order."""
        entities = self.entities
        columns = {entity.name: column for column, entity in enumerate(entities)}
        simulated = {e.name for e in entities if e.physics.mode == "dynamic" and e.physics.collides}
        follows_simulated = _dependents_of(entities, simulated)
        first = [e.name for e in entities if e.name not in simulated and e.name not in follows_simulated]
        evaluate_motions_into(entities, times, out, columns, names=first)
        if simulated:
            for name, pose in self._simulate(times, simulated, follows_simulated, bar).items():
                out[:, columns[name]] = pose
        elif bar is not None:
            bar.update(PHYSICS_STAGES)
        rest = [e.name for e in entities if e.name in follows_simulated]
        if rest:
            known = {
                name: out[:, column] for name, column in columns.items() if name not in follows_simulated
            }
            evaluate_motions_into(entities, times, out, columns, names=rest, known=known)

    def _simulate(
        self, times: np.ndarray, simulated: set[str], follows_simulated: set[str], bar: tqdm | None
    ) -> dict[str, np.ndarray]:
        colliders = [e for e in self.entities if e.physics.collides and e.name not in follows_simulated]
        mocap = [e.name for e in colliders if e.name not in simulated and e.motion.type != "static"]
        initial = evaluate_motions(self.entities, np.zeros(1), names=mocap)
        initial_poses = {
            e.name: initial[e.name][0]
            if e.name in initial
            else pose_matrix(e.pose, key_path=f"{self.key_paths[e.name]}.pose")
            for e in colliders
        }
        world = PhysicsWorld(
            colliders,
            gravity=self.scene.world.gravity,
            timestep=self.scene.world.physics_timestep,
            initial_poses=initial_poses,
            base_dir=self.base_dir,
            key_paths=self.key_paths,
        )

        def kinematic_poses(step_times: np.ndarray) -> dict[str, np.ndarray]:
            return evaluate_motions(self.entities, step_times, names=mocap)

        last_step = max(1, int(np.floor(times[-1] / world.timestep)) + 1) if len(times) else 1
        done = [0]

        def advance(step: int) -> None:
            units = PHYSICS_STAGES * min(step, last_step) // last_step
            if bar is not None and units > done[0]:
                bar.update(units - done[0])
                done[0] = units

        poses = world.simulate(times, kinematic_poses, advance if bar is not None else None)
        if bar is not None:
            bar.update(PHYSICS_STAGES - done[0])
        return poses

    def _cameras(self, times: np.ndarray, object_to_world: np.ndarray) -> dict[str, CameraTrack]:
        column = {entity.name: i for i, entity in enumerate(self.entities)}

        def entity_position(name: str, frames: np.ndarray) -> np.ndarray:
            if name not in column:
                raise SceneError(f"camera target {name!r} is not an entity", key_path="cameras")
            return object_to_world[np.asarray(frames), column[name], :3, 3]

        if not self.scene.cameras:
            raise SceneError("a scene needs at least one camera", key_path="cameras")
        resolution = (int(self.scene.resolution[0]), int(self.scene.resolution[1]))
        tracks: dict[str, CameraTrack] = {}
        for index, spec in enumerate(self.scene.cameras):
            tracks[spec.name] = evaluate_camera(
                spec,
                times,
                resolution,
                entity_position=entity_position,
                scene_seed=int(self.scene.seed),
                scene_exposure_ev=float(self.scene.exposure_ev),
                key_path=f"cameras[{index}]",
            )
        return tracks

    def _bounding_spheres(self) -> tuple[np.ndarray, np.ndarray]:
        """(E, 3) object-frame centres and (E,) radii of the entities' bounding spheres."""
        centers = np.zeros((len(self.entities), 3))
        radii = np.zeros(len(self.entities))
        bounds: dict[str, tuple[np.ndarray, float]] = {}  # repr(mesh spec) -> sphere: crowds share meshes
        for i, entity in enumerate(self.entities):
            key = repr(entity.mesh)
            if key not in bounds:
                mesh = load_mesh(entity.mesh, self.base_dir, key_path=f"{self.key_paths[entity.name]}.mesh")
                bounds[key] = mesh_bounds(mesh)
            centers[i], radii[i] = bounds[key]
        return centers, radii

    def light_table(self) -> list[LightSpec]:
        """The scene's lights with environment ``hdri`` paths made absolute (relative to the scene file)."""
        lights = copy.deepcopy(list(self.scene.lights))
        base = self.base_dir if self.base_dir is not None else Path.cwd()
        for light in lights:
            if light.hdri and is_hdri_path(light.hdri) and not Path(light.hdri).expanduser().is_absolute():
                light.hdri = str((base / light.hdri).resolve())
        return lights

    def entity_table(self) -> list[EntityInfo]:
        """The entity table (id order) with resolved materials and absolute mesh files."""
        semantic = self.scene.semantic_table()
        table = []
        for entity in self.entities:
            mesh = copy.deepcopy(entity.mesh)
            if mesh.file is not None and not Path(mesh.file).is_absolute():
                base = self.base_dir if self.base_dir is not None else Path.cwd()
                mesh.file = str((base / mesh.file).resolve())
            table.append(
                EntityInfo(
                    id=int(entity.id),
                    name=entity.name,
                    semantic_class=entity.semantic_class,
                    semantic_id=int(semantic[entity.semantic_class]),
                    mesh=mesh,
                    material=copy.deepcopy(self.scene.resolve_material(entity)),
                    physics_mode=entity.physics.mode,
                )
            )
        return table


def _dependents_of(entities: list[EntitySpec], sources: set[str]) -> set[str]:
    """Names of entities whose motion (transitively) follows one of ``sources``."""
    by_name = {entity.name: entity for entity in entities}
    memo: dict[str, bool] = {}

    def follows(name: str, depth: int = 0) -> bool:
        if name in memo:
            return memo[name]
        entity = by_name.get(name)
        if entity is None or depth > len(entities):
            return False
        result = any(dep in sources or follows(dep, depth + 1) for dep in motion_dependencies(entity))
        memo[name] = result
        return result

    return {entity.name for entity in entities if entity.name not in sources and follows(entity.name)}


def _hold_outside_presence(object_to_world: np.ndarray, present: np.ndarray) -> None:
    """Hold each entity at its first present pose before it spawns and its last after it despawns."""
    for column in np.flatnonzero(~np.all(present, axis=0)):
        frames = np.flatnonzero(present[:, column])
        if len(frames) == 0:
            continue
        object_to_world[: frames[0], column] = object_to_world[frames[0], column]
        object_to_world[frames[-1] + 1 :, column] = object_to_world[frames[-1], column]
