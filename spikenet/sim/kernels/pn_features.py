"""White noise, Conductance and Delta synapses for LIF and HH populations with per-neuron parameters.

The network kernel's passes for white noise into LIF populations
(:func:`spikenet.sim.kernels.inputs.lif_noise_block`), for conductance
synapses (:func:`spikenet.sim.kernels.conductance.cond_population`) and for
voltage jumps (``_lif_jumps`` of :mod:`spikenet.sim.kernels.network`, whose
per-neuron loop ``_lif_pn_jumps`` lives there) read a
population's constants from row ``p`` of the kernel's ``pop_par`` table.
They work neuron by neuron (every operation on a neuron reads only that
neuron's state), so a population with per-neuron parameters (kinds
``LIFPN_KIND`` and ``HHPN_KIND``) runs them one neuron at a time, each
neuron with a table whose row ``p`` holds its own constants: exactly the
operations, in the same order, that a population of scalar parameters
runs with that neuron's values.

That table is a view of ``gen.npar`` (see
:class:`spikenet.sim.kernels.generic.GenArgs`): ``n_pops`` rows of zeros,
then one row of ``pop_par`` columns per neuron of these populations (neuron
``i`` of population ``p`` at row ``n_pops + gen.noff[p] + i``). The view
starting ``p`` rows before that row has the neuron's constants in its row
``p``; nothing is copied, so threads and batch copies share the table
read-only.

Everything here is reached only through ``gen`` (None prunes it), so
networks without per-neuron parameters compile none of it.
"""

from __future__ import annotations

from numba import njit

from spikenet.sim.kernels.conductance import cond_population
from spikenet.sim.kernels.inputs import lif_noise_block

__all__ = ["cond_pn_population", "lif_pn_noise", "pn_row"]

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


@njit(inline="always", **_HELPER)
def pn_row(gen, p, i):  # pragma: no cover - compiled
    """A ``pop_par``-shaped view whose row ``p`` holds the constants of neuron ``i`` of population ``p``.

    Inlined into its callers: they are compiled without reference counting
    (see kernels/network.py), where a function may not return a view it made.
    """
    q = gen.noff.shape[0] + gen.noff[p] + i - p
    return gen.npar[q:]


@njit(**_HELPER)
def lif_pn_noise(inp, gen, b, lane, p, lo, hi, kglob, dt, off, vb, teb, u, src_off, ring_idx, ring_cnt, slot,
                 spk_step, spk_idx, spk_off, spk_cnt, jconst, jvar, k, voff, n, stb, grp_post, grp_nst,
                 grp_off, grp_prop_off, coef, grp_avg_off):  # pragma: no cover - compiled
    """Exact Ornstein-Uhlenbeck step of the noisy LIF neurons ``lo:hi`` of population ``p``, one by one.

    ``vb`` and ``teb`` are the copy's voltages and refractory ends (neuron
    space); ``u`` (hi - lo,) the input part of each neuron's noise-free
    end-of-step voltage; ``jconst``, ``jvar``, ``k``, ``voff`` the drive and
    ``stb`` the stages at the step's start, for the exact free part of a step
    (as ``lif_noise_block``). Each neuron draws the numbers of its global
    index, as in a population of scalar parameters.
    """
    tk = kglob * dt
    for i in range(lo, hi):
        lif_noise_block(inp, b, lane, p, i, kglob, tk, dt, off, pn_row(gen, p, i), vb[off + i:off + i + 1],
                        u[i - lo:i - lo + 1], teb[off + i:off + i + 1], src_off, ring_idx, ring_cnt, slot,
                        spk_step, spk_idx, spk_off, spk_cnt, jconst[b, off + i:off + i + 1], jvar, k, voff, n,
                        stb, grp_post, grp_nst, grp_off, grp_prop_off, coef, grp_avg_off)


@njit(**_HELPER)
def cond_pn_population(cond, gen, b, lane, lo, hi, p, k, kglob, dt, v, ref_end, gate_m, gate_h, gate_n,
                       stages, jconst, jvar, pop_voff, pop_off, pop_n, grp_post, grp_nst, grp_off,
                       grp_prop_off, grp_avg_off, coef, flag, src_off, ring_idx, ring_cnt, slot, spk_step,
                       spk_idx, spk_off, spk_cnt):  # pragma: no cover - compiled
    """``cond_population`` for neurons ``lo:hi`` of a population with per-neuron parameters, one by one."""
    for i in range(lo, hi):
        cond_population(cond, b, lane, i, i + 1, p, k, kglob, dt, v, ref_end, gate_m, gate_h, gate_n, stages,
                        jconst, jvar, pop_voff, pop_off, pop_n, pn_row(gen, p, i), grp_post, grp_nst, grp_off,
                        grp_prop_off, grp_avg_off, coef, flag, src_off, ring_idx, ring_cnt, slot, spk_step,
                        spk_idx, spk_off, spk_cnt)
