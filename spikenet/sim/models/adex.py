r"""The adaptive exponential integrate-and-fire neuron (AdEx) of Brette & Gerstner (2005).

.. math::

    C_m \frac{dv}{dt} = -g_L (v - E_L) + g_L \Delta_T e^{(v - V_T)/\Delta_T} - w + I,\qquad
    \tau_w \frac{dw}{dt} = a (v - E_L) - w,

in pF, nS, mV and pA (time in seconds at the interface); when ``v`` reaches
``v_peak``: ``v <- v_reset``, ``w <- w + b``, and ``v`` is held at
``v_reset`` for ``tau_ref`` while ``w`` keeps evolving.

Integration: RK4 with substeps inside each step, chosen so that
``h |df/dv| <= 0.1`` and ``|dv| <= Delta_T / 4`` per substep, which follows
the exponential upstroke closely. The exponential makes ``v`` diverge in
finite time; once ``v`` passes ``V_T + 10 Delta_T`` the exponential term
dominates every other one by a factor of about a thousand, and the time left
until ``v_peak`` is added in closed form,
``C_m/g_L (e^{-10} - e^{-(v_peak - V_T)/Delta_T})`` (well under a
microsecond), instead of integrating the divergence: no overflow, no NaN,
and the spike time placed inside the step. During a refractory period ``w``
is advanced exactly (``v`` is constant).

References: R. Brette and W. Gerstner, J. Neurophysiol. 94:3637-3642, 2005;
R. Naud, N. Marcille, C. Clopath and W. Gerstner, Biol. Cybern. 99:335-347,
2008 (firing patterns and their parameter sets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikenet._validation import finite_float, positive_float
from spikenet.sim.models.base import NeuronModel, conductance_at, kernel

__all__ = ["AdEx", "adex_cond_step", "adex_reset", "adex_step"]

_HL_MAX = 0.1
# Beyond V_T + _X_CUT * Delta_T the rest of the upstroke is taken in closed form.
_X_CUT = 10.0


@kernel
def _adex_f(v, w, I, c_m, g_l, e_l, v_t, delta_t):  # pragma: no cover - compiled
    x = (v - v_t) / delta_t
    x = x if x < 50.0 else 50.0  # stage values far past the cut stay finite
    return (-g_l * (v - e_l) + g_l * delta_t * math.exp(x) - w + I) / c_m


@kernel
def adex_step(S, i, I, dt, P):  # pragma: no cover - compiled
    """Advance AdEx neuron ``i`` by one step (see :mod:`spikenet.sim.models.base`).

    Works in ms, mV, nS, pF and pA (pA / pF = mV / ms).
    """
    v = S[0, i]
    w = S[1, i]
    r = S[2, i] * 1e3  # remaining refractory time, ms
    c_m = P[0, i]
    g_l = P[1, i]
    e_l = P[2, i]
    v_t = P[3, i]
    delta_t = P[4, i]
    tau_w = P[5, i] * 1e3
    a = P[6, i]
    b = P[7, i]
    v_reset = P[8, i]
    v_peak = P[9, i]
    tau_ref = P[10, i] * 1e3
    v_cut = v_t + _X_CUT * delta_t
    v_cut = v_cut if v_cut < v_peak else v_peak
    tau_l = c_m / g_l if g_l > 0.0 else 0.0
    H = dt * 1e3
    t = 0.0
    spike = -1.0
    if v >= v_peak:  # held at the peak at the end of the last step: the spike is now
        spike = 0.0
        v = v_reset
        w += b
        r = tau_ref
    while t < H:
        if r > 0.0:  # refractory: v held at v_reset, w relaxes exactly
            h = H - t if H - t < r else r
            w_inf = a * (v_reset - e_l)
            w = w_inf + (w - w_inf) * math.exp(-h / tau_w)
            v = v_reset
            r -= h
            t += h
            continue
        h = H - t
        f = _adex_f(v, w, I, c_m, g_l, e_l, v_t, delta_t)
        x = (v - v_t) / delta_t
        stiff = abs(g_l * (math.exp(x if x < 50.0 else 50.0) - 1.0)) / c_m
        if stiff * h > _HL_MAX:
            h = _HL_MAX / stiff
        if abs(f) * h > 0.25 * delta_t:
            h = 0.25 * delta_t / abs(f)
        k1w = (a * (v - e_l) - w) / tau_w
        v2 = v + 0.5 * h * f
        w2 = w + 0.5 * h * k1w
        k2v = _adex_f(v2, w2, I, c_m, g_l, e_l, v_t, delta_t)
        k2w = (a * (v2 - e_l) - w2) / tau_w
        v3 = v + 0.5 * h * k2v
        w3 = w + 0.5 * h * k2w
        k3v = _adex_f(v3, w3, I, c_m, g_l, e_l, v_t, delta_t)
        k3w = (a * (v3 - e_l) - w3) / tau_w
        v4 = v + h * k3v
        w4 = w + h * k3w
        k4v = _adex_f(v4, w4, I, c_m, g_l, e_l, v_t, delta_t)
        k4w = (a * (v4 - e_l) - w4) / tau_w
        v1 = v + h / 6.0 * (f + 2.0 * k2v + 2.0 * k3v + k4v)
        w1 = w + h / 6.0 * (k1w + 2.0 * k2w + 2.0 * k3w + k4w)
        if v1 >= v_cut:
            frac = (v_cut - v) / (v1 - v)
            wc = w + frac * (w1 - w)
            tc = t + frac * h
            if v_cut < v_peak:  # the rest of the divergence, in closed form
                tc += tau_l * (math.exp(-_X_CUT) - math.exp(-(v_peak - v_t) / delta_t))
            if spike >= 0.0 or tc >= H:  # a second spike in this step, or past its end: next step
                v = v_peak
                w = wc
                break
            spike = tc * 1e-3
            v = v_reset
            w = wc + b
            r = tau_ref
            t = tc
            continue
        v = v1
        w = w1
        t += h
    S[0, i] = v
    S[1, i] = w
    S[2, i] = r * 1e-3
    return spike


@kernel
def adex_cond_step(S, i, I, dt, P, C, nc):  # pragma: no cover - compiled
    """``adex_step`` with conductance synapses: the current gains ``sum g_k(t) (e_k - v)`` (g in nS).

    The conductances are evaluated at every RK4 stage (:func:`conductance_at`);
    the substeps also keep ``h g / c_m <= 0.1``. During a refractory period
    ``v`` is held and the conductances do not act on it.
    """
    v = S[0, i]
    w = S[1, i]
    r = S[2, i] * 1e3
    c_m = P[0, i]
    g_l = P[1, i]
    e_l = P[2, i]
    v_t = P[3, i]
    delta_t = P[4, i]
    tau_w = P[5, i] * 1e3
    a = P[6, i]
    b = P[7, i]
    v_reset = P[8, i]
    v_peak = P[9, i]
    tau_ref = P[10, i] * 1e3
    v_cut = v_t + _X_CUT * delta_t
    v_cut = v_cut if v_cut < v_peak else v_peak
    tau_l = c_m / g_l if g_l > 0.0 else 0.0
    H = dt * 1e3
    t = 0.0
    spike = -1.0
    if v >= v_peak:
        spike = 0.0
        v = v_reset
        w += b
        r = tau_ref
    while t < H:
        if r > 0.0:
            h = H - t if H - t < r else r
            w_inf = a * (v_reset - e_l)
            w = w_inf + (w - w_inf) * math.exp(-h / tau_w)
            v = v_reset
            r -= h
            t += h
            continue
        h = H - t
        g0, ge0 = conductance_at(C, nc, t * 1e-3)
        f = _adex_f(v, w, I + ge0 - g0 * v, c_m, g_l, e_l, v_t, delta_t)
        x = (v - v_t) / delta_t
        stiff = (abs(g_l * (math.exp(x if x < 50.0 else 50.0) - 1.0)) + abs(g0)) / c_m
        if stiff * h > _HL_MAX:
            h = _HL_MAX / stiff
        if abs(f) * h > 0.25 * delta_t:
            h = 0.25 * delta_t / abs(f)
        gm, gem = conductance_at(C, nc, (t + 0.5 * h) * 1e-3)
        g1, ge1 = conductance_at(C, nc, (t + h) * 1e-3)
        k1w = (a * (v - e_l) - w) / tau_w
        v2 = v + 0.5 * h * f
        w2 = w + 0.5 * h * k1w
        k2v = _adex_f(v2, w2, I + gem - gm * v2, c_m, g_l, e_l, v_t, delta_t)
        k2w = (a * (v2 - e_l) - w2) / tau_w
        v3 = v + 0.5 * h * k2v
        w3 = w + 0.5 * h * k2w
        k3v = _adex_f(v3, w3, I + gem - gm * v3, c_m, g_l, e_l, v_t, delta_t)
        k3w = (a * (v3 - e_l) - w3) / tau_w
        v4 = v + h * k3v
        w4 = w + h * k3w
        k4v = _adex_f(v4, w4, I + ge1 - g1 * v4, c_m, g_l, e_l, v_t, delta_t)
        k4w = (a * (v4 - e_l) - w4) / tau_w
        v1 = v + h / 6.0 * (f + 2.0 * k2v + 2.0 * k3v + k4v)
        w1 = w + h / 6.0 * (k1w + 2.0 * k2w + 2.0 * k3w + k4w)
        if v1 >= v_cut:
            frac = (v_cut - v) / (v1 - v)
            wc = w + frac * (w1 - w)
            tc = t + frac * h
            if v_cut < v_peak:
                tc += tau_l * (math.exp(-_X_CUT) - math.exp(-(v_peak - v_t) / delta_t))
            if spike >= 0.0 or tc >= H:
                v = v_peak
                w = wc
                break
            spike = tc * 1e-3
            v = v_reset
            w = wc + b
            r = tau_ref
            t = tc
            continue
        v = v1
        w = w1
        t += h
    S[0, i] = v
    S[1, i] = w
    S[2, i] = r * 1e-3
    return spike


@kernel
def adex_reset(S, i, P):  # pragma: no cover - compiled
    """The spike reset of AdEx neuron ``i``: ``v <- v_reset``, ``w <- w + b``, refractory for ``tau_ref``."""
    S[0, i] = P[8, i]
    S[1, i] += P[7, i]
    S[2, i] = P[10, i]


@dataclass(frozen=True)
class AdEx(NeuronModel):
    """Adaptive exponential integrate-and-fire neuron (pF, nS, mV, pA; time in s).

    Parameters
    ----------
    c_m : float
        Membrane capacitance (pF), > 0.
    g_l : float
        Leak conductance (nS), > 0.
    e_l : float
        Leak reversal potential (mV).
    v_t : float
        Threshold slope factor's centre (mV).
    delta_t : float
        Slope factor (mV), > 0.
    tau_w : float
        Adaptation time constant (s), > 0.
    a : float
        Subthreshold adaptation (nS).
    b : float
        Spike-triggered adaptation increment (pA).
    v_reset : float
        Reset voltage (mV), below ``v_peak``.
    v_peak : float
        Spike cut-off (mV), above ``v_t``.
    tau_ref : float
        Refractory time (s), >= 0: ``v`` is held at ``v_reset``.

    Notes
    -----
    States ``"v"`` (mV), ``"w"`` (pA) and ``"ref"`` (remaining refractory
    time, s); the drive ``I`` is in pA. Starts at ``v = e_l``, ``w = 0``.
    A ``Delta`` synapse's jump adds to ``v`` (mV); a jump to ``v_peak`` makes
    the neuron spike at the arrival time (then the reset); a refractory
    neuron ignores jumps. A ``Conductance`` synapse's ``g`` is in nS: it
    injects ``g (e_rev - v)`` pA.
    The defaults are the regular-spiking cell of Brette & Gerstner (2005).

    Examples
    --------
    >>> from spikenet.sim import AdEx, simulate
    >>> res = simulate(AdEx(), 800.0, T=0.5)
    >>> len(res.spike_times[0]) > 5
    True
    """

    c_m: float = 281.0
    g_l: float = 30.0
    e_l: float = -70.6
    v_t: float = -50.4
    delta_t: float = 2.0
    tau_w: float = 0.144
    a: float = 4.0
    b: float = 80.5
    v_reset: float = -70.6
    v_peak: float = 0.0
    tau_ref: float = 0.0

    state_names: ClassVar[tuple[str, ...]] = ("v", "w", "ref")
    param_names: ClassVar[tuple[str, ...]] = ("c_m", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b",
                                              "v_reset", "v_peak", "tau_ref")
    drive_units: ClassVar[str] = "pA"
    rate_guess: ClassVar[float] = 1000.0
    step = staticmethod(adex_step)
    jump_state: ClassVar[str] = "v"
    jump_threshold: ClassVar[str] = "v_peak"
    refractory_state: ClassVar[str] = "ref"
    reset = staticmethod(adex_reset)
    cond_step = staticmethod(adex_cond_step)

    def __post_init__(self):
        for name in ("c_m", "g_l", "delta_t", "tau_w"):
            object.__setattr__(self, name, positive_float(name, getattr(self, name)))
        object.__setattr__(self, "tau_ref", positive_float("tau_ref", self.tau_ref, allow_zero=True))
        for name in ("e_l", "v_t", "a", "b", "v_reset", "v_peak"):
            object.__setattr__(self, name, finite_float(name, getattr(self, name)))
        if not self.v_reset < self.v_peak:
            raise ValueError(f"v_reset ({self.v_reset} mV) must be below v_peak ({self.v_peak} mV)")
        if not self.v_t < self.v_peak:
            raise ValueError(f"v_t ({self.v_t} mV) must be below v_peak ({self.v_peak} mV)")

    def initial_state(self, given, n):
        v = np.asarray(given.get("v", np.full(n, self.e_l)), dtype=np.float64)
        w = np.asarray(given.get("w", np.zeros(n)), dtype=np.float64)
        ref = np.asarray(given.get("ref", np.zeros(n)), dtype=np.float64)
        if np.any(ref < 0):
            raise ValueError("init['ref'] (remaining refractory time) must be >= 0 s")
        return {"v": v, "w": w, "ref": ref}
