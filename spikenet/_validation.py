"""Argument checks shared by the whole package.

Every public entry point converts and checks its inputs here, so that a bad
argument fails where the user made the mistake, with a message naming the
argument, and never deep inside a Numba kernel.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable

import numpy as np


def positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), else raise.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : float
        The value to check.
    allow_zero : bool
        Accept 0 as well.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {v}")
    return v


def finite_float(name: str, value) -> float:
    """Return ``value`` as a finite float, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def finite_array(name: str, value, *, dtype=np.float64, ndim: int | Iterable[int] | None = None):
    """Convert ``value`` to a finite array of ``dtype``, checking its ndim.

    Raises
    ------
    TypeError
        If ``value`` cannot be converted to a numeric array.
    ValueError
        If it has NaN/inf entries or the wrong number of dimensions.
    """
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric array-like, got {type(value).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                f"got shape {arr.shape}"
            )
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    """Return ``value`` as an int > 0 (or >= 0), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def as_rng(seed) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (None, int or Generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator, got {seed!r}")


def choice(name: str, value, options: Iterable[str]) -> str:
    """Check that ``value`` is one of ``options``; suggest the closest on a typo."""
    options = list(options)
    if value in options:
        return value
    close = difflib.get_close_matches(str(value), options, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{name} must be one of {options}, got {value!r}{hint}")
