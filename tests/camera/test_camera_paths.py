"""Numeric tests of camera paths, timing, presets, shake and chaining."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from worldsim.camera.easing import EASINGS
from worldsim.camera.evaluate import evaluate_camera
from worldsim.camera.projection import project_points
from worldsim.camera.spec import CameraKeyframe, CameraMove, CameraSegment, CameraShake, CameraSpec
from worldsim.errors import SceneError

RESOLUTION = (128, 96)
CENTRE_PX_TOL = 0.01
"""The target must project within this many pixels of the image centre."""
RELATIVE_TOL = 0.01
"""Arc length per frame and the subject's image size within 1%."""


def frames(count: int, fps: float = 24.0) -> np.ndarray:
    return np.arange(count) / fps


def centre_offsets(track, points: np.ndarray) -> np.ndarray:
    """Per frame: distance in pixels between the projection of points[t] and the image centre."""
    offsets = []
    for frame in range(len(track)):
        uv, depth = project_points(points[frame][None], track.cam_to_world[frame], track.intrinsics(frame))
        assert depth[0] > 0
        offsets.append(np.linalg.norm(uv[0] - [track.width / 2, track.height / 2]))
    return np.array(offsets)


@pytest.mark.parametrize("name", sorted(EASINGS))
def test_easing_endpoints_and_monotone(name: str) -> None:
    u = np.linspace(0.0, 1.0, 1001)
    eased = EASINGS[name](u)
    assert eased[0] == pytest.approx(0.0, abs=1e-12) and eased[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(eased) >= -1e-12)


@pytest.mark.parametrize("sweep", [360.0, 90.0])
def test_orbit_keeps_radius_and_target_centred(sweep: float) -> None:
    spec = CameraSpec(
        position=[3.0, 0.0, 1.0],
        look_at=[0.5, 0.2, 0.4],
        moves=[CameraMove(type="orbit", sweep_deg=sweep, elevation_deg=25.0, radius=2.5, easing="linear")],
    )
    track = evaluate_camera(spec, frames(48), RESOLUTION)
    centre = np.array([0.5, 0.2, 0.4])
    radius = np.linalg.norm(track.cam_to_world[:, :3, 3] - centre, axis=-1)
    assert np.abs(radius - 2.5).max() < 1e-9
    assert centre_offsets(track, np.tile(centre, (48, 1))).max() < CENTRE_PX_TOL
    elevation = np.degrees(np.arcsin((track.cam_to_world[:, 2, 3] - centre[2]) / 2.5))
    assert np.allclose(elevation, 25.0)
    azimuth = np.unwrap(np.arctan2(*(track.cam_to_world[:, [1, 0], 3] - centre[[1, 0]]).T))
    assert azimuth[-1] - azimuth[0] == pytest.approx(math.radians(sweep), rel=1e-9)


def test_orbit_tracks_a_moving_entity() -> None:
    def lookup(name: str, frame_indices: np.ndarray) -> np.ndarray:
        assert name == "ball"
        t = np.asarray(frame_indices) / 24.0
        return np.stack([t, np.sin(t), 0.3 + 0.5 * np.abs(np.sin(3 * t))], axis=-1)  # a bouncing ball

    spec = CameraSpec(
        target="ball", position=[4.0, 0.0, 1.5], moves=[CameraMove(type="orbit", target="ball")]
    )
    track = evaluate_camera(spec, frames(48), RESOLUTION, lookup)
    ball = lookup("ball", np.arange(48))
    assert centre_offsets(track, ball).max() < CENTRE_PX_TOL
    radius = np.linalg.norm(track.cam_to_world[:, :3, 3] - ball, axis=-1)
    assert np.ptp(radius) < 1e-9


def test_keyframe_interpolation_matches_scipy() -> None:
    keys = [[0, 0, 1], [2, 1, 1.5], [3, -1, 2], [5, 0, 1]]
    key_times = [0.0, 0.7, 1.2, 2.0]
    keyframes = [CameraKeyframe(t=t, position=p, look_at=[1, 5, 0]) for t, p in zip(key_times, keys)]
    times = frames(49)
    spec = CameraSpec(keyframes=keyframes, position_interpolation="cubic")
    track = evaluate_camera(spec, times, RESOLUTION)
    expected = CubicSpline(key_times, keys, bc_type="natural")(times)
    assert np.abs(track.cam_to_world[:, :3, 3] - expected).max() < 1e-9
    spec.position_interpolation = "catmull_rom"
    track = evaluate_camera(spec, np.array(key_times), RESOLUTION)
    assert np.allclose(track.cam_to_world[:, :3, 3], keys, atol=1e-12)  # passes through every key


def test_constant_speed_equal_arc_length_per_frame() -> None:
    keyframes = [
        CameraKeyframe(t=0.0, position=[0, 0, 1]),
        CameraKeyframe(t=0.2, position=[4, 0, 1]),
        CameraKeyframe(t=1.5, position=[4, 1, 1]),
        CameraKeyframe(t=2.0, position=[0, 3, 2]),
    ]
    spec = CameraSpec(
        keyframes=keyframes, look_at=[2, 1, 0], position_interpolation="catmull_rom", timing="constant_speed"
    )
    fine = 20  # arc length of each frame step, from 20 chords per step
    track = evaluate_camera(spec, np.linspace(0.0, 2.0, 48 * fine + 1), RESOLUTION)
    chords = np.linalg.norm(np.diff(track.cam_to_world[:, :3, 3], axis=0), axis=-1)
    steps = chords.reshape(48, fine).sum(axis=1)
    assert np.abs(steps / steps.mean() - 1.0).max() < RELATIVE_TOL
    spec.timing = "keys"  # the same path keyed unevenly is far from constant speed
    uneven = np.linalg.norm(
        np.diff(evaluate_camera(spec, frames(49), RESOLUTION).cam_to_world[:, :3, 3], axis=0), axis=-1
    )
    assert np.abs(uneven / uneven.mean() - 1.0).max() > 0.5


def test_holds_pause_at_keys() -> None:
    keyframes = [
        CameraKeyframe(t=0.0, position=[0, 0, 1], hold=0.5),
        CameraKeyframe(t=1.0, position=[2, 0, 1]),
    ]
    track = evaluate_camera(
        CameraSpec(keyframes=keyframes, look_at=[1, 5, 0]), np.array([0.0, 0.25, 0.5, 1.0, 1.5]), RESOLUTION
    )
    assert np.allclose(track.cam_to_world[:3, 0, 3], 0.0)
    assert track.cam_to_world[3, 0, 3] == pytest.approx(1.0)
    assert track.cam_to_world[4, 0, 3] == pytest.approx(2.0)


def test_dolly_zoom_keeps_subject_size() -> None:
    subject = np.array([0.0, 0.0, 0.5])
    spec = CameraSpec(position=[4.0, -1.0, 1.2], look_at=subject.tolist(), fov_deg=30.0,
                      moves=[CameraMove(type="dolly_zoom", distance=2.5)])  # fmt: skip
    track = evaluate_camera(spec, frames(48), RESOLUTION)
    # Project the ends of a vertical 0.4 m rod through the subject, orthogonal to the view.
    sizes = []
    for frame in range(48):
        pose = track.cam_to_world[frame]
        down = pose[:3, 1]
        ends = np.stack([subject - 0.2 * down, subject + 0.2 * down])
        uv, _ = project_points(ends, pose, track.intrinsics(frame))
        sizes.append(np.linalg.norm(uv[1] - uv[0]))
    sizes = np.array(sizes)
    assert np.abs(sizes / sizes[0] - 1.0).max() < RELATIVE_TOL
    assert track.fy[-1] < 0.5 * track.fy[0]  # it really zoomed out while moving in
    assert centre_offsets(track, np.tile(subject, (48, 1))).max() < CENTRE_PX_TOL


def test_shake_has_no_drift() -> None:
    spec = CameraSpec(position=[3, 0, 1], look_at=[0, 0, 0.5], shake=CameraShake(amplitude_m=0.05, seed=4))
    times = frames(24 * 120)  # two minutes
    shaken = evaluate_camera(spec, times, RESOLUTION).cam_to_world
    still = evaluate_camera(
        CameraSpec(position=[3, 0, 1], look_at=[0, 0, 0.5]), times, RESOLUTION
    ).cam_to_world
    offset = shaken[:, :3, 3] - still[:, :3, 3]
    assert 0.02 < np.sqrt(np.mean(offset**2)) < 0.1  # it shakes
    assert np.abs(offset.mean(axis=0)).max() < 0.1 * 0.05  # and does not drift
    assert np.abs(offset[-24 * 10 :].mean(axis=0)).max() < 0.3 * 0.05  # late in the clip too
    again = evaluate_camera(spec, times, RESOLUTION).cam_to_world
    assert np.array_equal(again, shaken)  # seeded


def test_chained_moves_and_blend_segments_are_continuous() -> None:
    spec = CameraSpec(
        position=[4.0, 0.0, 1.5],
        look_at=[0.0, 0.0, 0.5],
        moves=[
            CameraMove(type="dolly", distance=1.0, start_time=0.0, duration=0.5),
            CameraMove(type="orbit", sweep_deg=90, start_time=0.5, duration=0.5),
            CameraMove(type="crane", distance=1.0, start_time=1.0, duration=0.5),
            CameraMove(type="pan", angle_deg=20, start_time=1.5, duration=0.5),
        ],
        segments=[CameraSegment(start_time=2.0, transition="blend", blend_duration=0.5, position=[0, 4, 2])],
    )
    fps = 240.0
    track = evaluate_camera(spec, frames(int(2.8 * fps), fps), RESOLUTION)
    steps = np.linalg.norm(np.diff(track.cam_to_world[:, :3, :], axis=0), axis=(-2, -1))
    # Continuous: at 240 fps no step (position + rotation matrix entries) anywhere beyond 0.2,
    # while a cut jumps by metres.
    assert steps.max() < 0.2
    cut = CameraSpec(position=[4.0, 0.0, 1.5], segments=[CameraSegment(start_time=0.5, position=[0, 4, 2])])
    jumped = evaluate_camera(cut, frames(24), RESOLUTION).cam_to_world[:, :3, 3]
    assert np.allclose(jumped[11], [4, 0, 1.5]) and np.allclose(jumped[12], [0, 4, 2])


@pytest.mark.parametrize(
    ("move", "check"),
    [
        (
            CameraMove(type="dolly", distance=1.0),
            lambda a, b: np.dot(b[:3, 3] - a[:3, 3], a[:3, 2]) == pytest.approx(1.0),
        ),
        (
            CameraMove(type="truck", distance=1.0),
            lambda a, b: np.dot(b[:3, 3] - a[:3, 3], a[:3, 0]) == pytest.approx(1.0),
        ),
        (CameraMove(type="pedestal", distance=1.0), lambda a, b: b[2, 3] - a[2, 3] == pytest.approx(1.0)),
        (
            CameraMove(type="pan", angle_deg=30),
            lambda a, b: (_heading(b) - _heading(a) + 180) % 360 - 180 == pytest.approx(30, abs=1e-6),
        ),
        (CameraMove(type="tilt", angle_deg=10), lambda a, b: b[2, 2] > a[2, 2]),
        (
            CameraMove(type="roll", angle_deg=15),
            lambda a, b: _angle(a[:3, 0], b[:3, 0]) == pytest.approx(15, abs=1e-6),
        ),
    ],
)
def test_relative_moves(move: CameraMove, check) -> None:
    spec = CameraSpec(position=[4.0, -1.0, 1.2], look_at=[0.0, 0.0, 0.5], moves=[move])
    track = evaluate_camera(spec, frames(25), RESOLUTION)
    assert check(track.cam_to_world[0], track.cam_to_world[-1])


def _heading(pose: np.ndarray) -> float:
    return math.degrees(math.atan2(pose[1, 2], pose[0, 2]))


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(math.acos(np.clip(np.dot(a, b), -1, 1)))


def test_zoom_crane_flyover_and_chase() -> None:
    zoom = evaluate_camera(
        CameraSpec(fov_deg=50, moves=[CameraMove(type="zoom", end_fov_deg=20)]), frames(25), RESOLUTION
    )
    assert zoom.intrinsics(24).vertical_fov_deg == pytest.approx(20.0)
    crane = evaluate_camera(
        CameraSpec(moves=[CameraMove(type="crane", distance=2.0)]), frames(25), RESOLUTION
    )
    assert crane.cam_to_world[-1, 2, 3] - crane.cam_to_world[0, 2, 3] == pytest.approx(2.0)
    assert centre_offsets(crane, np.tile([0.0, 0.0, 0.5], (25, 1))).max() < CENTRE_PX_TOL
    fly = CameraSpec(
        moves=[CameraMove(type="flyover", center=[0, 0, 0], distance=6, height=3, easing="linear")]
    )
    fly_track = evaluate_camera(fly, frames(25), RESOLUTION)
    assert np.allclose(fly_track.cam_to_world[:, 2, 3], 3.0)
    assert np.allclose(fly_track.cam_to_world[[0, -1], 0, 3], [-3.0, 3.0])

    def car(name: str, frame_indices: np.ndarray) -> np.ndarray:
        t = np.asarray(frame_indices) / 24.0
        return np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], axis=-1)  # driving a circle

    chase = CameraSpec(moves=[CameraMove(type="chase", target="car", distance=2.0, height=1.0)])
    chase_track = evaluate_camera(chase, frames(48), RESOLUTION, car)
    position = car("car", np.arange(48))
    behind = chase_track.cam_to_world[:, :3, 3] - position
    assert np.allclose(np.linalg.norm(behind[:, :2], axis=-1), 2.0, atol=1e-3)
    assert centre_offsets(chase_track, position).max() < CENTRE_PX_TOL


def test_clear_errors() -> None:
    out_of_order = CameraSpec(
        keyframes=[CameraKeyframe(t=1.0, position=[1, 0, 0]), CameraKeyframe(t=0.5, position=[2, 0, 0])]
    )
    with pytest.raises(SceneError, match="out of order") as error:
        evaluate_camera(out_of_order, frames(5), RESOLUTION)
    assert error.value.key_path == "cameras[main].keyframes[1].t"
    with pytest.raises(SceneError, match="finite"):
        evaluate_camera(CameraSpec(position=[0, math.nan, 0]), frames(5), RESOLUTION)
    with pytest.raises(SceneError, match="degenerate look-at"):
        evaluate_camera(CameraSpec(position=[0, 0, 3], look_at=[0, 0, 0]), frames(5), RESOLUTION)
    with pytest.raises(SceneError, match="unknown camera move 'spin'"):
        evaluate_camera(CameraSpec(moves=[CameraMove(type="spin")]), frames(5), RESOLUTION)
    with pytest.raises(SceneError, match="needs entity positions"):
        evaluate_camera(CameraSpec(target="ball"), frames(5), RESOLUTION)


def test_thousands_of_frames_are_fast() -> None:
    import time

    spec = CameraSpec(
        keyframes=[CameraKeyframe(t=i, position=[math.cos(i), math.sin(i), 1.0]) for i in range(10)],
        position_interpolation="catmull_rom",
        timing="constant_speed",
        moves=[CameraMove(type="dolly_zoom", distance=0.2)],
        shake=CameraShake(),
    )
    start = time.perf_counter()
    track = evaluate_camera(spec, np.linspace(0, 9, 5000), RESOLUTION)
    assert len(track) == 5000
    assert time.perf_counter() - start < 1.0


def test_camera_inside_an_entity_box_is_reported() -> None:
    from worldsim.camera.checks import CameraWarning, camera_inside_boxes, warn_camera_inside_boxes

    keys = [CameraKeyframe(t=0, position=[-3, 0, 0.5]), CameraKeyframe(t=1, position=[3, 0, 0.5])]
    spec = CameraSpec(keyframes=keys, look_at=[0, 5, 0.5])
    track = evaluate_camera(spec, frames(25), RESOLUTION)  # passes through x = 0
    poses = np.tile(np.eye(4), (25, 2, 1, 1))
    poses[:, 0, :3, :3] = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])  # box rotated 90 degrees about z
    poses[:, 1, :3, 3] = [0.0, 0.0, 0.0]
    bounds = np.array([[[-0.2, -1.0, 0.0], [0.2, 1.0, 1.0]], [[-4, -4, 0], [4, 4, 0]]])  # box, flat ground
    messages = camera_inside_boxes(track, poses, bounds, ["wall", "ground"])
    # Rotated, the wall spans x in [-1, 1]: frames at x = -0.75 .. 0.75 (every 0.25 m) are inside.
    assert messages == ["camera 'main' is inside entity 'wall' at 7 frame(s), first frame 9"]
    with pytest.warns(CameraWarning, match="inside entity 'wall'"):
        warn_camera_inside_boxes(track, poses, bounds, ["wall", "ground"])


def test_rotation_keys_match_scipy_slerp_and_spline() -> None:
    from scipy.spatial.transform import Rotation, RotationSpline, Slerp

    key_times = [0.0, 0.5, 1.0, 2.0]
    eulers = [[-100, 0, 0], [-110, 10, 30], [-95, -5, 80], [-120, 0, 120]]
    keys = [
        CameraKeyframe(t=t, position=[i, 0.0, 1.0], euler_deg=e)
        for i, (t, e) in enumerate(zip(key_times, eulers))
    ]
    times = frames(49)
    rotations = Rotation.from_euler("xyz", eulers, degrees=True)
    for mode, expected in (
        ("slerp", Slerp(key_times, rotations)(times)),
        ("spline", RotationSpline(key_times, rotations)(times)),
    ):
        track = evaluate_camera(CameraSpec(keyframes=keys, rotation_interpolation=mode), times, RESOLUTION)
        assert np.abs(track.cam_to_world[:, :3, :3] - expected.as_matrix()).max() < 1e-9


def test_orient_along_path_looks_where_it_goes() -> None:
    keys = [CameraKeyframe(t=t, position=[math.cos(t), math.sin(t), 1.0]) for t in np.linspace(0, 3, 7)]
    spec = CameraSpec(keyframes=keys, position_interpolation="cubic", orient_along_path=True)
    track = evaluate_camera(spec, np.linspace(0.1, 2.9, 30), RESOLUTION)
    velocity = np.gradient(track.cam_to_world[:, :3, 3], axis=0)
    velocity /= np.linalg.norm(velocity, axis=-1, keepdims=True)
    cosine = np.sum(velocity * track.cam_to_world[:, :3, 2], axis=-1)
    assert cosine[1:-1].min() > 0.999


def test_shots_edit_list() -> None:
    from worldsim.camera.evaluate import edit_list

    wide = CameraSpec(name="wide")
    close = CameraSpec(name="close", start_time=0.5, end_time=1.0)
    assert edit_list([wide, close], np.array([0.0, 0.5, 0.75, 1.0, 1.25])) == [
        "wide",
        "close",
        "close",
        "close",
        "wide",
    ]
    with pytest.raises(SceneError, match="after end_time"):
        edit_list([CameraSpec(start_time=2.0, end_time=1.0)], frames(3))


def test_key_fov_zoom_and_entity_keys() -> None:
    def lookup(name: str, frame_indices: np.ndarray) -> np.ndarray:
        t = np.asarray(frame_indices) / 24.0
        return np.stack([t, np.zeros_like(t), np.full_like(t, 0.5)], axis=-1)

    keys = [
        CameraKeyframe(t=0.0, position=[0, -3, 1], look_at=[0, 0, 0.5], fov_deg=60.0),
        CameraKeyframe(t=1.0, position=[1, -3, 1], target="cart", fov_deg=20.0),
    ]
    track = evaluate_camera(CameraSpec(keyframes=keys), frames(25), RESOLUTION, lookup)
    fov = np.array([track.intrinsics(f).vertical_fov_deg for f in range(25)])
    assert fov[0] == pytest.approx(60.0) and fov[12] == pytest.approx(40.0) and fov[24] == pytest.approx(20.0)
    # At the last key the camera looks exactly at the cart, wherever it has moved to.
    assert centre_offsets(track, lookup("cart", np.arange(25)))[-1] < CENTRE_PX_TOL


def test_per_frame_key_paths_are_fast() -> None:
    """An imported path has one key per frame: 3,000 keys x 3,000 frames in well under a second."""
    import time

    from worldsim.camera.interchange import track_to_spec

    orbit = CameraSpec(position=[3, 0, 1], moves=[CameraMove(type="orbit", easing="linear")])
    times = frames(3000)
    track = evaluate_camera(orbit, times, RESOLUTION)
    spec = track_to_spec(track, 24.0)
    start = time.perf_counter()
    again = evaluate_camera(spec, times, RESOLUTION)
    assert time.perf_counter() - start < 1.0
    assert np.abs(again.cam_to_world - track.cam_to_world).max() < 1e-9


def test_chase_smoothing_eases_turns() -> None:
    def zigzag(name: str, frame_indices: np.ndarray) -> np.ndarray:
        t = np.asarray(frame_indices) / 24.0
        return np.stack([t, np.where(t < 1.0, 0.0, t - 1.0), np.zeros_like(t)], axis=-1)  # 45-degree turn

    def max_turn_rate(smoothing: float) -> float:
        move = CameraMove(type="chase", target="car", distance=2.0, height=1.0, smoothing=smoothing)
        track = evaluate_camera(CameraSpec(moves=[move]), frames(48), RESOLUTION, zigzag)
        forward = track.cam_to_world[:, :2, 2]
        heading = np.unwrap(np.arctan2(forward[:, 1], forward[:, 0]))
        return float(np.abs(np.diff(heading)).max())

    assert max_turn_rate(0.3) < 0.5 * max_turn_rate(0.0)
