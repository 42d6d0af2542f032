"""Argument checks shared by the whole package.

Every public entry point converts and checks its inputs here, so that a bad
argument fails where the user made the mistake, with a message naming the
argument, and never deep inside a Numba kernel.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
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
    # numpy would parse "1.5" as 1.5: numbers passed as text are refused
    text = isinstance(value, (str, bytes))
    try:
        if not text:
            probe = value if isinstance(value, np.ndarray) else np.asarray(value)
            text = probe.dtype.kind in "USV"
        arr = None if text else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric array-like, got {type(value).__name__}") from exc
    if text:
        raise TypeError(f"{name} must be a number or a numeric array, not text: got {value!r:.40}")
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


# A duration is a whole number of steps when it is within this relative
# distance of one (float division of decimal durations errs by ~1e-16).
STEP_TOLERANCE = 1e-9


def whole_steps(name: str, value, dt: float, *, allow_zero: bool = False) -> int:
    """Return ``value / dt`` as an int when ``value`` (s) is a whole number of steps of ``dt`` (s).

    The one rule for durations and delays: ``value`` must equal ``k * dt``
    for an integer ``k`` within ``STEP_TOLERANCE`` relative (of ``value``),
    so that ``0.3`` with ``dt = 1e-4`` (``2999.9999999999995`` steps) is 3000
    steps, but ``0.00105`` is refused rather than rounded.

    Parameters
    ----------
    name : str
        Argument name used in the error message (``"T"``, ``"delay"``).
    value : float
        Duration in seconds (> 0, or >= 0 with ``allow_zero``).
    dt : float
        Time step in seconds (> 0).
    allow_zero : bool
        Accept 0 (zero steps).

    Returns
    -------
    int
        The number of steps.

    Raises
    ------
    ValueError
        If ``value`` is not a whole number of steps, or is shorter than one
        step (when zero is not allowed).
    """
    value = positive_float(name, value, allow_zero=allow_zero)
    dt = positive_float("dt", dt)
    ratio = value / dt
    steps = round(ratio)
    if abs(ratio - steps) > STEP_TOLERANCE * max(ratio, 1.0):
        lo, hi = math.floor(ratio), math.ceil(ratio)
        options = " or ".join(f"{k * dt:.12g}" for k in (lo, hi) if k > 0 or allow_zero)
        raise ValueError(f"{name} ({value:.12g} s) must be a whole number of steps of dt ({dt:g} s); "
                         f"{name} / dt = {ratio:.12g}: use {name} = {options}")
    if steps == 0 and not allow_zero:
        raise ValueError(f"{name} ({value:.12g} s) must be at least one step of dt ({dt:g} s)")
    return int(steps)


class RecordingTooLargeError(ValueError, MemoryError):
    """A requested recording needs more memory than the machine has available."""


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None if unknown.

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux); elsewhere, the
    free physical pages reported by ``os.sysconf``.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_recording_fits(nbytes: int, T: float, steps: int, what: str) -> None:
    """Refuse, before anything is allocated, a recording larger than the available memory.

    Parameters
    ----------
    nbytes : int
        Size of the recording in bytes.
    T : float
        Duration of the run in seconds, and ``steps`` its number of steps
        (for the message).
    steps : int
        Number of steps of the run.
    what : str
        What is recorded (for the message), e.g. ``"record=('v',) of 1000 neurons"``.

    Raises
    ------
    RecordingTooLargeError
        (a ``ValueError`` and a ``MemoryError``) naming ``T`` and ``record``.
    """
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise RecordingTooLargeError(
            f"the recording ({what}, for T = {T:g} s = {steps} steps) needs {_size(nbytes)} but only "
            f"{_size(avail)} of memory is available: shorten T, record fewer states or neurons "
            "(record=), or split the run into several")


def _size(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"
