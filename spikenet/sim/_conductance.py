"""Build side of conductance synapses in :class:`~spikenet.sim.Network`: the kernel's ``cond`` argument.

Kept free of Numba imports (like :mod:`spikenet.sim.kernels.layout`); the
compiled code is :mod:`spikenet.sim.kernels.conductance`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from spikenet.sim.neurons import HH, LIF
from spikenet.sim.synapse_base import CONDUCTANCE, JUMP

# Mirrors spikenet.sim.kernels.conductance (kept here so building imports no Numba).
MODE_NONE, MODE_LIF, MODE_HH = 0, 1, 2
KIND_CURRENT, KIND_COND, KIND_SKIP = 0, 1, 2
N_WORK = 6


class CondArgs(NamedTuple):
    """The network kernel's ``cond`` argument (see :mod:`spikenet.sim.kernels.conductance`).

    Attributes
    ----------
    pop_mode : int64 (P,)
        0: the population receives no conductance; 1: LIF, 2: HH updated by the conductance pass.
    grp_kind : int64 (G,)
        Per synapse group: 0 current (PSC filter), 1 conductance, 2 none (voltage jumps).
    grp_erev : float64 (G,)
        Reversal potential of conductance groups (0 for the others).
    grp_tau : float64 (G,)
        Time constant of each group's stages in s (1 for voltage jumps).
    vcoef, icoef : float64 (G, 3, m)
        Stage ``j``'s contribution to the last stage (``vcoef``) and to its
        time integral from the step's start (``icoef``, s) at the two
        Gauss-Legendre nodes and at the end of the step; ``m`` the most stages of any group.
    hot_x, hot_w : float64 (2,)
        Gauss-Legendre nodes and weights of the step, on [0, 1].
    rare_x, rare_w : float64 (4,)
        Nodes and weights on [0, 1] used inside steps with a spike or the end of a refractory period.
    work : float64 (lanes, 6, LIF_BLOCK)
        Scratch rows of each lane.
    gen_mode : int64 (P,)
        1 for the NeuronModel populations receiving conductances (updated by
        their model's ``cond_step``, :mod:`spikenet.sim.kernels.gen_cond`), else 0.
    gen_terms : float64 (lanes, n_terms, 4)
        Scratch of each lane: one neuron's conductance terms ``(x, m, tau, e_rev)``.
    """

    pop_mode: np.ndarray
    grp_kind: np.ndarray
    grp_erev: np.ndarray
    grp_tau: np.ndarray
    vcoef: np.ndarray
    icoef: np.ndarray
    hot_x: np.ndarray
    hot_w: np.ndarray
    rare_x: np.ndarray
    rare_w: np.ndarray
    work: np.ndarray
    gen_mode: np.ndarray
    gen_terms: np.ndarray


def gamma_val(y: float, m: int) -> float:
    """``e^{-y} y^m / m!``."""
    return math.exp(-y) * y**m / math.factorial(m)


def gamma_int(y: float, m: int) -> float:
    """``int_0^y e^{-u} u^m / m! du``, without cancellation for small ``y``."""
    if m == 0:
        return -math.expm1(-y)
    if y < 1.0:
        term = y ** (m + 1) / math.factorial(m + 1)
        total = 0.0
        for i in range(m + 2, m + 80):
            total += term
            term *= y / i
            if term <= 1e-17 * total:
                break
        return math.exp(-y) * total
    return 1.0 - math.exp(-y) * sum(y**i / math.factorial(i) for i in range(m + 1))


def _gauss_legendre(n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def conductance_posts(conns) -> set[int]:
    """Indices of the populations that receive at least one conductance synapse.

    ``conns``: anything with ``post`` and ``synapse`` (connections, in-kernel Poisson inputs).
    """
    return {c.post.index for c in conns if c.synapse.entry == CONDUCTANCE}


def build_cond(pops, groups, dt: float, lanes: int, block: int) -> CondArgs | None:
    """The kernel's ``cond`` argument, or None when no population receives a conductance synapse.

    Parameters
    ----------
    pops : list of Population
    groups : dict
        ``(post index, synapse) -> group index``, as the network builds it.
    dt : float
        Time step in s.
    lanes, block : int
        Lanes of the kernel's per-thread arrays, and the LIF block length.
    """
    posts = {pi for (pi, syn) in groups if syn.entry == CONDUCTANCE}
    if not posts:
        return None
    P, G = len(pops), len(groups)
    pop_mode = np.zeros(P, dtype=np.int64)
    gen_mode = np.zeros(P, dtype=np.int64)
    n_terms = 1
    for pi in posts:
        if isinstance(pops[pi].neuron, (LIF, HH)):
            pop_mode[pi] = MODE_LIF if isinstance(pops[pi].neuron, LIF) else MODE_HH
        else:  # a NeuronModel: its own conductance-aware step, in its population update
            gen_mode[pi] = 1
            stages = [s.n_stages for (q, s) in groups if q == pi and s.entry == CONDUCTANCE]
            n_terms = max(n_terms, sum(stages))
    grp_kind = np.full(G, KIND_SKIP, dtype=np.int64)
    grp_erev = np.zeros(G)
    grp_tau = np.ones(G)
    m_max = max([syn.n_stages for syn in (s for (_, s) in groups) if syn.entry != JUMP], default=1)
    vcoef = np.zeros((G, 3, m_max))
    icoef = np.zeros((G, 3, m_max))
    hot_x, hot_w = _gauss_legendre(2)
    rare_x, rare_w = _gauss_legendre(4)
    points = (hot_x[0] * dt, hot_x[1] * dt, dt)
    for (pi, syn), g in groups.items():
        if syn.entry == JUMP:
            continue
        grp_kind[g] = KIND_COND if syn.entry == CONDUCTANCE else KIND_CURRENT
        tau = syn.cascade_tau
        if tau is None:
            # the conductance passes read these groups through their step
            # averages, except the LIF pass (and every conductance group),
            # which evaluates the cascade's closed forms inside the step
            if syn.entry == CONDUCTANCE or pop_mode[pi] == MODE_LIF:
                raise ValueError(f"synapse: {type(syn).__name__} is not a PSC cascade (its cascade_tau is "
                                 f"None), which a conductance synapse, or a current into a LIF population "
                                 f"receiving conductances ({pops[pi].name!r}), must be")
            continue
        grp_tau[g] = tau
        if syn.entry == CONDUCTANCE:
            grp_erev[g] = syn.e_rev
        nst = syn.n_stages
        for q, s in enumerate(points):
            y = s / tau
            for j in range(nst):
                vcoef[g, q, j] = gamma_val(y, nst - 1 - j)
                icoef[g, q, j] = tau * gamma_int(y, nst - 1 - j)
    work = np.zeros((lanes, N_WORK, block))
    return CondArgs(pop_mode, grp_kind, grp_erev, grp_tau, vcoef, icoef, hot_x, hot_w, rare_x, rare_w, work,
                    gen_mode, np.zeros((lanes, n_terms, 4)))


def check_conductance_post(synapse, post) -> None:
    """ValueError naming ``synapse`` when ``post`` cannot receive a conductance synapse."""
    if synapse.entry == CONDUCTANCE:
        synapse.check_post(post)


def check_cond_record(specs, conns) -> None:
    """ValueError naming ``record`` for ``I_syn`` of a population that receives conductances.

    ``conns``: every connection and input of the network that has a ``post`` and a ``synapse``
    (population connections, spike inputs and in-kernel Poisson inputs).
    """
    posts = conductance_posts(conns)
    for pop, state, _ in specs:
        if state == "I_syn" and pop.index in posts:
            raise ValueError(f"record: 'I_syn' is not available for population {pop.name!r}, which receives "
                             "conductance synapses (its synaptic current depends on the voltage)")


def conductance_slots(cond_init, groups, grp_off, grp_nst, pop_n) -> dict:
    """Where each initial conductance goes: ``key -> offset of its group's last stage`` in the stage array."""
    out = {}
    for key in cond_init:
        if key not in groups:
            raise ValueError(f"synapse: set_conductance was given {key[1]!r} for a population that receives "
                             "no connection or input with that synapse")
        g = groups[key]
        out[key] = int(grp_off[g] + (grp_nst[g] - 1) * pop_n[key[0]])
    return out


def initial_conductances(cond_init, bd) -> None:
    """Write the initial conductances into the built stage array ``bd["stages"]`` (batch, stages)."""
    for key, g0 in cond_init.items():
        o = bd["cond_slots"][key]
        bd["stages"][:, o:o + g0.shape[-1]] = g0
