"""Dataset configs, seed ranges, the manifest and the plan of clips: everything checked before
Ray starts (no Ray here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldsim.datasets.config import (
    DatasetConfig,
    check_same_clip_settings,
    config_to_yaml,
    is_dataset_config,
    load_dataset_config,
)
from worldsim.datasets.dataset import check_first_scenes, plan_jobs, plan_sources
from worldsim.datasets.manifest import Manifest, ManifestEntry
from worldsim.datasets.seeds import parse_seeds
from worldsim.errors import DatasetError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "scenes" / "datasets" / "objects.yaml"


def test_the_example_config_plans_its_clips(tmp_path):
    assert is_dataset_config(EXAMPLE) and not is_dataset_config(REPO / "scenes" / "random_objects.yaml")
    config = load_dataset_config(EXAMPLE)
    assert config.scenes == [str(REPO / "scenes" / "random_objects.yaml")]
    assert config.resources.memory_mb == 2000
    sources = plan_sources(config)
    assert [source.stem for source in sources] == ["random_objects", "procedural"]
    seeds = parse_seeds(config.seeds)
    jobs = plan_jobs(config, sources, seeds, tmp_path)
    assert len(jobs) == 2 * 50
    assert jobs[0].clip_id == "random_objects-0" and jobs[-1].clip_id == "procedural-49"
    assert jobs[-1].out == tmp_path / "clips" / "procedural-49"
    check_first_scenes(jobs, sources, seeds)
    # the resolved config written to dataset.yaml loads back to the same config
    written = tmp_path / "dataset.yaml"
    written.write_text(config_to_yaml(config))
    assert load_dataset_config(written) == config


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("scenes: []\nworkerz: 2\n", "workerz", "Key 'workerz' not in 'DatasetConfig'"),
        ("scenes: []\nworkers: many\n", "workers", "Value 'many' of type 'str' could not be converted"),
        ("scenes: [missing.yaml]\n", "scenes[0]", "scene file not found"),
        ("scenes: []\n", "scenes", "name at least one scene file or generator"),
        ("generators: [{name: random_scenes}]\nmax_retries: -1\n", "max_retries", "must be >= 0"),
    ],
)
def test_bad_configs_name_file_key_and_reason(tmp_path, text, key, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DatasetError) as caught:
        load_dataset_config(path)
    file, key_path, message = caught.value.issues[0]
    assert (file, key_path) == (str(path), key)
    assert reason in message


def test_seed_ranges():
    assert parse_seeds("3:6") == [3, 4, 5]
    assert parse_seeds("7") == [7] and parse_seeds(7) == [7] and parse_seeds([4, 1]) == [4, 1]
    for bad, reason in [("5:2", "empty range"), ("a:b", "is not A:B"), ("-2:1", ">= 0"), ([1, 1], "twice")]:
        with pytest.raises(DatasetError, match=reason):
            parse_seeds(bad, file="cfg.yaml")


def test_the_manifest_keeps_one_line_per_clip(tmp_path):
    path = tmp_path / "manifest.jsonl"
    manifest = Manifest(path)
    manifest.append(ManifestEntry("a-0", "a", 0, 0, 1.0, "failed", "SceneError: bad"))
    manifest.append(ManifestEntry("a-1", "a", 1, 4, 2.0, "done"))
    manifest.append(ManifestEntry("a-0", "a", 0, 4, 3.0, "done"))  # the failed clip, re-run
    with path.open("a") as handle:
        handle.write('{"id": "a-2", "sce')  # torn by a crash while appending
    again = Manifest(path)
    assert again.is_done("a-0") and again.is_done("a-1") and "a-2" not in again.entries
    again.compact()
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and Manifest(path).entries == again.entries


def test_a_dataset_folder_refuses_other_clip_settings(tmp_path, monkeypatch):
    import worldsim.datasets.exports as exports

    # as the export registry says: boxes read visibility.json, rerun reads nothing more
    monkeypatch.setattr(exports, "maps_for_exports", lambda names: ["visibility"] if "boxes" in names else [])
    config = DatasetConfig(scenes=[str(EXAMPLE)], guidance_only=True)
    (tmp_path / "dataset.yaml").write_text(config_to_yaml(config))
    grown = DatasetConfig(scenes=[str(EXAMPLE)], guidance_only=True, seeds="0:500", exports=["rerun"])
    check_same_clip_settings(grown, tmp_path / "dataset.yaml")  # more seeds, exports on the same maps
    with pytest.raises(DatasetError, match=r"other settings \(guidance_only: True then, False now"):
        check_same_clip_settings(DatasetConfig(scenes=[str(EXAMPLE)]), tmp_path / "dataset.yaml")
    with pytest.raises(DatasetError, match=r"other settings \(exports: \[\] then, \['boxes'\] now"):
        boxes = DatasetConfig(scenes=[str(EXAMPLE)], guidance_only=True, exports=["boxes"])
        check_same_clip_settings(boxes, tmp_path / "dataset.yaml")
