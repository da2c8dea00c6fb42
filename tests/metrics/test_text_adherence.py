"""Text-adherence metrics on images whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from worldsim.experiments.config import ExperimentConfigError, load_experiment_config
from worldsim.metrics.text_adherence import (
    colour_temperature,
    entity_reflectance_lab,
    highlight_area,
    mean_brightness,
)
from worldsim.text.colours import colour_word


def test_reflectance_divides_out_the_light() -> None:
    instance = np.zeros((8, 8), dtype=np.int32)
    instance[2:6, 2:6] = 3
    albedo = np.array([0.7, 0.6, 0.05])  # yellow
    dim = np.full((8, 8, 3), 0.2 * np.pi)  # irradiance: shading 0.2
    image = np.broadcast_to(albedo * 0.2, (8, 8, 3))
    lab = entity_reflectance_lab(image, dim, instance, 3)
    assert colour_word(lab) == "yellow"
    assert colour_word(entity_reflectance_lab(image, dim, instance, 3, exposure_ev=1.0)) != "white"
    assert entity_reflectance_lab(image, dim, instance, 9) is None


def test_highlight_area_counts_pixels_far_above_the_median() -> None:
    instance = np.ones((10, 10), dtype=np.int32)
    flat = np.full((10, 10, 3), 0.3)
    assert highlight_area(flat, instance, 1) == 0.0
    glossy = flat.copy()
    glossy[:2, :5] = 0.9
    assert highlight_area(glossy, instance, 1) == pytest.approx(0.1)


def test_colour_temperature_of_known_whites() -> None:
    assert colour_temperature(np.ones(3)) == pytest.approx(6504, abs=30)  # D65, sRGB white
    assert (
        colour_temperature(np.array([1.0, 0.6, 0.3]))
        < 4000
        < 9000
        < colour_temperature(np.array([0.6, 0.7, 1.0]))
    )
    assert mean_brightness(np.ones((4, 4, 3))) == pytest.approx(1.0)


def test_prompt_probe_config_is_checked(tmp_path) -> None:
    shipped, _ = load_experiment_config("configs/experiments/prompt_adherence.yaml")
    assert shipped.prompt_probes is not None and len(shipped.prompt_probes.scenes) >= 4
    bad = tmp_path / "bad.yaml"
    scene = tmp_path / "s.yaml"
    scene.write_text("name: s\n")
    bad.write_text(
        "scenes: [s.yaml]\nrenderers: [{renderer: flat}]\n"
        "prompt_probes: {lighting_kinds: [dusk], scenes: [missing.yaml], finish_lighting: noon,"
        " reference_renderer: raytracer}\n"
    )
    with pytest.raises(ExperimentConfigError) as error:
        load_experiment_config(bad)
    message = str(error.value)
    assert "prompt_probes.lighting_kinds" in message and "missing.yaml" in message
    assert "prompt_probes.finish_lighting" in message and "'noon'" in message
    assert "prompt_probes.reference_renderer" in message and "'raytracer'" in message
