"""Rigid-body physics with MuJoCo: one ``MjModel`` per scene, stepped at a fixed timestep.

Mapping from the scene (``PhysicsSpec``):

- ``dynamic`` entities (with ``collides``) are free bodies; their motion is ignored.
- other colliding entities with ``static`` motion are fixed bodies at their pose;
  with any other motion they are *driven* bodies: free bodies of ``DRIVEN_MASS_RATIO`` times the
  heaviest dynamic mass, without gravity, set at every substep to their kinematic pose and to
  the velocity that reaches the next substep's pose. Contacts see that velocity, so a kinematic
  pusher pushes dynamic bodies and a moving platform or turntable carries them by friction;
  contacts barely disturb a driven body within a substep and its pose is reset at the next.
  (Plain MuJoCo mocap bodies have no velocity: friction would not carry anything.)
- collision filtering: static and driven geoms collide only with dynamic ones
  (``contype = 0, conaffinity = 1`` against ``1, 1``).
- shapes: see ``colliders.py`` (primitives where the mesh is one, convex hulls for dynamic
  bodies, per-triangle prisms for non-convex static and kinematic meshes).
- ``mass`` is the geom mass (inertia from the shape, uniform density); ``friction`` the sliding
  friction (MuJoCo takes the larger of two touching geoms').
- ``restitution`` e in [0, 1] sets the contact's damping ratio to that of a linear spring-damper
  whose bounce keeps a fraction e of the impact speed, ``zeta = -ln(e) / sqrt(pi^2 + ln(e)^2)``
  (e = 0: critical damping, MuJoCo's default), at a fixed stiffness: ``solref = (tau / zeta,
  zeta)`` with ``tau = CONTACT_TIME_CONSTANT``. (MuJoCo's stiffness is ``1 / (tau^2 zeta^2)``
  for ``solref = (tau, zeta)``, so scaling ``tau`` by ``1 / zeta`` keeps it at MuJoCo's default
  while only the damping drops; lowering zeta alone would stiffen the contact until it is
  unstable and gains energy.) A 10 cm ball dropped from 1 m with e = 0 / 0.5 / 0.8 on an e = 0
  ground comes back to 0.10 / 0.34 / 0.65 m (ideal: 0.10 / 0.33 / 0.68) and sinks at most 0.3 /
  1.1 / 1.5 mm into it. The two geoms of a contact are mixed with
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
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from worldsim.errors import SceneError
from worldsim.scene.model import EntitySpec
from worldsim.world.colliders import collision_shapes
from worldsim.world.rotations import pose_matrix, pose_rotation, quat_slerp

CONTACT_TIME_CONSTANT = 0.0004
"""Seconds; the contact spring's time constant 1 / omega (MuJoCo's solref[0] at critical damping;
its default 0.02 s lets a ball hitting the ground at 5 m/s sink 3 to 9 cm). A contact at impact
speed v sinks about v * tau * f(restitution), f from 1 / e (no bounce) to 0.85 (lively): 0.4 ms
keeps bodies within 2 mm up to 5.5 m/s (a 1.5 m drop). MuJoCo needs solref[0] >= 2 timesteps
(it clamps it otherwise), hence the default ``physics_timestep`` of 0.16 ms."""
MIN_DAMPING_RATIO = 0.005
"""Floor of zeta (restitution 1 is nearly, not exactly, elastic; keeps tau finite)."""
SOLMIX_FLOOR = 1e-3
"""Keeps solmix positive for restitution 0."""
STEP_EPSILON = 1e-9
"""Fraction of a step below which a frame time counts as on the step."""

KinematicPoses = Callable[[np.ndarray], dict[str, np.ndarray]]
"""``poses(times (N,)) -> name -> (N, 4, 4)`` for the driven (kinematic, moving) entities."""
DRIVEN_CHUNK_STEPS = 1024
"""Substeps of driven-body states evaluated at once."""
DRIVEN_MASS_RATIO = 1000.0
"""Mass of a driven body relative to the heaviest dynamic body (1 kg when there is none)."""


def restitution_damping_ratio(restitution: float) -> float:
    """Damping ratio of a spring-damper contact that keeps ``restitution`` of the impact speed."""
    restitution = float(np.clip(restitution, 0.0, 1.0))
    if restitution <= 0.0:
        return 1.0
    if restitution >= 1.0:
        return MIN_DAMPING_RATIO
    log_e = math.log(restitution)
    return max(-log_e / math.sqrt(math.pi**2 + log_e**2), MIN_DAMPING_RATIO)


def _quat_wxyz(rotation: Rotation) -> np.ndarray:
    x, y, z, w = rotation.as_quat()
    return np.array([w, x, y, z])


def _matrix_pos_quat(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return matrix[:3, 3].copy(), _quat_wxyz(Rotation.from_matrix(matrix[:3, :3]))


def _interval(entity: EntitySpec) -> tuple[float, float]:
    spawn = -math.inf if entity.spawn_time is None else float(entity.spawn_time)
    despawn = math.inf if entity.despawn_time is None else float(entity.despawn_time)
    return spawn, despawn


def _driven_states(poses: np.ndarray, timestep: float) -> tuple[np.ndarray, np.ndarray]:
    """Free-joint states of driven bodies from their poses (S, M, 4, 4) at every substep.

    Returns qpos (S, M, 7) (position, quaternion w x y z) and qvel (S, M, 6): the linear velocity
    (world) and angular velocity (body frame) that take substep s to s + 1 (zero at the last).
    """
    steps, count = poses.shape[:2]
    rotations = Rotation.from_matrix(poses[..., :3, :3].reshape(-1, 3, 3))
    xyzw = rotations.as_quat().reshape(steps, count, 4)
    qpos = np.concatenate([poses[..., :3, 3], xyzw[..., [3, 0, 1, 2]]], axis=-1)
    qvel = np.zeros((steps, count, 6))
    if steps > 1:
        qvel[:-1, :, :3] = np.diff(poses[..., :3, 3], axis=0) / timestep
        matrices = poses[..., :3, :3]
        # Body-frame angular velocity: R_s^T R_{s+1} = exp(omega_body dt).
        relative = np.einsum("smji,smjk->smik", matrices[:-1], matrices[1:]).reshape(-1, 3, 3)
        omega = Rotation.from_matrix(relative).as_rotvec().reshape(steps - 1, count, 3) / timestep
        qvel[:-1, :, 3:] = omega
    return qpos, qvel


class _DrivenStates:
    """Free-joint states of the driven bodies per substep, evaluated in chunks of
    ``DRIVEN_CHUNK_STEPS`` so memory does not grow with the clip length."""

    def __init__(self, names: list[str], kinematic_poses: KinematicPoses | None, timestep: float) -> None:
        self.names, self.kinematic_poses, self.timestep = names, kinematic_poses, timestep
        self.start: int | None = None
        self.qpos = self.qvel = np.zeros((0, len(names), 7))

    def at(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """qpos (M, 7) and qvel (M, 6) of the driven bodies at substep ``step``."""
        if self.start is None or not self.start <= step < self.start + DRIVEN_CHUNK_STEPS:
            self.start = step
            times = (step + np.arange(DRIVEN_CHUNK_STEPS + 1)) * self.timestep
            poses = self.kinematic_poses(times)
            qpos, qvel = _driven_states(np.stack([poses[name] for name in self.names], axis=1), self.timestep)
            self.qpos, self.qvel = qpos[:-1], qvel[:-1]
        return self.qpos[step - self.start], self.qvel[step - self.start]


class PhysicsWorld:
    """A compiled MuJoCo model of the colliding entities of a scene.

    entities: the entities taking part (every colliding one); ``dynamic``: names of free bodies;
    ``driven``: names of bodies that follow kinematic poses.
    """

    def __init__(
        self,
        entities: Sequence[EntitySpec],
        *,
        gravity: Sequence[float],
        timestep: float,
        initial_poses: dict[str, np.ndarray],
        base_dir: str | Path | None = None,
        key_paths: dict[str, str] | None = None,
    ) -> None:
        import mujoco

        _route_mujoco_warnings(mujoco)
        if not np.isfinite(timestep) or timestep <= 0:
            raise SceneError(
                "physics_timestep must be a positive number of seconds", key_path="world.physics_timestep"
            )
        self.mujoco = mujoco
        self.timestep = float(timestep)
        key_paths = key_paths or {}
        spec = mujoco.MjSpec()
        spec.modelname = "worldsim"
        spec.option.timestep = self.timestep
        spec.option.gravity = np.asarray(gravity, dtype=float)
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        self.dynamic: list[str] = []
        self.driven: list[str] = []
        self.entities = list(entities)
        self.entity_names = [entity.name for entity in self.entities]
        self.dynamic_set: set[str] = set()
        geom_names: dict[str, list[str]] = {}
        hull_names: dict[bytes, str] = {}
        dynamic_masses = [float(e.physics.mass) for e in self.entities if e.physics.mode == "dynamic"]
        driven_mass = DRIVEN_MASS_RATIO * max([1.0, *[m for m in dynamic_masses if np.isfinite(m)]])
        self._collision_types: dict[str, tuple[int, int]] = {}
        for entity in self.entities:
            key_path = key_paths.get(entity.name, f"entities[{entity.name}]")
            shapes = collision_shapes(entity, base_dir, key_path)
            body = spec.worldbody.add_body()
            body.name = entity.name
            body.pos, body.quat = _matrix_pos_quat(initial_poses[entity.name])
            if entity.physics.mode == "dynamic":
                body.add_freejoint()
                self.dynamic.append(entity.name)
                self.dynamic_set.add(entity.name)
            elif entity.motion.type != "static":
                body.add_freejoint()
                body.gravcomp = 1.0
                self.driven.append(entity.name)
            physics = entity.physics
            if physics.mode == "dynamic" and (not np.isfinite(physics.mass) or physics.mass <= 0):
                raise SceneError("mass must be positive", key_path=f"{key_path}.physics.mass")
            body_mass = float(physics.mass) if physics.mode == "dynamic" else driven_mass
            damping_ratio = restitution_damping_ratio(physics.restitution)
            geom_names[entity.name] = []
            for index, shape in enumerate(shapes):
                geom = body.add_geom()
                geom.name = f"{entity.name}/collider{index}"
                geom.type = getattr(mujoco.mjtGeom, f"mjGEOM_{shape.geom_type.upper()}")
                geom.pos = shape.offset
                if shape.geom_type == "mesh":
                    geom.meshname = self._mesh_name(spec, shape.vertices, hull_names)
                else:
                    geom.size = shape.size
                geom.mass = body_mass / len(shapes)
                geom.friction = [float(physics.friction), 0.005, 0.0001]
                geom.solref = [CONTACT_TIME_CONSTANT / damping_ratio, damping_ratio]
                geom.solmix = float(np.clip(physics.restitution, 0.0, 1.0)) + SOLMIX_FLOOR
                geom_names[entity.name].append(geom.name)
            self._collision_types[entity.name] = (1, 1) if physics.mode == "dynamic" else (0, 1)
        try:
            self.model = spec.compile()
        except ValueError as error:
            raise SceneError(
                f"MuJoCo could not build the physics model: {error}", key_path="entities"
            ) from None
        self.data = mujoco.MjData(self.model)
        self._geoms = {
            name: [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, geom) for geom in geoms]
            for name, geoms in geom_names.items()
        }
        body_ids = {
            entity.name: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, entity.name)
            for entity in self.entities
        }
        jointed = [*self.dynamic, *self.driven]
        self._qpos = {
            name: int(self.model.jnt_qposadr[self.model.body_jntadr[body_ids[name]]]) for name in jointed
        }
        self._dof = {
            name: int(self.model.jnt_dofadr[self.model.body_jntadr[body_ids[name]]]) for name in jointed
        }
        by_name = {entity.name: entity for entity in self.entities}
        self._initial_velocity = {}
        for name in self.dynamic:
            physics = by_name[name].physics
            rotation = pose_rotation(by_name[name].pose)
            # A free joint's angular velocity is in the body frame; the scene gives world axes.
            angular_local = rotation.inv().apply(np.radians(np.asarray(physics.angular_velocity_deg, float)))
            self._initial_velocity[name] = np.concatenate(
                [np.asarray(physics.linear_velocity, dtype=float), angular_local]
            )

    @staticmethod
    def _mesh_name(spec, vertices: np.ndarray, names: dict[bytes, str]) -> str:
        """One MuJoCo mesh per distinct vertex set, shared by every geom that uses it."""
        key = vertices.tobytes()
        if key not in names:
            mesh = spec.add_mesh()
            mesh.name = f"mesh{len(names)}"
            mesh.uservert = vertices.reshape(-1).tolist()
            names[key] = mesh.name
        return names[key]

    def simulate(
        self,
        frame_times: np.ndarray,
        kinematic_poses: KinematicPoses | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, np.ndarray]:
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
        hold = {
            name: np.concatenate(_matrix_pos_quat(pose_matrix(by_name[name].pose))) for name in self.dynamic
        }
        frozen: set[str] = set()
        driven_names = list(self.driven) if kinematic_poses is not None else []
        driven = _DrivenStates(driven_names, kinematic_poses, self.timestep)
        if driven_names:
            driven_qpos_index = np.array([np.arange(self._qpos[n], self._qpos[n] + 7) for n in driven_names])
            driven_dof_index = np.array([np.arange(self._dof[n], self._dof[n] + 6) for n in driven_names])
        qpos_index = np.array(
            [np.arange(self._qpos[name], self._qpos[name] + 7) for name in self.dynamic], dtype=np.int64
        ).reshape(-1, 7)
        recorded: dict[int, np.ndarray] = {}

        def apply_state(step: int) -> None:
            for name in changes.get(step, ()):
                is_active = bool(active[name][step])
                contype, conaffinity = self._collision_types[name] if is_active else (0, 0)
                for geom in self._geoms[name]:
                    model.geom_contype[geom] = contype
                    model.geom_conaffinity[geom] = conaffinity
                if name not in self.dynamic_set:
                    continue
                qpos, dof = self._qpos[name], self._dof[name]
                if is_active:
                    # Spawning (or present from the start): initial pose and velocity.
                    frozen.discard(name)
                    data.qpos[qpos : qpos + 7] = hold[name]
                    data.qvel[dof : dof + 6] = self._initial_velocity[name]
                else:
                    if step > 0:  # despawning: freeze where it is
                        hold[name] = data.qpos[qpos : qpos + 7].copy()
                    frozen.add(name)
            for name in frozen:
                # Undo the step taken under gravity.
                qpos, dof = self._qpos[name], self._dof[name]
                data.qpos[qpos : qpos + 7] = hold[name]
                data.qvel[dof : dof + 6] = 0.0
            if driven_names:
                qpos, qvel = driven.at(step)
                data.qpos[driven_qpos_index] = qpos
                data.qvel[driven_dof_index] = qvel

        stops = sorted(needed | set(changes))
        apply_state(0)
        mujoco.mj_forward(model, data)
        if 0 in needed:
            recorded[0] = data.qpos[qpos_index].copy()
        step = 0
        for stop in stops[1:] if stops[0] == 0 else stops:
            if driven_names or frozen:
                while step < stop:  # something changes at every substep
                    mujoco.mj_step(model, data)
                    step += 1
                    apply_state(step)
            else:
                mujoco.mj_step(model, data, nstep=stop - step)
                step = stop
                apply_state(step)
            self._check_stable(step)
            if step in needed:
                recorded[step] = data.qpos[qpos_index].copy()
            if progress is not None:
                progress(step)
        return self._frames(recorded, base_step, fraction)

    def _check_stable(self, step: int) -> None:
        """Raise where MuJoCo found a non-finite or huge state by ``step``: it then resets the
        simulation to the initial state and carries on, which would hand back poses that jump
        back to the start (a silent wrong result)."""
        mujoco = self.mujoco
        bad = [
            (kind, self.data.warning[int(warning)])
            for kind, warning in (
                ("position", mujoco.mjtWarning.mjWARN_BADQPOS),
                ("velocity", mujoco.mjtWarning.mjWARN_BADQVEL),
                ("acceleration", mujoco.mjtWarning.mjWARN_BADQACC),
            )
        ]
        diverged = [(kind, stat) for kind, stat in bad if stat.number > 0]
        if not diverged:
            return
        kind, stat = diverged[0]
        dof = int(stat.lastinfo)
        body = next((name for name, first in self._dof.items() if first <= dof < first + 6), None)
        where = f" of entity {body!r}" if body is not None else ""
        raise SceneError(
            f"the physics simulation diverged by t = {step * self.timestep:.4g} s (non-finite or "
            f"huge {kind}{where}); lower world.physics_timestep, or check masses, initial "
            "velocities and overlapping colliders",
            key_path="world.physics_timestep",
        )

    def _frames(
        self, recorded: dict[int, np.ndarray], base_step: np.ndarray, fraction: np.ndarray
    ) -> dict[str, np.ndarray]:
        count = len(base_step)
        states = np.stack([recorded[int(step)] for step in base_step]) if count else np.zeros((0, 0, 7))
        following = (
            np.stack(
                [
                    recorded[int(step) + 1] if frac > 0 else recorded[int(step)]
                    for step, frac in zip(base_step, fraction)
                ]
            )
            if count
            else states
        )
        result: dict[str, np.ndarray] = {}
        for column, name in enumerate(self.dynamic):
            position = (
                states[:, column, :3] * (1.0 - fraction[:, None])
                + following[:, column, :3] * fraction[:, None]
            )
            quat = states[:, column, 3:]
            moving = fraction > 0
            if np.any(moving):
                quat = quat.copy()
                quat[moving] = quat_slerp(
                    states[moving, column, 3:], following[moving, column, 3:], fraction[moving]
                )
            matrices = np.zeros((count, 4, 4))
            matrices[:, :3, :3] = Rotation.from_quat(quat[:, [1, 2, 3, 0]]).as_matrix()
            matrices[:, :3, 3] = position
            matrices[:, 3, 3] = 1.0
            result[name] = matrices
        return result


MUJOCO_WARNINGS: list[str] = []
"""MuJoCo's warning messages of this process, newest last (at most 100): MuJoCo would otherwise
print them and append them to ``MUJOCO_LOG.TXT`` in the working directory. Divergence, the one
that matters, raises from ``simulate``."""


def _route_mujoco_warnings(mujoco) -> None:
    """Send MuJoCo's warnings to ``MUJOCO_WARNINGS`` instead of stdout and a log file."""

    def keep(message: str) -> None:
        MUJOCO_WARNINGS.append(str(message))
        del MUJOCO_WARNINGS[:-100]

    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(keep)
