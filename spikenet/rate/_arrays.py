"""numpy in, numpy out: conversions shared by the torch models of :mod:`spikenet.rate`.

A method decorated with :func:`numpy_io` accepts numpy arrays (or nested
lists, or scalars) for its data arguments. When its first data argument is
not a tensor, the arrays become tensors of the module's dtype and device, the
method runs without recording gradients, and every tensor it returns comes
back as a numpy array (a 0-d result as a Python float). A tensor first
argument takes the method's own path, unchanged and differentiable.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import torch


def module_dtype_device(module):
    """The dtype and device of ``module``'s first floating-point parameter or buffer.

    Parameter-free modules get torch's default dtype on the CPU.
    """
    for t in [*module.parameters(), *module.buffers()]:
        if torch.is_floating_point(t):
            return t.dtype, t.device
    return torch.get_default_dtype(), torch.device("cpu")


def as_float_tensor(name, x, dtype, device=None):
    """``x`` (array_like or tensor) as a tensor of ``dtype`` (None: keep it); rejects non-numeric data."""
    if isinstance(x, torch.Tensor):
        t = x if device is None else x.to(device)
        return t if dtype is None else t.to(dtype)
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array or tensor, got dtype {arr.dtype}")
    if not arr.flags.writeable:  # torch warns about sharing read-only memory
        arr = arr.copy()
    t = torch.as_tensor(arr, device=device)
    return t if dtype is None else t.to(dtype)


def to_numpy(out):
    """Tensors in ``out`` (also inside tuples, lists and dicts) as numpy arrays; 0-d ones as floats."""
    if isinstance(out, torch.Tensor):
        arr = out.detach().cpu().numpy()
        return float(arr) if arr.ndim == 0 else arr
    if isinstance(out, tuple):
        return tuple(to_numpy(o) for o in out)
    if isinstance(out, list):
        return [to_numpy(o) for o in out]
    if isinstance(out, dict):
        return {k: to_numpy(v) for k, v in out.items()}
    return out


def _is_tensor_data(value):
    """A tensor, or a non-empty tuple/list of tensors (such as a model's output tuple)."""
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, (tuple, list)) and bool(value) and all(
        isinstance(v, torch.Tensor) for v in value)


def _convert(name, value, dtype, device):
    if value is None or isinstance(value, torch.Tensor):
        return value
    if isinstance(value, tuple):
        return tuple(_convert(name, v, dtype, device) for v in value)
    return as_float_tensor(name, value, dtype, device)


def numpy_io(*names, keep_dtype=False):
    """Decorate a ``torch.nn.Module`` method so that numpy data in gives numpy out.

    Parameters
    ----------
    *names : str
        The method's data arguments; the first one decides the mode.
        Tuples (such as an ``(h0, c0)`` state) are converted entry by entry.
    keep_dtype : bool
        Keep a floating-point array's own dtype (for modules without
        parameters, e.g. dropout); otherwise arrays take the module's dtype.
    """

    def decorate(method):
        signature = inspect.signature(method)

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if args and _is_tensor_data(args[0]):  # the fast path of training loops
                return method(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            first = bound.arguments.get(names[0])
            if first is None or _is_tensor_data(first):
                return method(self, *args, **kwargs)
            dtype, device = module_dtype_device(self)
            for name in names:
                if name in bound.arguments:
                    value = bound.arguments[name]
                    floating = isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)
                    if keep_dtype and floating:
                        bound.arguments[name] = as_float_tensor(name, value, None, device)
                    else:
                        bound.arguments[name] = _convert(name, value, dtype, device)
            with torch.no_grad():
                return to_numpy(method(*bound.args, **bound.kwargs))

        return wrapper

    return decorate


def layer_input_width(model):
    """The feature width that ``model`` expects on the last axis of its input, or None if unknown.

    Known for ``torch.nn.Linear``, a ``torch.nn.Sequential`` that starts with
    one, spikenet's models with an ``input_dim`` attribute (autoencoder, VAE,
    RNN, LSTM) and ``BatchFirst`` around one of them.
    """
    if isinstance(model, torch.nn.Linear):
        return model.in_features
    if isinstance(model, torch.nn.Sequential):
        return layer_input_width(model[0]) if len(model) else None
    if not type(model).__module__.startswith("spikenet."):
        return None  # a user's module: its attributes may mean anything
    width = getattr(model, "input_dim", None)
    if isinstance(width, int):
        return width
    inner = getattr(model, "net", None)  # BatchFirst
    return layer_input_width(inner) if isinstance(inner, torch.nn.Module) else None


def check_width(name, X, model):
    """Raise ValueError naming ``name`` if ``X``'s last axis does not fit ``model``'s input width."""
    width = layer_input_width(model) if isinstance(model, torch.nn.Module) else None
    if width is not None and X.dim() >= 2 and X.shape[-1] != width:
        raise ValueError(
            f"{name} must have {width} features on its last axis (the model's input width), "
            f"got shape {tuple(X.shape)}"
        )


def check_labels(name, t, n_classes):
    """Raise ValueError naming ``name`` unless every integer label lies in ``[0, n_classes)``."""
    if t.numel() == 0:
        return
    lo, hi = int(t.min()), int(t.max())
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"{name} must hold class labels in [0, {n_classes}) for a model with {n_classes} "
            f"outputs, got labels from {lo} to {hi}"
        )
