"""Guidance rendering: depth, segmentation, normals, flow, surface coordinates."""

from renderers.guidance.frame import GuidanceFrame
from renderers.guidance.render import GuidanceRenderer, render_guidance

__all__ = ["GuidanceFrame", "GuidanceRenderer", "render_guidance"]
