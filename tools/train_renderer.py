"""Train the guided video diffusion renderer on clips the simulator makes.

Run: ``.venv/bin/python tools/train_renderer.py --config configs/diffusion/train.yaml
[--out runs/diffusion] [--resume] [--max-minutes N] [--build-data-only]``.

The run folder holds ``data/`` (the cached dataset), ``checkpoint/`` (model, EMA and optimizer
tensors as safetensors plus ``state.json``), ``loss.csv``, ``loss.png`` and ``samples/`` (grids:
guidance | target | sample, for G-buffer and structure-only conditions). At the end the EMA
weights are exported to ``export_path`` with a copy of the training config beside them.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Busy-waiting OpenMP threads collapse throughput on a shared 2-core machine (measured 2 vs 31
# frames/s); must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renderers.diffusion.conditioning import from_model_space
from renderers.diffusion.entity_noise import training_noise
from renderers.diffusion.flow_matching import sample
from renderers.diffusion.model import ModelConfig, VideoUNet, parameter_count
from renderers.diffusion.objective import render_display, training_loss
from renderers.diffusion.weights import load_weights, save_weights
from renderers.tonemap import linear_to_srgb_uint8
from worldsim.clip.atomic import atomic_path, write_text
from worldsim.datasets.training_clips import ClipDataset, build_dataset


@dataclass
class DataConfig:
    """The cached training set (``worldsim.datasets.training_clips.build_dataset``)."""

    num_clips: int = 160
    size: int = 64
    frames_per_clip: int = 12
    spp: int = 64
    seed: int = 0
    workers: int = 2
    holdout_clips: int = 8
    """The last clips, kept out of training and used for the sample grids."""


@dataclass
class OptimConfig:
    """Optimisation, logging and checkpointing."""

    window: int = 8
    batch_size: int = 4
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    total_steps: int = 2500
    """Length of the cosine schedule; training also stops at ``--max-minutes``."""
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    seed: int = 0
    threads: int = 2
    log_every: int = 20
    sample_every: int = 250
    checkpoint_minutes: float = 5.0
    sample_steps: int = 12


@dataclass
class TrainConfig:
    """A whole training run."""

    model_config: str = "configs/diffusion/model.yaml"
    data: DataConfig = field(default_factory=DataConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    export_path: str = "renderers/diffusion/weights/guided_video_unet.safetensors"


def load_config(path: str) -> tuple[TrainConfig, ModelConfig]:
    """The training config and the model config it names, merged over their defaults."""
    config = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig), OmegaConf.load(path)))
    model = OmegaConf.merge(OmegaConf.structured(ModelConfig), OmegaConf.load(config.model_config))
    return config, OmegaConf.to_object(model)


def learning_rate(step: int, optim: OptimConfig) -> float:
    """Linear warmup, then cosine decay to 5% of the peak at ``total_steps``."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    progress = min(1.0, (step - optim.warmup_steps) / max(1, optim.total_steps - optim.warmup_steps))
    return optim.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def save_optimizer(optimizer: torch.optim.Optimizer, path: Path) -> None:
    """AdamW moments as safetensors (``{param_index}.{key}``), atomically."""
    from safetensors.torch import save_file

    tensors = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"{index}.{key}"] = torch.as_tensor(value).detach().clone().contiguous()
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary))


def load_optimizer(optimizer: torch.optim.Optimizer, path: Path) -> None:
    """Restore what ``save_optimizer`` wrote."""
    from safetensors.torch import load_file

    state_dict = optimizer.state_dict()
    states: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in load_file(str(path)).items():
        index, key = name.split(".", 1)
        states.setdefault(int(index), {})[key] = tensor
    state_dict["state"] = states
    optimizer.load_state_dict(state_dict)


def save_checkpoint(folder: Path, model, ema, optimizer, model_config, step: int, elapsed: float) -> None:
    """Model, EMA and optimizer tensors (safetensors) and the step counter (JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(model, model_config, folder / "model.safetensors", {"step": step})
    save_weights(ema, model_config, folder / "ema.safetensors", {"step": step})
    save_optimizer(optimizer, folder / "optimizer.safetensors")
    write_text(folder / "state.json", json.dumps({"step": step, "elapsed_seconds": elapsed}))


def sample_grid(ema: VideoUNet, batch: dict[str, torch.Tensor], steps: int, path: Path) -> None:
    """Rows per clip, 4 frames each: path tracer | direct | G-buffer mode | true albedo |
    structure-only mode's invented albedo."""
    generator = torch.Generator().manual_seed(1234)
    cond = batch["cond"]
    with torch.no_grad():
        made = render_display(ema, batch)
        invented = sample(
            ema,
            batch["structure_cond"],
            training_noise(cond, ema.config.entity_noise_share, generator),
            steps=steps,
        )
    direct = _display(batch["direct"], batch["filmic"])

    def cell(tensor: torch.Tensor, clip: int, frame: int, space: str) -> np.ndarray:
        image = tensor[clip, :, frame].permute(1, 2, 0).numpy()
        if space == "model":
            return linear_to_srgb_uint8(from_model_space(image))
        return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)

    rows = []
    for clip in range(cond.shape[0]):
        frames = np.linspace(0, cond.shape[2] - 1, 4).round().astype(int)
        cells = [
            np.concatenate(
                [
                    cell(batch["target"], clip, frame, "display"),
                    cell(direct, clip, frame, "display"),
                    cell(made, clip, frame, "display"),
                    cell(batch["x0"], clip, frame, "model"),
                    cell(invented, clip, frame, "model"),
                ],
                axis=1,
            )
            for frame in frames
        ]
        rows.append(np.concatenate(cells, axis=0))
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, np.concatenate(rows, axis=1))


def _display(direct: torch.Tensor, filmic: torch.Tensor) -> torch.Tensor:
    from renderers.diffusion.compose import display_torch
    from renderers.diffusion.objective import compose_torch

    return display_torch(
        compose_torch(direct, torch.zeros_like(direct), torch.zeros_like(direct)), filmic > 0.5
    )


def holdout_batch(dataset: ClipDataset, count: int) -> dict[str, torch.Tensor]:
    """The first ``count`` held-out windows (G-buffer mode) with their structure-only condition."""
    items = [dataset[i] for i in range(count)]
    batch = {key: torch.stack([item[key] for item in items]) for key in items[0]}
    dataset.p_structure_only, dataset.augment = 1.0, True
    dataset.p_context = dataset.p_memory = dataset.p_drop_all = 0.0
    dataset.rng = np.random.default_rng(0)
    batch["structure_cond"] = torch.stack([dataset[i]["cond"] for i in range(count)])
    return batch


def holdout_psnr(ema: VideoUNet, batch: dict[str, torch.Tensor]) -> tuple[float, float]:
    """(PSNR of G-buffer mode, PSNR of direct) in dB over the held-out windows' display values."""
    with torch.no_grad():
        made = render_display(ema, batch)
    direct = _display(batch["direct"], batch["filmic"])

    def psnr(image: torch.Tensor) -> float:
        return float(-10 * torch.log10(((image - batch["target"]) ** 2).mean()))

    return psnr(made), psnr(direct)


def plot_loss(csv_path: Path, png_path: Path) -> None:
    """loss.png: raw and smoothed training loss against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(csv_path.open()))
    if not rows:
        return
    steps = np.array([int(r["step"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    smooth = np.convolve(loss, np.ones(10) / 10, mode="valid") if len(loss) >= 10 else loss
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(steps, loss, alpha=0.3, label="loss")
    axis.plot(steps[len(steps) - len(smooth) :], smooth, label="smoothed (10)")
    axis.set_xlabel("step")
    axis.set_ylabel("loss (100 x display MSE + albedo flow)")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(png_path)
    plt.close(figure)


def export(
    ema: VideoUNet, model_config: ModelConfig, config: TrainConfig, config_path: str, step: int
) -> Path:
    """The final EMA weights at ``config.export_path`` and a copy of the training config."""
    path = Path(config.export_path)
    metadata = {"step": step, "train_config": asdict(config), "parameters": parameter_count(ema)}
    save_weights(ema, model_config, path, metadata)
    shutil.copyfile(config_path, path.parent / "train_config.yaml")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/diffusion/train.yaml")
    parser.add_argument("--out", default="runs/diffusion")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint")
    parser.add_argument("--max-minutes", type=float, default=60.0, help="stop training after this long")
    parser.add_argument("--build-data-only", action="store_true")
    args = parser.parse_args(argv)
    config, model_config = load_config(args.config)
    optim = config.train
    out = Path(args.out)
    torch.set_num_threads(optim.threads)
    torch.manual_seed(optim.seed)

    data = config.data
    start = time.perf_counter()
    build_dataset(
        out / "data", data.num_clips, size=data.size, frames_per_clip=data.frames_per_clip,
        spp=data.spp, seed=data.seed, workers=data.workers,
    )  # fmt: skip
    print(f"dataset ready in {time.perf_counter() - start:.0f} s: {data.num_clips} clips", flush=True)
    if args.build_data_only:
        return 0

    names = json.loads((out / "data" / "index.json").read_text())["clips"]
    train_names, holdout_names = names[: -data.holdout_clips], names[-data.holdout_clips :]
    train_set = ClipDataset(
        out / "data", window=optim.window, names=train_names, repeats=100, seed=optim.seed
    )
    holdout = ClipDataset(out / "data", window=optim.window, names=holdout_names, augment=False)
    grid_batch = holdout_batch(holdout, len(holdout_names))
    loader = torch.utils.data.DataLoader(train_set, batch_size=optim.batch_size, shuffle=True, drop_last=True)

    model = VideoUNet(model_config)
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=optim.lr, weight_decay=optim.weight_decay)
    checkpoint = out / "checkpoint"
    step, elapsed_before = 0, 0.0
    if args.resume and (checkpoint / "state.json").exists():
        state = json.loads((checkpoint / "state.json").read_text())
        model.load_state_dict(load_weights(checkpoint / "model.safetensors")[0].state_dict())
        ema.load_state_dict(load_weights(checkpoint / "ema.safetensors")[0].state_dict())
        load_optimizer(optimizer, checkpoint / "optimizer.safetensors")
        step, elapsed_before = int(state["step"]), float(state["elapsed_seconds"])
        print(f"resumed at step {step}", flush=True)
    print(f"model: {parameter_count(model)} parameters; {len(train_names)} training clips", flush=True)

    csv_path = out / "loss.csv"
    new_csv = not csv_path.exists() or not args.resume
    log = csv_path.open("w" if new_csv else "a", newline="")
    writer = csv.writer(log)
    if new_csv:
        writer.writerow(["step", "loss", "lr", "minutes", "frames_per_second", "image_mse", "albedo_loss"])
    generator = torch.Generator().manual_seed(optim.seed + step)
    started = last_checkpoint = window_start = time.perf_counter()
    window_losses: list[float] = []
    window_parts: list[dict[str, float]] = []
    window_frames = 0
    stop = False
    while not stop:
        for batch in loader:
            x0 = batch["x0"]
            lr = learning_rate(step, optim)
            for group in optimizer.param_groups:
                group["lr"] = lr
            noise = training_noise(batch["cond"], model_config.entity_noise_share, generator)
            loss, parts = training_loss(model, batch, noise, generator)
            window_parts.append(parts)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), optim.grad_clip)
            optimizer.step()
            with torch.no_grad():
                decay = min(optim.ema_decay, (1 + step) / (10 + step))
                for averaged, live in zip(ema.parameters(), model.parameters(), strict=True):
                    averaged.lerp_(live, 1 - decay)
            step += 1
            window_losses.append(loss.item())
            window_frames += x0.shape[0] * x0.shape[2]
            now = time.perf_counter()
            if step % optim.log_every == 0:
                throughput = window_frames / (now - window_start)
                minutes = (elapsed_before + now - started) / 60
                mean_loss = float(np.mean(window_losses))
                image = float(np.mean([p["image"] for p in window_parts if p["image"]] or [0.0]))
                albedo = float(np.mean([p["albedo"] for p in window_parts if p["albedo"]] or [0.0]))
                writer.writerow(
                    [step, f"{mean_loss:.5f}", f"{lr:.6f}", f"{minutes:.2f}", f"{throughput:.1f}",
                     f"{image:.6f}", f"{albedo:.5f}"]
                )  # fmt: skip
                log.flush()
                print(
                    f"step {step} loss {mean_loss:.4f} image {image:.5f} albedo {albedo:.4f} lr {lr:.2e}"
                    f" {throughput:.1f} frames/s {minutes:.1f} min",
                    flush=True,
                )
                window_losses, window_parts, window_frames, window_start = [], [], 0, time.perf_counter()
            if step % optim.sample_every == 0:
                sample_grid(ema, grid_batch, optim.sample_steps, out / "samples" / f"step_{step:06d}.png")
                made_db, direct_db = holdout_psnr(ema, grid_batch)
                print(f"held out: G-buffer {made_db:.2f} dB, direct {direct_db:.2f} dB", flush=True)
                plot_loss(csv_path, out / "loss.png")
                window_start = time.perf_counter()
            if now - last_checkpoint > optim.checkpoint_minutes * 60:
                save_checkpoint(
                    checkpoint, model, ema, optimizer, model_config, step, elapsed_before + now - started
                )
                last_checkpoint = time.perf_counter()
            if now - started > args.max_minutes * 60 or step >= optim.total_steps:
                stop = True
                break
    log.close()
    save_checkpoint(
        checkpoint, model, ema, optimizer, model_config, step, elapsed_before + time.perf_counter() - started
    )
    sample_grid(ema, grid_batch, optim.sample_steps, out / "samples" / f"step_{step:06d}.png")
    plot_loss(csv_path, out / "loss.png")
    path = export(ema, model_config, config, args.config, step)
    print(f"done at step {step}; EMA weights exported to {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
