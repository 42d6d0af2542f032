"""Atomic integer operations and a spin barrier for the network kernel's threads.

A large unbatched network can be split into parts that run on separate
threads in lock step (see :mod:`spikenet.sim.kernels.network`). The threads
meet once per time step at :func:`spin_barrier`, which costs well under a
microsecond when both threads are on their own cores, far less than starting
a parallel region each step. Numba has no atomics for the CPU, so the three
primitives below emit LLVM's sequentially consistent atomic instructions:
besides being atomic, each is a full memory fence, so every write a thread
made before the barrier is visible to the others after it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from spikenet.sim.kernels.layout import SYNC_COUNT, SYNC_GEN


def _int64_slot(arr, idx):
    return (isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.int64
            and isinstance(idx, types.Integer))


def _slot_pointer(context, builder, arrty, arr, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [idx], wraparound=False)


def _slot_and_value(context, builder, signature, args):
    """Pointer to ``arr[idx]`` and the third argument as int64 (store and add)."""
    ptr = _slot_pointer(context, builder, signature.args[0], args[0], args[1])
    return ptr, context.cast(builder, args[2], signature.args[2], types.int64)


@intrinsic
def atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read atomically (int64 1-D array; no bounds check)."""
    if not _int64_slot(arr, idx):
        return None

    def codegen(context, builder, signature, args):
        ptr = _slot_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "seq_cst", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, val):
    """``arr[idx] = val`` written atomically (int64 1-D array; no bounds check)."""
    if not (_int64_slot(arr, idx) and isinstance(val, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ptr, v = _slot_and_value(context, builder, signature, args)
        builder.store_atomic(v, ptr, "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, val), codegen


@intrinsic
def atomic_add(typingctx, arr, idx, val):
    """Add ``val`` to ``arr[idx]`` atomically and return the old value (int64 1-D array)."""
    if not (_int64_slot(arr, idx) and isinstance(val, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", *_slot_and_value(context, builder, signature, args), "seq_cst")

    return types.int64(arr, idx, val), codegen


@intrinsic
def nap(typingctx, microseconds):
    """Sleep for about ``microseconds`` (POSIX ``usleep``; the kernel's timer slack adds ~50 us)."""
    if not isinstance(microseconds, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i32, [i32]), "usleep")
        builder.call(fn, [builder.trunc(args[0], i32) if args[0].type.width > 32 else args[0]])
        return context.get_dummy_value()

    return types.void(microseconds), codegen


# Polls of the barrier before a waiting thread starts to sleep between polls:
# about 100 microseconds (a poll is a load from L1), longer than a step's
# usual imbalance between parts on free cores. When the parts share cores
# (more threads than free cores), sleeping hands the core to the part that
# has not arrived yet; spinning on, or even sched_yield, would keep it waiting
# for the end of a time slice (~4 ms).
SPIN_POLLS = 100_000


@njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def spin_barrier(sync, n_threads):  # pragma: no cover - compiled
    """Wait until ``n_threads`` threads have called this with the same ``sync`` array.

    A counting barrier with a generation number: the last thread to arrive
    resets the count and advances the generation, which releases the others.
    ``sync[SYNC_COUNT]`` must be 0 when the threads start. A waiting thread
    polls, then sleeps between polls, so that threads sharing a core (more
    threads than free cores) still make progress.
    """
    gen = atomic_load(sync, SYNC_GEN)
    if atomic_add(sync, SYNC_COUNT, 1) == n_threads - 1:
        atomic_store(sync, SYNC_COUNT, 0)
        atomic_add(sync, SYNC_GEN, 1)
    else:
        polls = 0
        while atomic_load(sync, SYNC_GEN) == gen:
            polls += 1
            if polls > SPIN_POLLS:
                nap(10)
