"""A user model whose step function makes a NumPy array, as a model author may.

spikenet's network kernel is compiled without Numba's reference counting;
the helpers that call a model's own functions turn it back on, so that code
like this (which needs it to allocate) runs inside a network. The dynamics
are those of the perfect integrate-and-fire neuron of extending_example.py:
with a constant drive ``I`` it fires every ``c_m v_th / I`` seconds.
"""

from dataclasses import dataclass

import numpy as np

from spikenet.sim.models.base import kernel
from tests.sim.extending_example import PerfectIF


@kernel
def scratch_perfect_if_step(S, i, I, dt, P):  # pragma: no cover - compiled
    terms = np.empty(2)  # a fresh array each step: needs reference counting
    terms[0] = S[0, i]
    terms[1] = I * dt / P[0, i]
    v_end = terms.sum()
    if v_end < P[1, i]:
        S[0, i] = v_end
        return -1.0
    t_spike = (P[1, i] - terms[0]) * P[0, i] / I
    S[0, i] = I * (dt - t_spike) / P[0, i]
    return t_spike


@dataclass(frozen=True)
class ScratchPerfectIF(PerfectIF):
    """:class:`PerfectIF` with the step above."""

    step = staticmethod(scratch_perfect_if_step)
