r"""Spiking networks trained directly: spikenet's exact LIF dynamics in PyTorch, with a surrogate gradient.

:class:`SpikingMLP` runs, step by step in PyTorch, the same arithmetic as a
:class:`spikenet.sim.Network` of LIF populations connected through PSC
synapses, so that a network trained here by backpropagation through time
(BPTT) runs unchanged in :mod:`spikenet.sim` with the same spikes. The
threshold's derivative, zero almost everywhere, is replaced in the backward
pass by a smooth surrogate (Zenke & Ganguli 2018; Neftci et al. 2019).

Network semantics
-----------------
Layer ``0`` (the first hidden population) receives the input as a current,
``J = W_0 x + b_0`` (``x`` constant or one row per step). Population
``i > 0`` receives the spikes of population ``i - 1`` through the synapse:
a spike in step ``k`` adds ``W_i[:, j] / tau_s`` to the first stage of the
target's filter at the start of step ``k + 1`` (a charge ``W_i[:, j]``), and
``b_i`` is a constant bias current. The readout is linear in the filtered
spike trains of the last population: with ``I_k`` the readout units'
synaptic current (weights ``W_out``, same synapse) at ``t = k dt``, just
after the spikes of step ``k - 1`` arrived,

.. math:: y = b_{out} + \frac{1}{K} \sum_{k=1}^{K} I_k,

which uses every spike of the ``K`` steps. In a
:class:`~spikenet.sim.Network` this is ``bias``/``add_input(current=...)``
for layer 0, ``connect(pre, post, W_i, synapse)`` between layers, and the
``"I_syn"`` record of a readout population (see :meth:`SpikingMLP.to_network`).

Neuron update (identical to the network kernel's)
-------------------------------------------------
Over each step of ``dt`` the voltage and the synaptic stages are advanced
exactly: ``v <- a v + u`` with ``a = exp(-dt / tau_m)`` and
``u = (1 - a) J + sum_s c_s x_s`` (the ``c_s`` from the matrix exponential
of the coupled linear system), then ``x <- P x``. A neuron whose end-of-step
voltage reaches ``v_th = 1`` spikes; its spike time in the step is the exact
crossing time for the constant drive ``J_eff = u / (1 - a)`` that yields
the same end-of-step voltage, ``tau_m ln((J_eff - v_0) / (J_eff - 1))``; it
is reset to 0 and held there for ``tau_ref`` from that time (in continuous
time, tracked as the absolute time the refractory period ends); a neuron
whose refractory period ends inside a step integrates the rest of the step
from 0 with ``J_eff``, and if that rest of the step also crosses the
threshold (``tau_ref < dt``) the voltage is capped at 1, so the next spike
falls in the next step. A neuron spikes at most once per step.

Gradient
--------
The spike of step ``k`` is ``s = H(v_1 - 1)`` with ``v_1`` the end-of-step
voltage before reset; its derivative is taken as the fast sigmoid's

.. math:: \frac{\partial s}{\partial v_1} = \frac{1}{(1 + \beta |v_1 - 1|)^2}

(SuperSpike, Zenke & Ganguli 2018), with ``beta`` the ``slope``. The reset
is applied with a detached spike mask (the choice of snnTorch and of Zenke &
Vogels 2021), and the spike times and refractory bookkeeping carry no
gradient; everything else (leak, synapses, the partial-step integration) is
differentiated exactly by autograd.

References
----------
Zenke, F. & Ganguli, S. (2018). SuperSpike: supervised learning in multilayer
spiking neural networks. Neural Computation 30(6), 1514-1541.

Neftci, E. O., Mostafa, H. & Zenke, F. (2019). Surrogate gradient learning in
spiking neural networks. IEEE Signal Processing Magazine 36(6), 51-63.

Zenke, F. & Vogels, T. P. (2021). The remarkable robustness of surrogate
gradient learning for instilling complex function in spiking neural
networks. Neural Computation 33(4), 899-925.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spikenet._validation import finite_array, positive_float, positive_int
from spikenet.sim import LIF, PSCFilter

__all__ = ["SpikingMLP", "SpikingMLPRun", "fast_sigmoid_spike", "fit_spiking"]

# A refractory period that ends less than this fraction of a step after the
# step's start counts as over (the network kernel's tolerance, network.py).
_FREE_TOL = 1e-9


class _FastSigmoidSpike(torch.autograd.Function):
    """Heaviside step forward, fast-sigmoid derivative backward."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * x.abs()) ** 2, None


def fast_sigmoid_spike(x, slope=10.0):
    r"""Spike nonlinearity with a surrogate gradient: ``H(x)`` forward, ``1/(1 + slope |x|)^2`` backward.

    Parameters
    ----------
    x : torch.Tensor, any shape
        Voltage minus threshold (dimensionless).
    slope : float
        Steepness ``beta`` of the surrogate (> 0): the derivative is 1 at the
        threshold and falls to 1/4 at ``|x| = 1 / beta``.

    Returns
    -------
    torch.Tensor
        ``1.0`` where ``x >= 0``, else ``0.0``, same shape and dtype as ``x``.

    Notes
    -----
    The surrogate is the derivative of the fast sigmoid
    ``x / (1 + beta |x|)`` scaled to 1 at 0 (SuperSpike; Zenke & Ganguli 2018).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([-0.1, 0.0, 0.2], requires_grad=True)
    >>> fast_sigmoid_spike(x, slope=10.0).sum().backward()
    >>> x.grad
    tensor([0.2500, 1.0000, 0.1111])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    slope = positive_float("slope", slope)
    return _FastSigmoidSpike.apply(x, slope)


@dataclass(frozen=True)
class SpikingMLPRun:
    """What :meth:`SpikingMLP.simulate` returns.

    Attributes
    ----------
    logits : torch.Tensor, shape (batch, out)
        The decoded output (what ``forward`` returns).
    currents : torch.Tensor, shape (steps, batch, out)
        Readout current ``I_k`` for ``k = 1 .. steps`` (row ``k - 1``), bias
        not included.
    spikes : list of torch.Tensor
        One float 0/1 raster (steps, batch, n_i) per hidden population
        (carrying the surrogate gradient).
    spike_times : list of torch.Tensor
        One float64 tensor (steps, batch, n_i) per hidden population: the
        spike time in seconds (from the start of the run) where a spike
        occurred in that step, NaN elsewhere.
    dt : float
        Time step in seconds.
    bias : torch.Tensor, shape (out,)
        The readout bias ``b_out``.
    """

    logits: torch.Tensor
    currents: torch.Tensor
    spikes: list
    spike_times: list
    dt: float
    bias: torch.Tensor

    @property
    def running_logits(self) -> torch.Tensor:
        """Decoded output had the run stopped after each step, shape (steps, batch, out).

        Row ``k - 1`` is ``b_out`` plus the mean of ``I_1 .. I_k``; the last
        row equals :attr:`logits`.
        """
        k = torch.arange(1, self.currents.shape[0] + 1, dtype=self.currents.dtype,
                         device=self.currents.device)
        return self.currents.cumsum(0) / k.view(-1, 1, 1) + self.bias


def _per_layer(name, value, n_layers):
    """A positive float or a sequence of ``n_layers`` positive floats as a list."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return [positive_float(name, value, allow_zero=name == "tau_ref")] * n_layers
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a float or a sequence of floats, got {type(value).__name__}")
    if len(value) != n_layers:
        raise ValueError(f"{name} must have one value per hidden layer ({n_layers}), got {len(value)}")
    return [positive_float(f"{name}[{i}]", v, allow_zero=name == "tau_ref") for i, v in enumerate(value)]


class SpikingMLP(torch.nn.Module):
    r"""A multilayer spiking network of LIF neurons, trainable by BPTT with a surrogate gradient.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, n_hidden_0, ..., n_hidden_{L-1}, n_out]``: at least one
        hidden population (length >= 3).
    tau_m : float or sequence of float
        Membrane time constant in seconds (> 0), one for all hidden
        populations or one per population.
    tau_ref : float or sequence of float
        Refractory period in seconds (>= 0), likewise.
    dt : float
        Time step in seconds (> 0, at most the smallest ``tau_m``).
    synapse : spikenet.sim.PSCFilter
        Synapse between populations and into the readout.
    steps : int
        Number of steps ``K`` that :meth:`forward` runs by default.
    slope : float
        Steepness of the surrogate gradient (see :func:`fast_sigmoid_spike`).
    init_scale : float
        Initial weights (> 0): PyTorch's default ``Linear`` initialisation
        times ``init_scale`` for the input layer (weights and bias), so that
        typical input currents reach threshold within a few steps, and times
        ``init_scale * 0.01 s`` for the later layers, whose weights are
        charges (a spike then delivers about the charge that an input current
        delivers in 10 ms).

    Attributes
    ----------
    layers : torch.nn.ModuleList of torch.nn.Linear
        ``layers[0]`` maps the input to the first population's current
        (weights dimensionless per input unit); ``layers[i]``, ``0 < i < L``,
        holds the charge per spike ``W_i`` (post, pre) (dimensionless x s) and
        the bias current ``b_i`` of population ``i``; ``layers[L]`` is the
        readout (charge per spike and bias of the decoded output).
    neurons : list of spikenet.sim.LIF
        The hidden populations' neuron models (``v_th = 1``, ``v_reset = 0``).

    Notes
    -----
    See the module docstring for the equations. The state (voltage,
    refractory end times, synaptic stages) starts at rest (``v = 0``, not
    refractory, no synaptic current) on every call; computations run in the
    parameters' dtype (float32 by default; ``.double()`` for float64, in
    which a :class:`~spikenet.sim.Network` built by :meth:`to_network` gives
    the same spikes); refractory end times are float64 in both.

    Examples
    --------
    >>> import torch
    >>> from spikenet.rate import SpikingMLP
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = SpikingMLP([4, 8, 3], dt=1e-3, steps=10)
    >>> net(torch.rand(5, 4)).shape
    torch.Size([5, 3])
    """

    def __init__(self, sizes, tau_m=0.02, tau_ref=0.002, dt=1e-3, synapse=PSCFilter(0.005),  # noqa: B008
                 steps=10, slope=10.0, init_scale=40.0):
        super().__init__()
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
        if len(sizes) < 3:
            raise ValueError(f"sizes must list inputs, at least one hidden population and outputs, "
                             f"got {sizes}")
        self.sizes = [positive_int(f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        n_hidden = len(self.sizes) - 2
        self.dt = positive_float("dt", dt)
        taus = _per_layer("tau_m", tau_m, n_hidden)
        refs = _per_layer("tau_ref", tau_ref, n_hidden)
        for i, t in enumerate(taus):
            if self.dt > t:
                raise ValueError(f"dt ({self.dt} s) must not exceed tau_m ({t} s) of hidden layer {i}")
        self.neurons = [LIF(tau_m=t, tau_ref=r) for t, r in zip(taus, refs, strict=True)]
        if not isinstance(synapse, PSCFilter):
            raise TypeError(f"synapse must be a spikenet.sim.PSCFilter, got {type(synapse).__name__}")
        self.synapse = synapse
        self.steps = positive_int("steps", steps)
        self.slope = positive_float("slope", slope)
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(n_in, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        )
        init_scale = positive_float("init_scale", init_scale)
        with torch.no_grad():
            self.layers[0].weight.mul_(init_scale)
            self.layers[0].bias.mul_(init_scale)
            for lin in self.layers[1:]:
                lin.weight.mul_(init_scale * 0.01)
        # Exact per-step coefficients, computed in float64 as the network does.
        from spikenet.sim.network import _voltage_coupling

        self._prop = synapse.stage_propagator(self.dt)  # (m, m)
        self._coupling = [_voltage_coupling(synapse, nrn, self.dt) for nrn in self.neurons]  # (m,) each

    def extra_repr(self) -> str:
        return (f"sizes={self.sizes}, tau_m={[n.tau_m for n in self.neurons]}, "
                f"tau_ref={[n.tau_ref for n in self.neurons]}, dt={self.dt}, synapse={self.synapse}, "
                f"steps={self.steps}, slope={self.slope}")

    # ------------------------------------------------------------ conversion
    @classmethod
    def from_spiking_model(cls, model, steps=10, slope=10.0) -> SpikingMLP:
        """A trainable copy of a network converted by :func:`~spikenet.rate.to_spiking` (for fine-tuning).

        Parameters
        ----------
        model : spikenet.rate.SpikingModel
            The converted network: its hidden populations' neurons, ``dt`` and
            synapse are kept; the weights of population ``i > 0`` and of the
            readout absorb the amplitude of the population before them.
        steps : int
            Default number of steps of the result.
        slope : float
            Surrogate steepness.

        Returns
        -------
        SpikingMLP
            In float32, with the same weights. Its readout samples the filtered
            spike trains at the step ends (``SpikingModel.run`` averages them
            over each step and over a window), so decoded outputs differ
            slightly before any fine-tuning; the spikes are the same.
        """
        from spikenet.rate.convert import SpikingModel

        if not isinstance(model, SpikingModel):
            raise TypeError(f"model must be a spikenet.rate.SpikingModel, got {type(model).__name__}")
        if not isinstance(model.synapse, PSCFilter):
            raise ValueError("model: a SpikingMLP passes spikes through a PSC synapse; convert with "
                             f"to_spiking(..., synapse=PSCFilter(...)), got synapse={model.synapse!r}")
        if getattr(model, "v_init", 0.0) != 0.0:
            raise ValueError("model: a SpikingMLP starts from v = 0; convert with "
                             f"to_spiking(..., v_init=0.0), got v_init={model.v_init}")
        sizes = [model.n_in, *model.sizes, model.n_out]
        net = cls(sizes, tau_m=[n.tau_m for n in model.neurons], tau_ref=[n.tau_ref for n in model.neurons],
                  dt=model.dt, synapse=model.synapse, steps=steps, slope=slope)
        with torch.no_grad():
            for i, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
                scale = 1.0 if i == 0 else model.amplitudes[i - 1]
                net.layers[i].weight.copy_(torch.as_tensor(scale * np.asarray(W)))
                net.layers[i].bias.copy_(torch.as_tensor(np.asarray(b)))
        return net

    # ------------------------------------------------------------ simulation
    def _check_x(self, x, steps):
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(finite_array("x", x))
        p = self.layers[0].weight
        x = x.to(dtype=p.dtype, device=p.device)
        n_in = self.sizes[0]
        want = f"x must have shape (batch, {n_in}) or (steps, batch, {n_in}) with steps = {steps}"
        if x.ndim not in (2, 3) or x.shape[-1] != n_in or (x.ndim == 3 and x.shape[0] != steps):
            raise ValueError(f"{want}, got {tuple(x.shape)}")
        if x.shape[-2] == 0:
            raise ValueError("x must contain at least one sample")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x contains NaN or inf")
        return x

    def _free_part(self, i, s, h, J, x0):
        """End-of-step voltage of neurons free from local time ``s`` on, from ``v_reset`` (exact).

        ``s`` and ``h = dt - s`` (float64, s) per neuron, ``J`` the constant
        drive of the step, ``x0`` the synaptic stages at the step's start
        (None for the first hidden population); the stages' couplings over
        ``h`` are those of the network kernel
        (:func:`spikenet.sim.kernels.release.stage_coupling`). Returns
        ``(v, expm1(-h / tau_m))``.
        """
        nrn = self.neurons[i]
        em = torch.expm1(-h / nrn.tau_m).to(J.dtype)
        v = nrn.v_reset * (1.0 + em) - J * em
        if x0 is None:
            return v, em
        from spikenet.sim.kernels.release import stage_couplings

        m = len(x0)
        tau_s = self.synapse.tau_s
        ys = s / tau_s
        es = torch.exp(-ys)
        hn = h.detach().cpu().numpy().ravel()
        for q in range(m):
            # stage q at s: e^{-ys} sum_{j <= q} ys^(q-j) / (q-j)! x_j(0)
            xq = x0[q]
            term = torch.ones_like(ys)
            for j in range(q - 1, -1, -1):
                term = term * ys / (q - j)
                xq = xq + term.to(J.dtype) * x0[j]
            c = torch.from_numpy(stage_couplings(hn, nrn.tau_m, tau_s, m - 1 - q)).reshape(h.shape)
            v = v + (es * c.to(es.device)).to(J.dtype) * xq
        return v, em

    def _lif_step(self, i, u, v, te, k, J, x0):
        """One exact LIF step of hidden population ``i`` (the network kernel's ``_lif_event``, vectorised).

        ``u`` is the input part of the end-of-step voltage ``a v + u``; ``te``
        (float64) the absolute end of each neuron's refractory period; ``J``
        the constant drive of the step and ``x0`` the synaptic stages at its
        start (for the free part after a refractory period, see
        :meth:`_free_part`). Returns ``(s, v, te, t_spike)``.
        """
        nrn = self.neurons[i]
        dt, tau_m, tau_ref = self.dt, nrn.tau_m, nrn.tau_ref
        v_th, v_reset = nrn.v_th, nrn.v_reset
        a = math.exp(-dt / tau_m)
        inv_1ma = 1.0 / -math.expm1(-dt / tau_m)
        tk = k * dt
        t_free = tk + _FREE_TOL * dt
        t_next = tk + dt
        free = te <= t_free
        exiting = (te > t_free) & (te < t_next)
        jeff = u * inv_1ma
        start = torch.where(exiting, te - tk, 0.0)  # float64
        # leaving refractoriness inside the step: integrate the rest of the step from v_reset
        if bool(exiting.any()):
            v_exit, em_exit = self._free_part(i, start, dt - start, J, x0)
            # the crossing time of a spike in the free part: the constant drive taking v_reset to v_exit
            jeff = torch.where(exiting, (v_exit - v_reset * (1.0 + em_exit)) / -em_exit, jeff)
        else:
            v_exit = torch.full_like(v, v_reset)
        v1 = torch.where(free, a * v + u, torch.where(exiting, v_exit, torch.full_like(v, v_reset)))
        can = free | exiting
        s = fast_sigmoid_spike(v1 - v_th, self.slope) * can.to(v1.dtype)
        fired = can & (v1.detach() >= v_th)
        if not bool(fired.any()):
            return s, v1, te, None
        with torch.no_grad():
            # exact crossing time for the constant drive jeff (0 if rounding puts it at the start)
            v1d = v1.detach()
            jd = jeff.detach()
            vs = torch.where(exiting, torch.full_like(v1d, v_reset), (v1d - u.detach()) / a)
            at_start = (vs >= v_th) | (jd <= v_th)
            ratio = torch.where(at_start | ~fired, 2.0, (jd - vs) / torch.where(at_start, 1.0, jd - v_th))
            tc = torch.where(at_start, 0.0, tau_m * torch.log(ratio)).to(torch.float64)
            tc = torch.where(tc > 0.0, tc, 0.0)
            ts = start + torch.where(tc < dt - start, tc, dt - start)
            te = torch.where(fired, tk + ts + tau_ref, te)
            rem = dt - ts
            t_spike = torch.where(fired, tk + ts, torch.nan)
            free_again = tau_ref < rem
        # free again before the step ends: integrate the rest (capped at v_th)
        v_post = torch.full_like(v1, v_reset)
        if bool((fired & free_again).any()):
            h_free = torch.where(free_again, rem - tau_ref, dt)
            v_end, _ = self._free_part(i, torch.where(free_again, ts + tau_ref, 0.0), h_free, J, x0)
            v_end = torch.where(v_end.detach() < v_th, v_end, torch.full_like(v_end, v_th))
            v_post = torch.where(free_again, v_end, v_post)
        return s, torch.where(fired, v_post, v1), te, t_spike

    def simulate(self, x, steps=None) -> SpikingMLPRun:
        """Run the network on a batch and return the decoded output, readout currents and spikes.

        Parameters
        ----------
        x : torch.Tensor or array_like, shape (batch, in) or (steps, batch, in)
            Input, constant over the run or one row per step (row ``k`` held
            over step ``k``).
        steps : int, optional
            Number of steps ``K`` (default :attr:`steps`).

        Returns
        -------
        SpikingMLPRun
        """
        steps = self.steps if steps is None else positive_int("steps", steps)
        x = self._check_x(x, steps)
        W0 = self.layers[0]
        dtype, device = W0.weight.dtype, W0.weight.device
        B = x.shape[-2]
        L = len(self.neurons)
        m = self.synapse.n_stages
        inv_tau_s = 1.0 / self.synapse.tau_s
        prop = self._prop
        J0 = W0(x) if x.ndim == 2 else None
        v = [torch.zeros(B, n, dtype=dtype, device=device) for n in self.sizes[1:-1]]
        te = [torch.zeros(B, n, dtype=torch.float64, device=device) for n in self.sizes[1:-1]]
        # synaptic stages into population i (i >= 1) and into the readout (index L)
        xs = {i: [torch.zeros(B, self.sizes[i + 1], dtype=dtype, device=device) for _ in range(m)]
              for i in range(1, L + 1)}
        prev = [None] * L
        spikes = [[] for _ in range(L)]
        times = [[] for _ in range(L)]
        currents = []

        def propagate(stages):  # x <- P x, from the last stage down (as the kernel does)
            for st in range(m - 1, -1, -1):
                new = prop[st, st] * stages[st]
                for r in range(st):
                    new = new + prop[st, r] * stages[r]
                stages[st] = new

        for k in range(steps):
            # 1. deliver the spikes of step k - 1
            for i in range(1, L):
                if prev[i - 1] is not None:
                    lin = self.layers[i]
                    xs[i][0] = xs[i][0] + prev[i - 1] @ (lin.weight.T * inv_tau_s)
            # 2. update the populations in order
            for i in range(L):
                nrn = self.neurons[i]
                one_ma = 1.0 - math.exp(-self.dt / nrn.tau_m)
                if i == 0:
                    J = J0 if J0 is not None else W0(x[k])
                    u = one_ma * J
                    x_start = None
                else:
                    J = self.layers[i].bias.expand(B, -1)
                    u = one_ma * J
                    for st in range(m):
                        u = u + self._coupling[i][st] * xs[i][st]
                    x_start = list(xs[i])
                    propagate(xs[i])
                s, v[i], te[i], t_spike = self._lif_step(i, u, v[i], te[i], k, J, x_start)
                prev[i] = s
                spikes[i].append(s)
                times[i].append(t_spike if t_spike is not None
                                else torch.full(s.shape, torch.nan, dtype=torch.float64, device=device))
            # 3. the readout: this step's spikes arrive, the current is sampled, the stages decay
            out = xs[L]
            out[0] = out[0] + prev[L - 1] @ (self.layers[L].weight.T * inv_tau_s)
            currents.append(out[m - 1])
            propagate(out)
        currents = torch.stack(currents)
        logits = currents.mean(dim=0) + self.layers[L].bias
        return SpikingMLPRun(logits=logits, currents=currents, spikes=[torch.stack(s) for s in spikes],
                             spike_times=[torch.stack(t) for t in times], dt=self.dt,
                             bias=self.layers[L].bias)

    def forward(self, x, steps=None) -> torch.Tensor:
        """Decoded output of the spiking network (differentiable through the surrogate gradient).

        Parameters
        ----------
        x : torch.Tensor or array_like, shape (batch, in) or (steps, batch, in)
            Input currents (see :meth:`simulate`).
        steps : int, optional
            Number of steps (default :attr:`steps`).

        Returns
        -------
        torch.Tensor, shape (batch, out)
            ``b_out`` plus the readout current averaged over ``t = dt .. K dt``.
        """
        return self.simulate(x, steps).logits

    # ------------------------------------------------------------ spikenet.sim
    def to_network(self, x, steps=None, dtype=np.float64):
        """The same network as a batched :class:`spikenet.sim.Network`, driven by ``x``.

        Parameters
        ----------
        x : torch.Tensor or array_like, shape (batch, in) or (steps, batch, in)
            Input, as in :meth:`simulate`.
        steps : int, optional
            Steps of a time-varying ``x`` (default :attr:`steps`).
        dtype : numpy.float64 or numpy.float32
            State dtype of the network.

        Returns
        -------
        tuple (Network, list of Population, Population)
            The network, its hidden populations (``"hidden0"`` ...) and the
            readout population ``"readout"``: LIF units that receive the last
            population's spikes through :attr:`synapse` with weights
            ``W_out``; their ``"I_syn"`` recorded at ``t = k dt`` is ``I_k``.
            Run it for ``K + 1`` steps and use rows ``1 .. K`` (see
            :meth:`run_network`).
        """
        from spikenet.sim import Network

        steps = self.steps if steps is None else positive_int("steps", steps)
        x = self._check_x(x, steps).detach().cpu().double().numpy()
        Ws = [lin.weight.detach().cpu().double().numpy() for lin in self.layers]
        bs = [lin.bias.detach().cpu().double().numpy() for lin in self.layers]
        B = x.shape[-2]
        net = Network(dt=self.dt, batch=B, dtype=dtype)
        pops = []
        for i, nrn in enumerate(self.neurons):
            pop = net.add_population(self.sizes[i + 1], nrn, bias=bs[i], name=f"hidden{i}")
            if i == 0:
                cur = x @ Ws[0].T
                if cur.ndim == 3:  # one extra row: the network runs K + 1 steps for the readout
                    cur = np.concatenate([cur, cur[-1:]], axis=0)
                net.add_input(pop, current=cur)
            else:
                net.connect(pops[-1], pop, Ws[i], synapse=self.synapse)
            pops.append(pop)
        # the readout's neurons never reach threshold in K + 1 steps unless driven hard;
        # only their synaptic current is read
        readout = net.add_population(self.sizes[-1], LIF(tau_m=self.neurons[-1].tau_m), name="readout")
        net.connect(pops[-1], readout, Ws[-1], synapse=self.synapse)
        return net, pops, readout

    def run_network(self, x, steps=None, dtype=np.float64):
        """Run the trained weights in :mod:`spikenet.sim` and decode its output as :meth:`forward` does.

        Parameters
        ----------
        x : torch.Tensor or array_like, shape (batch, in) or (steps, batch, in)
            Input.
        steps : int, optional
            Number of steps ``K`` (default :attr:`steps`).
        dtype : numpy.float64 or numpy.float32
            State dtype of the network.

        Returns
        -------
        logits : numpy.ndarray, shape (batch, out)
            ``b_out`` plus the readout's recorded synaptic current averaged
            over ``t = dt .. K dt``.
        rasters : list of numpy.ndarray
            One bool raster (steps, batch, n_i) per hidden population.
        result : spikenet.sim.NetworkResult
            The network's result (``K + 1`` steps; the last step only lets the
            spikes of step ``K - 1`` reach the readout).
        """
        steps = self.steps if steps is None else positive_int("steps", steps)
        net, pops, _ = self.to_network(x, steps, dtype)
        result = net.run((steps + 1) * self.dt, record={"readout": "I_syn"})
        cur = np.asarray(result["readout", "I_syn"])[1:steps + 1]  # (K, batch, out)
        logits = cur.mean(axis=0) + self.layers[-1].bias.detach().cpu().double().numpy()
        rasters = [np.asarray(result.spike_raster(p), dtype=bool)[:steps] for p in pops]
        return logits, rasters, result


def fit_spiking(model, data, epochs=40, lr=0.01, batch_size=64, input_noise=0.2, seed=None, threads=1,
                val_data=None):
    r"""Train a :class:`SpikingMLP` by BPTT with the surrogate gradient (Adam, cosine learning-rate decay).

    Parameters
    ----------
    model : SpikingMLP
        Trained in place, with its own ``steps``.
    data : tuple (X, y)
        Inputs (N, in) (array_like or tensor, held constant over the steps)
        and integer class labels (N,).
    epochs : int
        Passes through the data (> 0).
    lr : float
        Initial Adam learning rate (> 0), decayed to 0 along a cosine.
    batch_size : int
        Minibatch size (> 0).
    input_noise : float
        Standard deviation (>= 0) of Gaussian noise added to each training
        input (a regulariser; 0 for none).
    seed : None or int
        Seeds the shuffling and the noise (torch's global RNG is untouched).
    threads : None or int
        torch threads during training (restored afterwards); ``None`` leaves
        the setting alone. One or two suit these small networks.
    val_data : tuple (X, y), optional
        Evaluated after every epoch (accuracy of the final decoded output).

    Returns
    -------
    dict
        ``"loss"``: mean training loss per epoch; ``"val_accuracy"``: one
        value per epoch (empty without ``val_data``).

    Notes
    -----
    The loss trains the decoded output after every step ``k >= 2`` towards
    the label (so that shorter runs decode well too), plus the final one:

    .. math:: E = \mathrm{CE}(y_K) + \frac{1}{K - 1} \sum_{k=2}^{K} \mathrm{CE}(y_k),

    with ``y_k`` the running decoded output
    (:attr:`SpikingMLPRun.running_logits`).
    """
    if not isinstance(model, SpikingMLP):
        raise TypeError(f"model must be a SpikingMLP, got {type(model).__name__}")
    epochs = positive_int("epochs", epochs)
    lr = positive_float("lr", lr)
    batch_size = positive_int("batch_size", batch_size)
    input_noise = positive_float("input_noise", input_noise, allow_zero=True)
    if threads is not None:
        threads = positive_int("threads", threads)
    X, y = _as_xy("data", data, model)
    val = _as_xy("val_data", val_data, model) if val_data is not None else None
    gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
    if seed is None:
        gen.seed()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    old_threads = torch.get_num_threads()
    history = {"loss": [], "val_accuracy": []}
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        model.train()
        n = X.shape[0]
        for epoch in range(epochs):
            for group in opt.param_groups:
                group["lr"] = 0.5 * lr * (1.0 + math.cos(math.pi * epoch / epochs))
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, batch_size):
                idx = perm[i:i + batch_size]
                xb = X[idx]
                if input_noise > 0:
                    xb = xb + input_noise * torch.randn(xb.shape, generator=gen, dtype=xb.dtype)
                run = model.simulate(xb)
                loss = torch.nn.functional.cross_entropy(run.logits, y[idx])
                if run.currents.shape[0] > 1:
                    r = run.running_logits[1:]
                    loss = loss + torch.nn.functional.cross_entropy(
                        r.reshape(-1, r.shape[-1]), y[idx].repeat(r.shape[0]))
                if not bool(torch.isfinite(loss.detach())):
                    raise FloatingPointError(f"training diverged at epoch {epoch + 1}: the loss became "
                                             f"{loss.item()}; try a smaller lr (got {lr})")
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            history["loss"].append(total / n)
            if val is not None:
                with torch.no_grad():
                    pred = model(val[0]).argmax(1)
                history["val_accuracy"].append(float((pred == val[1]).double().mean()))
    finally:
        model.eval()
        if threads is not None:
            torch.set_num_threads(old_threads)
    return history


def _as_xy(name, data, model):
    """``(X, y)`` as tensors in the model's dtype and integer labels, checked."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a tuple (X, y)")
    X, y = data
    p = model.layers[0].weight
    X = torch.as_tensor(finite_array(f"{name}[0]", X.detach().cpu().numpy() if isinstance(X, torch.Tensor)
                                     else X, ndim=2), dtype=p.dtype, device=p.device)
    y = torch.as_tensor(np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y))
    if X.shape[1] != model.sizes[0]:
        raise ValueError(f"{name}[0] must have shape (N, {model.sizes[0]}), got {tuple(X.shape)}")
    if y.shape != (X.shape[0],) or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(f"{name}[1] must be integer labels of shape ({X.shape[0]},), got {y.dtype} "
                         f"{tuple(y.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one sample")
    if int(y.min()) < 0 or int(y.max()) >= model.sizes[-1]:
        raise ValueError(f"{name}[1] labels must lie in [0, {model.sizes[-1]})")
    return X, y.to(device=p.device, dtype=torch.int64)
