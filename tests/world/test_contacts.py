"""Contacts are stiff: bodies sink at most ``MAX_PENETRATION`` into what they hit (issue 18, item 14).

Penetration is measured from the rollout's poses and the shapes' geometry (signed distances to
boxes, planes, spheres and, for the stairs mesh, trimesh's closest points), never from MuJoCo's
own contact data. Frames are sampled at ``DENSE_FPS`` so the deepest moment of an impact (which
lasts about a millisecond) is seen.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import trimesh

from worldsim.scene.meshes import load_mesh, primitive_params
from worldsim.scene.model import EntitySpec, MeshSpec, PhysicsSpec, Pose
from worldsim.scene.scene import Scene
from worldsim.scene.yaml_io import load_scene
from worldsim.state import Trajectory
from worldsim.world.world import World

MAX_PENETRATION = 0.002
"""Metres: the deepest any body may sink into another, at impact or at rest."""
REST_PENETRATION = 0.0005
"""Metres: how deep a body resting under gravity sinks."""
DENSE_FPS = 2000.0
SCENES = Path(__file__).resolve().parents[2] / "scenes"
CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)


def _solid(entity: EntitySpec, base_dir: Path | None) -> tuple[str, np.ndarray | trimesh.Trimesh]:
    """The collider's kind and size: ``box`` half extents (a plane is its top face with the
    space below it), ``sphere`` radius, or the mesh for anything else."""
    mesh = entity.mesh
    if mesh.type in ("box", "plane", "sphere"):
        params = primitive_params(mesh)
        if mesh.type == "sphere":
            return "sphere", np.array([params.radius])
        if mesh.type == "plane":
            return "plane", np.array([0.5 * params.size[0], 0.5 * params.size[1]])
        return "box", 0.5 * np.asarray(params.size, dtype=float)
    return "mesh", load_mesh(mesh, base_dir)


def _depth(points_or_center, radius: float, kind: str, size, pose: np.ndarray) -> np.ndarray:
    """(T, P) how deep each point (or sphere of ``radius``) is inside one collider at each frame."""
    world_to_local = np.linalg.inv(pose)  # (T, 4, 4)
    local = (
        np.einsum("tij,tpj->tpi", world_to_local[:, :3, :3], points_or_center)
        + world_to_local[:, None, :3, 3]
    )
    if kind == "plane":
        inside_xy = np.all(np.abs(local[..., :2]) <= size, axis=-1)
        return np.where(inside_xy, radius - local[..., 2], -np.inf)
    if kind == "box":
        q = np.abs(local) - size
        signed = np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)
        return radius - signed
    if kind == "sphere":
        return radius + size[0] - np.linalg.norm(local, axis=-1)
    flat = local.reshape(-1, 3)
    depth = np.full(len(flat), -np.inf)
    low, high = size.bounds
    near = np.all((flat > low - radius) & (flat < high + radius), axis=-1)  # only points by the mesh
    triangles = np.asarray(size.triangles, dtype=float)
    depth[near] = radius - _distance_to_triangles(flat[near], triangles)  # centres stay outside it
    return depth.reshape(local.shape[:-1])


def _distance_to_segments(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(P, F) distance of points (P, 3) to segments (F, 3) -> (F, 3)."""
    direction = end - start
    t = np.einsum("pfi,fi->pf", points[:, None] - start, direction) / np.sum(direction**2, axis=-1)
    closest = start + np.clip(t, 0.0, 1.0)[..., None] * direction
    return np.linalg.norm(points[:, None] - closest, axis=-1)


def _distance_to_triangles(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(P,) unsigned distance of points (P, 3) to the nearest of triangles (F, 3, 3)."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    normal = np.cross(b - a, c - a)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    height = np.einsum("pfi,fi->pf", points[:, None] - a, normal)
    foot = points[:, None] - height[..., None] * normal  # projection onto each triangle's plane
    inside = np.ones(height.shape, dtype=bool)
    for start, end in ((a, b), (b, c), (c, a)):
        inside &= np.einsum("pfi,fi->pf", np.cross(end - start, foot - start), normal) >= 0.0
    edges = np.minimum.reduce(
        [
            _distance_to_segments(points, a, b),
            _distance_to_segments(points, b, c),
            _distance_to_segments(points, c, a),
        ]
    )
    return np.where(inside, np.abs(height), edges).min(axis=1)


def max_penetration(scene: Scene, trajectory: Trajectory) -> tuple[float, str]:
    """The deepest penetration of any dynamic box or sphere into any other collider, and where."""
    base_dir = Path(scene.source_file).parent if scene.source_file else None
    entities = {
        info.id: entity for info in trajectory.entities for entity in scene.entities if entity.id == info.id
    }
    colliders = [e for e in entities.values() if e.physics.collides]
    deepest, where = -np.inf, ""
    for body in colliders:
        if body.physics.mode != "dynamic":
            continue
        kind, size = _solid(body, base_dir)
        pose = trajectory.object_to_world[:, trajectory.entity_column(body.id)]
        if kind == "sphere":
            points, radius = pose[:, None, :3, 3], float(size[0])
        elif kind == "box":
            points, radius = (
                np.einsum("tij,pj->tpi", pose[:, :3, :3], CORNERS * size) + pose[:, None, :3, 3],
                0.0,
            )
        else:
            continue
        for other in colliders:
            if other is body:
                continue
            other_kind, other_size = _solid(other, base_dir)
            other_pose = trajectory.object_to_world[:, trajectory.entity_column(other.id)]
            depth = _depth(points, radius, other_kind, other_size, other_pose)
            present = trajectory.present[:, trajectory.entity_column(body.id)]
            present &= trajectory.present[:, trajectory.entity_column(other.id)]
            depth = np.where(present[:, None], depth, -np.inf)
            if depth.max() > deepest:
                frame = int(np.unravel_index(np.argmax(depth), depth.shape)[0])
                deepest, where = float(depth.max()), f"{body.name} in {other.name} at frame {frame}"
    return deepest, where


def _ground_scene(seconds: float) -> Scene:
    scene = Scene(name="contacts", fps=DENSE_FPS, num_frames=int(DENSE_FPS * seconds))
    scene.add(EntitySpec(name="ground", semantic_class="ground", mesh=MeshSpec(type="plane", size=[10, 10])))
    return scene


@pytest.mark.parametrize(
    ("radius", "height", "restitution", "speed"),
    [
        (0.2, 1.0, 0.5, 0.0),  # the README's ball
        (0.1, 1.0, 0.0, 0.0),
        (0.1, 1.0, 0.8, 0.0),
        (0.14, 1.6, 0.7, 0.4),  # demo.yaml's ball: 5.4 m/s at impact
    ],
)
def test_a_dropped_ball_sinks_under_2_mm(
    radius: float, height: float, restitution: float, speed: float
) -> None:
    scene = _ground_scene(1.2)
    scene.add(
        EntitySpec(
            name="ball",
            mesh=MeshSpec(type="sphere", radius=radius),
            pose=Pose(position=[0.0, 0.0, height]),
            physics=PhysicsSpec(mode="dynamic", restitution=restitution, linear_velocity=[speed, 0.0, 0.0]),
        )
    )
    trajectory = World(scene).rollout()
    depth, where = max_penetration(scene, trajectory)
    assert depth > 0.0, "the ball never touched the ground"  # the measurement sees the contact
    assert depth < MAX_PENETRATION, f"sank {depth * 1000:.1f} mm ({where})"


def test_a_stack_of_boxes_rests_without_sinking() -> None:
    scene = _ground_scene(1.5)
    for i, (z, yaw) in enumerate([(0.15, 0.0), (0.45, 8.0), (0.75, -6.0)]):
        scene.add(
            EntitySpec(
                name=f"crate{i}",
                mesh=MeshSpec(type="box", size=[0.3, 0.3, 0.3]),
                pose=Pose(position=[0.5, 0.02 * i, z], euler_deg=[0, 0, yaw]),
                physics=PhysicsSpec(mode="dynamic", mass=2.0, friction=0.6),
            )
        )
    scene.add(
        EntitySpec(
            name="dropped",
            mesh=MeshSpec(type="box", size=[0.3, 0.2, 0.25]),
            pose=Pose(position=[-1.0, 0.0, 1.2], euler_deg=[20, 35, 10]),
            physics=PhysicsSpec(mode="dynamic", mass=1.0),
        )
    )
    trajectory = World(scene).rollout()
    depth, where = max_penetration(scene, trajectory)
    assert depth < MAX_PENETRATION, f"sank {depth * 1000:.1f} mm ({where})"
    heights = trajectory.object_to_world[-1, 1:4, 2, 3]
    np.testing.assert_allclose(heights, [0.15, 0.45, 0.75], atol=REST_PENETRATION * 3)  # the stack stands
    rest_trajectory = dataclasses.replace(
        trajectory, object_to_world=trajectory.object_to_world[-200:], present=trajectory.present[-200:]
    )
    rest_depth, where = max_penetration(scene, rest_trajectory)
    assert rest_depth < REST_PENETRATION, f"resting bodies sink {rest_depth * 1000:.2f} mm ({where})"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["demo.yaml", "tumbling_steps.yaml", "camera_chase.yaml"])
def test_example_scenes_keep_contacts_under_2_mm(name: str) -> None:
    scene = load_scene(SCENES / name)
    seconds = scene.frame_count / scene.fps
    scene.fps, scene.num_frames, scene.duration = 1000.0, int(1000 * seconds), None
    trajectory = World(scene).rollout()
    depth, where = max_penetration(scene, trajectory)
    assert depth < MAX_PENETRATION, f"{name}: sank {depth * 1000:.1f} mm ({where})"

    # No explosion: no body moves faster than falling from its start, plus its initial speed and
    # twice the fastest pusher's (a kinematic body bounces what it hits at up to twice its speed).
    def speeds(columns: list[int]) -> np.ndarray:
        positions = trajectory.object_to_world[:, columns][..., :3, 3]  # (T, B, 3)
        return np.linalg.norm(np.diff(positions, axis=0), axis=-1).max(axis=0) * scene.fps

    dynamic = [e for e in scene.entities if e.physics.mode == "dynamic"]
    driven = [trajectory.entity_column(e.id) for e in scene.entities if e.physics.mode == "kinematic"]
    pusher = speeds(driven).max() if driven else 0.0
    start = trajectory.object_to_world[0, [trajectory.entity_column(e.id) for e in dynamic]][:, 2, 3]
    initial = np.array([np.linalg.norm(e.physics.linear_velocity) for e in dynamic])
    limit = np.sqrt(2 * 9.81 * start) + initial + 2 * pusher + 0.5
    fastest = speeds([trajectory.entity_column(e.id) for e in dynamic])
    assert np.all(fastest < limit), (fastest, limit)
