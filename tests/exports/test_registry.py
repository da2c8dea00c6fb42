"""One export registry for ``worldsim export --format`` and ``worldsim dataset --export``: names,
options, defaults, and one clear error for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from worldsim.errors import ExportError


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worldsim.cli.main", "export", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_table_lists_every_format_once() -> None:
    from worldsim.exports.registry import CLIP_FORMATS, DATASET_FORMATS, EXPORT_FORMATS, EXPORT_TABLE

    assert EXPORT_FORMATS == ("coco", "boxes", "pointcloud", "exr", "rerun", "webdataset")
    assert set(CLIP_FORMATS) | set(DATASET_FORMATS) == set(EXPORT_FORMATS) and DATASET_FORMATS == (
        "webdataset",
    )
    for row in EXPORT_TABLE.values():
        assert callable(row.load_writer()), row.name  # every writer imports (extras installed here)


def test_required_maps_name_what_a_dataset_must_render() -> None:
    from worldsim.exports.registry import required_maps

    assert required_maps(["coco", "boxes", "exr", "webdataset"]) == ("instance", "visibility", "depth_exact")
    assert required_maps([]) == ()


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        (["coco", "cocoa"], "format: unknown export format 'cocoa'"),
        (["pointclod"], "did you mean 'pointcloud'?"),
    ],
)
def test_unknown_formats_are_refused_before_anything_is_written(
    clip_copy: Path, formats: list[str], message: str
) -> None:
    from worldsim.exports.registry import export_clip

    with pytest.raises(ExportError, match=message):
        export_clip(clip_copy, formats)
    assert not (clip_copy / "exports").exists()


def test_a_missing_or_wrong_folder_is_named(tmp_path: Path) -> None:
    from worldsim.exports.registry import export_clip

    with pytest.raises(ExportError) as error:
        export_clip(tmp_path / "gone", ["boxes"])
    assert str(error.value) == f"{tmp_path / 'gone'}: no such clip folder"
    with pytest.raises(ExportError, match=r"not a clip folder \(no metadata.json\)"):
        export_clip(tmp_path, ["boxes"])


def test_options_unknown_to_the_selected_formats_are_refused(clip_copy: Path) -> None:
    from worldsim.exports.registry import export_clip

    with pytest.raises(ExportError, match="no selected format takes option 'frame'; options: none"):
        export_clip(clip_copy, ["coco"], options={"frame": "camera"})
    with pytest.raises(ExportError, match=r"option\.webdataset\.samples_per_shard: expected int"):
        from worldsim.exports.registry import export_dataset

        export_dataset(clip_copy, ["webdataset"], options={"samples_per_shard": "many"})


def test_export_clip_writes_default_paths_and_leaves_dataset_formats(clip_copy: Path) -> None:
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["boxes", "webdataset", "boxes"])
    assert sorted(path.name for path in (clip_copy / "exports").iterdir()) == ["boxes.json"]


def test_cli_exports_several_formats_and_reports_bad_input(clip_copy: Path, tmp_path: Path) -> None:
    result = _cli(str(clip_copy), "--format", "coco,boxes,pointcloud", "--option", "frame=camera", "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads((clip_copy / "exports" / "boxes.json").read_text())["format"] == "worldsim.boxes/1"
    assert len(list((clip_copy / "exports" / "pointcloud_camera").glob("*.ply"))) == 4
    single = _cli(str(clip_copy), "--format", "boxes", "--out", str(tmp_path / "b.json"))
    assert single.returncode == 0 and f"wrote {tmp_path / 'b.json'}" in single.stdout
    assert (tmp_path / "b.json").read_bytes() == (clip_copy / "exports" / "boxes.json").read_bytes()
    unknown = _cli(str(clip_copy), "--format", "coco,parquet")
    assert unknown.returncode == 1 and "unknown export format 'parquet'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    wrong_scope = _cli(str(clip_copy), "--format", "webdataset")
    assert wrong_scope.returncode == 1 and "exports a dataset folder" in wrong_scope.stderr
    missing = _cli(str(tmp_path / "nothing"), "--format", "coco")
    assert missing.returncode == 1 and f"{tmp_path / 'nothing'}: no such clip folder" in missing.stderr


def test_cli_exports_a_dataset_folder(dataset_dir: Path, tmp_path: Path) -> None:
    import shutil

    root = Path(shutil.copytree(dataset_dir, tmp_path / "dataset"))
    result = _cli(str(root), "--format", "boxes,webdataset")
    assert result.returncode == 0, result.stderr
    for clip in ("exports-1", "exports-2", "exports-3"):
        assert (root / "clips" / clip / "exports" / "boxes.json").is_file()
    assert json.loads((root / "webdataset" / "shards.json").read_text())["samples"] == 12


def test_overwriting_a_clip_removes_its_exports(clip_copy: Path) -> None:
    """``render --overwrite`` clears the layout: exports of the old clip would be stale."""
    from worldsim.clip.layout import ClipLayout
    from worldsim.exports.registry import export_clip

    export_clip(clip_copy, ["boxes"])
    (clip_copy / "notes.txt").write_text("mine")
    ClipLayout(clip_copy).clear()
    assert not (clip_copy / "exports").exists() and (clip_copy / "notes.txt").is_file()


def test_exports_are_byte_reproducible(clip_copy: Path) -> None:
    """A dataset's resumed clips must equal uninterrupted ones, exports included: no times, no hosts."""
    import shutil

    from worldsim.exports.registry import export_clip

    formats = ["coco", "boxes", "pointcloud", "exr"]
    export_clip(clip_copy, formats)
    exports = clip_copy / "exports"
    first = {
        path.relative_to(exports): path.read_bytes() for path in sorted(exports.rglob("*")) if path.is_file()
    }
    shutil.rmtree(exports)
    export_clip(clip_copy, formats)
    again = {
        path.relative_to(exports): path.read_bytes() for path in sorted(exports.rglob("*")) if path.is_file()
    }
    assert len(first) == 2 + 4 + 4 and again == first


def test_a_corrupt_visibility_file_is_named(clip_copy: Path) -> None:
    from worldsim.clip.metadata import ClipFolderError
    from worldsim.exports.registry import export_clip

    path = clip_copy / "visibility.json"
    path.write_text(path.read_text()[:100])
    with pytest.raises(ClipFolderError, match=f"{path}: unreadable"):
        export_clip(clip_copy, ["boxes"])
