"""Clip folder I/O: atomic writes, map encodings, metadata.json, videos, contact sheet, resume."""

from worldsim.clip.clip import Clip
from worldsim.clip.layout import GUIDANCE_MAPS, ClipLayout
from worldsim.clip.metadata import ClipFolderError

__all__ = ["GUIDANCE_MAPS", "Clip", "ClipFolderError", "ClipLayout"]
