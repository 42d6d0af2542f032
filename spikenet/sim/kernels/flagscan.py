"""The scan of the event flags in the vectorised neuron passes.

The LIF passes (:func:`spikenet.sim.kernels.lif.lif_run` and the network
kernel) write one byte per neuron, 1 for a neuron that needs the scalar event
code this step, into a block's flag array padded to whole 8-byte words. A step
sets a few flags per block: :func:`next_word` finds the next word holding one,
testing four words (32 neurons) at a time, and :func:`lowest_flag` gives the
position of the first flag set in a word, so that the neurons of a word are
visited without a test (and a mispredicted branch) per neuron.
"""

from __future__ import annotations

import sys

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# lowest_flag maps bit positions to bytes in memory order: little-endian only
# (x86-64, AArch64 and POWER little-endian, every platform Numba ships for).
if sys.byteorder != "little":  # (not an assert: python -O would strip it)
    raise ImportError("spikenet's kernels assume a little-endian machine")


@intrinsic
def _cttz(typingctx, x):
    """Trailing zero bits of a nonzero uint64 (LLVM's ``cttz``: one ``tzcnt`` on x86-64)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fn = builder.module.declare_intrinsic("llvm.cttz", [i64], ir.FunctionType(i64, [i64, ir.IntType(1)]))
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return types.uint64(types.uint64), codegen


@njit(cache=True, inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)
def lowest_flag(word):  # pragma: no cover - compiled
    """Index (0-7) of the first nonzero byte of a nonzero flag word read as ``uint64``.

    Flags are the bytes 0 or 1, so clearing the word's lowest set bit
    (``word & (word - 1)``) clears that flag, and the next call gives the next.
    """
    return _cttz(word) >> 3


@njit(cache=True, inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)
def next_word(words, w, n):  # pragma: no cover - compiled
    """Index of the first nonzero word of ``words[w:n]``, or ``n`` if there is none.

    Parameters
    ----------
    words : ndarray (>= n,) uint64
        A block's event flags read as 8-byte words.
    w : int
        Where to start (``0 <= w``).
    n : int
        Words to look at (``n <= words.shape[0]``).

    Returns
    -------
    int
        The index, in ``[w, n]``.
    """
    while w + 4 <= n:
        if (words[w] | words[w + 1] | words[w + 2] | words[w + 3]) != 0:
            break
        w += 4
    while w < n:
        if words[w] != 0:
            return w
        w += 1
    return n
