"""Neuron types: frozen dataclasses holding parameters, validation and closed forms.

State never lives here: the kernels in :mod:`spikenet.sim.kernels` receive the
parameters as plain floats and update state arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikenet._validation import finite_float, positive_float


@dataclass(frozen=True)
class LIF:
    r"""Normalised leaky integrate-and-fire neuron.

    Parameters
    ----------
    tau_m : float
        Membrane time constant in seconds (> 0).
    tau_ref : float
        Absolute refractory period in seconds (>= 0).
    v_th : float
        Firing threshold (dimensionless).
    v_reset : float
        Reset voltage (dimensionless), must be below ``v_th``.

    Notes
    -----
    Below threshold the voltage obeys

    .. math:: \tau_m \frac{dv}{dt} = J - v,

    with ``J`` the dimensionless input drive. When ``v`` reaches ``v_th`` the
    neuron spikes, ``v`` is reset to ``v_reset`` and held there for
    ``tau_ref``. For constant ``J > v_th`` the steady-state rate is

    .. math:: G(J) = \frac{1}{\tau_{ref} + \tau_m \ln\frac{J - v_{reset}}{J - v_{th}}}.

    Examples
    --------
    >>> from spikenet.sim import LIF
    >>> round(float(LIF().rate(2.0)), 3)
    63.04
    """

    tau_m: float = 0.02
    tau_ref: float = 0.002
    v_th: float = 1.0
    v_reset: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "tau_m", positive_float("tau_m", self.tau_m))
        object.__setattr__(self, "tau_ref", positive_float("tau_ref", self.tau_ref, allow_zero=True))
        object.__setattr__(self, "v_th", finite_float("v_th", self.v_th))
        object.__setattr__(self, "v_reset", finite_float("v_reset", self.v_reset))
        if not self.v_reset < self.v_th:
            raise ValueError(f"v_reset ({self.v_reset}) must be below v_th ({self.v_th})")

    def rate(self, J):
        """Analytic steady-state firing rate in Hz for constant drive ``J``.

        Parameters
        ----------
        J : float or array_like
            Constant input drive (dimensionless), any shape.

        Returns
        -------
        numpy.ndarray or float
            Rate in Hz, same shape as ``J``; 0 where ``J <= v_th``.
        """
        J = np.asarray(J, dtype=np.float64)
        above = self.v_th < J
        Js = np.where(above, J, self.v_th + 1.0)
        isi = self.tau_ref + self.tau_m * np.log((Js - self.v_reset) / (Js - self.v_th))
        out = np.where(above, 1.0 / isi, 0.0)
        return out if out.ndim else float(out)


@dataclass(frozen=True)
class HH:
    r"""Hodgkin-Huxley (1952) squid-axon neuron in the modern sign convention.

    Parameters
    ----------
    c_m : float
        Membrane capacitance in uF/cm^2.
    g_na, g_k, g_l : float
        Maximal sodium, potassium and leak conductances in mS/cm^2.
    e_na, e_k, e_l : float
        Reversal potentials in mV.
    v_init : float
        Initial membrane potential in mV; the gates start at their steady
        state for this voltage.
    v_spike : float
        A spike is an upward crossing of this voltage (mV).

    Notes
    -----
    .. math::

        C_m \frac{dV}{dt} = J - g_{Na} m^3 h (V - E_{Na}) - g_K n^4 (V - E_K)
                            - g_L (V - E_L),\qquad
        \frac{dx}{dt} = \alpha_x(V)(1 - x) - \beta_x(V) x,\ x \in \{m, h, n\}

    with ``J`` in uA/cm^2 and the rate functions (1/ms, V in mV)
    ``alpha_m = 0.1 (V+40) / (1 - exp(-(V+40)/10))``, ``beta_m = 4 exp(-(V+65)/18)``,
    ``alpha_h = 0.07 exp(-(V+65)/20)``, ``beta_h = 1 / (1 + exp(-(V+35)/10))``,
    ``alpha_n = 0.01 (V+55) / (1 - exp(-(V+55)/10))``, ``beta_n = 0.125 exp(-(V+65)/80)``.

    References
    ----------
    Hodgkin, A. L. & Huxley, A. F. (1952). A quantitative description of
    membrane current and its application to conduction and excitation in
    nerve. J. Physiol. 117, 500-544.
    """

    c_m: float = 1.0
    g_na: float = 120.0
    g_k: float = 36.0
    g_l: float = 0.3
    e_na: float = 50.0
    e_k: float = -77.0
    e_l: float = -54.387
    v_init: float = -65.0
    v_spike: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "c_m", positive_float("c_m", self.c_m))
        for name in ("g_na", "g_k", "g_l"):
            object.__setattr__(self, name, positive_float(name, getattr(self, name), allow_zero=True))
        for name in ("e_na", "e_k", "e_l", "v_init", "v_spike"):
            object.__setattr__(self, name, finite_float(name, getattr(self, name)))

    # -- closed forms in numpy (the kernels have their own Numba versions) --
    @staticmethod
    def rate_functions(v):
        """Opening and closing rates of the gates at voltage ``v``.

        Parameters
        ----------
        v : float or array_like
            Membrane potential in mV, any shape.

        Returns
        -------
        dict of str -> ndarray
            ``alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n`` in 1/ms,
            each the shape of ``v``. The removable singularities of
            ``alpha_m`` (V = -40 mV) and ``alpha_n`` (V = -55 mV) take their
            limits (1.0 and 0.1).
        """
        v = np.asarray(v, dtype=np.float64)

        def x_over_expm1(x):
            small = np.abs(x) < 1e-6
            xs = np.where(small, 1.0, x)
            return np.where(small, 1.0 + x / 2, xs / -np.expm1(-xs))

        return {
            "alpha_m": x_over_expm1((v + 40.0) / 10.0),
            "beta_m": 4.0 * np.exp(-(v + 65.0) / 18.0),
            "alpha_h": 0.07 * np.exp(-(v + 65.0) / 20.0),
            "beta_h": 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0)),
            "alpha_n": 0.1 * x_over_expm1((v + 55.0) / 10.0),
            "beta_n": 0.125 * np.exp(-(v + 65.0) / 80.0),
        }

    @classmethod
    def steady_state(cls, v):
        """Steady-state gate values ``x_inf = alpha_x / (alpha_x + beta_x)``.

        Parameters
        ----------
        v : float or array_like
            Membrane potential in mV.

        Returns
        -------
        tuple of ndarray
            ``(m_inf, h_inf, n_inf)``, each the shape of ``v``.
        """
        r = cls.rate_functions(v)
        return tuple(r[f"alpha_{x}"] / (r[f"alpha_{x}"] + r[f"beta_{x}"]) for x in "mhn")
