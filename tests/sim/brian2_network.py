"""Brian2 equivalents of spikenet networks, for the cross-check tests (lazy brian2 import).

Brian2 runs with the ``numpy`` code-generation target (no compilation, so
the default test run stays fast and deterministic); the previous target is
restored afterwards.
"""

from __future__ import annotations

import contextlib

import numpy as np


@contextlib.contextmanager
def numpy_target():
    """Run Brian2 with ``prefs.codegen.target = 'numpy'`` inside the block."""
    import brian2 as b2

    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    try:
        yield b2
    finally:
        b2.prefs.codegen.target = old


def lif_poisson_brian2(bias, W, in_rows, in_cols, dt_spikenet, dt, T, tau_m, tau_ref, tau_s):
    """Normalised LIF neurons fed by input spikes through exponential synapses, in Brian2.

    Parameters
    ----------
    bias : ndarray (n,)
        Constant drive.
    W : ndarray (n, n_in)
        Weights (charge per spike, s), as in spikenet.
    in_rows, in_cols : ndarray
        Input spikes as (step of spikenet's raster, input index).
    dt_spikenet : float
        spikenet's step: raster row ``k`` must reach the neurons at
        ``(k + 1) * dt_spikenet``, so Brian2's generator emits it one Brian2
        step earlier (its synapses act at the end of the emitting step).
    dt, T : float
        Brian2 step and duration (s).

    Returns
    -------
    list of ndarray
        Spike times of each neuron (s).
    """
    with numpy_target() as b2:
        b2.start_scope()
        b2.defaultclock.dt = dt * b2.second
        n, n_in = W.shape
        ns = {"tau_m": tau_m * b2.second, "tau_s": tau_s * b2.second}
        G = b2.NeuronGroup(
            n,
            """dv/dt = (bias + I - v) / tau_m : 1 (unless refractory)
               dI/dt = -I / tau_s : 1
               bias : 1""",
            threshold="v >= 1", reset="v = 0", refractory=tau_ref * b2.second, method="exact",
            namespace=ns,
        )
        G.bias = bias
        times = ((in_rows + 1) * dt_spikenet - dt) * b2.second
        inp = b2.SpikeGeneratorGroup(n_in, in_cols, times)
        S = b2.Synapses(inp, G, "w : second", on_pre="I += w / tau_s", namespace=ns)
        post, pre = np.nonzero(W)
        S.connect(i=pre, j=post)
        S.w = W[post, pre] * b2.second
        mon = b2.SpikeMonitor(G)
        b2.Network(G, inp, S, mon).run(T * b2.second)
        return [np.asarray(t / b2.second) for t in mon.spike_trains().values()]


def cuba_brian2(net, T):
    """Run the published CUBA model (mV units) in Brian2 with the connectivity and initial state of ``net``.

    ``net`` is a :func:`spikenet.sim.cuba.cuba_network`; its Bernoulli
    connectivity and initial normalised voltages are mapped back to mV
    (``V = -60 mV + 10 mV * v``).

    Returns
    -------
    dict
        ``{"exc": spike_trains, "inh": spike_trains}`` in seconds.
    """
    from spikenet.sim.cuba import CUBA

    pops = {p.name: p for p in net.populations}
    n_e, n_i = pops["exc"].n, pops["inh"].n
    N = n_e + n_i
    off = {"exc": 0, "inh": n_e}
    with numpy_target() as b2:
        b2.start_scope()
        b2.defaultclock.dt = net.dt * b2.second
        mV, second = b2.mV, b2.second
        ns = {
            "El": CUBA["E_l"] * mV, "taum": CUBA["tau_m"] * second, "taue": CUBA["tau_e"] * second,
            "taui": CUBA["tau_i"] * second, "Vt": CUBA["V_th"] * mV, "Vr": CUBA["V_reset"] * mV,
            "we": CUBA["w_e"] * mV, "wi": CUBA["w_i"] * mV,
        }
        P = b2.NeuronGroup(
            N,
            """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
               dge/dt = -ge / taue : volt
               dgi/dt = -gi / taui : volt""",
            threshold="v > Vt", reset="v = Vr", refractory=CUBA["tau_ref"] * second, method="exact",
            namespace=ns,
        )
        v0 = np.concatenate([pops["exc"].init["v"][0], pops["inh"].init["v"][0]])
        P.v = (CUBA["V_reset"] + (CUBA["V_th"] - CUBA["V_reset"]) * v0) * mV
        syn = {}
        for name, target, var in (("exc", "ge", "we"), ("inh", "gi", "wi")):
            S = b2.Synapses(P, P, on_pre=f"{target} += {var}", namespace=ns)
            pre_all, post_all = [], []
            for c in net.connections:
                if c.pre.name != name:
                    continue
                w = c.weights.tocoo()
                post_all.append(w.row + off[c.post.name])
                pre_all.append(w.col + off[name])
            S.connect(i=np.concatenate(pre_all), j=np.concatenate(post_all))
            syn[name] = S
        mon = b2.SpikeMonitor(P)
        b2.Network(P, *syn.values(), mon).run(T * second)
        trains = [np.asarray(t / second) for t in mon.spike_trains().values()]
    return {"exc": trains[:n_e], "inh": trains[n_e:]}


def match_fraction(a, b, tol):
    """Fraction of spikes matched one-to-one within ``tol`` between two lists of spike trains.

    Greedy in time order per neuron; returns matched / max(total spikes of a, of b).
    """
    matched = 0
    for ta, tb in zip(a, b, strict=True):
        i = j = 0
        while i < len(ta) and j < len(tb):
            if abs(ta[i] - tb[j]) <= tol:
                matched += 1
                i += 1
                j += 1
            elif ta[i] < tb[j]:
                i += 1
            else:
                j += 1
    total = max(sum(len(t) for t in a), sum(len(t) for t in b))
    return matched / total if total else 1.0


def coba_brian2(net, T, method="euler", standalone_dir=None):
    """Run the published COBA model (mV units, Brian's COBA example) in Brian2 like ``net``.

    ``net`` is a :func:`spikenet.sim.coba.coba_network`; its connectivity,
    initial voltages (``V = -60 mV + 10 mV * v``) and initial conductances
    are used. Brian2 integrates with ``method`` (the example's ``"euler"``),
    with the ``numpy`` target, or, given ``standalone_dir``, as a
    ``cpp_standalone`` project built there (once per process: Brian2's
    device stays set).

    Returns
    -------
    dict
        ``{"exc": spike_trains, "inh": spike_trains}`` in seconds.
    """
    from spikenet.sim.coba import COBA, coba_synapses

    pops = {p.name: p for p in net.populations}
    n_e, n_i = pops["exc"].n, pops["inh"].n
    off = {"exc": 0, "inh": n_e}
    syn_e, syn_i = coba_synapses()
    if standalone_dir is not None:
        import brian2

        brian2.set_device("cpp_standalone", directory=str(standalone_dir))
    with numpy_target() as b2:
        b2.start_scope()
        b2.defaultclock.dt = net.dt * b2.second
        mV, second = b2.mV, b2.second
        ns = {
            "El": COBA["E_l"] * mV, "Ee": COBA["E_e"] * mV, "Ei": COBA["E_i"] * mV,
            "taum": COBA["tau_m"] * second, "taue": COBA["tau_e"] * second, "taui": COBA["tau_i"] * second,
            "Vt": COBA["V_th"] * mV, "Vr": COBA["V_reset"] * mV, "we": COBA["w_e"], "wi": COBA["w_i"],
        }
        P = b2.NeuronGroup(
            n_e + n_i,
            """dv/dt = (-(v - El) + ge * (Ee - v) + gi * (Ei - v)) / taum : volt (unless refractory)
               dge/dt = -ge / taue : 1
               dgi/dt = -gi / taui : 1""",
            threshold="v > Vt", reset="v = Vr", refractory=COBA["tau_ref"] * second, method=method,
            namespace=ns,
        )
        v0 = np.concatenate([pops["exc"].init["v"][0], pops["inh"].init["v"][0]])
        P.v = (COBA["V_reset"] + (COBA["V_th"] - COBA["V_reset"]) * v0) * mV
        P.ge = np.concatenate([net._cond_init[(pops[k].index, syn_e)][0] for k in ("exc", "inh")])
        P.gi = np.concatenate([net._cond_init[(pops[k].index, syn_i)][0] for k in ("exc", "inh")])
        syn = {}
        for name, target, var in (("exc", "ge", "we"), ("inh", "gi", "wi")):
            S = b2.Synapses(P, P, on_pre=f"{target} += {var}", namespace=ns)
            pre_all, post_all = [], []
            for c in net.connections:
                if c.pre.name != name:
                    continue
                w = c.weights.tocoo()
                post_all.append(w.row + off[c.post.name])
                pre_all.append(w.col + off[name])
            S.connect(i=np.concatenate(pre_all), j=np.concatenate(post_all))
            syn[name] = S
        mon = b2.SpikeMonitor(P)
        b2.Network(P, *syn.values(), mon).run(T * second)
        trains = [np.asarray(t / second) for t in mon.spike_trains().values()]
    return {"exc": trains[:n_e], "inh": trains[n_e:]}
