"""Spike-timing-dependent plasticity inside the network kernel.

The kernel receives ``plast`` (a :class:`PlastArgs`, or None when no
connection is plastic: every call below then sits under an ``is None`` test
and is pruned). Per step ``kg`` it calls

1. :func:`plast_step_begin` before delivering: notes where this step's spikes
   start in the spike buffer and records the weights when due;
2. ``plast.cnt[1] = spk_cnt[lane]`` after the voltage jumps (spikes before it
   are jump spikes, at the start of the step);
3. :func:`plast_step_end` after the neurons: stores the in-step offsets of
   this step's spikes, then, for each plastic connection, merges the pre
   arrivals falling in ``[kg dt, (kg + 1) dt]`` (ring slot ``kg - delay``) and
   the post spikes of this step by time and applies the rule event by event.

Layout of :class:`PlastArgs` (``n_pl`` plastic connections):

- ``info`` (n_pl, 8) int64: kernel connection index, pre population, post
  population, offset of its pre traces, of its post traces, of its CSC
  pointers, n_pre, n_post;
- ``par`` (n_pl, 13) float64: tau_r1, tau_r2, tau_o1, tau_o2, cp2, cp3, cm2,
  cm3, w_lo, w_hi (bounds in stored units), multiplicative flag, nearest
  flag, scale (stored weight = weight x scale); at a post spike
  ``dw = r1 (cp2 + cp3 o2)``, at a pre arrival ``dw = o1 (cm2 + cm3 r2)``;
- ``pre_tr`` (n, 2) and ``pre_t`` (n,): the traces ``r1, r2`` of each pre
  neuron of each connection and the time they were last updated (decayed
  lazily, exactly); ``post_tr``/``post_t`` likewise for ``o1, o2``;
- ``csc_ptr``, ``csc_e``, ``csc_j``: the post-to-pre index of sparse
  connections: the synapses onto post neuron ``i`` are CSR positions
  ``csc_e[csc_ptr[o + i]:csc_ptr[o + i + 1]]`` (weights at ``w_sdata[e +
  conn_data_off]``) from pre neurons ``csc_j``;
- ``off_ring`` (n_ring, N): the in-step offset of each neuron's spike in each
  ring slot (a jump spike, at the end of the previous slot, stores ``dt``);
- ``cnt`` (2,) int64 scratch, ``ev_t``/``ev_i`` event scratch;
- ``rec_w`` (rows, cols), ``rec_pos``/``rec_dense``/``rec_scale`` (cols,):
  the weights recorded every ``rec_every[0]`` steps from step ``rec_every[1]``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from spikenet.sim.kernels.layout import CONN_DENSE

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


class PlastArgs(NamedTuple):
    """Arrays of the plasticity code path of the network kernel (see the module docstring)."""

    info: np.ndarray
    par: np.ndarray
    pre_tr: np.ndarray
    pre_t: np.ndarray
    post_tr: np.ndarray
    post_t: np.ndarray
    csc_ptr: np.ndarray
    csc_e: np.ndarray
    csc_j: np.ndarray
    off_ring: np.ndarray
    cnt: np.ndarray
    ev_t: np.ndarray
    ev_i: np.ndarray
    rec_w: np.ndarray
    rec_pos: np.ndarray
    rec_dense: np.ndarray
    rec_scale: np.ndarray
    rec_every: np.ndarray


@njit(**_HELPER)
def plast_step_begin(plast, kg, spk_cnt_lane, w_dense, w_sdata):  # pragma: no cover - compiled
    """Note the spike count at the start of step ``kg``; record the weights at ``t[kg]`` when due."""
    plast.cnt[0] = spk_cnt_lane
    plast.cnt[1] = spk_cnt_lane
    every = plast.rec_every[0]
    rel = kg - plast.rec_every[1]
    if plast.rec_pos.shape[0] > 0 and rel % every == 0:
        row = rel // every
        if row < plast.rec_w.shape[0]:
            for q in range(plast.rec_pos.shape[0]):
                pos = plast.rec_pos[q]
                val = w_dense[pos] if plast.rec_dense[q] else w_sdata[pos]
                plast.rec_w[row, q] = val / plast.rec_scale[q]


@njit(**_HELPER)
def _insert(ev_t, ev_i, n, t, code):  # pragma: no cover - compiled
    """Insert event (t, code) into the time-sorted lists of length n (after equal times)."""
    pos = n
    while pos > 0 and ev_t[pos - 1] > t:
        ev_t[pos] = ev_t[pos - 1]
        ev_i[pos] = ev_i[pos - 1]
        pos -= 1
    ev_t[pos] = t
    ev_i[pos] = code
    return n + 1


@njit(**_HELPER)
def _apply(w, pos, dw, potentiate, mult, scale, w_lo, w_hi):  # pragma: no cover - compiled
    """``w[pos] += dw`` (additive, in weight units) or scaled by the room to the bound, then clipped."""
    x = w[pos]
    if mult:
        x += dw * ((w_hi - x) if potentiate else (x - w_lo))
    else:
        x += dw * scale
    x = w_lo if x < w_lo else x
    x = w_hi if x > w_hi else x
    w[pos] = x


@njit(**_HELPER)
def _pre_event(plast, p, j, t, kind, doff, npost, poff, w_cut, w_idx, w_dense,
               w_sdata):  # pragma: no cover - compiled
    """A spike of pre neuron ``j`` arrives at ``t`` at its synapses of plastic connection ``p``."""
    par = plast.par[p]
    tau_r1, tau_r2, tau_o1 = par[0], par[1], par[2]
    cm2, cm3 = par[6], par[7]
    w_lo, w_hi, mult, nearest, scale = par[8], par[9], par[10] != 0.0, par[11] != 0.0, par[12]
    pj = plast.info[p, 3] + j
    po = plast.info[p, 4]
    el = t - plast.pre_t[pj]
    r1 = plast.pre_tr[pj, 0] * math.exp(-el / tau_r1)
    r2 = plast.pre_tr[pj, 1] * math.exp(-el / tau_r2)
    cm = cm2 + cm3 * r2
    if cm != 0.0:
        if kind == CONN_DENSE:
            row = doff + j * npost
            for i in range(npost):
                o1 = plast.post_tr[po + i, 0]
                if o1 != 0.0:
                    o1 *= math.exp(-(t - plast.post_t[po + i]) / tau_o1)
                    _apply(w_dense, row + i, o1 * cm, False, mult, scale, w_lo, w_hi)
        else:
            for e in range(w_cut[0, poff + j], w_cut[w_cut.shape[0] - 1, poff + j]):
                i = w_idx[e]
                o1 = plast.post_tr[po + i, 0]
                if o1 != 0.0:
                    o1 *= math.exp(-(t - plast.post_t[po + i]) / tau_o1)
                    _apply(w_sdata, e + doff, o1 * cm, False, mult, scale, w_lo, w_hi)
    plast.pre_tr[pj, 0] = 1.0 if nearest else r1 + 1.0
    plast.pre_tr[pj, 1] = 1.0 if nearest else r2 + 1.0
    plast.pre_t[pj] = t


@njit(**_HELPER)
def _post_event(plast, p, i, t, kind, doff, npost, w_dense, w_sdata):  # pragma: no cover - compiled
    """Post neuron ``i`` of plastic connection ``p`` spikes at ``t``."""
    par = plast.par[p]
    tau_r1, tau_o1, tau_o2 = par[0], par[2], par[3]
    cp2, cp3 = par[4], par[5]
    w_lo, w_hi, mult, nearest, scale = par[8], par[9], par[10] != 0.0, par[11] != 0.0, par[12]
    pi = plast.info[p, 4] + i
    pre0 = plast.info[p, 3]
    el = t - plast.post_t[pi]
    o1 = plast.post_tr[pi, 0] * math.exp(-el / tau_o1)
    o2 = plast.post_tr[pi, 1] * math.exp(-el / tau_o2)
    cp = cp2 + cp3 * o2
    if cp != 0.0:
        if kind == CONN_DENSE:
            npre = plast.info[p, 6]
            for j in range(npre):
                r1 = plast.pre_tr[pre0 + j, 0]
                if r1 != 0.0:
                    r1 *= math.exp(-(t - plast.pre_t[pre0 + j]) / tau_r1)
                    _apply(w_dense, doff + j * npost + i, r1 * cp, True, mult, scale, w_lo, w_hi)
        else:
            co = plast.info[p, 5] + i
            for q in range(plast.csc_ptr[co], plast.csc_ptr[co + 1]):
                j = plast.csc_j[q]
                r1 = plast.pre_tr[pre0 + j, 0]
                if r1 != 0.0:
                    r1 *= math.exp(-(t - plast.pre_t[pre0 + j]) / tau_r1)
                    _apply(w_sdata, plast.csc_e[q] + doff, r1 * cp, True, mult, scale, w_lo, w_hi)
    plast.post_tr[pi, 0] = 1.0 if nearest else o1 + 1.0
    plast.post_tr[pi, 1] = 1.0 if nearest else o2 + 1.0
    plast.post_t[pi] = t


@njit(**_HELPER)
def plast_step_end(plast, kg, dt, lane, ring_idx, ring_cnt, src_off, pop_off, conn_delay, conn_kind,
                   conn_npost, conn_ptr_off, conn_data_off, w_cut, w_idx, w_dense, w_sdata, spk_idx, spk_off,
                   spk_cnt_lane):  # pragma: no cover - compiled
    """Apply the plasticity events of step ``kg`` (times in ``[kg dt, (kg + 1) dt]``) in time order."""
    if plast.info.shape[0] == 0:  # weights recorded, none plastic
        return
    n_ring = ring_idx.shape[1]
    slot = kg % n_ring
    prev = (kg - 1) % n_ring
    c0 = plast.cnt[0]
    c1 = plast.cnt[1]
    # in-step offsets of this step's spikes (jump spikes close the previous slot)
    for q in range(c0, spk_cnt_lane):
        if q < c1:
            plast.off_ring[prev, spk_idx[lane, q]] = dt
        else:
            plast.off_ring[slot, spk_idx[lane, q]] = spk_off[lane, q]
    tk = kg * dt
    for p in range(plast.info.shape[0]):
        c = plast.info[p, 0]
        src = plast.info[p, 1]
        post = plast.info[p, 2]
        rs = (kg - conn_delay[c]) % n_ring
        base = src_off[src]
        soff = pop_off[src]
        n = 0
        # pre arrivals (code >= 0: pre neuron), then post spikes (code < 0: -1 - post neuron);
        # insertion keeps equal times in that order
        for q in range(ring_cnt[lane, rs, src]):
            j = ring_idx[lane, rs, base + q]
            n = _insert(plast.ev_t, plast.ev_i, n, tk + plast.off_ring[rs, soff + j], j)
        lo = pop_off[post]
        hi = lo + conn_npost[c]
        for q in range(c0, spk_cnt_lane):
            x = spk_idx[lane, q]
            if x >= lo and x < hi:
                tq = tk + (0.0 if q < c1 else spk_off[lane, q])
                n = _insert(plast.ev_t, plast.ev_i, n, tq, -1 - (x - lo))
        kind = conn_kind[c]
        doff = conn_data_off[c]
        npost = conn_npost[c]
        poff = conn_ptr_off[c]
        for q in range(n):
            code = plast.ev_i[q]
            if code >= 0:
                _pre_event(plast, p, code, plast.ev_t[q], kind, doff, npost, poff, w_cut, w_idx, w_dense,
                           w_sdata)
            else:
                _post_event(plast, p, -1 - code, plast.ev_t[q], kind, doff, npost, w_dense, w_sdata)
