"""Guidance rendering: depth, segmentation, normals, flow, surface coordinates."""
