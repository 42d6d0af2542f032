r"""LIF tuning curves as activation functions, and spiking neurons measured as rate models.

This module is the spiking -> rate half of the bridge:

- :func:`lif_rate` is the closed-form steady-state rate of the normalised LIF
  neuron (course notes 1.4) for numpy or torch inputs;
- :class:`LIFRate` and :class:`SoftLIFRate` wrap it as ``torch.nn.Module``
  activations, the latter smoothed at the firing threshold so that it can be
  trained by gradient descent (Hunsberger & Eliasmith 2015);
- :func:`tuning_curve` measures the rate of any :mod:`spikenet.sim` neuron by
  simulation, and :func:`fit_lif_rate` fits an LIF rate model to such a curve.
"""

from __future__ import annotations

import math

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


def soft_lif_rate(J: torch.Tensor, tau_ref=0.002, tau_m=0.02, sigma=0.02) -> torch.Tensor:
    r"""Smoothed LIF rate (Hunsberger & Eliasmith 2015), differentiable everywhere.

    Parameters
    ----------
    J : torch.Tensor
        Input drive (dimensionless), any shape.
    tau_ref, tau_m : float
        Refractory period and membrane time constant in seconds.
    sigma : float
        Smoothing width (> 0) in units of ``J``; the corner of the LIF curve at
        ``J = 1`` is rounded over roughly ``|J - 1| < 5 sigma``.

    Returns
    -------
    torch.Tensor
        Rate in Hz, shape of ``J``; strictly positive, with a finite,
        non-negative gradient for every finite input.

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
