r"""Networks of LIF, Hodgkin-Huxley and other model populations connected through PSC synapses.

Semantics
---------
A spike of pre-synaptic neuron ``j`` in step ``k`` reaches its targets at the
start of step ``k + 1 + delay / dt`` and adds ``W[i, j] / tau_s`` to the
first stage of post-synaptic neuron ``i``'s synapse; with a
``PSCFilter(tau_s, n)`` the ``n + 1`` stages decay with ``tau_s`` and feed
each other, and the last stage is the current (so a spike delivers the
charge ``W[i, j]``). Every distinct PSC filter into a population has its own
stages (identical filters share them, which is exact by linearity); the
currents of all synapses, the bias and any external current add up to the
drive ``J`` (dimensionless for LIF, uA/cm^2 for HH). A ``Delta`` synapse
instead adds ``W[i, j]`` to the voltage when the spike arrives (LIF only, NEST
``iaf_psc_delta`` timing, see :class:`~spikenet.sim.Delta`); a
``Conductance`` synapse opens a conductance with the PSC filter's kernel that
drives the voltage towards its reversal potential (LIF and HH; integrated as
described in :mod:`spikenet.sim.kernels.conductance`); ``delay`` may be
given per synapse.

Integration
-----------
*LIF.* Between spikes the voltage and the synaptic stages form a linear
system, ``tau_m dv/dt = J_const + x_last - v``, ``tau_s dx_0/dt = -x_0``,
``tau_s dx_i/dt = x_{i-1} - x_i``. It is advanced exactly over each step by
the matrix exponential of that system (coefficients precomputed once per
population and synapse; ``J_const``, the bias plus external currents, is held
over the step as in :func:`~spikenet.sim.simulate`). When the end-of-step
voltage reaches ``v_th`` the spike time inside the step is the exact crossing
time for the constant drive ``J_eff`` that produces the same end-of-step
voltage, ``t = tau_m ln((J_eff - v_0) / (J_eff - v_th))``; this is exact when
the synaptic current is constant over the step and otherwise in error by
O(dt^2) relative to the step. The refractory period ``tau_ref`` runs in
continuous time from that spike time; a neuron whose refractory period ends
inside a step integrates the rest of the step from ``v_reset`` exactly, with
the synaptic current it receives in that part of the step (closed form, see
:mod:`spikenet.sim.kernels.release`). A neuron can
spike at most once per step: if ``tau_ref`` ends within the step of a spike
and the rest of the step would reach threshold again, ``v`` is capped at
``v_th`` and the next spike falls at the start of the next step (when the
drive is still above threshold). Crossings are detected from the end-of-step
voltage, so an excursion above ``v_th`` that returns below it within one step
is missed, as in any fixed-step scheme.

*HH.* Each step calls the single-neuron scheme of
:mod:`spikenet.sim.kernels.hh` with the synaptic current averaged exactly
over the step. Spike times are upward crossings of ``v_spike``, linearly
interpolated within the step.

*Other models* (:class:`~spikenet.sim.models.NeuronModel`: ``Izhikevich``,
``AdEx``, a user's model). Each step calls the model's own step function,
as :func:`~spikenet.sim.simulate` does, with the drive held over the step:
the bias, the external current of the step and every synapse's current
averaged exactly over the step (so a spike delivers the charge ``W`` in the
model's drive units x s). The spike time inside the step is the model's.
Such populations take per-neuron parameters (``params=``), voltage jumps
(``Delta``; Izhikevich, AdEx and models declaring ``jump_state``),
``Conductance`` synapses (evaluated inside the step by the model's
``cond_step``) and white noise (a current ``sigma xi(t)`` in drive units).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from spikenet._validation import (
    as_rng,
    check_recording_fits,
    choice,
    finite_array,
    positive_float,
    positive_int,
    whole_steps,
)
from spikenet.sim import _plastic, _synapse_list
from spikenet.sim import inputs as _inputs
from spikenet.sim._aligned import aligned
from spikenet.sim._chunks import ChunkClock, StopOnInterrupt
from spikenet.sim._conductance import (
    build_cond,
    check_cond_record,
    conductance_slots,
    initial_conductances,
)
from spikenet.sim.connectivity import SynapseList, bernoulli_positions
from spikenet.sim.kernels import args as _ka
from spikenet.sim.models.base import NeuronModel
from spikenet.sim.network_models import (
    build_gen,
    check_params,
    gen_initial_state,
    gen_set,
    gen_state_code,
    lif_couplings,
)
from spikenet.sim.network_results import NetworkResult
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.plasticity import PLASTICITY_RULES
from spikenet.sim.sources import PoissonSource, SpikeSource, is_source
from spikenet.sim.stp import TsodyksMarkram, build_stp, reset_stp
from spikenet.sim.synapse_base import CONDUCTANCE, JUMP, check_linear, is_registered, synapse_kinds
from spikenet.sim.synapses import Delta, PSCFilter

__all__ = ["Connection", "Network", "Population"]

_LIF_STATES = ("v", "I_syn", "ref")
_HH_STATES = ("v", "I_syn", "m", "h", "n")
# Built arrays that hold the state of a run (kept when set() rebuilds the constants), and the
# part of it that is synaptic input in flight (cleared by reset()).
_INPUT_STATE_KEYS = ("stages", "ring_idx", "ring_cnt", "dbuf", *_plastic.PLAST_STATE_KEYS)
_STATE_KEYS = ("v", "ref_end", "gm", "gh", "gn", *_INPUT_STATE_KEYS, "cap", "stp", "gen_S")
_STATE_CODE = {"v": 0, "I_syn": 1, "m": 2, "h": 3, "n": 4, "ref": 5}
# Per-chunk memory of the per-step input buffers (time-varying currents and
# input spike pointers, bytes); longer chunks are split.
_CHUNK_BYTES = 8 * 2**20
# Neuron-steps of a run's first chunk (far below 0.1 s; later chunks last
# about 0.1 s each, see spikenet.sim._chunks).
_FIRST_CHUNK_WORK = 2**16
# Spike events per batch copy kept between buffer growths (grown x2 on demand).
_MIN_SPIKE_CAPACITY = 4096


@dataclass(eq=False, repr=False)
class Population:
    """A group of identical neurons inside a :class:`Network` (returned by ``add_population``).

    Attributes
    ----------
    n : int
        Number of neurons.
    neuron : LIF, HH or NeuronModel
        Neuron model.
    name : str
        Name, usable wherever a population is expected (``record``, results).
    index : int
        Position in the network.
    params : dict
        Per-neuron parameter values (name -> (n,) float64) that override the
        model's (``add_population(..., params=)`` and ``Network.set``).
    """

    network: Network
    index: int
    n: int
    neuron: LIF | HH | NeuronModel
    name: str
    bias: np.ndarray = field(default=None)
    init: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def __repr__(self):
        return f"Population({self.name!r}, n={self.n}, neuron={self.neuron!r})"

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the states that ``Network.run(record=...)`` can record."""
        if is_source(self.neuron):
            return ()
        if isinstance(self.neuron, NeuronModel):
            return (*self.neuron.state_names, "I_syn")
        return _LIF_STATES if isinstance(self.neuron, LIF) else _HH_STATES


def _is_sparse(x) -> bool:
    """True for scipy.sparse matrices/arrays (without importing scipy.sparse)."""
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "tocoo")


@dataclass(frozen=True, eq=False)
class _Sparse:
    """Sparse weights (post, pre), stored as the CSR of their transpose (pre-major).

    ``indptr`` (n_pre + 1,) int64, ``indices`` (nnz,) int32 post-synaptic
    neurons, ``data`` (nnz,) float64 weights: the targets of pre-neuron ``j``
    are ``indices[indptr[j]:indptr[j + 1]]``.
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def from_scipy(cls, w):
        """From any scipy.sparse matrix (duplicates add up, as in scipy)."""
        csc = w.tocsc()  # the CSC of W is the CSR of W^T
        csc.sum_duplicates()
        return cls(csc.shape, np.asarray(csc.indptr, np.int64), np.asarray(csc.indices, np.int32),
                   np.asarray(csc.data, np.float64))

    def to_scipy(self):
        """The weights as a ``scipy.sparse.csr_matrix`` (post, pre)."""
        import scipy.sparse as sp

        return sp.csc_matrix((self.data, self.indices, self.indptr), shape=self.shape).tocsr()


class Connection:
    """A connection of a :class:`Network`: a live view (see :attr:`Network.connections`).

    Unpacks like the tuple ``(pre, post, weights, synapse, delay)``; its
    :attr:`weights` are the current ones, after any plasticity so far.

    Attributes
    ----------
    pre, post : Population
        Pre- and post-synaptic populations.
    weights : numpy.ndarray or scipy.sparse.csr_matrix, shape (post.n, pre.n)
        The current weights, dense or CSR as given to ``connect``. In a
        batched network a plastic connection's copies learn their own
        weights: an array (batch, post.n, pre.n), or a list of ``batch`` CSR
        matrices for sparse weights.
    synapse : PSCFilter or Delta
        The synapse kind.
    delay : float or array
        Delay in seconds (see :attr:`Network.connections`).
    plasticity : STDP, TripletSTDP or None
        The plasticity rule of the connection.
    """

    __slots__ = ("_index", "_net")

    def __init__(self, net, index):
        self._net = net
        self._index = index

    def _view(self):
        return self._net._connection_view(self._index)

    pre = property(lambda self: self._view()[0])
    post = property(lambda self: self._view()[1])
    weights = property(lambda self: self._view()[2])
    synapse = property(lambda self: self._view()[3])
    delay = property(lambda self: self._view()[4])
    plasticity = property(lambda self: self._net._conns[self._index].plasticity)

    def __iter__(self):
        return iter(self._view())

    def __getitem__(self, i):
        return self._view()[i]

    def __len__(self):
        return 5

    def __eq__(self, other):
        return isinstance(other, Connection) and other._net is self._net and other._index == self._index

    def __hash__(self):
        return hash((id(self._net), self._index))

    def __repr__(self):
        c = self._net._conns[self._index]
        return (f"Connection({self._net.populations[c.src].name!r} -> {c.post.name!r}, "
                f"synapse={c.synapse!r}, plasticity={c.plasticity!r})")


@dataclass(eq=False)
class _Connection:
    src: int  # source index: population index, or n_pops + input index
    n_pre: int
    post: Population
    weights: object  # ("dense", W (post, pre)) or ("sparse", csr W (post, pre))
    synapse: PSCFilter | Delta
    delay_steps: int
    # per-synapse delays in steps beyond delay_steps (the shortest), uint16,
    # aligned with the CSR of the transposed weights; None: delay_steps for all
    syn_delay: np.ndarray | None = None
    dense_delay: bool = False  # the weights were given dense (Connection.weights returns them so)
    plasticity: object = None  # STDP or TripletSTDP (spikenet.sim.plasticity), TsodyksMarkram, or None
    # batch: each copy's learnt weights (copies, n) in the order of `weights`, or None (all as `weights`)
    copy_data: np.ndarray | None = None


@dataclass(eq=False)
class _CurrentInput:
    post: Population
    kind: str  # "const", "array", "callable"
    data: object


@dataclass(eq=False)
class _SpikeInput:
    post: Population
    raster: np.ndarray  # bool, (steps, n_in) or (steps, B, n_in)
    n_in: int


class Network:
    r"""A network of spiking populations, synapses and inputs, run by one Numba kernel.

    Parameters
    ----------
    dt : float
        Time step in seconds (> 0).
    seed : None, int or numpy.random.Generator
        Seeds :attr:`rng`, used by ``connect(..., p=...)``, and the random
        inputs generated inside the kernel (``add_input(rate=...)``,
        ``add_input(noise=...)``, :class:`~spikenet.sim.PoissonSource`
        populations); the rest of the simulation is deterministic.
    batch : None or int
        ``None``: one network. ``B``: ``B`` independent copies with the same
        weights, simulated in one kernel call (in parallel over copies);
        states, biases and inputs gain a batch axis ``(B, n)`` and results
        a batch axis after time (see :class:`NetworkResult`).
    dtype : numpy.float64 or numpy.float32
        Floating type of the state (float64 default, for accuracy).
    threads : None or int
        Threads that share one unbatched network: its neurons are split into
        that many parts, each updated (and receiving its synaptic input) on
        its own thread, in lock step. ``None`` (default): 1 below 20,000
        neurons (a split costs a barrier per step and a thread start per
        run), else Numba's thread count (``NUMBA_NUM_THREADS``, else the
        CPUs this process may use), at most one per 10,000 neurons. The
        results are identical, bit for bit, for any number of threads. A
        thread that waits for the others spins for about 100 us before it
        sleeps between polls, so ask for no more threads than free cores.
        Batched networks run their copies in parallel instead and take
        ``threads=None`` or 1.

    Notes
    -----
    See the module docstring for the synaptic semantics and the exact
    integration scheme. Calling :meth:`run` again continues from the final
    state, with time (and spike times) counted from the start of the first
    run; the structure (populations, connections, inputs) is fixed at the
    first run.

    Examples
    --------
    >>> import numpy as np
    >>> from spikenet.sim import LIF, Network, PSCFilter
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(10, LIF(), bias=1.5, name="a")
    >>> b = net.add_population(5, LIF(), name="b")
    >>> net.connect(a, b, 0.02, synapse=PSCFilter(0.005))
    >>> res = net.run(0.2, record={"b": "v"})
    >>> res["b", "v"].shape
    (2000, 5)
    """

    def __init__(self, dt=1e-4, seed=None, batch=None, dtype=np.float64, threads=None):
        self.dt = positive_float("dt", dt)
        self.rng = as_rng(seed)
        self.batch = None if batch is None else positive_int("batch", batch)
        self.threads = None if threads is None else positive_int("threads", threads)
        if self.batch is not None and self.threads not in (None, 1):
            raise ValueError("threads: a batched network runs its copies in parallel; pass threads=None "
                             f"or 1, got {threads}")
        if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        self.populations: list[Population] = []
        self._conns: list[_Connection] = []
        self._currents: list[_CurrentInput] = []
        self._spike_inputs: list[_SpikeInput] = []
        self._stochastic = _inputs.Stochastic()  # Poisson inputs and white noise (spikenet.sim.inputs)
        self._cond_init: dict = {}  # (post index, Conductance) -> initial conductances (batch, n)
        self._built = None
        self._step = 0
        self._kernel_key = None  # configuration of the last one-thread, unbatched kernel call
        # synapse groups given a future-input ring by set_delays, and its least length (spikes in flight)
        self._dbuf_force: tuple[set, int] = (set(), 1)

    # ------------------------------------------------------------------ build
    @property
    def connections(self) -> list[Connection]:
        """The population-to-population connections, in the order they were made.

        Each is a :class:`Connection` ``(pre, post, weights, synapse, delay)``
        with ``weights`` of shape (post.n, pre.n) (a numpy array or a
        ``scipy.sparse`` CSR matrix, as given) and ``delay`` in seconds (after
        rounding to whole steps): a float, or for per-synapse delays an array
        (post.n, pre.n) when the weights were given dense, else a CSR matrix
        with the weights' pattern.
        """
        return [Connection(self, ci) for ci, c in enumerate(self._conns) if c.src >= 0]

    def _connection_view(self, ci):
        """``(pre, post, weights, synapse, delay)`` of connection ``ci`` with its current weights."""
        c = self._conns[ci]
        kind, w = c.weights
        if _is_stdp(c) and self.batch is not None:
            return _plastic.batch_view(self, ci, c, self._connection_view_shared(c))
        if _is_stdp(c) and self._built is not None:
            kind, w = _plastic.current_weights(self._built, ci, c)
        w = w.to_scipy() if kind == "sparse" else w
        delay = c.delay_steps * self.dt
        if c.syn_delay is not None:
            delay = _Sparse(w.shape, c.weights[1].indptr, c.weights[1].indices,
                            (c.syn_delay + c.delay_steps) * self.dt).to_scipy()
            delay = delay.toarray() if c.dense_delay else delay
            w = w.toarray() if c.dense_delay else w
        return (self.populations[c.src], c.post, w, c.synapse, delay)

    def _connection_view_shared(self, c):
        """``(pre, post, synapse, delay)`` of connection ``c`` (for the batch view of plastic weights)."""
        delay = c.delay_steps * self.dt
        if c.syn_delay is not None:
            w = c.weights[1]
            delay = _Sparse(w.shape, w.indptr, w.indices, (c.syn_delay + c.delay_steps) * self.dt).to_scipy()
            delay = delay.toarray() if c.dense_delay else delay
        return self.populations[c.src], c.post, c.synapse, delay

    def _sync_plastic_weights(self):
        """Copy the current weights of plastic connections from the kernel arrays into the connections."""
        if self._built is None:
            return
        for ci, c in enumerate(self._conns):
            if _is_stdp(c) and self.batch is not None:
                c.copy_data = _plastic.copy_values(self._built, ci, c)
            elif _is_stdp(c):
                c.weights = _plastic.current_weights(self._built, ci, c)

    def set_weights(self, conn, W):
        """Replace the weights of a connection between runs.

        Parameters
        ----------
        conn : Connection
            A connection of this network (as returned by :meth:`connect`).
        W : float, array_like (post.n, pre.n) or scipy.sparse matrix
            The new weights, in the connection's units: dense like the
            connection's (a scalar fills them), or sparse with exactly the
            connection's pattern of synapses.

        Notes
        -----
        Plasticity traces, states and synaptic input in flight are kept; the
        next :meth:`run` continues with the new weights (in a batch, every
        copy of a plastic connection gets ``W``). Together with
        :attr:`Connection.weights` this saves and restores learnt weights
        without pickle, e.g. ``np.savez(path, W=conn.weights)`` and
        ``net.set_weights(conn, np.load(path)["W"])`` for dense weights,
        ``scipy.sparse.save_npz``/``load_npz`` for sparse ones.
        """
        if not isinstance(conn, Connection):
            raise TypeError(f"conn must be a Connection returned by connect, got {type(conn).__name__}")
        if conn._net is not self:
            raise ValueError("conn belongs to another Network")
        c = self._conns[conn._index]
        kind, old = c.weights
        new = self._weights(W, c.post.n, c.n_pre, name="W")
        if kind == "dense":
            if new[0] != "dense":
                raise ValueError("W: the connection has dense weights; give a dense array (post.n, pre.n)")
        else:
            if new[0] == "dense":
                if np.ndim(W) != 0:
                    raise ValueError("W: the connection has sparse weights; give a scipy.sparse matrix "
                                     "with the same pattern (or a scalar)")
                new = ("sparse", _Sparse(old.shape, old.indptr, old.indices,
                                         np.full(old.data.size, float(W))))
            elif not (np.array_equal(new[1].indptr, old.indptr)
                      and np.array_equal(new[1].indices, old.indices)):
                # a connection made from a SynapseList stores each multapse as its own entry
                kept = _synapse_list.same_entries(W, old)
                if kept is None:
                    raise ValueError("W must have the same pattern (stored entries) as the connection's "
                                     "weights")
                new = ("sparse", _Sparse(old.shape, old.indptr, old.indices, kept))
        self._sync_plastic_weights()
        c.weights = new
        c.copy_data = None  # (batch: every copy gets W)
        if self._built is not None:
            self._rebuild_keeping_state()

    def set_delays(self, conn, D):
        """Replace the delays of a connection between runs.

        Parameters
        ----------
        conn : Connection
            A connection of this network (as returned by :meth:`connect`).
        D : float, array_like (post.n, pre.n) or scipy.sparse matrix
            The new delays in seconds, as ``connect`` takes ``delay``: one for
            every synapse (a whole number of steps), or one per synapse (each
            rounded to the nearest step), dense or sparse with the weights'
            pattern; checked, with the same messages, as ``connect`` checks
            ``delay``.

        Notes
        -----
        Spikes already in flight keep the delay they were sent with (as in
        NEST): a spike emitted before the call arrives when its old delay
        says, one emitted after it with the new delay. Weights, states and
        plasticity traces are kept. Setting the delays before the first run
        is the same as connecting with them. Spikes in flight to a connection
        with plasticity (``STDP``, ``TripletSTDP``, ``TsodyksMarkram``)
        cannot be delivered ahead, so after a run the delays of any
        connection from a population that also feeds a plastic connection
        change only when none of that population's spikes is in flight to
        it (a ``ValueError`` naming ``conn`` says so otherwise): before the
        first run, right after :meth:`reset`, or after the population was
        silent for the plastic connection's longest delay. An STDP
        connection with per-synapse delays keeps one pre trace per synapse
        even when given one delay for all.
        """
        from spikenet.sim import _delays

        _delays.set_delays(self, conn, D)

    def _rebuild_keeping_state(self):
        old = self._built
        self._built = None  # the connections hold the weights to build (no sync from the old arrays)
        self._build()
        for key in _STATE_KEYS:
            self._built[key] = old[key]

    def _n_parts(self, n_neurons: int) -> int:
        """How many threads share this network (see ``threads``)."""
        if self.threads is not None:
            return self.threads
        if self.batch is not None or n_neurons < _SPLIT_MIN_NEURONS:
            return 1
        return max(1, min(_numba_threads(), n_neurons // (_SPLIT_MIN_NEURONS // 2)))

    @property
    def kernel_key(self) -> str | None:
        """The network kernel's configuration in the last run (for :func:`spikenet.sim.aot.build`).

        A string naming the code paths and array types of the last kernel
        call of an unbatched network run on one thread; None before the first
        run, and for batched networks or networks split over threads (which
        the ahead-of-time module does not serve).
        """
        return self._kernel_key if self.n_batch == 1 else None

    @property
    def n_batch(self) -> int:
        """Number of batch copies (1 without batch)."""
        return 1 if self.batch is None else self.batch

    @property
    def t(self) -> float:
        """Current simulation time in seconds (the end of the last run)."""
        return self._step * self.dt

    def _check_mutable(self):
        if self._built is not None:
            raise RuntimeError("the network structure is fixed after the first run; build a new Network")

    def _pop(self, pop, name="pop") -> Population:
        if isinstance(pop, str):
            for p in self.populations:
                if p.name == pop:
                    return p
            choice(name, pop, [p.name for p in self.populations])
        if not isinstance(pop, Population):
            raise TypeError(f"{name} must be a Population or its name, got {type(pop).__name__}")
        if pop.network is not self:
            raise ValueError(f"{name} ({pop.name!r}) belongs to another Network")
        return pop

    def _per_neuron(self, name, value, n) -> np.ndarray:
        """A scalar, (n,) or (B, n) value as a (B, n) float64 array."""
        arr = finite_array(name, value, ndim=(0, 1, 2))
        B = self.n_batch
        if arr.ndim == 2 and self.batch is None:
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
        if arr.ndim == 1 and arr.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
        if arr.ndim == 2 and arr.shape != (B, n):
            raise ValueError(f"{name} must have shape ({n},) or (batch, n) = ({B}, {n}), got {arr.shape}")
        return np.array(np.broadcast_to(arr, (B, n)), dtype=np.float64)

    def add_population(self, n, neuron, bias=0.0, init=None, name=None, params=None) -> Population:
        """Add a population of ``n`` identical neurons.

        Parameters
        ----------
        n : int
            Number of neurons (> 0).
        neuron : LIF, HH, NeuronModel, SpikeSource or PoissonSource
            Neuron model: ``LIF``, ``HH``, or any model on the
            :class:`~spikenet.sim.models.NeuronModel` interface
            (``Izhikevich``, ``AdEx``, a user's own); or a spike source (no
            dynamics, no input; usable as ``pre`` of :meth:`connect`; see
            :mod:`spikenet.sim.sources`).
        bias : float or array_like
            Constant drive added every step: dimensionless for LIF, uA/cm^2
            for HH, the model's drive units otherwise (e.g. pA for AdEx);
            scalar, shape (n,), or (batch, n) with ``batch``.
        init : dict, optional
            Initial states: ``"v"`` (default ``v_reset`` for LIF, ``v_init`` for
            HH) and, for LIF, ``"ref"`` (remaining refractory time in s); for HH
            ``"m"``, ``"h"``, ``"n"`` (default: steady state at the initial
            voltage); for a NeuronModel its ``state_names`` (default: the
            model's ``initial_state``). Values are scalars, (n,) or (batch, n)
            arrays.
        name : str, optional
            Unique name (default ``"pop<index>"``).
        params : dict, optional
            Per-neuron parameters: maps any parameter (dataclass field) of
            ``neuron`` (``tau_m``, ``v_th``, ... for LIF; ``g_na``, ...,
            ``v_init`` for HH; any field of a NeuronModel) to an array (n,)
            that overrides the model's value neuron by neuron; each neuron's
            values are checked as the model's constructor checks them. A LIF
            or HH population with per-neuron values runs a separate update
            pass (exactly the same integration, each neuron with its own
            constants, with every synapse kind and white noise); populations
            without them are not slowed down.

        Returns
        -------
        Population
        """
        self._check_mutable()
        n = positive_int("n", n)
        if not isinstance(neuron, (LIF, HH, NeuronModel, SpikeSource, PoissonSource)):
            raise TypeError("neuron must be a spikenet.sim neuron model (LIF, HH, Izhikevich, AdEx or "
                            "another NeuronModel) or a spike source (SpikeSource, PoissonSource), "
                            f"got {type(neuron).__name__}")
        _inputs.check_population(neuron, bias, init)
        index = len(self.populations)
        name = f"pop{index}" if name is None else name
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if any(p.name == name for p in self.populations):
            raise ValueError(f"name {name!r} is already used by another population")
        bias = self._per_neuron("bias", bias, n)
        if isinstance(neuron, NeuronModel):
            allowed = neuron.state_names
        else:
            allowed = ("v", "ref") if isinstance(neuron, LIF) else ("v", "m", "h", "n")
        per_neuron = check_params(neuron, params, n)
        init_arrays = {}
        if init is not None:
            if not isinstance(init, Mapping):
                raise TypeError(f"init must be a dict of state name -> values, got {type(init).__name__}")
            for key, val in init.items():
                choice("init key", key, allowed)
                init_arrays[key] = self._per_neuron(f"init[{key!r}]", val, n)
            if "ref" in init_arrays and np.any(init_arrays["ref"] < 0):
                raise ValueError("init['ref'] must be >= 0 s")
        pop = Population(self, index, n, neuron, name, bias, init_arrays, per_neuron)
        self.populations.append(pop)
        return pop

    def _weights(self, weights, n_post, n_pre, name="weights"):
        if _is_sparse(weights):
            if weights.shape != (n_post, n_pre):
                raise ValueError(
                    f"{name} must have shape (post.n, pre.n) = ({n_post}, {n_pre}), got {weights.shape}"
                )
            w = _Sparse.from_scipy(weights)
            if not np.all(np.isfinite(w.data)):
                raise ValueError(f"{name} contains NaN or inf")
            return ("sparse", w)
        if isinstance(weights, numbers.Real) and not isinstance(weights, bool):
            w = finite_array(name, weights)
            return ("dense", np.full((n_post, n_pre), float(w)))
        w = finite_array(name, weights, ndim=(0, 2))
        if w.ndim == 0:
            return ("dense", np.full((n_post, n_pre), float(w)))
        if w.shape != (n_post, n_pre):
            raise ValueError(f"{name} must have shape (post.n, pre.n) = ({n_post}, {n_pre}), got {w.shape}")
        return ("dense", w.copy())

    def _random_weights(self, weight, p, n_post, n_pre):
        """Sparse weights: each (post, pre) pair connected with probability ``p`` (Bernoulli).

        Pairs are visited pre-major, so the result is directly the CSR of the
        transpose; the successes of the Bernoulli sequence are found from
        geometric gaps, block by block (memory ~ the number of synapses).
        """
        counts = np.zeros(n_pre, dtype=np.int64)
        chunks = []
        if p > 0.0:
            block = max(1, int(2**24 // max(p * n_post, 1.0)))  # ~16M expected synapses per block
            for j0 in range(0, n_pre, block):
                j1 = min(n_pre, j0 + block)
                flat = bernoulli_positions(self.rng, (j1 - j0) * n_post, p)
                pre, post = np.divmod(flat, n_post)
                counts[j0:j1] = np.bincount(pre, minlength=j1 - j0)
                chunks.append(post.astype(np.int32))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        indices = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
        return _Sparse((n_post, n_pre), indptr, indices, np.full(indices.size, float(weight)))

    def connect(self, pre, post, weights, synapse=PSCFilter(0.005), delay=0.0, p=None,  # noqa: B008
                plasticity=None):
        """Connect population ``pre`` to ``post``.

        Parameters
        ----------
        pre, post : Population or str
            Pre- and post-synaptic populations of this network.
        weights : float, array_like (post.n, pre.n), scipy.sparse matrix or SynapseList
            Weights (charge per spike: dimensionless x s for LIF, uA/cm^2 x s
            for HH). A scalar means all-to-all with that weight (or, with
            ``p``, the weight of every random connection). A
            :class:`~spikenet.sim.connectivity.SynapseList` (shape
            (post.n, pre.n), with weights) connects each of its synapses
            with its own weight and, if the list has delays, its own delay
            (rounded to the nearest step; ``delay`` must then stay 0):
            several synapses between one pair (multapses) stay separate
            synapses, each arriving at its own delay. A scipy matrix instead
            adds up duplicate entries.
        synapse : PSCFilter, Delta or Conductance
            PSC filter of this connection, ``Delta()`` for voltage jumps
            of ``weights`` (threshold units for LIF, mV for Izhikevich and
            AdEx; not for HH; see :class:`~spikenet.sim.Delta`), or a
            :class:`~spikenet.sim.Conductance` (``weights`` are then the
            conductance's time integral: units of the leak conductance x s
            for LIF, mS/cm^2 x s for HH, nS s for AdEx, s/ms for Izhikevich),
            or any other registered synapse kind
            (:class:`~spikenet.sim.synapse_base.SynapseKind`).
        delay : float, array_like (post.n, pre.n) or scipy.sparse matrix
            Transmission delay in seconds (>= 0). One for every synapse: a
            whole number of steps of ``dt`` (within 1e-9 relative, else
            ``ValueError``). Or one per synapse, each rounded to the nearest
            whole step (as NEST does): a dense array (post.n, pre.n) (entries
            where there is no synapse are ignored) or a sparse matrix with the
            same pattern as sparse ``weights``. A spike of ``pre`` in step
            ``k`` reaches a synapse with delay ``d`` at the start of step
            ``k + 1 + round(d / dt)``.
        p : float, optional
            Connection probability: each (post, pre) pair (autapses included)
            is connected independently with probability ``p``, drawn from
            :attr:`rng`; ``weights`` must then be a scalar.
        plasticity : STDP, TripletSTDP or TsodyksMarkram, optional
            ``STDP``/``TripletSTDP`` make every synapse of the connection
            plastic (see :mod:`spikenet.sim.plasticity`): the weights change
            during runs and :attr:`Connection.weights` returns the current
            ones (each synapse's pre events at its own delay; in a batch,
            each copy's own). ``TsodyksMarkram`` is
            short-term plasticity: a spike delivers ``w * u * x`` (see
            :class:`~spikenet.sim.TsodyksMarkram`); the weights stay.

        Returns
        -------
        Connection
            ``(pre, post, weights, synapse, delay)`` of the new connection, as
            :attr:`connections` lists it. For a SynapseList, ``weights`` (and
            per-synapse ``delay``) are CSR matrices with one stored entry per
            synapse (``toarray()`` adds up multapses).
        """
        self._check_mutable()
        pre = self._pop(pre, "pre")
        post = self._pop(post, "post")
        _check_synapse(synapse, post)
        listed = isinstance(weights, SynapseList)
        if listed:
            wt, steps = self._listed_weights(weights, pre, post, delay, p)
        per_synapse = (_is_sparse(delay) or np.ndim(delay) > 0) if not listed else steps is not None
        self._check_plasticity(plasticity)
        if not per_synapse:
            delay_steps = whole_steps("delay", delay, self.dt, allow_zero=True)
        if listed:
            pass  # the weights (and any delays) come from the list
        elif p is not None:
            p = positive_float("p", p, allow_zero=True)
            if p > 1:
                raise ValueError(f"p must be a probability in [0, 1], got {p}")
            if not (isinstance(weights, numbers.Real) and not isinstance(weights, bool)):
                raise TypeError("weights must be a scalar when p is given")
            w = finite_array("weights", weights)
            wt = ("sparse", self._random_weights(float(w), p, post.n, pre.n))
        else:
            wt = self._weights(weights, post.n, pre.n)
        if not per_synapse:
            self._conns.append(_Connection(pre.index, pre.n, post, wt, synapse, delay_steps,
                                           plasticity=plasticity))
            return Connection(self, len(self._conns) - 1)
        wt_syn, steps, dense = (wt, steps, False) if listed else _synapse_delays(delay, wt, self.dt)
        if steps.size == 0 or np.all(steps == steps[0]):  # one delay after rounding: the scalar path
            one = int(steps[0]) if steps.size else 0
            self._conns.append(_Connection(pre.index, pre.n, post, wt, synapse, one, plasticity=plasticity))
        else:
            # the ring delivers after the shortest delay; each synapse adds its own excess
            low = int(steps.min())
            self._conns.append(_Connection(pre.index, pre.n, post, wt_syn, synapse, low, steps - low, dense))
        self._conns[-1].plasticity = plasticity
        return Connection(self, len(self._conns) - 1)

    def _listed_weights(self, syn, pre, post, delay, p):
        """``(("sparse", weights), per-synapse delay steps or None)`` of a SynapseList given to connect."""
        if p is not None:
            raise ValueError("p: a SynapseList lists its synapses; give p=None")
        indptr, indices, data, steps = _synapse_list.synapse_arrays(syn, post.n, pre.n, self.dt,
                                                                    _MAX_DELAY_STEPS)
        if steps is not None and not (isinstance(delay, numbers.Real) and delay == 0.0):
            raise ValueError("delay: the SynapseList carries its own delays; leave delay at 0")
        if steps is None and (_is_sparse(delay) or np.ndim(delay) > 0):
            raise ValueError("delay: with a SynapseList give one delay (s) for all its synapses, or put "
                             "per-synapse delays in the list (delay=)")
        return ("sparse", _Sparse((post.n, pre.n), indptr, indices, data)), steps

    def _check_plasticity(self, plasticity):
        """A TypeError/ValueError naming ``plasticity`` unless this network can run it."""
        if plasticity is None or isinstance(plasticity, TsodyksMarkram):
            return
        if not isinstance(plasticity, PLASTICITY_RULES):
            raise TypeError("plasticity must be an STDP, TripletSTDP or TsodyksMarkram rule, got "
                            f"{type(plasticity).__name__}")

    def add_input(self, post, current=None, spikes=None, weights=None, synapse=None, rate=None, noise=None):
        """Add an external current, spike train, Poisson input or white noise to ``post``.

        Parameters
        ----------
        post : Population or str
            Target population.
        current : float, array_like or callable, optional
            Drive added to ``J`` (dimensionless for LIF, uA/cm^2 for HH):
            a scalar, an array (n,) (constant), an array (steps, n) whose row
            ``k`` is held over global step ``k``, or a callable ``t -> (n,)``
            evaluated at ``t = k * dt`` (s, since the first run). With
            ``batch=B``: (B, n) constant, (steps, B, n), or ``t -> (B, n)``
            (an (n,) array or result is shared by all copies).
        spikes : array_like of bool, optional
            External spike raster (steps, n_in), or (steps, B, n_in) with a
            batch; row ``k`` is global step ``k`` and its spikes arrive at the
            start of step ``k + 1``.
        weights : None, float, array_like (post.n, n_in) or scipy.sparse
            Weights of the spike input; ``None`` means one-to-one with weight
            1 (``n_in`` must equal ``post.n``), a scalar all-to-all.
        synapse : PSCFilter, Delta or Conductance, optional
            Filter of the spike input (default ``PSCFilter(0.005)``),
            ``Delta()`` for voltage jumps (not into HH), a
            :class:`~spikenet.sim.Conductance`, or any other registered
            synapse kind.
        rate : float or array_like (k,), optional
            Poisson inputs generated inside the kernel (no raster in memory),
            rate in Hz. With a scalar ``weights`` every post neuron gets its
            own independent source (NEST ``poisson_generator`` semantics;
            ``rate`` a scalar or (post.n,)); with ``weights`` (post.n, k)
            there are ``k`` sources shared by the post neurons. A source may
            spike several times in one step (Poisson counts of mean
            ``rate * dt``); the spikes of step ``k`` arrive at its start
            (``t = k * dt``) through ``synapse``. With ``batch=B`` the
            copies may have their own rates: ``rate`` (B,) (one per copy) or
            (B, k); a 1-D ``rate`` whose length is both ``B`` and ``k`` is
            refused as ambiguous. :meth:`set_input` changes the rates
            between runs.
        noise : float, optional
            White noise of amplitude ``sigma``. LIF: ``tau_m dv = (J - v) dt
            + sigma sqrt(tau_m) dW`` (Brian2's ``sigma*xi*tau**-0.5``; threshold
            units), advanced by the exact Ornstein-Uhlenbeck step with a
            Brownian-bridge threshold test, as in ``simulate(noise=)``. HH: a
            white-noise current ``sigma xi(t)`` (uA/cm^2 s^1/2), i.e. a current
            ``sigma N(0, 1) / sqrt(dt)`` held over each step (Euler-Maruyama).
            NeuronModel (Izhikevich, AdEx, ...): the same white-noise current
            in the model's drive units x s^1/2 (pA s^1/2 for AdEx).
            Several noise inputs to one population add their variances.

        Returns
        -------
        Input
            A handle on the new input (its ``post``, ``kind`` and, for
            ``rate=``, its current ``rate``), for :meth:`set_input`.

        Notes
        -----
        Running past the end of an array input raises ``ValueError``. The
        random numbers of ``rate`` and ``noise`` come from the network's
        ``seed`` and do not depend on how a run is cut into runs or chunks,
        nor on ``threads``; batch copies are independent.
        """
        self._check_mutable()
        post = self._pop(post, "post")
        if is_source(post.neuron):
            raise ValueError(f"post: {post.name!r} is a spike-source population and receives no input")
        if rate is not None or noise is not None:
            if current is not None or spikes is not None:
                raise ValueError("give exactly one of current=, spikes=, rate= or noise=")
            return _inputs.add(self, post, weights, synapse, rate, noise)
        if (current is None) == (spikes is None):
            raise ValueError("give exactly one of current=, spikes=, rate= or noise=")
        B = self.n_batch
        if current is not None:
            if weights is not None or synapse is not None:
                raise ValueError("weights and synapse only apply to spikes=")
            if callable(current):
                self._currents.append(_CurrentInput(post, "callable", current))
                return _inputs.Input(self, post, "current")
            arr = finite_array("current", current, ndim=(0, 1, 2, 3))
            const_ndim = (0, 1) if self.batch is None else (0, 1, 2)
            if arr.ndim in const_ndim:
                self._currents.append(_CurrentInput(post, "const", self._per_neuron("current", arr, post.n)))
                return _inputs.Input(self, post, "current")
            want = (post.n,) if self.batch is None else (B, post.n)
            if arr.shape[1:] != want:
                want_s = ", ".join(map(str, want))
                raise ValueError(f"current must have shape (steps, {want_s}), got {arr.shape}")
            self._currents.append(_CurrentInput(post, "array", arr))
            return _inputs.Input(self, post, "current")
        raster = np.asarray(spikes)
        if raster.dtype != bool:
            raster = finite_array("spikes", raster)
            if np.any((raster != 0) & (raster != 1)):
                raise ValueError("spikes must be a boolean (or 0/1) raster")
            raster = raster.astype(bool)
        allowed = (2,) if self.batch is None else (2, 3)
        if raster.ndim not in allowed:
            shapes = "(steps, n_in)" + ("" if self.batch is None else " or (steps, batch, n_in)")
            raise ValueError(f"spikes must have shape {shapes}, got {raster.shape}")
        if raster.ndim == 3 and raster.shape[1] != B:
            raise ValueError(f"spikes must have shape (steps, {B}, n_in), got {raster.shape}")
        n_in = raster.shape[-1]
        synapse = PSCFilter(0.005) if synapse is None else synapse
        _check_synapse(synapse, post)
        if weights is None:
            if n_in != post.n:
                raise ValueError(
                    f"weights=None means one-to-one, so spikes needs {post.n} columns, got {n_in}"
                )
            wt = ("sparse", _Sparse((post.n, post.n), np.arange(post.n + 1, dtype=np.int64),
                                    np.arange(post.n, dtype=np.int32), np.ones(post.n)))
        else:
            wt = self._weights(weights, post.n, n_in)
        src = len(self._spike_inputs)  # shifted by the population count at build time
        self._spike_inputs.append(_SpikeInput(post, raster, n_in))
        self._conns.append(_Connection(-1 - src, n_in, post, wt, synapse, 0))
        return _inputs.Input(self, post, "spikes")

    def set_input(self, inp, rate):
        """Change the rate of a Poisson input (``add_input(rate=...)``) between runs.

        Parameters
        ----------
        inp : Input
            The input, as returned by :meth:`add_input` with ``rate=``.
        rate : float or array_like
            New rates in Hz (>= 0), of the forms ``add_input`` takes: a scalar,
            or one per source (k,) (``k = post.n`` for scalar weights, else the
            columns of the weights); with ``batch=B`` also one per copy (B,),
            or per copy and source (B, k).

        Notes
        -----
        The next :meth:`run` continues from the current time with the new
        rates; states and synaptic input in flight are kept. The count of a
        source in global step ``k`` depends only on the seed, ``k``, the
        copy, the source and the rate in force in step ``k``: after
        ``set_input`` the counts are, step for step, those of a network with
        the same seed built with the new rate (and those of the steps before
        are unchanged), however the runs are cut.
        """
        _inputs.set_rate(self, inp, rate)

    def set_conductance(self, post, synapse, g):
        """Initial conductance of the synapses ``synapse`` into ``post``, at t = 0 and after ``reset()``.

        Parameters
        ----------
        post : Population or str
            A LIF or HH population.
        synapse : Conductance
            The synapse kind whose conductance is set; the same object (or an
            equal one) as given to :meth:`connect` or :meth:`add_input`.
        g : float or array_like
            Conductance at t = 0 (LIF: in units of the leak conductance; HH:
            mS/cm^2), scalar, (n,) or (batch, n). For ``n >= 1`` it is the
            last stage; the earlier stages start empty.
        """
        self._check_mutable()
        post = self._pop(post, "post")
        if not is_registered(synapse) or synapse.entry != CONDUCTANCE:
            raise TypeError(f"synapse must be a Conductance (a conductance synapse kind), got "
                            f"{type(synapse).__name__}")
        synapse.check_post(post)
        self._cond_init[(post.index, synapse)] = self._per_neuron("g", g, post.n)

    # -------------------------------------------------------------- internals
    # ------------------------------------------------------------ between runs
    def reset(self):
        """Go back to t = 0, keeping the structure, the weights and any changed parameters.

        Every population returns to its initial state (``init`` of
        :meth:`add_population`, or the values given to :meth:`set` before the
        first run), synaptic input in flight is dropped, and inputs given as
        arrays are read again from their first row. Parameters and biases
        changed by :meth:`set` keep their new values. A run after ``reset()``
        reproduces, bit for bit, a run of a new network built the same way.
        """
        self._step = 0
        if self._built is not None:
            self._initial_state(self._built)

    def set(self, pop, **values):
        """Change parameters, the bias or state variables of a population between runs.

        Parameters
        ----------
        pop : Population or str
            The population (or its name).
        **values
            Any of:

            - a parameter of the population's neuron model (``tau_m``,
              ``tau_ref``, ``v_th``, ``v_reset`` for LIF; ``c_m``, ``g_na``,
              ... for HH; any field of a NeuronModel), as a scalar: the model
              is replaced by one with the new values (checked like the
              model's own constructor), replacing any per-neuron values of
              that parameter; or as an array (n,): per-neuron values, as
              ``add_population(..., params=)`` takes them;
            - ``bias``: the constant drive, a scalar, (n,) or (batch, n);
            - a state variable (LIF ``v`` and ``ref``, the remaining
              refractory time in s; HH ``v``, ``m``, ``h``, ``n``; a
              NeuronModel's ``state_names``): a scalar,
              (n,) or (batch, n). Before the first run this sets the initial
              state (the one :meth:`reset` returns to); afterwards it sets the
              current state only.

            For a spike-source population: ``times`` (``SpikeSource``), or
            ``rate``, ``start``, ``stop`` (``PoissonSource``); with ``batch=B``
            the rate may differ between copies: (B,) (one per copy) or (B, n).

            The next :meth:`run` continues from the current time with the new
            values; the synaptic input in flight is kept.

        Raises
        ------
        ValueError, TypeError
            For an unknown name (with the closest valid one), a non-finite
            value, an array where a scalar parameter is expected, a shape that
            does not match the population, or a parameter value the model
            rejects.

        Examples
        --------
        >>> from spikenet.sim import LIF, Network
        >>> net = Network(dt=1e-4)
        >>> pop = net.add_population(3, LIF(), bias=1.5, name="a")
        >>> first = net.run(0.1)
        >>> net.set("a", bias=3.0, tau_m=0.01)
        >>> second = net.run(0.1)
        >>> bool(second.rates("a").mean() > first.rates("a").mean())
        True
        """
        pop = self._pop(pop)
        nrn = pop.neuron
        if is_source(nrn):
            _inputs.set_source(self, pop, values)
            return
        gen = isinstance(nrn, NeuronModel)
        fields = [f.name for f in dataclasses.fields(nrn)]
        states = nrn.state_names if gen else ("v", "ref") if isinstance(nrn, LIF) else ("v", "m", "h", "n")
        params, per, state, bias = {}, {}, {}, None
        for name, val in values.items():
            if name == "bias":
                bias = self._per_neuron("bias", val, pop.n)
            elif name in fields:
                if np.ndim(val) != 0:
                    per[name] = val  # per-neuron values, checked by gen_set
                else:
                    params[name] = val
            elif name in states:
                arr = self._per_neuron(name, val, pop.n)
                if name == "ref" and np.any(arr < 0):
                    raise ValueError("ref (remaining refractory time) must be >= 0 s")
                state[name] = arr
            else:
                choice("set argument", name, [*fields, "bias", *states])
        if gen or per or pop.params:
            new_neuron, pop.params = gen_set(pop, params, per)
            params.update(per)
        else:
            new_neuron = dataclasses.replace(nrn, **params) if params else nrn
        pop.neuron = new_neuron
        if bias is not None:
            pop.bias = bias
        if self._built is None:
            pop.init.update(state)
            return
        if params or bias is not None:
            # rebuild the constants (propagators, couplings, drives) around the current state
            old = self._built
            self._build()
            for key in _STATE_KEYS:
                self._built[key] = old[key]
        bd = self._built
        sl = slice(bd["pop_off"][pop.index], bd["pop_off"][pop.index] + pop.n)
        for name, arr in state.items():
            if gen:
                row = nrn.state_names.index(name)
                o = bd["gen_soff"][pop.index] + row * pop.n
                bd["gen_S"][:, o:o + pop.n] = arr
            elif name == "ref":
                bd["ref_end"][:, sl] = self.t + arr
            else:
                target = {"v": "v", "m": "gm", "h": "gh", "n": "gn"}[name]
                bd[target][:, sl] = arr

    def _build(self):
        if not self.populations:
            raise ValueError("the network has no populations")
        self._sync_plastic_weights()  # a rebuild starts from the current weights
        dt, dtype, B = self.dt, self.dtype, self.n_batch
        pops = self.populations
        P = len(pops)
        pop_n = np.array([p.n for p in pops], dtype=np.int64)
        pop_off = np.concatenate([[0], np.cumsum(pop_n)[:-1]]).astype(np.int64)
        N = int(pop_n.sum())
        pop_kind = np.array([0 if isinstance(p.neuron, LIF) else 1 for p in pops], dtype=np.int64)
        gen_classes, gen_kinds, gen_arrays = build_gen(pops, B, dtype, dt)
        for pi, kind in gen_kinds.items():
            pop_kind[pi] = kind
        # parts (threads) of one copy, and the lanes of the per-thread arrays
        T = self._n_parts(N)
        lanes = B if T == 1 else T
        part_cut = np.array([_part_cuts(int(n), T) for n in pop_n], dtype=np.int64).reshape(P, T + 1)
        from spikenet.sim.kernels.layout import (
            CONN_DENSE,
            CONN_SPARSE,
            CONN_SPARSE_DELAYED,
            CONN_SPARSE_UNIFORM,
            LIF_BLOCK,
            N_POP_PAR,
        )

        pop_par = np.zeros((P, N_POP_PAR))
        for p in pops:
            nrn = p.neuron
            if is_source(nrn):
                continue
            if isinstance(nrn, LIF):
                a = math.exp(-dt / nrn.tau_m)
                pop_par[p.index, :6] = (a, 1.0 / -math.expm1(-dt / nrn.tau_m), nrn.tau_m, nrn.tau_ref,
                                        nrn.v_th, nrn.v_reset)
                if getattr(p, "_grid_refractory", False):  # internal: NEST's refractory rule (tests)
                    pop_par[p.index, 6:8] = (1.0, round(nrn.tau_ref / dt))
            elif isinstance(nrn, HH):
                pop_par[p.index, :8] = (nrn.c_m, nrn.g_na, nrn.g_k, nrn.g_l, nrn.e_na, nrn.e_k, nrn.e_l,
                                        nrn.v_spike)
        # synapse groups: one per (post population, filter)
        groups: dict[tuple[int, PSCFilter], int] = {}
        for c in self._conns:
            groups.setdefault((c.post.index, c.synapse), len(groups))
        for key in _inputs.group_keys(self):
            groups.setdefault(key, len(groups))
        G = len(groups)
        grp_post = np.zeros(G, dtype=np.int64)
        grp_nst = np.zeros(G, dtype=np.int64)
        grp_off = np.zeros(G, dtype=np.int64)
        grp_prop_off = np.zeros(G, dtype=np.int64)
        grp_c_off = np.zeros(G, dtype=np.int64)
        grp_avg_off = np.zeros(G, dtype=np.int64)
        coef: list[float] = []
        s_total = 0
        for (post_i, syn), g in groups.items():
            post = pops[post_i]
            if syn.entry == JUMP:
                # one stage that sums the jumps arriving in a step; the kernel
                # adds it to the voltage and clears it (no coupling, no decay)
                grp_post[g], grp_nst[g], grp_off[g] = post_i, 1, s_total
                s_total += post.n
                grp_prop_off[g] = len(coef)
                grp_c_off[g] = len(coef) + 1
                grp_avg_off[g] = len(coef) + 2
                coef.extend((0.0, 0.0, 0.0, 0.0))  # the last: tau_s = 0, no current
                continue
            m = syn.n_stages
            grp_post[g], grp_nst[g], grp_off[g] = post_i, m, s_total
            s_total += m * post.n
            grp_prop_off[g] = len(coef)
            coef.extend(syn.stage_propagator(dt).ravel())
            grp_c_off[g] = len(coef)
            lif_post = isinstance(post.neuron, LIF)
            coef.extend(_voltage_coupling(syn, post.neuron, dt) if lif_post else np.zeros(m))
            grp_avg_off[g] = len(coef)
            coef.extend(_step_average(syn, dt))
            # at grp_avg_off + m, for the event code (kernels/release.py): the
            # cascade's tau_s, or -1 for a kind that is not a PSC cascade
            tau_c = syn.cascade_tau
            coef.append(float(tau_c) if tau_c is not None else -1.0)
        jump_grp = np.array([g for (_, syn), g in groups.items() if syn.entry == JUMP], dtype=np.int64)
        gen_arrays["gen_lcoef"], gen_arrays["gen_lcoef_off"] = lif_couplings(pops, groups, grp_nst, dt, dtype,
                                                                             _voltage_coupling)
        jump_pops = {int(grp_post[g]) for g in jump_grp}
        for c in self._conns:
            if c.src in jump_pops and c.delay_steps == 0:
                raise ValueError(
                    f"delay: population {pops[c.src].name!r} receives Delta synapses, so it spikes at the "
                    "arrival time of a jump; its outgoing connections need a delay of at least one step "
                    f"(dt = {dt:g} s), as NEST's minimum delay; got 0"
                )
        # sources: populations, then spike inputs; a ring slot holds up to two
        # spikes per neuron of a population receiving jumps (one at the end of
        # the step, caused by a jump, one inside it)
        src_n = [p.n for p in pops] + [s.n_in for s in self._spike_inputs]
        src_w = [(2 if i in jump_pops else 1) * n for i, n in enumerate(src_n)]
        src_off = np.concatenate([[0], np.cumsum(src_w)[:-1]]).astype(np.int64)
        # +2: with parts on threads, a part may clear its slot of step k while
        # another still delivers the spikes of step k - 1 - delay
        # (STDP with per-synapse delays reads each spike again at each synapse's own arrival step)
        n_ring = 2 + max([c.delay_steps + _plastic.excess_steps(c) for c in self._conns], default=0)
        # per-synapse delays: a spike is delivered at once into a ring of the
        # group's future first-stage inputs (n_dring steps ahead), added to the
        # stage when its step comes (grp_doff: the group's block, or -1)
        delayed = [c for c in self._conns if c.syn_delay is not None]
        n_dring = 1 + max([int(c.syn_delay.max()) for c in delayed], default=0)
        n_dring = max(n_dring, self._dbuf_force[1])
        grp_doff = np.full(G, -1, dtype=np.int64)
        d_total = 0
        for c in delayed:
            g = groups[(c.post.index, c.synapse)]
            if grp_doff[g] < 0:
                grp_doff[g] = d_total
                d_total += n_dring * c.post.n
        for key in sorted(self._dbuf_force[0], key=lambda k: groups[k]):  # (set_delays: spikes in flight)
            if grp_doff[groups[key]] < 0:
                grp_doff[groups[key]] = d_total
                d_total += n_dring * pops[key[0]].n
        w_sdelay = []
        # connections
        C = len(self._conns)
        keys = ("src", "grp", "delay", "kind", "npost", "ptr", "data")
        conn = {k: np.zeros(C, dtype=np.int64) for k in keys}
        w_dense, w_ptr, w_idx, w_sdata = [np.zeros(0)], [np.zeros(0, np.int64)], [np.zeros(0, np.int32)], []
        w_rowcut = [np.zeros((T - 1, 0), np.int64)]  # the inner cuts of each CSR row (T - 1 per row)
        n_dense = n_ptr = n_idx = n_sdata = 0
        for ci, c in enumerate(self._conns):
            src = c.src if c.src >= 0 else P + (-1 - c.src)
            conn["src"][ci] = src
            conn["grp"][ci] = groups[(c.post.index, c.synapse)]
            conn["delay"][ci] = c.delay_steps
            conn["npost"][ci] = c.post.n
            kind, w = c.weights
            scale = c.synapse.input_scale
            if kind == "dense":
                # pre-major rows: a spike of pre j adds the contiguous row j
                conn["kind"][ci] = CONN_DENSE
                conn["data"][ci] = n_dense
                block = np.ascontiguousarray(w.T * scale).ravel()
                block = _plastic.tiled(c, block, B, scale)  # (batch: one block per copy if plastic)
                w_dense.append(block)
                n_dense += block.size
            else:
                # CSR of the transposed weights: row j lists the targets of pre j
                conn["ptr"][ci] = n_ptr
                w_ptr.append(w.indptr + n_idx)
                w_rowcut.append(_row_cuts(w.indptr, w.indices, part_cut[c.post.index, 1:-1]) + n_idx)
                n_ptr += w.indptr.size
                w_idx.append(w.indices)
                if c.syn_delay is not None:
                    conn["kind"][ci] = CONN_SPARSE_DELAYED
                    conn["data"][ci] = n_sdata - n_idx  # shift from CSR position to w_sdata and w_sdelay
                    w_sdata.append((_plastic.tiled(c, w.data, B), scale))  # scaled into one array below
                    w_sdelay.append(np.tile(c.syn_delay, B if _is_stdp(c) else 1))
                    n_sdata += w_sdata[-1][0].size
                elif w.data.size and np.all(w.data == w.data[0]) and not _is_stdp(c):
                    conn["kind"][ci] = CONN_SPARSE_UNIFORM
                    conn["data"][ci] = n_dense
                    w_dense.append(np.array([w.data[0] * scale]))
                    n_dense += 1
                else:
                    conn["kind"][ci] = CONN_SPARSE
                    conn["data"][ci] = n_sdata - n_idx  # shift from CSR position to w_sdata
                    w_sdata.append((_plastic.tiled(c, w.data, B), scale))  # scaled into one array below
                    w_sdelay.append(np.zeros(w_sdata[-1][0].size if delayed else 0, np.uint16))
                    n_sdata += w_sdata[-1][0].size
                n_idx += w.indices.size
        w_sdata = _scaled_concat(w_sdata, dtype)  # no per-connection copies (memory at 10^8 synapses)
        w_ptr = np.concatenate([*w_ptr, np.zeros(1, np.int64)])
        # w_cut[t, r]: where part t's targets begin in CSR row r; row T: the ends
        w_cut = np.empty((T + 1, w_ptr.size), dtype=np.int64)
        w_cut[0] = w_ptr
        w_cut[1:T] = np.concatenate([*w_rowcut, np.zeros((T - 1, 1), np.int64)], axis=1)
        w_cut[T, :-1] = w_ptr[1:]
        w_cut[T, -1] = w_ptr[-1]
        # state (filled with the initial values by _initial_state)
        has_hh = any(isinstance(p.neuron, HH) for p in pops)
        n_gates = N if has_hh else 1  # gate arrays are only used by HH populations
        v, ref = np.zeros((B, N)), np.zeros((B, N))
        gm, gh, gn = np.zeros((B, n_gates)), np.zeros((B, n_gates)), np.zeros((B, n_gates))
        jconst = np.zeros((B, N))
        for p in pops:
            jconst[:, pop_off[p.index]:pop_off[p.index] + p.n] = p.bias
        for cur in self._currents:
            if cur.kind == "const":
                o = pop_off[cur.post.index]
                jconst[:, o:o + cur.post.n] += cur.data
        # LIF populations whose synapses are all single-stage (at most two)
        # and without time-varying input get a fused update pass that also
        # advances their stages (see the kernel).
        pop_fuse = np.full((P, 4), -1, dtype=np.int64)
        pop_jblock = np.zeros((P, LIF_BLOCK), dtype=dtype)
        grp_fused = np.zeros(G, dtype=np.int64)
        varying = {c.post.index for c in self._currents if c.kind != "const"}
        varying |= _inputs.unfused(self)
        grp_fused[jump_grp] = 1  # Delta groups: cleared by the jump pass, never advanced
        # populations receiving conductances: updated, stages included, by their own pass
        cond_pops = {pi for (pi, syn) in groups if syn.entry == CONDUCTANCE}  # inputs' groups too
        grp_fused[np.isin(grp_post, list(cond_pops))] = 1
        for p in pops:
            gs = [g for g in range(G) if grp_post[g] == p.index and g not in jump_grp]
            # (single-stage PSC cascades only: the event code reads their tau_s)
            if isinstance(p.neuron, LIF) and not p.params and p.index not in varying and len(gs) <= 2 \
                    and p.index not in cond_pops and all(grp_nst[g] == 1 for g in gs) \
                    and all(coef[grp_avg_off[g] + 1] > 0.0 for g in gs):
                pop_fuse[p.index, 0] = len(gs)
                pop_fuse[p.index, 1:1 + len(gs)] = gs
                # one drive for every neuron and copy (CUBA's bias): the pass
                # reads it from a block of copies that stays in cache instead
                # of a row of the drive (8 bytes less per neuron from memory)
                jp = jconst[:, pop_off[p.index]:pop_off[p.index] + p.n].astype(dtype)
                pop_fuse[p.index, 3] = int(bool(np.all(jp == jp[0, 0])))
                pop_jblock[p.index] = jp[0, 0]
                grp_fused[gs] = 1
        needs_generic = has_hh or not grp_fused.all() or any(
            isinstance(p.neuron, LIF) and not p.params and pop_fuse[p.index, 0] not in (1, 2)
            and p.index not in cond_pops for p in pops)
        var_pops = sorted({c.post.index for c in self._currents if c.kind != "const"})
        pop_voff = np.full(P, -1, dtype=np.int64)
        nv = 0
        for pi in var_pops:
            pop_voff[pi] = nv
            nv += pops[pi].n
        f = dtype
        flags = aligned(np.zeros((lanes, LIF_BLOCK), dtype=np.uint8))  # the kernel's per-lane event flags
        self._built = {
            "N": N, "P": P, "nv": nv, "pop_n": pop_n, "pop_off": pop_off, "pop_kind": pop_kind,
            "pop_par": pop_par.astype(f), "pop_voff": pop_voff, "pop_fuse": pop_fuse,
            "pop_jblock": aligned(pop_jblock), "grp_fused": grp_fused,
            "grp_post": grp_post, "grp_nst": grp_nst, "grp_off": grp_off, "coef": np.asarray(coef, dtype=f),
            "grp_prop_off": grp_prop_off, "grp_c_off": grp_c_off, "grp_avg_off": grp_avg_off,
            "conn": conn, "w_dense": np.concatenate(w_dense).astype(f),
            "w_cut": w_cut, "n_parts": T, "lanes": lanes,
            "part_lo": np.ascontiguousarray(part_cut[:, :-1].T),
            "part_hi": np.ascontiguousarray(part_cut[:, 1:].T),
            "w_idx": np.concatenate([*w_idx, np.zeros(1, np.int32)]),
            "w_sdata": w_sdata,
            "src_off": src_off, "n_src": len(src_n),
            # the arrays the kernel streams every step start on a cache line (_aligned.py)
            "v": aligned(v.astype(f)), "ref_end": aligned(ref),
            "gm": aligned(gm.astype(f)), "gh": aligned(gh.astype(f)), "gn": aligned(gn.astype(f)),
            "stages": aligned(np.zeros((B, max(s_total, 1)), dtype=f)),
            "scratch": aligned(np.zeros((B, N), dtype=f)),
            "flags": flags, "flag_words": flags.view(np.uint64),
            "zeros": aligned(np.zeros((lanes, LIF_BLOCK), dtype=f)),
            "jconst": aligned(jconst.astype(f)),
            "ring_idx": np.zeros((lanes, n_ring, max(int(sum(src_w)), 1)), dtype=np.int32),
            "ring_cnt": np.zeros((lanes, n_ring, len(src_n)), dtype=np.int64),
            "cap": _initial_capacity(N),
            # None lets Numba prune the HH code from LIF-only kernels
            "with_hh": _flag(has_hh),
            # None prunes the generic LIF pass and the separate stage update
            # from networks whose LIF populations all take a fused pass
            "with_generic": _flag(needs_generic),
            # None prunes the delivery code of connection kinds the network lacks
            "with_dense": _flag(np.any(conn["kind"] == CONN_DENSE)),
            "with_sparse_w": _flag(np.any(np.isin(conn["kind"], (CONN_SPARSE, CONN_SPARSE_DELAYED)))),
            # None prunes the jump pass of Delta synapses
            "jump_grp": jump_grp, "with_delta": _flag(jump_grp.size > 0),
            # per-synapse delays; with_delays holds the length of their ring (None prunes them)
            "w_sdelay": np.concatenate([*w_sdelay, np.zeros(1, np.uint16)]),
            "dbuf": aligned(np.zeros((B, max(d_total, 1)), dtype=f)), "grp_doff": grp_doff,
            "with_delays": np.array([n_dring], dtype=np.int64) if d_total > 0 else None,
            "grp_key": list(groups),
            # short-term plasticity (None prunes it)
            "stp": build_stp(self._conns, lanes, dt),
            # Poisson inputs, spike-source populations, white noise (None prunes them)
            "inp": _inputs.build(self, groups, pop_off, f),
            # conductance synapses (None prunes their pass)
            "cond": build_cond(pops, groups, dt, lanes, LIF_BLOCK),
            "cond_slots": conductance_slots(self._cond_init, groups, grp_off, grp_nst, pop_n),
            # NeuronModel populations: their state and parameters, and the model classes whose
            # generated kernel serves the network (none: the static kernel)
            **gen_arrays, "gen_classes": gen_classes,
        }
        _plastic.build(self, self._built)
        inp, cond = self._built["inp"], self._built["cond"]
        if inp is not None and cond is not None:
            for pi in np.flatnonzero((inp.nz_sigma > 0) & (cond.pop_mode != 0)):
                if isinstance(pops[pi].neuron, LIF):
                    raise ValueError(f"noise: LIF population {pops[pi].name!r} receives conductance "
                                     "synapses; white noise is not integrated together with conductances "
                                     "(use a Poisson input instead)")
        self._initial_state(self._built)

    def _initial_state(self, bd):
        """Put every population's initial state into the built arrays ``bd``; no synaptic input in flight."""
        for p in self.populations:
            sl = slice(bd["pop_off"][p.index], bd["pop_off"][p.index] + p.n)
            nrn = p.neuron
            if is_source(nrn):
                continue
            if isinstance(nrn, NeuronModel):
                o = bd["gen_soff"][p.index]
                ns = len(nrn.state_names)
                bd["gen_S"][:, o:o + ns * p.n] = gen_initial_state(p, self.n_batch).reshape(self.n_batch, -1)
            elif isinstance(nrn, LIF):
                bd["v"][:, sl] = p.init.get("v", p.params.get("v_reset", nrn.v_reset))
                bd["ref_end"][:, sl] = p.init.get("ref", 0.0)  # absolute end time, counted from t = 0
            else:
                v0 = p.init.get("v", np.broadcast_to(p.params.get("v_init", nrn.v_init), (self.n_batch, p.n)))
                bd["v"][:, sl] = v0
                for key, arr, x in zip("mhn", (bd["gm"], bd["gh"], bd["gn"]), _hh_steady_state(v0)):
                    arr[:, sl] = p.init.get(key, x)
        for key in _INPUT_STATE_KEYS:
            bd[key][...] = 0
        reset_stp(bd["stp"])
        initial_conductances(self._cond_init, bd)

    def _parse_record(self, record):
        specs = []  # (pop, state, indices)
        if record is None:
            return specs
        if not isinstance(record, Mapping):
            raise TypeError("record must map populations (or names) to state names, e.g. {pop: ('v',)}")
        for key, what in record.items():
            pop = self._pop(key, "record key")
            names = pop.state_names
            if isinstance(what, str):
                items = [(what, None)]
            elif isinstance(what, Mapping):
                items = list(what.items())
            elif isinstance(what, Sequence):
                items = [(w, None) for w in what]
            else:
                raise TypeError(f"record[{pop.name!r}] must be a state name, a list of names or a dict "
                                f"state -> neuron indices, got {type(what).__name__}")
            for state, idx in items:
                choice(f"record[{pop.name!r}] state", state, (*names, "spikes"))
                if state == "spikes":
                    continue  # spikes are always recorded
                if idx is None:
                    ind = np.arange(pop.n)
                elif isinstance(idx, slice):
                    ind = np.arange(pop.n)[idx]
                else:
                    ind = np.asarray(idx)
                    if ind.dtype == bool:
                        if ind.shape != (pop.n,):
                            raise ValueError(
                                f"record[{pop.name!r}][{state!r}] mask must have shape ({pop.n},)"
                            )
                        ind = np.flatnonzero(ind)
                    if ind.ndim != 1 or (ind.size and not np.issubdtype(ind.dtype, np.integer)):
                        raise TypeError(f"record[{pop.name!r}][{state!r}] must be None, a slice, a mask or "
                                        "a 1-D array of neuron indices")
                    if ind.size and (ind.min() < -pop.n or ind.max() >= pop.n):
                        raise ValueError(
                            f"record[{pop.name!r}][{state!r}] has indices outside 0..{pop.n - 1}"
                        )
                    ind = np.where(ind < 0, ind + pop.n, ind)
                specs.append((pop, state, ind.astype(np.int64)))
        return specs

    def _chunk_currents(self, k0, n_chunk):
        """Time-varying drive for global steps k0 .. k0+n_chunk-1: array (n_chunk, B, nv)."""
        bd = self._built
        B = self.n_batch
        jvar = np.zeros((n_chunk, B, max(bd["nv"], 1)), dtype=np.float64)
        for ci, cur in enumerate(self._currents):
            if cur.kind == "const":
                continue
            pop = cur.post
            o = bd["pop_voff"][pop.index]
            sl = slice(o, o + pop.n)
            if cur.kind == "array":
                rows = cur.data[k0:k0 + n_chunk]
                jvar[:, :, sl] += rows if rows.ndim == 3 else rows[:, None, :]
            else:
                for k in range(n_chunk):
                    t = (k0 + k) * self.dt
                    val = finite_array(f"current (input {ci}) at t={t:g}", cur.data(t), ndim=(0, 1, 2))
                    ok = val.ndim == 0 or val.shape == (pop.n,) or (self.batch is not None
                                                                     and val.shape == (B, pop.n))
                    if not ok:
                        want = f"({pop.n},)" + ("" if self.batch is None else f" or ({B}, {pop.n})")
                        raise ValueError(f"current (input {ci}) returned shape {val.shape}, expected {want}")
                    jvar[k, :, sl] += val
        return jvar.astype(self.dtype)

    def _chunk_events(self, k0, n_chunk):
        B = self.n_batch
        P = len(self.populations)
        per_b = [[] for _ in range(B)]  # arrays (row, src, idx)
        for q, inp in enumerate(self._spike_inputs):
            rows = inp.raster[k0:k0 + n_chunk]
            if rows.ndim == 2:
                r, j = np.nonzero(rows)
                for b in range(B):
                    per_b[b].append(np.stack([r, np.full(r.size, P + q), j], axis=1))
            else:
                r, bb, j = np.nonzero(rows)
                for b in range(B):
                    sel = bb == b
                    per_b[b].append(np.stack([r[sel], np.full(sel.sum(), P + q), j[sel]], axis=1))
        ev_ptr = np.zeros((B, n_chunk + 1), dtype=np.int64)
        counts = []
        merged = []
        for b in range(B):
            ev = np.concatenate(per_b[b]) if per_b[b] else np.zeros((0, 3), np.int64)
            ev = ev[np.argsort(ev[:, 0], kind="stable")]
            merged.append(ev)
            counts.append(len(ev))
            ev_ptr[b, 1:] = np.cumsum(np.bincount(ev[:, 0], minlength=n_chunk))
        ev_idx = np.zeros((B, max(max(counts, default=0), 1), 2), dtype=np.int64)
        for b, ev in enumerate(merged):
            ev_idx[b, :len(ev)] = ev[:, 1:]
        return ev_ptr, ev_idx

    def _check_inputs_cover(self, k_end):
        for ci, cur in enumerate(self._currents):
            if cur.kind == "array" and cur.data.shape[0] < k_end:
                raise ValueError(f"current (input {ci}) has {cur.data.shape[0]} rows but the run needs "
                                 f"{k_end} (global steps up to t = {k_end * self.dt:g} s)")
        for q, inp in enumerate(self._spike_inputs):
            if inp.raster.shape[0] < k_end:
                raise ValueError(f"spikes (input {q}) has {inp.raster.shape[0]} rows but the run needs "
                                 f"{k_end} (global steps up to t = {k_end * self.dt:g} s)")

    # -------------------------------------------------------------------- run
    def run(self, T, record=None, progress=False, record_every=None) -> NetworkResult:
        """Simulate for ``T`` seconds, continuing from the current state.

        Parameters
        ----------
        T : float
            Duration in seconds, a whole number of steps of ``dt`` (within
            1e-9 relative, else ``ValueError``): ``T / dt`` steps.
        record : dict, optional
            Maps a population (or its name) to the states to record: a name
            (``"v"``), a list of names (all neurons), or a dict
            ``{name: indices}`` with ``indices`` None (all), a slice, a
            boolean mask or an integer array of neurons. LIF states: ``"v"``,
            ``"I_syn"`` (total synaptic current, the sum of the last stages),
            ``"ref"`` (remaining refractory time, s); HH: ``"v"`` (mV),
            ``"I_syn"`` (uA/cm^2), ``"m"``, ``"h"``, ``"n"``. Spikes of every
            population are always recorded (16 bytes per spike). A recorded
            state takes ``steps * batch * k`` values; a recording larger than
            the available memory is refused before the run starts
            (:class:`~spikenet._validation.RecordingTooLargeError`, a
            ``ValueError`` and ``MemoryError``).
            A :class:`Connection` may also be a key, mapped to ``"w"``: its
            weights over time, ``result[conn, "w"]`` of shape (records,
            n_synapses) (synapses in the order of ``W.ravel()`` for dense
            weights, of the CSR ``data`` for sparse ones).
        progress : bool
            Show a tqdm progress bar.
        record_every : float, optional
            Interval between weight records, s (a whole number of steps;
            default every step): row ``m`` holds the weights at
            ``t_start + m * record_every``.

        Returns
        -------
        NetworkResult
            If the run is stopped with Ctrl-C (SIGINT), or a callable input
            raises ``KeyboardInterrupt``, it returns within about 0.1 s with
            the steps done so far (``result.interrupted`` is True, with a
            ``RuntimeWarning``); the network stands at the end of those steps
            and a further ``run`` continues from there. A second Ctrl-C
            raises ``KeyboardInterrupt`` as usual.
        """
        steps = whole_steps("T", T, self.dt)
        record, w_specs = self._split_weight_record(record)
        every = 1 if record_every is None else whole_steps("record_every", record_every, self.dt)
        specs = self._parse_record(record)
        check_cond_record(specs, [*self._conns, *self._stochastic.rates])
        if self._built is None:
            self._build()
        bd = self._built
        w_rec = _plastic.recording(self, bd, w_specs, steps, every)
        plast = _plastic.kernel_args(bd, w_rec, self._step, every)
        k_begin = self._step
        self._check_inputs_cover(k_begin + steps)
        from spikenet.sim import _aot_lookup as aot
        from spikenet.sim.kernels.layout import NO_STOP, SYNC_SIZE, SYNC_STOP

        B = self.n_batch
        f = self.dtype
        # recording layout
        rec_pop = np.array([s[0].index for s in specs], dtype=np.int64)
        rec_state = np.array([gen_state_code(s[0], s[1]) if isinstance(s[0].neuron, NeuronModel)
                              else _STATE_CODE[s[1]] for s in specs], dtype=np.int64)
        rec_len = np.array([s[2].size for s in specs], dtype=np.int64)
        rec_col = np.concatenate([[0], np.cumsum(rec_len)[:-1]]).astype(np.int64) if specs else rec_len.copy()
        rec_idx = np.concatenate([s[2] for s in specs]) if specs else np.zeros(1, np.int64)
        rec_idx_off = rec_col.copy()
        ncols = int(rec_len.sum())
        if ncols:
            check_recording_fits(steps * B * ncols * f.itemsize, T, steps,
                                 f"record= of {ncols} neuron states x {B} batch copies in {f.name}")
            rec_all = np.zeros((steps, B, ncols), dtype=f)
        # Placeholders for what the kernel does not read (no recording, no
        # time-varying current), so that nothing is allocated per step.
        rec_none = np.zeros((1, B, 1), dtype=f)
        jvar_none = np.zeros((1, B, 1), dtype=f)
        ev_idx_none = np.zeros((B, 1, 2), dtype=np.int64)
        # chunking: about 0.1 s of wall time per kernel call (so that Ctrl-C
        # is seen), within the memory of the per-step input buffers
        per_step = B * (bd["nv"] * f.itemsize + 8)
        n_total = B * int(sum(p.n for p in self.populations))
        clock = ChunkClock(max(1, _FIRST_CHUNK_WORK // max(n_total, 1)),
                           most=max(1, _CHUNK_BYTES // per_step))
        stopper = StopOnInterrupt()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, unit="step", desc="Network.run")
        cap = bd["cap"]
        T, L = bd["n_parts"], bd["lanes"]
        spk_step = np.zeros((L, cap), dtype=np.int64)
        spk_idx = np.zeros((L, cap), dtype=np.int32)
        spk_off = np.zeros((L, cap))
        out_step: list[list[np.ndarray]] = [[] for _ in range(L)]
        out_idx: list[list[np.ndarray]] = [[] for _ in range(L)]
        out_off: list[list[np.ndarray]] = [[] for _ in range(L)]
        sync = np.zeros(SYNC_SIZE, dtype=np.int64) if T > 1 else None  # None prunes the barrier code
        gen, gen_module = _gen_args(bd)
        done = 0
        try:
            stopper.__enter__()
            while done < steps and not stopper.hit:
                n_chunk = clock.start(steps - done)
                k0 = k_begin + done
                try:
                    jvar = self._chunk_currents(k0, n_chunk) if bd["nv"] else jvar_none
                except KeyboardInterrupt:  # raised by a callable input: stop before this chunk
                    stopper.stop()
                    break
                if self._spike_inputs:
                    ev_ptr, ev_idx = self._chunk_events(k0, n_chunk)
                else:  # no input spikes: every step's event range is empty
                    ev_ptr, ev_idx = np.zeros((B, n_chunk + 1), dtype=np.int64), ev_idx_none
                kstart = np.zeros(L, dtype=np.int64)
                spk_cnt = np.zeros(L, dtype=np.int64)
                while True:
                    if sync is not None:
                        sync[:] = 0
                        sync[SYNC_STOP] = NO_STOP
                    args = _kernel_args(
                        bd, sync, k0, n_chunk, kstart, self.dt, _ka.Chunk(jvar, ev_ptr, ev_idx),
                        _ka.Rec(rec_pop, rec_state, rec_col, rec_idx_off, rec_len, rec_idx,
                                rec_all[done:done + n_chunk] if ncols else rec_none),
                        _ka.Spk(spk_step, spk_idx, spk_off, spk_cnt), _flag(len(rec_pop) > 0), gen, plast,
                    )
                    if gen_module is not None:  # NeuronModel populations: the kernel generated for them
                        self._kernel_key = aot.kernel_key(args) if T == 1 else None
                        if T > 1:
                            gen_module.run_network_threads(*args)
                        elif B > 1:
                            gen_module.run_network_batched(*args)
                        else:
                            gen_module.run_network(*args)
                    elif T > 1:
                        from spikenet.sim.kernels.network import run_network_threads

                        self._kernel_key = None
                        run_network_threads(*args)
                    else:
                        self._kernel_key = aot.kernel_key(args)
                        _kernel_for(B, self._kernel_key, aot)(*args)
                    if np.all(kstart == n_chunk):
                        break
                    cap *= 2  # a buffer was nearly full: grow and continue
                    spk_step = _grow(spk_step, cap)
                    spk_idx = _grow(spk_idx, cap)
                    spk_off = _grow(spk_off, cap)
                bd["cap"] = cap
                for ln in range(L):
                    nb = spk_cnt[ln]
                    if nb == 0:
                        continue
                    out_step[ln].append(spk_step[ln, :nb].copy())
                    out_idx[ln].append(spk_idx[ln, :nb].copy())
                    out_off[ln].append(spk_off[ln, :nb].copy())
                done += n_chunk
                self._step = k_begin + done
                if bar is not None:
                    bar.update(n_chunk)
                clock.done(n_chunk)
        finally:
            stopper.__exit__(None, None, None)
            if bar is not None:
                bar.close()
        interrupted = done < steps
        if interrupted:
            warnings.warn(f"Network.run was interrupted after {done} of {steps} steps: the result covers "
                          f"t in [{k_begin * self.dt:g}, {self._step * self.dt:g}) s and the network "
                          "continues from there (result.interrupted is True)", RuntimeWarning, stacklevel=2)
        # (the empty slices give each lane's arrays their dtype when it had no spike)
        spikes = [(np.concatenate([spk_step[b, :0], *out_step[b]]),
                   np.concatenate([spk_idx[b, :0], *out_idx[b]]),
                   np.concatenate([spk_off[b, :0], *out_off[b]])) for b in range(L)]
        if T > 1:
            # one copy in T lanes: the order of a single thread (by step, then neuron)
            st, ix, of = (np.concatenate(x) for x in zip(*spikes))
            order = np.lexsort((ix, st))
            spikes = [(st[order], ix[order], of[order])]
        recorded = {}
        for r, (pop, state, ind) in enumerate(specs):
            col = rec_col[r]
            arr = rec_all[:done, :, col:col + rec_len[r]]
            recorded[(pop.index, state)] = (arr[:, 0, :] if self.batch is None else arr, ind)
        n_w = -(-done // every)
        weights = {Connection(self, ci): w_rec[0][:n_w, cols] for ci, cols in w_rec[4].items()}
        result = NetworkResult(
            dt=self.dt, k_begin=k_begin, steps=done, populations=list(self.populations),
            pop_off=bd["pop_off"], spikes=spikes, recorded=recorded, batch=self.batch,
            interrupted=interrupted, weights=weights, record_every=every * self.dt,
        )
        return result

    def _split_weight_record(self, record):
        """``record`` without its Connection keys, and the kernel indices of the connections to record."""
        if not isinstance(record, Mapping):
            return record, []
        rest, conns = {}, []
        for key, what in record.items():
            if isinstance(key, Connection):
                if key._net is not self:
                    raise ValueError("record: the connection belongs to another Network")
                if what != "w":
                    raise ValueError(f"record[connection] must be 'w' (the weights), got {what!r}")
                if self.batch is not None:
                    raise ValueError("record: weights are recorded in unbatched networks only")
                conns.append(key._index)
            else:
                rest[key] = what
        return rest, conns


# Networks with fewer neurons run on one thread unless ``threads`` says otherwise.
_SPLIT_MIN_NEURONS = 20000


# Per-synapse delays are stored in steps as uint16.
_MAX_DELAY_STEPS = np.iinfo(np.uint16).max


def _synapse_delays(delay, wt, dt):
    """Per-synapse delays in steps, aligned with the weights' CSR of the transpose.

    Returns ``(weights, steps, dense)``: dense weights become sparse (every
    entry a synapse); ``dense`` says whether they were given dense.
    """
    kind, w = wt
    dense = kind == "dense"
    if dense:
        n_post, n_pre = w.shape
        w = _Sparse((n_post, n_pre), np.arange(n_pre + 1, dtype=np.int64) * n_post,
                    np.tile(np.arange(n_post, dtype=np.int32), n_pre), np.ascontiguousarray(w.T).ravel())
    n_post, n_pre = w.shape
    if _is_sparse(delay):
        if dense:
            raise ValueError("delay: a sparse delay matrix needs sparse weights with the same pattern; "
                             "give a dense delay array (post.n, pre.n) for dense weights")
        if delay.shape != (n_post, n_pre):
            raise ValueError(f"delay must have shape (post.n, pre.n) = ({n_post}, {n_pre}), "
                             f"got {delay.shape}")
        d = delay.tocsc()
        d.sort_indices()
        if not (np.array_equal(d.indptr, w.indptr) and np.array_equal(d.indices, w.indices)):
            raise ValueError("delay: the sparse delay matrix must have the same pattern (stored entries) "
                             "as the sparse weights")
        values = np.asarray(d.data, dtype=np.float64)
    else:
        arr = finite_array("delay", delay, ndim=2)
        if arr.shape != (n_post, n_pre):
            raise ValueError(f"delay must have shape (post.n, pre.n) = ({n_post}, {n_pre}), got {arr.shape}")
        pre = np.repeat(np.arange(n_pre), np.diff(w.indptr))
        values = arr[w.indices, pre]
    if not np.all(np.isfinite(values)):
        raise ValueError("delay contains NaN or inf")
    if values.size and values.min() < 0:
        raise ValueError(f"delay must be >= 0 s, got {values.min():g}")
    steps = np.rint(values / dt)
    if steps.size and steps.max() > _MAX_DELAY_STEPS:
        raise ValueError(f"delay: at most {_MAX_DELAY_STEPS} steps per synapse ({_MAX_DELAY_STEPS * dt:g} s "
                         f"at dt = {dt:g} s), got {values.max():g} s")
    return ("sparse", w), steps.astype(np.uint16), dense


def _is_stdp(c) -> bool:
    """Whether connection ``c`` changes its weights (STDP or triplet STDP; not short-term plasticity)."""
    return isinstance(c.plasticity, PLASTICITY_RULES)
def _scaled_concat(parts, dtype) -> np.ndarray:
    """``concatenate([data * scale for data, scale in parts]).astype(dtype)`` without the temporary copies."""
    if not parts:
        return np.zeros(1, dtype=dtype)
    out = np.empty(sum(d.size for d, _ in parts), dtype=dtype)
    a = 0
    for d, scale in parts:
        np.multiply(d, scale, out=out[a:a + d.size], casting="unsafe")
        a += d.size
    return out


def _check_synapse(synapse, post):
    """A TypeError/ValueError naming ``synapse`` unless it is a kind ``post`` can receive."""
    if not is_registered(synapse):
        names = ", ".join(k.__name__ for k in synapse_kinds())
        raise TypeError(f"synapse must be a registered synapse kind ({names}), got {type(synapse).__name__}")
    if is_source(post.neuron):
        raise ValueError(f"post: {post.name!r} is a spike-source population and receives no input")
    if synapse.entry != JUMP:
        check_linear(synapse)
    synapse.check_post(post)


def _numba_threads() -> int:
    """Numba's thread count, without importing Numba when it has not been imported."""
    import os
    import sys

    if "numba" in sys.modules:
        import numba

        return numba.get_num_threads()
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _part_cuts(n: int, parts: int) -> list[int]:
    """Bounds of ``parts`` near-equal parts of ``0..n``, inner bounds on multiples of 64.

    Multiples of 64 neurons keep the parts' state on separate cache lines
    (no false sharing between threads); small populations may leave a part empty.
    """
    inner = [min(n, 64 * round(n * t / parts / 64)) for t in range(1, parts)]
    return [0, *inner, n]


def _row_cuts(indptr, indices, cuts) -> np.ndarray:
    """For each CSR row (sorted indices), the position of its first index ``>= cut``, per cut.

    Returns an int64 array (len(cuts), len(indptr)) of positions relative to
    ``indices``; the last column (the end sentinel) is ``indptr[-1]``.
    Works through the synapses in pieces, so the extra memory stays small.
    """
    n_rows = indptr.size - 1
    out = np.empty((len(cuts), indptr.size), dtype=np.int64)
    out[:, -1] = indptr[-1]
    if len(cuts) == 0:
        return out
    piece = 1 << 22
    r0 = 0
    while r0 < n_rows:
        # rows r0..r1 holding about `piece` synapses
        r1 = int(np.searchsorted(indptr, indptr[r0] + piece, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_rows)
        seg = indices[indptr[r0]:indptr[r1]]
        bounds = indptr[r0:r1 + 1] - indptr[r0]
        # CSR rows are kept sorted (scipy's canonical form, and the random
        # connectivity is drawn in order): a part's targets are then a range
        falls = np.flatnonzero(np.diff(seg) < 0) + 1  # positions where an index is below its predecessor
        if falls.size and not np.all(np.isin(falls, bounds)):
            raise RuntimeError("internal error: CSR rows must have sorted indices to be split into parts")
        for q, cut in enumerate(cuts):
            below = np.concatenate([[0], np.cumsum(seg < cut)])
            out[q, r0:r1] = indptr[r0:r1] + below[bounds[1:]] - below[bounds[:-1]]
        r0 = r1
    return out


def _kernel_for(n_batch, key, aot):
    """The network kernel for a configuration ``key``.

    Unbatched networks use the ahead-of-time compiled module when it has the
    configuration (no Numba import); otherwise Numba's kernels are imported.
    """
    if n_batch == 1:
        fn = aot.lookup(key)
        if fn is not None:
            return lambda *args: fn(0, 0, *args)
        from spikenet.sim.kernels.network import run_network

        return run_network
    from spikenet.sim.kernels.network import run_network_batched

    return run_network_batched


def _kernel_args(bd, sync, k0, n_chunk, kstart, dt, chunk, rec, spk, with_rec, gen, plast):
    """The network kernel's arguments for one call (see :mod:`spikenet.sim.kernels.args`).

    ``bd`` is the built network (``Network._built``), ``chunk``, ``rec`` and
    ``spk`` the call's own groups, ``with_rec`` the recording switch, ``gen``
    and ``plast`` the NeuronModel and plasticity arguments (or None).
    """
    c = bd["conn"]
    return (
        _ka.Parts(bd["n_parts"], bd["part_lo"], bd["part_hi"]), sync, k0, n_chunk, kstart, dt,
        _ka.State(bd["v"], bd["ref_end"], bd["gm"], bd["gh"], bd["gn"], bd["stages"], bd["dbuf"]),
        _ka.Work(bd["scratch"], bd["flags"], bd["flag_words"], bd["zeros"]),
        _ka.Pops(bd["pop_voff"], bd["pop_kind"], bd["pop_off"], bd["pop_n"], bd["pop_par"], bd["pop_fuse"],
                 bd["pop_jblock"],
                 bd["jconst"]),
        _ka.Groups(bd["grp_post"], bd["grp_nst"], bd["grp_off"], bd["grp_fused"], bd["coef"],
                   bd["grp_prop_off"], bd["grp_c_off"], bd["grp_avg_off"], bd["grp_doff"], bd["jump_grp"]),
        _ka.Conns(c["src"], c["grp"], c["delay"], c["kind"], c["npost"], c["ptr"], c["data"], bd["w_dense"],
                  bd["w_cut"], bd["w_idx"], bd["w_sdata"], bd["w_sdelay"]),
        _ka.Ring(bd["src_off"], bd["ring_idx"], bd["ring_cnt"]),
        chunk, rec, spk,
        bd["with_hh"], bd["with_generic"], with_rec, bd["with_dense"], bd["with_sparse_w"], bd["with_delta"],
        bd["with_delays"], bd["stp"], bd["inp"], bd["cond"], gen, plast,
    )


def _gen_args(bd):
    """The kernel argument ``gen`` and the generated kernel module of a built network (None, None without)."""
    if not bd["gen_used"]:
        return None, None
    from spikenet.sim.kernels.generic import GenArgs

    gen = GenArgs(bd["gen_S"], bd["gen_P"], bd["gen_soff"], bd["gen_poff"], bd["gen_nstate"],
                  bd["gen_nparam"], bd["gen_lpar"], bd["gen_loff"], bd["gen_lcoef"], bd["gen_lcoef_off"],
                  bd["gen_hpar"], bd["gen_hoff"], bd["gen_npar"], bd["gen_noff"])
    if not bd["gen_classes"]:  # per-neuron LIF/HH parameters only: the built-in kernel
        return gen, None
    from spikenet.sim.kernels.compose import network_kernel

    return gen, network_kernel(bd["gen_classes"])


def _flag(present) -> np.ndarray | None:
    """A kernel argument that switches a code path on (an array) or prunes it at compile time (None).

    Numba compiles one specialisation per argument type and removes the
    branches under ``if arg is None`` tests of a None-typed argument, so a
    network compiles only the code paths it uses.
    """
    return np.zeros(1, dtype=np.int64) if present else None


def _initial_capacity(n_neurons: int) -> int:
    """Initial spike-buffer length per batch copy (grown x2 whenever a step might not fit)."""
    return max(_MIN_SPIKE_CAPACITY, 2 * n_neurons)


def _grow(arr, cap):
    out = np.zeros((arr.shape[0], cap), dtype=arr.dtype)
    out[:, :arr.shape[1]] = arr
    return out


def _voltage_coupling(syn: PSCFilter, neuron: LIF, dt: float) -> np.ndarray:
    """Coefficients ``c_s``: the end-of-step voltage gains ``sum_s c_s x_s(0)`` from the stages.

    Exact: row 0 of the matrix exponential of the coupled system
    ``z = [v, x_0 .. x_n]``, ``tau_m dv/dt = x_n - v``, ``dx/dt = A x``
    (:meth:`~spikenet.sim.synapse_base.SynapseKind.voltage_coupling`).
    """
    return syn.voltage_coupling(neuron.tau_m, dt)


def _step_average(syn: PSCFilter, dt: float) -> np.ndarray:
    """Coefficients ``d_s``: the last stage averaged over a step is ``sum_s d_s x_s(0)``.

    Exact (Van Loan): the top-right block of ``expm([[A, I], [0, 0]] dt)`` is
    ``int_0^dt expm(A t) dt``.
    """
    return syn.step_average(dt)


def _hh_steady_state(v: np.ndarray):
    """Gate steady states at voltages ``v`` (any shape, mV) via the kernel helper."""
    from spikenet.sim.kernels.hh import hh_steady_state

    flat = np.asarray(v, dtype=np.float64).ravel()
    out = np.array([hh_steady_state(x) for x in flat]).reshape(-1, 3)
    return tuple(out[:, i].reshape(np.shape(v)) for i in range(3))
