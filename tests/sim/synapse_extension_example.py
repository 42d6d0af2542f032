"""Two synapse kinds defined outside spikenet, as docs/extending.md walks through them.

``DoubleExp``: the difference-of-exponentials current (rise ``tau_r``, decay
``tau_d``) of unit area, two linear stages with their own propagator.
``PeakExp``: an exponential current normalised to its peak (a spike of weight
``w`` adds ``w`` to the current, in drive units), one stage.

Registering them makes ``Network`` accept them and adds them to the engine's
contract tests (``tests/sim/test_contract.py`` iterates the registry).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikenet.sim.synapse_base import SynapseKind, register_synapse


@register_synapse
@dataclass(frozen=True)
class DoubleExp(SynapseKind):
    """Current ``h(t) = (e^{-t/tau_d} - e^{-t/tau_r}) / (tau_d - tau_r)`` (1/s, unit area).

    Parameters
    ----------
    tau_r, tau_d : float
        Rise and decay time constants in seconds (> 0, different).
    """

    tau_r: float
    tau_d: float

    entry = "current"

    def __post_init__(self):
        if not (self.tau_r > 0 and self.tau_d > 0 and self.tau_r != self.tau_d):
            raise ValueError("tau_r: the time constants must be positive and differ")

    @property
    def input_scale(self) -> float:
        return 1.0 / self.tau_r  # what a spike of unit weight adds to x0, 1/s

    def generator(self) -> np.ndarray:
        # dx/dt = A x between spikes; the last stage is the current
        return np.array([[-1.0 / self.tau_r, 0.0],
                         [1.0 / self.tau_d, -1.0 / self.tau_d]])

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        return {"DoubleExp(1 ms, 5 ms)": cls(0.001, 0.005)}


@register_synapse
@dataclass(frozen=True)
class PeakExp(SynapseKind):
    """Exponential current of peak ``w`` for a spike of weight ``w`` (drive units), decaying with ``tau``.

    Parameters
    ----------
    tau : float
        Decay time constant in seconds (> 0).
    """

    tau: float

    entry = "current"

    def __post_init__(self):
        if not self.tau > 0:
            raise ValueError("tau: must be positive")

    @property
    def input_scale(self) -> float:
        return 1.0

    def generator(self) -> np.ndarray:
        return np.array([[-1.0 / self.tau]])

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        return {"PeakExp(5 ms)": cls(0.005)}
