"""Stochastic inputs of a :class:`~spikenet.sim.Network`: their checks and their kernel arrays.

``add_input(post, rate=...)`` (Poisson inputs), ``add_input(post, noise=...)``
(white noise) and the spike-source populations (:mod:`spikenet.sim.sources`)
are generated inside the network kernel (:mod:`spikenet.sim.kernels.inputs`);
this module checks what the user gives and builds the kernel's ``inp``
argument.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from spikenet._validation import finite_array, positive_float
from spikenet.sim.models.base import NeuronModel
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.sources import PoissonSource, SpikeSource, is_source
from spikenet.sim.synapses import PSCFilter

# No step counter reaches this: the end of a PoissonSource without stop.
_NEVER = 2**62


@dataclass(eq=False)
class _RateInput:
    post: object  # Population
    rate: np.ndarray  # Hz: (k,) for every batch copy, or (batch, k) per copy
    shared: bool  # k shared sources (weights (post.n, k)) or one per post neuron
    weights: np.ndarray  # scalar (1,) or (post.n, k)
    synapse: object


@dataclass(eq=False)
class Stochastic:
    """The stochastic inputs of one network (kept by the network between builds)."""

    rates: list = field(default_factory=list)
    noise: dict = field(default_factory=dict)  # population index -> sigma^2 summed
    keys: np.ndarray | None = None  # drawn once from the network's rng


class Input:
    """An input of a :class:`~spikenet.sim.Network`, as returned by :meth:`~spikenet.sim.Network.add_input`.

    A handle: it names the input in :meth:`~spikenet.sim.Network.set_input`
    (which changes the rate of a Poisson input between runs).

    Attributes
    ----------
    post : Population
        The population the input feeds.
    kind : str
        ``"current"``, ``"spikes"``, ``"rate"`` or ``"noise"``: the argument
        of ``add_input`` that made it.
    rate : numpy.ndarray or None
        For ``kind == "rate"``: the current rates in Hz, one per source:
        shape (k,) when every batch copy has the same rates, (batch, k) when
        they differ (a copy, read-only for the network); None otherwise.
    """

    __slots__ = ("_net", "_rate_input", "kind", "post")

    def __init__(self, net, post, kind, rate_input=None):
        self._net = net
        self.post = post
        self.kind = kind
        self._rate_input = rate_input

    @property
    def rate(self):
        return None if self._rate_input is None else self._rate_input.rate.copy()

    def __repr__(self):
        return f"Input({self.kind!r} -> {self.post.name!r})"


def _rates(net, rate, k, what):
    """``rate`` (Hz) checked for an input with ``k`` sources: (k,), or (batch, k) when per copy."""
    r = finite_array("rate", rate, ndim=(0, 1, 2))
    if np.any(r < 0):
        raise ValueError(f"rate must be >= 0 Hz, got {r.min():g}")
    B = net.batch
    shapes = f"a scalar, ({k},) ({what})" + ("" if B is None else f", ({B},) (one per copy) or ({B}, {k})")
    if r.ndim == 0:
        return np.full(k, float(r))
    if r.ndim == 1:
        if B is not None and r.shape == (B,) and k != B:
            return np.array(np.broadcast_to(r[:, None], (B, k)))
        if r.shape == (k,):
            if B is not None and k == B:
                raise ValueError(f"rate of shape ({k},) is ambiguous with {B} batch copies and {k} sources: "
                                 f"give it as ({B}, {k}) (np.broadcast_to of a column for one rate per copy, "
                                 "of a row for one per source)")
            return r.copy()
    elif B is not None and r.shape == (B, k):
        return r.copy()
    raise ValueError(f"rate must be {shapes}, got shape {r.shape}")


def add(net, post, weights, synapse, rate, noise):
    """``Network.add_input`` with ``rate=`` or ``noise=`` (see there); returns its :class:`Input`."""
    if rate is not None and noise is not None:
        raise ValueError("give one of rate= or noise= per add_input call")
    if is_source(post.neuron):
        raise ValueError(f"post: {post.name!r} is a spike-source population and receives no input")
    st = net._stochastic
    if noise is not None:
        if weights is not None or synapse is not None:
            raise ValueError("weights and synapse do not apply to noise=")
        sigma = positive_float("noise", noise, allow_zero=True)
        if not isinstance(post.neuron, (LIF, HH, NeuronModel)):
            raise ValueError(f"noise: white noise needs a LIF, HH or NeuronModel population, {post.name!r} "
                             f"is {type(post.neuron).__name__}")
        st.noise[post.index] = st.noise.get(post.index, 0.0) + sigma * sigma
        return Input(net, post, "noise")
    finite_array("rate", rate, ndim=(0, 1, 2))
    synapse = PSCFilter(0.005) if synapse is None else synapse
    from spikenet.sim.network import _check_synapse

    _check_synapse(synapse, post)
    if weights is None:
        raise ValueError("weights is required with rate=: a scalar (one source per post neuron) or an array "
                         f"(post.n, k) = ({post.n}, k) (k shared sources)")
    w = finite_array("weights", weights, ndim=(0, 2))
    if w.ndim == 0:
        r = _rates(net, rate, post.n, "one per post neuron, with scalar weights")
        ri = _RateInput(post, r, False, w.reshape(1), synapse)
    else:
        if w.shape[0] != post.n:
            raise ValueError(f"weights must have shape (post.n, k) = ({post.n}, k), got {w.shape}")
        r = _rates(net, rate, w.shape[1], f"one per source, for weights {w.shape}")
        ri = _RateInput(post, r, True, w.copy(), synapse)
    st.rates.append(ri)
    return Input(net, post, "rate", ri)


def set_rate(net, inp, rate):
    """``Network.set_input(inp, rate=...)``: the new rates, effective from the current time on."""
    if not isinstance(inp, Input):
        raise TypeError(f"inp must be an Input returned by add_input, got {type(inp).__name__}")
    if inp._net is not net:
        raise ValueError("inp belongs to another Network")
    if inp.kind != "rate":
        raise ValueError(f"inp: only an input added with rate= has a rate to change; this one is "
                         f"{inp.kind!r}")
    ri = inp._rate_input
    ri.rate = _rates(net, rate, ri.rate.shape[-1], "one per source")
    bd = net._built
    if bd is not None and bd["inp"] is not None:
        lam = _lam(net)
        bd["inp"] = bd["inp"]._replace(lam=lam, elam=np.exp(-lam))


def _lam(net):
    """Mean counts per step (``rate * dt``) of the Poisson sources: (1, S), or (batch, S) per copy."""
    st = net._stochastic
    rows = net.n_batch if any(ri.rate.ndim == 2 for ri in st.rates) else 1
    parts = [np.zeros((rows, 0))]
    parts += [np.broadcast_to(ri.rate, (rows, ri.rate.shape[-1])) * net.dt for ri in st.rates]
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def group_keys(net):
    """The (post population index, synapse) groups the Poisson inputs feed."""
    return [(q.post.index, q.synapse) for q in net._stochastic.rates]


def unfused(net):
    """Populations with white noise: they take the generic LIF pass (the noise has its own step)."""
    return set(net._stochastic.noise)


def build(net, groups, pop_off, dtype):
    """The kernel's ``inp`` argument (:class:`~spikenet.sim.kernels.inputs.InpArgs`) or None."""
    st = net._stochastic
    pops = net.populations
    P = len(pops)
    N = int(sum(p.n for p in pops))
    B = net.n_batch
    dt = net.dt
    sources = [p for p in pops if is_source(p.neuron)]
    if not st.rates and not st.noise and not sources:
        return None  # (before importing the kernel module: an AOT-served network never imports Numba)
    from spikenet.sim.kernels.inputs import SRC_NONE, SRC_POISSON, SRC_TIMES, InpArgs

    if st.keys is None:
        root = int(net.rng.integers(0, 2**63 - 1))
        st.keys = np.random.SeedSequence(root).generate_state(3, np.uint64)
    i64 = np.int64
    Q = len(st.rates)
    pin = {k: np.zeros(Q, i64) for k in ("grp", "post", "shared", "k", "src", "w")}
    pw = [np.zeros(0)]
    n_src = n_w = 0
    for q, ri in enumerate(st.rates):
        scale = ri.synapse.input_scale
        pin["grp"][q] = groups[(ri.post.index, ri.synapse)]
        pin["post"][q] = ri.post.index
        pin["shared"][q] = int(ri.shared)
        k = ri.rate.shape[-1]
        pin["k"][q] = k
        pin["src"][q] = n_src
        pin["w"][q] = n_w
        n_src += k
        block = (np.ascontiguousarray(ri.weights.T).ravel() if ri.shared else ri.weights) * scale
        pw.append(block)
        n_w += block.size
    lam = _lam(net)
    src_kind = np.full(P, SRC_NONE, i64)
    ss_off = np.zeros(P + 1, i64)
    ss_step, ss_idx = [np.zeros(0, i64)], [np.zeros(0, i64)]
    # spike probabilities per step: one row shared by the batch copies, or one per copy
    per_copy = any(isinstance(p.neuron, PoissonSource) and np.ndim(p.neuron.rate) == 2 for p in pops)
    ps_p = np.zeros((B if per_copy else 1, max(N, 1)))
    ps_k0 = np.zeros(P, i64)
    ps_k1 = np.zeros(P, i64)
    n_ss = 0
    for p in pops:
        ss_off[p.index] = n_ss
        nrn = p.neuron
        if isinstance(nrn, SpikeSource):
            src_kind[p.index] = SRC_TIMES
            s, i = nrn.steps(dt, p.n)
            ss_step.append(s)
            ss_idx.append(i)
            n_ss += s.size
        elif isinstance(nrn, PoissonSource):
            src_kind[p.index] = SRC_POISSON
            o = int(pop_off[p.index])
            ps_p[:, o:o + p.n] = nrn.probabilities(dt, p.n, net.batch)
            ps_k0[p.index] = math.ceil(nrn.start / dt - 1e-9)
            ps_k1[p.index] = _NEVER if nrn.stop is None else math.ceil(nrn.stop / dt - 1e-9)
    ss_off[P] = n_ss
    nz_sigma = np.zeros(P)
    for pi, var in st.noise.items():
        nz_sigma[pi] = math.sqrt(var)
    # HH and NeuronModel populations take the noise as a current added to their drive for a step
    hh_noise = any(not isinstance(pops[pi].neuron, LIF) and nz_sigma[pi] > 0 for pi in st.noise)
    return InpArgs(
        keys=np.asarray(st.keys, dtype=np.uint64), n_batch=B, n_neurons=N,
        pin_grp=pin["grp"], pin_post=pin["post"], pin_shared=pin["shared"], pin_k=pin["k"],
        pin_src=pin["src"], pin_w=pin["w"], n_pin_src=n_src, lam=lam, elam=np.exp(-lam),
        pw=np.concatenate([*pw, np.zeros(1)]).astype(dtype),
        src_kind=src_kind, ss_off=ss_off, ss_step=np.concatenate(ss_step), ss_idx=np.concatenate(ss_idx),
        ps_p=ps_p, ps_k0=ps_k0, ps_k1=ps_k1, nz_sigma=nz_sigma,
        nz_save=np.zeros((B, N) if hh_noise else (1, 1), dtype=dtype),
    )


def _poisson_source(net, nrn, n, values):
    """The PoissonSource ``nrn`` with ``values`` (rate, start, stop) replaced; per-copy rates allowed."""
    fields = {"rate": nrn.rate, "start": nrn.start, "stop": nrn.stop, **values}
    rate = fields.pop("rate")
    if "rate" in values:
        rate = _source_rates(net, rate, n)
    if np.ndim(rate) < 2:
        return PoissonSource(rate, **fields)
    checked = PoissonSource(0.0, **fields)  # checks start and stop
    return PoissonSource._per_copy(rate, checked.start, checked.stop)


def _source_rates(net, rate, n):
    """``Network.set(pop, rate=...)`` of a PoissonSource population of ``n``: scalar, (n,) or (batch, n)."""
    r = finite_array("rate", rate, ndim=(0, 1, 2))
    if np.any(r < 0):
        raise ValueError(f"rate must be >= 0 Hz, got {r.min():g}")
    if r.ndim == 0:
        return float(r)
    B = net.batch
    if B is None:
        if r.shape != (n,):
            raise ValueError(f"rate must be a scalar or have shape ({n},) (one per neuron), got {r.shape}")
        return r
    if r.ndim == 1 and r.shape == (n,) and n == B:
        raise ValueError(f"rate of shape ({n},) is ambiguous with {B} batch copies and {n} neurons: give it "
                         f"as ({B}, {n}) (np.broadcast_to of a column for one rate per copy, of a row for "
                         "one per neuron)")
    if r.ndim == 1 and r.shape == (n,):
        return r
    if r.ndim == 1 and r.shape == (B,):
        return np.array(np.broadcast_to(r[:, None], (B, n)))
    if r.shape == (B, n):
        return r
    raise ValueError(f"rate must be a scalar, ({n},) (one per neuron), ({B},) (one per copy) or ({B}, {n}), "
                     f"got shape {r.shape}")


def check_population(neuron, bias, init):
    """A ValueError for a bias or initial state given to a spike-source population."""
    if not is_source(neuron):
        return
    if init:
        raise ValueError("init: a spike-source population has no state")
    if not (isinstance(bias, numbers.Real) and bias == 0.0):
        raise ValueError("bias: a spike-source population has no drive")


def set_source(net, pop, values):
    """``Network.set`` for a spike-source population: new times, rate, start or stop."""
    from spikenet._validation import choice

    nrn = pop.neuron
    names = [f.name for f in dataclasses.fields(nrn)]
    for name in values:
        choice("set argument", name, names)
    if isinstance(nrn, SpikeSource):
        new = dataclasses.replace(nrn, **values)
        new.steps(net.dt, pop.n)  # checks the number of neurons and one spike per step
    else:
        new = _poisson_source(net, nrn, pop.n, values)
        new.probabilities(net.dt, pop.n, net.batch)
    pop.neuron = new
    if net._built is not None:
        # rebuild the constants around the current state (as for a changed parameter)
        from spikenet.sim.network import _STATE_KEYS

        old = net._built
        net._build()
        for key in _STATE_KEYS:
            net._built[key] = old[key]
