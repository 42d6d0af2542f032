"""Brian2 equivalents of spikenet's neuron models, for cross-checking.

Brian2 is imported lazily inside each function (it is a test dependency, not a
runtime one). Brian2 quantises spike times and refractory periods to its own
``dt``, so use a fine step (1 us for LIF, 10 us with ``rk4`` for HH) when it
serves as the reference.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import choice, finite_array, positive_float
from spikenet.sim.models import AdEx, Izhikevich
from spikenet.sim.neurons import HH, LIF

__all__ = ["brian2_adex", "brian2_hh", "brian2_izhikevich", "brian2_lif"]


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


def _per_neuron_group(neurons, cls, I, T, dt, target, eqs, threshold, reset, method, units):
    """One Brian2 group holding neurons of one model class with their own parameters and drives."""
    neurons = list(neurons)
    for nrn in neurons:
        if not isinstance(nrn, cls):
            raise TypeError(f"neurons must be spikenet.sim.{cls.__name__} instances, "
                            f"got {type(nrn).__name__}")
    I = finite_array("I", I, ndim=1)
    if I.shape != (len(neurons),):
        raise ValueError(f"I must have one value per neuron ({len(neurons)}), got shape {I.shape}")
    T = positive_float("T", T)
    dt = positive_float("dt", dt)
    choice("target", target, ("cython", "numpy"))

    def factory(b2, dt_q):
        g = b2.NeuronGroup(len(neurons), eqs, threshold=threshold, reset=reset, method=method, dt=dt_q,
                           namespace={"ms": b2.ms})
        for name in cls.param_names:
            values = np.array([getattr(n, name) for n in neurons])
            setattr(g, name, values * units[name](b2) if name in units else values)
        g.I = I
        for name, values in cls_initial(neurons).items():
            setattr(g, name, values)
        return g

    def cls_initial(neurons):
        states = [n.initial_state({}, 1) for n in neurons]
        return {k: np.array([st[k][0] for st in states]) for k in ("v", "u", "w") if k in states[0]}

    return _run(factory, T, dt, target)


def brian2_izhikevich(neurons, I, T, dt=1e-6, target="cython"):
    """Simulate unconnected Izhikevich neurons (each with its own parameters) in Brian2 with RK4.

    Parameters
    ----------
    neurons : sequence of Izhikevich
        One model per neuron.
    I : array_like (n,)
        Constant drive per neuron (the paper's units).
    T, dt : float
        Duration and Brian2's step in seconds (default 1 us).
    target : {"cython", "numpy"}
        Brian2 code generation target.

    Returns
    -------
    spike_times : list of ndarray
        Spike times in seconds per neuron (Brian2 stamps a spike at the start
        of the step in which ``v`` reaches ``v_peak``).
    """
    eqs = """
    dv/dt = (0.04*v**2 + 5*v + 140 - u + I) / ms : 1
    du/dt = a * (b*v - u) / ms : 1
    a : 1
    b : 1
    c : 1
    d : 1
    v_peak : 1
    I : 1
    """
    return _per_neuron_group(neurons, Izhikevich, I, T, dt, target, eqs, "v >= v_peak", "v = c; u += d",
                             "rk4", {})[0]


def brian2_adex(neurons, I, T, dt=1e-6, target="cython"):
    """Simulate unconnected AdEx neurons (each with its own parameters) in Brian2 with RK4.

    Parameters
    ----------
    neurons : sequence of AdEx
        One model per neuron, without refractory time. Brian2's RK4 follows
        the exponential divergence only up to a moderate cut-off: use
        ``v_peak`` a few ``delta_t`` above ``v_t`` (e.g. ``v_t + 5 delta_t``)
        in the models compared.
    I : array_like (n,)
        Constant current per neuron (pA).
    T, dt : float
        Duration and Brian2's step in seconds (default 1 us).
    target : {"cython", "numpy"}
        Brian2 code generation target.

    Returns
    -------
    spike_times : list of ndarray
        Spike times in seconds per neuron.
    """
    if any(n.tau_ref > 0 for n in neurons if isinstance(n, AdEx)):
        raise ValueError("neurons: the Brian2 AdEx cross-check supports tau_ref = 0 only")
    eqs = """
    dv/dt = (-g_l*(v - e_l) + g_l*delta_t*exp((v - v_t)/delta_t) - w + I) / c_m / ms : 1
    dw/dt = (a*(v - e_l) - w) / tau_w : 1
    c_m : 1
    g_l : 1
    e_l : 1
    v_t : 1
    delta_t : 1
    tau_w : second
    a : 1
    b : 1
    v_reset : 1
    v_peak : 1
    tau_ref : 1
    I : 1
    """
    return _per_neuron_group(neurons, AdEx, I, T, dt, target, eqs, "v > v_peak", "v = v_reset; w += b",
                             "rk4", {"tau_w": lambda b2: b2.second})[0]
