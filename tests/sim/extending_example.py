"""A neuron model defined outside spikenet, as docs/extending.md shows: one file, no other change.

The perfect (non-leaky) integrate-and-fire neuron ``dv/dt = I / c_m``, spike
at ``v_th``, reset to 0: with a constant ``I`` it fires every ``c_m v_th / I``
seconds, which the test checks.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikenet.sim.models.base import NeuronModel, kernel


@kernel
def perfect_if_step(S, i, I, dt, P):  # pragma: no cover - compiled
    v = S[0, i]
    c_m = P[0, i]
    v_th = P[1, i]
    v_end = v + I * dt / c_m
    if v_end < v_th:
        S[0, i] = v_end
        return -1.0
    t_spike = (v_th - v) * c_m / I  # exact: the drive is constant over the step
    S[0, i] = I * (dt - t_spike) / c_m  # from the reset value 0 for the rest of the step
    return t_spike


@dataclass(frozen=True)
class PerfectIF(NeuronModel):
    c_m: float = 1.0
    v_th: float = 1.0

    state_names: ClassVar[tuple] = ("v",)
    param_names: ClassVar[tuple] = ("c_m", "v_th")
    drive_units: ClassVar[str] = "v_th * c_m / s"
    step = staticmethod(perfect_if_step)

    def initial_state(self, given, n):
        return {"v": np.asarray(given.get("v", np.zeros(n)), dtype=np.float64)}
