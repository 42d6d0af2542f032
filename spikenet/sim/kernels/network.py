"""The network kernel: one call runs every step of a chunk for every batch copy (or part of one).

Arguments: the per-call scalars ``b, t, k0, n_chunk, dt``, the per-lane step
counter ``kstart``, the compile-time switches (``sync`` and the ``with_*``
arguments below) and the features' NamedTuples are plain arguments; the
arrays travel in the NamedTuples of :mod:`spikenet.sim.kernels.args`
(``parts``, ``state``, ``work``, ``pops``, ``groups``, ``conns``, ``ring``,
``chunk``, ``rec``, ``spk``), which ``_run_copy`` unpacks into local
variables of their fields' names. The switches cannot be NamedTuple fields:
Numba prunes an ``is None`` branch only on an argument of the function.

Layout (all flat, so that one compiled specialisation serves every network):

- Neuron space: the populations one after another; population ``p`` holds
  neurons ``pop_off[p] : pop_off[p] + pop_n[p]`` of the state arrays
  ``v, ref_end, gate_m, gate_h, gate_n`` of shape (batch, n_neurons); ``ref_end``
  (float64) is the absolute time at which a LIF neuron's refractory period ends.
- Synapse groups: one per distinct (post population, PSC filter); group ``g``
  owns ``grp_nst[g]`` stages of ``pop_n[post]`` values each, stage ``s`` of
  neuron ``i`` at ``stages[b, grp_off[g] + s * n_post + i]``. The last stage
  is the group's current.
- Sources: populations ``0 .. n_pops-1`` then the external spike inputs. The
  spikes of source ``s`` in step ``k`` are kept in ring slot ``k % n_ring``
  (``ring_idx[b, slot, src_off[s] + c]`` for ``c < ring_cnt[b, slot, s]``)
  for as long as the longest delay needs them (``n_ring`` is the longest
  delay in steps plus 2).
- Connections: a spike of source neuron ``j`` adds row ``j`` of the
  transposed weights (already divided by ``tau_s``) to stage 0 of its group:
  a contiguous row of a dense block in ``w_dense``, or a CSR row with
  per-synapse weights in ``w_sdata`` or one shared weight (see ``CONN_*``).
  ``w_cut[t, r]`` (absolute offsets into ``w_idx``) is where part ``t``'s
  targets begin in CSR row ``r``; ``w_cut[n_parts, r]`` is the row's end.
- Parts and lanes: a copy may be split into parts that run on their own
  threads (see ``_run_copy``); the arrays written by one thread (``kstart``,
  ``flags``, ``flag_words``, ``zeros``, ``ring_idx``, ``ring_cnt`` and the
  spike buffers) have one row per lane, ``b + t`` for part ``t`` of copy ``b``.

Order inside step ``k`` (global index ``k0 + k``):

1. deliver the spikes of step ``k0 + k - 1 - delay`` of every connection
   (per-synapse delays: into the group's ring of future inputs ``dbuf``,
   whose slot of this step then joins stage 0); then the voltage jumps of
   Delta groups, whose neurons taken to threshold spike at ``t[k]`` into the
   ring slot of step ``k - 1`` (see ``_lif_jumps``);
2. record the chosen states (values at ``t[k]``, jumps included);
3. clear this step's ring slot and put the external input spikes of row ``k``
   into it (they arrive at the start of the next step, like internal spikes);
4. update the neurons (LIF: exact coupled propagator, in blocks of
   ``LIF_BLOCK`` neurons whose events are flagged by the vectorised pass and
   handled right after it; HH: ``hh_step`` with the
   step-averaged synaptic current), appending spikes to the ring slot and to
   the spike buffers;
5. advance the synaptic stages exactly by their propagator.

Code paths a network does not use are pruned at compile time: the arguments
``with_hh`` (HH populations), ``with_generic`` (generic LIF pass and stage
update), ``with_rec`` (recording), ``with_dense`` and ``with_sparse_w``
(delivery of dense and of per-synapse-weight sparse connections), ``with_delta``
(the jump pass of Delta synapses) and ``with_delays`` (per-synapse delays; it
holds the length of their ring) are either a
1-element array (keep) or None, and Numba removes the branches under a
None-typed ``is None`` test. Each network compiles, and caches, only its own
specialisation: less to compile on a cold start, smaller loops on a warm one.

The arguments after ``with_delays`` are the features' NamedTuples, each None
(pruned) when a network does not use the feature:

- ``stp``: the short-term plasticity of the connections that have it
  (:class:`~spikenet.sim.kernels.stp.STPArgs`, delivered by
  :func:`~spikenet.sim.kernels.stp.stp_deliver`);
- ``inp``: the stochastic inputs (:class:`~spikenet.sim.kernels.inputs.InpArgs`:
  Poisson inputs joining stage 0 after step 1's delivery, spike-source
  populations emitting in step 4, white noise of LIF and HH populations in
  step 4; see :mod:`spikenet.sim.kernels.inputs`);
- ``cond``: the conductance synapses
  (:class:`~spikenet.sim.kernels.conductance.CondArgs`; populations receiving
  them are updated by :func:`~spikenet.sim.kernels.conductance.cond_population`);
- ``gen``: populations of :class:`~spikenet.sim.models.NeuronModel` neurons
  (kind ``GEN_KIND + m``) and LIF/HH populations with per-neuron parameters
  (:class:`spikenet.sim.kernels.generic.GenArgs`). This module never updates
  model populations itself: :func:`spikenet.sim.kernels.compose.network_kernel`
  writes a copy of its source with the marker line of the neuron update
  replaced by one branch per model class, and networks with such populations
  run that copy.
- ``plast``: spike-timing-dependent plasticity
  (:class:`~spikenet.sim.kernels.plasticity.PlastArgs`): weights updated
  event by event at pre-synaptic arrivals and post-synaptic spikes, see
  :mod:`spikenet.sim.kernels.plasticity`.
"""

from __future__ import annotations

import math

from numba import njit, prange

from spikenet.sim.kernels import inputs as _inp
from spikenet.sim.kernels.atomics import atomic_load, atomic_store, spin_barrier
from spikenet.sim.kernels.borrow import borrow
from spikenet.sim.kernels.conductance import cond_population
from spikenet.sim.kernels.flagscan import next_word as _next_word
from spikenet.sim.kernels.generic import (  # noqa: F401 - gen_drive, gen_*spike: for the generated kernels
    gen_drive,
    gen_jump_spike,
    gen_spike,
    gen_state_value,
    hh_pn_population,
    lif_pn_population,
)
from spikenet.sim.kernels.hh import hh_step
from spikenet.sim.kernels.layout import (  # noqa: F401 - re-exported: the kernel's layout
    CONN_DENSE,
    CONN_SPARSE,
    CONN_SPARSE_DELAYED,
    CONN_SPARSE_UNIFORM,
    HH_KIND,
    HHPN_KIND,
    LIF_BLOCK,
    LIF_KIND,
    LIFPN_KIND,
    N_POP_PAR,
    REC_GEN,
    REC_H,
    REC_ISYN,
    REC_M,
    REC_N,
    REC_REF,
    REC_V,
    SYNC_STOP,
)
from spikenet.sim.kernels.plasticity import plast_step_begin, plast_step_end
from spikenet.sim.kernels.pn_features import cond_pn_population, pn_row
from spikenet.sim.kernels.prefetch import prefetch
from spikenet.sim.kernels.release import free_voltage, fused_free_voltage
from spikenet.sim.kernels.stp import stp_deliver

# Synaptic delivery asks for the connectivity rows of the spike this many
# places ahead in the list while it delivers the current one (see prefetch.py).
# Written out at each delivery loop rather than as a helper, which would be
# compiled once per array type (cold-start compile time).
_PREFETCH_AHEAD = 2
# Options of the helpers called only from the kernel: no wrappers for calls
# from Python or C, which Numba would otherwise build (cold-start compile time).
_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}
# The copy kernel is compiled without Numba's reference counting (``_nrt=False``),
# and so are the helpers it calls, which inherit the option unless they set it:
# none of them allocates an array or returns one it did not receive. The
# generated helpers that call a NeuronModel's own functions (kernels/compose.py)
# set it back on, since a model's code may make arrays.
_MODEL_HELPER = {**_HELPER, "_nrt": True}


@njit(**_HELPER)
def _lif_fused(vo, u, jc, te, flag, x0, x1, a, one_ma, c0, d0, c1, d1, t_free, t_next, v_reset, v_th,
               one):  # pragma: no cover - compiled
    """Exact LIF step with two single-stage synapses, advanced in the same pass.

    A population with one synapse passes a block of zeros as ``x1`` with
    ``c1 = d1 = 0``. ``flag[i]`` is set to 1 for the neurons that need the
    event code (threshold reached, or a refractory period ending inside the
    step), 0 for the others; returns True when any is set (``one < 0``).

    A flagged neuron is left as it was (voltage and stages at the step's
    start), and the input part ``u`` (the event code's) is not stored for the
    others: leaving the rare flagged neuron alone and storing no ``u`` made
    this pass about 18 % faster. The event loop then calls the function
    again with ``one = i`` for each flagged neuron ``i``, which finishes its
    step with the same operations in the same order (the same bits) and
    stores ``u[i]``; one function for both, since each compiled function
    costs compile time.
    """
    if one >= 0:
        xa = x0[one]
        xb = x1[one]
        ui = one_ma * jc[one] + c0 * xa + c1 * xb
        x0[one] = d0 * xa
        x1[one] = d1 * xb
        u[one] = ui
        vo[one] = a * vo[one] + ui if te[one] <= t_free else v_reset
        return False
    hit = False
    for i in range(vo.shape[0]):
        xa = x0[i]
        xb = x1[i]
        ui = one_ma * jc[i] + c0 * xa + c1 * xb
        t = te[i]
        vi = vo[i]  # loaded unconditionally: a conditional load vectorises as a masked load
        vn = a * vi + ui if t <= t_free else v_reset
        ev = (vn >= v_th) | ((t > t_free) & (t < t_next))
        if not ev:  # (masked stores)
            x0[i] = d0 * xa
            x1[i] = d1 * xb
            vo[i] = vn
        flag[i] = ev
        hit |= ev
    return hit


@njit(**_HELPER)
def _lif_commit(vo, u, te, flag, a, t_free, t_next, v_reset, v_th):  # pragma: no cover - compiled
    """Exact LIF step with the input part ``u`` already summed (see ``_lif_fused``)."""
    hit = False
    for i in range(vo.shape[0]):
        t = te[i]
        vi = vo[i]
        ui = u[i]
        vn = a * vi + ui if t <= t_free else v_reset
        vo[i] = vn
        ev = (vn >= v_th) | ((t > t_free) & (t < t_next))
        flag[i] = ev
        hit |= ev
    return hit


@njit(**_HELPER)
def _scaled_copy(out, x, c):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] = c * x[i]


@njit(**_HELPER)
def _axpy(out, c, x):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] += c * x[i]


@njit(**_HELPER)
def _drain(out, x):  # pragma: no cover - compiled
    """``out += x``, then ``x = 0``."""
    for i in range(out.shape[0]):
        out[i] += x[i]
        x[i] = 0.0


@njit(**_HELPER)
def _scale(x, c):  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        x[i] *= c


@njit(**_HELPER)
def _lif_event(b, p, i, i0, off, kglob, tk, dt, a, pop_par, vo, ui, te, src_off, ring_idx, ring_cnt, slot,
               spk_step, spk_idx, spk_off, spk_cnt, jd, n, stb, grp_post, grp_nst, grp_off, grp_prop_off,
               coef, grp_avg_off, g0, g1, chains):  # pragma: no cover - compiled
    """Spike and refractory bookkeeping of LIF neuron ``i0 + i`` of population ``p`` in the current step.

    ``vo`` and ``te`` are views of the block starting at neuron ``i0`` of the
    population (which starts at ``off`` in neuron space); ``ui`` is the input
    part of the neuron's exact end-of-step voltage ``a v + ui``. ``b`` is the
    lane whose ring and spike buffers receive the spike. The free part of a
    step after a refractory period is integrated exactly from the constant
    drive ``jd`` and the synaptic stages ``stb`` (the copy's row; ``n`` the
    population's size): a population of the fused pass (its groups ``g0``,
    ``g1``; -1: none) by
    :func:`~spikenet.sim.kernels.release.fused_free_voltage` from the stages'
    end-of-step values, the others by
    :func:`~spikenet.sim.kernels.release.free_voltage`. ``chains`` is None
    when every LIF population of the network is fused, which prunes the
    general form at compile time.
    """
    inv_1ma = pop_par[p, 1]
    tau_m = pop_par[p, 2]
    tau_ref = pop_par[p, 3]
    v_th = pop_par[p, 4]
    v_reset = pop_par[p, 5]
    # Effective constant drive over the step: the constant J that takes v from
    # its start value to the exact end value (exact if the current is constant).
    jeff = ui * inv_1ma
    start = te[i] - tk
    if start > 1e-9 * dt:
        # refractory period ends inside the step: integrate the rest from v_reset
        vs = v_reset
        # (the general form is pruned when every LIF population is fused: chains None)
        if chains is None or g0 >= 0:
            v1, em = fused_free_voltage(v_reset, dt - start, tau_m, jd, i0 + i, stb, grp_off, coef,
                                        grp_avg_off, g0, g1)
        else:
            v1, em = free_voltage(v_reset, start, dt - start, tau_m, jd, p, i0 + i, n, stb, grp_post, grp_nst,
                                  grp_off, grp_prop_off, coef, grp_avg_off)
        if start > tau_ref - 1e-9 * dt:  # it spiked at tk on a voltage jump: one spike per step
            vo[i] = v1 if v1 < v_th else v_th
            return
        # the constant drive that takes v_reset to v1 over the free part (for the crossing time)
        jeff = (v1 - v_reset * (1.0 + em)) / -em
    else:
        start = 0.0
        v1 = vo[i]
        vs = (v1 - ui) / a
    if v1 < v_th:
        vo[i] = v1
        return
    # exact crossing time for the constant drive jeff (jeff > v_th unless
    # rounding says otherwise; then the spike is at the start)
    tc = 0.0 if vs >= v_th or jeff <= v_th else tau_m * math.log((jeff - vs) / (jeff - v_th))
    # (ternaries rather than min/max: those builtins are compiled as separate
    # functions, which costs cold-start compile time)
    tc = tc if tc > 0.0 else 0.0
    ts = start + (tc if tc < dt - start else dt - start)
    c = spk_cnt[b]
    spk_step[b, c] = kglob
    spk_idx[b, c] = off + i0 + i
    spk_off[b, c] = ts
    spk_cnt[b] = c + 1
    ring_idx[b, slot, src_off[p] + ring_cnt[b, slot, p]] = i0 + i
    ring_cnt[b, slot, p] += 1
    rem = dt - ts
    if pop_par[p, 6] > 0.0:
        # grid refractory period (NEST's iaf_psc_exp): v held at v_reset for
        # pop_par[p, 7] whole steps after this one, free from the start of the
        # next (the margin keeps that start on the free side of the tests)
        te[i] = (kglob + 1 + pop_par[p, 7]) * dt + 0.5e-9 * dt
        vo[i] = v_reset
        return
    te[i] = tk + ts + tau_ref
    if tau_ref >= rem:
        vo[i] = v_reset
    else:
        # free again before the step ends: integrate the rest; a second
        # threshold crossing in this step is deferred to the start of the next
        # (v is capped at v_th, so it spikes then if the drive stays above)
        if chains is None or g0 >= 0:
            v_end, _ = fused_free_voltage(v_reset, rem - tau_ref, tau_m, jd, i0 + i, stb, grp_off, coef,
                                          grp_avg_off, g0, g1)
        else:
            v_end, _ = free_voltage(v_reset, ts + tau_ref, rem - tau_ref, tau_m, jd, p, i0 + i, n, stb,
                                    grp_post, grp_nst, grp_off, grp_prop_off, coef, grp_avg_off)
        vo[i] = v_end if v_end < v_th else v_th


@njit(**_HELPER)
def _lif_jumps(lane, p, lo, hi, kglob, tk, dt, off, pop_par, vb, teb, x, src_off, ring_idx, ring_cnt, prev,
               spk_step, spk_idx, spk_off, spk_cnt):  # pragma: no cover - compiled
    """Voltage jumps (Delta synapses) arriving at ``tk`` on LIF neurons ``lo:hi`` of population ``p``.

    ``x`` (n,) holds the jumps summed per neuron (the population's Delta
    group; cleared here), ``vb`` and ``teb`` the copy's voltages and
    refractory ends (neuron space, the population from ``off``). A neuron
    whose refractory period has not ended before ``tk`` ignores its jumps (as
    in NEST, a jump arriving exactly at its end too). A neuron taken to
    ``v_th`` spikes at ``tk`` itself: its spike is stamped ``tk`` (step
    ``kglob``, offset 0) and joins the ring slot ``prev`` of the step that
    ends at ``tk``, so that it reaches its targets at ``tk`` plus their
    delay, NEST's ``iaf_psc_delta`` timing.
    """
    tau_ref = pop_par[p, 3]
    v_th = pop_par[p, 4]
    v_reset = pop_par[p, 5]
    t_acc = tk - 1e-9 * dt  # refractory periods ending after this ignore the jump
    # The refractory period of a jump spike lasts at least 2e-9 dt, so that the
    # LIF pass sees it end inside the step and holds a second crossing at v_th
    # (at most one spike per step).
    tau_j = tau_ref if tau_ref > 2e-9 * dt else 2e-9 * dt
    base = src_off[p]
    for i in range(lo, hi):
        w = x[i]
        if w == 0.0:
            continue
        x[i] = 0.0
        if teb[off + i] > t_acc:
            continue
        vi = vb[off + i] + w
        if vi < v_th:
            vb[off + i] = vi
            continue
        c = spk_cnt[lane]
        spk_step[lane, c] = kglob
        spk_idx[lane, c] = off + i
        spk_off[lane, c] = 0.0
        spk_cnt[lane] = c + 1
        # into the slot in neuron order (after the spikes of that step, which
        # precede it unless tau_ref < dt), so that every lane delivers in the
        # order of one thread and the sums are the same bit for bit
        pos = base + ring_cnt[lane, prev, p]
        while pos > base and ring_idx[lane, prev, pos - 1] > i:
            ring_idx[lane, prev, pos] = ring_idx[lane, prev, pos - 1]
            pos -= 1
        ring_idx[lane, prev, pos] = i
        ring_cnt[lane, prev, p] += 1
        teb[off + i] = tk + tau_j
        vb[off + i] = v_reset


@njit(**_HELPER)
def _lif_pn_jumps(gen, lane, p, lo, hi, kglob, tk, dt, off, vb, teb, x, src_off, ring_idx, ring_cnt, prev,
                  spk_step, spk_idx, spk_off, spk_cnt):  # pragma: no cover - compiled
    """``_lif_jumps`` for a LIF population with per-neuron parameters: neuron by neuron, in neuron order.

    Each neuron that receives a jump gets its own constants through
    :func:`~spikenet.sim.kernels.pn_features.pn_row`; the jump spikes join the
    ring slot in neuron order, as for one thread.
    """
    for i in range(lo, hi):
        if x[i] != 0.0:
            _lif_jumps(lane, p, i, i + 1, kglob, tk, dt, off, pn_row(gen, p, i), vb, teb, x, src_off,
                       ring_idx, ring_cnt, prev, spk_step, spk_idx, spk_off, spk_cnt)


@njit(**_HELPER)
def _hh_population(b, lane, lo, hi, p, k, kglob, dt, v, gate_m, gate_h, gate_n, stages, jconst, jvar,
                   pop_voff, pop_off, pop_n, pop_par, grp_post, grp_nst, grp_off, coef, grp_avg_off, scratch,
                   src_off, ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off,
                   spk_cnt):  # pragma: no cover - compiled
    """HH neurons ``lo:hi`` of population ``p`` in copy ``b``; spikes go to lane ``lane``."""
    off = pop_off[p]
    n = pop_n[p]
    m = hi - lo
    cur = scratch[b, off + lo:off + hi]
    jc = jconst[b, off + lo:off + hi]
    for i in range(m):
        cur[i] = jc[i]
    voff = pop_voff[p]
    if voff >= 0:
        jv = jvar[k, b, voff + lo:voff + hi]
        for i in range(m):
            cur[i] += jv[i]
    # The synaptic current averaged exactly over the step.
    for g in range(grp_post.shape[0]):
        if grp_post[g] != p:
            continue
        nst = grp_nst[g]
        for s in range(nst):
            c = coef[grp_avg_off[g] + s]
            x = stages[b, grp_off[g] + s * n + lo:grp_off[g] + s * n + hi]
            for i in range(m):
                cur[i] += c * x[i]
    c_m = pop_par[p, 0]
    g_na = pop_par[p, 1]
    g_k = pop_par[p, 2]
    g_l = pop_par[p, 3]
    e_na = pop_par[p, 4]
    e_k = pop_par[p, 5]
    e_l = pop_par[p, 6]
    v_spike = pop_par[p, 7]
    dt_ms = dt * 1e3
    base = src_off[p]
    for i in range(lo, hi):
        vold = v[b, off + i]
        vn, mn, hn, nn = hh_step(vold, gate_m[b, off + i], gate_h[b, off + i], gate_n[b, off + i],
                                 cur[i - lo], dt_ms, c_m, g_na, g_k, g_l, e_na, e_k, e_l)
        v[b, off + i] = vn
        gate_m[b, off + i] = mn
        gate_h[b, off + i] = hn
        gate_n[b, off + i] = nn
        if vold < v_spike <= vn:
            c = spk_cnt[lane]
            spk_step[lane, c] = kglob
            spk_idx[lane, c] = off + i
            spk_off[lane, c] = dt * (v_spike - vold) / (vn - vold)
            spk_cnt[lane] = c + 1
            ring_idx[lane, slot, base + ring_cnt[lane, slot, p]] = i
            ring_cnt[lane, slot, p] += 1


@njit(cache=True, nogil=True, no_cfunc_wrapper=True, _nrt=False)
def _run_copy(b, t, parts, sync, k0, n_chunk, kstart, dt, state, work, pops, groups, conns, ring, chunk,
              rec, spk, with_hh, with_generic, with_rec, with_dense, with_sparse_w, with_delta, with_delays,
              stp, inp, cond, gen, plast):  # pragma: no cover - compiled
    """Advance part ``t`` of batch copy ``b`` from local step ``kstart[b + t]`` to ``n_chunk``.

    A copy is split into ``n_parts`` parts (``n_parts > 1`` only for an
    unbatched network, ``b == 0``): part ``t`` owns neurons
    ``part_lo[t, p]:part_hi[t, p]`` of each population ``p`` and runs on its
    own thread, in lock step with the others (see ``run_network_threads``).
    Its lane ``b + t`` indexes the per-thread arrays (``kstart``, flags,
    ring, spike buffers). A part delivers the spikes of every lane of its copy
    to its own neurons only (the row of source ``j`` in connection ``c`` is
    cut at ``w_cut[t, row]:w_cut[t + 1, row]``), so the parts share no
    written memory within a step; they meet once per step at a barrier on
    ``sync``. With one part ``sync`` is None and the barrier code is pruned
    at compile time (so it costs an unsplit network no compile time).

    The arrays come in the NamedTuples of :mod:`spikenet.sim.kernels.args`
    (``parts`` to ``spk``), unpacked here into the local names the body uses.
    """
    # Every array is borrowed (kernels/borrow.py), one argument group at a
    # time: the kernel and its helpers count no references (``_nrt=False``),
    # but the generated helpers of NeuronModel populations do, and each
    # counted array passed to them costs a pair of atomic count updates per
    # call.
    parts, state, work, pops = borrow(parts), borrow(state), borrow(work), borrow(pops)
    groups, conns, ring, chunk, spk = borrow(groups), borrow(conns), borrow(ring), borrow(chunk), borrow(spk)
    n_parts, part_lo, part_hi = parts
    v, ref_end, gate_m, gate_h, gate_n, stages, dbuf = state
    scratch, flags, flag_words, zeros = work
    pop_voff, pop_kind, pop_off, pop_n, pop_par, pop_fuse, pop_jblock, jconst = pops
    (grp_post, grp_nst, grp_off, grp_fused, coef, grp_prop_off, grp_c_off, grp_avg_off, grp_doff,
     jump_grp) = groups
    (conn_src, conn_grp, conn_delay, conn_kind, conn_npost, conn_ptr_off, conn_data_off, w_dense, w_cut,
     w_idx, w_sdata, w_sdelay) = conns
    src_off, ring_idx, ring_cnt = ring
    jvar, ev_ptr, ev_idx = chunk
    rec_pop, rec_state, rec_col, rec_idx_off, rec_len, rec_idx, rec_out = rec
    spk_step, spk_idx, spk_off, spk_cnt = spk
    n_pops = pop_n.shape[0]
    n_src = ring_cnt.shape[2]
    n_ring = ring_idx.shape[1]
    cap = spk_step.shape[1]
    lane = b + t
    no_one = lane - lane - 1  # -1, not a literal: _lif_fused compiles once for both of its calls
    n_mine = 0  # neurons of this part: the most spikes it can add in one step
    for p in range(n_pops):
        n_mine += part_hi[t, p] - part_lo[t, p]
    if with_delta is not None:  # else pruned: a margin over one spike per neuron (jump or crossing)
        n_mine *= 2
    k = kstart[lane]
    flag = flags[lane]  # event flags of one LIF block
    words = flag_words[lane]  # the same memory read as 8-byte words
    zero_block = zeros[lane]  # the missing second synapse of a population with one
    if sync is not None:  # else pruned: one part (sync=None)
        # every part stops at the first step at which any part's buffer could
        # overflow: announced before a barrier, read after it
        if spk_cnt[lane] + n_mine > cap:
            atomic_store(sync, SYNC_STOP, k)
        spin_barrier(sync, n_parts)
    while k < n_chunk:
        if sync is not None:
            if atomic_load(sync, SYNC_STOP) <= k:
                break
        elif spk_cnt[lane] + n_mine > cap:
            break
        kg = k0 + k
        if plast is not None:  # else pruned: no plastic connection (kernels/plasticity.py)
            plast_step_begin(plast, t, lane, kg, spk_cnt[lane], w_dense, w_sdata)
        # 1. deliver the spikes of every lane of the copy to this part's neurons
        for c in range(conn_src.shape[0]):
            src = conn_src[c]
            rs = (kg - 1 - conn_delay[c]) % n_ring
            g = conn_grp[c]
            tgt = grp_off[g]
            npost = conn_npost[c]
            sbase = src_off[src]
            kind = conn_kind[c]
            doff = conn_data_off[c]
            if plast is not None:  # each batch copy's own plastic weights (stride 0: shared weights)
                doff += b * plast.stride[c]
            for ln in range(b, b + n_parts):
                cnt = ring_cnt[ln, rs, src]
                if cnt == 0:
                    continue
                # short-term plasticity (pruned without it: stp=None; a single
                # `and` would not be pruned)
                if stp is not None:  # noqa: SIM102
                    if stp_deliver(stp, c, b, t, lane, ln, rs, kg - 1 - conn_delay[c], kind, sbase, tgt,
                                   npost, doff, conn_ptr_off[c], part_lo[t, grp_post[g]],
                                   part_hi[t, grp_post[g]], ring_idx, ring_cnt, src, stages, w_dense, w_cut,
                                   w_idx, w_sdata, w_sdelay, dbuf, grp_doff[g], with_delays, kg):
                        continue
                if kind == CONN_DENSE:
                    if with_dense is None:  # pruned: the network has no dense connection
                        continue
                    lo = part_lo[t, grp_post[g]]
                    hi = part_hi[t, grp_post[g]]
                    for q in range(cnt):
                        j = ring_idx[ln, rs, sbase + q]
                        row = doff + j * npost
                        for i in range(lo, hi):
                            stages[b, tgt + i] += w_dense[row + i]
                elif kind == CONN_SPARSE_UNIFORM:
                    # one weight for every synapse: only the target indices are read
                    w = w_dense[doff]
                    poff = conn_ptr_off[c]
                    for q in range(cnt):
                        if q + _PREFETCH_AHEAD < cnt:  # one hint per 64-byte line of the row
                            jn = ring_idx[ln, rs, sbase + q + _PREFETCH_AHEAD]
                            for e in range(w_cut[t, poff + jn], w_cut[t + 1, poff + jn], 16):
                                prefetch(w_idx, e)
                        j = ring_idx[ln, rs, sbase + q]
                        for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                            stages[b, tgt + w_idx[e]] += w
                elif with_sparse_w is not None:  # else pruned: no sparse connection with per-synapse weights
                    poff = conn_ptr_off[c]
                    if with_delays is not None and kind == CONN_SPARSE_DELAYED:
                        # per-synapse delays (pruned without them): into the
                        # group's ring of future inputs, `delay` steps ahead
                        if plast is not None:  # noqa: SIM102 - STDP: sent by the plasticity pass
                            if plast.skip[c]:
                                continue
                        n_dring = with_delays[0]
                        dbase = grp_doff[g]
                        for q in range(cnt):
                            j = ring_idx[ln, rs, sbase + q]
                            for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                                ds = (kg + w_sdelay[e + doff]) % n_dring
                                dbuf[b, dbase + ds * npost + w_idx[e]] += w_sdata[e + doff]
                        continue
                    for q in range(cnt):
                        if q + _PREFETCH_AHEAD < cnt:
                            jn = ring_idx[ln, rs, sbase + q + _PREFETCH_AHEAD]
                            e0 = w_cut[t, poff + jn]
                            for e in range(e0, w_cut[t + 1, poff + jn], 8):  # 8 weights, 16 indices per line
                                prefetch(w_sdata, e + doff)
                                if (e - e0) % 16 == 0:
                                    prefetch(w_idx, e)
                        j = ring_idx[ln, rs, sbase + q]
                        for e in range(w_cut[t, poff + j], w_cut[t + 1, poff + j]):
                            stages[b, tgt + w_idx[e]] += w_sdata[e + doff]
        # 1a. the inputs of per-synapse-delay connections due now join the
        # first stage of their groups (pruned without them: with_delays=None)
        if with_delays is not None:
            ds = kg % with_delays[0]
            for g in range(grp_post.shape[0]):
                if grp_doff[g] < 0:
                    continue
                npop = pop_n[grp_post[g]]
                lo = part_lo[t, grp_post[g]]
                hi = part_hi[t, grp_post[g]]
                d0 = grp_doff[g] + ds * npop
                _drain(stages[b, grp_off[g] + lo:grp_off[g] + hi], dbuf[b, d0 + lo:d0 + hi])
        # 1c. in-kernel Poisson inputs join stage 0 like delivered spikes
        # (pruned without stochastic inputs: inp=None)
        if inp is not None:
            _inp.poisson_inputs(inp, b, t, kg, stages, grp_off, part_lo, part_hi)
        # 1b. voltage jumps (Delta synapses) of this part's neurons, summed in
        # their groups' stage by the delivery above (pruned without Delta
        # synapses: with_delta=None)
        if with_delta is not None:
            prev = (kg - 1) % n_ring
            for q in range(jump_grp.shape[0]):
                g = jump_grp[q]
                p = grp_post[g]
                xg = stages[b, grp_off[g]:grp_off[g] + pop_n[p]]
                if pop_kind[p] == LIF_KIND:
                    _lif_jumps(lane, p, part_lo[t, p], part_hi[t, p], kg, kg * dt, dt, pop_off[p], pop_par,
                               v[b], ref_end[b], xg, src_off, ring_idx, ring_cnt, prev, spk_step, spk_idx,
                               spk_off, spk_cnt)
                elif gen is not None and pop_kind[p] == LIFPN_KIND:  # per-neuron parameters
                    _lif_pn_jumps(gen, lane, p, part_lo[t, p], part_hi[t, p], kg, kg * dt, dt, pop_off[p],
                                  v[b], ref_end[b], xg, src_off, ring_idx, ring_cnt, prev, spk_step, spk_idx,
                                  spk_off, spk_cnt)
                # @generated-model-jumps (NeuronModel populations, see kernels/compose.py)
        if plast is not None:  # the spikes so far in this step are jump spikes
            plast.cnt[lane, 1] = spk_cnt[lane]
        # 2. record this part's chosen states at t[k] (pruned when nothing is
        # recorded: with_rec=None)
        if with_rec is not None:
            for r in range(rec_pop.shape[0]):
                p = rec_pop[r]
                st = rec_state[r]
                col = rec_col[r]
                ioff = rec_idx_off[r]
                off = pop_off[p]
                npop = pop_n[p]
                lo = part_lo[t, p]
                hi = part_hi[t, p]
                for q in range(rec_len[r]):
                    i = rec_idx[ioff + q]
                    if i < lo or i >= hi:
                        continue
                    if st == REC_V:
                        val = v[b, off + i]
                    elif st == REC_M and with_hh is not None:
                        val = gate_m[b, off + i]
                    elif st == REC_H and with_hh is not None:
                        val = gate_h[b, off + i]
                    elif st == REC_N and with_hh is not None:
                        val = gate_n[b, off + i]
                    elif st == REC_REF:
                        val = ref_end[b, off + i] - kg * dt
                        val = val if val > 0.0 else 0.0
                    else:
                        val = 0.0
                        for g in range(grp_post.shape[0]):
                            if grp_post[g] == p:
                                val += stages[b, grp_off[g] + (grp_nst[g] - 1) * npop + i]
                    if gen is not None:  # noqa: SIM102 - else pruned: no NeuronModel population
                        if st >= REC_GEN:
                            val = gen_state_value(gen, b, p, st - REC_GEN, i, npop)
                    rec_out[k, b, col + q] = val
        # 3. this step's ring slot of the lane: clear, then (first part only)
        # the external input spikes
        slot = kg % n_ring
        for s in range(n_src):
            ring_cnt[lane, slot, s] = 0
        if t == 0:
            for e in range(ev_ptr[b, k], ev_ptr[b, k + 1]):
                s = ev_idx[b, e, 0]
                ring_idx[lane, slot, src_off[s] + ring_cnt[lane, slot, s]] = ev_idx[b, e, 1]
                ring_cnt[lane, slot, s] += 1
        # 4. neurons
        for p in range(n_pops):
            lo = part_lo[t, p]
            hi = part_hi[t, p]
            if inp is not None:  # source populations; the noise current of HH and NeuronModel populations
                if inp.src_kind[p] >= 0:
                    _inp.source_population(inp, b, lane, p, lo, hi, kg, pop_off[p], src_off, ring_idx,
                                           ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt)
                    continue
                if _inp.current_noise(inp, pop_kind[p], p):
                    _inp.hh_noise_on(inp, b, p, lo, hi, kg, dt, pop_off[p], jconst)
            if cond is not None and cond.pop_mode[p] != 0:  # else pruned: populations receiving conductances
                if gen is not None and (pop_kind[p] == LIFPN_KIND or pop_kind[p] == HHPN_KIND):
                    cond_pn_population(cond, gen, b, lane, lo, hi, p, k, kg, dt, v, ref_end, gate_m, gate_h,
                                       gate_n, stages, jconst, jvar, pop_voff, pop_off, pop_n, grp_post,
                                       grp_nst, grp_off, grp_prop_off, grp_avg_off, coef, flag, src_off,
                                       ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt)
                else:
                    cond_population(cond, b, lane, lo, hi, p, k, kg, dt, v, ref_end, gate_m, gate_h, gate_n,
                                    stages, jconst, jvar, pop_voff, pop_off, pop_n, pop_par, grp_post,
                                    grp_nst, grp_off, grp_prop_off, grp_avg_off, coef, flag, src_off,
                                    ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt)
                if inp is not None and _inp.current_noise(inp, pop_kind[p], p):
                    _inp.hh_noise_off(inp, b, lo, hi, pop_off[p], jconst)
                continue
            if pop_kind[p] == LIF_KIND:
                off = pop_off[p]
                n = pop_n[p]
                a = pop_par[p, 0]
                one_ma = 1.0 - a
                v_th = pop_par[p, 4]
                v_reset = pop_par[p, 5]
                tk = kg * dt
                t_free = tk + 1e-9 * dt  # refractory periods ending before this are over
                t_next = tk + dt
                mode = pop_fuse[p, 0]
                voff = pop_voff[p]
                g0 = pop_fuse[p, 1]
                g1 = pop_fuse[p, 2]
                # Block by block: one vectorised pass updates the block (and
                # advances fused single-stage synapses) and flags the neurons
                # that need the event code, which then runs while the block is
                # still in cache. The passes live in small helpers that receive
                # 1-D views: LLVM vectorises them there, but not when the views
                # of one array are made in the loop's own function (it cannot
                # rule out overlap). scratch holds the block's u, the input part
                # of the exact end-of-step voltage a v + u (one block per part).
                for i0 in range(lo, hi, LIF_BLOCK):
                    i1 = i0 + LIF_BLOCK if i0 + LIF_BLOCK < hi else hi
                    vo = v[b, off + i0:off + i1]
                    te = ref_end[b, off + i0:off + i1]
                    u = scratch[b, off + lo:off + lo + i1 - i0]
                    fused = (mode == 1 or mode == 2) and voff < 0
                    if fused and pop_fuse[p, 3] == 1:  # one drive for the whole population
                        jc = pop_jblock[p, 0:i1 - i0]  # the same values, from a block in cache
                    else:
                        jc = jconst[b, off + i0:off + i1]
                    # (defined on every path: the event loop below reads them for
                    # fused populations; a variable defined on one path only cost
                    # the kernel 0.1 s of Numba type inference)
                    x0 = x1 = zero_block[0:i1 - i0]
                    c0 = d0 = c1 = d1 = zero_block[0]
                    if fused:
                        x0 = stages[b, grp_off[g0] + i0:grp_off[g0] + i1]
                        c0 = coef[grp_c_off[g0]]
                        d0 = coef[grp_prop_off[g0]]
                        if mode == 2:
                            x1 = stages[b, grp_off[g1] + i0:grp_off[g1] + i1]
                            c1 = coef[grp_c_off[g1]]
                            d1 = coef[grp_prop_off[g1]]
                        # (one synapse: the second is the block of zeros set above)
                        hit = _lif_fused(vo, u, jc, te, flag, x0, x1, a, one_ma, c0, d0, c1, d1, t_free,
                                         t_next, v_reset, v_th, no_one)
                    elif with_generic is not None:
                        # generic: any number of synapses and stages, time-varying
                        # input; the stages are advanced later, in step 5
                        _scaled_copy(u, jc, one_ma)
                        if voff >= 0:
                            _axpy(u, one_ma, jvar[k, b, voff + i0:voff + i1])
                        for g in range(grp_post.shape[0]):
                            if grp_post[g] != p:
                                continue
                            for sg in range(grp_nst[g]):
                                base = grp_off[g] + sg * n
                                _axpy(u, coef[grp_c_off[g] + sg], stages[b, base + i0:base + i1])
                        if inp is not None and inp.nz_sigma[p] > 0.0:  # white noise: its own exact step
                            _inp.lif_noise_block(inp, b, lane, p, i0, kg, tk, dt, off, pop_par, vo, u, te,
                                                 src_off, ring_idx, ring_cnt, slot, spk_step, spk_idx,
                                                 spk_off, spk_cnt, jc, jvar, k, voff, n, stages[b], grp_post,
                                                 grp_nst, grp_off, grp_prop_off, coef, grp_avg_off)
                            continue
                        hit = _lif_commit(vo, u, te, flag, a, t_free, t_next, v_reset, v_th)
                    else:
                        hit = False  # not reached: networks with generic populations pass with_generic
                    if not hit:
                        continue
                    # Rare paths: threshold crossings and refractory periods
                    # ending mid-step. The flags are read eight at a time, so
                    # only words holding a set flag are looked at neuron by neuron.
                    m = i1 - i0
                    nw = (m + 7) // 8
                    e0 = g0 if fused else -1  # the fused groups, for the exact release step
                    e1 = g1 if fused and mode == 2 else -1
                    wq = _next_word(words, 0, nw)
                    while wq < nw:
                        for i in range(8 * wq, 8 * wq + 8 if 8 * wq + 8 < m else m):
                            if flag[i]:
                                if fused:  # the pass left this neuron at the step's start: its step
                                    _lif_fused(vo, u, jc, te, flag, x0, x1, a, one_ma, c0, d0, c1, d1, t_free,
                                               t_next, v_reset, v_th, i)
                                jd = jc[i] + jvar[k, b, voff + i0 + i] if voff >= 0 else jc[i]
                                _lif_event(lane, p, i, i0, off, kg, tk, dt, a, pop_par, vo, u[i], te, src_off,
                                           ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt, jd,
                                           n, stages[b], grp_post, grp_nst, grp_off, grp_prop_off, coef,
                                           grp_avg_off, e0, e1, with_generic)
                        wq = _next_word(words, wq + 1, nw)
            elif gen is not None and pop_kind[p] == LIFPN_KIND:
                # LIF with per-neuron parameters (pruned without: gen=None)
                lif_pn_population(b, lane, lo, hi, p, k, kg, dt, gen, v, ref_end, stages, jconst, jvar,
                                  pop_voff, pop_off, pop_n, grp_post, grp_nst, grp_off, scratch, flag,
                                  src_off, ring_idx, ring_cnt, slot, spk_step, spk_idx, spk_off, spk_cnt, inp,
                                  grp_prop_off, coef, grp_avg_off)
            elif gen is not None and pop_kind[p] == HHPN_KIND:
                hh_pn_population(b, lane, lo, hi, p, k, kg, dt, gen, v, gate_m, gate_h, gate_n, stages,
                                 jconst, jvar, pop_voff, pop_off, pop_n, grp_post, grp_nst, grp_off, coef,
                                 grp_avg_off, scratch, src_off, ring_idx, ring_cnt, slot, spk_step, spk_idx,
                                 spk_off, spk_cnt)
            # @generated-model-branches (NeuronModel populations, see kernels/compose.py)
            elif with_hh is not None:
                # pruned at compile time for LIF-only networks (with_hh=None),
                # so they never compile the HH code
                _hh_population(b, lane, lo, hi, p, k, kg, dt, v, gate_m, gate_h, gate_n, stages, jconst, jvar,
                               pop_voff, pop_off, pop_n, pop_par, grp_post, grp_nst, grp_off, coef,
                               grp_avg_off, scratch, src_off, ring_idx, ring_cnt, slot,
                               spk_step, spk_idx, spk_off, spk_cnt)
            if inp is not None and _inp.current_noise(inp, pop_kind[p], p):  # the drive saved by hh_noise_on
                _inp.hh_noise_off(inp, b, lo, hi, pop_off[p], jconst)
        # 5. synaptic stages not advanced by a fused LIF pass: x <- P x, in
        # place from the last stage down (pruned, like the generic LIF pass,
        # when every group is fused: with_generic=None)
        if with_generic is not None:
            for g in range(grp_post.shape[0]):
                if grp_fused[g]:
                    continue
                nst = grp_nst[g]
                npop = pop_n[grp_post[g]]
                lo = part_lo[t, grp_post[g]]
                hi = part_hi[t, grp_post[g]]
                po = grp_prop_off[g]
                for s in range(nst - 1, -1, -1):
                    xs = stages[b, grp_off[g] + s * npop + lo:grp_off[g] + s * npop + hi]
                    _scale(xs, coef[po + s * nst + s])
                    for r in range(s):
                        xr = stages[b, grp_off[g] + r * npop + lo:grp_off[g] + r * npop + hi]
                        _axpy(xs, coef[po + s * nst + r], xr)
        # 6. spike-timing-dependent plasticity of this step's events (pruned without it)
        if plast is not None:
            plast_step_end(plast, b, t, n_parts, part_lo, part_hi, sync, kg, dt, lane, ring_idx, ring_cnt,
                           src_off, pop_off, conn_delay, conn_kind, conn_npost, conn_ptr_off, conn_data_off,
                           conn_grp, grp_doff, dbuf, with_delays, w_cut, w_idx, w_dense, w_sdata, spk_idx,
                           spk_off, spk_cnt[lane])
        k += 1
        if sync is not None:
            # the spikes of this step are in every lane's ring before any part
            # delivers them; the stop for the next step is announced here
            if k < n_chunk and spk_cnt[lane] + n_mine > cap:
                atomic_store(sync, SYNC_STOP, k)
            spin_barrier(sync, n_parts)
    kstart[lane] = k


_DOC = """Advance every batch copy from local step ``kstart[b]`` to ``n_chunk``.

    All arrays are described in the module docstring and built by
    :mod:`spikenet.sim.network`. State arrays are updated in place. A copy
    stops early (``kstart[b]`` set to the step it stopped at) when its spike
    buffer could overflow within the next step; the caller grows the buffers
    and calls again. On return ``kstart[b] == n_chunk`` for finished copies.
    ``parts`` and ``sync`` describe the split of a copy into parts (see
    ``_run_copy``): ``parts.n_parts`` is 1 and ``sync`` None here.
    """


@njit(cache=True, parallel=True, no_cfunc_wrapper=True)
def run_network_batched(parts, sync, k0, n_chunk, kstart, dt, state, work, pops, groups, conns, ring, chunk,
                        rec, spk, with_hh, with_generic, with_rec, with_dense, with_sparse_w, with_delta,
                        with_delays, stp, inp, cond, gen, plast):  # pragma: no cover - compiled
    for b in prange(state.v.shape[0]):
        _run_copy(b, 0, parts, sync, k0, n_chunk, kstart, dt, state, work, pops, groups, conns, ring, chunk,
                  rec, spk, with_hh, with_generic, with_rec, with_dense, with_sparse_w, with_delta,
                  with_delays, stp, inp, cond, gen, plast)


run_network_batched.__doc__ = _DOC.replace("every batch copy", "every batch copy, in parallel over copies,")


def run_network(*args):
    """Advance the single copy of an unbatched network on this thread (see ``run_network_batched``).

    Calls the copy kernel directly: a serial wrapper around it would make
    LLVM optimise the whole loop twice and double the compile time.
    """
    _run_copy(0, 0, *args)


def run_network_threads(*args):
    """Advance the single copy of an unbatched network split into ``args[0].n_parts`` parts, one thread each.

    The arguments are those of ``run_network_batched`` with ``parts.n_parts > 1``,
    ``part_lo``/``part_hi`` of shape (n_parts, n_pops), ``sync`` an int64
    array of ``SYNC_SIZE`` zeros but for ``sync[SYNC_STOP] = NO_STOP``, and
    one lane per part in the per-thread arrays. Part 0 runs on the calling
    thread, the others on Python threads: the compiled kernel releases the
    GIL, and the parts meet once per step at a barrier (spinning, then
    sleeping), which is fast only when every part has a core of its own.
    """
    import threading

    n_parts = args[0].n_parts
    threads = [threading.Thread(target=_run_copy, args=(0, t, *args), daemon=True) for t in range(1, n_parts)]
    for th in threads:
        th.start()
    try:
        _run_copy(0, 0, *args)
    finally:
        for th in threads:
            th.join()
