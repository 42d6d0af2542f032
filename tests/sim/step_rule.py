"""The engine's rule for several threshold crossings in one step, written out for constant drives.

A neuron spikes at most once per step ``[k dt, (k + 1) dt)``. Under a constant
drive ``J > v_th`` a LIF neuron fires every ``isi = tau_ref + tau_m ln((J -
v_reset) / (J - v_th))`` seconds; a crossing that would fall in the step of the
previous spike (``isi < dt``) is held at ``v_th`` until the next step and fires
at its start. The spike times therefore follow

    t[n + 1] = max(t[n] + isi, (floor(t[n] / dt) + 1) dt),

which is plain arithmetic on the closed-form interval, independent of the
engine's code.
"""

import math

import numpy as np


def one_per_step_times(first, isi, dt, T):
    """Spike times (s) in ``[0, T)`` from a first crossing at ``first`` and a free interval ``isi``."""
    times = []
    t = first
    while t < T - 1e-12 * dt:
        times.append(t)
        t = max(t + isi, (math.floor(t / dt + 1e-9) + 1) * dt)
    return np.array(times)


def lif_one_per_step_times(lif, J, dt, T, v0=None):
    """:func:`one_per_step_times` of a LIF (normalised parameters) under the constant drive ``J > v_th``."""
    v0 = lif.v_reset if v0 is None else v0
    first = lif.tau_m * math.log((J - v0) / (J - lif.v_th))
    isi = lif.tau_ref + lif.tau_m * math.log((J - lif.v_reset) / (J - lif.v_th))
    return one_per_step_times(first, isi, dt, T)
