"""Compatibility re-export: the guidance frame contract lives in ``worldsim.guidance_frame``."""

from worldsim.guidance_frame import EntityVisibility, GuidanceFrame

__all__ = ["EntityVisibility", "GuidanceFrame"]
