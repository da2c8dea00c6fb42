"""Write the model card of the shipped diffusion weights from the training run and an experiment.

    .venv/bin/python tools/write_model_card.py --run runs/diffusion \
        --experiment out/experiments/diffusion_mechanisms [--out renderers/diffusion/weights/MODEL_CARD.md]

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
PREDICTION_TEXT = {
    "velocity": "the velocity noise - x0",
    "x0": (
        "the clean clip as a residual over a base image (context colours, else the albedo in"
        " G-buffer mode, else the remembered entity colour), trained with the velocity-equivalent"
        " loss |x0_hat - x0|^2 / max(t, 0.05)^2"
    ),
}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(REPO / "runs" / "diffusion"))
    parser.add_argument("--experiment", required=True, help="folder written by worldsim experiment")
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
    experiment = Path(args.experiment)
    rows = read_rows(experiment / "metrics.csv")
    train = metadata.get("train_config", {}).get("train", {})
    last = losses[-1]
    lines = [
        "# Model card: guided_video_unet.safetensors",
        "",
        "A rectified-flow video diffusion model that renders worldsim guidance (inverse depth, normals,",
        "instance and class features, optionally albedo/roughness/metallic) into 64 px frames, window by",
        "window. Trained from scratch on this project's own simulator data; no downloaded weights or data.",
        "",
        "## Architecture",
        f"- (2+1)D video UNet, {parameter_count(model):,} parameters; channels "
        f"{config.channels} after {config.patch_size}x{config.patch_size} patch folding;",
        "  the 27-channel condition is injected at every level.",
        f"- Objective: rectified flow; the network predicts {PREDICTION_TEXT[config.prediction]};",
        "  condition dropout (G-buffer 50 %, everything 10 %, context and memory 50 % each): one",
        "  model serves G-buffer mode, structure-only mode and classifier-free guidance.",
        "",
        "## Data",
        f"- {data.get('num_clips')} random procedural scenes (`worldsim/datasets/random_scenes.py`),",
        f"  {data.get('frames_per_clip')} frames each at {data.get('size')} px: primitives and the shipped",
        "  meshes, random materials and procedural textures, sun/point/area lights and skies, camera",
        "  moves, motion and physics.",
        f"- Targets: the reference path tracer at {data.get('spp')} spp; the last clips held out.",
        "",
        "## Training",
        f"- {last['step']} steps of batch {train.get('batch_size', '?')} x {train.get('window', '?')} "
        f"frames, {float(last['minutes']):.1f} minutes on 2 CPU cores (this machine),",
        f"  final loss {float(last['loss']):.4f}; EMA {train.get('ema_decay', '?')}.",
        "- Reproduce: `.venv/bin/python tools/train_renderer.py --config configs/diffusion/train.yaml`"
        " (copied here as `train_config.yaml`).",
        "",
        "## Evaluation (held-out scenes, never seen in training)",
        f"From `worldsim experiment` ({experiment.name}): "
        + ", ".join(sorted({row["scene"] for row in rows}))
        + ". PSNR/SSIM are against the path-traced reference run of the same scene; lower is more consistent",
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
