"""What ``worldsim render`` says is true (issue 18, item 8): the default renderer in its help, which
renderer takes an option another refuses, the frames asked for, the frames written."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldsim.cli.main import main

SCENE = (
    "name: small\nfps: 8\nnum_frames: 8\nresolution: [16, 12]\n"
    "entities: [{name: box, mesh: {type: box, size: [1, 1, 1]}}]\n"
    "cameras: [{name: main, position: [3, -3, 2], look_at: [0, 0, 0]}]\n"
    "lights: [{type: sun}]\n"
)


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SCENE, encoding="utf-8")
    return path


def render_help(capsys) -> str:
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    assert done.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_help_names_the_default_renderer_from_where_it_is_defined(capsys, monkeypatch) -> None:
    import dataclasses

    import worldsim.clip.config as config

    assert "else 'diffusion')" in render_help(capsys)  # RenderConfig.renderer today
    flat = dataclasses.replace(config.load_render_config(), renderer="flat")
    monkeypatch.setattr(config, "load_render_config", lambda *args, **kwargs: flat)
    assert "else 'flat')" in render_help(capsys)


@pytest.mark.parametrize(
    ("flags", "option", "source"),
    [
        (["--preview"], "preview", "--preview"),
        (["--spp", "64", "--option", "max_depth=8"], "max_depth", "--option max_depth=..."),
    ],
)
def test_option_of_another_renderer_says_which_takes_it(
    scene: Path, tmp_path: Path, capsys, flags: list[str], option: str, source: str
) -> None:
    out = tmp_path / "clip"
    assert main(["render", str(scene), "--out", str(out), "--renderer", "diffusion", *flags]) == 1
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"error: renderer 'diffusion': unknown option '{option}'; its options are ")
    assert f"(given by {source}); '{option}' is an option of --renderer reference" in message
    assert "<overrides>" not in message and "not in 'DiffusionOptions'" not in message
    assert not out.exists()


def test_bad_option_value_names_the_option(scene: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "clip"
    assert (
        main(["render", str(scene), "--out", str(out), "--renderer", "diffusion", "--option", "steps=abc"])
        == 1
    )
    message = capsys.readouterr().err.strip()
    assert message.startswith("error: renderer 'diffusion': option 'steps': ")
    assert "<overrides>" not in message


def test_frames_outside_the_clip_say_the_range_and_the_length(scene: Path, tmp_path: Path, capsys) -> None:
    assert (
        main(["render", str(scene), "--out", str(tmp_path / "clip"), "--guidance-only", "--frames", "0:50"])
        == 1
    )
    assert capsys.readouterr().err.strip() == (
        "error: frames: '0:50' asks for frames 0 to 49, outside the clip's 8 frames (0..7)"
    )


def test_summary_counts_the_frames_rendered(scene: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "clip"
    assert main(["render", str(scene), "--out", str(out), "--guidance-only", "--frames", "0:6"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (6 of the clip's 8 frames: --frames 0:6)"
    assert len(list((out / "depth").glob("*.png"))) == 6
    assert main(["render", str(scene), "--out", str(out), "--guidance-only"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (8 frames)"
