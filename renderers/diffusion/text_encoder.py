"""The text encoder trained here: words -> an entity's look, the scene's lighting kind and tone.

A word-level transformer (``TextEncoder``: a learned [CLS] token, 2 layers, 64 wide) trained from
scratch on the simulator's own captions (``worldsim.text.captions``, ``tools/train_text_encoder.py``)
with two heads read off the [CLS] output:

- ``entity``: the look a description stands for: a Gaussian over CIELAB (mean and log standard
  deviation per axis, the Gaussian negative log likelihood of the sampled colour), the roughness
  and the metalness (squared error);
- ``scene``: the lighting kind a prompt names (``worldsim.text.words.LIGHTING_KINDS``, or
  ``none``: cross entropy) and the exposure shift its tone words stand for (squared error).

Captions are dropped to the empty string 10 % of the time, so ``""`` gives the prior, the
unconditional output classifier-free guidance extrapolates from (``TextModel.describe``). The
vocabulary (every word of the training captions) travels in the weights' metadata: words outside
it are reported (``unknown_words``), never silently mapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from worldsim.clip.atomic import atomic_path
from worldsim.errors import RenderError
from worldsim.text.words import LIGHTING_KINDS, WORD_FORMS, tokenize

FORMAT = "worldsim.text_encoder.v1"
DEFAULT_TEXT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "text_encoder.safetensors"
PAD, CLS, UNKNOWN = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<cls>", "<unk>")
SCENE_CLASSES = ("none", *LIGHTING_KINDS)
"""The scene head's classes: ``none`` (the prompt names no lighting) and the lighting kinds."""
ENTITY_OUTPUTS = 8
"""Lab mean (3, divided by 100), Lab log standard deviation (3), roughness and metalness logits."""
LAB_SCALE = 100.0


@dataclass
class TextEncoderConfig:
    """Architecture of ``TextEncoder``; saved with the weights."""

    vocabulary_size: int = 256
    width: int = 64
    layers: int = 2
    heads: int = 4
    max_tokens: int = 48


@dataclass(frozen=True)
class TextAppearance:
    """The look a description stands for: CIELAB mean and standard deviation, roughness, metalness."""

    lab_mean: np.ndarray
    lab_std: np.ndarray
    roughness: float
    metallic: float


class TextEncoder(nn.Module):
    """(B, N) token ids -> (entity (B, 8), scene logits (B, len(SCENE_CLASSES)), tone (B,))."""

    def __init__(self, config: TextEncoderConfig) -> None:
        super().__init__()
        self.config = config
        width = config.width
        self.embedding = nn.Embedding(config.vocabulary_size, width, padding_idx=PAD)
        self.position = nn.Embedding(config.max_tokens + 1, width)
        layer = nn.TransformerEncoderLayer(
            width, config.heads, dim_feedforward=2 * width, dropout=0.1, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.entity_head = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, ENTITY_OUTPUTS))
        self.scene_head = nn.Sequential(
            nn.Linear(width, width), nn.SiLU(), nn.Linear(width, len(SCENE_CLASSES) + 1)
        )

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch = tokens.shape[0]
        tokens = torch.cat([torch.full((batch, 1), CLS, dtype=tokens.dtype), tokens], dim=1)
        positions = torch.arange(tokens.shape[1])[None].expand(batch, -1)
        h = self.embedding(tokens) + self.position(positions)
        h = self.encoder(h, src_key_padding_mask=tokens == PAD)
        pooled = self.norm(h[:, 0])
        scene = self.scene_head(pooled)
        return self.entity_head(pooled), scene[:, :-1], scene[:, -1]


class Vocabulary:
    """Word <-> token id; ids 0-2 are ``<pad>``, ``<cls>``, ``<unk>``."""

    def __init__(self, words: list[str]) -> None:
        self.words = list(SPECIAL_TOKENS) + sorted(set(words) - set(SPECIAL_TOKENS))
        self.index = {word: index for index, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def lookup(self, word: str) -> int:
        """The id of ``word``, of its singular (``crates``, ``boxes``) or of its base form
        (``WORD_FORMS``: ``wooden`` -> ``wood``); ``<unk>`` when none is known."""
        for form in (
            word,
            WORD_FORMS.get(word, ""),
            word[:-1] if word.endswith("s") else "",
            word[:-2] if word.endswith("es") else "",
        ):
            if form and form in self.index:
                return self.index[form]
        return UNKNOWN

    def unknown(self, text: str) -> list[str]:
        """The words of ``text`` outside the vocabulary, in order, once each."""
        return list(dict.fromkeys(word for word in tokenize(text) if self.lookup(word) == UNKNOWN))

    def encode(self, texts: list[str], max_tokens: int) -> torch.Tensor:
        """(B, N) padded token ids (unknown words -> ``<unk>``, long texts cut at ``max_tokens``)."""
        rows = [[self.lookup(word) for word in tokenize(text)][:max_tokens] for text in texts]
        width = max([1, *(len(row) for row in rows)])
        return torch.tensor([row + [PAD] * (width - len(row)) for row in rows], dtype=torch.long)


class TextModel:
    """A trained ``TextEncoder`` with its vocabulary, answering in the simulator's terms."""

    def __init__(self, encoder: TextEncoder, vocabulary: Vocabulary, metadata: dict[str, Any]) -> None:
        self.encoder = encoder.eval()
        self.vocabulary = vocabulary
        self.metadata = metadata

    def _outputs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with torch.no_grad():
            entity, scene, tone = self.encoder(self.vocabulary.encode(texts, self.encoder.config.max_tokens))
        return entity.numpy(), torch.softmax(scene, dim=-1).numpy(), tone.numpy()

    def describe(self, texts: list[str], guidance_scale: float = 1.0) -> list[TextAppearance]:
        """The look each description stands for; ``guidance_scale`` > 1 extrapolates away from
        the prior (the empty description): classifier-free guidance on text."""
        entity, _, _ = self._outputs([*texts, ""])
        prior, rows = entity[-1], entity[:-1]
        guided = prior + guidance_scale * (rows - prior)
        return [
            TextAppearance(
                lab_mean=(guided[i, :3] * LAB_SCALE).astype(np.float64),
                lab_std=np.exp(rows[i, 3:6]).astype(np.float64) * LAB_SCALE,
                roughness=float(1.0 / (1.0 + np.exp(-guided[i, 6]))),
                metallic=float(1.0 / (1.0 + np.exp(-guided[i, 7]))),
            )
            for i in range(len(texts))
        ]

    def lighting(self, text: str) -> tuple[str | None, float]:
        """(the lighting kind ``text`` names, or None for ``none``; its probability)."""
        _, scene, _ = self._outputs([text])
        index = int(np.argmax(scene[0]))
        return (None if index == 0 else SCENE_CLASSES[index]), float(scene[0, index])

    def tone(self, text: str) -> float:
        """The exposure shift (stops) the tone words of ``text`` stand for (about 0 without any)."""
        return float(self._outputs([text])[2][0])

    def unknown_words(self, text: str) -> list[str]:
        return self.vocabulary.unknown(text)


def save_text_encoder(
    encoder: TextEncoder, vocabulary: Vocabulary, path: str | Path, metadata: dict[str, Any]
) -> Path:
    """Write the encoder's tensors, config, vocabulary and ``metadata`` to ``path`` (atomically)."""
    import dataclasses

    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in encoder.state_dict().items()}
    header = {
        "format": FORMAT,
        "config": json.dumps(dataclasses.asdict(encoder.config)),
        "vocabulary": json.dumps(vocabulary.words),
        "metadata": json.dumps(metadata, default=str),
    }
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=header)
    return path


_LOADED: dict[tuple[str, float], TextModel] = {}


def load_text_model(path: str | Path | None = None) -> TextModel:
    """The ``TextModel`` in ``path`` (default: the shipped one), cached per file and mtime.

    Raises ``RenderError`` naming the file and the reason (missing, unreadable, not a text
    encoder, tensors that do not match its config)."""
    from renderers.diffusion.weights import read_safetensors

    path = Path(path) if path is not None else DEFAULT_TEXT_WEIGHTS
    if not path.is_file():
        raise RenderError(
            f"text encoder weights {path}: file not found (train them with "
            "`python tools/train_text_encoder.py`, a few minutes on 2 CPU cores)"
        )
    key = (str(path.resolve()), path.stat().st_mtime)
    if key in _LOADED:
        return _LOADED[key]
    header, tensors = read_safetensors(path, "text encoder weights")
    if header.get("format") != FORMAT:
        raise RenderError(
            f"text encoder weights {path}: format {header.get('format')!r}, expected {FORMAT!r}"
        )
    try:
        config = TextEncoderConfig(**json.loads(header["config"]))
        vocabulary = Vocabulary(json.loads(header["vocabulary"]))
        metadata = json.loads(header.get("metadata", "{}"))
        encoder = TextEncoder(config)
        encoder.load_state_dict({name: tensor.to(torch.float32) for name, tensor in tensors.items()})
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0]
        raise RenderError(f"text encoder weights {path}: do not match their config ({reason})") from None
    if len(vocabulary) != config.vocabulary_size:
        raise RenderError(
            f"text encoder weights {path}: {len(vocabulary)} vocabulary words for an embedding of "
            f"{config.vocabulary_size}"
        )
    model = TextModel(encoder, vocabulary, metadata)
    _LOADED[key] = model
    return model


def unknown_words(texts: list[str], weights: str | Path | None = None) -> list[str]:
    """The words of ``texts`` the shipped (or given) text encoder does not know, once each."""
    model = load_text_model(weights)
    return list(dict.fromkeys(word for text in texts for word in model.unknown_words(text)))
