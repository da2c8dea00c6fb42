"""``ViewerApp``: the viser web viewer of a scene or clip folder, with camera path authoring.

The page shows the world at the current frame (entity meshes with their albedo, lights, the
camera path as a curve with a frustum per keyframe and one for the current frame), a timeline,
the clip's frame or guidance maps in an image panel and on the current frustum, and an entity
list. The path editor's keys can be dragged (gizmos), added from the browser's view, retimed,
deleted and given a field of view and easing; the preview poses come from worldsim's camera
evaluator here on the server. Every browser action goes through a method of this class, which
tests call directly.

Entities are drawn unlit (``KHR_materials_unlit``: the shown colour is the albedo) unless ``lit``
is switched on (default lights, an environment map, a dielectric material).
"""

from __future__ import annotations

import contextlib
import io
import math
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from worldsim.errors import MissingExtraError, RenderError
from worldsim.viewer.glb import mesh_glb
from worldsim.viewer.path_editor import CameraPathEditor
from worldsim.viewer.world_view import ViewedWorld

EXTRA = "viewer"
FRUSTUM_SCALE = 0.25
KEY_COLOUR = (240, 160, 20)
CURRENT_COLOUR = (20, 120, 240)
PATH_COLOUR = (240, 160, 20)
HIGHLIGHT_COLOUR = (255, 0, 255)


def import_viser() -> Any:
    """The ``viser`` module; MissingExtraError naming the ``viewer`` extra."""
    try:
        import viser
    except ImportError as error:
        raise MissingExtraError("viser", EXTRA, error) from None
    return viser


def check_port_free(host: str, port: int) -> None:
    """RenderError with a clear message when ``host:port`` cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise RenderError(
                f"cannot serve on {host}:{port} ({error.strerror}); is another viewer running? "
                "choose another --port"
            ) from None


def wxyz_of(rotation: np.ndarray) -> np.ndarray:
    """(4,) w, x, y, z quaternion of a (3, 3) rotation."""
    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    return np.array([w, x, y, z])


def rotation_of(wxyz: np.ndarray) -> np.ndarray:
    """(3, 3) rotation of a w, x, y, z quaternion."""
    w, x, y, z = np.asarray(wxyz, dtype=np.float64)
    return Rotation.from_quat([x, y, z, w]).as_matrix()


def pose_of(wxyz: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(4, 4) pose from a quaternion and a position."""
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = rotation_of(wxyz), np.asarray(position, dtype=np.float64)
    return pose


class ViewerApp:
    """A viser server showing ``world``; ``port`` 0 picks a free one (``url`` says which)."""

    def __init__(
        self, world: ViewedWorld, *, host: str = "127.0.0.1", port: int = 8080, camera: str | None = None
    ):
        viser = import_viser()
        if port:
            check_port_free(host, port)
        else:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.world = world
        self.host, self.port = host, port
        with contextlib.redirect_stdout(io.StringIO()):  # viser prints a banner; the CLI prints the URL
            self.server = viser.ViserServer(host=host, port=port, verbose=False)
        self.server.scene.set_up_direction("+z")
        self.camera_name = camera or world.trajectory.primary_camera
        self.editor = CameraPathEditor(world.scene, world.trajectory, self.camera_name)
        self.preview = self.editor.preview()
        self.frame = 0
        self.image_name = world.clip_images[0] if world.clip_images else None
        self.selected: int | None = None
        self.look_through = True
        self.lit = False
        self.playing = False
        self._lock = threading.RLock()
        self._key_handles: list[Any] = []
        self._stop = threading.Event()
        self._build_scene()
        self._build_gui()
        self.server.on_client_connect(self._on_connect)
        self.set_frame(0)
        self._player = threading.Thread(target=self._play_loop, name="viewer-play", daemon=True)
        self._player.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._stop.set()
        with contextlib.redirect_stdout(io.StringIO()):
            self.server.stop()

    # --- what the browser's controls call ---------------------------------------------------
    def set_frame(self, frame: int) -> None:
        """Move entities, the current camera frustum, the image and the browser's camera to ``frame``."""
        with self._lock:
            self.frame = int(np.clip(frame, 0, self.world.num_frames - 1))
            if int(self._gui_frame.value) != self.frame:
                self._gui_frame.value = self.frame
            for entity, handle in zip(self.world.entities, self._entity_handles):
                pose = self.world.entity_pose(entity, self.frame)
                handle.position, handle.wxyz = pose[:3, 3], wxyz_of(pose[:3, :3])
                handle.visible = self.world.present(entity, self.frame)
            self._update_highlight()
            self._update_current_camera()
            self._update_image()

    def view_from(self, position: np.ndarray, target: np.ndarray) -> None:
        """Stop looking through the camera and put every browser's view at ``position`` looking at
        ``target`` (the path, its keyframes and the current frustum become visible)."""
        with self._lock:
            self._gui_look.value = False
            self._set_look_through(False)
            for client in self.server.get_clients().values():
                with client.atomic():
                    client.camera.position = np.asarray(position, dtype=np.float64)
                    client.camera.look_at = np.asarray(target, dtype=np.float64)
                    client.camera.up_direction = (0.0, 0.0, 1.0)

    def set_lit(self, lit: bool) -> None:
        """Lit (default lights and an environment) or unlit (flat albedo) display."""
        with self._lock:
            self.lit = bool(lit)
            self.server.scene.configure_default_lights(self.lit)
            self.server.scene.configure_environment_map(hdri="city" if self.lit else None, background=False)
            for unlit, lit in zip(self._unlit_meshes, self._lit_meshes):
                unlit.visible, lit.visible = not self.lit, self.lit

    def select_entity(self, entity_id: int | None) -> None:
        """Highlight an entity (its box in 3D, its mask tinted in the image); None clears."""
        with self._lock:
            ids = [entity.entity_id for entity in self.world.entities]
            if entity_id is not None and entity_id not in ids:
                raise RenderError(f"no entity with id {entity_id}; ids: {ids}")
            self.selected = entity_id
            label = next(
                (item for item in self._gui_entity.options if _label_id(item) == entity_id), "(none)"
            )
            if self._gui_entity.value != label:
                self._gui_entity.value = label
            self._update_highlight()
            self._update_image()

    def set_image(self, name: str | None) -> None:
        with self._lock:
            if name is not None and name not in self.world.clip_images:
                raise RenderError(
                    f"the clip has no {name!r} maps; it has: {', '.join(self.world.clip_images)}"
                )
            self.image_name = name
            if name is not None and self._gui_image_name.value != name:
                self._gui_image_name.value = name
            self._update_image()

    def add_keyframe(
        self, cam_to_world: np.ndarray, time_s: float | None = None, fov_deg: float | None = None
    ) -> int:
        """A keyframe at ``time_s`` (default: the current frame's time); returns its index."""
        with self._lock:
            at = float(self.world.trajectory.times[self.frame]) if time_s is None else float(time_s)
            index = self.editor.add(at, cam_to_world, fov_deg)
            self._path_changed()
            return index

    def add_keyframe_from_view(self, client: Any) -> int:
        """A keyframe at the current frame from a browser's view (its pose and field of view)."""
        camera = client.camera
        return self.add_keyframe(pose_of(camera.wxyz, camera.position), fov_deg=math.degrees(camera.fov))

    def move_keyframe(self, index: int, cam_to_world: np.ndarray) -> None:
        with self._lock:
            self.editor.move(index, cam_to_world)
            self._path_changed()

    def retime_keyframe(self, index: int, time_s: float) -> int:
        with self._lock:
            new_index = self.editor.retime(index, time_s)
            self._path_changed()
            return new_index

    def delete_keyframe(self, index: int) -> None:
        with self._lock:
            self.editor.delete(index)
            self._path_changed()

    def set_keyframe_fov(self, index: int, fov_deg: float) -> None:
        with self._lock:
            self.editor.set_fov(index, fov_deg)
            self._path_changed()

    def set_easing(self, easing: str) -> None:
        with self._lock:
            self.editor.set_easing(easing)
            self._path_changed()

    def save(self, path: str | Path) -> Path:
        """Save the path: ``.json`` as a nerfstudio ``camera_path.json``, else the scene as YAML."""
        path = Path(path)
        with self._lock:
            if path.suffix.lower() == ".json":
                return self.editor.save_nerfstudio(path)
            return self.editor.save_yaml(path)

    # --- scene -----------------------------------------------------------------------------
    def _build_scene(self) -> None:
        scene = self.server.scene
        scene.configure_default_lights(False)
        scene.configure_environment_map(hdri=None, background=False)
        # One unlit and one lit copy of each mesh, under one frame that carries the pose.
        self._entity_handles, self._unlit_meshes, self._lit_meshes = [], [], []
        for entity in self.world.entities:
            name = f"/entities/{entity.entity_id}_{_safe(entity.name)}"
            self._entity_handles.append(scene.add_frame(name, show_axes=False))
            self._unlit_meshes.append(scene.add_glb(f"{name}/unlit", mesh_glb(entity.mesh, unlit=True)))
            self._lit_meshes.append(
                scene.add_glb(f"{name}/lit", mesh_glb(entity.mesh, unlit=False), visible=False)
            )
        self._highlight = None
        self._add_lights()
        track = self.world.trajectory.cameras[self.camera_name]
        self._current = scene.add_camera_frustum(
            "/camera/current",
            fov=self._fov_rad(track, 0),
            aspect=track.width / track.height,
            scale=FRUSTUM_SCALE,
            color=CURRENT_COLOUR,
        )
        self._current.visible = not self.look_through
        self._path_line = None
        self._draw_path()

    def _add_lights(self) -> None:
        scene = self.server.scene
        for index, light in enumerate(self.world.trajectory.lights):
            name = f"/lights/{index}_{light.type}"
            if light.type == "sun":
                direction = np.asarray(light.direction, dtype=np.float64)
                direction /= max(np.linalg.norm(direction), 1e-12)
                start = -3.0 * direction + np.array([0.0, 0.0, 0.5])
                points = np.stack([start, start + 1.0 * direction])[None]
                scene.add_line_segments(
                    name, points=points.astype(np.float32), colors=(255, 200, 0), line_width=3.0
                )
            elif light.type in ("point", "area"):
                scene.add_icosphere(name, radius=0.08, color=(255, 220, 80), position=tuple(light.position))

    def _draw_path(self) -> None:
        scene = self.server.scene
        positions = self.preview.cam_to_world[:, :3, 3]
        if self._path_line is not None:
            self._path_line.remove()
        if len(positions) > 1:
            segments = np.stack([positions[:-1], positions[1:]], axis=1).astype(np.float32)
            self._path_line = scene.add_line_segments(
                "/camera/path", points=segments, colors=PATH_COLOUR, line_width=2.0
            )
        for handle in self._key_handles:
            handle.remove()
        self._key_handles = []
        track = self.preview
        for index, key in enumerate(self.editor.keys):
            frustum = scene.add_camera_frustum(
                f"/camera/keys/{index}",
                fov=math.radians(key.fov_deg),
                aspect=track.width / track.height,
                scale=FRUSTUM_SCALE,
                color=KEY_COLOUR,
                wxyz=wxyz_of(key.cam_to_world[:3, :3]),
                position=key.cam_to_world[:3, 3],
            )
            gizmo = scene.add_transform_controls(
                f"/camera/gizmos/{index}",
                scale=0.4,
                wxyz=wxyz_of(key.cam_to_world[:3, :3]),
                position=key.cam_to_world[:3, 3],
            )
            gizmo.on_update(self._gizmo_callback(index))
            frustum.visible = gizmo.visible = not self.look_through
            self._key_handles += [frustum, gizmo]

    def _gizmo_callback(self, index: int) -> Any:
        def moved(event: Any) -> None:
            target = event.target
            self.move_keyframe(index, pose_of(target.wxyz, target.position))

        return moved

    def _path_changed(self) -> None:
        self.preview = self.editor.preview()
        self._draw_path()
        self._update_current_camera()
        self._gui_keys.options = self._key_labels()
        self._gui_easing.value = self.editor.easing

    def _update_current_camera(self) -> None:
        pose = self.preview.cam_to_world[self.frame]
        self._current.position, self._current.wxyz = pose[:3, 3], wxyz_of(pose[:3, :3])
        self._current.fov = self._fov_rad(self.preview, self.frame)
        if self.look_through:
            for client in self.server.get_clients().values():
                self._look_through(client)

    def _look_through(self, client: Any) -> None:
        pose = self.preview.cam_to_world[self.frame]
        with client.atomic():
            client.camera.position = pose[:3, 3]
            client.camera.wxyz = wxyz_of(pose[:3, :3])
            client.camera.fov = self._fov_rad(self.preview, self.frame)

    def _update_highlight(self) -> None:
        if self._highlight is not None:
            self._highlight.remove()
            self._highlight = None
        entity = next((item for item in self.world.entities if item.entity_id == self.selected), None)
        if entity is None:
            return
        low, high = entity.mesh.bounds
        pose = self.world.entity_pose(entity, self.frame)
        self._highlight = self.server.scene.add_box(
            "/highlight",
            color=HIGHLIGHT_COLOUR,
            dimensions=tuple(np.maximum(high - low, 1e-3)),
            wireframe=True,
            wxyz=wxyz_of(pose[:3, :3]),
            position=pose[:3, :3] @ ((low + high) / 2.0) + pose[:3, 3],
        )

    def _update_image(self) -> None:
        image = None if self.image_name is None else self.world.clip_image(self.image_name, self.frame)
        if image is None:
            self._gui_image.visible = False
            return
        if self.selected is not None:
            mask = self.world.instance_mask(self.selected, self.frame)
            if mask is not None and mask.shape == image.shape[:2]:
                image = image.copy()
                image[mask] = (0.5 * image[mask] + 0.5 * np.array(HIGHLIGHT_COLOUR)).astype(np.uint8)
        self._gui_image.image = image
        self._gui_image.visible = True
        self._current.image = image

    # --- GUI -------------------------------------------------------------------------------
    def _build_gui(self) -> None:
        gui = self.server.gui
        world = self.world
        with gui.add_folder("Timeline"):
            self._gui_frame = gui.add_slider(
                "frame", min=0, max=max(world.num_frames - 1, 1), step=1, initial_value=0
            )
            self._gui_play = gui.add_checkbox("play", initial_value=False)
            self._gui_fps = gui.add_number("fps", initial_value=world.fps, min=0.1, max=240.0, step=0.1)
            self._gui_look = gui.add_checkbox("look through camera", initial_value=True)
            self._gui_lit = gui.add_checkbox("lit", initial_value=False)
        self._gui_frame.on_update(lambda _: self.set_frame(int(self._gui_frame.value)))
        self._gui_play.on_update(lambda _: setattr(self, "playing", bool(self._gui_play.value)))
        self._gui_look.on_update(lambda _: self._set_look_through(bool(self._gui_look.value)))
        self._gui_lit.on_update(lambda _: self.set_lit(bool(self._gui_lit.value)))
        with gui.add_folder("Image"):
            names = world.clip_images
            options = names or ["(scene file: no images)"]
            self._gui_image_name = gui.add_dropdown("map", options=options, initial_value=options[0])
            self._gui_image = gui.add_image(np.zeros((8, 8, 3), dtype=np.uint8), label="frame", visible=False)
        if names:
            self._gui_image_name.on_update(lambda _: self.set_image(self._gui_image_name.value))
        with gui.add_folder("Entities"):
            labels = ["(none)"] + [f"{e.entity_id}: {e.name} ({e.semantic_class})" for e in world.entities]
            self._gui_entity = gui.add_dropdown("select", options=labels, initial_value="(none)")
        self._gui_entity.on_update(lambda _: self.select_entity(_label_id(self._gui_entity.value)))
        with gui.add_folder("Camera path"):
            if self.editor.baked:
                metres, degrees = self.editor.bake_error
                gui.add_markdown(
                    f"Camera `{self.camera_name}` was baked into {len(self.editor.keys)} keyframes "
                    f"(within {metres * 1000:.1f} mm, {degrees:.2f} deg of the original); "
                    "saving writes keyframes."
                )
            self._gui_keys = gui.add_dropdown(
                "keyframe", options=self._key_labels(), initial_value=self._key_labels()[0]
            )
            self._gui_time = gui.add_number("time (s)", initial_value=self.editor.keys[0].time, step=0.01)
            self._gui_fov = gui.add_number("fov (deg)", initial_value=self.editor.keys[0].fov_deg, step=0.5)
            from worldsim.camera.easing import EASINGS

            self._gui_easing = gui.add_dropdown(
                "easing", options=sorted(EASINGS), initial_value=self.editor.easing
            )
            add = gui.add_button("add keyframe from view")
            retime = gui.add_button("apply time / fov")
            delete = gui.add_button("delete keyframe")
            self._gui_save_path = gui.add_text("save as", initial_value=str(_default_save_path(world.source)))
            save = gui.add_button("save")
            self._gui_status = gui.add_markdown("")
        self._gui_easing.on_update(lambda _: self._guarded(self.set_easing, self._gui_easing.value))
        add.on_click(lambda event: self._guarded(self.add_keyframe_from_view, event.client))
        retime.on_click(lambda _: self._guarded(self._apply_key_fields))
        delete.on_click(lambda _: self._guarded(self.delete_keyframe, self._selected_key()))
        save.on_click(lambda _: self._guarded(self._save_from_gui))
        self._gui_keys.on_update(lambda _: self._show_key_fields())

    def _guarded(self, action: Any, *args: Any) -> None:
        from worldsim.errors import WorldsimError

        try:
            result = action(*args)
        except WorldsimError as error:
            self._gui_status.content = f"**error:** {error}"
            return
        if isinstance(result, Path):
            self._gui_status.content = f"saved `{result}`"

    def _apply_key_fields(self) -> None:
        index = self._selected_key()
        self.set_keyframe_fov(index, float(self._gui_fov.value))
        self.retime_keyframe(index, float(self._gui_time.value))

    def _save_from_gui(self) -> Path:
        return self.save(self._gui_save_path.value)

    def _show_key_fields(self) -> None:
        key = self.editor.keys[self._selected_key()]
        self._gui_time.value, self._gui_fov.value = key.time, key.fov_deg

    def _selected_key(self) -> int:
        return int(str(self._gui_keys.value).split(":")[0])

    def _key_labels(self) -> list[str]:
        return [f"{index}: t={key.time:.2f}s" for index, key in enumerate(self.editor.keys)]

    def _set_look_through(self, value: bool) -> None:
        """Looking through the camera hides the frustums and gizmos (they would sit in the view)."""
        self.look_through = value
        self._current.visible = not value
        for handle in self._key_handles:
            handle.visible = not value
        if value:
            for client in self.server.get_clients().values():
                self._look_through(client)

    def _on_connect(self, client: Any) -> None:
        if self.look_through:
            self._look_through(client)

    def _play_loop(self) -> None:
        while not self._stop.is_set():
            fps = max(float(self._gui_fps.value), 0.1)
            if self.playing:
                self.set_frame((self.frame + 1) % self.world.num_frames)
            self._stop.wait(1.0 / fps)

    @staticmethod
    def _fov_rad(track: Any, frame: int) -> float:
        return float(2.0 * np.arctan(track.height / (2.0 * track.fy[frame])))


def serve_forever(app: ViewerApp) -> None:
    """Block until Ctrl-C (KeyboardInterrupt propagates to the CLI, which exits 130)."""
    try:
        while True:
            time.sleep(1.0)
    finally:
        app.close()


def _default_save_path(source: Path) -> Path:
    if source.is_dir():
        return source / "scene.edited.yaml"
    return source.with_name(f"{source.stem}.edited.yaml")


def _label_id(label: str) -> int | None:
    return None if label.startswith("(") else int(label.split(":")[0])


def _safe(name: str) -> str:
    return "".join(character if character.isalnum() or character in "_-" else "_" for character in name)
