"""Rigid-body physics with MuJoCo: one ``MjModel`` per scene, stepped at a fixed timestep.

Mapping from the scene (``PhysicsSpec``):

- ``dynamic`` entities (with ``collides``) are free bodies; their motion is ignored.
- other colliding entities with ``static`` motion are fixed bodies at their pose;
  with any other motion they are mocap bodies moved to their kinematic pose at every substep,
  so a kinematic pusher pushes dynamic bodies through contacts.
- shapes: ``box``, ``sphere``, ``capsule`` and ``cylinder`` meshes become MuJoCo primitives
  (``collision: auto | primitive``) as long as their scale keeps them one (a non-uniformly scaled
  sphere becomes a hull); ``plane`` becomes a box of ``PLANE_THICKNESS`` whose top face is the
  plane; everything else (and ``collision: convex_hull``) becomes a convex-hull mesh geom of
  ``worldsim.scene.meshes.load_mesh``.
- ``mass`` is the geom mass (inertia from the shape, uniform density); ``friction`` the sliding
  friction (MuJoCo takes the larger of two touching geoms').
- ``restitution`` e in [0, 1] sets the contact's damping ratio to that of a linear spring-damper
  whose bounce keeps a fraction e of the impact speed, ``zeta = -ln(e) / sqrt(pi^2 + ln(e)^2)``
  (e = 0: critical damping, MuJoCo's default), at a fixed stiffness: ``solref = (tau / zeta,
  zeta)`` with ``tau = CONTACT_TIME_CONSTANT``. (MuJoCo's stiffness is ``1 / (tau^2 zeta^2)``
  for ``solref = (tau, zeta)``, so scaling ``tau`` by ``1 / zeta`` keeps it at MuJoCo's default
  while only the damping drops; lowering zeta alone would stiffen the contact until it is
  unstable and gains energy.) A ball dropped from 1 m with e = 0.5 / 0.8 on an e = 0 ground
  comes back to 0.34 / 0.67 m (ideal: 0.33 / 0.68). The two geoms of a contact are mixed with
  ``solmix = e + SOLMIX_FLOOR``, so the bouncier surface dominates.

Time: the simulation always advances in steps of ``world.physics_timestep`` from t = 0, so it is
the same whatever the video fps. A frame at time t between two steps takes the state
interpolated between them (position linear, orientation slerp); on a step it is exact.

Spawning: an entity is in the simulation while ``spawn_time <= t < despawn_time``. Before that,
and after, its geoms do not collide (contype = conaffinity = 0) and a dynamic body is frozen:
at its initial pose before spawning (its initial velocity starts at spawn), at its despawn pose
after.

Deterministic: the same scene gives bit-identical poses (no randomness, fixed step order).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from worldsim.errors import SceneError
from worldsim.scene.meshes import load_mesh, primitive_params
from worldsim.scene.model import EntitySpec, MeshSpec
from worldsim.world.rotations import pose_matrix, pose_rotation, quat_slerp

PLANE_THICKNESS = 0.1
"""Metres; a ``plane`` collider is a box this thick below the plane."""
CONTACT_TIME_CONSTANT = 0.02
"""Seconds; MuJoCo's default contact stiffness time constant (solref[0])."""
MIN_DAMPING_RATIO = 0.005
"""Floor of zeta (restitution 1 is nearly, not exactly, elastic; keeps tau finite)."""
SOLMIX_FLOOR = 1e-3
"""Keeps solmix positive for restitution 0."""
PRIMITIVE_SHAPES = ("box", "sphere", "capsule", "cylinder", "plane")
STEP_EPSILON = 1e-9
"""Fraction of a step below which a frame time counts as on the step."""

KinematicPoses = Callable[[np.ndarray], dict[str, np.ndarray]]
"""``poses(times (N,)) -> name -> (N, 4, 4)`` for the mocap entities."""


def restitution_damping_ratio(restitution: float) -> float:
    """Damping ratio of a spring-damper contact that keeps ``restitution`` of the impact speed."""
    restitution = float(np.clip(restitution, 0.0, 1.0))
    if restitution <= 0.0:
        return 1.0
    if restitution >= 1.0:
        return MIN_DAMPING_RATIO
    log_e = math.log(restitution)
    return max(-log_e / math.sqrt(math.pi**2 + log_e**2), MIN_DAMPING_RATIO)


@dataclass
class CollisionShape:
    """One MuJoCo geom in the entity's object frame.

    geom_type: a ``mujoco.mjtGeom`` name without prefix (``box``, ``sphere``, ``mesh``, ...).
    size: (3,) MuJoCo size parameters (half extents, radius, half length) in metres.
    offset: (3,) geom position in the object frame.
    vertices: (V, 3) hull vertices for ``mesh``.
    """

    geom_type: str
    size: np.ndarray
    offset: np.ndarray
    vertices: np.ndarray | None = None


def _primitive_shape(spec: MeshSpec, key_path: str) -> CollisionShape | None:
    """The MuJoCo primitive matching a primitive mesh (sizes as ``load_mesh`` builds them), or None."""
    params = primitive_params(spec, key_path=f"{key_path}.mesh")
    scale = np.ones(3) if spec.scale is None else np.asarray(spec.scale, dtype=float)
    if spec.type == "box":
        return CollisionShape("box", 0.5 * np.asarray(params.size) * scale, np.zeros(3))
    if spec.type == "plane":
        half = np.array([0.5 * params.size[0] * scale[0], 0.5 * params.size[1] * scale[1],
                         0.5 * PLANE_THICKNESS])
        return CollisionShape("box", half, np.array([0.0, 0.0, -0.5 * PLANE_THICKNESS]))
    if spec.type == "sphere" and np.allclose(scale, scale[0]):
        return CollisionShape("sphere", np.array([params.radius * scale[0], 0.0, 0.0]), np.zeros(3))
    if spec.type in ("cylinder", "capsule") and np.isclose(scale[0], scale[1]):
        if spec.type == "capsule" and not np.isclose(scale[0], scale[2]):
            return None
        size = np.array([params.radius * scale[0], 0.5 * params.height * scale[2], 0.0])
        return CollisionShape(spec.type, size, np.zeros(3))
    return None


def collision_shape(entity: EntitySpec, base_dir: str | Path | None, key_path: str) -> CollisionShape:
    """The collider of ``entity`` (see the module doc for the rules)."""
    spec = entity.mesh
    mode = entity.physics.collision
    if mode not in ("auto", "primitive", "convex_hull"):
        raise SceneError(f"unknown collision {mode!r} (auto | primitive | convex_hull)",
                         key_path=f"{key_path}.physics.collision")
    if spec.type == "plane" or (mode != "convex_hull" and spec.type in PRIMITIVE_SHAPES):
        shape = _primitive_shape(spec, key_path)
        if shape is not None:
            return shape
    if mode == "primitive":
        raise SceneError(f"mesh type {spec.type!r} (with this scale) has no primitive collider; "
                         "use auto or convex_hull", key_path=f"{key_path}.physics.collision")
    mesh = load_mesh(spec, base_dir, key_path=f"{key_path}.mesh")
    hull = mesh.convex_hull
    return CollisionShape("mesh", np.zeros(3), np.zeros(3), np.asarray(hull.vertices, dtype=float))


def _quat_wxyz(rotation: Rotation) -> np.ndarray:
    x, y, z, w = rotation.as_quat()
    return np.array([w, x, y, z])


def _matrix_pos_quat(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return matrix[:3, 3].copy(), _quat_wxyz(Rotation.from_matrix(matrix[:3, :3]))


def _interval(entity: EntitySpec) -> tuple[float, float]:
    spawn = -math.inf if entity.spawn_time is None else float(entity.spawn_time)
    despawn = math.inf if entity.despawn_time is None else float(entity.despawn_time)
    return spawn, despawn


class PhysicsWorld:
    """A compiled MuJoCo model of the colliding entities of a scene.

    entities: the entities taking part (every colliding one); ``dynamic``: names of free bodies;
    ``mocap``: names driven by kinematic poses.
    """

    def __init__(self, entities: Sequence[EntitySpec], *, gravity: Sequence[float], timestep: float,
                 initial_poses: dict[str, np.ndarray], base_dir: str | Path | None = None,
                 key_paths: dict[str, str] | None = None) -> None:
        import mujoco

        if not np.isfinite(timestep) or timestep <= 0:
            raise SceneError("physics_timestep must be a positive number of seconds",
                             key_path="world.physics_timestep")
        self.mujoco = mujoco
        self.timestep = float(timestep)
        key_paths = key_paths or {}
        spec = mujoco.MjSpec()
        spec.modelname = "worldsim"
        spec.option.timestep = self.timestep
        spec.option.gravity = np.asarray(gravity, dtype=float)
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        self.dynamic: list[str] = []
        self.mocap: list[str] = []
        self.entities = list(entities)
        self.entity_names = [entity.name for entity in self.entities]
        geom_names: dict[str, list[str]] = {}
        for entity in self.entities:
            key_path = key_paths.get(entity.name, f"entities[{entity.name}]")
            shape = collision_shape(entity, base_dir, key_path)
            body = spec.worldbody.add_body()
            body.name = entity.name
            position, quat = _matrix_pos_quat(initial_poses[entity.name])
            body.pos, body.quat = position, quat
            if entity.physics.mode == "dynamic":
                body.add_freejoint()
                self.dynamic.append(entity.name)
            elif entity.motion.type != "static":
                body.mocap = True
                self.mocap.append(entity.name)
            geom = body.add_geom()
            geom.name = f"{entity.name}/collider"
            geom.type = getattr(mujoco.mjtGeom, f"mjGEOM_{shape.geom_type.upper()}")
            geom.pos = shape.offset
            if shape.geom_type == "mesh":
                mesh = spec.add_mesh()
                mesh.name = f"{entity.name}/hull"
                mesh.uservert = shape.vertices.reshape(-1).tolist()
                geom.meshname = mesh.name
            else:
                geom.size = shape.size
            physics = entity.physics
            if physics.mode == "dynamic":
                if not np.isfinite(physics.mass) or physics.mass <= 0:
                    raise SceneError("mass must be positive", key_path=f"{key_path}.physics.mass")
                geom.mass = float(physics.mass)
            geom.friction = [float(physics.friction), 0.005, 0.0001]
            damping_ratio = restitution_damping_ratio(physics.restitution)
            geom.solref = [CONTACT_TIME_CONSTANT / damping_ratio, damping_ratio]
            geom.solmix = float(np.clip(physics.restitution, 0.0, 1.0)) + SOLMIX_FLOOR
            geom_names[entity.name] = [geom.name]
        try:
            self.model = spec.compile()
        except ValueError as error:
            raise SceneError(f"MuJoCo could not build the physics model: {error}",
                             key_path="entities") from None
        self.data = mujoco.MjData(self.model)
        self._geoms = {name: [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, geom)
                              for geom in geoms] for name, geoms in geom_names.items()}
        body_ids = {entity.name: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, entity.name)
                    for entity in self.entities}
        self._qpos = {name: int(self.model.jnt_qposadr[self.model.body_jntadr[body_ids[name]]])
                      for name in self.dynamic}
        self._dof = {name: int(self.model.jnt_dofadr[self.model.body_jntadr[body_ids[name]]])
                     for name in self.dynamic}
        self._mocap_index = {name: int(self.model.body_mocapid[body_ids[name]]) for name in self.mocap}
        by_name = {entity.name: entity for entity in self.entities}
        self._initial_velocity = {}
        for name in self.dynamic:
            physics = by_name[name].physics
            rotation = pose_rotation(by_name[name].pose)
            # A free joint's angular velocity is in the body frame; the scene gives world axes.
            angular_local = rotation.inv().apply(np.radians(np.asarray(physics.angular_velocity_deg, float)))
            self._initial_velocity[name] = np.concatenate(
                [np.asarray(physics.linear_velocity, dtype=float), angular_local])

    def simulate(self, frame_times: np.ndarray, kinematic_poses: KinematicPoses | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
        """Poses of the dynamic bodies at ``frame_times`` (T,) seconds: name -> (T, 4, 4)."""
        mujoco = self.mujoco
        model, data = self.model, self.data
        frame_times = np.asarray(frame_times, dtype=float)
        step_position = frame_times / self.timestep
        base_step = np.floor(step_position + STEP_EPSILON).astype(np.int64)
        fraction = np.clip(step_position - base_step, 0.0, None)
        fraction[fraction < STEP_EPSILON] = 0.0
        needed = set(base_step.tolist()) | set((base_step[fraction > 0] + 1).tolist())
        last_step = max(needed) if needed else 0
        step_times = np.arange(last_step + 1) * self.timestep
        mocap_poses = kinematic_poses(step_times) if (self.mocap and kinematic_poses) else {}

        mujoco.mj_resetData(model, data)
        by_name = {entity.name: entity for entity in self.entities}
        active = {}
        for name in self.entity_names:
            spawn, despawn = _interval(by_name[name])
            active[name] = (step_times >= spawn) & (step_times < despawn)
        changes: dict[int, list[str]] = {0: list(self.entity_names)}
        for name, mask in active.items():
            for step in (np.flatnonzero(mask[1:] != mask[:-1]) + 1).tolist():
                changes.setdefault(step, []).append(name)
        hold = {name: np.concatenate(_matrix_pos_quat(pose_matrix(by_name[name].pose)))
                for name in self.dynamic}
        frozen: set[str] = set()
        mocap_names = [name for name in self.mocap if name in mocap_poses]
        mocap_rows = np.array([self._mocap_index[name] for name in mocap_names], dtype=np.int64)
        if mocap_names:
            matrices = np.stack([mocap_poses[name] for name in mocap_names], axis=1)  # (S, M, 4, 4)
            mocap_positions = matrices[..., :3, 3]
            xyzw = Rotation.from_matrix(matrices[..., :3, :3].reshape(-1, 3, 3)).as_quat()
            mocap_quats = xyzw[:, [3, 0, 1, 2]].reshape(len(step_times), len(mocap_names), 4)
        qpos_index = np.array([np.arange(self._qpos[name], self._qpos[name] + 7) for name in self.dynamic],
                              dtype=np.int64).reshape(-1, 7)
        recorded: dict[int, np.ndarray] = {}

        def apply_state(step: int) -> None:
            for name in changes.get(step, ()):
                is_active = bool(active[name][step])
                for geom in self._geoms[name]:
                    model.geom_contype[geom] = 1 if is_active else 0
                    model.geom_conaffinity[geom] = 1 if is_active else 0
                if name not in self._qpos:
                    continue
                qpos, dof = self._qpos[name], self._dof[name]
                if is_active:
                    # Spawning (or present from the start): initial pose and velocity.
                    frozen.discard(name)
                    data.qpos[qpos:qpos + 7] = hold[name]
                    data.qvel[dof:dof + 6] = self._initial_velocity[name]
                else:
                    if step > 0:  # despawning: freeze where it is
                        hold[name] = data.qpos[qpos:qpos + 7].copy()
                    frozen.add(name)
            for name in frozen:
                # Undo the step taken under gravity.
                qpos, dof = self._qpos[name], self._dof[name]
                data.qpos[qpos:qpos + 7] = hold[name]
                data.qvel[dof:dof + 6] = 0.0
            if mocap_names:
                data.mocap_pos[mocap_rows] = mocap_positions[step]
                data.mocap_quat[mocap_rows] = mocap_quats[step]

        stops = sorted(needed | set(changes))
        apply_state(0)
        mujoco.mj_forward(model, data)
        if 0 in needed:
            recorded[0] = data.qpos[qpos_index].copy()
        step = 0
        for stop in stops[1:] if stops[0] == 0 else stops:
            if mocap_names or frozen:
                while step < stop:  # something changes at every substep
                    mujoco.mj_step(model, data)
                    step += 1
                    apply_state(step)
            else:
                mujoco.mj_step(model, data, nstep=stop - step)
                step = stop
                apply_state(step)
            if step in needed:
                recorded[step] = data.qpos[qpos_index].copy()
            if progress is not None:
                progress(step)
        return self._frames(recorded, base_step, fraction)

    def _frames(self, recorded: dict[int, np.ndarray], base_step: np.ndarray,
                fraction: np.ndarray) -> dict[str, np.ndarray]:
        count = len(base_step)
        states = np.stack([recorded[int(step)] for step in base_step]) if count else np.zeros((0, 0, 7))
        following = np.stack([recorded[int(step) + 1] if frac > 0 else recorded[int(step)]
                              for step, frac in zip(base_step, fraction)]) if count else states
        result: dict[str, np.ndarray] = {}
        for column, name in enumerate(self.dynamic):
            position = (states[:, column, :3] * (1.0 - fraction[:, None])
                        + following[:, column, :3] * fraction[:, None])
            quat = states[:, column, 3:]
            moving = fraction > 0
            if np.any(moving):
                quat = quat.copy()
                quat[moving] = quat_slerp(states[moving, column, 3:], following[moving, column, 3:],
                                          fraction[moving])
            matrices = np.zeros((count, 4, 4))
            matrices[:, :3, :3] = Rotation.from_quat(quat[:, [1, 2, 3, 0]]).as_matrix()
            matrices[:, :3, 3] = position
            matrices[:, 3, 3] = 1.0
            result[name] = matrices
        return result
