"""The global lighting code the diffusion renderer v2 is conditioned on (through FiLM).

Per frame, ``CODE_DIM`` = 22 float32 values in the camera frame (OpenCV axes), radiometric ones
scaled by the camera's exposure ``2 ** exposure_ev`` and compressed with ``log1p``:

- ``0:18`` the environments' diffuse shading ``E / pi`` (their 9-coefficient SH irradiance,
  ``renderers.lighting.sh``) facing each of the six camera axes (+x, -x, +y, -y, +z, -z), RGB;
- ``18:21`` the dominant light's direction (towards the light): the strongest sun as given, else
  the brightest region of the environment maps (``dominant_direction``, once per map), else 0;
- ``21`` that light's strength: a sun's irradiance, an environment region's irradiance at normal
  incidence (radiance x solid angle), mean over RGB.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from renderers.lighting.environment import EnvironmentMap, downsample_latlong, environment_map
from renderers.lighting.lights import light_rgb, scene_lights
from renderers.lighting.sh import latlong_solid_angles, sh_irradiance
from worldsim.camera.conventions import equirect_direction
from worldsim.state import Trajectory

CODE_DIM = 22
AMBIENT = slice(0, 18)
DOMINANT_DIRECTION = slice(18, 21)
DOMINANT_STRENGTH = slice(21, 22)
CAMERA_AXES = np.array(
    [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]
)
DOMINANT_ROWS = 16
"""The environment is box-averaged to 16 x 32 texels before its brightest texel is taken."""


class LightingCode:
    """The lighting code of one camera of a clip; ``code(frame)`` -> (CODE_DIM,) float32."""

    def __init__(self, trajectory: Trajectory, camera: str) -> None:
        self.track = trajectory.cameras[camera]
        self.exposure = float(2.0**self.track.lens.exposure_ev)
        lights = scene_lights(trajectory)
        environments = [
            environment_map(light, i) for i, light in enumerate(lights) if light.type == "environment"
        ]
        self.sh = sum((env.sh_coefficients for env in environments), np.zeros((9, 3)))
        self.direction, self.strength = np.zeros(3), 0.0
        suns = [(light_rgb(light, i).mean(), light) for i, light in enumerate(lights) if light.type == "sun"]
        if suns:
            strength, sun = max(suns, key=lambda pair: pair[0])
            direction = -np.asarray(sun.direction, dtype=np.float64)
            self.direction, self.strength = direction / np.linalg.norm(direction), float(strength)
        elif environments:
            self.direction, self.strength = max(
                (dominant_direction(env) for env in environments), key=lambda pair: pair[1]
            )

    def __call__(self, frame: int) -> np.ndarray:
        world_from_camera = np.asarray(self.track.cam_to_world[frame][:3, :3], dtype=np.float64)
        shading = sh_irradiance(self.sh, CAMERA_AXES @ world_from_camera.T) / np.pi
        code = np.zeros(CODE_DIM, dtype=np.float64)
        code[AMBIENT] = np.log1p(self.exposure * shading).reshape(-1)
        code[DOMINANT_DIRECTION] = world_from_camera.T @ self.direction
        code[DOMINANT_STRENGTH] = np.log1p(self.exposure * self.strength)
        return code.astype(np.float32)


@lru_cache(maxsize=16)
def dominant_direction(environment: EnvironmentMap) -> tuple[np.ndarray, float]:
    """(unit world direction, strength) of the brightest region of ``environment`` (once per map)."""
    small = downsample_latlong(environment.radiance, DOMINANT_ROWS)
    rows, columns = small.shape[:2]
    power = small.mean(axis=-1) * latlong_solid_angles(rows, columns)[:, None]
    row, column = np.unravel_index(int(np.argmax(power)), power.shape)
    direction = equirect_direction((column + 0.5) / columns, (row + 0.5) / rows, environment.rotation_deg)
    return np.asarray(direction, dtype=np.float64).reshape(3), float(power[row, column])
