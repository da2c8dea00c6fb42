"""Train the diffusion renderer's text encoder on the simulator's own captions.

Run: ``.venv/bin/python tools/train_text_encoder.py [--scenes 2000] [--balanced 60000] [--steps 2000]
[--out renderers/diffusion/weights/text_encoder.safetensors]`` (a few minutes on 2 CPU cores).

Data: ``worldsim.datasets.caption_pairs`` of the renderer's training scenes (``lit_scene`` seeds
``0..scenes-1``) and ``--balanced`` looks with colour words drawn uniformly, training phrasings.
Evaluation, written into the weights' metadata and printed: held-out scenes (seeds from 900000)
and 3000 held-out balanced looks, phrased with the held-out templates: the share of colour-worded
captions whose predicted mean falls in the word's CIELAB region, the share of finish-worded
captions whose predicted roughness is on the word's side of 0.5, and the lighting-kind accuracy.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from torch.nn import functional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renderers.diffusion.text_encoder import (
    DEFAULT_TEXT_WEIGHTS,
    LAB_SCALE,
    SCENE_CLASSES,
    TextEncoder,
    TextEncoderConfig,
    TextModel,
    Vocabulary,
    save_text_encoder,
)
from worldsim.datasets.caption_pairs import CaptionPairs, caption_pairs
from worldsim.text.colours import COLOUR_WORDS, colour_word
from worldsim.text.words import FINISH_WORDS, tokenize

HELDOUT_SEEDS = range(900000, 900300)


def losses(
    encoder: TextEncoder, vocabulary: Vocabulary, pairs: CaptionPairs, entity: np.ndarray, scene: np.ndarray
) -> torch.Tensor:
    """Gaussian NLL (Lab) + roughness/metalness MSE on the ``entity`` rows, cross entropy (kind)
    + tone MSE on the ``scene`` rows."""
    max_tokens = encoder.config.max_tokens
    out, _, _ = encoder(vocabulary.encode([pairs.entity_text[i] for i in entity], max_tokens))
    lab = torch.from_numpy(pairs.lab[entity]) / LAB_SCALE
    log_std = out[:, 3:6].clamp(-6.0, 1.0)
    nll = (0.5 * ((lab - out[:, :3]) / log_std.exp()) ** 2 + log_std).mean()
    roughness = functional.mse_loss(torch.sigmoid(out[:, 6]), torch.from_numpy(pairs.roughness[entity]))
    metallic = functional.mse_loss(torch.sigmoid(out[:, 7]), torch.from_numpy(pairs.metallic[entity]))
    _, logits, tone = encoder(vocabulary.encode([pairs.scene_text[i] for i in scene], max_tokens))
    labels = torch.tensor([SCENE_CLASSES.index(pairs.lighting[i] or "none") for i in scene])
    kind = functional.cross_entropy(logits, labels)
    exposure = functional.mse_loss(tone, torch.from_numpy(pairs.exposure_ev[scene]))
    return nll + 4.0 * (roughness + metallic) + kind + exposure


def evaluate(model: TextModel, pairs: CaptionPairs) -> dict[str, float]:
    """Held-out adherence of the predictions (see the module docstring)."""
    looks = model.describe(pairs.entity_text)
    colour_hits = colour_total = finish_hits = finish_total = 0
    finishes = {word: finish for finish, words in FINISH_WORDS.items() for word in words}
    for text, look in zip(pairs.entity_text, looks, strict=True):
        words = tokenize(text)
        said = [word for word in words if word in COLOUR_WORDS]
        if said:
            colour_total += 1
            colour_hits += colour_word(look.lab_mean) == said[0]
        finish = [finishes[word] for word in words if word in finishes]
        if finish:
            finish_total += 1
            finish_hits += (look.roughness < 0.5) == (finish[0] == "glossy")
    kinds = [model.lighting(text)[0] for text in pairs.scene_text]
    lighting = np.mean([kind == said for kind, said in zip(kinds, pairs.lighting, strict=True)])
    return {
        "heldout_colour_region": colour_hits / max(colour_total, 1),
        "heldout_finish_direction": finish_hits / max(finish_total, 1),
        "heldout_lighting_accuracy": float(lighting),
        "heldout_entity_captions": colour_total,
        "heldout_scene_captions": len(pairs.scene_text),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=2000, help="training scenes (lit_scene seeds 0..N-1)")
    parser.add_argument("--balanced", type=int, default=60000, help="looks with colour words drawn uniformly")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DEFAULT_TEXT_WEIGHTS))
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    started = time.time()
    pairs = caption_pairs(range(args.scenes), balanced=args.balanced)
    heldout = caption_pairs(HELDOUT_SEEDS, phrasings="heldout", per_entity=1, per_scene=1, balanced=3000)
    words = {word for text in pairs.entity_text + pairs.scene_text for word in tokenize(text)}
    vocabulary = Vocabulary(sorted(words))
    config = TextEncoderConfig(vocabulary_size=len(vocabulary))
    encoder = TextEncoder(config)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    print(
        f"{len(pairs.entity_text)} entity and {len(pairs.scene_text)} scene captions, "
        f"{len(vocabulary)} words ({time.time() - started:.0f} s)",
        flush=True,
    )
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        entity = rng.integers(len(pairs.entity_text), size=args.batch)
        scene = rng.integers(len(pairs.scene_text), size=args.batch // 2)
        loss = losses(encoder, vocabulary, pairs, entity, scene)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
        optimizer.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)
    encoder.eval()
    scores = evaluate(TextModel(encoder, vocabulary, {}), heldout)
    metadata = {
        "training_scenes": args.scenes,
        "balanced_looks": args.balanced,
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "entity_captions": len(pairs.entity_text),
        "scene_captions": len(pairs.scene_text),
        "seconds": round(time.time() - started, 1),
        **scores,
    }
    save_text_encoder(encoder, vocabulary, args.out, metadata)
    print({key: round(value, 4) if isinstance(value, float) else value for key, value in metadata.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
