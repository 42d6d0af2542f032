"""Spike-timing-dependent plasticity inside the network kernel.

The kernel receives ``plast`` (a :class:`PlastArgs`, or None when no
connection is plastic: every call below then sits under an ``is None`` test
and is pruned). Per step ``kg`` each part ``t`` (lane ``b + t``) calls

1. :func:`plast_step_begin` before delivering: notes where this step's spikes
   start in the lane's spike buffer and (part 0) records the weights when due;
2. ``plast.cnt[lane, 1] = spk_cnt[lane]`` after the voltage jumps (spikes
   before it are jump spikes, at the start of the step);
3. :func:`plast_step_end` after the neurons: stores the in-step offsets of
   this step's spikes of the lane, waits for the other parts (a barrier, only
   when the copy is split over threads), then, for each plastic connection,
   merges the pre arrivals falling in ``[kg dt, (kg + 1) dt]`` and the post
   spikes of this step by time and applies the rule event by event.

A part updates only the synapses onto its own post-synaptic neurons (which
are the ones its delivery reads), so parts never write the same weight; each
part keeps its own copy of the pre-synaptic traces (every part sees every pre
arrival, so the copies are equal) and the post traces of its own neurons.
The order of the events of any one synapse is that of one thread, so the
weights are the same bit for bit for any number of parts.

Per-synapse delays: the pre event of synapse ``e`` (delay ``low + x_e``
steps, ``low`` the connection's shortest) happens in step ``kg`` for the pre
spikes of ring slot ``kg - low - x_e``; the pre traces are then kept per
synapse (each sees its own arrival times). Such a connection is not
delivered by the kernel's delivery loop (``skip[c]``): its pre event puts the
synapse's weight, just updated, into the group's ring of future inputs for
step ``kg + 1``, the step at which a synapse of the same delay delivers
without plasticity, and with the weight after the arrival's own update, as
connections with one delay do.

Layout of :class:`PlastArgs` (``n_pl`` plastic connections):

- ``info`` (n_pl, 12) int64: kernel connection index, pre population, post
  population, offset of its pre traces, of its post traces, of its CSC
  pointers, n_pre, n_post, per-synapse-delay flag, position in ``w_idx`` of
  its first synapse, offset of its rows in ``dl_exc``/``dl_perm``, largest
  excess delay ``x`` (steps);
- ``par`` (n_pl, 13) float64: tau_r1, tau_r2, tau_o1, tau_o2, cp2, cp3, cm2,
  cm3, w_lo, w_hi (bounds in stored units), multiplicative flag, nearest
  flag, scale (stored weight = weight x scale); at a post spike
  ``dw = r1 (cp2 + cp3 o2)``, at a pre arrival ``dw = o1 (cm2 + cm3 r2)``;
- ``pre_tr`` (lanes, n, 2) and ``pre_t`` (lanes, n): the traces ``r1, r2``
  of each pre neuron (per synapse, in CSR order, with per-synapse delays) of
  each connection and the time they were last updated (decayed lazily,
  exactly); ``post_tr`` (copies, n, 2)/``post_t`` likewise for ``o1, o2``;
- ``csc_ptr``, ``csc_e``, ``csc_j``: the post-to-pre index of sparse
  connections: the synapses onto post neuron ``i`` are CSR positions
  ``csc_e[csc_ptr[o + i]:csc_ptr[o + i + 1]]`` (weights at ``w_sdata[e +
  conn_data_off]``) from pre neurons ``csc_j``;
- ``dl_exc``, ``dl_perm``: per-synapse delays: CSR row ``j`` of a connection
  (positions ``r0:r1`` relative to its first synapse) re-ordered by excess
  delay, ``dl_perm[o + r0:o + r1]`` the positions in ``w_idx`` and
  ``dl_exc`` their excess delays (ascending);
- ``skip`` (n_conn,) int64: 1 for the connections delivered here;
- ``stride`` (n_conn,) int64: in a batch, each copy has its own weights of a
  plastic connection, copy ``b`` at ``conn_data_off[c] + b * stride[c]``
  (0 for the other connections, whose weights all copies share);
- ``off_ring`` (copies, n_ring, N): the in-step offset of each neuron's spike
  in each ring slot (a jump spike, at the end of the previous slot, stores
  ``dt``);
- ``cnt`` (lanes, 2) int64 scratch, ``ev_t``/``ev_i`` (lanes, cap) event
  scratch;
- ``rec_w`` (rows, cols), ``rec_pos``/``rec_dense``/``rec_scale`` (cols,):
  the weights recorded every ``rec_every[0]`` steps from step ``rec_every[1]``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from spikenet.sim.kernels.atomics import spin_barrier
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
    dl_exc: np.ndarray
    dl_perm: np.ndarray
    skip: np.ndarray
    stride: np.ndarray
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
def plast_step_begin(plast, t, lane, kg, spk_cnt_lane, w_dense, w_sdata):  # pragma: no cover - compiled
    """Note the spike count of ``lane`` at the start of step ``kg``; (part 0) record the weights when due."""
    plast.cnt[lane, 0] = spk_cnt_lane
    plast.cnt[lane, 1] = spk_cnt_lane
    every = plast.rec_every[0]
    rel = kg - plast.rec_every[1]
    if t == 0 and plast.rec_pos.shape[0] > 0 and rel % every == 0:
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
def _pre_event(plast, p, b, t, lane, lo, hi, j, tev, kind, doff, npost, poff, w_cut, w_idx, w_dense,
               w_sdata):  # pragma: no cover - compiled
    """A spike of pre neuron ``j`` arrives at ``tev`` at its synapses onto post neurons ``lo:hi`` (part t)."""
    par = plast.par[p]
    tau_r1, tau_r2, tau_o1 = par[0], par[1], par[2]
    cm2, cm3 = par[6], par[7]
    w_lo, w_hi, mult, nearest, scale = par[8], par[9], par[10] != 0.0, par[11] != 0.0, par[12]
    pj = plast.info[p, 3] + j
    po = plast.info[p, 4]
    el = tev - plast.pre_t[lane, pj]
    r1 = plast.pre_tr[lane, pj, 0] * math.exp(-el / tau_r1)
    r2 = plast.pre_tr[lane, pj, 1] * math.exp(-el / tau_r2)
    cm = cm2 + cm3 * r2
    if cm != 0.0:
        if kind == CONN_DENSE:
            row = doff + j * npost
            for i in range(lo, hi):
                o1 = plast.post_tr[b, po + i, 0]
                if o1 != 0.0:
                    o1 *= math.exp(-(tev - plast.post_t[b, po + i]) / tau_o1)
                    _apply(w_dense, row + i, o1 * cm, False, mult, scale, w_lo, w_hi)
        else:
            for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                i = w_idx[e]
                o1 = plast.post_tr[b, po + i, 0]
                if o1 != 0.0:
                    o1 *= math.exp(-(tev - plast.post_t[b, po + i]) / tau_o1)
                    _apply(w_sdata, e + doff, o1 * cm, False, mult, scale, w_lo, w_hi)
    plast.pre_tr[lane, pj, 0] = 1.0 if nearest else r1 + 1.0
    plast.pre_tr[lane, pj, 1] = 1.0 if nearest else r2 + 1.0
    plast.pre_t[lane, pj] = tev


@njit(**_HELPER)
def _pre_event_delayed(plast, p, b, lane, lo, hi, j, x, tev, doff, poff, w_cut, w_idx, w_sdata, dbuf, dslot,
                       npost):  # pragma: no cover - compiled
    """A spike of pre neuron ``j`` arrives at ``tev`` at its synapses of excess delay ``x`` onto ``lo:hi``.

    Per-synapse traces; each synapse then sends its weight into ``dbuf`` at
    ``dslot`` (the group's future input of the next step, neuron ``i`` at
    ``dslot + i``).
    """
    par = plast.par[p]
    tau_r1, tau_r2, tau_o1 = par[0], par[1], par[2]
    cm2, cm3 = par[6], par[7]
    w_lo, w_hi, mult, nearest, scale = par[8], par[9], par[10] != 0.0, par[11] != 0.0, par[12]
    po = plast.info[p, 4]
    base = plast.info[p, 9]
    seg = plast.info[p, 10] - base
    r0 = w_cut[0, poff + j]
    r1_ = w_cut[w_cut.shape[0] - 1, poff + j]
    exc = plast.dl_exc[seg + r0:seg + r1_]
    a = np.searchsorted(exc, x)
    z = np.searchsorted(exc, x, side="right")
    for q in range(seg + r0 + a, seg + r0 + z):
        e = plast.dl_perm[q]
        i = w_idx[e]
        if i < lo or i >= hi:
            continue
        pj = plast.info[p, 3] + e - base
        el = tev - plast.pre_t[lane, pj]
        r1 = plast.pre_tr[lane, pj, 0] * math.exp(-el / tau_r1)
        r2 = plast.pre_tr[lane, pj, 1] * math.exp(-el / tau_r2)
        cm = cm2 + cm3 * r2
        o1 = plast.post_tr[b, po + i, 0]
        if cm != 0.0 and o1 != 0.0:
            o1 *= math.exp(-(tev - plast.post_t[b, po + i]) / tau_o1)
            _apply(w_sdata, e + doff, o1 * cm, False, mult, scale, w_lo, w_hi)
        plast.pre_tr[lane, pj, 0] = 1.0 if nearest else r1 + 1.0
        plast.pre_tr[lane, pj, 1] = 1.0 if nearest else r2 + 1.0
        plast.pre_t[lane, pj] = tev
        dbuf[b, dslot + i] += w_sdata[e + doff]


@njit(**_HELPER)
def _post_event(plast, p, b, lane, i, tev, kind, doff, npost, w_dense,
                w_sdata):  # pragma: no cover - compiled
    """Post neuron ``i`` of plastic connection ``p`` spikes at ``tev``."""
    par = plast.par[p]
    tau_r1, tau_o1, tau_o2 = par[0], par[2], par[3]
    cp2, cp3 = par[4], par[5]
    w_lo, w_hi, mult, nearest, scale = par[8], par[9], par[10] != 0.0, par[11] != 0.0, par[12]
    pi = plast.info[p, 4] + i
    pre0 = plast.info[p, 3]
    el = tev - plast.post_t[b, pi]
    o1 = plast.post_tr[b, pi, 0] * math.exp(-el / tau_o1)
    o2 = plast.post_tr[b, pi, 1] * math.exp(-el / tau_o2)
    cp = cp2 + cp3 * o2
    if cp != 0.0:
        if kind == CONN_DENSE:
            npre = plast.info[p, 6]
            for j in range(npre):
                r1 = plast.pre_tr[lane, pre0 + j, 0]
                if r1 != 0.0:
                    r1 *= math.exp(-(tev - plast.pre_t[lane, pre0 + j]) / tau_r1)
                    _apply(w_dense, doff + j * npost + i, r1 * cp, True, mult, scale, w_lo, w_hi)
        else:
            # per-pre-neuron traces, or per-synapse ones (per-synapse delays)
            delayed = plast.info[p, 8] != 0
            sb = pre0 - plast.info[p, 9]
            co = plast.info[p, 5] + i
            for q in range(plast.csc_ptr[co], plast.csc_ptr[co + 1]):
                e = plast.csc_e[q]
                pj = sb + e if delayed else pre0 + plast.csc_j[q]
                r1 = plast.pre_tr[lane, pj, 0]
                if r1 != 0.0:
                    r1 *= math.exp(-(tev - plast.pre_t[lane, pj]) / tau_r1)
                    _apply(w_sdata, e + doff, r1 * cp, True, mult, scale, w_lo, w_hi)
    plast.post_tr[b, pi, 0] = 1.0 if nearest else o1 + 1.0
    plast.post_tr[b, pi, 1] = 1.0 if nearest else o2 + 1.0
    plast.post_t[b, pi] = tev


@njit(**_HELPER)
def plast_step_end(plast, b, t, n_parts, part_lo, part_hi, sync, kg, dt, lane, ring_idx, ring_cnt, src_off,
                   pop_off, conn_delay, conn_kind, conn_npost, conn_ptr_off, conn_data_off, conn_grp,
                   grp_doff, dbuf, with_delays, w_cut, w_idx, w_dense, w_sdata, spk_idx, spk_off,
                   spk_cnt_lane):  # pragma: no cover - compiled
    """Apply the plasticity events of part ``t`` in step ``kg`` (times kg dt to (kg + 1) dt) by time."""
    n_ring = ring_idx.shape[1]
    slot = kg % n_ring
    prev = (kg - 1) % n_ring
    c0 = plast.cnt[lane, 0]
    c1 = plast.cnt[lane, 1]
    # in-step offsets of this step's spikes (jump spikes close the previous slot)
    for q in range(c0, spk_cnt_lane):
        if q < c1:
            plast.off_ring[b, prev, spk_idx[lane, q]] = dt
        else:
            plast.off_ring[b, slot, spk_idx[lane, q]] = spk_off[lane, q]
    if sync is not None:  # else pruned (one part): every lane's spikes and offsets of this step are in
        spin_barrier(sync, n_parts)
    if plast.info.shape[0] == 0:  # weights recorded, none plastic
        return
    ev_t = plast.ev_t[lane]
    ev_i = plast.ev_i[lane]
    tk = kg * dt
    for p in range(plast.info.shape[0]):
        c = plast.info[p, 0]
        src = plast.info[p, 1]
        post = plast.info[p, 2]
        lo = part_lo[t, post]
        hi = part_hi[t, post]
        base = src_off[src]
        soff = pop_off[src]
        delayed = plast.info[p, 8] != 0
        nx = plast.info[p, 11] + 1
        n = 0
        # pre arrivals (code >= 0: pre neuron, times nx + excess delay with per-synapse delays), then post
        # spikes (code < 0: -1 - post neuron); insertion keeps equal times in that order
        for x in range(nx):
            rs = (kg - conn_delay[c] - x) % n_ring
            for ln in range(b, b + n_parts):
                for q in range(ring_cnt[ln, rs, src]):
                    j = ring_idx[ln, rs, base + q]
                    n = _insert(ev_t, ev_i, n, tk + plast.off_ring[b, rs, soff + j], j * nx + x)
        plo = pop_off[post]
        for q in range(c0, spk_cnt_lane):
            xq = spk_idx[lane, q] - plo
            if xq >= lo and xq < hi:
                tq = tk + (0.0 if q < c1 else spk_off[lane, q])
                n = _insert(ev_t, ev_i, n, tq, -1 - xq)
        kind = conn_kind[c]
        doff = conn_data_off[c] + b * plast.stride[c]
        npost = conn_npost[c]
        poff = conn_ptr_off[c]
        for q in range(n):
            code = ev_i[q]
            if code < 0:
                _post_event(plast, p, b, lane, -1 - code, ev_t[q], kind, doff, npost, w_dense, w_sdata)
                continue
            if with_delays is not None:  # noqa: SIM102 - else pruned: no per-synapse delays
                if delayed:
                    dslot = grp_doff[conn_grp[c]] + ((kg + 1) % with_delays[0]) * npost
                    _pre_event_delayed(plast, p, b, lane, lo, hi, code // nx, code % nx, ev_t[q], doff, poff,
                                       w_cut, w_idx, w_sdata, dbuf, dslot, npost)
                    continue
            _pre_event(plast, p, b, t, lane, lo, hi, code, ev_t[q], kind, doff, npost, poff, w_cut, w_idx,
                       w_dense, w_sdata)
