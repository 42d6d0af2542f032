r"""Loss functions for numpy arrays and torch tensors.

Conventions shared by all losses:

- Samples run along the first axis. A loss is summed over each sample's
  outputs (all axes but the first) and averaged over the samples, as
  :math:`E = \frac{1}{N} \sum_i L(y_i, t_i)`. A 1-D ``y`` holds one
  scalar output per sample; a 0-d ``y`` is a single sample.
- numpy in, Python ``float`` out; torch in, 0-d tensor out (differentiable
  with respect to ``y``).
- Logarithms are taken of ``max(y, tiny)`` (``tiny`` the smallest normal
  number of the dtype), so outputs of exactly 0 or 1 give a large but finite
  loss and a finite gradient instead of inf/NaN.
- Mismatched shapes and NaN/inf entries raise ``ValueError`` naming the
  argument.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import finite_array
from spikenet.rate.activations import _check_tensor, _is_tensor

__all__ = ["bce", "categorical_ce", "mse"]


def _prep(y, t, *, t_int_ok=False):
    """Check y and t; return (is_torch, y, t)."""
    if _is_tensor(y):
        import torch

        y = _check_tensor("y", y)
        if not isinstance(t, torch.Tensor):
            t = torch.as_tensor(np.asarray(t))
        if t_int_ok and not torch.is_floating_point(t):
            if t.dtype == torch.bool:
                raise TypeError("t must hold class indices (integers) or float targets, got bool")
            return True, y, t.to(y.device)
        t = _check_tensor("t", t.to(device=y.device, dtype=y.dtype))
        return True, y, t
    y = finite_array("y", y)
    t_arr = np.asarray(t)
    if t_int_ok and np.issubdtype(t_arr.dtype, np.integer):
        return False, y, t_arr
    return False, y, finite_array("t", t)


def _same_shape(y, t):
    if tuple(y.shape) != tuple(t.shape):
        raise ValueError(f"y and t must have the same shape, got y {tuple(y.shape)} and t {tuple(t.shape)}")


def _sample_mean(per_element, is_t):
    """Sum over all axes but the first, mean over the first."""
    n = per_element.shape[0] if per_element.ndim else 1
    if n == 0:
        raise ValueError("y must contain at least one sample")
    return per_element.sum() / n if is_t else float(per_element.sum() / n)


def _safe_log(x, is_t):
    if is_t:
        import torch

        return torch.log(torch.clamp(x, min=torch.finfo(x.dtype).tiny))
    return np.log(np.maximum(x, np.finfo(np.float64).tiny))


def mse(y, t):
    r"""Mean squared error :math:`E = \frac{1}{N}\sum_i \frac{1}{2}\|y_i - t_i\|^2`.

    Parameters
    ----------
    y : array_like or torch.Tensor, shape (N, ...) or (N,)
        Network outputs.
    t : array_like or torch.Tensor, same shape as ``y``
        Targets.

    Returns
    -------
    float or torch.Tensor
        The loss (0-d tensor for tensor input).

    Notes
    -----
    Gradient: :math:`\partial E / \partial y_i = (y_i - t_i) / N`.

    Examples
    --------
    >>> mse([[1.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]])
    1.25
    """
    is_t, y, t = _prep(y, t)
    _same_shape(y, t)
    return _sample_mean(0.5 * (y - t) ** 2, is_t)


def _check_unit_interval(name, x, is_t):
    bad = bool(((x < 0) | (x > 1)).any())
    if bad:
        raise ValueError(f"{name} must lie in [0, 1] for cross entropy")


def bce(y, t):
    r"""Bernoulli cross entropy :math:`E = -\frac{1}{N}\sum_i \sum_k t \ln y + (1-t)\ln(1-y)`.

    Parameters
    ----------
    y : array_like or torch.Tensor, shape (N, ...) or (N,)
        Output probabilities in [0, 1] (e.g. logistic units).
    t : array_like or torch.Tensor, same shape as ``y``
        Targets in [0, 1] (usually 0 or 1).

    Returns
    -------
    float or torch.Tensor
        The loss, summed over each sample's outputs and averaged over samples.

    Notes
    -----
    Gradient: :math:`\partial E/\partial y = (y - t) / (N y (1 - y))`; with a
    logistic output unit the gradient with respect to its input current is
    :math:`(y - t)/N`. Outputs of exactly 0 or 1 are clipped inside the
    logarithm to the dtype's smallest normal number, so the loss stays finite
    (``-ln(tiny)`` is about 708 in float64 and 87 in float32).

    Examples
    --------
    >>> round(bce([0.301], [1.0]), 3)
    1.201
    """
    is_t, y, t = _prep(y, t)
    _same_shape(y, t)
    _check_unit_interval("y", y.detach() if is_t else y, is_t)
    _check_unit_interval("t", t, is_t)
    per = -(t * _safe_log(y, is_t) + (1 - t) * _safe_log(1 - y, is_t))
    return _sample_mean(per, is_t)


def categorical_ce(y, t, logits=False):
    r"""Categorical cross entropy :math:`E = -\frac{1}{N}\sum_i \sum_k t_{ik} \ln y_{ik}`.

    Parameters
    ----------
    y : array_like or torch.Tensor, shape (N, K)
        Class probabilities (rows summing to 1, e.g. softmax outputs), or
        unnormalised scores when ``logits=True``.
    t : array_like or torch.Tensor, shape (N, K) or (N,)
        One-hot (or any probability) targets of ``y``'s shape, or integer
        class indices in ``[0, K)``.
    logits : bool, optional
        Treat ``y`` as input currents of a softmax layer and apply a stable
        log-softmax (equivalent to ``torch.nn.CrossEntropyLoss``).

    Returns
    -------
    float or torch.Tensor
        The loss.

    Notes
    -----
    With softmax outputs the gradient with respect to the softmax input
    currents is :math:`(y - t)/N`.

    Examples
    --------
    >>> round(categorical_ce([[0.2, 0.1, 0.4, 0.3]], [2]), 4)
    0.9163
    """
    is_t, y, t = _prep(y, t, t_int_ok=True)
    if y.ndim != 2:
        raise ValueError(f"y must have shape (N, K), got shape {tuple(y.shape)}")
    n, k = y.shape
    t_is_int = (not t.dtype.is_floating_point) if is_t else np.issubdtype(t.dtype, np.integer)
    if t_is_int:
        if tuple(t.shape) != (n,):
            raise ValueError(
                f"t of class indices must have shape ({n},) to match y {tuple(y.shape)}, got {tuple(t.shape)}"
            )
        if n and (int(t.min()) < 0 or int(t.max()) >= k):
            raise ValueError(f"t must hold class indices in [0, {k}), got values outside")
        if is_t:
            import torch

            t = torch.nn.functional.one_hot(t.long(), k).to(y.dtype)
        else:
            t = np.eye(k)[t]
    else:
        _same_shape(y, t)
    if logits:
        if is_t:
            import torch

            logy = torch.log_softmax(y, dim=1)
        else:
            shifted = y - y.max(axis=1, keepdims=True)
            logy = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    else:
        _check_unit_interval("y", y.detach() if is_t else y, is_t)
        logy = _safe_log(y, is_t)
    return _sample_mean(-(t * logy), is_t)
