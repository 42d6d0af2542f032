r"""The COBA benchmark network of Brette et al. (2007) in spikenet's normalised LIF units.

Benchmark 1 of Brette et al. (2007), after Vogels & Abbott (2005), as in
Brian's ``COBA`` example: 4,000 LIF neurons (80 % excitatory), each pair
connected with probability 0.02, no external input; with ``V`` in mV and the
conductances in units of the leak conductance,

.. math::

    \tau_m \dot V = -(V - E_l) + g_e (E_e - V) + g_i (E_i - V),\quad
    \tau_e \dot g_e = -g_e,\quad \tau_i \dot g_i = -g_i,

``E_l = -60`` mV, ``E_e = 0`` mV, ``E_i = -80`` mV, ``V_th = -50`` mV,
``V_reset = -60`` mV, ``tau_m = 20`` ms, ``tau_ref = 5`` ms, ``tau_e = 5`` ms,
``tau_i = 10`` ms; an excitatory spike adds ``w_e = 0.6`` to ``g_e`` (6 nS
for a 10 nS leak), an inhibitory one ``w_i = 6.7`` to ``g_i`` (67 nS). The
initial state is random: ``V = E_l + (5 xi_1 - 5)`` mV, ``g_e = 1.5 xi_2 + 4``,
``g_i = 12 xi_3 + 20`` with standard normal ``xi``; the initial conductances
keep the network active, which has no other drive.

Mapping to the normalised model (``v_th = 1``, ``v_reset = 0``):
``v = (V - V_reset) / (V_th - V_reset) = (V + 60 mV) / 10 mV``, so ``J = 0``
and the reversal potentials become ``e_rev = 6`` and ``-2``. A spike of weight
``W`` adds ``W / tau_s`` to the conductance, so ``W_e = 0.6 tau_e = 3e-3`` s and
``W_i = 6.7 tau_i = 0.067`` s.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import positive_float, positive_int
from spikenet.sim.network import Network
from spikenet.sim.neurons import LIF
from spikenet.sim.synapses import Conductance

__all__ = ["COBA", "coba_network"]

# Published parameters (Brette et al. 2007, benchmark 1), in mV, s and units of the leak conductance.
COBA = {
    "E_l": -60.0, "E_e": 0.0, "E_i": -80.0, "V_th": -50.0, "V_reset": -60.0,
    "tau_m": 0.020, "tau_ref": 0.005, "tau_e": 0.005, "tau_i": 0.010,
    "w_e": 0.6, "w_i": 6.7,
    "p": 0.02, "exc_fraction": 0.8,
    # initial state: V = E_l + v_mean + v_sd * xi (mV); g = g_mean + g_sd * xi
    "v0_mean": -5.0, "v0_sd": 5.0, "ge0_mean": 4.0, "ge0_sd": 1.5, "gi0_mean": 20.0, "gi0_sd": 12.0,
}


def coba_synapses() -> tuple[Conductance, Conductance]:
    """The excitatory and inhibitory synapses of COBA in normalised units, ``(exc, inh)``."""
    scale = COBA["V_th"] - COBA["V_reset"]
    return (Conductance(COBA["tau_e"], (COBA["E_e"] - COBA["V_reset"]) / scale),
            Conductance(COBA["tau_i"], (COBA["E_i"] - COBA["V_reset"]) / scale))


def coba_network(n=4000, p=COBA["p"], dt=1e-4, seed=None, batch=None, dtype=np.float64) -> Network:
    """Build the COBA network (populations ``"exc"`` and ``"inh"``) in normalised units.

    Parameters
    ----------
    n : int
        Total number of neurons; 80 % excitatory (``"exc"``), 20 % inhibitory
        (``"inh"``). For ``n != 4000`` use ``p = 80 / n`` to keep about 80
        synapses per neuron.
    p : float
        Connection probability of every (post, pre) pair.
    dt : float
        Time step in seconds.
    seed : None, int or numpy.random.Generator
        Seeds the connectivity and the initial state.
    batch, dtype
        As for :class:`~spikenet.sim.Network`.

    Returns
    -------
    Network
        Ready to ``run``; the initial conductances are set with
        :meth:`~spikenet.sim.Network.set_conductance`. See the module
        docstring for the model and the unit mapping.

    Examples
    --------
    >>> from spikenet.sim.coba import coba_network
    >>> net = coba_network(n=400, p=0.2, seed=0)
    >>> res = net.run(0.02)
    >>> sorted(p.name for p in net.populations)
    ['exc', 'inh']
    """
    n = positive_int("n", n)
    p = positive_float("p", p, allow_zero=True)
    net = Network(dt=dt, seed=seed, batch=batch, dtype=dtype)
    scale = COBA["V_th"] - COBA["V_reset"]  # 10 mV
    lif = LIF(tau_m=COBA["tau_m"], tau_ref=COBA["tau_ref"], v_th=1.0, v_reset=0.0)
    n_e = round(COBA["exc_fraction"] * n)
    syn_e, syn_i = coba_synapses()
    # the initial state from its own generator, so that the connectivity is
    # the same with or without a batch
    rng = np.random.default_rng(net.rng.integers(2**63))
    pops = []
    for name, m in (("exc", n_e), ("inh", n - n_e)):
        shape = (m,) if batch is None else (net.n_batch, m)
        V0 = COBA["E_l"] + COBA["v0_mean"] + COBA["v0_sd"] * rng.standard_normal(shape)  # mV
        v0 = (V0 - COBA["V_reset"]) / scale
        pops.append(net.add_population(m, lif, init={"v": v0}, name=name))
    exc, inh = pops
    for post in pops:
        net.connect(exc, post, COBA["w_e"] * COBA["tau_e"], synapse=syn_e, p=p)
        net.connect(inh, post, COBA["w_i"] * COBA["tau_i"], synapse=syn_i, p=p)
    for post in pops:
        shape = (post.n,) if batch is None else (net.n_batch, post.n)
        net.set_conductance(post, syn_e, COBA["ge0_mean"] + COBA["ge0_sd"] * rng.standard_normal(shape))
        net.set_conductance(post, syn_i, COBA["gi0_mean"] + COBA["gi0_sd"] * rng.standard_normal(shape))
    return net
