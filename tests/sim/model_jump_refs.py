"""solve_ivp references for NeuronModel neurons with voltage jumps (Delta synapses) and conductances.

A two-variable model (``v`` first) is integrated in ms at tight tolerance
between the jump times; at a jump ``v`` gets its increment and, when that
takes it to ``v_peak``, the neuron spikes at the jump time itself and is
reset there. Upward crossings of ``v_peak`` between jumps are located as
events and reset too.
"""

import numpy as np
from scipy.integrate import solve_ivp


def izhikevich_rhs(a, b, I):
    """Right-hand side (ms) of the Izhikevich (2003) model with a constant drive ``I``."""
    def f(t, y):
        v, u = y
        return [0.04 * v * v + 5.0 * v + 140.0 - u + I, a * (b * v - u)]
    return f


def adex_rhs(c_m, g_l, e_l, v_t, delta_t, tau_w, a, I, g_of_t=None):
    """Right-hand side (ms) of AdEx with a constant current ``I`` (pA).

    ``g_of_t(t_ms) -> list of (g nS, e_rev mV)`` adds conductance currents.
    """
    tau_w_ms = tau_w * 1e3

    def f(t, y):
        v, w = y
        x = min((v - v_t) / delta_t, 200.0)
        i_syn = 0.0
        if g_of_t is not None:
            for g, e in g_of_t(t):
                i_syn += g * (e - v)
        return [(-g_l * (v - e_l) + g_l * delta_t * np.exp(x) - w + I + i_syn) / c_m,
                (a * (v - e_l) - w) / tau_w_ms]
    return f


def jump_reference(f, y0, reset, v_peak, T, jumps, grid_dt=None, tol=1e-10, breaks=()):
    """Spike times (s) and, with ``grid_dt``, ``v`` at the grid points ``k * grid_dt`` (k < T / grid_dt).

    Parameters
    ----------
    f : callable ``f(t_ms, y)``
    y0 : list
        Initial state (``v`` first).
    reset : callable ``y -> y``
        The spike reset.
    v_peak : float
        Spike cut-off (mV).
    T : float
        Duration (s).
    jumps : list of (time s, increment of v mV)
        Jumps, in any order; simultaneous ones add up before the threshold test.
    grid_dt : float, optional
        Grid of the sampled voltage (s); the value at a jump time is the one
        after the jump (and after a reset).
    breaks : sequence of float
        Further times (s) where the integration restarts (discontinuities of ``f``).
    """
    T_ms = T * 1e3
    times = {}
    for t, w in jumps:
        key = round(t * 1e3, 9)
        times[key] = times.get(key, 0.0) + w
    stops = sorted(set(times) | {round(b * 1e3, 9) for b in breaks} | {T_ms})

    def at_peak(t, y):
        return y[0] - v_peak

    at_peak.terminal = True
    at_peak.direction = 1
    n_grid = round(T / grid_dt) if grid_dt else 0
    grid = np.round(np.arange(n_grid) * grid_dt * 1e3, 9)  # on the same rounding as the jump times
    v_grid = np.full(n_grid, np.nan)
    t, y, spikes = 0.0, list(y0), []
    for stop in stops:
        while t < stop:
            sol = solve_ivp(f, (t, stop), y, method="DOP853", rtol=tol, atol=tol, events=at_peak,
                            dense_output=True)
            end = float(sol.t_events[0][0]) if sol.t_events[0].size else stop
            sel = (grid >= t) & (grid < end)
            if sel.any():
                v_grid[sel] = sol.sol(grid[sel])[0]
            if sol.t_events[0].size:
                spikes.append(end)
                y = reset(list(sol.y_events[0][0]))
            else:
                y = list(sol.y[:, -1])
            t = end
        if stop in times:
            y[0] += times[stop]
            if y[0] >= v_peak:
                spikes.append(stop)
                y = reset(y)
    return np.array(spikes) * 1e-3, v_grid


def izhikevich_cond_rhs(a, b, I, g_of_t):
    """Izhikevich right-hand side (ms) with conductances ``g_of_t(t_ms) -> [(g 1/ms, e_rev mV), ...]``."""
    def f(t, y):
        v, u = y
        i_syn = sum(g * (e - v) for g, e in g_of_t(t))
        return [0.04 * v * v + 5.0 * v + 140.0 - u + I + i_syn, a * (b * v - u)]
    return f


class Conductances:
    """Conductances of PSC-filter kernels fed by spikes arriving at known times (t in ms).

    ``inputs``: list of ``(arrival times s, weights, tau_s s, n, e_rev)``; a
    spike of weight ``W`` adds ``W / tau_s (t/tau_s)^n / n! e^{-t/tau_s}``.
    """

    def __init__(self, inputs):
        self.inputs = [(np.asarray(t) * 1e3, np.asarray(w), tau * 1e3, n, e) for t, w, tau, n, e in inputs]
        self.breaks = sorted({float(x) * 1e-3 for t, *_ in self.inputs for x in t})

    def __call__(self, t):
        out = []
        for ta, w, tau, n, e in self.inputs:
            past = ta <= t + 1e-12
            y = (t - ta[past]) / tau
            g = np.sum(w[past] / (tau * 1e-3) * y**n / float(np.prod(range(1, n + 1))) * np.exp(-y))
            out.append((g, e))
        return out
