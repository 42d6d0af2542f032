r"""Spike-timing-dependent plasticity (STDP) rules for :meth:`Network.connect <spikenet.sim.Network.connect>`.

A rule is a frozen dataclass of parameters; ``connect(..., plasticity=rule)``
makes every synapse of that connection plastic. The network kernel updates
the weights event by event inside the run:

- the **pre-synaptic event** of a synapse is the *arrival* of a spike, at its
  emission time (placed inside its step) plus the connection's delay;
- the **post-synaptic event** is the post neuron's spike, at its in-step time.

Each side keeps exponential traces that are decayed exactly to the time of
the event that reads them (no per-step decay), and the events of one step are
handled in time order (a pre arrival first when it coincides with a post
spike). A spike delivers the weight that results from all events up to the end
of the step before its delivery, its own update included (as in NEST's
``stdp_synapse``).

Pair-based rule (:class:`STDP`; Song, Miller & Abbott 2000; Morrison,
Diesmann & Gerstner 2008): a pre trace :math:`x` and a post trace :math:`y`,

.. math::

    \text{pre arrival:}\quad w \leftarrow \mathrm{clip}(w + y),\; x \leftarrow x + a_{pre};
    \qquad
    \text{post spike:}\quad w \leftarrow \mathrm{clip}(w + x),\; y \leftarrow y + a_{post},

so that with all-to-all pairing a pair with :math:`\Delta t = t_{post} - t_{pre}`
adds :math:`a_{pre} e^{-\Delta t/\tau_{pre}}` for :math:`\Delta t > 0` and
:math:`a_{post} e^{\Delta t/\tau_{post}}` for :math:`\Delta t < 0`. With
``mode="nearest"`` a spike resets its trace to :math:`a` instead of adding
to it, so only the nearest earlier spike of the other side counts (the
symmetric nearest-spike scheme). ``rule="multiplicative"`` scales
potentiation by :math:`(w_{max} - w)` and depression by :math:`(w - w_{min})`
(van Rossum, Bi & Turrigiano 2000).

Triplet rule (:class:`TripletSTDP`; Pfister & Gerstner 2006): two pre traces
:math:`r_1, r_2` and two post traces :math:`o_1, o_2`, each jumping by 1,

.. math::

    \text{pre arrival:}\quad w \leftarrow w - o_1 (A_2^- + A_3^- r_2),\;
    \text{post spike:}\quad w \leftarrow w + r_1 (A_2^+ + A_3^+ o_2),

each read just before its own side's jump.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikenet._validation import choice, finite_float, positive_float

__all__ = ["STDP", "TripletSTDP"]

_RULES = ("additive", "multiplicative")
_MODES = ("all", "nearest")


def _check_bounds(w_min, w_max):
    lo = finite_float("w_min", w_min)
    hi = finite_float("w_max", w_max)
    if hi <= lo:
        raise ValueError(f"w_max must be > w_min, got w_min={lo:g}, w_max={hi:g}")
    return lo, hi


@dataclass(frozen=True)
class STDP:
    """Pair-based spike-timing-dependent plasticity of a connection's weights.

    Parameters
    ----------
    tau_pre : float
        Time constant of the pre-synaptic trace, s (> 0).
    tau_post : float
        Time constant of the post-synaptic trace, s (> 0).
    a_pre : float
        Jump of the pre trace (in weight units for ``rule="additive"``,
        dimensionless for ``"multiplicative"``): the weight change of a
        pre-before-post pair at zero lag (potentiation when positive).
    a_post : float
        Jump of the post trace: the weight change of a post-before-pre pair at
        zero lag (depression when negative).
    w_min, w_max : float
        Hard bounds: every update is clipped to ``[w_min, w_max]`` (weights
        in the connection's units, e.g. charge per spike for a PSC synapse).
    rule : {"additive", "multiplicative"}
        ``"multiplicative"``: potentiation scaled by ``w_max - w``,
        depression by ``w - w_min``.
    mode : {"all", "nearest"}
        ``"all"``: every pre/post pair interacts (traces add up);
        ``"nearest"``: each spike pairs with the nearest earlier spike of the
        other side only (traces are reset, not incremented).

    Notes
    -----
    The defaults are the dimensionless values of Song, Miller & Abbott (2000)
    for weights in ``[0, 1]``: scale ``a_pre``, ``a_post`` and ``w_max`` by
    the maximal weight of your model. See :mod:`spikenet.sim.plasticity`
    for the update equations and the timing of events.

    Examples
    --------
    >>> from spikenet.sim import LIF, Network, STDP
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(20, LIF(), bias=1.2)
    >>> b = net.add_population(1, LIF())
    >>> conn = net.connect(a, b, 0.01, delay=1e-4, plasticity=STDP(w_max=0.02))
    >>> conn.weights.shape
    (1, 20)
    """

    tau_pre: float = 0.02
    tau_post: float = 0.02
    a_pre: float = 0.01
    a_post: float = -0.0105
    w_min: float = 0.0
    w_max: float = 1.0
    rule: str = "additive"
    mode: str = "all"

    def __post_init__(self):
        positive_float("tau_pre", self.tau_pre)
        positive_float("tau_post", self.tau_post)
        finite_float("a_pre", self.a_pre)
        finite_float("a_post", self.a_post)
        _check_bounds(self.w_min, self.w_max)
        choice("rule", self.rule, _RULES)
        choice("mode", self.mode, _MODES)

    def kernel_params(self):
        """Parameters in the kernel's common form (see :func:`_kernel_row`)."""
        return _kernel_row(self.tau_pre, self.tau_pre, self.tau_post, self.tau_post, self.a_pre, 0.0,
                           self.a_post, 0.0, self.w_min, self.w_max, self.rule, self.mode)


@dataclass(frozen=True)
class TripletSTDP:
    """Triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006).

    Parameters
    ----------
    tau_plus, tau_x : float
        Time constants of the fast (``r1``) and slow (``r2``) pre traces, s.
    tau_minus, tau_y : float
        Time constants of the fast (``o1``) and slow (``o2``) post traces, s.
    a2_plus, a3_plus : float
        Pair and triplet potentiation amplitudes (>= 0).
    a2_minus, a3_minus : float
        Pair and triplet depression amplitudes (>= 0; applied with a minus sign).
    w_min, w_max : float
        Hard bounds of the weights.
    rule : {"additive", "multiplicative"}
        As for :class:`STDP`.
    mode : {"all", "nearest"}
        ``"all"``: all-to-all interactions (traces jump by 1);
        ``"nearest"``: the minimal nearest-spike variant (traces reset to 1).

    Notes
    -----
    The defaults are the paper's all-to-all fit to the visual-cortex data
    (Sjöström, Turrigiano & Nelson 2001; Pfister & Gerstner 2006, Table 4):
    ``tau_plus`` 16.8 ms, ``tau_minus`` 33.7 ms, ``tau_x`` 101 ms, ``tau_y``
    125 ms, ``A2+`` 5e-10, ``A3+`` 6.2e-3, ``A2-`` 7e-3, ``A3-`` 2.3e-4
    (weight changes relative to a weight of 1).
    """

    tau_plus: float = 0.0168
    tau_minus: float = 0.0337
    tau_x: float = 0.101
    tau_y: float = 0.125
    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = 7e-3
    a3_minus: float = 2.3e-4
    w_min: float = 0.0
    w_max: float = 1.0
    rule: str = "additive"
    mode: str = "all"

    def __post_init__(self):
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            positive_float(name, getattr(self, name))
        for name in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            positive_float(name, getattr(self, name), allow_zero=True)
        _check_bounds(self.w_min, self.w_max)
        choice("rule", self.rule, _RULES)
        choice("mode", self.mode, _MODES)

    def kernel_params(self):
        """Parameters in the kernel's common form (see :func:`_kernel_row`)."""
        return _kernel_row(self.tau_plus, self.tau_x, self.tau_minus, self.tau_y, self.a2_plus, self.a3_plus,
                           -self.a2_minus, -self.a3_minus, self.w_min, self.w_max, self.rule, self.mode)


def _kernel_row(tau_r1, tau_r2, tau_o1, tau_o2, cp2, cp3, cm2, cm3, w_min, w_max, rule, mode):
    """One row of the kernel's parameter table (see ``spikenet.sim.kernels.plasticity``).

    Both rules share one form: at a post spike ``dw = r1 (cp2 + cp3 o2)``, at a
    pre arrival ``dw = o1 (cm2 + cm3 r2)``, with traces that jump by 1 (or are
    reset to 1 with ``mode="nearest"``).
    """
    return [tau_r1, tau_r2, tau_o1, tau_o2, cp2, cp3, cm2, cm3, w_min, w_max,
            1.0 if rule == "multiplicative" else 0.0, 1.0 if mode == "nearest" else 0.0]


PLASTICITY_RULES = (STDP, TripletSTDP)
