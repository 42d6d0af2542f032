r"""Activation functions for numpy arrays and torch tensors.

Every function takes a numpy array (or anything ``np.asarray`` accepts) or a
``torch.Tensor`` and returns the same kind:

- numpy in, numpy out: ``float64`` arrays of the input's shape (a Python
  ``float`` for a scalar input);
- torch in, torch out: a tensor of the input's dtype and shape, built from
  differentiable torch operations, so autograd works through it. Piecewise
  constant functions (``threshold``, ``one_hot``) have zero gradient.

Inputs containing NaN or inf raise ``ValueError`` rather than propagating.
Multi-neuron functions (``softmax``, ``one_hot``) act along ``axis``
(default the last axis, i.e. across the neurons of each sample).
"""

from __future__ import annotations

import numbers

import numpy as np

from spikenet._validation import finite_array, finite_float

__all__ = [
    "arctan",
    "leaky_relu",
    "logistic",
    "one_hot",
    "relu",
    "softmax",
    "tanh",
    "threshold",
]


def _torch():
    import torch

    return torch


def _is_tensor(x) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _check_tensor(name, z):
    torch = _torch()
    if not torch.is_floating_point(z):
        z = z.to(torch.get_default_dtype())
    if z.numel() and not bool(torch.isfinite(z.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return z


def _prepare(name, z):
    """Return (is_torch, is_scalar, checked z)."""
    if _is_tensor(z):
        return True, False, _check_tensor(name, z)
    scalar = isinstance(z, numbers.Real) and not isinstance(z, bool)
    return False, scalar, finite_array(name, z)


def _out(scalar, arr):
    return float(arr) if scalar else arr


def _axis(axis, ndim):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__}")
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an input with {ndim} dimension(s)")
    return int(axis)


def logistic(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.

    Returns
    -------
    ndarray, float or torch.Tensor
        Activities in (0, 1), same shape as ``z``.

    Notes
    -----
    Evaluated without overflow for large ``|z|`` (numpy via
    ``exp(-|z|)``, torch via ``torch.sigmoid``); derivative
    :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4`.

    Examples
    --------
    >>> logistic(0.0)
    0.5
    """
    is_t, scalar, z = _prepare("z", z)
    if is_t:
        return _torch().sigmoid(z)
    e = np.exp(-np.abs(z))
    return _out(scalar, np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def arctan(z):
    r"""Arctangent activation :math:`\sigma(z) = \arctan(z)`, range (-pi/2, pi/2).

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.

    Returns
    -------
    ndarray, float or torch.Tensor
        Same shape as ``z``.

    Examples
    --------
    >>> round(arctan(1.0), 6)
    0.785398
    """
    is_t, scalar, z = _prepare("z", z)
    return _torch().atan(z) if is_t else _out(scalar, np.arctan(z))


def tanh(z):
    r"""Hyperbolic tangent :math:`\sigma(z) = \tanh(z)`, range (-1, 1).

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.

    Returns
    -------
    ndarray, float or torch.Tensor
        Same shape as ``z``.

    Examples
    --------
    >>> tanh(0.0)
    0.0
    """
    is_t, scalar, z = _prepare("z", z)
    return _torch().tanh(z) if is_t else _out(scalar, np.tanh(z))


def threshold(z):
    r"""Heaviside step: 1 where ``z >= 0``, else 0.

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.

    Returns
    -------
    ndarray, float or torch.Tensor
        0/1 values of ``z``'s shape. For tensors the result is connected to
        the graph with zero gradient (the step is flat almost everywhere).

    Examples
    --------
    >>> threshold([-1.0, 0.0, 2.0]).tolist()
    [0.0, 1.0, 1.0]
    """
    is_t, scalar, z = _prepare("z", z)
    if is_t:
        return (z >= 0).to(z.dtype) + 0.0 * z
    return _out(scalar, (z >= 0).astype(np.float64))


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`.

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.

    Returns
    -------
    ndarray, float or torch.Tensor
        Same shape as ``z``; the torch gradient is 1 for ``z > 0`` and 0 otherwise.

    Examples
    --------
    >>> relu([-2.0, 3.0]).tolist()
    [0.0, 3.0]
    """
    is_t, scalar, z = _prepare("z", z)
    return _torch().relu(z) if is_t else _out(scalar, np.maximum(z, 0.0))


def leaky_relu(z, slope=0.01):
    r"""Leaky ReLU: ``z`` for ``z >= 0``, ``slope * z`` below.

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents, any shape.
    slope : float, optional
        Slope for negative inputs (finite).

    Returns
    -------
    ndarray, float or torch.Tensor
        Same shape as ``z``.

    Examples
    --------
    >>> leaky_relu([-2.0, 3.0], slope=0.1).tolist()
    [-0.2, 3.0]
    """
    slope = finite_float("slope", slope)
    is_t, scalar, z = _prepare("z", z)
    if is_t:
        return _torch().where(z >= 0, z, slope * z)
    return _out(scalar, np.where(z >= 0, z, slope * z))


def softmax(z, axis=-1):
    r"""SoftMax along ``axis``: :math:`y_i = e^{z_i} / \sum_j e^{z_j}`.

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents; at least one dimension.
    axis : int, optional
        Axis holding the neurons (default: last).

    Returns
    -------
    ndarray or torch.Tensor
        Same shape as ``z``; entries in [0, 1] summing to 1 along ``axis``.

    Notes
    -----
    The maximum along ``axis`` is subtracted before exponentiating, which
    leaves the result unchanged and avoids overflow (inputs of 1e4 are fine).

    Examples
    --------
    >>> softmax([0.6, 3.4, -1.2, 0.05]).round(3).tolist()
    [0.055, 0.904, 0.009, 0.032]
    """
    is_t, _, z = _prepare("z", z)
    axis = _axis(axis, z.dim() if is_t else z.ndim)
    if is_t:
        return _torch().softmax(z, dim=axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(z, axis=-1):
    r"""One-hot of the largest entry along ``axis`` (the limit of softmax).

    Parameters
    ----------
    z : array_like or torch.Tensor
        Input currents; at least one dimension.
    axis : int, optional
        Axis holding the neurons (default: last).

    Returns
    -------
    ndarray or torch.Tensor
        Same shape as ``z``: 1 at the (first) maximum along ``axis``, 0
        elsewhere. Tensors carry a zero gradient.

    Examples
    --------
    >>> one_hot([0.6, 3.4, -1.2, 0.05]).tolist()
    [0.0, 1.0, 0.0, 0.0]
    """
    is_t, _, z = _prepare("z", z)
    axis = _axis(axis, z.dim() if is_t else z.ndim)
    if is_t:
        torch = _torch()
        idx = z.argmax(dim=axis, keepdim=True)
        out = torch.zeros_like(z).scatter(axis, idx, 1.0)
        return out + 0.0 * z
    idx = np.expand_dims(np.argmax(z, axis=axis), axis)
    out = np.zeros_like(z)
    np.put_along_axis(out, idx, 1.0, axis=axis)
    return out
