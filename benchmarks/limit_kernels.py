"""Minimal hand-written Numba kernels: the "limit" column of the benchmarks.

Each kernel does the arithmetic of the corresponding spikenet model and
nothing else (no validation, no recording beyond what the statistics need, no
generality), so its speed shows what this machine gives for that arithmetic
and how much a framework costs on top. They live here and not in
``spikenet.sim.kernels`` because they are measuring instruments, not part of
the package.

- :func:`lif_run` advances the normalised LIF exactly over each step, places
  each spike inside its step and counts the refractory period in continuous
  time (a neuron leaving it mid-step integrates the rest of the step), like
  spikenet's LIF; it counts spikes per neuron.
- :func:`hh_run` integrates Hodgkin-Huxley with the gates by exponential
  Euler from ``V_k`` and then ``V`` by exponential Euler with the updated
  gates, like spikenet's HH, using :func:`fast_exp`, a vectorisable ``exp``
  (the llvmlite build here has no SVML, so ``math.exp`` is a scalar library
  call that stops the loop from vectorising), and like spikenet one ``exp``
  for all six rate functions; it counts upward crossings of 0 mV.
- :func:`cuba_run` runs the CUBA network with the exact propagator of the
  linear system (v, ge, gi) over each step, grid-aligned spikes and
  refractory periods (as Brian2 and NEST), CSR propagation of the spikes of
  each step, recording every spike.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from spikenet.sim.kernels.flagscan import lowest_flag
from spikenet.sim.kernels.vectorwidth import wide_vectors

BLOCK = 256  # neurons per block: the block's state stays in L1 across the time loop
LIF_BLOCK = 512  # the same for the LIF kernel, whose state is smaller (as spikenet's)


@njit(cache=True, inline="always")
def fast_exp(x):
    """``exp(x)`` from a Taylor polynomial and repeated squaring (vectorisable).

    ``exp(x) = exp(x / 256) ** 256`` with ``exp(y)`` for ``|y| <= 0.05`` from
    its degree-7 Taylor polynomial (truncation ``y^8 / 8! < 1e-15``); the eight
    squarings multiply the relative error by 256, so the result is within about
    1e-13 relative for ``|x| <= 12``, the range of every exponent of the HH rate
    functions for ``V`` in [-100, 60] mV. Only for use in these kernels.
    """
    y = x * (1.0 / 256.0)
    p = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (
        1.0 / 120.0 + y * (1.0 / 720.0 + y * (1.0 / 5040.0)))))))
    p = p * p  # eight squarings, written out so that the caller's loop vectorises
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p


@njit(cache=True, parallel=True, fastmath={"contract"}, error_model="numpy")
def lif_run(J, steps, dt, tau_m, tau_ref, counts):
    """Uncoupled normalised LIF neurons from ``v = 0``; adds spike counts into ``counts``.

    Each step first advances every free neuron by the exact one-step decay in
    a branch-free (vectorised) loop that holds refractory neurons at 0 and
    flags the neurons with an event (a threshold crossing, or a refractory
    period ending inside the step); the refractory period is kept as the time
    it ends, which the loop compares and never updates. Only flagged neurons,
    found by the trailing-zero count of each nonzero flag word, go through
    the scalar event code, which integrates what is left of the step after
    refractoriness and places the spike inside the step. Assumes
    ``tau_ref >= dt`` (at most one spike per step), true for the benchmark.

    Parameters
    ----------
    J : ndarray, shape (n,)
        Constant drives.
    steps : int
        Number of steps of length ``dt`` (s).
    tau_m, tau_ref : float
        Membrane time constant and refractory period (s).
    counts : ndarray of int64, shape (n,)
        Output, incremented by each neuron's spike count.
    """
    n = J.shape[0]
    decay = math.exp(-dt / tau_m)
    nblocks = (n + LIF_BLOCK - 1) // LIF_BLOCK
    for b in prange(nblocks):
        lo = b * LIF_BLOCK
        hi = min(n, lo + LIF_BLOCK)
        m = hi - lo
        wide_vectors()  # 512-bit vectors, as spikenet's kernel
        jb = J[lo:hi].copy()
        v = np.zeros(m)
        te = np.zeros(m)  # end of the refractory period (s); <= t: free
        # event flags padded to whole 8-byte words
        flag = np.zeros((m + 7) // 8 * 8, dtype=np.uint8)
        words = flag.view(np.uint64)
        cnt = np.zeros(m, dtype=np.int64)
        for k in range(steps):
            t = k * dt
            t_next = (k + 1) * dt
            hit = False
            for q in range(m):  # common path, vectorised
                tq = te[q]
                free = tq <= t
                vq = jb[q] + (v[q] - jb[q]) * decay if free else 0.0
                ev = (vq > 1.0) | ((~free) & (tq < t_next))
                flag[q] = ev
                hit |= ev
                v[q] = v[q] if ev else vq
            if not hit:  # no event in the block this step
                continue
            for w in range(words.shape[0]):  # events, scalar
                word = words[w]
                while word != 0:
                    q = 8 * w + np.int64(lowest_flag(word))
                    word &= word - np.uint64(1)
                    j = jb[q]
                    vq = v[q]
                    start = 0.0
                    if te[q] > t:  # the refractory period ends inside this step
                        start = te[q] - t
                        vq = 0.0
                    left = dt - start
                    vend = j + (vq - j) * math.exp(-left / tau_m)
                    if vend > 1.0:
                        s = tau_m * math.log((j - vq) / (j - 1.0))  # crossing, from the integration start
                        cnt[q] += 1
                        v[q] = 0.0
                        te[q] = t + start + s + tau_ref
                    else:
                        v[q] = vend
        for q in range(m):
            counts[lo + q] += cnt[q]


@njit(cache=True, inline="always")
def _vtrap_e(x, e):
    # x / (1 - e) with e = exp(-x) and its limit 1 at x = 0, branch-free
    small = abs(x) < 1e-4
    den = 1.0 if small else 1.0 - e
    return 1.0 + 0.5 * x if small else x / den


@njit(cache=True, parallel=True, fastmath={"contract"}, error_model="numpy")
def hh_run(J, steps, dt_ms, v0, m0, h0, n0, counts):
    """Uncoupled HH neurons (1952 parameters, mV and ms); adds upward 0 mV crossings into ``counts``.

    Parameters
    ----------
    J : ndarray, shape (n,)
        Constant currents in uA/cm^2.
    steps : int
        Number of steps.
    dt_ms : float
        Step in ms.
    v0, m0, h0, n0 : float
        Initial voltage (mV) and gates.
    counts : ndarray of int64, shape (n,)
        Output.
    """
    g_na, g_k, g_l = 120.0, 36.0, 0.3
    e_na, e_k, e_l = 50.0, -77.0, -54.387
    inv_c_m = 1.0  # 1 / c_m, c_m = 1 uF/cm^2
    n = J.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in prange(nblocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        mm = hi - lo
        wide_vectors()  # 512-bit vectors, as spikenet's kernel
        v = np.full(mm, v0)
        gm = np.full(mm, m0)
        gh = np.full(mm, h0)
        gn = np.full(mm, n0)
        cnt = np.zeros(mm, dtype=np.int64)
        jj = J[lo:hi].copy()
        for _ in range(steps):
            for q in range(mm):
                vk = v[q]
                # one exp for all rates, as in spikenet: every exponent is a
                # multiple of (v + 65)/720 up to a constant
                u = fast_exp((vk + 65.0) * (-1.0 / 720.0))
                u2 = u * u
                u4 = u2 * u2
                u8 = u4 * u4
                u32 = (u8 * u8) * (u8 * u8)
                e40 = (u32 * u32) * u8 * 12.182493960703473  # exp(-(v + 40)/10)
                a_m = _vtrap_e((vk + 40.0) * 0.1, e40)
                b_m = 4.0 * (u32 * u8)
                a_h = 0.07 * (u32 * u4)
                b_h = 1.0 / (1.0 + e40 * 1.6487212707001282)
                a_n = 0.1 * _vtrap_e((vk + 55.0) * 0.1, e40 * 0.22313016014842982)
                b_n = 0.125 * (u8 * u)
                s = a_m + b_m
                x_inf = a_m / s
                m = x_inf + (gm[q] - x_inf) * fast_exp(-dt_ms * s)
                s = a_h + b_h
                x_inf = a_h / s
                h = x_inf + (gh[q] - x_inf) * fast_exp(-dt_ms * s)
                s = a_n + b_n
                x_inf = a_n / s
                nn = x_inf + (gn[q] - x_inf) * fast_exp(-dt_ms * s)
                gna = g_na * m * m * m * h
                n2 = nn * nn
                gk = g_k * n2 * n2
                gtot = gna + gk + g_l
                vinf = (jj[q] + gna * e_na + gk * e_k + g_l * e_l) / gtot
                vn = vinf + (vk - vinf) * fast_exp(-dt_ms * gtot * inv_c_m)
                cnt[q] += 1 if (vk < 0.0) and (vn >= 0.0) else 0
                v[q] = vn
                gm[q] = m
                gh[q] = h
                gn[q] = nn
        for q in range(mm):
            counts[lo + q] += cnt[q]


@njit(cache=True)
def random_csr(n_pre, n_post, p, seed):
    """Bernoulli(p) connectivity as CSR rows per pre neuron (geometric skips).

    Returns
    -------
    indptr : ndarray of int64, shape (n_pre + 1,)
    indices : ndarray of int32, shape (nnz,)
        Post-neuron indices of the synapses of each pre neuron.
    """
    np.random.seed(seed)  # noqa: NPY002 - Numba's own generator inside the kernel
    cap = int(n_pre * n_post * p * 1.1) + 1024
    indices = np.empty(cap, dtype=np.int32)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    k = 0
    logq = math.log(1.0 - p) if p < 1.0 else -np.inf
    for i in range(n_pre):
        j = -1
        while True:
            if p >= 1.0:
                j += 1
            else:
                u = 1.0 - np.random.random()  # noqa: NPY002
                j += 1 + math.floor(math.log(u) / logq)
            if j >= n_post:
                break
            if k == indices.shape[0]:
                bigger = np.empty(2 * indices.shape[0], dtype=np.int32)
                bigger[:k] = indices[:k]
                indices = bigger
            indices[k] = j
            k += 1
        indptr[i + 1] = k
    return indptr, indices[:k].copy()


@njit(cache=True, parallel=True)
def _cuba_neurons(v, ge, gi, ref, spiked, bias, a, be, bi, de, di, rs):
    """One step of every CUBA neuron; flags the spikes in ``spiked`` (branch-free, vectorised)."""
    for i in prange(v.shape[0]):
        r = ref[i]
        free = r <= 0.0
        vu = bias + (v[i] - bias) * a + ge[i] * be + gi[i] * bi
        vi = vu if free else v[i]
        ge[i] *= de
        gi[i] *= di
        fired = vi > 1.0
        v[i] = 0.0 if fired else vi
        ref[i] = rs if fired else (r if free else r - 1.0)
        spiked[i] = fired


@njit(cache=True)
def cuba_loop(v, ge, gi, steps, bias, a, be, bi, de, di, ref_steps,
              e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, n_e):
    """CUBA main loop; returns the (step, neuron) pairs of all spikes.

    The neuron update is a parallel kernel called once per step; spike
    collection, buffer growth and propagation run serially here (growing
    arrays inside a ``parallel=True`` function is not safe).

    Parameters
    ----------
    v, ge, gi : ndarray, shape (n,)
        Normalised voltage and synaptic currents, updated in place.
    steps : int
        Number of steps.
    bias : float
        Constant drive.
    a, be, bi, de, di : float
        Exact one-step propagator: ``v' = bias + (v - bias) a + ge be + gi bi``,
        ``ge' = ge de``, ``gi' = gi di``.
    ref_steps : int
        Refractory period in steps.
    e_ptr, e_idx, e_w, i_ptr, i_idx, i_w : ndarray
        CSR (per pre neuron) of the excitatory and inhibitory synapses and
        their current jumps.
    n_e : int
        Neurons ``0..n_e-1`` are excitatory.
    """
    n = v.shape[0]
    ref = np.zeros(n)  # refractory steps left (float, so that the update vectorises)
    rs = float(ref_steps)
    n8 = (n + 7) // 8 * 8
    spiked = np.zeros(n8, dtype=np.bool_)
    words = spiked.view(np.uint64)  # scan 8 neurons at a time for spikes
    cap = 1 << 16
    out_k = np.empty(cap, dtype=np.int32)
    out_i = np.empty(cap, dtype=np.int32)
    count = 0
    for k in range(steps):
        _cuba_neurons(v, ge, gi, ref, spiked, bias, a, be, bi, de, di, rs)
        for w in range(words.shape[0]):
            if words[w] == 0:
                continue
            for j in range(8 * w, 8 * w + 8):
                if not spiked[j]:
                    continue
                if count == cap:
                    cap *= 2
                    nk = np.empty(cap, dtype=np.int32)
                    ni = np.empty(cap, dtype=np.int32)
                    nk[:count] = out_k[:count]
                    ni[:count] = out_i[:count]
                    out_k = nk
                    out_i = ni
                out_k[count] = k
                out_i[count] = j
                count += 1
                if j < n_e:
                    for q in range(e_ptr[j], e_ptr[j + 1]):
                        ge[e_idx[q]] += e_w[q]
                else:
                    jj = j - n_e
                    for q in range(i_ptr[jj], i_ptr[jj + 1]):
                        gi[i_idx[q]] += i_w[q]
    return out_k[:count].copy(), out_i[:count].copy()
