"""Adapters to large pretrained video models, bring your own weights (diffusers, optional extra).

``wan_vace`` (Wan2.1 VACE) and ``cogvideox_fun`` (CogVideoX-Fun control) turn the guidance into
each model's control video and run it window by window over a clip of any length, with context
from the previous window, entity reference images and surface-anchored initial latents
(``windowed``). Weights are a local diffusers folder named by the ``weights`` option (``--weights``
on the command line); nothing is downloaded. ``diffusers`` and ``transformers`` are imported only
when an adapter is created (``pip install 'worldsim[adapters]'``).
"""
