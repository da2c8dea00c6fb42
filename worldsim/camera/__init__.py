"""Cameras: model, conventions and path authoring.

- ``intrinsics`` (pinhole K, pixel centres at +0.5), ``conventions`` (OpenCV axes, ``cam_to_world``;
  conversions to OpenGL/nerfstudio, pytorch3d, open3d; ``look_at``), ``projection``.
- ``spec`` (the YAML camera section), ``evaluate`` (spec -> ``CameraTrack`` per frame), built from
  ``paths`` (keyframe interpolation, holds, constant speed), ``easing``, ``presets`` (moves),
  ``shake``; ``checks`` (camera inside an entity).
- ``interchange`` (nerfstudio camera_path.json, keyframe lists, cameras.json), ``preview`` (PNG).

Submodules are imported on use so ``import worldsim`` stays light.
"""
