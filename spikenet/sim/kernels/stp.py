"""Compiled short-term plasticity (Tsodyks-Markram) of the network kernel.

The kernel receives one :class:`STPArgs` (or None, which prunes every line of
this feature). Connection ``c`` has plasticity when ``conn_off[c] >= 0``; its
state is one resource fraction ``x``, one utilisation ``u`` and the step of
the last spike per presynaptic neuron ``j``, at column ``conn_off[c] + j`` of
the arrays ``x``, ``u``, ``last`` (shape (lanes, n_state)). One state per
presynaptic neuron, not per synapse, is exact: every synapse of the neuron
in the connection has the same parameters and sees the same spike train, and
the update depends only on the intervals between its spikes, which a delay
(one per connection or one per synapse) does not change. Each lane (batch
copy, or part of a copy split over threads) keeps its own copy of the state:
the parts of one copy each update theirs with the same spikes in the same
order, so they hold the same values without sharing written memory.

Update at a spike of neuron ``j`` in step ``k`` (``h = k - last`` steps since
its previous spike; nothing is updated at its first spike, when ``x = 1`` and
``u = U``)::

    x <- 1 + (x - x u - 1) exp(-h dt / tau_rec)
    u <- U + u (1 - U) exp(-h dt / tau_facil)      (u <- U when tau_facil = 0)

and the spike delivers ``w * u * x`` with the updated values (NEST's
``tsodyks2_synapse``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from spikenet.sim.kernels.layout import CONN_DENSE, CONN_SPARSE_DELAYED, CONN_SPARSE_UNIFORM

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


class STPArgs(NamedTuple):
    """Arrays of the short-term plasticity of a network (the kernel argument ``stp``).

    Attributes
    ----------
    conn_off : numpy.ndarray of int64, shape (n_conn,)
        First state column of each connection's presynaptic neurons; -1 for
        a connection without plasticity.
    par : numpy.ndarray of float64, shape (n_conn, 3)
        Per connection: ``U``, ``dt / tau_rec`` and ``dt / tau_facil`` (0
        without facilitation).
    x, u : numpy.ndarray of float64, shape (lanes, n_state)
        Resources and utilisation after each presynaptic neuron's last spike.
    last : numpy.ndarray of int64, shape (lanes, n_state)
        Global step of that spike; -1 before the first.
    """

    conn_off: np.ndarray
    par: np.ndarray
    x: np.ndarray
    u: np.ndarray
    last: np.ndarray


@njit(**_HELPER)
def stp_factor(stp, c, lane, j, step):  # pragma: no cover - compiled
    """Update neuron ``j``'s state in connection ``c`` for its spike of ``step``; returns ``u x``."""
    s = stp.conn_off[c] + j
    x = stp.x[lane, s]
    u = stp.u[lane, s]
    last = stp.last[lane, s]
    if last >= 0:
        h = step - last
        big_u = stp.par[c, 0]
        rate_f = stp.par[c, 2]
        u_decay = math.exp(-h * rate_f) if rate_f > 0.0 else 0.0
        x = 1.0 + (x - x * u - 1.0) * math.exp(-h * stp.par[c, 1])
        u = big_u + u * (1.0 - big_u) * u_decay
        stp.x[lane, s] = x
        stp.u[lane, s] = u
    stp.last[lane, s] = step
    return u * x


@njit(**_HELPER)
def stp_deliver(stp, c, b, t, lane, ln, rs, step, kind, sbase, tgt, npost, doff, poff, lo, hi, ring_idx,
                ring_cnt, src, stages, w_dense, w_cut, w_idx, w_sdata, w_sdelay, dbuf, dbase, with_delays,
                kg):  # pragma: no cover - compiled
    """Deliver the spikes of lane ``ln`` in ring slot ``rs`` (step ``step``) through STP connection ``c``.

    Returns False (and does nothing) when the connection has no plasticity.
    The arguments are those of the kernel's delivery loop: ``lo:hi`` the
    part's post neurons (dense rows), ``poff`` the connection's first CSR
    row, ``dbase`` the group's block in the ring of future inputs
    (per-synapse delays; ``with_delays[0]`` the ring's length, None
    without them).
    """
    if stp.conn_off[c] < 0:
        return False
    for q in range(ring_cnt[ln, rs, src]):
        j = ring_idx[ln, rs, sbase + q]
        f = stp_factor(stp, c, lane, j, step)
        if kind == CONN_DENSE:
            row = doff + j * npost
            for i in range(lo, hi):
                stages[b, tgt + i] += f * w_dense[row + i]
        elif kind == CONN_SPARSE_UNIFORM:
            w = f * w_dense[doff]
            for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                stages[b, tgt + w_idx[e]] += w
        elif kind == CONN_SPARSE_DELAYED:
            if with_delays is not None:  # else pruned: no per-synapse delays in the network
                n_dring = with_delays[0]
                for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                    ds = (kg + w_sdelay[e + doff]) % n_dring
                    dbuf[b, dbase + ds * npost + w_idx[e]] += f * w_sdata[e + doff]
        else:
            for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                stages[b, tgt + w_idx[e]] += f * w_sdata[e + doff]
    return True
