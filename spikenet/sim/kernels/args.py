"""The network kernel's arguments, grouped by role into NamedTuples.

:func:`spikenet.sim.kernels.network._run_copy` takes the per-call scalars
(``b, t, k0, n_chunk, dt``), the per-lane step counter ``kstart``, the
compile-time switches (``sync`` and the ``with_*`` arguments, each an array
or None) and the features' NamedTuples as plain arguments, and everything
else in the groups below. Each group holds arrays that change together:
:class:`Parts`, :class:`Pops`, :class:`Groups`, :class:`Conns` and
:class:`Ring`'s offsets are fixed when a network is built; :class:`State`
carries the dynamic state from run to run; :class:`Work` holds scratch
buffers; :class:`Chunk`, :class:`Rec` and :class:`Spk` are made for each
call. The array layout is described in the docstring of
:mod:`spikenet.sim.kernels.network`.

The compile-time switches stay plain arguments on purpose: Numba removes a
branch under ``if x is None`` at compile time only when ``x`` is an argument
of the function, not a field of a NamedTuple.

This module does not import Numba: a network served by the ahead-of-time
compiled kernel (:mod:`spikenet.sim.aot`) builds these tuples without it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["CORE_GROUPS", "Chunk", "Conns", "Groups", "Parts", "Pops", "Rec", "Ring", "Spk", "State", "Work"]


class Parts(NamedTuple):
    """The split of a batch copy into parts, one thread each (the kernel argument ``parts``).

    Attributes
    ----------
    n_parts : int
        Number of parts (1 for batched networks and single-thread runs).
    part_lo, part_hi : ndarray of int64, shape (n_parts, n_pops)
        Part ``t`` owns neurons ``part_lo[t, p]:part_hi[t, p]`` of population ``p``.
    """

    n_parts: int
    part_lo: np.ndarray
    part_hi: np.ndarray


class State(NamedTuple):
    """The dynamic state, updated in place (the kernel argument ``state``).

    Attributes
    ----------
    v : ndarray, shape (batch, n_neurons)
        Membrane potentials (LIF: normalised units; HH: mV), state dtype.
    ref_end : ndarray of float64, shape (batch, n_neurons)
        Absolute time (s) at which a LIF neuron's refractory period ends.
    gate_m, gate_h, gate_n : ndarray, shape (batch, n_neurons)
        HH gating variables (placeholders for LIF-only networks), state dtype.
    stages : ndarray, shape (batch, n_stage_values)
        Synaptic stages of every group (the last stage is the group's current).
    dbuf : ndarray, shape (batch, n_dbuf)
        Ring of future inputs of the groups with per-synapse delays.
    """

    v: np.ndarray
    ref_end: np.ndarray
    gate_m: np.ndarray
    gate_h: np.ndarray
    gate_n: np.ndarray
    stages: np.ndarray
    dbuf: np.ndarray


class Work(NamedTuple):
    """Scratch buffers the kernel writes and never reads across steps (the kernel argument ``work``).

    Attributes
    ----------
    scratch : ndarray, shape (batch, n_neurons)
        Per-neuron scratch (a LIF block's input part, HH currents), state dtype.
    flags : ndarray of uint8, shape (lanes, LIF_BLOCK)
        Event flags of one LIF block per lane.
    flag_words : ndarray of uint64, shape (lanes, LIF_BLOCK // 8)
        The same memory as ``flags`` read as 8-byte words.
    zeros : ndarray, shape (lanes, LIF_BLOCK)
        Zeros in the state dtype (the missing second synapse of a fused pass).
    """

    scratch: np.ndarray
    flags: np.ndarray
    flag_words: np.ndarray
    zeros: np.ndarray


class Pops(NamedTuple):
    """The populations: layout, kind, parameters and constant drive (the kernel argument ``pops``).

    Attributes
    ----------
    pop_voff : ndarray of int64, shape (n_pops,)
        Column of the population's time-varying drive in ``Chunk.jvar``, or -1.
    pop_kind : ndarray of int64, shape (n_pops,)
        Population kind (``LIF_KIND``, ``HH_KIND``, ...; see :mod:`~spikenet.sim.kernels.layout`).
    pop_off, pop_n : ndarray of int64, shape (n_pops,)
        First neuron in neuron space and number of neurons.
    pop_par : ndarray, shape (n_pops, N_POP_PAR)
        Model parameters (columns in :mod:`~spikenet.sim.kernels.layout`), state dtype.
    pop_fuse : ndarray of int64, shape (n_pops, 4)
        Fused LIF pass: mode (0 none, 1 or 2 synapses), the fused groups, and
        1 when the population's constant drive is one value for all its
        neurons and batch copies, else 0 (all four -1 without a fused pass).
    pop_jblock : ndarray, shape (n_pops, LIF_BLOCK)
        For a population with ``pop_fuse[p, 3] == 1``, its one drive repeated
        over a block: the fused pass reads it, a block that stays in cache,
        instead of a drive per neuron from memory. State dtype.
    jconst : ndarray, shape (batch, n_neurons)
        Constant drive (bias) of every neuron, state dtype.
    """

    pop_voff: np.ndarray
    pop_kind: np.ndarray
    pop_off: np.ndarray
    pop_n: np.ndarray
    pop_par: np.ndarray
    pop_fuse: np.ndarray
    pop_jblock: np.ndarray
    jconst: np.ndarray


class Groups(NamedTuple):
    """The synapse groups, one per (post population, synapse) (the kernel argument ``groups``).

    Attributes
    ----------
    grp_post, grp_nst, grp_off : ndarray of int64, shape (n_groups,)
        Post population, number of stages, and offset of stage 0 in ``State.stages``.
    grp_fused : ndarray of int64, shape (n_groups,)
        1 where a fused LIF pass (or the jump pass) advances the group.
    coef : ndarray, shape (n_coef,)
        Propagator, drive and step-average coefficients of every group, state dtype.
    grp_prop_off, grp_c_off, grp_avg_off : ndarray of int64, shape (n_groups,)
        Offsets of the group's propagator matrix, drive and average coefficients in ``coef``.
    grp_doff : ndarray of int64, shape (n_groups,)
        Offset of the group's block in ``State.dbuf`` (per-synapse delays), or -1.
    jump_grp : ndarray of int64, shape (n_jump_groups,)
        The groups of Delta synapses (voltage jumps).
    """

    grp_post: np.ndarray
    grp_nst: np.ndarray
    grp_off: np.ndarray
    grp_fused: np.ndarray
    coef: np.ndarray
    grp_prop_off: np.ndarray
    grp_c_off: np.ndarray
    grp_avg_off: np.ndarray
    grp_doff: np.ndarray
    jump_grp: np.ndarray


class Conns(NamedTuple):
    """The connections and their weights (the kernel argument ``conns``).

    Attributes
    ----------
    conn_src, conn_grp, conn_delay, conn_kind, conn_npost, conn_ptr_off, conn_data_off : ndarray of int64, \
shape (n_conns,)
        Source, target group, delay (steps), kind (``CONN_*``), number of
        targets, offset of the CSR rows in ``w_cut`` and of the weights.
    w_dense : ndarray, shape (n_dense,)
        Dense blocks (pre-major, divided by ``tau_s``) and shared weights, state dtype.
    w_cut : ndarray of int64, shape (n_parts + 1, n_rows)
        Where part ``t``'s targets begin in each CSR row (absolute offsets into ``w_idx``).
    w_idx : ndarray of int32, shape (n_synapses + 1,)
        CSR target indices.
    w_sdata : ndarray, shape (n_weights,)
        Per-synapse weights, state dtype.
    w_sdelay : ndarray of uint16, shape (n_weights + 1,)
        Per-synapse delays (steps beyond the connection's shortest).
    """

    conn_src: np.ndarray
    conn_grp: np.ndarray
    conn_delay: np.ndarray
    conn_kind: np.ndarray
    conn_npost: np.ndarray
    conn_ptr_off: np.ndarray
    conn_data_off: np.ndarray
    w_dense: np.ndarray
    w_cut: np.ndarray
    w_idx: np.ndarray
    w_sdata: np.ndarray
    w_sdelay: np.ndarray


class Ring(NamedTuple):
    """The ring of recent spikes per source (the kernel argument ``ring``).

    Attributes
    ----------
    src_off : ndarray of int64, shape (n_sources,)
        Offset of each source's spike list in a ring slot.
    ring_idx : ndarray of int32, shape (lanes, n_ring, n_ring_values)
        Spiking neurons of each source per slot (step ``k`` in slot ``k % n_ring``).
    ring_cnt : ndarray of int64, shape (lanes, n_ring, n_sources)
        Number of spikes of each source per slot.
    """

    src_off: np.ndarray
    ring_idx: np.ndarray
    ring_cnt: np.ndarray


class Chunk(NamedTuple):
    """The external inputs of one chunk of steps (the kernel argument ``chunk``).

    Attributes
    ----------
    jvar : ndarray, shape (n_chunk, batch, n_var)
        Time-varying drive of the populations with one (see ``Pops.pop_voff``), state dtype.
    ev_ptr : ndarray of int64, shape (batch, n_chunk + 1)
        Step ``k``'s external input spikes are ``ev_idx[b, ev_ptr[b, k]:ev_ptr[b, k + 1]]``.
    ev_idx : ndarray of int64, shape (batch, n_events, 2)
        (source, neuron) of each external input spike.
    """

    jvar: np.ndarray
    ev_ptr: np.ndarray
    ev_idx: np.ndarray


class Rec(NamedTuple):
    """What to record, and where (the kernel argument ``rec``).

    Attributes
    ----------
    rec_pop, rec_state, rec_col, rec_idx_off, rec_len : ndarray of int64, shape (n_specs,)
        Per recording: population, state code (``REC_*``), first column in
        ``rec_out``, offset and number of its neuron indices in ``rec_idx``.
    rec_idx : ndarray of int64, shape (n_indices,)
        Recorded neurons (indices within their population).
    rec_out : ndarray, shape (n_chunk, batch, n_columns)
        Recorded values at the start of each step, state dtype.
    """

    rec_pop: np.ndarray
    rec_state: np.ndarray
    rec_col: np.ndarray
    rec_idx_off: np.ndarray
    rec_len: np.ndarray
    rec_idx: np.ndarray
    rec_out: np.ndarray


class Spk(NamedTuple):
    """The spike buffers of one call, one row per lane (the kernel argument ``spk``).

    Attributes
    ----------
    spk_step : ndarray of int64, shape (lanes, cap)
        Global step of each spike.
    spk_idx : ndarray of int32, shape (lanes, cap)
        Neuron (in neuron space).
    spk_off : ndarray of float64, shape (lanes, cap)
        Spike time within its step (s).
    spk_cnt : ndarray of int64, shape (lanes,)
        Number of spikes in each lane's buffer.
    """

    spk_step: np.ndarray
    spk_idx: np.ndarray
    spk_off: np.ndarray
    spk_cnt: np.ndarray


#: Names of the groups above: a kernel-key entry of another NamedTuple is a feature's (see ``_aot_lookup``).
CORE_GROUPS = frozenset(c.__name__ for c in (Parts, State, Work, Pops, Groups, Conns, Ring, Chunk, Rec, Spk))
