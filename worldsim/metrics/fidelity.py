"""Fidelity to the reference renderer: PSNR and SSIM, overall and per entity (scikit-image)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from worldsim.metrics._common import to_float_image


@dataclass
class FidelityResult:
    """psnr in dB (inf for identical images); ssim in [-1, 1]; per-entity values use the entity mask."""

    psnr: float
    ssim: float
    per_entity_psnr: dict[int, float] = field(default_factory=dict)
    per_entity_ssim: dict[int, float] = field(default_factory=dict)


def _psnr(mse: float) -> float:
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(1.0 / mse))


def fidelity(rgb: np.ndarray, reference: np.ndarray, instance: np.ndarray | None = None) -> FidelityResult:
    """PSNR and SSIM of (H, W, 3) ``rgb`` against ``reference`` (data range [0, 1] after scaling).

    The overall PSNR is scikit-image's; per-entity PSNR is the same formula on the masked MSE and
    per-entity SSIM the mean of scikit-image's SSIM map over the entity's pixels.
    """
    image, target = to_float_image(rgb), to_float_image(reference)
    if image.shape != target.shape:
        raise ValueError(f"image shape {image.shape} differs from reference shape {target.shape}")
    squared = ((image - target) ** 2).mean(axis=-1)
    psnr = _psnr(0.0) if not squared.any() else float(peak_signal_noise_ratio(target, image, data_range=1.0))
    window = min(7, *(s if s % 2 else s - 1 for s in image.shape[:2]))
    ssim, ssim_map = structural_similarity(
        target, image, data_range=1.0, channel_axis=-1, full=True, win_size=window
    )
    ssim_map = ssim_map.mean(axis=-1)
    per_psnr: dict[int, float] = {}
    per_ssim: dict[int, float] = {}
    if instance is not None:
        for entity in np.unique(instance):
            if entity == 0:
                continue
            mask = instance == entity
            per_psnr[int(entity)] = _psnr(float(squared[mask].mean()))
            per_ssim[int(entity)] = float(ssim_map[mask].mean())
    return FidelityResult(psnr, float(ssim), per_psnr, per_ssim)
