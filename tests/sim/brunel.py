"""Brunel (2000) model A, built once and run in spikenet and in NEST on the same connectivity.

Sparse network of ``n_e`` excitatory and ``n_e / 4`` inhibitory LIF neurons
with voltage-jump synapses: each neuron receives ``c_e`` excitatory and
``c_e / 4`` inhibitory connections (fixed in-degree, no multapses), jumps
``J`` and ``-g J``, delay ``D``; ``tau_m`` 20 ms, threshold 20 mV, reset
10 mV, refractory 2 ms. The external drive is, as in the paper, ``c_e``
excitatory synapses per neuron from Poisson neurons outside the network at
``nu_ext = eta * nu_thr`` (``nu_thr = theta / (J c_e tau_m)``); here they are
``n_ext`` shared Poisson sources, each neuron drawing ``c_e`` of them, so that
both simulators receive the very same input spikes (NEST through
``spike_generator`` nodes). Voltages are in threshold units (20 mV = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from spikenet.sim import LIF, Delta, Network, cv
from spikenet.sim.stats import fano_factor, spectral_peak

#: The four regimes of Brunel (2000) Fig. 8: (g, nu_ext / nu_thr).
REGIMES = {"SR": (3.0, 2.0), "AI": (5.0, 2.0), "SI-fast": (6.0, 4.0), "SI-slow": (4.5, 0.9)}
THETA_MV = 20.0


@dataclass
class Brunel:
    """One realisation: connectivity, external spikes and initial voltages."""

    n_e: int
    c_e: int
    g: float
    eta: float
    dt: float
    T: float
    j_mv: float
    delay: float
    w: dict  # (post, pre) -> CSR (post.n, pre.n) of ones
    ext_raster: np.ndarray  # bool (steps, n_ext)
    w_ext: dict  # post -> CSR (post.n, n_ext) of ones
    v0: np.ndarray  # (n_e + n_i,) normalised

    @property
    def n_i(self):
        return self.n_e // 4

    @property
    def j(self):
        return self.j_mv / THETA_MV


def _indegree(rng, n_post, n_pre, k):
    """CSR (n_post, n_pre) of ones: each row ``k`` distinct random columns."""
    cols = np.empty((n_post, k), dtype=np.int64)
    for i in range(n_post):
        cols[i] = np.sort(rng.choice(n_pre, size=k, replace=False))
    indptr = np.arange(n_post + 1, dtype=np.int64) * k
    return sp.csr_matrix((np.ones(n_post * k), cols.ravel(), indptr), shape=(n_post, n_pre))


def make(regime, n_e=10000, c_e=1000, j_mv=0.1, T=1.0, dt=1e-4, delay=1.5e-3, n_ext=None, seed=0,
         conn_seed=0) -> Brunel:
    """Build model A in ``regime``; ``seed`` draws the input and initial state, ``conn_seed`` the wiring."""
    g, eta = REGIMES[regime]
    n_i, c_i = n_e // 4, c_e // 4
    crng = np.random.default_rng(conn_seed)
    w = {}
    for post, n_post in (("E", n_e), ("I", n_i)):
        w[(post, "E")] = _indegree(crng, n_post, n_e, c_e)
        w[(post, "I")] = _indegree(crng, n_post, n_i, c_i)
    n_ext = 20 * c_e if n_ext is None else n_ext
    w_ext = {"E": _indegree(crng, n_e, n_ext, c_e), "I": _indegree(crng, n_i, n_ext, c_e)}
    tau_m = 0.02
    nu_thr = THETA_MV / (j_mv * c_e * tau_m)
    rng = np.random.default_rng(seed)
    steps = round(T / dt)
    raster = rng.random((steps, n_ext)) < eta * nu_thr * dt
    raster[0] = False  # NEST's spike generators cannot fire at t = 0
    v0 = rng.random(n_e + n_i)
    return Brunel(n_e, c_e, g, eta, dt, T, j_mv, delay, w, raster, w_ext, v0)


def neuron():
    return LIF(tau_m=0.02, tau_ref=0.002, v_th=1.0, v_reset=10.0 / THETA_MV)


def run_spikenet(m: Brunel, threads=None, dtype=np.float64):
    """Spike times of every neuron (E then I), a list of arrays (s)."""
    net = Network(dt=m.dt, threads=threads, dtype=dtype)
    pops = {"E": net.add_population(m.n_e, neuron(), init={"v": m.v0[:m.n_e]}, name="E"),
            "I": net.add_population(m.n_i, neuron(), init={"v": m.v0[m.n_e:]}, name="I")}
    for (post, pre), w in m.w.items():
        jw = m.j if pre == "E" else -m.g * m.j
        net.connect(pops[pre], pops[post], w * jw, synapse=Delta(), delay=m.delay)
    for post, w in m.w_ext.items():
        net.add_input(pops[post], spikes=m.ext_raster, weights=w * m.j, synapse=Delta())
    res = net.run(m.T)
    return list(res.spike_times["E"]) + list(res.spike_times["I"])


def nest_description(m: Brunel, seed=1) -> dict:
    """The same realisation for :func:`tests.sim.nest_reference.run_nest`."""
    tau = np.full(2, 0.02)
    desc = {"dt": m.dt, "T": m.T, "seed": seed, "pop_n": np.array([m.n_e, m.n_i]), "pop_tau_m": tau,
            "pop_tau_ref": np.full(2, 0.002), "pop_v_th": np.ones(2), "pop_v_reset": np.full(2, 0.5),
            "pop_bias": np.zeros(2), "v0": m.v0}
    idx = {"E": 0, "I": 1}
    for c, ((post, pre), w) in enumerate(m.w.items()):
        coo = w.tocoo()
        desc.update({f"c{c}_pre": idx[pre], f"c{c}_post": idx[post], f"c{c}_i": coo.row, f"c{c}_j": coo.col,
                     f"c{c}_w": np.full(coo.nnz, m.j if pre == "E" else -m.g * m.j),
                     f"c{c}_d": np.full(coo.nnz, m.delay)})
    desc["n_conn"] = len(m.w)
    # external sources: generator q fires at row k (t = k dt), delay dt: arrives at (k + 1) dt, as in spikenet
    k, q = np.nonzero(m.ext_raster)
    order = np.lexsort((k, q))
    k, q = k[order], q[order]
    n_ext = m.ext_raster.shape[1]
    desc["n_gen"] = n_ext
    desc["gen_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(q, minlength=n_ext))])
    desc["gen_times"] = k * m.dt
    # both populations in one generator connection list: the E and I rows stacked (global post index)
    coo_e, coo_i = m.w_ext["E"].tocoo(), m.w_ext["I"].tocoo()
    desc["g_i"] = np.concatenate([coo_e.row, coo_i.row + m.n_e])
    desc["g_j"] = np.concatenate([coo_e.col, coo_i.col])
    desc["g_w"] = np.full(desc["g_i"].size, m.j)
    desc["g_d"] = np.full(desc["g_i"].size, m.dt)
    return desc


def stats(spike_times, n_e, T, t0=0.1):
    """(E population rate in Hz, mean ISI CV of E neurons with >= 3 spikes) after the transient ``t0``."""
    trains = [s[s >= t0] for s in spike_times[:n_e]]
    rate = sum(len(s) for s in trains) / (n_e * (T - t0))
    cvs = [cv(s) for s in trains if len(s) >= 3]
    return rate, float(np.mean(cvs)) if cvs else float("nan")


def regime_stats(spike_times, n_e, T, t0=0.1) -> dict:
    """Statistics of the E population after ``t0``: rate (Hz), ISI CV, Fano factor (100 ms), spectral peak.

    ``peak_hz`` and ``peak_rel`` are the frequency and the relative height
    (power over the mean power above 5 Hz) of the largest peak of the
    population activity's spectrum (1 ms bins).
    """
    rate, cv_mean = stats(spike_times, n_e, T, t0)
    trains = list(spike_times[:n_e])
    peak_hz, peak_rel = spectral_peak(trains, T, dt_bin=1e-3, t0=t0)
    return {"rate": rate, "cv": cv_mean, "fano": fano_factor(trains, T, window=0.1, t0=t0),
            "peak_hz": peak_hz, "peak_rel": peak_rel}


def nest_trains(senders, times, n):
    """Per-neuron spike-time arrays from NEST's (senders, times)."""
    order = np.lexsort((times, senders))
    senders, times = senders[order], times[order]
    cuts = np.searchsorted(senders, np.arange(n + 1))
    return [times[cuts[i]:cuts[i + 1]] for i in range(n)]
