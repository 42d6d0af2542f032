r"""The CUBA benchmark network of Brette et al. (2007) in spikenet's normalised LIF units.

The published model (Brian's CUBA example) is, with ``V`` in mV,

.. math::

    \tau_m \dot V = (g_e + g_i) - (V - E_l),\quad \tau_e \dot g_e = -g_e,\quad
    \tau_i \dot g_i = -g_i,

``E_l = -49`` mV, ``V_th = -50`` mV, ``V_reset = -60`` mV, ``tau_m = 20`` ms,
``tau_ref = 5`` ms, ``tau_e = 5`` ms, ``tau_i = 10`` ms; an excitatory spike
adds ``w_e = 60 * 0.27 / 10 = 1.62`` mV to ``g_e``, an inhibitory one
``w_i = -20 * 4.5 / 10 = -9`` mV to ``g_i``; 4000 neurons, 80 % excitatory,
each pair connected with probability 0.02; initial ``V`` uniform in
``[V_reset, V_th]``.

Mapping to the normalised model ``tau_m dv/dt = J - v`` (``v_th = 1``,
``v_reset = 0``): ``v = (V - V_reset) / (V_th - V_reset) = (V + 60 mV) / 10 mV``.
Then the leak target ``E_l`` becomes the constant drive
``J = (E_l - V_reset) / 10 mV = 1.1`` (so the network is spontaneously
active), and ``g / 10 mV`` is the synaptic current. In spikenet a spike adds
``W / tau_s`` to the current, so ``W = tau_s * w / 10 mV``:
``W_e = 0.005 * 0.162 = 8.1e-4`` s and ``W_i = 0.01 * (-0.9) = -9e-3`` s.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import positive_float, positive_int
from spikenet.sim.network import Network
from spikenet.sim.neurons import LIF
from spikenet.sim.synapses import PSCFilter

__all__ = ["CUBA", "cuba_network"]

# Published parameters (Brette et al. 2007), in mV and s.
CUBA = {
    "E_l": -49.0, "V_th": -50.0, "V_reset": -60.0,
    "tau_m": 0.020, "tau_ref": 0.005, "tau_e": 0.005, "tau_i": 0.010,
    "w_e": 60 * 0.27 / 10, "w_i": -20 * 4.5 / 10,
    "p": 0.02, "exc_fraction": 0.8,
}


def cuba_network(n=4000, p=CUBA["p"], dt=1e-4, seed=None, batch=None, dtype=np.float64) -> Network:
    """Build the CUBA network (populations ``"exc"`` and ``"inh"``) in normalised units.

    Parameters
    ----------
    n : int
        Total number of neurons; 80 % excitatory (``"exc"``), 20 % inhibitory
        (``"inh"``). For ``n != 4000`` use ``p = 80 / n`` to keep about 80
        synapses per neuron (the scaled versions of the benchmark).
    p : float
        Connection probability of every (post, pre) pair.
    dt : float
        Time step in seconds.
    seed : None, int or numpy.random.Generator
        Seeds the connectivity and the initial voltages.
    batch, dtype
        As for :class:`~spikenet.sim.Network`.

    Returns
    -------
    Network
        Ready to ``run``; see the module docstring for the unit mapping.

    Examples
    --------
    >>> from spikenet.sim.cuba import cuba_network
    >>> net = cuba_network(n=400, p=0.2, seed=0)
    >>> res = net.run(0.05)
    >>> sorted(p.name for p in net.populations)
    ['exc', 'inh']
    """
    n = positive_int("n", n)
    p = positive_float("p", p, allow_zero=True)
    net = Network(dt=dt, seed=seed, batch=batch, dtype=dtype)
    scale = CUBA["V_th"] - CUBA["V_reset"]  # 10 mV
    lif = LIF(tau_m=CUBA["tau_m"], tau_ref=CUBA["tau_ref"], v_th=1.0, v_reset=0.0)
    J = (CUBA["E_l"] - CUBA["V_reset"]) / scale
    n_e = round(CUBA["exc_fraction"] * n)
    shape = lambda m: (m,) if batch is None else (net.n_batch, m)  # noqa: E731
    exc = net.add_population(n_e, lif, bias=J, init={"v": net.rng.uniform(0, 1, shape(n_e))}, name="exc")
    inh = net.add_population(n - n_e, lif, bias=J, init={"v": net.rng.uniform(0, 1, shape(n - n_e))},
                             name="inh")
    w_e = CUBA["tau_e"] * CUBA["w_e"] / scale
    w_i = CUBA["tau_i"] * CUBA["w_i"] / scale
    syn_e, syn_i = PSCFilter(CUBA["tau_e"]), PSCFilter(CUBA["tau_i"])
    for post in (exc, inh):
        net.connect(exc, post, w_e, synapse=syn_e, p=p)
        net.connect(inh, post, w_i, synapse=syn_i, p=p)
    return net
