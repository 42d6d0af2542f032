"""Brian2 equivalents of spikenet's neuron models, for cross-checking.

Brian2 is imported lazily inside each function (it is a test dependency, not a
runtime one). Brian2 quantises spike times and refractory periods to its own
``dt``, so use a fine step (1 us for LIF, 10 us with ``rk4`` for HH) when it
serves as the reference.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import choice, finite_array, positive_float
from spikenet.sim.neurons import HH, LIF

__all__ = ["brian2_hh", "brian2_lif"]


def _run(group_factory, T, dt, target, record_v=False):
    import brian2 as b2

    old_target = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        group = group_factory(b2, dt * b2.second)
        spikes = b2.SpikeMonitor(group)
        objects = [group, spikes]
        if record_v:
            vmon = b2.StateMonitor(group, "v", record=True)
            objects.append(vmon)
        net = b2.Network(*objects)
        net.run(T * b2.second, namespace={})
        trains = spikes.spike_trains()
        times = [np.asarray(trains[i] / b2.second, dtype=np.float64) for i in range(len(group))]
        # Brian2 is (n, steps); spikenet is time-first (steps, n).
        v = np.asarray(vmon.v).T.copy() if record_v else None
        return times, v
    finally:
        b2.prefs.codegen.target = old_target


def brian2_lif(neuron, J, T, dt=1e-6, target="cython", record_v=False):
    """Simulate unconnected LIF neurons with constant input in Brian2.

    Parameters
    ----------
    neuron : LIF
        Model parameters.
    J : array_like (n,)
        Constant drive per neuron (dimensionless).
    T : float
        Duration in seconds.
    dt : float
        Brian2's step in seconds (default 1 us).
    target : {"cython", "numpy"}
        Brian2 code generation target.
    record_v : bool
        Also return the voltage.

    Returns
    -------
    spike_times : list of ndarray
        Spike times in seconds per neuron (Brian2 stamps a spike at the start of
        the step in which ``v`` crosses ``v_th``).
    v : ndarray (steps, n) or None
        Voltage at the start of each step when ``record_v``.

    Notes
    -----
    Brian2 model: ``dv/dt = (J - v)/tau_m (unless refractory)``, threshold
    ``v > v_th``, reset ``v = v_reset``, ``refractory = tau_ref``, ``method='exact'``.
    """
    if not isinstance(neuron, LIF):
        raise TypeError(f"neuron must be a spikenet.sim.LIF, got {type(neuron).__name__}")
    J = finite_array("J", J, ndim=1)
    T = positive_float("T", T)
    dt = positive_float("dt", dt)
    choice("target", target, ("cython", "numpy"))

    def factory(b2, dt_q):
        ns = {"tau_m": neuron.tau_m * b2.second, "v_th": neuron.v_th, "v_reset": neuron.v_reset}
        g = b2.NeuronGroup(len(J), "dv/dt = (J - v) / tau_m : 1 (unless refractory)\nJ : 1",
                           threshold="v > v_th", reset="v = v_reset",
                           refractory=neuron.tau_ref * b2.second, method="exact", dt=dt_q, namespace=ns)
        g.v = neuron.v_reset
        g.J = J
        return g

    return _run(factory, T, dt, target, record_v)


_HH_EQS = """
dv/dt = (I - g_na*m**3*h*(v - e_na) - g_k*n**4*(v - e_k) - g_l*(v - e_l)) / c_m / ms : 1
dm/dt = (alpha_m*(1 - m) - beta_m*m) / ms : 1
dh/dt = (alpha_h*(1 - h) - beta_h*h) / ms : 1
dn/dt = (alpha_n*(1 - n) - beta_n*n) / ms : 1
alpha_m = 1.0 / exprel(-(v + 40)/10) : 1
beta_m = 4*exp(-(v + 65)/18) : 1
alpha_h = 0.07*exp(-(v + 65)/20) : 1
beta_h = 1/(1 + exp(-(v + 35)/10)) : 1
alpha_n = 0.1 / exprel(-(v + 55)/10) : 1
beta_n = 0.125*exp(-(v + 65)/80) : 1
I : 1
"""


def brian2_hh(neuron, J, T, dt=1e-5, method="rk4", target="cython", record_v=False):
    """Simulate unconnected Hodgkin-Huxley neurons with constant input in Brian2.

    Parameters
    ----------
    neuron : HH
        Model parameters (mV, ms, uA/cm^2 as in :class:`spikenet.sim.HH`).
    J : array_like (n,)
        Constant input per neuron in uA/cm^2.
    T : float
        Duration in seconds.
    dt : float
        Brian2's step in seconds (default 10 us).
    method : str
        Brian2 integration method (default ``"rk4"``).
    target : {"cython", "numpy"}
        Brian2 code generation target.
    record_v : bool
        Also return the voltage (mV).

    Returns
    -------
    spike_times : list of ndarray
        Upward crossings of ``v_spike`` in seconds, stamped by Brian2 at the
        start of the step in which they happen.
    v : ndarray (steps, n) or None
        Voltage at the start of each step when ``record_v``.
    """
    if not isinstance(neuron, HH):
        raise TypeError(f"neuron must be a spikenet.sim.HH, got {type(neuron).__name__}")
    J = finite_array("J", J, ndim=1)
    T = positive_float("T", T)
    dt = positive_float("dt", dt)
    choice("target", target, ("cython", "numpy"))

    def factory(b2, dt_q):
        ns = {name: getattr(neuron, name) for name in ("c_m", "g_na", "g_k", "g_l", "e_na", "e_k", "e_l")}
        ns["ms"] = b2.ms
        ns["v_spike"] = neuron.v_spike
        g = b2.NeuronGroup(len(J), _HH_EQS, threshold="v > v_spike", refractory="v > v_spike",
                           method=method, dt=dt_q, namespace=ns)
        m0, h0, n0 = HH.steady_state(neuron.v_init)
        g.v = neuron.v_init
        g.m = float(m0)
        g.h = float(h0)
        g.n = float(n0)
        g.I = J
        return g

    return _run(factory, T, dt, target, record_v)
