r"""The Potjans & Diesmann (2014) cortical microcircuit: 8 populations of LIF neurons with exponential PSCs.

The model represents the neurons under 1 mm^2 of early sensory cortex: an
excitatory (``E``) and an inhibitory (``I``) population in each of the layers
L2/3, L4, L5 and L6, 77,169 neurons and about 3 x 10^8 synapses at full
scale. Every neuron is a leaky integrate-and-fire neuron with exponentially
decaying synaptic currents (NEST ``iaf_psc_exp``): ``C_m = 250`` pF,
``tau_m = 10`` ms, ``E_L = V_reset = -65`` mV, ``V_th = -50`` mV,
``t_ref = 2`` ms, ``tau_syn = 0.5`` ms.

Connectivity. Population ``j`` projects onto population ``i`` with a fixed
total number of synapses ``K_ij = ln(1 - p_ij) / ln(1 - 1 / (N_i N_j))``,
whose pairs are drawn independently (multapses and autapses allowed), from
the connection probabilities ``p_ij`` of the paper's Table 5. Weights are
drawn per synapse from a normal distribution whose mean gives a PSP peak of
0.15 mV (excitatory; twice that from L4E onto L2/3E; ``g = -4`` times that
from inhibitory neurons) and whose standard deviation is 10 % of the mean,
redrawn until the sign is right. Delays are normal, 1.5 ms (excitatory) or
0.75 ms (inhibitory) with a standard deviation of half the mean, redrawn
below half a time step and rounded to whole steps.

Background. Each neuron receives ``K_ext`` external synapses (1,500 to 2,900
per population) from Poisson sources firing at 8 Hz (``background="poisson"``)
or, in their place, the direct current with the same mean
(``background="dc"``, the setting recommended for benchmarks).

Scaling. ``n_scale`` multiplies the number of neurons and ``k_scale`` the
number of synapses per neuron (in-degree). With ``k_scale < 1`` the weights
are multiplied by ``1 / sqrt(k_scale)`` and a DC input restores the mean input
that the missing synapses would have carried at the published full-scale
rates, so the mean and the variance of the input stay those of the full
model (van Albada et al. 2015).

Units. spikenet's LIF is normalised: ``v = (V - E_L) / (V_th - E_L)``
(threshold 1, reset 0; 15 mV per unit), and its drive is
``J = I tau_m / (C_m (V_th - E_L))``. A NEST weight ``w`` (the PSC amplitude
in pA) is the spikenet weight ``W = w tau_syn tau_m / (C_m (V_th - E_L))``,
the charge of the PSC in drive units x seconds (a spike adds ``W / tau_syn``
to the synaptic current, see :class:`~spikenet.sim.PSCFilter`).

The numbers follow the PyNEST implementation of the model published with
NEST (network, neuron and stimulus parameters, the optimised initial
voltages and the full-scale rates used for the DC compensation).

References
----------
T. C. Potjans and M. Diesmann (2014). The cell-type specific cortical
microcircuit: relating structure and activity in a full-scale spiking
network model. *Cerebral Cortex* 24(3), 785-806.

S. J. van Albada, M. Helias and M. Diesmann (2015). Scalability of
asynchronous networks is limited by one-to-one mapping between effective
connectivity and correlations. *PLoS Computational Biology* 11(9), e1004490.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikenet._validation import as_rng, choice, positive_float
from spikenet.sim.connectivity import Normal, SynapseList, fixed_total_number
from spikenet.sim.network import Network
from spikenet.sim.neurons import LIF
from spikenet.sim.synapses import PSCFilter

__all__ = [
    "CONN_PROBS",
    "FULL_MEAN_RATES",
    "FULL_NUM_NEURONS",
    "NEURON",
    "POPULATIONS",
    "MicrocircuitParameters",
    "MicrocircuitStats",
    "microcircuit_network",
    "microcircuit_parameters",
    "microcircuit_stats",
    "psc_over_psp",
]

#: Population names, in the model's order (target rows and source columns of the matrices).
POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
#: Neurons per population at full scale.
FULL_NUM_NEURONS = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: Mean rates (Hz) of the full-scale model with Poisson background (published with NEST's implementation).
FULL_MEAN_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
#: Connection probabilities ``p[i, j]`` from population ``j`` onto ``i`` (Potjans & Diesmann Table 5).
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
])
#: External (background) in-degrees per population.
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: Neuron parameters (NEST ``iaf_psc_exp`` units: mV, pF; times in seconds).
NEURON = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "C_m": 250.0, "tau_m": 0.010, "tau_syn": 0.0005,
          "t_ref": 0.002}
#: Initial membrane voltages (mV): normal per population, "optimized" (reduces the start transient)
#: or "original" (the same for every population).
V0 = {"optimized": (np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]),
                    np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])),
      "original": (np.full(8, -58.0), np.full(8, 10.0))}
PSP_EXC = 0.15  # mV, mean excitatory PSP peak
G = -4.0  # relative inhibitory PSP
WEIGHT_REL_STD = 0.1
DELAY_EXC, DELAY_INH = 1.5e-3, 0.75e-3  # s, mean delays
DELAY_REL_STD = 0.5
BG_RATE = 8.0  # Hz, rate of each external source
DELAY_POISSON = 1.5e-3  # s


def psc_over_psp(c_m=NEURON["C_m"], tau_m=NEURON["tau_m"], tau_syn=NEURON["tau_syn"]) -> float:
    r"""PSC amplitude (pA) per mV of PSP peak for an exponential current into a passive membrane.

    An input current ``w e^{-t/tau_syn}`` (pA) gives the voltage
    ``w tau_m tau_syn / (C_m (tau_m - tau_syn)) (e^{-t/tau_m} - e^{-t/tau_syn})``,
    whose maximum, at ``t* = tau_m tau_syn ln(tau_m / tau_syn) / (tau_m - tau_syn)``,
    is the PSP.

    Parameters
    ----------
    c_m : float
        Membrane capacitance (pF).
    tau_m, tau_syn : float
        Membrane and synaptic time constants (s), different from each other.

    Returns
    -------
    float
        ``w / PSP`` in pA/mV (about 585.4 for the model's neurons).
    """
    c_m, tau_m, tau_syn = (positive_float(n, v) for n, v in (("c_m", c_m), ("tau_m", tau_m),
                                                               ("tau_syn", tau_syn)))
    if tau_m == tau_syn:
        raise ValueError("tau_m and tau_syn must differ")
    t_peak = tau_m * tau_syn * np.log(tau_m / tau_syn) / (tau_m - tau_syn)
    # mV per pA of amplitude: pA x s / pF is V, hence the 1e3
    shape = np.exp(-t_peak / tau_m) - np.exp(-t_peak / tau_syn)
    peak = 1e3 * tau_m * tau_syn / (c_m * (tau_m - tau_syn)) * shape
    return float(1.0 / peak)


@dataclass(frozen=True, eq=False)
class MicrocircuitParameters:
    """The derived parameters of a scaled microcircuit (NEST units: pA, mV; times in s).

    Attributes
    ----------
    n_scale, k_scale : float
        Scale factors of the neuron numbers and of the in-degrees.
    background : str
        ``"dc"`` or ``"poisson"``.
    num_neurons : ndarray (8,) int64
        Neurons per population.
    num_synapses : ndarray (8, 8) int64
        Synapses from population ``j`` onto population ``i`` (fixed total number).
    psc_mean : ndarray (8, 8)
        Mean PSC amplitude (pA) of the synapses from ``j`` onto ``i``.
    psc_ext : float
        PSC amplitude (pA) of the external synapses.
    ext_indegree : ndarray (8,) int64
        External synapses per neuron.
    dc : ndarray (8,)
        Direct current per population (pA): the DC background and the
        compensation of scaled in-degrees.
    delay_mean : ndarray (8, 8)
        Mean delay (s) of the synapses from ``j`` onto ``i``.
    """

    n_scale: float
    k_scale: float
    background: str
    num_neurons: np.ndarray
    num_synapses: np.ndarray
    psc_mean: np.ndarray
    psc_ext: float
    ext_indegree: np.ndarray
    dc: np.ndarray
    delay_mean: np.ndarray

    @property
    def drive_per_pa(self) -> float:
        """Normalised drive ``J`` per pA of current: ``tau_m / (C_m (V_th - E_L))`` in 1/pA."""
        return 1e3 * NEURON["tau_m"] / (NEURON["C_m"] * (NEURON["V_th"] - NEURON["E_L"]))


def _full_num_synapses() -> np.ndarray:
    prod = np.outer(FULL_NUM_NEURONS, FULL_NUM_NEURONS).astype(np.float64)
    return np.log(1.0 - CONN_PROBS) / np.log((prod - 1.0) / prod)


def microcircuit_parameters(n_scale=0.1, k_scale=None, background="dc") -> MicrocircuitParameters:
    """Derive neuron and synapse numbers, weights and DC inputs of the scaled model.

    Parameters
    ----------
    n_scale : float
        Fraction of the full-scale neuron numbers, in (0, 1].
    k_scale : float, optional
        Fraction of the full-scale in-degrees, in (0, 1] (default: 1, the full
        in-degree). Below 1 the weights grow by ``1 / sqrt(k_scale)`` and a DC
        input compensates the mean (see the module docstring).
    background : {"dc", "poisson"}
        External input: Poisson sources or the DC that has their mean.

    Returns
    -------
    MicrocircuitParameters
    """
    n_scale = positive_float("n_scale", n_scale)
    k_scale = 1.0 if k_scale is None else positive_float("k_scale", k_scale)
    if n_scale > 1.0:
        raise ValueError(f"n_scale must be in (0, 1], got {n_scale}")
    if k_scale > 1.0:
        raise ValueError(f"k_scale must be in (0, 1], got {k_scale}")
    background = choice("background", background, ("dc", "poisson"))
    full_syn = _full_num_synapses()
    num_neurons = np.round(FULL_NUM_NEURONS * n_scale).astype(np.int64)
    if np.any(num_neurons < 1):
        raise ValueError(f"n_scale = {n_scale} leaves a population without neurons")
    num_synapses = np.round(full_syn * n_scale * k_scale).astype(np.int64)
    ext_indegree = np.round(K_EXT * k_scale).astype(np.int64)
    psp = np.zeros((8, 8))
    psp[:, 0::2] = PSP_EXC
    psp[:, 1::2] = PSP_EXC * G
    psp[0, 2] = 2.0 * PSP_EXC  # L4E -> L2/3E
    factor = psc_over_psp()
    psc = psp * factor
    psc_ext = PSP_EXC * factor
    tau_syn = NEURON["tau_syn"]
    dc = np.zeros(8) if background == "poisson" else BG_RATE * K_EXT * psc_ext * tau_syn
    if k_scale != 1.0:
        indegree = full_syn / FULL_NUM_NEURONS[:, None]
        rec = np.sum(psc * indegree * FULL_MEAN_RATES, axis=1)
        dc = dc + tau_syn * (1.0 - np.sqrt(k_scale)) * rec
        if background == "poisson":
            dc = dc + tau_syn * (1.0 - np.sqrt(k_scale)) * psc_ext * K_EXT * BG_RATE
        psc = psc / np.sqrt(k_scale)
        psc_ext = psc_ext / np.sqrt(k_scale)
    delay = np.zeros((8, 8))
    delay[:, 0::2] = DELAY_EXC
    delay[:, 1::2] = DELAY_INH
    return MicrocircuitParameters(n_scale, k_scale, background, num_neurons, num_synapses, psc,
                                  float(psc_ext), ext_indegree, dc, delay)


def _connect_projection(net, src, dst, syn, dt, synapse):
    """Connect one projection given as a SynapseList (weights already in spikenet units, delays in s).

    One connection: ``connect`` keeps every synapse with its own delay,
    those of pairs with several synapses (multapses) included.
    """
    steps = np.maximum(np.floor(syn.delay / dt + 0.5), 1.0)  # NEST rounds delays to the nearest step, >= 1
    net.connect(src, dst, SynapseList(syn.pre, syn.post, syn.shape, syn.weight, steps * dt), synapse=synapse)


def microcircuit_network(n_scale=0.1, k_scale=None, background="dc", T=None, v0="optimized", dt=1e-4,
                         seed=None, dtype=np.float64, threads=None) -> Network:
    """Build the Potjans & Diesmann (2014) microcircuit as a spikenet :class:`~spikenet.sim.Network`.

    Parameters
    ----------
    n_scale : float
        Fraction of the full-scale neuron numbers (0.1: 7,717 neurons).
    k_scale : float, optional
        Fraction of the full in-degrees (default 1: full in-degree). Below 1
        the weights are scaled up and a DC input compensates (as NEST's
        implementation does).
    background : {"dc", "poisson"}
        ``"dc"``: a constant current with the mean of the Poisson input.
        ``"poisson"``: every neuron gets its own Poisson train of rate
        ``8 Hz x K_ext`` through the external weight, which needs ``T``;
        it is fed as a spike raster of ``T / dt`` rows and, per neuron, one
        column per bit of the largest spike count drawn in one step (about
        four: the count is written in binary, column ``q`` weighing ``2^q``),
        so it costs about ``4 T / dt`` bytes per neuron.
    T : float, optional
        Duration (s) the Poisson background covers (required for it).
    v0 : {"optimized", "original"}
        Initial voltages: normal per population with NEST's optimised means
        and spreads, or -58 +- 10 mV for all.
    dt : float
        Time step (s); delays are rounded to whole steps (at least one).
    seed : None, int or numpy.random.Generator
        Seeds the connectivity, weights, delays, initial voltages and the
        Poisson background.
    dtype : numpy.float64 or numpy.float32
        State type of the network.
    threads : None or int
        As for :class:`~spikenet.sim.Network`.

    Returns
    -------
    Network
        Populations named as :data:`POPULATIONS`; the network's
        ``microcircuit`` attribute holds the :class:`MicrocircuitParameters`.

    Examples
    --------
    >>> from spikenet.sim.microcircuit import microcircuit_network, microcircuit_stats
    >>> net = microcircuit_network(n_scale=0.01, k_scale=0.1, seed=1)
    >>> res = net.run(0.05)
    >>> stats = microcircuit_stats(res, t_start=0.0)
    >>> stats.rates.shape
    (8,)
    """
    par = microcircuit_parameters(n_scale, k_scale, background)
    dt = positive_float("dt", dt)
    v0 = choice("v0", v0, tuple(V0))
    if par.background == "poisson":
        if T is None:
            raise ValueError("T (the duration of the Poisson background, s) is required with "
                             "background='poisson'")
        T = positive_float("T", T)
    rng = as_rng(seed)
    scale = 15.0  # mV per unit: V_th - E_L
    kdrive = par.drive_per_pa
    tau_syn = NEURON["tau_syn"]
    lif = LIF(tau_m=NEURON["tau_m"], tau_ref=NEURON["t_ref"], v_th=1.0,
              v_reset=(NEURON["V_reset"] - NEURON["E_L"]) / scale)
    net = Network(dt=dt, seed=rng, dtype=dtype, threads=threads)
    mean, std = V0[v0]
    pops = []
    for i, name in enumerate(POPULATIONS):
        n = int(par.num_neurons[i])
        v_init = (rng.normal(mean[i], std[i], n) - NEURON["E_L"]) / scale
        pops.append(net.add_population(n, lif, bias=par.dc[i] * kdrive, init={"v": v_init}, name=name))
    synapse = PSCFilter(tau_syn)
    for i in range(8):
        for j in range(8):
            k = int(par.num_synapses[i, j])
            if k == 0:
                continue
            m = par.psc_mean[i, j]
            low, high = (0.0, None) if m > 0 else (None, 0.0)
            w = Normal(m * kdrive * tau_syn, abs(m) * WEIGHT_REL_STD * kdrive * tau_syn, low=low, high=high)
            dm = par.delay_mean[i, j]
            d = Normal(dm, dm * DELAY_REL_STD, low=0.5 * dt)
            syn = fixed_total_number(pops[j].n, pops[i].n, k, weight=w, delay=d, seed=rng)
            _connect_projection(net, pops[j], pops[i], syn, dt, synapse)
            del syn
    if par.background == "poisson":
        for i, pop in enumerate(pops):
            _poisson_background(net, pop, BG_RATE * par.ext_indegree[i], par.psc_ext * kdrive * tau_syn, T,
                                dt, synapse, rng)
    net.microcircuit = par
    return net


def _poisson_background(net, pop, rate, weight, T, dt, synapse, rng):
    """Independent Poisson trains (``rate`` Hz per neuron, PSC charge ``weight``) as a spike raster.

    The count of a neuron in a step is written in binary over ``m`` columns
    (column ``q`` holds bit ``q`` and carries the weight ``2^q weight``), ``m``
    the bits of the largest count drawn, so the input is exactly the Poisson
    counts times the weight.
    """
    import scipy.sparse as sp

    steps = round(T / dt)
    counts = rng.poisson(rate * dt, size=(steps, pop.n))
    m = max(int(counts.max()).bit_length(), 1)
    raster = np.empty((steps, pop.n, m), dtype=bool)
    for q in range(m):
        raster[:, :, q] = (counts >> q) & 1
    del counts
    cols = np.arange(pop.n * m)
    w = sp.csr_matrix((weight * 2.0 ** (cols % m), (cols // m, cols)), shape=(pop.n, pop.n * m))
    net.add_input(pop, spikes=raster.reshape(steps, pop.n * m), weights=w, synapse=synapse)


@dataclass(frozen=True)
class MicrocircuitStats:
    """Per-population activity statistics of a microcircuit run (arrays in :data:`POPULATIONS` order).

    Attributes
    ----------
    rates : ndarray (8,)
        Mean firing rate over neurons (Hz).
    rate_std : ndarray (8,)
        Standard deviation of the neurons' rates (Hz).
    cv : ndarray (8,)
        Mean ISI coefficient of variation over neurons with at least
        ``min_isis`` intervals (NaN when none has).
    n_spikes : ndarray (8,) int64
        Spikes counted in the window.
    t_start, t_stop : float
        Window (s).
    """

    rates: np.ndarray
    rate_std: np.ndarray
    cv: np.ndarray
    n_spikes: np.ndarray
    t_start: float
    t_stop: float

    def table(self) -> str:
        """A Markdown table: population, rate, rate std, CV."""
        lines = ["| population | rate (Hz) | rate std (Hz) | ISI CV |", "|---|---|---|---|"]
        for i, name in enumerate(POPULATIONS):
            lines.append(f"| {name} | {self.rates[i]:.3f} | {self.rate_std[i]:.3f} | {self.cv[i]:.3f} |")
        return "\n".join(lines)


def microcircuit_stats(spike_times, t_start=0.0, t_stop=None, min_isis=2) -> MicrocircuitStats:
    """Rates and ISI CVs per population over ``[t_start, t_stop)``.

    Parameters
    ----------
    spike_times : NetworkResult or mapping
        A result of a microcircuit run, or a mapping from population name to
        a list of spike-time arrays (s), one per neuron.
    t_start : float
        Start of the window (s); discard the initial transient (NEST's
        implementation uses 0.5 s).
    t_stop : float, optional
        End of the window (s); default the end of the run.
    min_isis : int
        Intervals a neuron needs to enter the CV average.

    Returns
    -------
    MicrocircuitStats
    """
    from spikenet.sim.spikes import cv as isi_cv

    if hasattr(spike_times, "spike_times"):
        res = spike_times
        trains = {name: res.spike_times[name] for name in POPULATIONS}
        t_end = float(res.t_start + res.T)
    else:
        trains = {name: spike_times[name] for name in POPULATIONS}
        t_end = None
    t_start = positive_float("t_start", t_start, allow_zero=True)
    if t_stop is None:
        if t_end is None:
            raise ValueError("t_stop is required when spike_times is a mapping")
        t_stop = t_end
    t_stop = positive_float("t_stop", t_stop)
    if t_stop <= t_start:
        raise ValueError(f"t_stop ({t_stop}) must be after t_start ({t_start})")
    rates, stds, cvs, counts = [], [], [], []
    for name in POPULATIONS:
        cut = [np.asarray(t)[(np.asarray(t) >= t_start) & (np.asarray(t) < t_stop)] for t in trains[name]]
        n = np.array([c.size for c in cut])
        r = n / (t_stop - t_start)
        rates.append(r.mean())
        stds.append(r.std())
        c = isi_cv(cut, min_isis=min_isis)
        cvs.append(float(np.nanmean(c)) if np.any(np.isfinite(c)) else np.nan)
        counts.append(int(n.sum()))
    return MicrocircuitStats(np.array(rates), np.array(stds), np.array(cvs), np.array(counts, dtype=np.int64),
                             float(t_start), float(t_stop))
