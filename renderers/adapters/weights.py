"""Local diffusers pipeline folders: check one is complete, load it offline, place it on a device.

A folder is what ``DiffusionPipeline.save_pretrained`` writes (and what the Hub's ``*-diffusers``
repositories hold): ``model_index.json`` naming each component, and one subfolder per component
with its config and weights. Nothing is ever downloaded: the Hub is switched off for the process
(``HF_HUB_OFFLINE=1``) before diffusers is imported, and every load passes ``local_files_only``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.errors import MissingExtraError, RenderError

EXTRA = "adapters"
MODEL_CONFIG = "config.json"
SCHEDULER_CONFIG = "scheduler_config.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "spiece.model", "vocab.json")
LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSpec:
    """What an adapter needs from a folder.

    pipeline_class: the diffusers class the folder is loaded with (e.g. ``WanVACEPipeline``).
    components: subfolders that must be present and complete (``tokenizer``, ``vae``, ...).
    example: a folder name users recognise, for error messages.
    also_named: other ``_class_name`` values of ``model_index.json`` that hold the same components
      (published folders do not always name the class they are meant for).
    """

    pipeline_class: str
    components: tuple[str, ...]
    example: str
    also_named: tuple[str, ...] = ()


def import_diffusers() -> Any:
    """The ``diffusers`` module, with the Hub switched off; MissingExtraError naming the extra."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import diffusers
        import transformers  # noqa: F401  (every adapter's text encoder)
    except ImportError as error:
        raise MissingExtraError(error.name or "diffusers", EXTRA, error) from None
    return diffusers


def check_pipeline_folder(renderer: str, folder: Path | None, spec: PipelineSpec) -> Path:
    """``folder`` if it holds a complete ``spec.pipeline_class`` pipeline, else a RenderError
    listing everything missing (model_index.json, component folders, configs, weights)."""
    if folder is None:
        raise RenderError(
            f"renderer {renderer!r} needs local weights: pass --weights PATH (or --option weights=PATH) "
            f"naming a diffusers {spec.pipeline_class} folder such as {spec.example}; nothing is downloaded"
        )
    folder = Path(folder)
    if not folder.is_dir():
        raise RenderError(
            f"renderer {renderer!r}: weights folder {folder} does not exist (expected a diffusers "
            f"{spec.pipeline_class} folder such as {spec.example})"
        )
    missing: list[str] = []
    index = folder / "model_index.json"
    declared: dict[str, Any] = {}
    if not index.is_file():
        missing.append("model_index.json")
    else:
        try:
            declared = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RenderError(f"renderer {renderer!r}: {index} is not readable JSON ({error})") from None
        found = declared.get("_class_name")
        if found not in (spec.pipeline_class, *spec.also_named):
            raise RenderError(
                f"renderer {renderer!r}: {folder} holds a {found or 'unnamed'} pipeline, "
                f"expected {spec.pipeline_class} (e.g. {spec.example})"
            )
    for component in spec.components:
        if declared and _declared_empty(declared.get(component)):
            missing.append(f"{component} (null in model_index.json)")
            continue
        missing.extend(_component_problems(folder / component, component))
    if missing:
        raise RenderError(
            f"renderer {renderer!r}: weights folder {folder} is incomplete; missing: {', '.join(missing)} "
            f"(expected a diffusers {spec.pipeline_class} folder such as {spec.example})"
        )
    return folder


def _declared_empty(entry: Any) -> bool:
    return not isinstance(entry, list) or len(entry) != 2 or entry[0] is None


def _component_problems(path: Path, component: str) -> list[str]:
    """What is missing from one component folder, as ``name/`` or ``name/file`` entries."""
    if not path.is_dir():
        return [f"{component}/"]
    names = {child.name for child in path.iterdir()}
    if component == "tokenizer":
        return [] if names & set(TOKENIZER_FILES) else [f"{component}/ ({' or '.join(TOKENIZER_FILES)})"]
    if component == "scheduler":
        return [] if SCHEDULER_CONFIG in names else [f"{component}/{SCHEDULER_CONFIG}"]
    problems = [] if MODEL_CONFIG in names else [f"{component}/{MODEL_CONFIG}"]
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in names):
        problems.append(f"{component}/ weights (*.safetensors)")
    return problems


def read_component_config(folder: Path, component: str, file: str = MODEL_CONFIG) -> dict[str, Any]:
    """A component's config (e.g. ``vae/config.json``) as a dict, before any weights load."""
    path = folder / component / file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RenderError(f"cannot read {path}: {error}") from None


def torch_dtype(name: str) -> Any:
    """``"bfloat16"`` -> ``torch.bfloat16`` (names checked by the options)."""
    import torch

    return getattr(torch, name)


def load_pipeline(renderer: str, folder: Path, spec: PipelineSpec, dtype: str, vae_dtype: str) -> Any:
    """The ``spec.pipeline_class`` pipeline of ``folder`` on the CPU, offline; weights in ``dtype``,
    the VAE in ``vae_dtype``. RenderError with diffusers' reason when a file is corrupt."""
    diffusers = import_diffusers()
    pipeline_class = getattr(diffusers, spec.pipeline_class, None)
    if pipeline_class is None:
        raise RenderError(
            f"renderer {renderer!r}: diffusers {diffusers.__version__} has no {spec.pipeline_class}; "
            f"upgrade it: pip install -U 'worldsim[{EXTRA}]'"
        )
    dtypes = {"default": torch_dtype(dtype), "vae": torch_dtype(vae_dtype)}
    try:
        with library_output(shown=LOGGER.isEnabledFor(logging.INFO)):
            pipeline = pipeline_class.from_pretrained(str(folder), dtype=dtypes, local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise RenderError(f"renderer {renderer!r}: cannot load {folder}: {error}") from None
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


@contextmanager
def library_output(shown: bool) -> Iterator[None]:
    """diffusers' and transformers' loading bars and warnings: left as they are when ``shown``
    (the CLI logs at INFO), else silenced (``--quiet``, or a library caller who did not ask for
    INFO logs) and restored afterwards."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    if shown:
        yield
        return
    saved = [
        (module, module.is_progress_bar_enabled(), module.get_verbosity())
        for module in (diffusers_logging, transformers_logging)
    ]
    for module, _, _ in saved:
        module.disable_progress_bar()
        module.set_verbosity_error()
    try:
        yield
    finally:
        for module, bars, verbosity in saved:
            (module.enable_progress_bar if bars else module.disable_progress_bar)()
            module.set_verbosity(verbosity)


def resolve_device(renderer: str, device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; an unavailable cuda device is refused."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RenderError(f"renderer {renderer!r}: option 'device' is {device!r} but CUDA is not available")
    return device


def place_pipeline(
    renderer: str,
    pipeline: Any,
    device: str,
    offload: str,
    vae_tiling: bool,
    vae_slicing: bool,
    attention_backend: str | None,
) -> None:
    """Apply the GPU memory knobs and move ``pipeline`` onto ``device`` (or set up offloading)."""
    if attention_backend is not None:
        for name in ("transformer", "transformer_2"):
            model = getattr(pipeline, name, None)
            if model is None:
                continue
            try:
                model.set_attention_backend(attention_backend)
            except (ValueError, RuntimeError, ImportError) as error:
                raise RenderError(f"renderer {renderer!r}: option 'attention_backend': {error}") from None
    if vae_tiling:
        pipeline.vae.enable_tiling()
    if vae_slicing:
        pipeline.vae.enable_slicing()
    if offload == "none":
        pipeline.to(device)
        return
    if device == "cpu":
        raise RenderError(f"renderer {renderer!r}: option 'offload' is {offload!r}, which needs a GPU device")
    if offload == "model":
        pipeline.enable_model_cpu_offload(device=device)
    else:
        pipeline.enable_sequential_cpu_offload(device=device)
