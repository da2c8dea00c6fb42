"""The sampler's scheduler, diffusers-style and weightless: ``set_timesteps`` then ``step``.

Rectified flow integrates ``dx/dt = v`` from t = 1 (noise) to t = 0 on a uniform grid of
``steps`` steps. ``timesteps`` lists the times the model is evaluated at, in order; ``step``
takes the model's velocity there and returns the sample to evaluate next. Euler makes one
evaluation per step; Heun two (a predictor to the next time, then the average of both slopes),
except on the last step, where the corrector would evaluate the model at t = 0. After a complete
step ``step_completed`` is true and ``time`` is the time the sample is at (for pinning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported on use, so the options can read METHODS without it
    import torch

METHODS = ("euler", "heun")


class FlowMatchScheduler:
    """Euler or Heun steps of a rectified-flow ODE from t = 1 to t = 0."""

    def __init__(self, method: str = "euler") -> None:
        if method not in METHODS:
            raise ValueError(f"sample: unknown method {method!r}; euler or heun")
        self.method = method
        self.times: torch.Tensor | None = None
        """(steps + 1,) the grid from 1 to 0."""
        self.timesteps: list[torch.Tensor] = []
        """The model evaluation times in order (0-d tensors)."""
        self._evaluations: list[tuple[int, str]] = []  # (step index, "euler" | "predictor" | "corrector")
        self._done = 0
        self._start: tuple[torch.Tensor, torch.Tensor] | None = None  # Heun: (sample, velocity) at t

    def set_timesteps(
        self, steps: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> None:
        """Lay out ``steps`` uniform steps and reset the scheduler."""
        if steps < 1:
            raise ValueError(f"sample: steps must be >= 1, got {steps}")
        import torch

        self.times = torch.linspace(1.0, 0.0, steps + 1, dtype=dtype or torch.float32, device=device)
        heun = self.method == "heun"
        self._evaluations = []
        for index in range(steps):
            kinds = ("predictor", "corrector") if heun and index < steps - 1 else ("euler",)
            self._evaluations += [(index, kind) for kind in kinds]
        self.timesteps = [
            self.times[index + 1] if kind == "corrector" else self.times[index]
            for index, kind in self._evaluations
        ]
        self._done, self._start = 0, None

    @property
    def step_completed(self) -> bool:
        """Whether the last ``step`` finished a step (false right after a Heun predictor)."""
        return self._done > 0 and self._evaluations[self._done - 1][1] != "predictor"

    @property
    def time(self) -> torch.Tensor:
        """The time of the sample the last ``step`` returned."""
        return self.times[self._evaluations[self._done - 1][0] + 1]

    def step(self, velocity: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        """The next sample, from the model's ``velocity`` at the ``sample`` it was evaluated on."""
        if self._done >= len(self._evaluations):
            raise RuntimeError("scheduler: step called after the last timestep; call set_timesteps first")
        index, kind = self._evaluations[self._done]
        self._done += 1
        delta = self.times[index + 1] - self.times[index]
        if kind == "predictor":
            self._start = (sample, velocity)
            return sample + delta * velocity
        if kind == "corrector":  # Heun: the average of the slopes at both ends of the step
            (start, first), self._start = self._start, None
            return start + delta * (0.5 * (first + velocity))
        return sample + delta * velocity
