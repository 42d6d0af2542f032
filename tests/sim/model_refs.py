"""Independent references for the Izhikevich and AdEx models: scipy's solve_ivp with event location.

Each inter-spike segment is integrated at tight tolerance up to the event
``v = v_peak``; the reset is applied at the located event time and the next
segment starts there. Times in ms, as the models' equations are written.
"""

import numpy as np
from scipy.integrate import solve_ivp

#: Izhikevich (2003) parameter sets (a, b, c, d).
IZHIKEVICH_SETS = {
    "regular spiking": (0.02, 0.2, -65.0, 8.0),
    "intrinsically bursting": (0.02, 0.2, -55.0, 4.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "fast spiking": (0.1, 0.2, -65.0, 2.0),
}

#: Naud et al. (2008) Table 1 parameter sets (pF, nS, mV, s, pA) with their step current I (pA).
_NAUD_KEYS = ("c_m", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset", "I")
NAUD_SETS = {
    name: dict(zip(_NAUD_KEYS, values)) for name, values in {
        "tonic": (200.0, 10.0, -70.0, -50.0, 2.0, 0.030, 2.0, 0.0, -58.0, 500.0),
        "adapting": (200.0, 12.0, -70.0, -50.0, 2.0, 0.300, 2.0, 60.0, -58.0, 500.0),
        "bursting": (200.0, 10.0, -58.0, -50.0, 2.0, 0.120, 2.0, 100.0, -46.0, 210.0),
        "irregular": (100.0, 12.0, -60.0, -50.0, 2.0, 0.130, -11.0, 30.0, -48.0, 160.0),
    }.items()
}


def _spike_train(f, y0, reset, v_peak, T_ms, method, tol):
    def at_peak(t, y):
        return y[0] - v_peak

    at_peak.terminal = True
    at_peak.direction = 1
    t, y, spikes = 0.0, list(y0), []
    while t < T_ms:
        sol = solve_ivp(f, (t, T_ms), y, method=method, rtol=tol, atol=tol, events=at_peak)
        if not sol.t_events[0].size:
            break
        t = float(sol.t_events[0][0])
        spikes.append(t)
        y = reset(sol.y_events[0][0])
    return np.array(spikes) * 1e-3  # seconds


def izhikevich_reference(a, b, c, d, I, T, v_peak=30.0, v0=-65.0, tol=1e-11):
    """Spike times (s) of an Izhikevich neuron under a constant drive ``I`` for ``T`` seconds."""
    def f(t, y):
        v, u = y
        return [0.04 * v * v + 5.0 * v + 140.0 - u + I, a * (b * v - u)]

    return _spike_train(f, [v0, b * v0], lambda y: [c, y[1] + d], v_peak, T * 1e3, "DOP853", tol)


def adex_reference(c_m, g_l, e_l, v_t, delta_t, tau_w, a, b, v_reset, I, T, v_peak=0.0, tol=1e-11):
    """Spike times (s) of an AdEx neuron (no refractory time) under a constant current ``I`` (pA)."""
    tau_w_ms = tau_w * 1e3

    def f(t, y):
        v, w = y
        x = min((v - v_t) / delta_t, 200.0)
        return [(-g_l * (v - e_l) + g_l * delta_t * np.exp(x) - w + I) / c_m, (a * (v - e_l) - w) / tau_w_ms]

    return _spike_train(f, [e_l, 0.0], lambda y: [v_reset, y[1] + b], v_peak, T * 1e3, "DOP853", tol)
