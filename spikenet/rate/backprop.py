r"""Gradients by hand: finite differences and error backpropagation.

:func:`numerical_gradient` estimates a gradient by central differences, the
reference every analytic gradient can be checked against.
:func:`mlp_forward` and :func:`mlp_backprop` implement a multilayer
perceptron and its gradients in plain numpy with the backprop
formulas (Rumelhart, Hinton & Williams 1986), so they can be compared with ``torch.autograd``.

Layout: as everywhere in spikenet (and in ``torch.nn.Linear``), layer ``l``
has weights ``W[l]`` of shape ``(n_out, n_in)`` and biases ``b[l]`` of shape
``(n_out,)``, and a batch of row vectors ``h`` (N, n_in) maps to input
currents ``z = h W^T + b``. Texts that write ``z = h W + b`` use ``W`` of
shape ``(n_in, n_out)``, the transpose.
"""

from __future__ import annotations

import numbers

import numpy as np

from spikenet._validation import choice, finite_array, positive_float
from spikenet.rate.activations import _is_tensor

__all__ = ["mlp_backprop", "mlp_forward", "numerical_gradient"]


def numerical_gradient(f, x, eps=1e-6):
    r"""Central finite-difference estimate of the gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` (or a 0-d array / tensor). Called ``2 * x.size`` times.
    x : float, array_like or torch.Tensor
        Point at which to differentiate, any shape. Not modified.
    eps : float, optional
        Perturbation :math:`\Delta\theta` (> 0).

    Returns
    -------
    float, ndarray or torch.Tensor
        :math:`\partial f/\partial x_i \approx (f(x + \epsilon e_i) - f(x - \epsilon e_i)) / 2\epsilon`
        with ``x``'s shape; a float for a scalar ``x``, a tensor (detached,
        same dtype) for a tensor ``x``, else a float64 array.

    Raises
    ------
    ValueError
        If ``x`` or a value of ``f`` is NaN/inf, or ``eps`` is not > 0.

    Notes
    -----
    The error is :math:`O(\epsilon^2)` for smooth ``f``; round-off grows like
    :math:`\text{ulp}(f)/\epsilon`, so ``eps`` around 1e-6 suits float64.

    Examples
    --------
    >>> round(numerical_gradient(lambda x: x**3, 2.0), 6)
    12.0
    """
    eps = positive_float("eps", eps)
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if _is_tensor(x):
        import torch

        x0 = x.detach().clone()
        if not torch.is_floating_point(x0):
            x0 = x0.to(torch.get_default_dtype())
        if not bool(torch.isfinite(x0).all()):
            raise ValueError("x contains NaN or inf")
        grad = torch.zeros_like(x0)
        flat, gflat = x0.view(-1), grad.view(-1)
        with torch.no_grad():
            for i in range(flat.numel()):
                old = flat[i].item()
                flat[i] = old + eps
                fp = _scalar(f(x0))
                flat[i] = old - eps
                fm = _scalar(f(x0))
                flat[i] = old
                gflat[i] = (fp - fm) / (2 * eps)
        return grad
    scalar = isinstance(x, numbers.Real) and not isinstance(x, bool)
    x0 = finite_array("x", x).copy()
    grad = np.zeros_like(x0)
    flat, gflat = x0.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = _scalar(f(float(x0) if scalar else x0))
        flat[i] = old - eps
        fm = _scalar(f(float(x0) if scalar else x0))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return float(grad) if scalar else grad


def _scalar(v):
    if _is_tensor(v):
        if v.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {tuple(v.shape)}")
        v = v.item()
    arr = np.asarray(v, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got shape {arr.shape}")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"f returned {value}")
    return value


# Activation functions and their derivatives written in terms of (z, h=sigma(z)).
_ACTIVATIONS = {
    "logistic": (lambda z: 0.5 * (1 + np.tanh(0.5 * z)), lambda z, h: h * (1 - h)),
    "tanh": (np.tanh, lambda z, h: 1 - h**2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, h: (z > 0).astype(np.float64)),
    "identity": (lambda z: z, lambda z, h: np.ones_like(z)),
    "softmax": (None, None),  # output layer only; handled jointly with the loss
}
_LOSSES = ("mse", "bce", "categorical_ce")


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_layers(weights, biases):
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(
            f"weights and biases must be non-empty lists of equal length, got {len(weights)} "
            f"and {len(biases)}"
        )
    Ws, bs = [], []
    for i, (W, b) in enumerate(zip(weights, biases)):
        W = finite_array(f"weights[{i}]", W, ndim=2)
        b = finite_array(f"biases[{i}]", b, ndim=1)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"biases[{i}] must have shape ({W.shape[0]},), got {b.shape}")
        if i and W.shape[1] != Ws[-1].shape[0]:
            raise ValueError(
                f"weights[{i}] must have {Ws[-1].shape[0]} columns (inputs), got shape {W.shape}"
            )
        Ws.append(W)
        bs.append(b)
    return Ws, bs


def mlp_forward(x, weights, biases, activation="logistic", output="logistic"):
    r"""Forward pass of a multilayer perceptron in numpy.

    Parameters
    ----------
    x : array_like, shape (N, n_in)
        Batch of inputs.
    weights : list of array_like, shapes (n_{l+1}, n_l)
        Connection weights, (post, pre).
    biases : list of array_like, shapes (n_{l+1},)
        Biases.
    activation : {"logistic", "tanh", "relu", "identity"}
        Hidden-layer activation.
    output : {"logistic", "tanh", "relu", "identity", "softmax"}
        Output-layer activation.

    Returns
    -------
    hs : list of ndarray
        Activities ``[x, h_1, ..., y]``; ``hs[-1]`` is the output (N, n_out).
    zs : list of ndarray
        Input currents ``[z_1, ..., z_L]`` of each layer.

    Examples
    --------
    >>> hs, zs = mlp_forward([[0.0, 1.0]], [np.ones((1, 2))], [np.zeros(1)], output="identity")
    >>> hs[-1].tolist()
    [[1.0]]
    """
    activation = choice("activation", activation, [k for k in _ACTIVATIONS if k != "softmax"])
    output = choice("output", output, list(_ACTIVATIONS))
    Ws, bs = _check_layers(weights, biases)
    h = finite_array("x", x, ndim=2)
    if h.shape[1] != Ws[0].shape[1]:
        raise ValueError(f"x must have {Ws[0].shape[1]} columns, got shape {h.shape}")
    hs, zs = [h], []
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = h @ W.T + b
        name = output if i == len(Ws) - 1 else activation
        h = _softmax(z) if name == "softmax" else _ACTIVATIONS[name][0](z)
        zs.append(z)
        hs.append(h)
    return hs, zs


def mlp_backprop(x, t, weights, biases, activation="logistic", output="logistic", loss="mse"):
    r"""Loss and gradients of an MLP by error backpropagation.

    Parameters
    ----------
    x : array_like, shape (N, n_in)
        Batch of inputs.
    t : array_like, shape (N, n_out)
        Targets (one-hot for ``categorical_ce``).
    weights, biases, activation, output
        As for :func:`mlp_forward`.
    loss : {"mse", "bce", "categorical_ce"}
        Loss averaged over the batch, as in :mod:`spikenet.rate.losses`.

    Returns
    -------
    E : float
        The loss.
    grads_W : list of ndarray
        :math:`\nabla_{W^{(l)}} E`, shapes of ``weights``.
    grads_b : list of ndarray
        :math:`\nabla_{b^{(l)}} E`, shapes of ``biases``.
    grads_z : list of ndarray
        :math:`\nabla_{z^{(l)}} E`, the gradients with respect to each layer's
        input currents, shapes (N, n_l).

    Notes
    -----
    Top layer: :math:`\nabla_{z^{(L)}} E = \sigma'(z^{(L)}) \odot \nabla_y E`
    (for softmax the full Jacobian-vector product; for the matched pairs
    logistic + bce and softmax + categorical_ce it simplifies to
    :math:`(y - t)/N`). Going down a layer:

    .. math::

        \nabla_{z^{(l)}} E = \sigma'(z^{(l)}) \odot \left[\nabla_{z^{(l+1)}} E \; W^{(l)}\right],
        \qquad
        \nabla_{W^{(l)}} E = \left(\nabla_{z^{(l+1)}} E\right)^T h^{(l)},
        \qquad
        \nabla_{b^{(l)}} E = \textstyle\sum_n \nabla_{z^{(l+1)}} E

    (the textbook :math:`[h^{(l)}]^T \nabla_{z^{(l+1)}} E`, transposed for the
    (post, pre) layout), summed over the batch.

    Examples
    --------
    >>> E, gW, gb, gz = mlp_backprop([[1.0]], [[0.0]], [np.ones((1, 1))], [np.zeros(1)],
    ...                              output="identity")
    >>> E, gW[0].tolist()
    (0.5, [[1.0]])
    """
    loss = choice("loss", loss, _LOSSES)
    hs, zs = mlp_forward(x, weights, biases, activation, output)
    Ws = [np.asarray(W, dtype=np.float64) for W in weights]
    y = hs[-1]
    t = finite_array("t", t, ndim=2)
    if t.shape != y.shape:
        raise ValueError(f"t must have the output shape {y.shape}, got {t.shape}")
    n = y.shape[0]
    tiny = np.finfo(np.float64).tiny
    if loss == "mse":
        E = 0.5 * np.sum((y - t) ** 2) / n
        dy = (y - t) / n
    elif loss == "bce":
        E = -np.sum(t * np.log(np.maximum(y, tiny)) + (1 - t) * np.log(np.maximum(1 - y, tiny))) / n
        dy = (y - t) / (np.maximum(y * (1 - y), tiny) * n)
    else:
        E = -np.sum(t * np.log(np.maximum(y, tiny))) / n
        dy = -t / (np.maximum(y, tiny) * n)
    # top layer: dE/dz = sigma'(z) * dE/dy, using the simplified forms where exact
    if output == "softmax":
        dz = (y - t) / n if loss == "categorical_ce" else y * (dy - np.sum(dy * y, axis=1, keepdims=True))
    elif output == "logistic" and loss == "bce":
        dz = (y - t) / n
    else:
        dz = _ACTIVATIONS[output][1](zs[-1], y) * dy
    grads_z = [dz]
    grads_W, grads_b = [], []
    for layer in range(len(Ws) - 1, -1, -1):
        grads_W.append(dz.T @ hs[layer])
        grads_b.append(dz.sum(axis=0))
        if layer > 0:
            dz = _ACTIVATIONS[activation][1](zs[layer - 1], hs[layer]) * (dz @ Ws[layer])
            grads_z.append(dz)
    return float(E), grads_W[::-1], grads_b[::-1], grads_z[::-1]
