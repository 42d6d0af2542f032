"""Reference for conductance synapses: one LIF neuron integrated by ``scipy.integrate.solve_ivp``.

Independent of spikenet's kernels: the conductances are written out from
their closed form (a sum of gamma kernels from the arrival times), the
voltage is integrated by an adaptive Runge-Kutta method (DOP853) at
``rtol=1e-10``, threshold crossings are located by solve_ivp's event
finder, and the neuron is clamped at ``v_reset`` for ``tau_ref`` after each.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp


def conductance(t, arrivals, weights, tau, n):
    """Conductance at times ``t`` (array) from spikes arriving at ``arrivals`` with ``weights``.

    Each spike of weight ``w`` opens ``w * u^n e^{-u/tau} / (n! tau^{n+1})``, ``u = t - t_a >= 0``.
    """
    t = np.asarray(t, dtype=float)
    out = np.zeros_like(t)
    for ta, w in zip(arrivals, weights):
        u = t - ta
        pos = u >= 0
        out[pos] += w * (u[pos] ** n) * np.exp(-u[pos] / tau) / (math.factorial(n) * tau ** (n + 1))
    return out


def lif_reference(T, tau_m, tau_ref, v_th, v_reset, J, syns, v0=0.0, rtol=1e-10, atol=1e-12):
    """Spike times and a dense voltage solution of ``tau_m dv/dt = J - v + sum g_k (E_k - v)``.

    ``syns`` is a list of ``(arrivals, weights, tau, n, e_rev)``. Returns
    ``(spike_times, v_of_t)`` where ``v_of_t(t)`` evaluates the voltage
    (``v_reset`` while refractory) at an array of times.
    """
    breaks = sorted({float(a) for s in syns for a in s[0] if 0.0 < a < T})

    arrs = [(np.asarray(a, dtype=float), np.asarray(w, dtype=float), tau, n, e) for a, w, tau, n, e in syns]

    def rhs(t, y):
        out = J - y[0]
        for arr, w, tau, n, e in arrs:
            u = t - arr
            pos = u >= 0
            up = u[pos]
            g = np.sum(w[pos] * up**n * np.exp(-up / tau)) / (math.factorial(n) * tau ** (n + 1))
            out += g * (e - y[0])
        return [out / tau_m]

    def hit(t, y):
        return y[0] - v_th

    hit.terminal = True
    hit.direction = 1
    spikes = []
    pieces = []  # (t0, t1, sol or None for clamped)
    t, v = 0.0, v0
    while t < T:
        nxt = [b for b in breaks if b > t + 1e-15]
        t_end = min(nxt[0], T) if nxt else T
        sol = solve_ivp(rhs, (t, t_end), [v], method="DOP853", rtol=rtol, atol=atol, events=hit,
                        dense_output=True)
        if sol.status == 1:
            ts = float(sol.t_events[0][0])
            pieces.append((t, ts, sol.sol))
            spikes.append(ts)
            pieces.append((ts, ts + tau_ref, None))
            t, v = ts + tau_ref, v_reset
        else:
            pieces.append((t, t_end, sol.sol))
            t, v = t_end, float(sol.y[0, -1])

    def v_of_t(times):
        times = np.asarray(times, dtype=float)
        out = np.empty_like(times)
        for i, x in enumerate(times):
            for t0, t1, f in pieces:
                if t0 <= x <= t1:
                    out[i] = v_reset if f is None else f(x)[0]
                    break
            else:
                out[i] = np.nan
        return out

    return np.array(spikes), v_of_t

