"""The web viewer (``worldsim view``, the ``viewer`` extra: viser).

- ``world_view``: what is shown: a scene or clip folder as meshes with albedo, poses per frame,
  lights, cameras and the clip's images (no viser here);
- ``path_editor``: camera path authoring as data (keyframes, retime, easing, fov), previewed with
  worldsim's own camera evaluator and saved as a scene YAML or a nerfstudio ``camera_path.json``;
- ``app``: the viser server: 3D scene, timeline, image panel, entity list and path editing.
"""
