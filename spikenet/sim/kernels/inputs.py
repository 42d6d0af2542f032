r"""Stochastic inputs generated inside the network kernel: Poisson inputs, source populations, white noise.

Everything here is called from :func:`spikenet.sim.kernels.network._run_copy`
under ``if inp is not None`` (a network without these inputs compiles none
of it). The arrays are described by :class:`InpArgs`, built by
:mod:`spikenet.sim.inputs`.

Random numbers
--------------
No generator state is kept: every number is a pure function of the
network's seed and of *what it is for*. Draw ``d`` of stream ``s`` (a
source, or a neuron) in global step ``k`` of batch copy ``b`` is the
SplitMix64 output (Steele, Lea & Flood 2014) of counter

.. math:: c = (((k B + b) S + s) \cdot 64) + d

from a key derived from the seed and the kind of input. The numbers are
therefore the same however a run is cut into chunks or runs, and however
its neurons are split over threads (every part draws the numbers of its own
neurons; the parts that share a source all draw the same counts), and batch
copies are independent. Uniforms take the top 53 bits; normals are
Box-Muller from two uniforms; Poisson counts are drawn by inversion for
``lam < 10`` and by transformed rejection with squeeze (PTRS, Hoermann 1993,
as NumPy does) above.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from spikenet.sim.kernels.layout import LIF_KIND, LIFPN_KIND
from spikenet.sim.kernels.release import free_voltage

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

# Draws reserved per (step, copy, stream): PTRS takes two per trial.
DRAWS_PER_STREAM = 64
# The kinds of inputs: each has its own key.
KEY_POISSON, KEY_SOURCE, KEY_NOISE = 0, 1, 2
# Kinds of source populations (src_kind).
SRC_NONE, SRC_TIMES, SRC_POISSON = -1, 0, 1


class InpArgs(NamedTuple):
    """The arrays of the in-kernel stochastic inputs (the network kernel's ``inp`` argument).

    Poisson inputs (``add_input(rate=...)``), ``Q`` of them with ``S`` sources in all:
    ``pin_grp``/``pin_post`` (Q,) the synapse group and population fed;
    ``pin_shared`` (Q,) 0 for one source per post neuron, 1 for ``k`` shared
    sources; ``pin_k`` (Q,) sources; ``pin_src`` (Q,) first source in
    ``lam``/``elam`` (``lam = rate * dt``, ``elam = exp(-lam)``); ``pin_w`` (Q,)
    where its weights (already divided by ``tau_s``) start in ``pw``: one
    weight (per-neuron sources) or a (k, post.n) block (shared sources).

    Source populations: ``src_kind`` (P,) one of ``SRC_*``; ``SpikeSource``
    spikes as ``ss_step``/``ss_idx`` sorted by step, population ``p`` at
    ``ss_off[p]:ss_off[p + 1]``; ``PoissonSource`` spike probabilities per step
    ``ps_p`` (1, N) in neuron space, or (B, N) when a source has per-copy
    rates, active in global steps ``ps_k0[p] <= k < ps_k1[p]``.

    White noise: ``nz_sigma`` (P,) per population (0: none); ``nz_save`` (B, N)
    holds the drive of HH and NeuronModel populations while their noise current is added.

    ``keys`` (3,) uint64: the random keys of the three kinds of input;
    ``n_batch`` and ``n_neurons`` complete the counters.
    """

    keys: np.ndarray
    n_batch: int
    n_neurons: int
    pin_grp: np.ndarray
    pin_post: np.ndarray
    pin_shared: np.ndarray
    pin_k: np.ndarray
    pin_src: np.ndarray
    pin_w: np.ndarray
    n_pin_src: int
    lam: np.ndarray
    elam: np.ndarray
    pw: np.ndarray
    src_kind: np.ndarray
    ss_off: np.ndarray
    ss_step: np.ndarray
    ss_idx: np.ndarray
    ps_p: np.ndarray
    ps_k0: np.ndarray
    ps_k1: np.ndarray
    nz_sigma: np.ndarray
    nz_save: np.ndarray


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 2.0 ** -53


@njit(**_HELPER)
def _mix(z):  # pragma: no cover - compiled
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**_HELPER)
def counter(kg, b, n_batch, s, n_streams):  # pragma: no cover - compiled
    """The first counter of stream ``s`` of copy ``b`` in global step ``kg`` (see the module docstring)."""
    return np.uint64(((kg * n_batch + b) * n_streams + s) * DRAWS_PER_STREAM)


@njit(**_HELPER)
def uniform(key, c):  # pragma: no cover - compiled
    """Uniform number in [0, 1) for counter ``c`` (uint64) of ``key`` (uint64)."""
    return np.float64(_mix(key + (c + np.uint64(1)) * _GAMMA) >> _S11) * _TWO_M53


@njit(**_HELPER)
def normal(key, c):  # pragma: no cover - compiled
    """Standard normal number from counters ``c`` and ``c + 1`` (Box-Muller)."""
    u1 = 1.0 - uniform(key, c)  # in (0, 1]
    u2 = uniform(key, c + np.uint64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(**_HELPER)
def poisson(key, c, lam, elam):  # pragma: no cover - compiled
    """Poisson count of mean ``lam`` (``elam = exp(-lam)``) from the counters ``c, c + 1, ...``."""
    if lam <= 0.0:
        return 0
    if lam < 10.0:
        u = uniform(key, c)
        n = 0
        p = elam
        f = p
        while u > f and n < 1000:
            n += 1
            p *= lam / n
            f += p
        return n
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    bb = 0.931 + 2.53 * slam
    aa = -0.059 + 0.02483 * bb
    log_inv_alpha = math.log(1.1239 + 1.1328 / (bb - 3.4))
    vr = 0.9277 - 3.6224 / (bb - 2.0)
    d = np.uint64(0)
    k = 0
    while d + np.uint64(1) < np.uint64(DRAWS_PER_STREAM):
        uu = uniform(key, c + d) - 0.5
        vv = uniform(key, c + d + np.uint64(1))
        d += np.uint64(2)
        us = 0.5 - abs(uu)
        k = math.floor((2.0 * aa / us + bb) * uu + lam + 0.43)
        if us >= 0.07 and vv <= vr:
            return k
        if k < 0 or (us < 0.013 and vv > us):
            continue
        lhs = math.log(vv) + log_inv_alpha - math.log(aa / (us * us) + bb)
        if lhs <= -lam + k * loglam - math.lgamma(k + 1.0):
            return k
    # not reached in practice (each trial is accepted with probability > 0.85)
    return k if k > 0 else 0


@njit(**_HELPER)
def poisson_inputs(inp, b, t, kg, stages, grp_off, part_lo, part_hi):  # pragma: no cover - compiled
    """Add this step's Poisson counts, times their weights, to stage 0 of the fed groups (part ``t``)."""
    key = inp.keys[0]
    lb = np.int64(b) if inp.lam.shape[0] > 1 else np.int64(0)  # the copy's row of rates (one row: shared)
    lam = inp.lam[lb]
    elam = inp.elam[lb]
    for q in range(inp.pin_grp.shape[0]):
        p = inp.pin_post[q]
        lo = part_lo[t, p]
        hi = part_hi[t, p]
        base = grp_off[inp.pin_grp[q]]
        s0 = inp.pin_src[q]
        w0 = inp.pin_w[q]
        if inp.pin_shared[q] == 0:
            w = inp.pw[w0]
            for i in range(lo, hi):
                s = s0 + i
                c = poisson(key, counter(kg, b, inp.n_batch, s, inp.n_pin_src), lam[s], elam[s])
                if c > 0:
                    stages[b, base + i] += w * c
        else:
            n = hi - lo
            npost = part_hi[part_hi.shape[0] - 1, p]  # the population's size: the last part's end
            for j in range(inp.pin_k[q]):
                s = s0 + j
                c = poisson(key, counter(kg, b, inp.n_batch, s, inp.n_pin_src), lam[s], elam[s])
                if c == 0:
                    continue
                row = w0 + j * npost
                for i in range(n):
                    stages[b, base + lo + i] += inp.pw[row + lo + i] * c


@njit(**_HELPER)
def source_population(inp, b, lane, p, lo, hi, kg, off, src_off, ring_idx, ring_cnt, slot, spk_step, spk_idx,
                      spk_off, spk_cnt):  # pragma: no cover - compiled
    """Spikes of neurons ``lo:hi`` of source population ``p`` in global step ``kg`` (time ``kg * dt``)."""
    base = src_off[p]
    if inp.src_kind[p] == SRC_TIMES:
        a = inp.ss_off[p]
        e = inp.ss_off[p + 1]
        # first spike of step kg (binary search; the spikes are sorted by step, then neuron)
        while a < e:
            mid = (a + e) // 2
            if inp.ss_step[mid] < kg:
                a = mid + 1
            else:
                e = mid
        e = inp.ss_off[p + 1]
        while a < e and inp.ss_step[a] == kg:
            i = inp.ss_idx[a]
            a += 1
            if i < lo or i >= hi:
                continue
            _emit(lane, kg, off, i, p, base, ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt)
        return
    if kg < inp.ps_k0[p] or kg >= inp.ps_k1[p]:
        return
    key = inp.keys[1]
    ps_p = inp.ps_p[np.int64(b) if inp.ps_p.shape[0] > 1 else np.int64(0)]  # the copy's row (one row: shared)
    for i in range(lo, hi):
        u = uniform(key, counter(kg, b, inp.n_batch, off + i, inp.n_neurons))
        if u < ps_p[off + i]:
            _emit(lane, kg, off, i, p, base, ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt)


@njit(**_HELPER)
def _emit(lane, kg, off, i, p, base, ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off,
          spk_cnt):  # pragma: no cover - compiled
    c = spk_cnt[lane]
    spk_step[lane, c] = kg
    spk_idx[lane, c] = off + i
    spk_off[lane, c] = 0.0
    spk_cnt[lane] = c + 1
    ring_idx[lane, slot, base + ring_cnt[lane, slot, p]] = i
    ring_cnt[lane, slot, p] += 1


@njit(**_HELPER)
def current_noise(inp, kind, p):  # pragma: no cover - compiled
    """Whether population ``p`` (of kind ``kind``) takes white noise as a current in its drive.

    HH and NeuronModel populations do (``hh_noise_on``/``hh_noise_off``
    around their update); LIF populations integrate their noise exactly
    instead (``lif_noise_block``).
    """
    return inp.nz_sigma[p] > 0.0 and kind != LIF_KIND and kind != LIFPN_KIND


@njit(**_HELPER)
def hh_noise_on(inp, b, p, lo, hi, kg, dt, off, jconst):  # pragma: no cover - compiled
    """Add the white-noise current of neurons ``lo:hi`` for this step to their drive (saved first).

    The current ``sigma xi_k / sqrt(dt)`` (``xi_k`` standard normal, one per
    neuron and step) is held over the step: Euler-Maruyama for the noise
    (strong order 1/2, weak order 1), whatever scheme integrates the rest of
    the model. Used by HH and NeuronModel populations.
    """
    sigma = inp.nz_sigma[p]
    scale = sigma / math.sqrt(dt)
    key = inp.keys[2]
    for i in range(off + lo, off + hi):
        inp.nz_save[b, i] = jconst[b, i]
        jconst[b, i] += scale * normal(key, counter(kg, b, inp.n_batch, i, inp.n_neurons))


@njit(**_HELPER)
def hh_noise_off(inp, b, lo, hi, off, jconst):  # pragma: no cover - compiled
    """Restore the drive saved by ``hh_noise_on`` (bit for bit)."""
    for i in range(off + lo, off + hi):
        jconst[b, i] = inp.nz_save[b, i]


@njit(**_HELPER)
def _crossed(key, c, v0, v1, v_th, d2, h):  # pragma: no cover - compiled
    """Whether a noisy LIF path from ``v0`` to ``v1`` over ``h`` seconds reached ``v_th`` (bridge test)."""
    if v1 >= v_th or v0 >= v_th:
        return True
    return uniform(key, c) < math.exp(-2.0 * (v_th - v0) * (v_th - v1) / (d2 * h))


@njit(**_HELPER)
def lif_noise_block(inp, b, lane, p, i0, kg, tk, dt, off, pop_par, vo, u, te, src_off, ring_idx, ring_cnt,
                    slot, spk_step, spk_idx, spk_off, spk_cnt, jc, jvar, k, voff, n, stb, grp_post, grp_nst,
                    grp_off, grp_prop_off, coef, grp_avg_off):  # pragma: no cover - compiled
    """Exact Ornstein-Uhlenbeck step of the noisy LIF neurons of one block, spikes included.

    ``vo``, ``te`` and ``u`` are the block's voltages, refractory ends and the
    input part of the noise-free end-of-step voltage ``a v + u`` (neurons
    ``i0 + i`` of population ``p``). The noise, the threshold test on the
    grid and the Brownian-bridge test for excursions within the step are
    those of :mod:`spikenet.sim.kernels.lif_noise`; the noise-free part of a
    partial step (a refractory period ending inside it) is exact, from the
    block's constant drive ``jc`` (plus row ``k`` of ``jvar`` from ``voff``
    when ``voff >= 0``) and the synaptic stages ``stb`` at the step's start
    (:func:`~spikenet.sim.kernels.release.free_voltage`).
    """
    a = pop_par[p, 0]
    tau_m = pop_par[p, 2]
    tau_ref = pop_par[p, 3]
    v_th = pop_par[p, 4]
    v_reset = pop_par[p, 5]
    sigma = inp.nz_sigma[p]
    s_full = sigma * math.sqrt(0.5 * -math.expm1(-2.0 * dt / tau_m))
    d2 = sigma * sigma / tau_m
    t_free = tk + 1e-9 * dt
    t_next = tk + dt
    key = inp.keys[2]
    for i in range(vo.shape[0]):
        t = te[i]
        if t >= t_next:  # refractory over the whole step
            vo[i] = v_reset
            continue
        c = counter(kg, b, inp.n_batch, off + i0 + i, inp.n_neurons)
        xi = normal(key, c)
        jd = jc[i] + jvar[k, b, voff + i0 + i] if voff >= 0 else jc[i]
        if t > t_free:  # free for the rest of the step
            h = t_next - t
            t0 = t - tk
            v0 = v_reset
            vdet, _ = free_voltage(v_reset, t0, dt - t0, tau_m, jd, p, i0 + i, n, stb, grp_post, grp_nst,
                                   grp_off, grp_prop_off, coef, grp_avg_off)
            v1 = vdet + sigma * math.sqrt(0.5 * -math.expm1(-2.0 * h / tau_m)) * xi
        else:
            h = dt
            t0 = 0.0
            v0 = vo[i]
            v1 = a * v0 + u[i] + s_full * xi
        if t > t_free and t - tk > tau_ref - 1e-9 * dt:
            # it spiked at tk on a voltage jump: one spike per step, a crossing
            # in the rest of the step is held at v_th
            vo[i] = v_th if _crossed(key, c + np.uint64(2), v0, v1, v_th, d2, h) else v1
            continue
        spiked = False
        ts = 0.0
        if v1 >= v_th or v0 >= v_th:
            spiked = True
            ts = t0 if v0 >= v_th else t0 + h * (v_th - v0) / (v1 - v0)
        elif v0 < v_th and uniform(key, c + np.uint64(2)) < math.exp(-2.0 * (v_th - v0) * (v_th - v1)
                                                                        / (d2 * h)):
            spiked = True
            ts = t0 + 0.5 * h
        if not spiked:
            vo[i] = v1
            continue
        n = spk_cnt[lane]
        spk_step[lane, n] = kg
        spk_idx[lane, n] = off + i0 + i
        spk_off[lane, n] = ts
        spk_cnt[lane] = n + 1
        ring_idx[lane, slot, src_off[p] + ring_cnt[lane, slot, p]] = i0 + i
        ring_cnt[lane, slot, p] += 1
        te[i] = tk + ts + tau_ref
        vo[i] = v_reset
        rest = dt - ts
        if tau_ref < rest:  # free again before the step ends: integrate the rest (fresh numbers)
            h2 = rest - tau_ref
            wdet, _ = free_voltage(v_reset, ts + tau_ref, h2, tau_m, jd, p, i0 + i, n, stb, grp_post, grp_nst,
                                   grp_off, grp_prop_off, coef, grp_avg_off)
            w1 = wdet + sigma * math.sqrt(0.5 * -math.expm1(-2.0 * h2 / tau_m)) * normal(key,
                                                                                    c + np.uint64(3))
            # a second crossing waits for the next step, held at v_th
            vo[i] = v_th if _crossed(key, c + np.uint64(5), v_reset, w1, v_th, d2, h2) else w1
