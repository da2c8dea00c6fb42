"""Guidance rendering: depth, segmentation, normals, flow, surface coordinates."""

from renderers.guidance.render import GuidanceRenderer, render_guidance
from worldsim.guidance_frame import GuidanceFrame

__all__ = ["GuidanceFrame", "GuidanceRenderer", "render_guidance"]
