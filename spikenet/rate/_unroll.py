"""Split a ``torch.nn.Sequential`` into affine maps and activations, for :func:`~spikenet.rate.to_spiking`.

Not public API. Between two activations, every layer of a converted network
is affine (``Linear``, ``Conv1d``/``Conv2d``, average pooling, ``Flatten``,
batch norm in eval mode, ``Dropout``/``Identity`` at inference), and so is
their composition: :func:`affine_map` finds its matrix ``M`` and offset
``c`` by applying the layers (in float64, eval mode) to zero and to every
unit input, which folds batch norm into the layer before it and pooling into
the layer after it, and unrolls convolutions into dense matrices (fine for
small images: the matrix has (outputs x inputs) entries).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from spikenet._validation import finite_array
from spikenet.rate.tuning import LIFRate, SoftLIFRate

AFFINE = (
    torch.nn.Linear,
    torch.nn.Conv1d,
    torch.nn.Conv2d,
    torch.nn.AvgPool1d,
    torch.nn.AvgPool2d,
    torch.nn.AdaptiveAvgPool2d,
    torch.nn.Flatten,
    torch.nn.BatchNorm1d,
    torch.nn.BatchNorm2d,
    torch.nn.Dropout,
    torch.nn.Identity,
)
ACTIVATIONS = (LIFRate, SoftLIFRate, torch.nn.ReLU)


def segments(model):
    """Cut ``model`` at its activations.

    Returns
    -------
    affine : list of list of (int, torch.nn.Module)
        The affine layers (with their index in ``model``) before each
        activation, and the readout's last.
    acts : list of (int, torch.nn.Module)
        The activations.
    """
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    affine, acts = [[]], []
    for i, layer in enumerate(model):
        if isinstance(layer, ACTIVATIONS):
            if not affine[-1]:
                raise ValueError(
                    f"model[{i}] ({type(layer).__name__}) must follow a Linear or another affine layer"
                )
            acts.append((i, layer))
            affine.append([])
        elif isinstance(layer, AFFINE):
            for name, p in [*layer.named_parameters(), *layer.named_buffers()]:
                if p.is_floating_point():
                    finite_array(f"model[{i}].{name}", p.detach().cpu().double().numpy())
            affine[-1].append((i, layer))
        else:
            raise ValueError(
                f"model[{i}] ({type(layer).__name__}) is not supported: use Linear, Conv1d/Conv2d, average "
                "pooling, Flatten, BatchNorm1d/2d, Dropout and LIFRate/SoftLIFRate/ReLU activations"
            )
    if not acts:
        raise ValueError("model must have at least Linear, activation, Linear")
    if not affine[-1]:
        raise ValueError("model must end with a Linear (or another affine) layer (the readout)")
    return affine, acts


def first_shape(layers, input_shape):
    """Shape of one input sample: ``input_shape`` or the first Linear's ``in_features``."""
    if input_shape is not None:
        shape = tuple(int(s) for s in np.atleast_1d(input_shape))
        if not shape or min(shape) < 1:
            raise ValueError(f"input_shape must be a tuple of positive sizes, got {input_shape!r}")
        return shape
    i, first = layers[0]
    if isinstance(first, torch.nn.Linear):
        return (first.in_features,)
    raise ValueError(
        f"input_shape is required when the model starts with {type(first).__name__} (model[{i}]), "
        "e.g. (channels, height, width)"
    )


def apply(layers, x):
    """Run ``layers`` (float64 copies in eval mode) on ``x``; a shape error names the layer."""
    with torch.no_grad():
        for i, layer in layers:
            lay = copy.deepcopy(layer).double().eval()
            try:
                x = lay(x)
            except RuntimeError as exc:
                raise ValueError(
                    f"model[{i}] ({type(layer).__name__}) cannot take inputs of shape {tuple(x.shape[1:])}: "
                    f"{exc}"
                ) from exc
    return x


def affine_map(layers, in_shape):
    """Matrix (n_out, n_in), offset (n_out,) and output shape of the composed affine ``layers``."""
    n_in = math.prod(in_shape)
    if len(layers) == 1 and isinstance(layers[0][1], torch.nn.Linear) and in_shape == (n_in,):
        i, lin = layers[0]  # copy exactly (no rounding from the probe)
        if lin.in_features != n_in:
            raise ValueError(f"model[{i}] expects {lin.in_features} inputs, got {n_in}")
        W = lin.weight.detach().cpu().numpy().astype(np.float64)
        b = np.zeros(lin.out_features) if lin.bias is None else lin.bias.detach().cpu().double().numpy()
        return W, b, (lin.out_features,)
    probe = torch.cat([torch.zeros(1, n_in, dtype=torch.float64), torch.eye(n_in, dtype=torch.float64)])
    out = apply(layers, probe.reshape(n_in + 1, *in_shape))
    flat = out.reshape(n_in + 1, -1)
    M = (flat[1:] - flat[0]).T.contiguous().numpy()
    return M, flat[0].numpy().copy(), tuple(out.shape[1:])
