"""Full-width SIMD for the vectorised neuron passes: :func:`wide_vectors`.

LLVM's loop vectoriser picks its vector width from the target's preferred
width, and for every x86 CPU with AVX-512 since Skylake-SP that preference
is 256 bits (the ``prefer-256-bit`` tuning), because on the first of these
chips 512-bit arithmetic lowered the clock of the whole core. On the chips
since Ice Lake the penalty is small, and a pass that is bound by its
instruction count (the LIF pass: two loads, a multiply-add, three compares,
two blends and two stores per neuron) runs about a quarter faster at 512
bits. The width is a property of the compiled function, so
:func:`wide_vectors` marks the function it is called in with LLVM's
``"prefer-vector-width"="512"`` attribute; it changes no result, only how
many neurons one instruction handles.

The attribute only raises the vectoriser's ceiling: on a CPU without AVX-512
(or not x86) the width stays what the hardware has.

Wider is not always faster: a pass that is all multiply-adds (the HH
kernel) keeps the 512-bit units of a core busy, and on machines whose cores
share them or a power budget (as the 2-vCPU machines spikenet is benchmarked
on) two threads of 512-bit code ran slower than two of 256-bit code.
:func:`wide_vectors_unless_none` makes the width a compile-time choice of the
caller, so such a kernel can run wide on one thread only.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

# An LLVM string attribute, written into the function's definition as is.
_ATTRIBUTE = '"prefer-vector-width"="512"'


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorise the calling compiled function with 512-bit vectors.

    Call it once, as a statement, in the body of the function whose loops
    should be wide: in a ``prange`` body it marks the parallel region's
    outlined function, elsewhere the ``@njit`` function itself (functions
    inlined into it are vectorised with it). It emits no code.
    """
    def codegen(context, builder, signature, args):
        _mark(builder)
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def wide_vectors_unless_none(typingctx, wide):
    """:func:`wide_vectors` when ``wide`` is not None; nothing when it is.

    The choice is made at compile time from the argument's type, so a kernel
    that takes ``wide`` as an argument compiles once per choice: None (a
    ``NoneType``) for 256-bit loops, True for 512-bit ones.
    """
    mark = not isinstance(wide, (types.NoneType, types.Omitted))

    def codegen(context, builder, signature, args):
        if mark:
            _mark(builder)
        return context.get_dummy_value()

    return types.none(wide), codegen


def _mark(builder):
    # llvmlite's attribute set accepts only its list of enum attributes; a
    # string attribute goes in through the set's own add, and is printed
    # into the function's definition verbatim.
    set.add(builder.function.attributes, _ATTRIBUTE)
