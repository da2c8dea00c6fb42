"""Light transport shared by the lighting guidance maps and the ``direct`` renderer.

``sh``: order-2 spherical harmonics of environments (irradiance); ``environment``: environment
lights as lat-long radiance maps, their SH and prefiltered specular levels; ``lights``: direct
light samples (sun, point, area) with the reference renderer's units; ``brdf``: GGX terms;
``occlusion``: shadow / ambient-occlusion rays against the clip's meshes (Embree).
"""
