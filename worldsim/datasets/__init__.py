"""Datasets the simulator makes: many clips of randomised scenes rendered as Ray tasks
(``dataset.render_dataset``, ``worldsim dataset``; configs in ``config``, scene generators in
``generators`` and ``random_scenes``), and the diffusion renderer's training data
(``training_clips``). Part of the orchestration layer, so it may reach ``renderers``."""
