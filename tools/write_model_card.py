"""Write the model card of the shipped diffusion weights from the training run and an experiment.

    .venv/bin/python tools/write_model_card.py --run runs/diffusion \
        --experiment out/experiments/renderer_fidelity [out/experiments/diffusion_mechanisms ...] \
        [--out renderers/diffusion/weights/MODEL_CARD.md]

The generated part is read from files the training tool and ``worldsim experiment`` wrote: the
weights' own metadata, the dataset index, ``loss.csv`` and the experiment's
``metrics.csv``. Everything from the ``HAND_WRITTEN`` marker line of an existing card onwards
(analysis, history, limitations) is kept as it is.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
METRICS = (
    "psnr",
    "ssim",
    "warping_error",
    "gap_warping_error",
    "surface_delta_e",
    "drift_delta_e",
    "flicker",
)

HAND_WRITTEN = "<!-- hand-written below: kept by tools/write_model_card.py -->"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def mean(values: list[float]) -> float:
    finite = [value for value in values if math.isfinite(value)]
    return sum(finite) / len(finite) if finite else float("nan")


def metric_table(rows: list[dict[str, str]]) -> list[str]:
    """One line per setting: metrics averaged over scenes (and seeds) at the experiment's length."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        groups[row["setting"]].append(row)
    lines = [
        "| setting | frames | " + " | ".join(METRICS) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for setting, group in groups.items():
        values = [mean([float(row[m]) for row in group if m in row]) for m in METRICS]
        # PSNR / SSIM of the reference against itself are undefined: shown as a dash
        cells = [f"{value:.4g}" if math.isfinite(value) else "–" for value in values]
        lines.append(f"| {setting} | {group[0]['clip_length']} | " + " | ".join(cells) + " |")
    return lines


def train_holdout(metadata: dict) -> object:
    """How many clips the run held out of training (its data config)."""
    return metadata.get("train_config", {}).get("data", {}).get("holdout_clips", "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(REPO / "runs" / "diffusion"))
    parser.add_argument(
        "--experiment", nargs="+", required=True, help="folders written by worldsim experiment"
    )
    parser.add_argument(
        "--weights", default=str(REPO / "renderers/diffusion/weights/guided_video_unet.safetensors")
    )
    parser.add_argument("--out", default=str(REPO / "renderers/diffusion/weights/MODEL_CARD.md"))
    args = parser.parse_args()

    from renderers.diffusion.model import parameter_count
    from renderers.diffusion.weights import load_weights

    model, config, metadata = load_weights(args.weights)
    run = Path(args.run)
    data = json.loads((run / "data" / "index.json").read_text())
    losses = read_rows(run / "loss.csv")
    train = metadata.get("train_config", {}).get("train", {})
    last = losses[-1]
    lines = [
        "# Model card: guided_video_unet.safetensors (renderer v2)",
        "",
        "A neural deferred renderer with a rectified-flow albedo sampler, lit by the world's own lights.",
        "At 64 px it reads the guidance (inverse depth, normals, instance and class features, the",
        "materials in G-buffer mode) with the lighting guidance (`irradiance`, `shadow`, `specular`, the",
        "`direct` baseline) and a per-frame global lighting code (the environments' SH shading towards",
        "the six camera axes, the dominant light's direction and strength; FiLM), and predicts the",
        "shading residual over `direct` (what the exact buffers miss: interreflection, soft and contact",
        "shadows, glossy reflection). The frame is composed at the output resolution from the exact",
        "full-resolution buffers: `pixel_filter(direct + albedo x upsampled residual)`, then the",
        "camera's tone map (`renderers/diffusion/compose.py`). In structure mode the same network draws",
        "each entity's albedo by rectified flow from surface-anchored noise (with the entity memory and",
        "window machinery of v1), then shades it. Trained from scratch on this project's own simulator",
        "data; no downloaded weights or data.",
        "",
        "## Architecture",
        f"- (2+1)D video UNet, {parameter_count(model):,} parameters; channels "
        f"{config.channels} after {config.patch_size}x{config.patch_size} patch folding;",
        f"  the {config.spatial_channels}-channel per-pixel condition is injected at every level, the"
        f" {config.code_channels}-value lighting code through FiLM beside the timestep;",
        f"  {config.image_channels} albedo channels (x0 prediction over a base image) and"
        f" {config.shading_channels} shading-residual channels out.",
        "- Objective (`renderers/diffusion/objective.py`): G-buffer items (t = 0, materials given): the",
        "  mean squared error of the composed, tone-mapped image against the tone-mapped path tracer",
        "  (what PSNR measures); structure-only items (35 %): rectified flow on the albedo, x0 error",
        "  weighted by 1 / max(t, 0.05)^2 (with context 30 %, memory 50 % and full dropout 10 % for",
        "  classifier-free guidance). Left-right mirroring with the lighting code mirrored.",
        "",
        "## Data",
        f"- {data.get('num_clips')} lit random scenes (`worldsim/datasets/lit_scenes.py`, generator seeds"
        f" 0-{int(data.get('num_clips', 1)) - 1}),",
        f"  {data.get('frames_per_clip')} frames each at {data.get('size')} px: 70 % lit by a captured HDRI"
        " (random rotation, intensity 0.5-2x),",
        "  half of those with a sun, point or area light added; the rest sun and sky; 45 % of materials",
        "  from the preset library (tinted), the rest random procedural textures; exposure -1..+1 EV;",
        "  primitives and the shipped meshes, camera moves, motion and physics.",
        f"- Targets: the reference path tracer at {data.get('spp')} spp (Mitsuba `gaussian` pixel filter);"
        f" the last {train_holdout(metadata)} clips held out of training.",
        "",
        "## Training",
        f"- {last['step']} steps of batch {train.get('batch_size', '?')} x {train.get('window', '?')} "
        f"frames, {float(last['minutes']):.1f} minutes on 2 CPU cores (this machine, shared),",
        f"  final loss {float(last['loss']):.4f} (display MSE {float(last.get('image_mse', 'nan')):.5f});"
        f" EMA {train.get('ema_decay', '?')}.",
        "- Reproduce: `.venv/bin/python tools/train_renderer.py --config configs/diffusion/train.yaml`"
        " (copied here as `train_config.yaml`); continue with `--resume`.",
        "",
    ]
    for folder in args.experiment:
        experiment = Path(folder)
        rows = read_rows(experiment / "metrics.csv")
        lines += [
            f"## Evaluation: `worldsim experiment` {experiment.name}"
            " (held-out scenes, never seen in training)",
            "Scenes: " + ", ".join(sorted({row["scene"] for row in rows})) + ".",
            "PSNR/SSIM are against the path-traced reference run of the same scene; lower is more consistent",
            "for the other columns.",
            "",
            *metric_table(rows),
            "",
        ]
    out = Path(args.out)
    kept = out.read_text() if out.is_file() else ""
    if HAND_WRITTEN in kept:
        lines += kept[kept.index(HAND_WRITTEN) :].splitlines()
    else:
        lines += [HAND_WRITTEN, ""]
    out.write_text("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
