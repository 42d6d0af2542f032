"""``simulate``: run a population of unconnected neurons (LIF, HH or any NeuronModel).

The time loop runs inside Numba kernels (:mod:`spikenet.sim.kernels`),
called on chunks of steps: chunks of about 0.1 s of wall time (so that
Ctrl-C stops a run within that time and returns the steps done, see
:mod:`spikenet.sim._chunks`), and shorter ones where a callable input is
evaluated, a progress bar is updated, or the spike buffers' memory is bounded.
With white noise (``noise > 0``), HH and NeuronModel neurons run as the
one-population network with ``add_input(noise=)``
(:mod:`spikenet.sim._simulate_noise`); the LIF keeps its own exact noisy kernel.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from spikenet._validation import (
    as_rng,
    check_recording_fits,
    choice,
    finite_array,
    positive_float,
    whole_steps,
)
from spikenet.sim._chunks import ChunkClock, StopOnInterrupt
from spikenet.sim.models.base import NeuronModel
from spikenet.sim.neurons import HH, LIF
from spikenet.sim.results import Result

__all__ = ["HH_DT_MAX", "HH_DT_WARN", "simulate"]

#: Above this step (seconds) HH accuracy degrades: a warning is issued. At
#: 0.05 ms spike times drift by about 0.15 ms over 100 ms against solve_ivp
#: (error grows as dt^2: 0.006 ms at 0.01 ms, 0.035 ms at 0.025 ms).
HH_DT_WARN = 0.05e-3
#: Above this step (seconds) HH integration breaks down and is refused.
#: Measured: at 0.3 ms spike counts over 200 ms for inputs 6.5-50 uA/cm^2 stay
#: within 10% of the dt = 0.01 ms reference; at 0.5 ms the count for 6.5
#: uA/cm^2 collapses from 11 to 2 and at 1 ms V overshoots E_Na (tested in
#: tests/sim/test_hh.py).
HH_DT_MAX = 0.3e-3

_STATE_NAMES = {LIF: ("v",), HH: ("v", "m", "h", "n")}


def _state_names(model) -> tuple[str, ...]:
    """The recordable states of a neuron model class."""
    return model.state_names if issubclass(model, NeuronModel) else _STATE_NAMES[model]
# Spike buffers per chunk may use about this many bytes (16 bytes per slot).
_SPIKE_BUFFER_BYTES = 16 * 2**20
# Random numbers per chunk of a noisy run (bytes: a normal and a uniform per neuron and step).
_NOISE_BYTES = 32 * 2**20
# Steps per chunk when a callable input is evaluated in Python.
_CALLABLE_CHUNK = 500
# Chunks a progress bar is split into (closed-form LIF runs; stepped runs
# update the bar after each chunk of about 0.1 s).
_PROGRESS_CHUNKS = 100
# Neuron-steps of the first chunk of a stepped run (far below 0.1 s; the
# chunks then grow to about 0.1 s each).
_FIRST_CHUNK_WORK = 2**16
# A LIF chunk with a drive constant in time and no recorded voltage runs in
# closed form, spike to spike (kernels.lif.lif_run_constant). The benchmarks
# switch this off to time the stepped kernel, and the tests to compare the two.
_LIF_CLOSED_FORM = True
# Guess of the highest HH rate (Hz) used to size spike buffers (a chunk is
# re-run with a larger buffer if a neuron exceeds it).
_HH_RATE_GUESS = 400.0


class _Drive:
    """Normalises the forms ``J`` may take and serves it chunk by chunk."""

    def __init__(self, J, steps, dt, batch, model):
        self.steps = steps
        self.dt = dt
        self.batch = batch
        self.fn = None
        self.model = model
        if callable(J):
            self.fn = J
            first = self._eval(0.0, None)
            self.shape = first.shape
            self.const = None
        else:
            ndims = (2, 3) if batch else (0, 1, 2)
            arr = finite_array("J", J, ndim=ndims)
            per_step = arr.ndim == ndims[-1]
            if per_step:
                if arr.shape[0] != steps:
                    raise ValueError(
                        f"J has {arr.shape[0]} rows (one per step) but T/dt gives {steps} steps; "
                        f"J must have shape (steps, {'batch, ' if batch else ''}n) = "
                        f"({steps}, {', '.join(map(str, arr.shape[1:]))})")
                self.shape = arr.shape[1:]
                self.const = None
                self.per_step = arr.reshape(steps, -1)
            else:
                self.shape = arr.shape if arr.ndim else (1,)
                self.const = arr.reshape(1, -1)
        if any(s == 0 for s in self.shape):
            raise ValueError(f"J describes no neurons (shape {self.shape})")
        self.N = int(np.prod(self.shape))

    def _eval(self, t, expect):
        try:
            val = self.fn(t)
        except Exception as exc:
            raise ValueError(f"J(t) raised {type(exc).__name__} at t={t}: {exc}") from exc
        want = "(batch, n)" if self.batch else "(n,) or a scalar"
        arr = finite_array(f"J(t) at t={t}", val, ndim=(2,) if self.batch else (0, 1))
        if not self.batch and arr.ndim == 0:
            arr = arr.reshape(1)
        if expect is not None and arr.shape != expect:
            raise ValueError(f"J(t) must keep the shape {expect} it had at t=0 ({want}); "
                             f"got {arr.shape} at t={t}")
        return arr

    def chunk(self, a, b):
        """Return ``(J2d, stride)`` for steps ``a <= k < b``."""
        if self.const is not None:
            return self.const, 0
        if self.fn is None:
            return self.per_step[a:b], 1
        rows = [self._eval(k * self.dt, self.shape).reshape(-1) for k in range(a, b)]
        return np.stack(rows), 1

    def max_in(self, a, b):
        """Largest drive over steps ``a <= k < b`` (evaluates nothing new)."""
        if self.const is not None:
            return float(self.const.max())
        if self.fn is None:
            return float(self.per_step[a:b].max())
        return None


def _check_record(record, model):
    if isinstance(record, str):
        record = (record,)
    if not isinstance(record, Iterable):
        raise TypeError(f"record must be a sequence of state names, got {type(record).__name__}")
    valid = ("spikes", *_state_names(model))
    names = []
    for name in record:
        choice("record", name, valid)
        if name != "spikes" and name not in names:
            names.append(name)
    return names


def _initial_state(neuron, init, shape, dtype):
    model = type(neuron)
    names = _state_names(model)
    init = {} if init is None else init
    if not isinstance(init, Mapping):
        raise TypeError(f"init must be a dict mapping state names to arrays, got {type(init).__name__}")
    given = {}
    for key, value in init.items():
        choice("init", key, names)
        arr = finite_array(f"init[{key!r}]", value)
        try:
            given[key] = np.broadcast_to(arr, shape).astype(np.float64).reshape(-1)
        except ValueError:
            raise ValueError(f"init[{key!r}] has shape {arr.shape}, which does not broadcast to the "
                             f"population's shape {shape}") from None
    N = int(np.prod(shape))
    if issubclass(model, NeuronModel):
        return {k: np.ascontiguousarray(a, dtype=dtype) for k, a in neuron.initial_state(given, N).items()}
    if model is LIF:
        v = given.get("v", np.full(N, neuron.v_reset))
        # r: refractory time left (closed-form and noise kernels); te: the
        # time its period ends (time-stepping kernel, float64 in any dtype)
        return {"v": v.astype(dtype), "r": np.zeros(N, dtype=dtype), "te": np.zeros(N)}
    v = given.get("v", np.full(N, neuron.v_init))
    ss = dict(zip("mhn", HH.steady_state(v)))
    state = {"v": v}
    for x in "mhn":
        g = given.get(x, ss[x])
        if np.any((g < 0) | (g > 1)):
            raise ValueError(f"init[{x!r}] is a gating variable and must lie in [0, 1]")
        state[x] = g
    return {k: a.astype(dtype) for k, a in state.items()}


def simulate(neuron, J, T, dt=1e-4, record=("spikes",), init=None, seed=None, progress=False, *,
             batch=False, dtype=np.float64, noise=0.0):
    r"""Simulate a population of unconnected neurons driven by the input ``J``.

    Parameters
    ----------
    neuron : LIF, HH or NeuronModel
        The neuron model (parameters only): ``LIF``, ``HH``, ``Izhikevich``,
        ``AdEx`` or another model on the NeuronModel interface.
    J : float, array_like or callable
        Input drive: dimensionless for LIF, uA/cm^2 for HH, the model's drive
        units otherwise (pA for AdEx). A scalar (one
        neuron), an array ``(n,)`` held constant, an array ``(steps, n)`` whose
        row ``k`` is held over step ``k``, or a callable ``t -> (n,)`` (``t`` in
        seconds) evaluated at ``t = k * dt`` for step ``k``. With
        ``batch=True``: ``(batch, n)``, ``(steps, batch, n)`` or a callable
        returning ``(batch, n)``.
    T : float
        Duration in seconds, a whole number of steps of ``dt`` (within 1e-9
        relative, else ``ValueError``); the run has ``T / dt`` steps.
    dt : float
        Time step in seconds. LIF requires ``dt <= tau_m``; HH warns above
        0.05 ms (accuracy) and refuses more than 0.3 ms (the scheme breaks down).
    record : sequence of str
        ``"spikes"`` (always recorded) plus states to store at each step:
        ``"v"`` (LIF) or ``"v"``, ``"m"``, ``"h"``, ``"n"`` (HH). A recorded
        state takes ``steps * n`` values; a recording larger than the
        available memory is refused before the run starts
        (:class:`~spikenet._validation.RecordingTooLargeError`, a
        ``ValueError`` and ``MemoryError``). Spikes take 16 bytes each.
    init : dict, optional
        Initial state per name, arrays broadcastable to ``(n,)`` (or
        ``(batch, n)``). Default: ``v_reset`` for LIF; ``v_init`` for HH with each
        gate at its steady state for the initial voltage.
    seed : None, int or numpy.random.Generator
        Seeds the white noise (``noise > 0``): the same seed gives the same
        spikes, whatever the chunking of the run; batch copies and neurons
        get independent noise. Without noise the models are deterministic
        and ``seed`` changes nothing.
    progress : bool
        Show a tqdm progress bar (the loop is run in chunks).
    batch : bool, keyword-only
        ``J`` has a leading batch axis; the whole batch runs in one kernel call
        and outputs gain a batch axis.
    dtype : numpy float type, keyword-only
        ``np.float64`` (default) or ``np.float32`` for the state arrays.
    noise : float, keyword-only
        White-noise amplitude ``sigma`` (>= 0; default 0: no noise), with the
        units and conventions of ``Network.add_input(noise=sigma)``:

        - LIF (dimensionless): ``tau_m dv = (J - v) dt + sigma sqrt(tau_m) dW``
          (Brian2's ``sigma*xi*tau**-0.5``; stationary variance
          ``sigma^2 / 2`` below threshold), integrated as an exact
          Ornstein-Uhlenbeck step with a Brownian-bridge test for threshold
          crossings inside a step (see :mod:`spikenet.sim.kernels.lif_noise`);
        - HH: a white-noise current ``sigma xi(t)`` added to ``J``, ``sigma``
          in uA/cm^2 s^1/2: the current ``sigma N(0, 1) / sqrt(dt)`` is held
          over each step (Euler-Maruyama for the noise, HH's scheme for the
          rest);
        - any NeuronModel (Izhikevich, AdEx, ...): the same held white-noise
          current in the model's drive units x s^1/2 (pA s^1/2 for AdEx,
          the paper's units x s^1/2 for Izhikevich).

        For HH and NeuronModel neurons the run with noise is the
        one-population ``Network`` with ``add_input(noise=sigma)`` and
        ``Network(seed=seed)``: the same spikes and states, bit for bit.
        The LIF draws its numbers from its own generators (spawned from
        ``seed``), so its noise has the network's law but not its numbers.

    Returns
    -------
    Result
        Spike times, rates, and recorded states of shape ``(steps, n)`` (or
        ``(steps, batch, n)``). If the run is stopped with Ctrl-C (SIGINT),
        or a callable ``J`` raises ``KeyboardInterrupt``, it returns within
        about 0.1 s with the steps done so far: ``result.interrupted`` is
        True, ``result.T`` and ``result.steps`` end at the last whole step,
        and a ``RuntimeWarning`` says so. A second Ctrl-C raises
        ``KeyboardInterrupt`` as usual.

    Notes
    -----
    LIF: the voltage is advanced exactly over each step,
    :math:`v(t+\Delta) = J + (v(t) - J)e^{-\Delta/\tau_m}`; a threshold
    crossing is located at :math:`\tau_m\ln\frac{J - v}{J - v_{th}}` into the
    step, the refractory period runs from the spike in continuous time, and a
    neuron leaving it mid-step integrates the rest of the step. A neuron
    spikes at most once per step (every model, as in ``Network``): with
    ``tau_ref < dt``, a second crossing in the step of a spike is held at
    ``v_th`` until the next step, whose start is then the spike. With ``J``
    constant in time and no voltage recorded, the same formulas run from spike
    to spike without the step grid (cost per spike, not per step); the spikes
    agree with the stepped run to round-off, and keep their step indices.

    HH: gates by exponential Euler from :math:`V_k`, then :math:`V` solved
    exactly with the updated gates held; spikes are upward crossings of
    ``v_spike`` with linearly interpolated times. See ``docs/simulation.md``.

    Examples
    --------
    >>> import numpy as np
    >>> from spikenet.sim import LIF, simulate
    >>> res = simulate(LIF(), np.array([0.5, 2.0]), T=1.0)
    >>> res.rates().round(1)
    array([ 0., 63.])
    """
    from spikenet.sim.kernels.hh import hh_run
    from spikenet.sim.kernels.lif import lif_run
    from spikenet.sim.kernels.spikes import gather_spikes

    if not isinstance(neuron, (LIF, HH, NeuronModel)):
        raise TypeError("neuron must be a spikenet.sim neuron model (LIF, HH, Izhikevich, AdEx, ...), "
                        f"got {type(neuron).__name__}")
    model = type(neuron)
    dt = positive_float("dt", dt)
    T = positive_float("T", T)
    if dtype not in (np.float64, np.float32) and np.dtype(dtype) not in (np.float64, np.float32):
        raise TypeError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    dtype = np.dtype(dtype)
    if not isinstance(batch, bool):
        raise TypeError(f"batch must be True or False, got {batch!r}")
    rng = as_rng(seed)
    noise = positive_float("noise", noise, allow_zero=True)
    # normals and uniforms (and a second pair for the rest of a step after a
    # spike, when tau_ref < dt): independent of the chunking
    noise_rngs = rng.spawn(4) if noise > 0 and model is LIF else None
    names = _check_record(record, model)
    if model is LIF and dt > neuron.tau_m:
        raise ValueError(f"dt ({dt} s) must not exceed the LIF's tau_m ({neuron.tau_m} s)")
    if model is HH:
        if dt > HH_DT_MAX:
            raise ValueError(f"dt ({dt * 1e3:g} ms) is above {HH_DT_MAX * 1e3:g} ms, where the HH "
                             "integration breaks down; use dt <= 0.05 ms (0.01 ms recommended)")
        if dt > HH_DT_WARN:
            warnings.warn(f"dt = {dt * 1e3:g} ms is above {HH_DT_WARN * 1e3:g} ms: HH spike times lose "
                          "accuracy (use 0.01 ms for errors below 0.01 ms)", UserWarning, stacklevel=2)

    steps = whole_steps("T", T, dt)
    drive = _Drive(J, steps, dt, batch, model)
    shape, N = drive.shape, drive.N
    if names:
        check_recording_fits(steps * N * dtype.itemsize * len(names), T, steps,
                             f"record={tuple(names)} of {N} neurons in {dtype.name}")
    state = _initial_state(neuron, init, shape, dtype)
    if noise > 0 and model is not LIF:  # a noise current: the one-population network with add_input(noise=)
        from spikenet.sim._simulate_noise import run_noisy

        return run_noisy(neuron, drive, state, tuple(init or ()), names, steps, dt, rng, noise, dtype,
                         progress)
    recs = {name: np.empty((steps, N), dtype=dtype) for name in names}
    j_dtype = dtype if model is LIF else np.float64
    model_run = None
    if issubclass(model, NeuronModel):
        from spikenet.sim.kernels.compose import model_kernel

        model_run = model_kernel(model)

    # Chunk length. The closed-form LIF kernel's results depend (to
    # round-off) on where the run is cut, so its chunks are fixed by the
    # spike buffers' budget (and a progress bar) alone, which also bounds
    # their duration (a cost per spike). Stepped kernels give the same
    # results for any cut: their chunks last about 0.1 s of wall time.
    closed = model is LIF and drive.const is not None and not names and _LIF_CLOSED_FORM and noise == 0
    clock = None
    L = steps
    if closed:
        if progress:
            L = min(L, max(1, math.ceil(steps / _PROGRESS_CHUNKS)))
    else:
        clock = ChunkClock(max(1, _FIRST_CHUNK_WORK // N),
                           most=_CALLABLE_CHUNK if drive.fn is not None else None)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, unit="step", desc=f"simulate {model.__name__}")
    chunks_t, chunks_k, chunks_i = [], [], []
    counts = np.zeros(N, dtype=np.int64)
    # the spike buffers of every chunk, made once (and again only when a chunk
    # needs more): fresh buffers for each chunk would fault their pages in anew
    buf_t = np.empty(0, dtype=np.float64)
    buf_k = np.empty(0, dtype=np.int64)
    saved = None
    a = 0
    stopper = StopOnInterrupt()
    try:
        stopper.__enter__()
        while a < steps and not stopper.hit:
            L_here = clock.start(steps - a) if clock is not None else min(L, steps - a)
            cap = None
            while True:  # shrink the chunk until its spike buffer fits the budget
                b = a + L_here
                cap = _spike_capacity(neuron, drive, a, b, dt)
                if noise > 0:  # at most one spike per refractory period or step
                    cap = int((b - a) * dt / max(neuron.tau_ref, dt)) + 3
                noise_bytes = N * L_here * (32 if neuron.tau_ref < dt else 16) if noise > 0 else 0
                fits = N * cap * 16 <= _SPIKE_BUFFER_BYTES and noise_bytes <= _NOISE_BYTES
                if fits or L_here == 1:
                    break
                L_here = max(1, L_here // 2)
            try:
                J2d, stride = drive.chunk(a, b)
            except KeyboardInterrupt:  # raised by a callable J: stop before this chunk
                stopper.stop()
                break
            J2d = np.ascontiguousarray(J2d, dtype=j_dtype)
            if noise > 0:  # drawn once per chunk: a re-run of the chunk sees the same numbers
                xi = noise_rngs[0].standard_normal((b - a, N))
                uni = noise_rngs[1].random((b - a, N))
                if neuron.tau_ref < dt:
                    xi2 = noise_rngs[2].standard_normal((b - a, N))
                    uni2 = noise_rngs[3].random((b - a, N))
                else:
                    xi2 = uni2 = np.empty((0, 0))
            # the state at the chunk's start, for a re-run; copied into the
            # same buffers every chunk (fresh copies would fault their pages in anew)
            if saved is None:
                saved = {k: np.empty_like(x) for k, x in state.items()}
            for k, x in state.items():
                np.copyto(saved[k], x)
            while True:  # re-run the chunk if a neuron overflowed its buffer
                if buf_t.size < N * cap:
                    buf_t = np.empty(N * cap, dtype=np.float64)
                    buf_k = np.empty(N * cap, dtype=np.int64)
                spk_t = buf_t[:N * cap].reshape(N, cap)
                spk_k = buf_k[:N * cap].reshape(N, cap)
                cnt = np.zeros(N, dtype=np.int64)
                chunk_recs = {name: r[a:b] for name, r in recs.items()}
                if model_run is not None:
                    _run_model_chunk(model_run, neuron, state, J2d, stride, a, dt, spk_t, spk_k, cnt,
                                     chunk_recs, b - a)
                elif noise > 0:
                    from spikenet.sim.kernels.lif_noise import lif_noise_run

                    rec_v = chunk_recs.get("v", np.empty((b - a, 0), dtype=dtype))
                    lif_noise_run(state["v"], state["r"], np.asarray(J2d, dtype=np.float64), stride, a, dt,
                                  neuron.tau_m, neuron.tau_ref, neuron.v_th, neuron.v_reset, noise, xi, uni,
                                  xi2, uni2, spk_t, spk_k, cnt, rec_v)
                else:
                    _run_chunk(model, neuron, state, J2d, stride, a, dt, spk_t, spk_k, cnt, chunk_recs,
                               b - a, dtype, lif_run, hh_run)
                most = int(cnt.max())
                if most <= cap:
                    break
                cap = most
                for k, s in saved.items():
                    state[k][:] = s
            total = int(cnt.sum())
            if total:
                ct = np.empty(total, dtype=np.float64)
                ck = np.empty(total, dtype=np.int64)
                gather_spikes(spk_t, spk_k, cnt, ct, ck)
                chunks_t.append(ct)
                chunks_k.append(ck)
                # where each spike belongs, in the smaller form: the count per
                # neuron when the chunk has more spikes than neurons (merged
                # sequentially, the faster way), else the neuron of each spike
                # (so that memory never grows with the number of chunks times n)
                if total >= N:
                    chunks_i.append((True, cnt.astype(np.int32)))
                else:
                    chunks_i.append((False, np.repeat(np.arange(N, dtype=np.int32), cnt)))
                counts += cnt
            del spk_t, spk_k
            if bar is not None:
                bar.update(b - a)
            if clock is not None:
                clock.done(b - a)
            a = b
    finally:
        stopper.__exit__(None, None, None)
        if bar is not None:
            bar.close()
    del buf_t, buf_k  # freed before the chunks are merged
    interrupted = a < steps
    if interrupted:
        warnings.warn(f"simulate was interrupted after {a} of {steps} steps: the result covers "
                      f"t in [0, {a * dt:g}) s (result.interrupted is True)", RuntimeWarning, stacklevel=2)

    if model is HH and not np.all(np.isfinite(state["v"])):
        raise FloatingPointError("HH integration produced non-finite voltages; reduce dt")
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    states = {name: r[:a].reshape((a, *shape)) for name, r in recs.items()}
    if len(chunks_t) > 1:  # grouped by neuron when first read (results._merge_chunks)
        return Result(a, dt, None, None, offsets, shape, states, interrupted=interrupted,
                      pending=(chunks_t, chunks_k, chunks_i))
    if chunks_t:  # already grouped by neuron
        times, ksteps = chunks_t[0], chunks_k[0]
    else:
        times, ksteps = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
    return Result(a, dt, times, ksteps, offsets, shape, states, interrupted=interrupted)


def _spike_capacity(neuron, drive, a, b, dt):
    """Upper bound (LIF) or guess (HH) of spikes per neuron in steps [a, b)."""
    duration = (b - a) * dt
    if isinstance(neuron, LIF):
        j_max = drive.max_in(a, b)
        if j_max is None:  # callable: evaluated only later; guess and re-run if exceeded
            return int(duration * 500.0) + 2
        if j_max <= neuron.v_th:
            return 2
        isi = neuron.tau_ref + neuron.tau_m * math.log((j_max - neuron.v_reset) / (j_max - neuron.v_th))
        if isi < dt:  # at most one spike per step
            return (b - a) + 3
        return int(duration / isi) + 3
    if isinstance(neuron, NeuronModel):
        return int(duration * neuron.rate_guess) + 2
    return int(duration * _HH_RATE_GUESS) + 2


def _run_model_chunk(model_run, neuron, state, J2d, stride, k0, dt, spk_t, spk_k, cnt, recs, nsteps):
    """One chunk of a model on the NeuronModel interface, through its generated kernel."""
    names = neuron.state_names
    S = np.array([state[k] for k in names], dtype=np.float64)
    P = neuron.param_matrix(S.shape[1])
    rec_rows = np.array([names.index(k) for k in recs], dtype=np.int64)
    rec = np.empty((len(rec_rows), nsteps, S.shape[1]))
    model_run(S, P, np.ascontiguousarray(J2d, dtype=np.float64), stride, k0, 0.0, dt, spk_t, spk_k, cnt,
              rec, rec_rows, nsteps)
    for r, k in enumerate(names):
        state[k][:] = S[r]
    for r, k in enumerate(recs):
        recs[k][:] = rec[r]


def _run_chunk(model, neuron, state, J2d, stride, k0, dt, spk_t, spk_k, cnt, recs, nsteps, dtype,
               lif_run, hh_run):
    empty = np.empty((nsteps, 0), dtype=dtype)
    rec = {name: recs.get(name, empty) for name in _STATE_NAMES[model]}
    if model is LIF and stride == 0 and not recs and _LIF_CLOSED_FORM:
        from spikenet.sim.kernels.lif import lif_run_constant

        lif_run_constant(state["v"], state["r"], J2d, nsteps, k0, 0.0, dt, neuron.tau_m, neuron.tau_ref,
                         neuron.v_th, neuron.v_reset, spk_t, spk_k, cnt)
    elif model is LIF:
        consts = np.array([math.exp(-dt / neuron.tau_m), neuron.v_reset, neuron.v_th], dtype=dtype)
        lif_run(state["v"], state["te"], J2d, stride, k0, 0.0, dt, neuron.tau_m, neuron.tau_ref,
                neuron.v_th, neuron.v_reset, consts, spk_t, spk_k, cnt, rec["v"])
    else:
        # 512-bit vectors on one thread only: HH is all multiply-adds, and two
        # threads of it ran slower at 512 than at 256 bits (kernels/vectorwidth.py)
        from numba import get_num_threads

        wide = True if get_num_threads() == 1 else None
        hh_run(state["v"], state["m"], state["h"], state["n"], J2d, stride, k0, 0.0, dt, dt * 1e3,
               neuron.c_m, neuron.g_na, neuron.g_k, neuron.g_l, neuron.e_na, neuron.e_k, neuron.e_l,
               neuron.v_spike, spk_t, spk_k, cnt, rec["v"], rec["m"], rec["h"], rec["n"], wide)
