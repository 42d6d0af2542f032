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

from spikenet._validation import finite_array, positive_float, positive_int

__all__ = ["Delta", "PSCFilter"]


def expm(M) -> np.ndarray:
    """Matrix exponential of a small square matrix (scaling and squaring, Taylor).

    Used for the exact propagator coefficients of the network kernel (kept
    here so that ``import spikenet.sim`` does not pull in ``scipy.linalg``).
    ``M`` is scaled by ``2^-s`` to a norm below 1/2, where 20 Taylor terms
    leave a truncation error below ``0.5^21 / 21! ~ 1e-26``; then squared
    ``s`` times. Agrees with ``scipy.linalg.expm`` to ~1e-15 relative (tested).

    Parameters
    ----------
    M : array_like, shape (m, m)

    Returns
    -------
    numpy.ndarray, shape (m, m)
    """
    M = np.asarray(M, dtype=np.float64)
    norm = np.abs(M).sum(axis=1).max() if M.size else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    A = M / 2.0**s
    term = np.eye(M.shape[0])
    out = term.copy()
    for j in range(1, 21):
        term = term @ A / j
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


@dataclass(frozen=True)
class PSCFilter:
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

    def __post_init__(self):
        object.__setattr__(self, "tau_s", positive_float("tau_s", self.tau_s))
        object.__setattr__(self, "n", positive_int("n", self.n, allow_zero=True))

    @property
    def n_stages(self) -> int:
        """Number of exponential stages, ``n + 1``."""
        return self.n + 1

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


@dataclass(frozen=True)
class Delta:
    """Voltage-jump synapse: a spike adds its weight to the post-synaptic voltage when it arrives.

    A spike of pre-neuron ``j`` adds ``W[i, j]`` (in the voltage's units:
    threshold units for the normalised LIF, so ``0.005`` is 0.1 mV for a
    20 mV threshold) to the voltage of post-neuron ``i`` at its arrival time.
    Jumps that arrive at the same time add up before the threshold is
    checked; a jump that takes the voltage to ``v_th`` makes the neuron spike
    at the arrival time itself, and that spike reaches its own targets one
    delay later (the timing of NEST's ``iaf_psc_delta``, Brunel 2000). A
    neuron in its refractory period, including one whose refractory period
    ends exactly at the arrival time, ignores jumps. Only LIF populations
    take Delta synapses.

    Examples
    --------
    >>> from spikenet.sim import LIF, Delta, Network
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(1, LIF(), bias=2.0)
    >>> b = net.add_population(1, LIF())
    >>> net.connect(a, b, 1.0, synapse=Delta(), delay=1e-3)
    """
