"""Words about appearance: the colour vocabulary, the word tables and the captions the simulator
writes for the scenes it generates (what the diffusion renderer's text encoder learns from)."""
