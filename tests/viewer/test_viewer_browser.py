"""``worldsim view`` in a real browser (Debian's headless Chromium): the scene is drawn where the
camera sees it, the timeline moves it, keyframes edited through the app save what was shown, and
bad input gets one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from headless_chromium import HeadlessPage, chromium_binary, wait_until
from viewer_scene import BOX_COLOURS

from worldsim.errors import RenderError, SceneError

WINDOW = (800, 600)
"""Browser viewport; the scene is 160x120, the same aspect, so pixel = scene pixel x 5."""

COLOUR_TOLERANCE = 20
"""8-bit levels between a drawn unlit entity and sRGB(albedo): the browser's output transform
(three.js colour management) brightens saturated colours by up to about 13 levels."""

pytest.importorskip("viser", reason="the viewer needs worldsim[viewer]")
needs_chromium = pytest.mark.skipif(
    chromium_binary() is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium); CI installs it",
)


def _srgb(linear: list[float]) -> np.ndarray:
    linear = np.asarray(linear)
    return 255.0 * np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def _projected(world, name: str, frame: int) -> tuple[int, int]:
    """Window pixel (x, y) of an entity's centre seen by the scene camera at ``frame``."""
    track = world.trajectory.cameras["main"]
    entity = next(item for item in world.entities if item.name == name)
    centre = world.entity_pose(entity, frame)[:3, 3]
    camera = np.linalg.inv(track.cam_to_world[frame]) @ np.append(centre, 1.0)
    intrinsics = track.intrinsics(frame)
    u = intrinsics.fx * camera[0] / camera[2] + intrinsics.cx
    v = intrinsics.fy * camera[1] / camera[2] + intrinsics.cy
    scale = WINDOW[0] / track.width
    return int(u * scale), int(v * scale)


def _patch(image: np.ndarray, xy: tuple[int, int], radius: int = 4) -> np.ndarray:
    x, y = xy
    return np.median(image[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3), axis=0)


@needs_chromium
def test_page_draws_the_scene_and_the_timeline_moves_it(viewer_clip: Path, tmp_path: Path) -> None:
    from PIL import Image

    from worldsim.viewer.app import ViewerApp
    from worldsim.viewer.world_view import load_viewed_world

    world = load_viewed_world(viewer_clip)
    app = ViewerApp(world, port=0)
    try:
        assert app.host == "127.0.0.1"
        with HeadlessPage(WINDOW) as page:
            page.open(app.url)
            assert wait_until(lambda: len(app.server.get_clients()) > 0, timeout=90)
            red_start = _projected(world, "red", 0)
            expected_red = _srgb(BOX_COLOURS["red"])

            def red_at(xy) -> bool:
                return bool(np.abs(_patch(page.screenshot(), xy) - expected_red).max() <= COLOUR_TOLERANCE)

            assert wait_until(lambda: red_at(red_start), timeout=90), _patch(page.screenshot(), red_start)
            first = page.screenshot()
            Image.fromarray(first).save(tmp_path / "viewer_frame0.png")
            for name in ("blue", "grey"):
                assert (
                    np.abs(_patch(first, _projected(world, name, 0)) - _srgb(BOX_COLOURS[name])).max()
                    <= COLOUR_TOLERANCE
                ), name

            app.set_frame(7)  # the red box slid 0.875 m along +x
            red_end = _projected(world, "red", 7)
            assert red_end[0] - red_start[0] > 60
            assert wait_until(lambda: red_at(red_end), timeout=60)
            moved = page.screenshot()
            Image.fromarray(moved).save(tmp_path / "viewer_frame7.png")
            assert np.abs(_patch(moved, red_start) - expected_red).max() > 40  # the box left its old place
            if os.environ.get("WORLDSIM_VIEWER_SCREENSHOTS"):  # the README's pictures
                target = Path(os.environ["WORLDSIM_VIEWER_SCREENSHOTS"])
                target.mkdir(parents=True, exist_ok=True)
                Image.fromarray(first).save(target / "viewer_through_camera.png")
                app.set_image("instance")
                app.select_entity(next(e.entity_id for e in world.entities if e.name == "blue"))
                app.view_from(np.array([5.0, -9.0, 6.0]), np.array([0.0, 0.0, 0.5]))
                time.sleep(8)
                Image.fromarray(page.screenshot()).save(target / "viewer_path.png")
    finally:
        app.close()


def test_keyframes_edited_through_the_app_are_saved(viewer_clip: Path, tmp_path: Path) -> None:
    from worldsim.camera.conventions import look_at
    from worldsim.render import load_and_validate, rollout
    from worldsim.viewer.app import ViewerApp
    from worldsim.viewer.world_view import load_viewed_world

    app = ViewerApp(load_viewed_world(viewer_clip), port=0)
    try:
        app.set_frame(4)
        index = app.add_keyframe(look_at(np.array([3.0, -4.0, 2.0]), np.array([0.0, 0.0, 0.5])), fov_deg=35.0)
        dragged = look_at(np.array([2.5, -4.5, 2.2]), np.array([0.0, 0.2, 0.5]))
        app.move_keyframe(index, dragged)
        preview = app.preview
        saved = app.save(tmp_path / "shot.yaml")
        scene = load_and_validate(saved)
        key = next(key for key in scene.cameras[0].keyframes if abs(key.t - 0.5) < 1e-12)
        np.testing.assert_allclose(key.position, dragged[:3, 3], atol=1e-12)
        np.testing.assert_allclose(
            rollout(scene).cameras["main"].cam_to_world, preview.cam_to_world, atol=1e-6
        )
        json_path = app.save(tmp_path / "camera_path.json")
        from worldsim.camera.interchange import import_nerfstudio

        np.testing.assert_allclose(
            import_nerfstudio(json_path)[0].cam_to_world, preview.cam_to_world, atol=1e-6
        )
    finally:
        app.close()


def test_bad_input_gets_one_clear_message(viewer_clip: Path, tmp_path: Path) -> None:
    from worldsim.viewer.app import ViewerApp, check_port_free
    from worldsim.viewer.world_view import load_viewed_world

    with pytest.raises(SceneError, match="no such scene file or clip folder"):
        load_viewed_world(tmp_path / "missing.yaml")
    (tmp_path / "empty_clip").mkdir()
    with pytest.raises(SceneError, match=r"not a clip folder: no scene\.yaml or trajectory\.json"):
        load_viewed_world(tmp_path / "empty_clip")
    app = ViewerApp(load_viewed_world(viewer_clip), port=0)
    try:
        with pytest.raises(RenderError, match=rf"cannot serve on 127\.0\.0\.1:{app.port}.*another --port"):
            check_port_free("127.0.0.1", app.port)
    finally:
        app.close()
    result = subprocess.run(
        [sys.executable, "-m", "worldsim.cli.main", "view", str(tmp_path / "missing.yaml"), "--no-browser"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no such scene file or clip folder" in result.stderr


def test_cli_serves_the_page_on_loopback_and_stops_on_ctrl_c(viewer_clip: Path) -> None:
    import signal
    import urllib.request

    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "worldsim.cli.main",
            "view",
            str(viewer_clip),
            "--port",
            "0",
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background inherits SIGINT ignored: give the viewer Ctrl-C's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = process.stdout.readline()  # the first line printed is the URL (viser's banner is muted)
        assert line.startswith("worldsim viewer: http://127.0.0.1:"), line
        url = line.split()[2]
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "<html" in page.lower()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
