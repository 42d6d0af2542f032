r"""Rate -> spiking: run a trained LIF-rate network as a network of spiking LIF neurons.

A ``torch.nn.Sequential`` of ``Linear`` layers with :class:`~spikenet.rate.LIFRate`
or :class:`~spikenet.rate.SoftLIFRate` activations computes, layer by layer,

.. math:: a_i = A_i\, G_i(W_i a_{i-1} + b_i), \qquad y = W_K a_{K-1} + b_K,

with ``G_i`` the LIF tuning curve and ``A_i`` the activation's ``amplitude``.
:func:`to_spiking` builds the same computation from spiking LIF populations:
population ``i`` has one LIF neuron per unit, its input drive
``W_i a_{i-1} + b_i`` arrives as an input current (first layer) or from the
previous population's spikes with weight ``A_{i-1} W_i``, and the output is
the final ``Linear`` applied to ``A`` times the spike trains of the last
population, counted over a window (instantaneous synapses, the default: a
batched Numba kernel in :mod:`spikenet.rate._bridge_kernel`) or filtered by
PSC synapses (:class:`spikenet.sim.Network`). A spike train of rate ``G``
delivers ``G`` spikes per second, so the decoded output approaches the rate
network's ``y``. Affine layers other than ``Linear`` (convolutions, average
pooling, batch norm) are unrolled into dense matrices, and ReLU layers are
scaled to LIF rates on data (:mod:`spikenet.rate._unroll`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse
import torch

from spikenet._validation import as_rng, choice, finite_array, finite_float, positive_float, positive_int
from spikenet.rate import _unroll
from spikenet.rate.tuning import lif_rate
from spikenet.sim import LIF, PSCFilter

__all__ = ["SpikingModel", "SpikingRun", "poisson_encode", "to_spiking"]

# ReLU layers: the 99.9th percentile of a layer's input on the data maps to this drive.
RELU_PERCENTILE = 99.9
RELU_DRIVE_MAX = 8.0
# Runs with less work (neuron-steps) than this use one Numba thread.
_PARALLEL_WORK = 2_000_000
# Closed-form runs (one hidden layer, constant input) with fewer input weights
# times samples than this (about 2 ms of one core) use one Numba thread: the
# digits test set (3.7 million, 0.3 ms) gains at most 2x from a second thread
# on an idle machine but lost 70x on a loaded one (a thread pool whose
# threads wait for each other while other processes hold the cores).
_PARALLEL_WORK_CONSTANT = 20_000_000
# Largest T / tau_m of a closed-form run in float32 (beyond it the run computes
# in float64) and at all: exp(T / tau_m) must stay finite.
_EXP_MAX_32 = 80.0
_EXP_MAX_64 = 700.0


@dataclass(frozen=True)
class SpikingRun:
    """What :meth:`SpikingModel.simulate` returns.

    Attributes
    ----------
    t : numpy.ndarray, shape (steps,)
        Step start times in seconds.
    outputs : numpy.ndarray, shape (steps, batch, out)
        Decoded output during each step: the final ``Linear`` applied to the
        spike trains of the last hidden population, averaged over the step.
        With a PSC synapse the trains are filtered (the spikes of step ``j``
        arrive at ``t[j + 1]``, as at a synapse in the network); with
        ``synapse=None`` they are the spike counts of the step divided by
        ``dt``.
    rasters : list of numpy.ndarray
        One bool spike raster (steps, batch, n_i) per hidden population.
    dt : float
        Time step in seconds.
    counts : list of numpy.ndarray or None
        With instantaneous synapses: the number of spikes (int32, a neuron
        may spike more than once in a step) of every hidden neuron in every
        step, one array (steps, batch, n_i) per population.
    """

    t: np.ndarray
    outputs: np.ndarray
    rasters: list
    dt: float
    counts: list | None = None

    def decoded(self, settle: float, T: float | None = None) -> np.ndarray:
        """Outputs averaged over the steps with ``settle <= t < T``, shape (batch, out).

        ``T`` defaults to the end of the run. Because the simulation is causal
        and deterministic, ``decoded(settle, T)`` of a longer run equals
        ``SpikingModel.run(x, T, settle)``.
        """
        T = len(self.t) * self.dt if T is None else T
        rows = (self.t >= settle - 1e-12) & (self.t < T - 1e-12)
        if not rows.any():
            raise ValueError(f"no time step in [settle, T) = [{settle}, {T})")
        return self.outputs[rows].mean(axis=0)


class SpikingModel:
    r"""A converted rate network, simulated as spiking LIF populations.

    Built by :func:`to_spiking`; not meant to be constructed directly.

    Attributes
    ----------
    dt : float
        Simulation time step in seconds.
    synapse : spikenet.sim.PSCFilter or None
        Synapse of the hidden-to-hidden connections and of the readout;
        ``None``: instantaneous (a spike's charge is delivered within the step
        it is emitted in, and the readout counts spikes).
    rate_scale : float
        Firing-rate scale relative to the rate network.
    v_init : float
        Initial voltage of every hidden neuron, in threshold units
        (reset 0, threshold 1).
    dtype : numpy.dtype
        Floating-point type of the simulation (float32 or float64).
    neurons : list of spikenet.sim.LIF
        Neuron model of each hidden population (time constants divided by
        ``rate_scale``).
    amplitudes : list of float
        Output scale of each hidden population (``amplitude / rate_scale``).
    weights, biases : list of numpy.ndarray
        ``weights[i]`` (n_i, n_{i-1}) and ``biases[i]`` (n_i,) of the Linear
        layer feeding population ``i``; the last entries are the readout.
    """

    def __init__(
        self, weights, biases, neurons, amplitudes, dt, synapse, rate_scale, v_init=0.0, dtype=np.float64
    ):
        self.weights = weights
        self.biases = biases
        self.neurons = neurons
        self.amplitudes = amplitudes
        self.dt = dt
        self.synapse = synapse
        self.rate_scale = rate_scale
        self.v_init = v_init
        self.dtype = np.dtype(dtype)
        self._cache = {}  # arrays derived from the layers, see _packed

    @property
    def n_in(self) -> int:
        """Number of inputs."""
        return self.weights[0].shape[1]

    @property
    def n_out(self) -> int:
        """Number of decoded outputs."""
        return self.weights[-1].shape[0]

    @property
    def sizes(self) -> list[int]:
        """Number of neurons of each hidden population."""
        return [w.shape[0] for w in self.weights[:-1]]

    def __repr__(self) -> str:
        return (
            f"SpikingModel({self.n_in} -> {' -> '.join(f'{n} LIF' for n in self.sizes)} -> {self.n_out}, "
            f"dt={self.dt}, synapse={self.synapse}, rate_scale={self.rate_scale}, "
            f"v_init={self.v_init}, dtype={self.dtype.name})"
        )

    def _check_x(self, x) -> np.ndarray:
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        x = finite_array("x", x, ndim=2)
        if x.shape[1] != self.n_in:
            raise ValueError(f"x must have shape (batch, {self.n_in}), got {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("x must contain at least one sample")
        return x

    def _steps(self, T) -> int:
        """Number of steps in ``T``; ``T`` must be a whole number of steps within 1e-9 relative."""
        T = positive_float("T", T)
        ratio = T / self.dt
        steps = round(ratio)
        if steps < 1 or abs(ratio - steps) > 1e-9 * ratio:
            raise ValueError(f"T ({T} s) must be a whole number (>= 1) of time steps dt ({self.dt} s)")
        return steps

    def _inputs(self, x, steps, encode, seed) -> np.ndarray:
        """Validate ``x`` and return it as a C-contiguous (1 or steps, batch, in) array of ``dtype``."""
        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
        try:
            x = np.asarray(x)
            if x.dtype.kind not in "biuf":
                raise TypeError
            x = np.ascontiguousarray(x, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"x must be a numeric or bool array, got {type(x).__name__}") from exc
        if x.ndim not in (2, 3) or x.shape[-1] != self.n_in:
            raise ValueError(
                f"x must have shape (batch, {self.n_in}) or (steps, batch, {self.n_in}), got {x.shape}"
            )
        if x.shape[-2] == 0:
            raise ValueError("x must contain at least one sample")
        if x.ndim == 3 and x.shape[0] != steps:
            raise ValueError(f"x has {x.shape[0]} time rows but T / dt gives {steps} steps; they must agree")
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or inf")
        if encode is not None:
            choice("encode", encode, ["poisson"])
            x = poisson_encode(x, steps, seed=seed).astype(self.dtype)
        elif seed is not None:
            raise ValueError("seed is only used with encode='poisson'")
        return x if x.ndim == 3 else x[None]

    def _window(self, T, steps, settle) -> int:
        """First step of the averaging window ``[settle, T)``."""
        if settle is None:
            settle = 0.0 if self.synapse is None or steps == 1 else min(0.05, T / 2)
        settle = positive_float("settle", settle, allow_zero=True)
        if settle >= T:
            raise ValueError(f"settle ({settle} s) must be shorter than T ({T} s)")
        k_s = int(np.count_nonzero(np.arange(steps) * self.dt < settle - 1e-12))
        if k_s >= steps:
            raise ValueError(f"no time step in [settle, T) = [{settle}, {T})")
        return k_s

    def _pack(self):
        """The layers as the flat, transposed, pre-scaled arrays of the kernel."""
        dt, dtype = self.dt, self.dtype
        blocks = [
            (self.weights[0] if i == 0 else (self.amplitudes[i - 1] / dt) * self.weights[i]).T.ravel()
            for i in range(len(self.weights))
        ]
        woff = np.cumsum([0] + [b.size for b in blocks[:-1]]).astype(np.int64)
        sizes = np.array([self.n_in, *self.sizes, self.n_out], dtype=np.int64)
        tau_m = np.array([n.tau_m for n in self.neurons], dtype=dtype)
        tau_ref = np.array([n.tau_ref for n in self.neurons], dtype=dtype)
        v0 = np.full(sum(self.sizes), self.v_init, dtype=dtype)
        return (
            np.concatenate(blocks).astype(dtype),
            woff,
            sizes,
            np.concatenate(self.biases).astype(dtype),
            np.exp(-dt / tau_m).astype(dtype),
            tau_m,
            tau_ref,
            v0,
        )

    def _packed(self, key, build):
        """``build()``, cached until ``weights``, ``biases``, ``neurons``, ``amplitudes``, ``dt``,
        ``dtype`` or ``v_init`` change.

        The cache keeps the objects it was built from (compared by identity,
        and kept alive so that their identities cannot be reused) and a copy
        of the weight and bias arrays (compared by value, so that changes in
        place are seen: one pass over the weights, as any run makes).
        """
        refs = (*self.weights, *self.biases, *self.neurons, *self.amplitudes)
        sig = (self.dt, self.dtype, self.v_init, len(self.weights), tuple(map(id, refs)))
        arrays = (*self.weights, *self.biases)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == sig and all(
            np.array_equal(a, b) for a, b in zip(arrays, hit[2], strict=True)
        ):
            return hit[3]
        value = build()
        self._cache[key] = (sig, refs, tuple(np.array(a, copy=True) for a in arrays), value)
        return value

    def _constant_path(self, xs, steps) -> bool:
        """Whether the closed-form kernel runs this: one hidden layer, a constant input, a short run."""
        if len(self.sizes) != 1 or xs.shape[0] != 1:
            return False
        # exp(T / tau_m) must stay finite in the simulation's dtype
        return steps * self.dt / self.neurons[0].tau_m <= _EXP_MAX_64

    def _pack_constant(self, dtype):
        """Arrays of the closed-form kernel in ``dtype``: transposed input weights, bias, growth, readout."""
        neuron = self.neurons[0]
        W = np.ascontiguousarray(self.weights[0].T, dtype=dtype)
        b = np.ascontiguousarray(self.biases[0], dtype=dtype)
        readout = np.ascontiguousarray((self.amplitudes[0] / self.dt) * self.weights[1], dtype=dtype)
        b_out = np.ascontiguousarray(self.biases[1], dtype=dtype)
        growth = dtype.type(math.exp(neuron.tau_ref / neuron.tau_m))
        return W, b, dtype.type(self.v_init), growth, readout, b_out

    def _edges(self, steps, dtype):
        """``exp(k dt / tau_m)`` for ``k = 0 .. steps``, in ``dtype``."""
        rate = self.dt / self.neurons[0].tau_m
        edges = lambda: np.exp(np.arange(steps + 1) * rate).astype(dtype)  # noqa: E731
        return self._packed(("edges", steps, dtype), edges)

    def _run_constant(self, xs, steps, k_start, record):
        """One hidden layer, constant input: spike counts in closed form; returns (out, raster or None)."""
        from spikenet.rate import _bridge_kernel as kernel

        # float32 while exp(T / tau_m) is finite in it, else float64 (the output is cast back)
        work = self.dtype
        if steps * self.dt / self.neurons[0].tau_m > _EXP_MAX_32:
            work = np.dtype(np.float64)
        W, b, v0, growth, readout, b_out = self._packed(("constant", work), lambda: self._pack_constant(work))
        edges = self._edges(steps, work)
        x = xs[0] if work == self.dtype else xs[0].astype(work)
        batch = x.shape[0]
        use = 1 if batch * W.size < _PARALLEL_WORK_CONSTANT else numba.get_num_threads()
        threads = numba.get_num_threads()
        try:
            if use != threads:
                numba.set_num_threads(use)
            if record:
                raster = np.empty((steps, batch, W.shape[1]), dtype=np.int32)
                kernel.count_constant_layer(x, W, b, v0, growth, edges, raster, 4 * use)
                counts = raster[k_start:].sum(axis=0, dtype=work)
            else:
                out = np.empty((batch, readout.shape[0]), dtype=work)
                scale = work.type(1.0 / (steps - k_start))
                args = (v0, growth, edges[k_start], edges[steps], readout, b_out, scale, out, 4 * use)
                kernel.run_constant_layer(x, W, b, *args)
                return out.astype(self.dtype, copy=False), None
        finally:
            if use != threads:
                numba.set_num_threads(threads)
        out = counts @ readout.T
        out *= work.type(1.0 / (steps - k_start))
        out += b_out
        return out.astype(self.dtype, copy=False), raster

    def _run_fast(self, xs, steps, k_start, record):
        """Instantaneous synapses: one call of the batched kernel; returns (out, raster or None)."""
        from spikenet.rate._bridge_kernel import run_feedforward

        if self._constant_path(xs, steps):
            return self._run_constant(xs, steps, k_start, record)

        wflat, woff, sizes, bflat, decay, tau_m, tau_ref, v0 = self._packed("feedforward", self._pack)
        batch = xs.shape[1]
        out = np.empty((batch, self.n_out), dtype=self.dtype)
        shape = (steps, batch, v0.size) if record else (0, 0, 0)
        raster = np.zeros(shape, dtype=np.int32)
        dt = self.dtype.type(self.dt)
        # Small runs go single-threaded: waking the thread pool costs more than
        # it saves (and much more on a busy machine). The work is counted in
        # neuron-steps plus the first layer's drive (a matrix-vector product).
        threads = numba.get_num_threads()
        work = batch * (steps * sum(self.sizes) + self.n_in * self.sizes[0] // 8)
        use = 1 if work < _PARALLEL_WORK else threads
        try:
            numba.set_num_threads(use)
            args = (wflat, woff, sizes, bflat, decay, tau_m, tau_ref, v0, k_start, out, raster, 4 * use)
            run_feedforward(xs, steps, dt, *args)
        finally:
            numba.set_num_threads(threads)
        out *= 1.0 / (steps - k_start)
        out += bflat[-self.n_out :]
        return out, (raster if record else None)

    def rate_forward(self, x) -> np.ndarray:
        """The rate network this model implements (LIF tuning curves), on a batch.

        Parameters
        ----------
        x : array_like or torch.Tensor, shape (batch, in)

        Returns
        -------
        numpy.ndarray, shape (batch, out)
            The steady-state output the spiking simulation approximates.
        """
        a = self._check_x(x)
        for W, b, neuron, amp in zip(
            self.weights[:-1], self.biases[:-1], self.neurons, self.amplitudes, strict=True
        ):
            a = amp * lif_rate(a @ W.T + b, tau_ref=neuron.tau_ref, tau_m=neuron.tau_m)
        return a @ self.weights[-1].T + self.biases[-1]

    def simulate(self, x, T, encode=None, seed=None) -> SpikingRun:
        """Simulate the spiking network on a batch, returning the decoded outputs over time.

        Parameters
        ----------
        x : array_like or torch.Tensor, shape (batch, in) or (steps, batch, in)
            Inputs: held constant for the whole run, or one row per step (a
            time-varying input or a spike raster), as in :meth:`run`.
        T : float
            Duration in seconds, a whole number of steps.
        encode, seed
            As in :meth:`run`.

        Returns
        -------
        SpikingRun
            Time axis, decoded outputs (steps, batch, out) and hidden rasters.
        """
        steps = self._steps(T)
        xs = self._inputs(x, steps, encode, seed)
        if self.synapse is None:
            _, counts = self._run_fast(xs, steps, 0, record=True)
            cuts = np.cumsum([0, *self.sizes])
            per_pop = [counts[..., a:b] for a, b in itertools.pairwise(cuts)]
            readout = (self.amplitudes[-1] / self.dt) * self.weights[-1]
            last = per_pop[-1].reshape(-1, self.sizes[-1]).astype(np.float64)
            outputs = (last @ readout.T).reshape(steps, xs.shape[1], -1) + self.biases[-1]
            return SpikingRun(
                t=np.arange(steps) * self.dt,
                outputs=outputs,
                rasters=[c > 0 for c in per_pop],
                dt=self.dt,
                counts=per_pop,
            )
        result, pops = self._run_network(xs, steps)
        rasters = [np.asarray(result.spike_raster(pop), dtype=bool) for pop in pops]
        # The readout is linear: weight the last raster first, (steps, batch, out).
        # Spikes are sparse: a CSR product beats a dense (steps * batch, n) matmul.
        readout = self.amplitudes[-1] * self.weights[-1]
        last = rasters[-1]
        flat = scipy.sparse.csr_matrix(last.reshape(-1, last.shape[-1]), dtype=np.float64)
        weighted = np.asarray(flat @ readout.T).reshape(*last.shape[:2], -1)
        outputs = _step_averaged_filter(weighted, self.synapse, self.dt) + self.biases[-1]
        return SpikingRun(t=np.arange(steps) * self.dt, outputs=outputs, rasters=rasters, dt=self.dt)

    def _run_network(self, xs, steps):
        """Build the batched ``spikenet.sim.Network`` for ``xs`` and run it; returns (result, populations)."""
        from spikenet.sim import Network

        xs = np.asarray(xs, dtype=np.float64)
        net = Network(dt=self.dt, batch=xs.shape[1])
        pops = []
        layers = zip(self.weights[:-1], self.biases[:-1], self.neurons, strict=True)
        init = None if self.v_init == 0.0 else {"v": self.v_init}
        for i, (W, b, neuron) in enumerate(layers):
            pop = net.add_population(W.shape[0], neuron, bias=b, name=f"hidden{i}", init=init)
            if i == 0:
                net.add_input(pop, current=xs[0] @ W.T if xs.shape[0] == 1 else xs @ W.T)
            else:
                net.connect(pops[-1], pop, self.amplitudes[i - 1] * W, synapse=self.synapse)
            pops.append(pop)
        return net.run(steps * self.dt), pops

    def run(self, x, T, settle=None, encode=None, seed=None) -> np.ndarray:
        """Simulate a batch and return its decoded outputs averaged over ``[settle, T)``.

        Parameters
        ----------
        x : array_like or torch.Tensor, shape (batch, in) or (steps, batch, in)
            Inputs. A (batch, in) array is held constant during the run; a
            (steps, batch, in) array gives the input during each step (a
            time-varying input, or a spike raster: bool or 0/1 values, a spike
            standing for an input of 1 during its step). The whole batch is
            simulated in one Numba kernel call.
        T : float
            Duration in seconds: a whole number (>= 1) of steps ``dt``
            (within 1e-9 relative).
        settle : float, optional
            Start of the averaging window in seconds, ``0 <= settle < T``.
            Default: 0 with instantaneous synapses (``synapse=None``: the
            readout averages the spike counts from the start); with a PSC
            synapse ``min(0.05, T / 2)`` (the filter needs a few time
            constants to reach steady state; 0 for a run of one step).
        encode : {None, "poisson"}
            ``"poisson"``: rate-code ``x`` (values in [0, 1]) as independent
            Bernoulli spike trains, each input spiking with probability
            ``x`` in each step (a Poisson process of rate ``x / dt`` sampled
            on the grid), so the time-averaged raster is ``x``.
        seed : int or numpy.random.Generator, optional
            Random source of ``encode="poisson"``.

        Returns
        -------
        numpy.ndarray, shape (batch, out)
            Decoded outputs, to compare with ``model(x)`` of the rate network
            (``dtype``; float64 with a PSC synapse).

        Notes
        -----
        With ``synapse=None`` a run of fewer than about 2 million
        neuron-steps uses one Numba thread (waking the thread pool would cost
        more than it saves); larger runs use ``numba.get_num_threads()``.
        A network with one hidden layer under a constant input counts its
        spikes in closed form, at a cost that does not grow with ``T``; it
        uses one thread below 20 million input weights times samples.
        """
        steps = self._steps(T)
        T = steps * self.dt
        k_s = self._window(T, steps, settle)
        xs = self._inputs(x, steps, encode, seed)
        if self.synapse is None:
            return self._run_fast(xs, steps, k_s, record=False)[0]
        result, pops = self._run_network(xs, steps)
        raster = result.spike_raster(pops[-1])  # (steps, batch, n)
        # The same average as simulate(x, T).decoded(settle, T), without the
        # per-step outputs: over the window [k_s dt, steps dt) a spike arriving
        # at t_a delivers H(steps dt - t_a) - H(k_s dt - t_a) of its unit charge,
        # with H the synapse's cumulative kernel (a gamma CDF).
        t = np.arange(steps) * self.dt
        arrival = t + self.dt
        charge = self._cumulative_kernel(steps * self.dt - arrival) - self._cumulative_kernel(
            k_s * self.dt - arrival
        )
        counts = np.tensordot(charge, raster, axes=(0, 0))  # (batch, n): delivered charge
        readout = self.amplitudes[-1] * self.weights[-1]
        return counts @ readout.T / ((steps - k_s) * self.dt) + self.biases[-1]

    def _cumulative_kernel(self, t):
        """``H(t) = int_0^t h``: the regularised lower incomplete gamma function, 0 for t <= 0."""
        from scipy.special import gammainc

        return np.where(t > 0, gammainc(self.synapse.n + 1, np.maximum(t, 0.0) / self.synapse.tau_s), 0.0)


def poisson_encode(x, steps, seed=None) -> np.ndarray:
    """Rate-code values in [0, 1] as independent Bernoulli spike trains on the time grid.

    Parameters
    ----------
    x : array_like or torch.Tensor, shape (batch, in) or (steps, batch, in)
        Spike probability per step of every input (a Poisson process of
        rate ``x / dt`` sampled on the grid of step ``dt``), constant or per step.
    steps : int
        Number of steps (>= 1).
    seed : int or numpy.random.Generator, optional
        Random source.

    Returns
    -------
    numpy.ndarray of bool, shape (steps, batch, in)
        ``True`` where an input spikes; its mean over time tends to ``x``.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    steps = positive_int("steps", steps)
    x = finite_array("x", x, ndim=(2, 3))
    if x.ndim == 3 and x.shape[0] != steps:
        raise ValueError(f"x has {x.shape[0]} time rows, expected steps = {steps}")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError("x must lie in [0, 1] (spike probabilities per step) for Poisson coding")
    rng = as_rng(seed)
    return rng.random((steps, *x.shape[-2:])) < x


def _step_averaged_filter(spikes, synapse, dt):
    r"""Average over each step of the continuously filtered spike trains.

    Parameters
    ----------
    spikes : numpy.ndarray, shape (steps, ...)
        Spikes (or weighted spikes) emitted in each step; as in the network,
        those of step ``j`` arrive at ``t = (j + 1) dt``.
    synapse : PSCFilter
    dt : float

    Returns
    -------
    numpy.ndarray, same shape
        Row ``k`` is ``(1/dt) int_{k dt}^{(k+1) dt} sum_p h(t - t_p) dt``.

    Notes
    -----
    With ``H(t) = int_0^t h`` (the gamma CDF), ``H = 1 - tau_s sum_{i<=n} h_i``
    where ``h_i`` is the order-``i`` PSC filter, so the filtered charge up to
    grid time ``m dt`` is ``C_m = N_m - tau_s sum_i (h_i * arrivals)(m dt)``
    with ``N_m`` the number of arrivals so far; each step's average is
    ``(C_{k+1} - C_k) / dt``. Averaging the rows over a window therefore gives
    the exact continuous-time average, without the bias of sampling ``h`` at
    the step starts (``a / (1 - e^{-a})``, 10% for ``dt / tau_s = 0.2``).
    """
    steps = spikes.shape[0]
    flat = spikes.reshape(steps, -1)
    arrivals = np.zeros((steps + 1, flat.shape[1]))
    arrivals[1:] = flat
    charge = np.cumsum(arrivals, axis=0)
    for order in range(synapse.n + 1):
        charge -= synapse.tau_s * PSCFilter(synapse.tau_s, order).apply(arrivals, dt)
    return (np.diff(charge, axis=0) / dt).reshape(spikes.shape)


def to_spiking(
    model, dt=1e-3, synapse=None, rate_scale=10.0, v_init=0.5, dtype="float32", input_shape=None, data=None
) -> SpikingModel:
    r"""Convert a trained LIF-rate network into a spiking network with the same weights.

    Parameters
    ----------
    model : torch.nn.Sequential
        ``Linear, act, Linear, act, ..., Linear`` with each ``act`` a
        :class:`~spikenet.rate.LIFRate` or :class:`~spikenet.rate.SoftLIFRate`
        (SoftLIF becomes LIF: same ``tau_ref``, ``tau_m``, ``amplitude``) or
        a ``torch.nn.ReLU`` (needs ``data``). In place of each ``Linear``,
        any chain of affine layers: ``Linear``, ``Conv1d``/``Conv2d``,
        ``AvgPool1d``/``AvgPool2d``/``AdaptiveAvgPool2d``, ``Flatten``,
        ``BatchNorm1d``/``BatchNorm2d`` (eval mode: folded into the layer
        before it), ``Dropout`` and ``Identity`` (inference: identity). Each
        chain is unrolled into one dense matrix, which suits small inputs.
    dt : float
        Simulation time step in seconds (> 0, at most ``tau_m / rate_scale``).
    synapse : spikenet.sim.PSCFilter or None
        Synapse from each hidden population to the next and to the readout.
        ``None`` (default): instantaneous; the spikes a neuron emits in a step
        deliver their charge to the next layer within that step, and the
        readout counts the last layer's spikes (no filter to fill, so the
        output is usable from the first step). A ``PSCFilter`` runs the
        network in :class:`spikenet.sim.Network` with filtered synapses.
    rate_scale : float
        Firing-rate scale (> 0). Every neuron's ``tau_ref`` and ``tau_m`` are
        divided by it, which multiplies its tuning curve by it
        (``G(J; tau_ref/c, tau_m/c) = c G(J; tau_ref, tau_m)``), and every
        amplitude is divided by it, so the rate network's function is
        unchanged while the spiking network fires ``rate_scale`` times as many
        spikes: more spikes per averaging window means less quantisation
        noise (better accuracy in fewer steps) at a higher spike count
        (energy) cost. The default 10 lets short runs (5 steps of 1 ms)
        decode the rate network's output.
    v_init : float
        Initial voltage of every hidden neuron in threshold units, in
        ``[0, 1)`` (reset 0, threshold 1). The default 0.5 (as Rueckauer et
        al. 2017) places the first spike about half an inter-spike interval
        early, which centres the spike count of a window starting at 0 on
        ``rate * T``; 0 starts every neuron from reset (the count lags).
    dtype : {"float32", "float64"}
        Floating-point type of the simulation with ``synapse=None``
        (the ``PSCFilter`` path always runs in float64).
    input_shape : tuple of int, optional
        Shape of one input sample, e.g. ``(channels, height, width)``;
        required when the model starts with a convolution or pooling. The
        spiking model takes inputs flattened in C order, ``(batch, prod(input_shape))``.
    data : array_like or torch.Tensor, optional
        Inputs, (n, in) or (n, *input_shape), typically the training set;
        required when the model has ``ReLU`` activations. Each ``ReLU``
        becomes LIF neurons with ``tau_m = 0.02 / rate_scale`` s and no
        refractory period, whose drive is ``1/2 + lam z`` for a ReLU input
        ``z``, with ``lam`` chosen on ``data`` (data-based normalisation,
        Rueckauer et al. 2017) so that the 99.9th percentile of ``z`` gives
        the drive 8: then ``G(J) tau_m = 1 / ln(J / (J - 1))`` follows
        ``J - 1/2`` to within ``1 / (12 J)`` for ``J >= 2``, and the
        population's amplitude ``tau_m / lam`` turns its rates back into ``z``.

    Returns
    -------
    SpikingModel
        Run it with ``.run(x, T)``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Sequential`` or ``synapse`` not a PSCFilter.
    ValueError
        If a layer is unsupported or out of order, a layer's input shape does
        not fit, ``input_shape`` or ``data`` is missing or malformed, or a
        parameter is out of range.

    Notes
    -----
    Population ``i`` gets ``W_i`` and ``b_i`` of the ``Linear`` before its
    activation: the first population receives ``W_0 x`` as a constant
    current and ``b_0`` as a bias current; population ``i > 0`` receives the
    spikes of population ``i - 1`` through ``synapse`` with weights
    ``(amplitude_{i-1} / rate_scale) W_i`` and ``b_i`` as bias. The decoded
    output is ``W_K (amplitude_{K-1} / rate_scale) s(t) + b_K`` with ``s`` the
    filtered spike trains of the last population (with ``synapse=None``:
    its spike counts divided by the window's duration).

    The former defaults are ``synapse=PSCFilter(0.005), rate_scale=1.0,
    v_init=0.0, dtype="float64"`` (accurate after about 25 steps of 1 ms).

    References
    ----------
    Hunsberger, E. & Eliasmith, C. (2015). Spiking deep networks with LIF
    neurons. arXiv:1510.08829.

    Rueckauer, B., Lungu, I.-A., Hu, Y., Pfeiffer, M. & Liu, S.-C. (2017).
    Conversion of continuous-valued deep networks to efficient event-driven
    networks for image classification. Front. Neurosci. 11:682.

    Examples
    --------
    >>> import torch
    >>> from spikenet.rate import LIFRate, to_spiking
    >>> rate_net = torch.nn.Sequential(torch.nn.Linear(2, 8), LIFRate(amplitude=0.01), torch.nn.Linear(8, 1))
    >>> snn = to_spiking(rate_net, dt=1e-3)
    >>> snn.run(torch.rand(4, 2), T=0.005).shape
    (4, 1)
    """
    affine, acts = _unroll.segments(model)
    dt = positive_float("dt", dt)
    rate_scale = positive_float("rate_scale", rate_scale)
    if synapse is not None and not isinstance(synapse, PSCFilter):
        raise TypeError(f"synapse must be None or a spikenet.sim.PSCFilter, got {type(synapse).__name__}")
    v_init = finite_float("v_init", v_init)
    if not 0.0 <= v_init < 1.0:
        raise ValueError(f"v_init must lie in [0, 1) (reset 0, threshold 1), got {v_init}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    shape = _unroll.first_shape(affine[0], input_shape)
    relu = [i for i, act in acts if isinstance(act, torch.nn.ReLU)]
    h = None
    if relu:
        if data is None:
            raise ValueError(f"model[{relu[0]}] is a ReLU: give data= (training inputs) to scale it")
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        data = finite_array("data", data)
        if data.ndim < 2 or data[0].size != math.prod(shape) or len(data) == 0:
            n_in = math.prod(shape)
            raise ValueError(f"data must have shape (n, {n_in}) or (n, *{shape}), got {data.shape}")
        h = torch.as_tensor(data.reshape(len(data), *shape))
    weights, biases, neurons, amplitudes = [], [], [], []
    for k, layers in enumerate(affine):
        W, b, shape = _unroll.affine_map(layers, shape)
        if k == len(acts):
            weights.append(W)
            biases.append(b)
            break
        i, act = acts[k]
        if h is not None:
            h = _unroll.apply(layers, h)
        if isinstance(act, torch.nn.ReLU):
            # data-based normalisation (Rueckauer et al. 2017): the 99.9th
            # percentile of the layer's input drives a neuron to RELU_DRIVE_MAX;
            # with tau_ref = 0, G(J) = (J - 1/2) / tau_m to within 1/(12 J tau_m)
            # for J >= 2, so a drive 1/2 + lam z fires at lam z / tau_m.
            z_max = float(np.percentile(h.numpy(), RELU_PERCENTILE))
            if not z_max > 0.0:
                raise ValueError(f"model[{i}] (ReLU) receives no positive input on data; cannot scale it")
            tau_m = 0.02 / rate_scale
            lam = (RELU_DRIVE_MAX - 0.5) / z_max
            W, b = lam * W, lam * b + 0.5
            neuron, amplitude = LIF(tau_m=tau_m, tau_ref=0.0), tau_m / lam
        else:
            neuron = LIF(tau_m=act.tau_m / rate_scale, tau_ref=act.tau_ref / rate_scale)
            amplitude = act.amplitude / rate_scale
        if dt > neuron.tau_m:
            raise ValueError(
                f"dt ({dt} s) must not exceed tau_m / rate_scale ({neuron.tau_m} s) of model[{i}]; "
                "lower rate_scale or dt"
            )
        if h is not None:
            h = _unroll.apply([(i, act)], h)
        weights.append(W)
        biases.append(b)
        neurons.append(neuron)
        amplitudes.append(amplitude)
    return SpikingModel(weights, biases, neurons, amplitudes, dt, synapse, rate_scale, v_init, dtype)
