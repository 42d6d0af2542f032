"""Build-time support of :class:`~spikenet.sim.Network` for NeuronModel populations and per-neuron parameters.

A population whose neuron is a :class:`~spikenet.sim.models.NeuronModel`
(``Izhikevich``, ``AdEx`` or a user's model) keeps its state in the network
kernel's ``gen`` argument (:class:`spikenet.sim.kernels.generic.GenArgs`)
and is advanced each step by the model's own step function, called from a
network kernel generated for the network's set of model classes
(:func:`spikenet.sim.kernels.compose.network_kernel`). The functions here
check per-neuron parameters, lay out that state and compute initial values;
they import no Numba.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np

from spikenet._validation import choice, finite_array
from spikenet.sim.kernels.layout import GEN_KIND, HHPN_KIND, LIFPN_KIND, N_POP_PAR, REC_GEN, REC_ISYN
from spikenet.sim.models.base import NeuronModel
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.synapse_base import JUMP

# Per-neuron parameter rows of LIF and HH populations (spikenet.sim.kernels.generic).
_HH_ROWS = ("c_m", "g_na", "g_k", "g_l", "e_na", "e_k", "e_l", "v_spike")

__all__ = ["build_gen", "check_params", "gen_initial_state", "gen_set", "gen_state_code", "lif_couplings",
           "model_classes", "per_neuron_kind"]


def _fields(neuron) -> list[str]:
    return [f.name for f in dataclasses.fields(neuron)]


def _per_neuron_models(neuron, params: dict, n: int):
    """Yield ``(model, neurons)``: the model for each distinct set of per-neuron values, and its neurons."""
    if not params:
        yield neuron, np.arange(n)
        return
    names = list(params)
    table = np.stack([params[k] for k in names], axis=1)
    combos, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(combos)))])
    for u, row in enumerate(combos):
        yield dataclasses.replace(neuron, **dict(zip(names, row.tolist()))), order[bounds[u]:bounds[u + 1]]


def check_params(neuron, params, n: int) -> dict:
    """Validate ``add_population(..., params=)``: name -> (n,) float64 of per-neuron values.

    Parameters
    ----------
    neuron : LIF, HH or NeuronModel
        The population's model.
    params : None or Mapping
        Parameter name -> scalar or array (n,).
    n : int
        Number of neurons.

    Returns
    -------
    dict of str -> ndarray (n,) float64

    Raises
    ------
    TypeError, ValueError
        Naming ``params`` and the offending entry: not a mapping, an unknown
        name (with the closest valid one), a non-finite value, a wrong shape,
        or a neuron whose values the model's constructor rejects.
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of parameter name -> array (n,), got {type(params).__name__}")
    if not params:
        return {}
    fields = _fields(neuron)
    out = {}
    for name, value in params.items():
        choice("params key", name, fields)
        arr = finite_array(f"params[{name!r}]", value, ndim=(0, 1))
        if arr.ndim == 1 and arr.shape != (n,):
            raise ValueError(f"params[{name!r}] must have shape ({n},), got {arr.shape}")
        out[name] = np.array(np.broadcast_to(arr, (n,)), dtype=np.float64)
    try:
        for _ in _per_neuron_models(neuron, out, n):
            pass
    except (TypeError, ValueError) as err:
        raise ValueError(f"params: {type(neuron).__name__} rejects a neuron's values: {err}") from None
    return out


def model_classes(pops) -> list[type]:
    """The NeuronModel classes of ``pops`` in a fixed order (module, name): class m has kind GEN_KIND + m."""
    classes = {type(p.neuron) for p in pops if isinstance(p.neuron, NeuronModel)}
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def per_neuron_kind(pop) -> int | None:
    """The kernel kind of a LIF or HH population with per-neuron parameters (None otherwise)."""
    if not pop.params:
        return None
    if isinstance(pop.neuron, LIF):
        return LIFPN_KIND
    if isinstance(pop.neuron, HH):
        return HHPN_KIND
    return None


def _column(pop, name) -> np.ndarray:
    """Parameter ``name`` of every neuron of ``pop``: (n,) float64."""
    return pop.params[name] if name in pop.params else np.full(pop.n, float(getattr(pop.neuron, name)))


def build_gen(pops, B: int, dtype, dt: float):
    """Kinds and the ``gen`` layout of a network's populations.

    Returns
    -------
    classes : list of type
        The model classes (empty: the network has no NeuronModel population).
    kinds : dict int -> int
        Population index -> kind, for the NeuronModel populations.
    arrays : dict
        ``gen_S`` (B, n_state) ``dtype`` zeros, ``gen_P`` (n_param,) float64,
        ``gen_soff``, ``gen_poff``, ``gen_nstate``, ``gen_nparam`` (n_pops,) int64;
        ``gen_lpar`` (6, n_lif) ``dtype``, ``gen_loff`` (n_pops,),
        ``gen_hpar`` (8, n_hh) float64, ``gen_hoff`` (n_pops,): the parameters of
        LIF and HH populations with per-neuron values (see
        :mod:`spikenet.sim.kernels.generic`); ``gen_npar`` (P + n_lif + n_hh,
        N_POP_PAR) ``dtype`` and ``gen_noff`` (n_pops,): the same constants as
        rows of the kernel's ``pop_par``, for the noise, conductance and jump
        passes; ``gen_used``: whether the kernel needs the argument at all.
    """
    classes = model_classes(pops)
    P = len(pops)
    soff = np.full(P, -1, dtype=np.int64)
    poff = np.full(P, -1, dtype=np.int64)
    nstate = np.zeros(P, dtype=np.int64)
    nparam = np.zeros(P, dtype=np.int64)
    kinds = {}
    blocks = []
    s_total = p_total = 0
    for p in pops:
        nrn = p.neuron
        if not isinstance(nrn, NeuronModel):
            continue
        kinds[p.index] = GEN_KIND + classes.index(type(nrn))
        ns, npar = len(nrn.state_names), len(nrn.param_names)
        soff[p.index], poff[p.index], nstate[p.index], nparam[p.index] = s_total, p_total, ns, npar
        s_total += ns * p.n
        p_total += npar * p.n
        blocks.append(nrn.param_matrix(p.n, p.params).ravel())
    loff = np.full(P, -1, dtype=np.int64)
    hoff = np.full(P, -1, dtype=np.int64)
    noff = np.full(P, -1, dtype=np.int64)
    lcols, hcols, nrows = [], [], [np.zeros((P, N_POP_PAR))]
    n_l = n_h = n_r = 0
    for p in pops:
        kind = per_neuron_kind(p)
        if kind == LIFPN_KIND:
            kinds[p.index] = kind
            loff[p.index] = n_l
            n_l += p.n
            tau_m = _column(p, "tau_m")
            # math.exp and math.expm1 per value: the same numbers as a population's scalar constants
            uniq, inv = np.unique(tau_m, return_inverse=True)
            a = np.array([math.exp(-dt / t) for t in uniq])[inv]
            inv_1ma = np.array([1.0 / -math.expm1(-dt / t) for t in uniq])[inv]
            lcols.append(np.stack([a, inv_1ma, tau_m, _column(p, "tau_ref"), _column(p, "v_th"),
                                   _column(p, "v_reset")]))
            rows = np.zeros((p.n, N_POP_PAR))
            rows[:, :6] = lcols[-1].T
        elif kind == HHPN_KIND:
            kinds[p.index] = kind
            hoff[p.index] = n_h
            n_h += p.n
            hcols.append(np.stack([_column(p, name) for name in _HH_ROWS]))
            rows = hcols[-1].T
        else:
            continue
        noff[p.index] = n_r
        n_r += p.n
        nrows.append(rows)
    arrays = {
        "gen_lpar": np.concatenate([*lcols, np.zeros((6, 1))], axis=1).astype(dtype), "gen_loff": loff,
        "gen_hpar": np.concatenate([*hcols, np.zeros((8, 1))], axis=1), "gen_hoff": hoff,
        "gen_npar": np.concatenate(nrows).astype(dtype), "gen_noff": noff,
        "gen_used": bool(kinds),
        "gen_S": np.zeros((B, max(s_total, 1)), dtype=dtype),
        "gen_P": np.concatenate([*blocks, np.zeros(1)]),
        "gen_soff": soff, "gen_poff": poff, "gen_nstate": nstate, "gen_nparam": nparam,
    }
    return classes, kinds, arrays


def gen_initial_state(pop, B: int) -> np.ndarray:
    """The initial state of a NeuronModel population: (B, n_states, n) float64.

    ``pop.init`` holds (B, n) arrays of given states; the model's
    ``initial_state`` fills the others, with each neuron's own parameters.
    """
    nrn = pop.neuron
    names = nrn.state_names
    out = np.empty((B, len(names), pop.n))
    for b in range(B):
        for model, idx in _per_neuron_models(nrn, pop.params, pop.n):
            given = {k: v[b, idx] for k, v in pop.init.items()}
            state = model.initial_state(given, idx.size)
            for r, name in enumerate(names):
                out[b, r, idx] = state[name]
    return out


def gen_state_code(pop, state: str) -> int:
    """The kernel's recording code of a NeuronModel population's state."""
    if state == "I_syn":
        return REC_ISYN
    return REC_GEN + pop.neuron.state_names.index(state)


def gen_set(pop, scalars: dict, arrays: dict):
    """New ``(neuron, params)`` of a NeuronModel population after ``Network.set``.

    ``scalars`` replace the model's values (and drop those names' per-neuron
    values); ``arrays`` (name -> array) become per-neuron values. The result
    is checked neuron by neuron as :func:`check_params` does.
    """
    try:
        neuron = dataclasses.replace(pop.neuron, **scalars) if scalars else pop.neuron
    except (TypeError, ValueError) as err:
        raise ValueError(f"set: {type(pop.neuron).__name__} rejects the new values: {err}") from None
    params = {k: v for k, v in pop.params.items() if k not in scalars}
    params.update(arrays)
    return neuron, check_params(neuron, params, pop.n)


def lif_couplings(pops, groups, n_stages, dt: float, dtype, coupling):
    """Per-neuron voltage couplings of the synapse groups into LIF populations with per-neuron parameters.

    Parameters
    ----------
    pops : list of Population
    groups : dict (post index, synapse) -> group index
    n_stages : ndarray (G,) int
        Stages of each group.
    dt : float
    dtype : numpy dtype
    coupling : callable ``(synapse, neuron_like, dt) -> (n_stages,)``
        The couplings of one ``tau_m`` (``neuron_like.tau_m``).

    Returns
    -------
    lcoef : ndarray (n,) ``dtype``
        Group ``g``, stage ``s``, neuron ``i`` at ``lcoef_off[g] + s * n_post + i``.
    lcoef_off : ndarray (G,) int64
        -1 for the other groups.
    """
    off = np.full(len(groups), -1, dtype=np.int64)
    blocks, total = [], 0
    for (post_i, syn), g in groups.items():
        post = pops[post_i]
        if per_neuron_kind(post) != LIFPN_KIND or syn.entry == JUMP:
            continue
        tau_m = _column(post, "tau_m")
        uniq, inv = np.unique(tau_m, return_inverse=True)
        per = np.array([coupling(syn, SimpleNamespace(tau_m=float(t)), dt) for t in uniq])  # (u, m)
        block = per[inv.reshape(-1)].T  # (m, n)
        off[g] = total
        total += block.size
        blocks.append(block.ravel())
        assert block.shape[0] == n_stages[g]
    return np.concatenate([*blocks, np.zeros(1)]).astype(dtype), off
