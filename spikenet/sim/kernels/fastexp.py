"""A vectorisable ``exp`` for the Numba kernels.

This llvmlite build has no SVML, so ``np.exp`` inside a Numba loop is a scalar
libm call and stops LLVM from vectorising the loop around it. ``fast_exp``
uses only arithmetic, comparisons (compiled to selects) and an integer-to-float
bit cast, so a loop that calls it over neurons becomes SIMD code.

Method (Cody & Waite range reduction)::

    x = k ln2 + r,   k = round(x / ln2),   |r| <= ln2 / 2
    exp(x) = 2^k exp(r)

``ln2`` is split into a high part with trailing zero bits and a low part, so
``k * LN2_HI`` is exact and ``r`` carries no cancellation error. ``exp(r)`` is
the Taylor polynomial of degree 12 (truncation error below
``0.347^13 / 13! < 2e-16`` relative), evaluated by Estrin's scheme (a tree of
four levels of multiply-adds rather than Horner's chain of twelve, so that a
kernel with several exponentials in a row is not bound by their latency). ``k`` is read from
the mantissa bits of ``x / ln2 + 1.5 * 2^52`` and ``2^k`` built from the exponent
bits of an IEEE double (integer operations only, as AVX2 cannot convert float64
vectors to int64); to cover the whole range
(``k`` from -1075 to 1024, including results that are subnormal or overflow to
``inf``) it is formed as the product ``2^(k//2) * 2^(k - k//2)`` of two normal
powers. Measured relative error: below 5e-16 (2 ulp) over [-708, 709] (tested in
``tests/sim/test_fastexp.py``); ``x > 709.79`` gives ``inf``, ``x < -745.2``
gives ``0``, NaN gives NaN.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_LOG2E = 1.4426950408889634
# ln 2 split as in fdlibm: LN2_HI has its 32 low bits zero, so k * LN2_HI is
# exact for |k| < 2^20.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# Beyond these bounds exp over/underflows; clamping keeps k in range.
_X_MAX = 710.0
_X_MIN = -746.0
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52
_ROUND_MAGIC_BITS = int(np.float64(_ROUND_MAGIC).view(np.int64))
# 1/j! for j = 0..12 (Horner from the top).
_C = [1.0 / float(np.prod(np.arange(1, j + 1, dtype=np.float64))) for j in range(13)]
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _C[2:13]


@intrinsic
def _bits_to_f64(typingctx, bits):
    """Reinterpret an int64 as the float64 with the same bit pattern."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _f64_to_bits(typingctx, x):
    """Reinterpret a float64 as the int64 with the same bit pattern."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@njit(cache=True, inline="always", fastmath={"contract"}, error_model="numpy")
def _exp_reduced(xc):
    """``(exp(r), k)`` with ``xc = k ln2 + r``, ``|r| <= ln2 / 2``, for ``xc`` in ``[-746, 710]``."""
    # Adding 1.5 * 2^52 rounds x / ln2 to the nearest integer and leaves that
    # integer in the low mantissa bits: k is read with integer operations
    # only (AVX2 has no vector float64 -> int64 conversion).
    shifted = xc * _LOG2E + _ROUND_MAGIC
    k_int = _f64_to_bits(shifted) - _ROUND_MAGIC_BITS
    k = shifted - _ROUND_MAGIC
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    # Estrin's scheme: the same polynomial as Horner's rule, but as a tree of
    # four levels of independent multiply-adds instead of a chain of twelve,
    # so that the exponentials of one HH step are not latency-bound.
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = 1.0 + r
    q1 = _C2 + _C3 * r
    q2 = _C4 + _C5 * r
    q3 = _C6 + _C7 * r
    q4 = _C8 + _C9 * r
    q5 = _C10 + _C11 * r
    s0 = q0 + q1 * r2
    s1 = q2 + q3 * r2
    s2 = q4 + q5 * r2
    t0 = s0 + s1 * r4
    t1 = s2 + _C12 * r4
    p = t0 + t1 * r8
    return p, k_int


@njit(cache=True, inline="always", fastmath={"contract"}, error_model="numpy")
def fast_exp(x):
    """``exp(x)`` for a float64 scalar using only vectorisable operations.

    Parameters
    ----------
    x : float
        Argument (any float64, NaN and +-inf included).

    Returns
    -------
    float
        ``exp(x)`` with relative error below 1e-15 where the result is normal.
    """
    xc = x if x < _X_MAX else _X_MAX
    xc = xc if xc > _X_MIN else _X_MIN
    p, k_int = _exp_reduced(xc)
    k1 = k_int >> 1
    k2 = k_int - k1
    out = p * _bits_to_f64((k1 + 1023) << 52) * _bits_to_f64((k2 + 1023) << 52)
    # NaN in, NaN out (the clamps above turned it into a number).
    return out if x == x else x


# Below this exp(x) is not a normal double; fast_exp_decay returns exp(_DECAY_MIN).
_DECAY_MIN = -708.0


@njit(cache=True, inline="always", fastmath={"contract"}, error_model="numpy")
def fast_exp_decay(x):
    """``exp(x)`` for a decay exponent ``x <= 0``: :func:`fast_exp` without its edge cases.

    For the factors ``exp(-dt / tau)`` of exponential integrators. The same
    range reduction and polynomial as :func:`fast_exp`, but ``x`` is clamped
    to ``[-708, 0]``, so ``2^k`` is one normal power and no NaN or overflow
    handling is needed: a few vector instructions fewer per call.

    Parameters
    ----------
    x : float
        Exponent, at most 0 and not NaN (not checked).

    Returns
    -------
    float
        ``exp(x)`` with relative error below 1e-15 for ``-708 <= x <= 0``;
        ``exp(-708)`` (about 3.3e-308) for ``x < -708``, i.e. an absolute
        error below 3.3e-308.
    """
    xc = x if x > _DECAY_MIN else _DECAY_MIN
    xc = xc if xc < 0.0 else 0.0
    p, k_int = _exp_reduced(xc)
    return p * _bits_to_f64((k_int + 1023) << 52)


@njit(cache=True)
def fast_exp_decay_array(x):
    """Apply :func:`fast_exp_decay` elementwise to a 1-D float64 array (for tests and tools)."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = fast_exp_decay(x[i])
    return out


@njit(cache=True)
def fast_exp_array(x):
    """Apply :func:`fast_exp` elementwise to a 1-D float64 array (for tests and tools)."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = fast_exp(x[i])
    return out
