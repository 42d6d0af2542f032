r"""Post-synaptic current (PSC) filters.

A spike arriving at ``t = 0`` injects the current

.. math:: h(t) = \frac{t^n e^{-t/\tau_s}}{n!\,\tau_s^{n+1}}, \qquad t \ge 0,

which has unit area, so a connection weight ``w`` is the total charge a
spike delivers. ``h`` is the impulse response of ``n + 1`` identical
exponential stages in cascade,

.. math::

    \tau_s \dot x_0 = -x_0, \qquad \tau_s \dot x_i = x_{i-1} - x_i \ (i \ge 1),

with a spike adding ``1/tau_s`` to ``x_0``; the current is the last stage
``x_n``. Over a step ``dt`` the stages evolve exactly by the lower
triangular matrix ``exp(A dt)`` with entries
``e^{-a} a^{i-j} / (i-j)!`` (``a = dt / tau_s``), which is what both
:meth:`PSCFilter.apply` and the network kernel use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikenet._validation import finite_array, finite_float, positive_float, positive_int
from spikenet.sim.synapse_base import CONDUCTANCE, CURRENT, JUMP, SynapseKind, expm, register_synapse

__all__ = ["Conductance", "Delta", "PSCFilter", "expm"]


class _Cascade(SynapseKind):
    """A kind whose stages are the exponential cascade of time constant ``tau_s`` (s)."""

    @property
    def input_scale(self) -> float:
        """A spike of unit weight adds ``1 / tau_s`` (1/s) to the first stage."""
        return 1.0 / self.tau_s

    @property
    def cascade_tau(self) -> float:
        """The stages' time constant ``tau_s`` (s): the stages are the PSC cascade."""
        return self.tau_s


@register_synapse
@dataclass(frozen=True)
class PSCFilter(_Cascade):
    r"""Post-synaptic current filter ``h(t) = t^n e^{-t/tau_s} / (n! tau_s^{n+1})``.

    Parameters
    ----------
    tau_s : float
        Synaptic time constant in seconds (> 0). Fast AMPA-like synapses have
        a few ms, slow NMDA-like ones around 100 ms.
    n : int
        Order (>= 0): ``n = 0`` is the exponential PSC, ``n = 1`` the alpha
        function; the peak of ``h`` is at ``t = n * tau_s``.

    Notes
    -----
    The filter has unit area (:math:`\int_0^\infty h = 1`) and mean delay
    ``(n + 1) tau_s`` (it is a gamma density). It is realised as ``n + 1``
    cascaded exponential stages (see the module docstring), so filtering a
    raster costs O(steps x neurons) and is exact for spikes on the time grid.

    Examples
    --------
    >>> import numpy as np
    >>> from spikenet.sim import PSCFilter
    >>> syn = PSCFilter(0.005)
    >>> float(syn.kernel(0.0))  # 1 / tau_s
    200.0
    >>> raster = np.zeros((3, 1), dtype=bool); raster[0] = True
    >>> np.allclose(syn.apply(raster, 1e-3)[:, 0], syn.kernel(np.arange(3) * 1e-3))
    True
    """

    tau_s: float
    n: int = 0

    entry = CURRENT

    def __post_init__(self):
        object.__setattr__(self, "tau_s", positive_float("tau_s", self.tau_s))
        object.__setattr__(self, "n", positive_int("n", self.n, allow_zero=True))

    @property
    def n_stages(self) -> int:
        """Number of exponential stages, ``n + 1``."""
        return self.n + 1

    def generator(self) -> np.ndarray:
        """The cascade's generator ``(L - I) / tau_s`` (1/s; ``L``: ones below the diagonal), (n+1, n+1)."""
        m = self.n_stages
        return (-np.eye(m) + np.eye(m, k=-1)) / self.tau_s

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        """The exponential and alpha PSCs of 5 ms (see :meth:`SynapseKind.examples`)."""
        return {"PSCFilter(n=0)": cls(0.005), "PSCFilter(n=1)": cls(0.005, n=1)}

    def kernel(self, t):
        """Evaluate ``h(t)`` in 1/s.

        Parameters
        ----------
        t : float or array_like
            Time since the spike in seconds, any shape; ``h = 0`` for ``t < 0``.

        Returns
        -------
        numpy.ndarray or float
            ``h(t)``, same shape as ``t``.
        """
        t = finite_array("t", t)
        x = np.maximum(t, 0.0) / self.tau_s
        # x^n e^{-x} / n!, evaluated in log space only where x > 0 (0^0 = 1).
        if self.n == 0:
            shape = np.exp(-x)
        else:
            with np.errstate(divide="ignore"):
                logx = np.log(x)
            shape = np.where(x > 0, np.exp(self.n * logx - x - math.lgamma(self.n + 1)), 0.0)
        out = np.where(t >= 0, shape / self.tau_s, 0.0)
        return out if out.ndim else float(out)

    def stage_propagator(self, dt) -> np.ndarray:
        """Exact one-step propagator of the stages.

        Parameters
        ----------
        dt : float
            Time step in seconds (> 0).

        Returns
        -------
        numpy.ndarray, shape (n + 1, n + 1)
            Lower-triangular ``P`` with ``x(t + dt) = P @ x(t)`` between spikes.
        """
        dt = positive_float("dt", dt)
        a = dt / self.tau_s
        m = self.n_stages
        prop = np.zeros((m, m))
        for i in range(m):
            for j in range(i + 1):
                prop[i, j] = math.exp(-a) * a ** (i - j) / math.factorial(i - j)
        return prop

    def apply(self, raster, dt) -> np.ndarray:
        """Filter a spike raster into currents.

        Parameters
        ----------
        raster : array_like, shape (steps,) or (steps, n)
            Spikes per time step (bool, or counts / weights: the filter is
            linear, so an entry ``c`` counts as ``c`` spikes). Row ``j`` is a
            spike at ``t_p = j * dt``.
        dt : float
            Time step in seconds (> 0).

        Returns
        -------
        numpy.ndarray, float64, same shape as ``raster``
            Row ``k`` is ``sum_p h(k*dt - t_p)`` in 1/s (a spike in row ``k``
            itself contributes ``h(0)``).
        """
        from spikenet.sim.kernels.synapses import cascade_filter

        dt = positive_float("dt", dt)
        arr = finite_array("raster", raster, ndim=(1, 2))
        flat = arr.reshape(arr.shape[0], -1) if arr.ndim == 2 else arr[:, None]
        flat = np.ascontiguousarray(flat, dtype=np.float64)
        out = np.zeros_like(flat)
        if flat.size:
            cascade_filter(flat, self.stage_propagator(dt), 1.0 / self.tau_s, out)
        return out.reshape(arr.shape)


@register_synapse
@dataclass(frozen=True)
class Delta(SynapseKind):
    """Voltage-jump synapse: a spike adds its weight to the post-synaptic voltage when it arrives.

    A spike of pre-neuron ``j`` adds ``W[i, j]`` (in the voltage's units:
    threshold units for the normalised LIF, so ``0.005`` is 0.1 mV for a
    20 mV threshold) to the voltage of post-neuron ``i`` at its arrival time.
    Jumps that arrive at the same time add up before the threshold is
    checked; a jump that takes the voltage to ``v_th`` makes the neuron spike
    at the arrival time itself, and that spike reaches its own targets one
    delay later (the timing of NEST's ``iaf_psc_delta``, Brunel 2000). A
    neuron in its refractory period, including one whose refractory period
    ends exactly at the arrival time, ignores jumps. LIF populations take
    Delta synapses, and so do Izhikevich and AdEx (jumps of ``v`` in mV, the
    threshold ``v_peak``) and any neuron model that declares ``jump_state``;
    HH populations do not.

    Examples
    --------
    >>> from spikenet.sim import LIF, Delta, Network
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(1, LIF(), bias=2.0)
    >>> b = net.add_population(1, LIF())
    >>> net.connect(a, b, 1.0, synapse=Delta(), delay=1e-3)  # doctest: +ELLIPSIS
    Connection(...)
    """

    entry = JUMP

    @property
    def input_scale(self) -> float:
        """A spike of weight ``w`` adds ``w`` itself to the voltage: 1."""
        return 1.0

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        """The voltage jump (see :meth:`SynapseKind.examples`)."""
        return {"Delta": cls()}


@register_synapse
@dataclass(frozen=True)
class Conductance(_Cascade):
    r"""Conductance synapse: a spike opens a conductance that pulls the voltage towards ``e_rev``.

    The conductance ``g`` follows the kernel of ``PSCFilter(tau_s, n)``: a
    spike of weight ``W`` adds ``W / tau_s`` to the first of ``n + 1``
    cascaded exponential stages and ``g`` is the last stage, so ``W`` is the
    time integral of the conductance it opens (a single-stage synapse,
    ``n = 0``, jumps by ``W / tau_s`` and decays with ``tau_s``). The synapse
    injects ``g (e_rev - v)``:

    - normalised LIF: ``tau_m dv/dt = J - v + sum_k g_k (e_rev_k - v)``, with
      ``g`` in units of the leak conductance and ``e_rev`` in threshold units
      (with rest -60 mV, threshold -50 mV and reset -60 mV, reversal
      potentials of 0 mV and -80 mV are ``6.0`` and ``-2.0``);
    - HH: ``g`` in mS/cm^2 and ``e_rev`` in mV; the current ``g (e_rev - v)``
      is in uA/cm^2.

    Parameters
    ----------
    tau_s : float
        Time constant of the stages in seconds (> 0).
    e_rev : float
        Reversal potential, in the voltage units of the post-synaptic model.
    n : int
        Order of the kernel (>= 0): ``n = 0`` is the exponential conductance
        (NEST ``iaf_cond_exp``), ``n = 1`` the alpha conductance.

    Notes
    -----
    LIF and HH populations take conductance synapses, and so do Izhikevich
    (``g`` in the paper's units per mV) and AdEx (``g`` in nS) and any neuron
    model with a ``cond_step``. How the network integrates them is described
    in :mod:`spikenet.sim.kernels.conductance` (LIF, HH) and
    :mod:`spikenet.sim.kernels.gen_cond` (neuron models).

    Examples
    --------
    >>> from spikenet.sim import LIF, Conductance, Network
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(10, LIF(), bias=2.0)
    >>> b = net.add_population(10, LIF())
    >>> ampa = Conductance(0.005, e_rev=6.0)
    >>> net.connect(a, b, 0.002, synapse=ampa, p=0.5)  # doctest: +ELLIPSIS
    Connection(...)
    """

    tau_s: float
    e_rev: float
    n: int = 0

    entry = CONDUCTANCE

    def __post_init__(self):
        object.__setattr__(self, "tau_s", positive_float("tau_s", self.tau_s))
        object.__setattr__(self, "e_rev", finite_float("e_rev", self.e_rev))
        object.__setattr__(self, "n", positive_int("n", self.n, allow_zero=True))

    def generator(self) -> np.ndarray:
        """The generator of ``PSCFilter(tau_s, n)`` (1/s), (n + 1, n + 1)."""
        return self.filter.generator()

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        """Exponential and alpha conductances of 5 ms reversing at ``e_rev`` (``SynapseKind.examples``)."""
        return {"Conductance(n=0)": cls(0.005, e_rev), "Conductance(n=1)": cls(0.005, e_rev, n=1)}

    @property
    def filter(self) -> PSCFilter:
        """The ``PSCFilter(tau_s, n)`` whose kernel the conductance follows."""
        return PSCFilter(self.tau_s, self.n)

    @property
    def n_stages(self) -> int:
        """Number of exponential stages, ``n + 1``."""
        return self.n + 1

    def kernel(self, t):
        """Conductance opened by a spike of unit weight at ``t = 0``, in 1/s."""
        return self.filter.kernel(t)

    def stage_propagator(self, dt) -> np.ndarray:
        """Exact one-step propagator of the stages, (n + 1, n + 1), as :meth:`PSCFilter.stage_propagator`."""
        return self.filter.stage_propagator(dt)
