"""``worldsim dataset`` on a local Ray: a randomised dataset rendered and resumed, a worker killed
mid-clip, bad input refused before any clip starts, and ``experiment --workers``.

One Ray session (2 CPUs) serves the module: starting Ray and warming its workers costs seconds.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from worldsim.cli.main import main
from worldsim.datasets.config import DatasetConfig, load_dataset_config
from worldsim.datasets.dataset import render_dataset
from worldsim.datasets.exports import maps_for_exports
from worldsim.datasets.manifest import Manifest
from worldsim.scene.yaml_io import load_scene, scene_to_yaml

pytest.importorskip("ray", reason="the datasets extra (ray) is not installed")

RANDOMISED = """
name: balls
num_frames: {frames}
resolution: [{size}, {size}]
entities:
  - name: floor
    semantic_class: ground
    mesh: {{type: plane, size: [6, 6]}}
    material: {{base_color: {{uniform: [[0.2, 0.2, 0.2], [0.9, 0.9, 0.9]]}}}}
  - repeat:
      count: {{randint: [1, 3]}}
      entity:
        name: ball
        semantic_class: ball
        mesh: {{type: sphere, radius: {{uniform: [0.2, 0.4]}}}}
        pose: {{position: [{{uniform: [-1, 1]}}, {{uniform: [-1, 1]}}, 0.4]}}
        motion: {{type: velocity, linear_velocity: [{{normal: [0, 0.5]}}, 0, 0]}}
cameras:
  - {{name: main, fov_deg: {{uniform: [40, 60]}}, position: [4, -4, 3], look_at: [0, 0, 0.3]}}
"""


@pytest.fixture(scope="module")
def ray_session():
    from worldsim.datasets.ray_pool import RaySession

    with RaySession(2) as session:
        yield session


def _scene_file(folder: Path, frames: int = 4, size: int = 32, stem: str = "balls") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(RANDOMISED.format(frames=frames, size=size))
    return path


def _files(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(path.relative_to(root)): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_randomised_dataset_renders_then_a_rerun_renders_nothing(tmp_path, ray_session, capsys):
    scene = _scene_file(tmp_path)
    out = tmp_path / "dataset"
    argv = ["dataset", str(scene), "--out", str(out), "--seeds", "0:4", "--workers", "2", "--guidance-only"]
    # with the export registry (worldsim.exports, its own branch until merged): COCO per clip too
    with_coco = importlib.util.find_spec("worldsim.exports.registry") is not None
    exports = ["coco"] if with_coco else []
    argv += ["--export", ",".join(exports)] if exports else []
    assert main(argv) == 0
    assert "4 done, 0 failed, 0 already done (of 4)" in capsys.readouterr().out

    lines = (out / "manifest.jsonl").read_text().splitlines()
    entries = Manifest(out / "manifest.jsonl").entries
    assert len(lines) == 4 and sorted(entries) == [f"balls-{seed}" for seed in range(4)]
    texts = set()
    for seed in range(4):
        entry = entries[f"balls-{seed}"]
        assert (entry.scene, entry.seed, entry.frames, entry.status, entry.error) == (
            "balls",
            seed,
            4,
            "done",
            None,
        )
        clip = out / "clips" / f"balls-{seed}"
        assert sorted(path.name for path in (clip / "depth").glob("*.png")) == [
            f"{i:05d}.png" for i in range(4)
        ]
        assert not (clip / "rgb").exists()
        text = (clip / "scene.yaml").read_text()
        expected = load_scene(scene, seed=seed)
        # the maps the exports read are added to each clip's guidance
        expected.render.guidance += [
            name for name in maps_for_exports(exports) if name not in expected.render.guidance
        ]
        assert text == scene_to_yaml(expected)  # the seed's scene, byte for byte
        texts.add(text)
        if with_coco:
            _check_coco(clip)
    assert len(texts) == 4
    config = load_dataset_config(out / "dataset.yaml")
    assert config.guidance_only and config.seeds == "0:4" and config.scenes == [str(scene.resolve())]

    before = _files(out / "clips")
    assert main(argv) == 0
    assert "0 done, 0 failed, 4 already done (of 4)" in capsys.readouterr().out
    assert _files(out / "clips") == before  # nothing rewritten
    assert (out / "manifest.jsonl").read_text().splitlines() == lines


def _check_coco(clip: Path) -> None:
    """pycocotools reads the clip's coco.json and its masks equal the instance maps exactly."""
    import numpy as np
    from pycocotools.coco import COCO

    from worldsim.clip.clip import Clip

    coco = COCO(str(clip / "exports" / "coco.json"))
    frames = Clip(clip)
    checked = 0
    for frame in range(frames.num_frames):
        instance = frames.instance(frame)
        for annotation in coco.loadAnns(coco.getAnnIds(imgIds=[frame + 1])):
            assert np.array_equal(coco.annToMask(annotation).astype(bool), instance == annotation["track_id"])
            checked += 1
    assert checked >= 2 * frames.num_frames  # the floor and at least one ball in every frame


class _Killer(threading.Thread):
    """Kills (SIGKILL) the worker process that holds a clip folder's lock once it has written some
    but not all of its frames; records what it killed and the files of the frames then complete."""

    def __init__(self, clips: Path, frames: int) -> None:
        super().__init__(daemon=True)
        self.clips, self.frames = clips, frames
        self.killed: tuple[str, int, int] | None = None
        self.complete_at_kill: dict[Path, int] = {}
        """Map files of the frames complete when the worker was killed -> their mtime_ns."""
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.killed is None:
            for lock in self.clips.glob("*/.lock") if self.clips.is_dir() else []:
                written = len([path for path in (lock.parent / "depth").glob("0*.png")])
                if 2 <= written <= self.frames - 4:
                    try:
                        pid = int(lock.read_text().split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    os.kill(pid, signal.SIGKILL)
                    self._record(lock.parent, pid)
                    return
            time.sleep(0.005)

    def _record(self, clip: Path, pid: int) -> None:
        from worldsim.clip.layout import ClipLayout

        time.sleep(0.2)  # let the kernel reap it before looking at what it left
        layout = ClipLayout(clip)
        maps = ["depth", "instance", "semantic", "normal", "flow"]
        incomplete = set(layout.incomplete_frames(maps, range(self.frames)))
        complete = [frame for frame in range(self.frames) if frame not in incomplete]
        for frame in complete:
            for path in layout.frame_files(maps, frame):
                self.complete_at_kill[path] = path.stat().st_mtime_ns
        self.killed = (clip.name, pid, len(complete))


@pytest.mark.slow
def test_a_worker_killed_mid_clip_is_retried_and_the_clips_match_a_run_without_the_kill(
    tmp_path, ray_session
):
    frames = 40
    scene = _scene_file(tmp_path, frames=frames, size=48)
    config = DatasetConfig(scenes=[str(scene)], seeds="0:3", guidance_only=True, workers=2, max_retries=2)
    reference = render_dataset(config, tmp_path / "reference", progress=False)
    assert (reference.done, reference.failed) == (3, 0)

    killer = _Killer(tmp_path / "killed" / "clips", frames)
    killer.start()
    try:
        summary = render_dataset(config, tmp_path / "killed", progress=False)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no worker was caught mid-clip"
    clip_id, pid, written = killer.killed  # written: frames complete when it was killed
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker is gone
    assert (summary.done, summary.failed) == (3, 0)
    # resumed, not rendered again: the frames complete before the kill were left as they were
    assert written >= 1
    assert {path: path.stat().st_mtime_ns for path in killer.complete_at_kill} == killer.complete_at_kill
    lines = (tmp_path / "killed" / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 3 and len(set(Manifest(tmp_path / "killed" / "manifest.jsonl").entries)) == 3
    expected = {name: data for name, (_, data) in _files(tmp_path / "reference" / "clips").items()}
    got = {name: data for name, (_, data) in _files(tmp_path / "killed" / "clips").items()}
    assert sorted(got) == sorted(expected)
    differing = [name for name in expected if got[name] != expected[name]]
    assert not differing, f"clip {clip_id} (killed after {written} frames): {differing[:5]} differ"


def _http_server() -> int:
    """The port of a one-shot TCP server that answers like an HTTP/1 server (not gRPC)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        with connection, server:
            connection.recv(64)
            connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_the_address_check_accepts_a_running_ray(ray_session):
    import ray

    from worldsim.datasets.ray_pool import check_address

    check_address(ray.get_runtime_context().gcs_address)  # the local Ray's GCS answers as gRPC
    check_address("auto")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown distribution", "balls.yaml: cameras[0].fov_deg: unknown distribution 'gaussian'"),
        ("uniform lo > hi", "balls.yaml: entities[0].material.base_color.uniform: lo > hi"),
        ("seeds 5:2", "seeds: '5:2' is an empty range: B must be greater than A"),
        ("unreachable address", "address: cannot reach the Ray cluster at 127.0.0.1:"),
        ("not a Ray address", "answers, but not as a Ray cluster (no gRPC reply)"),
        ("same stem", "two inputs have the stem 'balls'"),
        ("unknown export", "exports[0]: unknown export format 'cocoa' (did you mean 'coco'?)"),
    ],
)
def test_bad_input_gets_one_message_before_any_clip_starts(tmp_path, capsys, case, expected):
    scene = _scene_file(tmp_path)
    inputs = [str(scene)]
    extra: list[str] = []
    if case == "unknown distribution":
        scene.write_text(scene.read_text().replace("{uniform: [40, 60]}", "{gaussian: [50, 5]}"))
    elif case == "uniform lo > hi":
        scene.write_text(scene.read_text().replace("[[0.2, 0.2, 0.2], [0.9, 0.9, 0.9]]", "[0.9, 0.2]"))
    elif case == "seeds 5:2":
        extra = ["--seeds", "5:2"]
    elif case == "unreachable address":
        extra = ["--address", f"127.0.0.1:{_free_port()}"]
    elif case == "not a Ray address":
        extra = ["--address", f"127.0.0.1:{_http_server()}"]
    elif case == "same stem":
        inputs.append(str(_scene_file(tmp_path / "other")))
    elif case == "unknown export":
        extra = ["--export", "cocoa"]
    out = tmp_path / "dataset"
    start = time.perf_counter()
    code = main(["dataset", *inputs, "--out", str(out), "--guidance-only", *extra])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("error: ")
    assert expected in err[0]
    assert not out.exists()  # nothing started
    assert elapsed < 30


@pytest.mark.slow
def test_experiment_with_workers_matches_the_serial_sweep(tmp_path, ray_session):
    from worldsim.experiments.experiment import run_and_report

    demo = Path(__file__).parents[2] / "scenes" / "demo.yaml"
    config = tmp_path / "sweep.yaml"
    config.write_text(
        f"name: sweep\nscenes: [{demo}]\nseeds: [0]\nclip_lengths: [6]\nresolution: [32, 24]\ngap: 2\n"
        "renderers:\n  - {renderer: flat}\n  - {renderer: jitter}\n"
    )
    serial = run_and_report(config, tmp_path / "serial")
    assert (
        main(["experiment", str(config), "--out", str(tmp_path / "ray"), "--workers", "2", "--no-progress"])
        == 0
    )
    for name in ("metrics.csv", "frames.csv", "entities.csv"):
        assert (tmp_path / "ray" / name).read_text() == getattr(serial, name.replace(".", "_")).read_text()


@pytest.mark.slow
def test_the_readme_dataset_example_runs(tmp_path, ray_session, monkeypatch, capsys):
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```py\n(.*?)```", readme, flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme_dataset_example"})
    # the comments in the example state the printed values; keep them true
    assert capsys.readouterr().out.splitlines() == ["True", "2 ['procedural-0', 'procedural-1']"]
    assert (tmp_path / "out" / "procedural" / "clips" / "procedural-1" / "depth" / "00003.png").is_file()


class _FlakyGenerator:
    """A generator whose scene for ``bad_seed`` always raises (as a bug would), counting attempts
    in files (the workers are other processes)."""

    def __init__(self, folder: Path, bad_seed: int) -> None:
        self.folder, self.bad_seed = folder, bad_seed

    def __call__(self, seed: int):
        from worldsim.datasets.random_scenes import RandomSceneConfig, RandomSceneGenerator

        if seed == self.bad_seed:
            attempts = len(list(self.folder.glob("attempt-*")))
            (self.folder / f"attempt-{attempts}").touch()
            raise RuntimeError(f"generator bug at seed {seed}")
        return RandomSceneGenerator(RandomSceneConfig(size=[24, 24], num_frames=3))(seed)


@pytest.mark.slow
def test_clips_that_keep_failing_are_recorded_and_the_others_finish(tmp_path, ray_session, capsys):
    # a scene file whose seed 2 draws an invalid mesh type: a scene error, recorded at once
    scene = _scene_file(tmp_path)
    text = scene.read_text().replace("{type: sphere,", "{type: {choice: [sphere, blob]},")
    scene.write_text(text)
    invalid = [seed for seed in range(1, 6) if _draws_blob(scene, seed)]
    assert invalid, "no seed in 1..5 draws the invalid mesh"
    out = tmp_path / "dataset"
    argv = ["dataset", str(scene), "--out", str(out), "--seeds", "0:6", "--guidance-only", "-q"]
    if _draws_blob(scene, 0):
        pytest.fail("seed 0 must be valid: the dataset checks the first seed before it starts")
    assert main(argv) == 1
    entries = Manifest(out / "manifest.jsonl").entries
    assert sorted(entries) == [f"balls-{seed}" for seed in range(6)]
    for seed in range(6):
        entry = entries[f"balls-{seed}"]
        if seed in invalid:
            assert entry.status == "failed" and entry.frames == 0
            assert "unknown mesh type 'blob'" in entry.error and f"(resolved with seed {seed})" in entry.error
        else:
            assert entry.status == "done" and entry.frames == 4
    err = capsys.readouterr().err
    assert f"failed: balls-{invalid[0]}: " in err

    # a generator that raises (not a worldsim error) is retried max_retries times, then recorded
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    config = DatasetConfig(seeds="0:3", guidance_only=True, workers=2, max_retries=1)
    summary = render_dataset(
        config, tmp_path / "flaky", generators={"flaky": _FlakyGenerator(attempts, 1)}, progress=False
    )
    assert (summary.done, summary.failed) == (2, 1)
    (failure,) = summary.failures
    assert failure.id == "flaky-1" and "RuntimeError: generator bug at seed 1" in failure.error
    assert len(list(attempts.glob("attempt-*"))) == 2  # the first attempt and one retry


def _draws_blob(scene: Path, seed: int) -> bool:
    from worldsim.errors import SceneError

    try:
        load_scene(scene, seed=seed)
    except SceneError as error:
        return "blob" in str(error)
    return False
