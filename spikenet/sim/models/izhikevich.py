r"""The Izhikevich (2003) neuron.

.. math::

    \frac{dv}{dt} = \frac{0.04 v^2 + 5 v + 140 - u + I}{1\,\mathrm{ms}},\qquad
    \frac{du}{dt} = \frac{a (b v - u)}{1\,\mathrm{ms}},

with ``v`` in mV and the drive ``I`` in the paper's units (mV/ms); when ``v``
reaches ``v_peak``: ``v <- c``, ``u <- u + d``.

Integration: classical Runge-Kutta (RK4) with substeps inside each step,
chosen so that ``h |df/dv| <= 0.1`` and ``|dv| <= 1 mV`` per substep. Far
from a spike that is one substep per 0.1 ms step; on the upstroke, where the
quadratic term makes forward Euler (the paper's scheme) inaccurate, the
substeps shrink to a few microseconds. The spike time is placed inside its
substep by linear interpolation to ``v_peak``, the reset happens at that time
and the rest of the step is integrated from the reset state.

Reference: E. M. Izhikevich, "Simple model of spiking neurons", IEEE
Transactions on Neural Networks 14(6):1569-1572, 2003.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikenet._validation import finite_float
from spikenet.sim.models.base import NeuronModel, conductance_at, kernel

__all__ = ["Izhikevich", "izhikevich_cond_step", "izhikevich_reset", "izhikevich_step"]

# Substep limits (ms and mV): RK4 stiffness product and voltage change per substep.
_HL_MAX = 0.1
_DV_MAX = 1.0


@kernel
def _izh_f(v, u, I):  # pragma: no cover - compiled
    return 0.04 * v * v + 5.0 * v + 140.0 - u + I


@kernel
def izhikevich_step(S, i, I, dt, P):  # pragma: no cover - compiled
    """Advance Izhikevich neuron ``i`` by one step (see :mod:`spikenet.sim.models.base`)."""
    v = S[0, i]
    u = S[1, i]
    a = P[0, i]
    b = P[1, i]
    c = P[2, i]
    d = P[3, i]
    v_peak = P[4, i]
    H = dt * 1e3  # the step in ms
    t = 0.0
    spike = -1.0
    if v >= v_peak:  # held at the peak at the end of the last step: the spike is now
        spike = 0.0
        v = c
        u += d
    while t < H:
        h = H - t
        f = _izh_f(v, u, I)
        stiff = abs(0.08 * v + 5.0)
        if stiff * h > _HL_MAX:
            h = _HL_MAX / stiff
        if abs(f) * h > _DV_MAX:
            h = _DV_MAX / abs(f)
        k1u = a * (b * v - u)
        v2 = v + 0.5 * h * f
        u2 = u + 0.5 * h * k1u
        k2v = _izh_f(v2, u2, I)
        k2u = a * (b * v2 - u2)
        v3 = v + 0.5 * h * k2v
        u3 = u + 0.5 * h * k2u
        k3v = _izh_f(v3, u3, I)
        k3u = a * (b * v3 - u3)
        v4 = v + h * k3v
        u4 = u + h * k3u
        k4v = _izh_f(v4, u4, I)
        k4u = a * (b * v4 - u4)
        v1 = v + h / 6.0 * (f + 2.0 * k2v + 2.0 * k3v + k4v)
        u1 = u + h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        if v1 >= v_peak:
            frac = (v_peak - v) / (v1 - v)
            uc = u + frac * (u1 - u)
            if spike >= 0.0:  # a second peak in this step: held there until the next step
                v = v_peak
                u = uc
                break
            t += frac * h
            spike = t * 1e-3
            v = c
            u = uc + d
            continue
        v = v1
        u = u1
        t += h
    S[0, i] = v
    S[1, i] = u
    return spike


@kernel
def izhikevich_cond_step(S, i, I, dt, P, C, nc):  # pragma: no cover - compiled
    """``izhikevich_step`` with conductance synapses: ``dv/dt`` gains ``sum g_k(t) (e_k - v)`` (g in 1/ms).

    The conductances are evaluated at every RK4 stage (:func:`conductance_at`);
    the substeps also keep ``h g <= 0.1``.
    """
    v = S[0, i]
    u = S[1, i]
    a = P[0, i]
    b = P[1, i]
    c = P[2, i]
    d = P[3, i]
    v_peak = P[4, i]
    H = dt * 1e3
    t = 0.0
    spike = -1.0
    if v >= v_peak:
        spike = 0.0
        v = c
        u += d
    while t < H:
        h = H - t
        g0, ge0 = conductance_at(C, nc, t * 1e-3)
        f = _izh_f(v, u, I) + ge0 - g0 * v
        stiff = abs(0.08 * v + 5.0 - g0)
        stiff = stiff if stiff > abs(g0) else abs(g0)
        if stiff * h > _HL_MAX:
            h = _HL_MAX / stiff
        if abs(f) * h > _DV_MAX:
            h = _DV_MAX / abs(f)
        gm, gem = conductance_at(C, nc, (t + 0.5 * h) * 1e-3)
        g1, ge1 = conductance_at(C, nc, (t + h) * 1e-3)
        k1u = a * (b * v - u)
        v2 = v + 0.5 * h * f
        u2 = u + 0.5 * h * k1u
        k2v = _izh_f(v2, u2, I) + gem - gm * v2
        k2u = a * (b * v2 - u2)
        v3 = v + 0.5 * h * k2v
        u3 = u + 0.5 * h * k2u
        k3v = _izh_f(v3, u3, I) + gem - gm * v3
        k3u = a * (b * v3 - u3)
        v4 = v + h * k3v
        u4 = u + h * k3u
        k4v = _izh_f(v4, u4, I) + ge1 - g1 * v4
        k4u = a * (b * v4 - u4)
        v1 = v + h / 6.0 * (f + 2.0 * k2v + 2.0 * k3v + k4v)
        u1 = u + h / 6.0 * (k1u + 2.0 * k2u + 2.0 * k3u + k4u)
        if v1 >= v_peak:
            frac = (v_peak - v) / (v1 - v)
            uc = u + frac * (u1 - u)
            if spike >= 0.0:
                v = v_peak
                u = uc
                break
            t += frac * h
            spike = t * 1e-3
            v = c
            u = uc + d
            continue
        v = v1
        u = u1
        t += h
    S[0, i] = v
    S[1, i] = u
    return spike


@kernel
def izhikevich_reset(S, i, P):  # pragma: no cover - compiled
    """The spike reset of Izhikevich neuron ``i``: ``v <- c``, ``u <- u + d``."""
    S[0, i] = P[2, i]
    S[1, i] += P[3, i]


@dataclass(frozen=True)
class Izhikevich(NeuronModel):
    """Izhikevich (2003) neuron: quadratic voltage with a recovery variable (v in mV, time in s).

    Parameters
    ----------
    a : float
        Time scale of the recovery variable ``u`` (1/ms), > 0.
    b : float
        Sensitivity of ``u`` to ``v``.
    c : float
        Reset voltage after a spike (mV).
    d : float
        Increment of ``u`` at a spike.
    v_peak : float
        Spike cut-off (mV); must lie above ``c``.
    v_init : float
        Initial voltage (mV); ``u`` starts at ``b * v_init``.

    Notes
    -----
    States ``"v"`` (mV) and ``"u"``; the drive ``I`` is in the paper's units.
    A ``Delta`` synapse's jump adds to ``v`` (mV); a jump to ``v_peak`` makes
    the neuron spike at the arrival time, then ``v <- c``, ``u <- u + d``.
    A ``Conductance`` synapse's ``g`` is in the paper's units per mV (1/ms):
    it adds ``g (e_rev - v)`` to ``dv/dt``.
    The paper's parameter sets: regular spiking ``(0.02, 0.2, -65, 8)``,
    intrinsically bursting ``(0.02, 0.2, -55, 4)``, chattering
    ``(0.02, 0.2, -50, 2)``, fast spiking ``(0.1, 0.2, -65, 2)``.
    See the module docstring for the integration scheme.

    Examples
    --------
    >>> from spikenet.sim import Izhikevich, simulate
    >>> res = simulate(Izhikevich(), 10.0, T=1.0)
    >>> len(res.spike_times[0]) > 10
    True
    """

    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 8.0
    v_peak: float = 30.0
    v_init: float = -65.0

    state_names: ClassVar[tuple[str, ...]] = ("v", "u")
    param_names: ClassVar[tuple[str, ...]] = ("a", "b", "c", "d", "v_peak")
    drive_units: ClassVar[str] = "mV/ms (the paper's units)"
    rate_guess: ClassVar[float] = 1000.0
    step = staticmethod(izhikevich_step)
    jump_state: ClassVar[str] = "v"
    jump_threshold: ClassVar[str] = "v_peak"
    reset = staticmethod(izhikevich_reset)
    cond_step = staticmethod(izhikevich_cond_step)

    def __post_init__(self):
        for name in ("a", "b", "c", "d", "v_peak", "v_init"):
            object.__setattr__(self, name, finite_float(name, getattr(self, name)))
        if self.a <= 0:
            raise ValueError(f"a must be > 0 (1/ms), got {self.a}")
        if not self.c < self.v_peak:
            raise ValueError(f"c ({self.c} mV) must be below v_peak ({self.v_peak} mV)")

    def initial_state(self, given, n):
        v = np.asarray(given.get("v", np.full(n, self.v_init)), dtype=np.float64)
        u = np.asarray(given.get("u", self.b * v), dtype=np.float64)
        return {"v": v, "u": u}
