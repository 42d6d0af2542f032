r"""Short-term synaptic plasticity: the Tsodyks-Markram model of depression and facilitation.

Each synapse holds the fraction ``x`` of its resources that is available and
the utilisation ``u``, the fraction of them a spike releases. Between spikes
both relax exactly,

.. math::

    \frac{dx}{dt} = \frac{1 - x}{\tau_{rec}}, \qquad
    \frac{du}{dt} = \frac{U - u}{\tau_{facil}},

and at a spike ``u`` grows by ``U (1 - u)`` (facilitation) while the released
``u x`` is taken from ``x`` (depression). The spike delivers ``w u x``. With
``h`` the interval since the previous spike, the values used by spike
``n + 1`` are (Maass & Markram 2002, Eqs. 4-5)

.. math::

    x_{n+1} = 1 + (x_n - u_n x_n - 1)\, e^{-h/\tau_{rec}}, \qquad
    u_{n+1} = U + u_n (1 - U)\, e^{-h/\tau_{facil}},

starting from ``x_1 = 1``, ``u_1 = U``: the first spike delivers ``w U``. This
is the convention of NEST's ``tsodyks2_synapse``. With ``tau_facil = 0``
``u = U`` always (depression only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikenet._validation import positive_float

__all__ = ["TsodyksMarkram", "steady_state"]


@dataclass(frozen=True)
class TsodyksMarkram:
    r"""Tsodyks-Markram short-term plasticity of a connection (depression and facilitation).

    Pass it as ``plasticity=`` to :meth:`spikenet.sim.Network.connect`: every
    synapse of the connection then delivers ``w * u * x`` per spike instead of
    ``w``, with the resources ``x`` and utilisation ``u`` of the synapse
    updated exactly at each spike (see :mod:`spikenet.sim.stp`).

    Parameters
    ----------
    U : float
        Utilisation increment, in (0, 1]: the fraction of the resources the
        first spike (after a long silence) releases.
    tau_rec : float
        Recovery time constant of the resources, in seconds (> 0).
    tau_facil : float
        Facilitation time constant, in seconds (>= 0); 0 switches
        facilitation off (``u = U`` at every spike).

    Notes
    -----
    The times between spikes are those of the presynaptic spikes' time steps
    (the spike time rounded down to its step, as NEST does); the delay of a
    synapse shifts its whole train and so does not change them. Depressing
    cortical synapses: ``U = 0.5, tau_rec = 0.8 s, tau_facil = 0``
    (Tsodyks & Markram 1997); facilitating ones: ``U = 0.03,
    tau_rec = 0.13 s, tau_facil = 0.53 s`` (Markram et al. 1998).

    Examples
    --------
    >>> from spikenet.sim import LIF, Network, TsodyksMarkram
    >>> net = Network(dt=1e-4)
    >>> a = net.add_population(1, LIF(), bias=2.0)
    >>> b = net.add_population(1, LIF())
    >>> conn = net.connect(a, b, 0.05, plasticity=TsodyksMarkram(U=0.5, tau_rec=0.8))
    >>> res = net.run(0.1)
    """

    U: float = 0.5
    tau_rec: float = 0.8
    tau_facil: float = 0.0

    def __post_init__(self):
        U = positive_float("U", self.U)
        if U > 1.0:
            raise ValueError(f"U must be in (0, 1], got {U}")
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "tau_rec", positive_float("tau_rec", self.tau_rec))
        object.__setattr__(self, "tau_facil", positive_float("tau_facil", self.tau_facil, allow_zero=True))


def steady_state(stp: TsodyksMarkram, rate) -> tuple[float, float]:
    r"""Utilisation and resources at the spikes of a long regular train: the fixed point ``(u*, x*)``.

    For interval ``h = 1 / rate`` the recursion of :mod:`spikenet.sim.stp`
    has the fixed point

    .. math::

        u^* = \frac{U}{1 - (1 - U) e^{-h/\tau_{facil}}}, \qquad
        x^* = \frac{1 - e^{-h/\tau_{rec}}}{1 - (1 - u^*) e^{-h/\tau_{rec}}},

    and each spike then delivers ``w u* x*``.

    Parameters
    ----------
    stp : TsodyksMarkram
        The synapse's parameters.
    rate : float
        Presynaptic rate in Hz (> 0).

    Returns
    -------
    (float, float)
        ``u*`` and ``x*`` (dimensionless).
    """
    if not isinstance(stp, TsodyksMarkram):
        raise TypeError(f"stp must be a TsodyksMarkram, got {type(stp).__name__}")
    h = 1.0 / positive_float("rate", rate)
    f = math.exp(-h / stp.tau_facil) if stp.tau_facil > 0 else 0.0
    d = math.exp(-h / stp.tau_rec)
    u = stp.U / (1.0 - (1.0 - stp.U) * f)
    return u, -math.expm1(-h / stp.tau_rec) / (1.0 - (1.0 - u) * d)


def check_plasticity(plasticity):
    """A TypeError naming ``plasticity`` unless it is None or a supported rule."""
    if plasticity is not None and not isinstance(plasticity, TsodyksMarkram):
        raise TypeError(f"plasticity must be None or a TsodyksMarkram, got {type(plasticity).__name__}")


def build_stp(conns, lanes: int, dt: float):
    """The kernel argument ``stp`` of a network: an ``STPArgs``, or None when no connection has STP.

    Parameters
    ----------
    conns : list
        The network's connections (``_Connection``), in kernel order; those
        whose ``plasticity`` is a :class:`TsodyksMarkram` get state columns
        for their ``n_pre`` presynaptic neurons.
    lanes : int
        Lanes of the per-thread arrays (batch copies, or parts of one copy).
    dt : float
        Time step in seconds.
    """
    on = [isinstance(getattr(c, "plasticity", None), TsodyksMarkram) for c in conns]
    if not any(on):
        return None  # (and Numba is not imported: the compiled module may serve the network)
    from spikenet.sim.kernels.stp import STPArgs

    conn_off = np.full(len(conns), -1, dtype=np.int64)
    par = np.zeros((len(conns), 3))
    n = 0
    for ci, (c, has) in enumerate(zip(conns, on)):
        if not has:
            continue
        rule = c.plasticity
        conn_off[ci] = n
        n += c.n_pre
        par[ci] = (rule.U, dt / rule.tau_rec, dt / rule.tau_facil if rule.tau_facil > 0 else 0.0)
    size = max(n, 1)
    args = STPArgs(conn_off, par, np.ones((lanes, size)), np.zeros((lanes, size)),
                   np.full((lanes, size), -1, dtype=np.int64))
    reset_stp(args)
    return args


def reset_stp(args) -> None:
    """Put the STP state ``args`` (an ``STPArgs`` or None) back to before any spike: ``x = 1``, ``u = U``."""
    if args is None:
        return
    args.x[...] = 1.0
    args.last[...] = -1
    for ci, off in enumerate(args.conn_off):
        if off >= 0:
            nxt = args.conn_off[ci + 1:][args.conn_off[ci + 1:] >= 0]
            end = int(nxt[0]) if nxt.size else args.u.shape[1]
            args.u[:, off:end] = args.par[ci, 0]
