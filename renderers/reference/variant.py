"""Pick and activate Mitsuba's variant: ``llvm_ad_rgb`` when a usable LLVM is found, else ``scalar_rgb``.

Dr.Jit's LLVM backend needs ``libLLVM`` 19 or newer (Debian's LLVM 15 makes it abort), named by
``DRJIT_LIBLLVM_PATH``. We look for it in the usual Debian/Ubuntu places before Mitsuba is imported;
without it the scalar variant (about 6x slower) renders the same images, with a one-line notice.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from types import ModuleType

from worldsim.errors import MissingExtraError, RenderError

LOGGER = logging.getLogger(__name__)
FAST_VARIANT = "llvm_ad_rgb"
SLOW_VARIANT = "scalar_rgb"
VARIANTS = ("auto", FAST_VARIANT, SLOW_VARIANT)
LLVM_PATTERNS = (
    "/usr/lib/llvm-{major}/lib/libLLVM.so.{major}*",
    "/usr/lib/x86_64-linux-gnu/libLLVM.so.{major}*",
    "/usr/lib/aarch64-linux-gnu/libLLVM.so.{major}*",
    "/usr/lib/x86_64-linux-gnu/libLLVM-{major}.so*",
    "/usr/lib/aarch64-linux-gnu/libLLVM-{major}.so*",
)
LLVM_MAJORS = (19, 20, 21, 18)
"""LLVM majors Dr.Jit works with, most preferred first."""


def find_libllvm() -> Path | None:
    """``DRJIT_LIBLLVM_PATH`` if it names a file, else the first LLVM >= 18 found on the system."""
    configured = os.environ.get("DRJIT_LIBLLVM_PATH")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for major in LLVM_MAJORS:
        for pattern in LLVM_PATTERNS:
            matches = sorted(glob.glob(pattern.format(major=major)))
            if matches:
                return Path(matches[0])
    return None


def activate(requested: str = "auto") -> tuple[ModuleType, str]:
    """Import Mitsuba, set its variant once per process and return ``(mitsuba, variant)``.

    ``auto`` prefers ``llvm_ad_rgb``. Mitsuba objects belong to the variant they were made under;
    renderers re-activate theirs before building a scene.
    """
    if requested not in VARIANTS:
        raise RenderError(
            f"renderer 'reference': option 'variant' must be one of {', '.join(VARIANTS)}, got {requested!r}"
        )
    if requested == "auto" or requested == FAST_VARIANT:
        library = find_libllvm()
        if library is not None:
            os.environ.setdefault("DRJIT_LIBLLVM_PATH", str(library))
        elif requested == FAST_VARIANT:
            raise RenderError(
                "renderer 'reference': variant 'llvm_ad_rgb' needs libLLVM 18+ (Debian: apt-get install "
                "libllvm19, then set DRJIT_LIBLLVM_PATH to libLLVM.so.19.1)"
            )
    try:
        import mitsuba
    except ImportError as error:
        raise MissingExtraError("mitsuba", "reference", error) from None
    variant = requested
    if requested == "auto":
        variant = FAST_VARIANT if os.environ.get("DRJIT_LIBLLVM_PATH") else SLOW_VARIANT
    try:
        mitsuba.set_variant(variant)
    except Exception as error:  # Dr.Jit reports a missing or unusable LLVM as a plain exception
        if requested != "auto" or variant == SLOW_VARIANT:
            raise RenderError(f"Mitsuba variant {variant!r} is unavailable: {error}") from None
        variant = SLOW_VARIANT
        mitsuba.set_variant(variant)
    # Mitsuba logs to stdout, past --quiet: its warnings repeat on every frame (a sample count
    # rounded up) or at Ctrl-C ("winding down"); what matters the renderer reports through logging.
    mitsuba.set_log_level(mitsuba.LogLevel.Error)
    if variant == SLOW_VARIANT and requested == "auto":
        LOGGER.warning(
            "reference renderer: no usable libLLVM found, using Mitsuba's scalar_rgb variant (about 6x "
            "slower); apt-get install libllvm19 for the fast one"
        )
    return mitsuba, variant
