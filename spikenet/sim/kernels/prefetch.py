"""A software prefetch for the Numba kernels.

Synaptic delivery reads one row of the connectivity per spike: for a network of
64,000 neurons with 80 synapses each the index array is 20 MB, so every row
starts with a cache miss that the hardware prefetcher cannot predict (the rows
of successive spikes lie anywhere). Asking for the rows of the next spikes
while the current one is delivered hides most of that latency.
:func:`prefetch` emits LLVM's ``llvm.prefetch`` intrinsic (a hint: it never
faults and does not change any value) without temporal locality
(``prefetchnta`` on x86): a row is read once per spike, so it is brought close
to the core without displacing the neurons' state from L2. Against the
all-levels hint (``prefetcht0``) this made the CUBA-4000 loop about 11 %
faster on one thread (0.89x, 8 alternating rounds), CUBA-64000 unchanged.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to load the cache line of ``arr[idx]`` (1-D array, integer index) for reading.

    Callable only from ``@njit`` code. ``idx`` must lie inside the array; no
    bounds check is made (the hint itself cannot fault).
    """
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(idx, types.Integer)):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        arrty = signature.args[0]
        ary = context.make_array(arrty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # read (0), no temporal locality (0: prefetchnta), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(0), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
