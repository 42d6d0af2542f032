r"""Brunel (2000) model A: a sparse network of excitatory and inhibitory LIF neurons with voltage jumps.

``n_e`` excitatory and ``n_e / 4`` inhibitory neurons, ``tau_m = 20`` ms,
threshold ``theta = 20`` mV, reset ``V_r = 10`` mV, refractory period 2 ms.
Each neuron receives ``c_e`` excitatory and ``c_e / 4`` inhibitory synapses
(fixed in-degree, no multapses) that make the voltage jump by ``J`` and
``-g J`` after the delay ``D``, and ``c_e`` excitatory synapses from Poisson
neurons outside the network, each firing at ``nu_ext = eta * nu_thr`` with
``nu_thr = theta / (J c_e tau_m)`` (the external rate that brings the mean
input to threshold). The regimes of the paper's Fig. 8 follow from the
relative inhibition ``g`` and ``eta``: synchronous regular (SR, g = 3,
eta = 2), asynchronous irregular (AI, g = 5, eta = 2), synchronous irregular
with fast (SI-fast, g = 6, eta = 4) and slow oscillations (SI-slow, g = 4.5,
eta = 0.9).

In spikenet's normalised LIF the voltage is measured in units of the
threshold: ``v = V / theta``, so a jump of ``J`` mV is ``J / theta`` and the
reset is ``V_r / theta = 0.5``. The external Poisson neurons are ``n_ext``
independent sources shared by the network (each neuron draws ``c_e`` of
them), fed in as a spike raster.

Reference: N. Brunel (2000). Dynamics of sparsely connected networks of
excitatory and inhibitory spiking neurons. *Journal of Computational
Neuroscience* 8, 183-208.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import as_rng, finite_float, positive_float, positive_int
from spikenet.sim.connectivity import bernoulli_positions, fixed_indegree
from spikenet.sim.network import Network
from spikenet.sim.neurons import LIF
from spikenet.sim.synapses import Delta

__all__ = ["BRUNEL", "REGIMES", "brunel_network"]

#: Published parameters (mV and s).
BRUNEL = {"theta": 20.0, "v_reset": 10.0, "tau_m": 0.020, "tau_ref": 0.002, "J": 0.1, "D": 0.0015}
#: The four regimes of Brunel (2000) Fig. 8: (g, eta = nu_ext / nu_thr).
REGIMES = {"SR": (3.0, 2.0), "AI": (5.0, 2.0), "SI-fast": (6.0, 4.0), "SI-slow": (4.5, 0.9)}


def brunel_network(g=5.0, eta=2.0, T=1.0, n_e=10000, c_e=1000, J=BRUNEL["J"], D=BRUNEL["D"], dt=1e-4,
                   n_ext=None, seed=None) -> Network:
    """Build Brunel's model A (populations ``"E"`` and ``"I"``) for a run of ``T`` seconds.

    Parameters
    ----------
    g : float
        Relative strength of inhibition (inhibitory jumps are ``-g J``).
    eta : float
        External rate in units of ``nu_thr = theta / (J c_e tau_m)``.
    T : float
        Duration the external input covers (s): the network runs up to ``T``.
    n_e, c_e : int
        Excitatory neurons and excitatory in-degree; ``n_e / 4`` inhibitory
        neurons and in-degree ``c_e / 4``. For a smaller network keep
        ``J c_e`` (the mean input) by scaling ``J`` with ``1000 / c_e``.
    J : float
        Excitatory jump in mV (0.1 mV in the paper).
    D : float
        Transmission delay in seconds (1.5 ms), a whole number of steps.
    dt : float
        Time step in seconds.
    n_ext : int, optional
        Number of external Poisson sources (default ``20 c_e``).
    seed : None, int or numpy.random.Generator
        Seeds the connectivity, the external spikes and the initial voltages
        (uniform between 0 and threshold).

    Returns
    -------
    Network
        With populations ``"E"`` and ``"I"``, ready to run for up to ``T``.

    Examples
    --------
    >>> from spikenet.sim.brunel import brunel_network
    >>> net = brunel_network(g=5.0, eta=2.0, T=0.2, n_e=800, c_e=80, J=1.25, seed=0)
    >>> res = net.run(0.2)
    >>> bool(res.rates("E").mean() > 1.0)
    True
    """
    g = finite_float("g", g)
    eta = positive_float("eta", eta, allow_zero=True)
    T = positive_float("T", T)
    n_e, c_e = positive_int("n_e", n_e), positive_int("c_e", c_e)
    J = positive_float("J", J)
    if n_e < 4 or c_e < 4:
        raise ValueError(f"n_e and c_e must be at least 4 (a quarter of each is inhibitory), "
                         f"got {n_e}, {c_e}")
    if c_e > n_e:
        raise ValueError(f"c_e ({c_e}) cannot exceed n_e ({n_e}) without multapses")
    n_i, c_i = n_e // 4, c_e // 4
    n_ext = 20 * c_e if n_ext is None else positive_int("n_ext", n_ext)
    if n_ext < c_e:
        raise ValueError(f"n_ext ({n_ext}) must be at least c_e ({c_e})")
    rng = as_rng(seed)
    theta = BRUNEL["theta"]
    lif = LIF(tau_m=BRUNEL["tau_m"], tau_ref=BRUNEL["tau_ref"], v_th=1.0, v_reset=BRUNEL["v_reset"] / theta)
    net = Network(dt=dt, seed=rng)
    E = net.add_population(n_e, lif, init={"v": rng.uniform(0.0, 1.0, n_e)}, name="E")
    I = net.add_population(n_i, lif, init={"v": rng.uniform(0.0, 1.0, n_i)}, name="I")
    j = J / theta
    for post in (E, I):
        for pre, k, w in ((E, c_e, j), (I, c_i, -g * j)):
            syn = fixed_indegree(pre.n, post.n, k, multapses=False, weight=w, seed=rng)
            net.connect(pre, post, syn.to_sparse(), synapse=Delta(), delay=D)
    nu_thr = theta / (J * c_e * BRUNEL["tau_m"])
    steps = round(T / dt)
    raster = np.zeros((steps, n_ext), dtype=bool)
    raster.ravel()[bernoulli_positions(rng, steps * n_ext, eta * nu_thr * dt)] = True
    for post in (E, I):
        w = fixed_indegree(n_ext, post.n, c_e, multapses=False, weight=j, seed=rng).to_sparse()
        net.add_input(post, spikes=raster, weights=w, synapse=Delta())
    return net
