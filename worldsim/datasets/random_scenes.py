"""Random procedural scenes: ``RandomSceneGenerator`` (configurable) and ``random_scene``.

A textured ground plane, 2-6 entities (primitives and the shipped meshes) with random materials
near the origin, a sun plus sometimes a point or area light and a uniform or procedural sky, a
random camera move looking at the objects, and some kinematic motion or physics drops. Every
draw comes from ``numpy.random.default_rng(seed)``, so a seed always gives the same scene.

A scene generator is any callable ``seed -> Scene``; ``RandomSceneGenerator(RandomSceneConfig(...))``
is one (``worldsim dataset`` names it ``random_scenes``, ``worldsim.datasets.generators``).
``random_scene(seed, size=..., num_frames=...)`` is the generator with the defaults the diffusion
renderer's training data was made with; it gives the same scene for the same arguments as before
the generator became configurable.

```python
from worldsim.datasets.random_scenes import RandomSceneConfig, RandomSceneGenerator

generate = RandomSceneGenerator(RandomSceneConfig(size=[128, 96], num_frames=24, max_objects=10))
scene = generate(7)  # a worldsim.Scene with seed 7
```
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worldsim.camera.spec import CameraKeyframe, CameraMove, CameraSpec
from worldsim.scene.lighting_presets import sun_direction
from worldsim.scene.model import (
    EntitySpec,
    Keyframe,
    LightSpec,
    MaterialSpec,
    MeshSpec,
    MotionSpec,
    PhysicsSpec,
    Pose,
    TextureSpec,
)
from worldsim.scene.scene import Scene

ASSETS = Path(__file__).resolve().parents[2] / "scenes" / "assets"
FILE_MESHES = {
    # file: (scale, up axis, centre, height above ground of the origin per unit scale)
    "car.obj": (0.22, "z", False, 0.0),
    "chair.glb": (0.8, "y", False, 0.0),
    "mug.ply": (4.0, "z", False, 0.0),
    "rock.obj": (1.2, "z", True, 0.2),
    "stairs.stl": (0.5, "z", False, 0.0),
}
PRIMITIVES = ("box", "sphere", "cylinder", "capsule", "cone", "torus")
TEXTURES = ("solid", "checker", "noise", "stripes", "marble")


def random_colour(rng: np.random.Generator) -> list[float]:
    """A linear RGB colour over the whole hue range, varied saturation and value."""
    hue = rng.uniform(0.0, 1.0)
    saturation = rng.choice([rng.uniform(0.0, 0.15), rng.uniform(0.3, 1.0)], p=[0.2, 0.8])
    value = rng.uniform(0.15, 0.95)
    return [float(c) ** 2.2 for c in colorsys.hsv_to_rgb(hue, saturation, value)]


def random_material(rng: np.random.Generator, *, emissive: bool = True) -> MaterialSpec:
    """Base colour, a texture of any type, roughness, metallic and sometimes emission."""
    base = random_colour(rng)
    texture_type = str(rng.choice(TEXTURES, p=[0.3, 0.2, 0.2, 0.15, 0.15]))
    texture = None
    if texture_type != "solid":
        axis = rng.normal(size=3)
        texture = TextureSpec(
            type=texture_type,
            color_a=base,
            color_b=random_colour(rng),
            scale=float(rng.uniform(0.08, 0.5)),
            axis=[float(a) for a in axis / np.linalg.norm(axis)],
            octaves=int(rng.integers(2, 5)),
        )
    material = MaterialSpec(
        base_color=base,
        texture=texture,
        roughness=float(rng.uniform(0.1, 1.0)),
        metallic=float(rng.choice([0.0, 1.0, rng.uniform(0, 1)], p=[0.65, 0.2, 0.15])),
    )
    if emissive and rng.random() < 0.08:
        material.emission = random_colour(rng)
        material.emission_strength = float(rng.uniform(1.0, 4.0))
    return material


def random_mesh(rng: np.random.Generator, file_mesh_probability: float = 0.3) -> tuple[MeshSpec, float]:
    """A primitive or (with ``file_mesh_probability``) a shipped mesh; returns it with the height of
    its origin above ground."""
    if rng.random() < file_mesh_probability:
        name = str(rng.choice(sorted(FILE_MESHES)))
        scale, up_axis, centre, lift = FILE_MESHES[name]
        scale *= float(rng.uniform(0.7, 1.3))
        mesh = MeshSpec(
            type="file", file=str(ASSETS / name), scale=[scale] * 3, up_axis=up_axis, center=centre
        )
        return mesh, lift * scale
    kind = str(rng.choice(PRIMITIVES))
    size = float(rng.uniform(0.2, 0.7))
    if kind == "box":
        extents = [float(size * rng.uniform(0.5, 1.5)) for _ in range(3)]
        return MeshSpec(type="box", size=extents), extents[2] / 2
    if kind == "sphere":
        return MeshSpec(type="sphere", radius=size / 2), size / 2
    if kind == "torus":
        minor = size * rng.uniform(0.1, 0.25)
        return MeshSpec(type="torus", radius=size / 2, minor_radius=float(minor)), float(minor)
    height = size * float(rng.uniform(0.6, 2.0))
    radius = size / 2 * float(rng.uniform(0.5, 1.0))
    if kind == "capsule":
        return MeshSpec(type="capsule", radius=radius, height=height), height / 2 + radius
    return MeshSpec(type=kind, radius=radius, height=height), height / 2


def random_motion(rng: np.random.Generator, position: list[float], fps: float, num_frames: int) -> MotionSpec:
    """Kinematic keyframes or constant velocity over the clip, small enough to stay in view."""
    duration = num_frames / fps
    if rng.random() < 0.5:
        velocity = rng.normal(size=3) * [0.5, 0.5, 0.0]
        return MotionSpec(
            type="velocity",
            linear_velocity=[float(v) for v in velocity],
            angular_velocity_deg=[0.0, 0.0, float(rng.uniform(-120, 120))],
        )
    keys = []
    for index in range(int(rng.integers(2, 4))):
        offset = rng.normal(size=3) * [0.4, 0.4, 0.0] if index else np.zeros(3)
        keys.append(
            Keyframe(
                t=float(duration * index / 2),
                position=[float(p + o) for p, o in zip(position, offset, strict=True)],
                euler_deg=[0.0, 0.0, float(rng.uniform(-90, 90))],
            )
        )
    return MotionSpec(type="keyframes", keyframes=keys, position_interpolation="cubic")


def random_lights(rng: np.random.Generator, centre: np.ndarray) -> list[LightSpec]:
    """A sun from a random direction, sometimes a point or area light, and a sky."""
    azimuth = rng.uniform(0, 2 * np.pi)
    direction = sun_direction(rng.uniform(np.radians(20), np.radians(85)), azimuth)
    warm = [1.0, float(rng.uniform(0.8, 1.0)), float(rng.uniform(0.6, 1.0))]
    lights = [
        LightSpec(
            type="sun",
            name="sun",
            direction=direction,
            color=warm,
            intensity=float(rng.uniform(1.5, 5.0)),
            angle_deg=float(rng.uniform(0.5, 6.0)),
        )
    ]
    extra = rng.random()
    above = centre + np.array([*(rng.normal(size=2) * 1.5), rng.uniform(1.5, 3.0)])
    if extra < 0.25:
        lights.append(
            LightSpec(
                type="point",
                name="lamp",
                position=[float(p) for p in above],
                intensity=float(rng.uniform(3, 20)),
            )
        )
    elif extra < 0.45:
        lights.append(
            LightSpec(
                type="area",
                name="softbox",
                position=[float(p) for p in above],
                look_at=[float(c) for c in centre],
                size=[float(rng.uniform(0.5, 1.5))] * 2,
                intensity=float(rng.uniform(2, 8)),
            )
        )
    sky = "procedural" if rng.random() < 0.5 else "uniform"
    lights.append(
        LightSpec(
            type="environment",
            name="sky",
            sky=sky,
            direction=direction,
            color=[float(c) for c in np.clip(0.5 + 0.5 * np.asarray(random_colour(rng)), 0, 1)],
            intensity=float(rng.uniform(0.2, 1.0)),
        )
    )
    return lights


def random_camera(rng: np.random.Generator, centre: np.ndarray, spread: float, duration: float) -> CameraSpec:
    """A camera 2-4.5 m away (times 50 / fov) looking near ``centre``: orbit, dolly or keyframes."""
    fov = float(rng.uniform(35, 70))
    distance = float(rng.uniform(1.6, 2.8) + spread) * 50.0 / fov
    azimuth = rng.uniform(0, 2 * np.pi)
    elevation = rng.uniform(np.radians(12), np.radians(50))

    def place(angle: float, dist: float, elev: float) -> list[float]:
        offset = [np.cos(elev) * np.cos(angle), np.cos(elev) * np.sin(angle), np.sin(elev)]
        return [float(c + dist * o) for c, o in zip(centre, offset, strict=True)]

    look_at = [float(c) for c in centre + np.array([*(rng.normal(size=2) * 0.2), 0.0])]
    camera = CameraSpec(
        name="main", fov_deg=fov, position=place(azimuth, distance, elevation), look_at=look_at
    )
    style = rng.random()
    if style < 0.4:
        sweep = float(rng.uniform(20, 90) * rng.choice([-1, 1]))
        camera.moves = [CameraMove(type="orbit", center=look_at, sweep_deg=sweep)]
    elif style < 0.6:
        camera.moves = [CameraMove(type="dolly", distance=float(rng.uniform(-1.0, 1.0)))]
    elif style < 0.85:
        end = azimuth + rng.uniform(-0.6, 0.6)
        camera.keyframes = [
            CameraKeyframe(t=0.0, position=place(azimuth, distance, elevation), look_at=look_at),
            CameraKeyframe(
                t=duration,
                position=place(end, distance * rng.uniform(0.8, 1.2), elevation * rng.uniform(0.7, 1.3)),
                look_at=[float(c) for c in centre],
            ),
        ]
    return camera


@dataclass
class RandomSceneConfig:
    """Settings of ``RandomSceneGenerator``; the defaults are those of the diffusion renderer's
    training data (``random_scene``)."""

    size: list[int] = field(default_factory=lambda: [64, 64])
    """``[width, height]`` in pixels."""
    num_frames: int = 16
    fps: float = 12.0
    min_objects: int = 2
    """Fewest objects on the ground (the ground plane is not counted)."""
    max_objects: int = 6
    """Most objects (inclusive)."""
    file_mesh_probability: float = 0.3
    """Chance that an object is one of the shipped meshes (car, chair, mug, rock, stairs) rather
    than a primitive."""
    drop_probability: float = 0.2
    """Chance that an object starts in the air and falls (MuJoCo physics)."""
    motion_probability: float = 0.35
    """Chance that an object that is not dropped moves kinematically (keyframes or velocity)."""
    ground_size: float = 16.0
    """Side of the square ground plane, metres."""

    def problems(self) -> list[tuple[str, str]]:
        """``(key, reason)`` for every setting out of range."""
        problems = []
        if len(self.size) != 2 or min(self.size) < 1:
            problems.append(("size", f"expected [width, height] of positive integers, got {self.size}"))
        if self.num_frames < 1:
            problems.append(("num_frames", f"must be >= 1, got {self.num_frames}"))
        if self.fps <= 0:
            problems.append(("fps", f"must be > 0, got {self.fps}"))
        if not 1 <= self.min_objects <= self.max_objects:
            problems.append(
                (
                    "min_objects",
                    f"need 1 <= min_objects <= max_objects, got {self.min_objects}, {self.max_objects}",
                )
            )
        for name in ("file_mesh_probability", "drop_probability", "motion_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                problems.append((name, f"must be in [0, 1], got {getattr(self, name)}"))
        if self.ground_size <= 0:
            problems.append(("ground_size", f"must be > 0, got {self.ground_size}"))
        return problems


class RandomSceneGenerator:
    """A scene generator: ``generator(seed)`` is a random valid ``Scene`` with ``scene.seed == seed``."""

    def __init__(self, config: RandomSceneConfig | None = None) -> None:
        self.config = config or RandomSceneConfig()
        problems = self.config.problems()
        if problems:
            from worldsim.errors import SceneError

            raise SceneError(problems[0][1], key_path=problems[0][0])

    def __call__(self, seed: int) -> Scene:
        config = self.config
        rng = np.random.default_rng(seed)
        fps, num_frames = config.fps, config.num_frames
        scene = Scene(
            name=f"random_{seed}",
            seed=int(seed),
            fps=fps,
            num_frames=num_frames,
            resolution=list(config.size),
        )
        scene.add(
            EntitySpec(
                name="ground",
                semantic_class="ground",
                mesh=MeshSpec(type="plane", size=[config.ground_size, config.ground_size]),
                material=random_material(rng, emissive=False),
                physics=PhysicsSpec(mode="static"),
            )
        )
        count = int(rng.integers(config.min_objects, config.max_objects + 1))
        spread = float(rng.uniform(0.6, 1.6))
        positions = []
        for index in range(count):
            mesh, lift = random_mesh(rng, config.file_mesh_probability)
            xy = rng.uniform(-spread, spread, size=2)
            for _ in range(10):  # keep entities apart where it is easy
                if all(np.linalg.norm(xy - other) > 0.5 for other in positions):
                    break
                xy = rng.uniform(-spread, spread, size=2)
            positions.append(xy)
            dropped = rng.random() < config.drop_probability
            height = lift + (rng.uniform(0.4, 1.2) if dropped else 0.0)
            position = [float(xy[0]), float(xy[1]), float(height)]
            entity = EntitySpec(
                name=f"object_{index}",
                semantic_class=(mesh.file and Path(mesh.file).stem) or mesh.type,
                mesh=mesh,
                material=random_material(rng),
                pose=Pose(position=position, euler_deg=[0.0, 0.0, float(rng.uniform(0, 360))]),
            )
            if dropped:
                mass = float(rng.uniform(0.2, 2.0))
                entity.physics = PhysicsSpec(mode="dynamic", mass=mass, restitution=0.3)
            elif rng.random() < config.motion_probability:
                entity.motion = random_motion(rng, position, fps, num_frames)
                entity.physics = PhysicsSpec(mode="kinematic", collides=False)
            else:
                entity.physics = PhysicsSpec(mode="static")
            scene.add(entity)
        centre = np.array([*np.mean(positions, axis=0), 0.3])
        scene.lights = random_lights(rng, centre)
        scene.cameras = [random_camera(rng, centre, spread, num_frames / fps)]
        return scene


def random_scene(seed: int, *, size: tuple[int, int] = (64, 64), num_frames: int = 16) -> Scene:
    """A random valid scene of ``num_frames`` frames at ``size`` = (width, height) pixels (the
    training-data defaults of ``RandomSceneConfig``)."""
    return RandomSceneGenerator(RandomSceneConfig(size=list(size), num_frames=num_frames))(seed)
