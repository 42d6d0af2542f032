r"""LIF tuning curves as activation functions, and spiking neurons measured as rate models.

This module is the spiking -> rate half of the bridge:

- :func:`lif_rate` is the closed-form steady-state rate of the normalised LIF
  neuron for numpy or torch inputs;
- :class:`LIFRate` and :class:`SoftLIFRate` wrap it as ``torch.nn.Module``
  activations, the latter smoothed at the firing threshold so that it can be
  trained by gradient descent (Hunsberger & Eliasmith 2015);
- :func:`tuning_curve` measures the rate of any :mod:`spikenet.sim` neuron by
  simulation, and :func:`fit_lif_rate` fits an LIF rate model to such a curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from spikenet._validation import finite_array, positive_float


def _check_taus(tau_ref, tau_m) -> tuple[float, float]:
    return (
        positive_float("tau_ref", tau_ref, allow_zero=True),
        positive_float("tau_m", tau_m),
    )


def _check_tensor(name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def lif_rate(J, tau_ref=0.002, tau_m=0.02):
    r"""Analytic steady-state firing rate of the normalised LIF neuron.

    Parameters
    ----------
    J : float, array_like or torch.Tensor
        Constant input drive (dimensionless; threshold 1, reset 0), any shape.
    tau_ref : float
        Refractory period in seconds (>= 0).
    tau_m : float
        Membrane time constant in seconds (> 0).

    Returns
    -------
    numpy.ndarray, float or torch.Tensor
        Rate in Hz with the shape of ``J``: a tensor (same dtype, differentiable)
        for a tensor input, otherwise a float64 array (a float for a scalar).

    Raises
    ------
    ValueError
        If ``J`` contains NaN or inf, or a time constant is out of range.

    Notes
    -----
    .. math::

        G(J) = \begin{cases}
            \dfrac{1}{\tau_{ref} - \tau_m \ln(1 - 1/J)} & J > 1 \\
            0 & J \le 1
        \end{cases}

    evaluated as ``1 / (tau_ref + tau_m * log1p(1 / (J - 1)))``, which is
    accurate both just above threshold and for huge ``J`` (where ``G`` tends to
    ``1 / tau_ref``). Below threshold the formula is evaluated at a harmless
    placeholder and masked, so neither the value nor its autograd gradient is
    ever NaN or inf; the gradient is 0 for ``J <= 1`` and
    ``tau_m G^2 / (J (J - 1))`` above.

    Examples
    --------
    >>> from spikenet.rate import lif_rate
    >>> round(float(lif_rate(2.0)), 2)
    63.04
    """
    tau_ref, tau_m = _check_taus(tau_ref, tau_m)
    if isinstance(J, torch.Tensor):
        J = _check_tensor("J", J)
        above = J > 1
        safe = torch.where(above, J, torch.full_like(J, 2.0))
        G = 1.0 / (tau_ref + tau_m * torch.log1p(1.0 / (safe - 1.0)))
        return torch.where(above, G, torch.zeros_like(G))
    arr = finite_array("J", J)
    above = arr > 1
    safe = np.where(above, arr, 2.0)
    with np.errstate(over="ignore", under="ignore"):
        G = 1.0 / (tau_ref + tau_m * np.log1p(1.0 / (safe - 1.0)))
    out = np.where(above, G, 0.0)
    return out if out.ndim else float(out)


def soft_lif_rate(J, tau_ref=0.002, tau_m=0.02, sigma=0.02):
    r"""Smoothed LIF rate (Hunsberger & Eliasmith 2015), differentiable everywhere.

    Parameters
    ----------
    J : float, array_like or torch.Tensor
        Input drive (dimensionless), any shape.
    tau_ref, tau_m : float
        Refractory period and membrane time constant in seconds.
    sigma : float
        Smoothing width (> 0) in units of ``J``; the corner of the LIF curve at
        ``J = 1`` is rounded over roughly ``|J - 1| < 5 sigma``.

    Returns
    -------
    torch.Tensor, numpy.ndarray or float
        Rate in Hz, shape of ``J``; strictly positive, with a finite,
        non-negative gradient for every finite input. A tensor (same dtype,
        differentiable) for a tensor ``J``, otherwise a float64 array (a
        float for a scalar), as for :func:`lif_rate`.

    Notes
    -----
    The hard rectification ``j = max(J - 1, 0)`` inside
    ``G = 1 / (tau_ref + tau_m log(1 + 1/j))`` is replaced by the softplus
    ``rho = sigma log(1 + exp((J - 1) / sigma))``. For ``(J - 1)/sigma < -20``,
    ``rho`` is below ``sigma * 2e-9`` and ``log(1 + 1/rho)`` is replaced by its
    asymptote ``-(J - 1)/sigma - log(sigma)`` (relative error < 1e-8), which
    keeps the value and gradient finite however negative ``J`` is.
    """
    tau_ref, tau_m = _check_taus(tau_ref, tau_m)
    sigma = positive_float("sigma", sigma)
    if not isinstance(J, torch.Tensor):
        out = soft_lif_rate(torch.tensor(finite_array("J", J)), tau_ref, tau_m, sigma).numpy()
        return out if out.ndim else float(out)
    J = _check_tensor("J", J)
    x = (J - 1.0) / sigma
    valid = x > -20.0
    x_safe = torch.where(valid, x, torch.zeros_like(x))
    rho = sigma * torch.logaddexp(x_safe, torch.zeros_like(x_safe))  # exact softplus
    q = torch.where(valid, torch.log1p(1.0 / rho), -x - math.log(sigma))
    return 1.0 / (tau_ref + tau_m * q)


class LIFRate(torch.nn.Module):
    r"""LIF tuning curve as a PyTorch activation: ``amplitude * lif_rate(x)``.

    Parameters
    ----------
    tau_ref : float
        Refractory period in seconds (>= 0).
    tau_m : float
        Membrane time constant in seconds (> 0).
    amplitude : float
        Output scale (> 0). Rates of a few hundred Hz times ``amplitude``
        (e.g. 0.01) give activations of order one; :func:`to_spiking` turns it
        into the weight scale of the spikes sent onward.

    Notes
    -----
    Input ``x`` of any shape (dimensionless drive), output the same shape in
    units of ``amplitude * Hz``. See :func:`lif_rate`.

    Examples
    --------
    >>> import torch
    >>> from spikenet.rate import LIFRate
    >>> act = LIFRate(amplitude=0.01)
    >>> round(float(act(torch.tensor(2.0))), 4)
    0.6304
    """

    def __init__(self, tau_ref=0.002, tau_m=0.02, amplitude=1.0):
        super().__init__()
        self.tau_ref, self.tau_m = _check_taus(tau_ref, tau_m)
        self.amplitude = positive_float("amplitude", amplitude)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``amplitude * lif_rate(x)``, same shape as ``x``."""
        return self.amplitude * lif_rate(x, self.tau_ref, self.tau_m)

    def extra_repr(self) -> str:
        return f"tau_ref={self.tau_ref}, tau_m={self.tau_m}, amplitude={self.amplitude}"


class SoftLIFRate(torch.nn.Module):
    r"""Smoothed LIF tuning curve for training (Hunsberger & Eliasmith 2015).

    Parameters
    ----------
    tau_ref : float
        Refractory period in seconds (>= 0).
    tau_m : float
        Membrane time constant in seconds (> 0).
    sigma : float
        Smoothing width (> 0, dimensionless like the drive). As ``sigma -> 0``
        the module tends to :class:`LIFRate` away from the corner at ``x = 1``.
    amplitude : float
        Output scale (> 0), as for :class:`LIFRate`.

    Notes
    -----
    ``amplitude / (tau_ref + tau_m log(1 + 1/rho(x)))`` with the softplus
    ``rho(x) = sigma log(1 + exp((x - 1)/sigma))`` standing in for
    ``max(x - 1, 0)``; see :func:`soft_lif_rate`. The gradient is finite and
    non-negative for every finite input, so no unit ever stops learning
    entirely, unlike with the hard LIF curve below threshold.

    References
    ----------
    Hunsberger, E. & Eliasmith, C. (2015). Spiking deep networks with LIF
    neurons. arXiv:1510.08829.

    Examples
    --------
    >>> import torch
    >>> from spikenet.rate import SoftLIFRate
    >>> act = SoftLIFRate(sigma=1e-3)
    >>> round(float(act(torch.tensor(2.0, dtype=torch.float64))), 2)
    63.04
    """

    def __init__(self, tau_ref=0.002, tau_m=0.02, sigma=0.02, amplitude=1.0):
        super().__init__()
        self.tau_ref, self.tau_m = _check_taus(tau_ref, tau_m)
        self.sigma = positive_float("sigma", sigma)
        self.amplitude = positive_float("amplitude", amplitude)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the smoothed rate times ``amplitude``, same shape as ``x``."""
        return self.amplitude * soft_lif_rate(x, self.tau_ref, self.tau_m, self.sigma)

    def extra_repr(self) -> str:
        return f"tau_ref={self.tau_ref}, tau_m={self.tau_m}, sigma={self.sigma}, amplitude={self.amplitude}"


# ---------------------------------------------------------------- spiking -> rate


def tuning_curve(neuron, J, T=1.0, dt=1e-4, *, transient=None):
    r"""Measure steady-state firing rates of a spiking neuron by simulation.

    One neuron per entry of ``J`` is simulated with constant input, all of
    them in a single :func:`spikenet.sim.simulate` call.

    Parameters
    ----------
    neuron : spikenet.sim.LIF or spikenet.sim.HH
        The neuron model (its parameters; it starts from its default initial
        state: ``v_reset`` for LIF, rest for HH).
    J : array_like
        Constant input drives, shape (n,) (or a scalar): dimensionless for
        LIF, uA/cm^2 for HH.
    T : float
        Simulated time in seconds (> 0), a whole number of steps of ``dt``.
    dt : float
        Time step in seconds (> 0). The default suits LIF (rates within 0.5%
        of :func:`lif_rate`); use ``dt=1e-5`` for HH, whose integration warns
        above 0.05 ms.
    transient : float, optional
        Initial time in seconds whose spikes are ignored. Default
        ``min(0.2 T, 0.1)``; see Notes.

    Returns
    -------
    numpy.ndarray
        Steady-state rates in Hz, shape (n,) (a float for a scalar ``J``).

    Notes
    -----
    The rate is estimated from the spikes after ``transient``: with ``k >= 2``
    of them at ``t_1 < ... < t_k`` it is ``(k - 1) / (t_k - t_1)``, the inverse
    of the mean inter-spike interval, which (unlike ``k / T``) has no
    +-1-spike edge error; with fewer it is ``k / (T - transient)`` (0 when the
    neuron has fallen silent).

    The transient is discarded because the first spikes after switching on
    the input are not steady state: an LIF neuron starting from ``v_reset``
    reaches its first spike without a refractory period (one interval shorter
    by ``tau_ref``), and an HH neuron fires an onset spike even for inputs
    below the repetitive-firing threshold (about 6.2 uA/cm^2) and its first
    inter-spike intervals differ from the limit cycle for a few periods
    (tens of ms). 100 ms (or a fifth of a short run) covers both.

    Examples
    --------
    >>> from spikenet.sim import LIF
    >>> from spikenet.rate import tuning_curve, lif_rate
    >>> [round(float(r), 2) for r in tuning_curve(LIF(), [0.5, 2.0], T=0.5)]
    [0.0, 63.04]
    """
    from spikenet.sim import simulate

    T = positive_float("T", T)
    dt = positive_float("dt", dt)
    Jarr = finite_array("J", J, ndim=(0, 1))
    scalar = Jarr.ndim == 0
    Jarr = np.atleast_1d(Jarr)
    if Jarr.size == 0:
        raise ValueError("J must contain at least one input value")
    transient = (
        min(0.2 * T, 0.1) if transient is None else positive_float("transient", transient, allow_zero=True)
    )
    if transient >= T:
        raise ValueError(f"transient ({transient} s) must be shorter than T ({T} s)")
    result = simulate(neuron, Jarr, T, dt=dt)
    rates = np.empty(Jarr.size)
    for i, times in enumerate(result.spike_times):
        times = np.asarray(times)
        late = times[times >= transient]
        if late.size >= 2:
            rates[i] = (late.size - 1) / (late[-1] - late[0])
        else:
            rates[i] = late.size / (T - transient)
    return float(rates[0]) if scalar else rates


@dataclass(frozen=True)
class LIFRateFit:
    r"""An LIF rate model fitted to a measured tuning curve by :func:`fit_lif_rate`.

    The model is ``rate(J) = lif_rate(gain * J + bias, tau_ref, tau_m)``.

    Attributes
    ----------
    gain : float
        Input gain (units of 1 / [J]).
    bias : float
        Bias drive (dimensionless); the threshold input is ``(1 - bias) / gain``.
    tau_ref, tau_m : float
        Refractory period and membrane time constant in seconds.
    rmse : float
        Root-mean-square fit error in Hz over the data points.
    max_error : float
        Largest absolute fit error in Hz.
    rel_rmse : float
        ``rmse`` divided by the largest measured rate.
    """

    gain: float
    bias: float
    tau_ref: float
    tau_m: float
    rmse: float
    max_error: float
    rel_rmse: float

    @property
    def threshold(self) -> float:
        """Input at which the fitted model starts firing, in units of ``J``."""
        return (1.0 - self.bias) / self.gain

    def rate(self, J):
        """Fitted rate in Hz for input ``J`` (numpy array_like or torch tensor, any shape)."""
        if isinstance(J, torch.Tensor):
            return lif_rate(self.gain * J + self.bias, self.tau_ref, self.tau_m)
        return lif_rate(self.gain * finite_array("J", J) + self.bias, self.tau_ref, self.tau_m)


def fit_lif_rate(J, rates) -> LIFRateFit:
    r"""Fit an LIF rate model (gain, bias, tau_ref, tau_m) to any measured tuning curve.

    Parameters
    ----------
    J : array_like
        Input values, shape (n,), in any unit (e.g. uA/cm^2 for HH).
    rates : array_like
        Measured rates in Hz, shape (n,), non-negative, at least one > 0.

    Returns
    -------
    LIFRateFit
        The fitted parameters and the fit error (``rmse``, ``max_error`` in Hz,
        ``rel_rmse``); ``.rate(J)`` evaluates the fitted curve.

    Notes
    -----
    Minimises the squared rate error ``sum_i (lif_rate(gain J_i + bias,
    tau_ref, tau_m) - r_i)^2`` with :func:`scipy.optimize.least_squares`
    (trust-region reflective, analytic Jacobian, ``gain > 0``,
    ``tau_ref >= 0``, ``tau_m > 0``). Starting points: the threshold between
    the last silent and the first firing input, ``tau_ref`` from the highest
    rate, and a few membrane time constants and curvatures; the best local
    optimum is kept. The parameters are unique only up to the data's
    information: a curve measured far above threshold constrains ``tau_m``
    and ``gain`` only through their ratio.

    Examples
    --------
    >>> import numpy as np
    >>> from spikenet.rate import fit_lif_rate, lif_rate
    >>> J = np.linspace(0, 5, 60)
    >>> fit = fit_lif_rate(J, lif_rate(2.0 * J - 0.5, tau_ref=0.003, tau_m=0.03))
    >>> round(fit.gain, 3), round(fit.bias, 3), round(fit.tau_ref, 4), round(fit.tau_m, 4)
    (2.0, -0.5, 0.003, 0.03)
    """
    from scipy.optimize import least_squares

    J = finite_array("J", J, ndim=1)
    r = finite_array("rates", rates, ndim=1)
    if r.shape != J.shape:
        raise ValueError(f"rates must have the shape of J {J.shape}, got {r.shape}")
    if np.any(r < 0):
        raise ValueError("rates must be non-negative")
    if not np.any(r > 0):
        raise ValueError("rates must contain at least one positive rate to fit")
    if np.unique(J[r > 0]).size < 2:
        raise ValueError("need at least two distinct inputs with rates > 0 to fit a curve")

    scale = float(np.max(r))

    def model(p):
        gain, bias, tau_ref, tau_m = p
        x = gain * J + bias
        above = x > 1
        u = np.where(above, x - 1.0, 1.0)
        L = np.log1p(1.0 / u)
        G = np.where(above, 1.0 / (tau_ref + tau_m * L), 0.0)
        return x, above, u, L, G

    def residuals(p):
        return (model(p)[4] - r) / scale

    def jacobian(p):
        tau_m = p[3]
        _, above, u, L, G = model(p)
        dGdx = np.where(above, tau_m * G**2 / (u * (u + 1.0)), 0.0)
        return np.column_stack([dGdx * J, dGdx, -(G**2), -(G**2) * L]) / scale

    # Starting points.
    order = np.argsort(J)
    Js, rs = J[order], r[order]
    first = int(np.argmax(rs > 0))
    j_on = Js[first] if first == 0 else 0.5 * (Js[first - 1] + Js[first])
    span = max(float(Js[-1] - j_on), float(np.ptp(Js)) * 1e-3, 1e-12)
    tau_ref0 = 0.5 / scale
    best = None
    for tau_m0 in (0.5 / scale, 2.0 / scale, 10.0 / scale):
        for reach in (1.0, 5.0, 50.0):
            # gain such that the top of the data is `reach` thresholds above onset
            gain0 = reach / span
            p0 = np.array([gain0, 1.0 - gain0 * j_on, tau_ref0, tau_m0])
            sol = least_squares(
                residuals,
                p0,
                jac=jacobian,
                bounds=([1e-12, -np.inf, 0.0, 1e-12], [np.inf, np.inf, np.inf, np.inf]),
                x_scale="jac",
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                max_nfev=2000,
            )
            if best is None or sol.cost < best.cost:
                best = sol
    gain, bias, tau_ref, tau_m = (float(v) for v in best.x)
    err = model(best.x)[4] - r
    rmse = float(np.sqrt(np.mean(err**2)))
    return LIFRateFit(
        gain=gain,
        bias=bias,
        tau_ref=tau_ref,
        tau_m=tau_m,
        rmse=rmse,
        max_error=float(np.max(np.abs(err))),
        rel_rmse=rmse / scale,
    )
