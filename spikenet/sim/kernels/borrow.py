"""Borrowed array views for the Numba kernels: views without reference counting.

Every view a compiled loop makes of an array (``v[b, lo:hi]``) shares the
array's memory-info block, whose reference count Numba raises and lowers
around the view's lifetime. Each of these is a call with an atomic
read-modify-write (a full memory barrier on x86), and the network kernel
makes a handful of views per block of neurons per step: about a tenth of the
CUBA-4000 loop went into them. :func:`borrow` returns the same array with
no memory-info block (as an array made by ``numba.carray`` from a pointer
has none), so that its views are not counted either: the count calls then
return at once. The caller keeps the real array alive for as long as the
borrowed one is used (the kernels borrow their arguments, which the calling
Python code holds for the whole call), and a borrowed array must never be
returned or stored.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _borrowed(context, builder, aryty, value):
    """LLVM value of array ``value`` (type ``aryty``) with a null memory-info block and parent."""
    ary = cgutils.create_struct_proxy(aryty)(context, builder, value=value)
    out = cgutils.create_struct_proxy(aryty)(context, builder)
    out.meminfo = cgutils.get_null_value(ary.meminfo.type)
    out.parent = cgutils.get_null_value(ary.parent.type)
    out.nitems = ary.nitems
    out.itemsize = ary.itemsize
    out.data = ary.data
    out.shape = ary.shape
    out.strides = ary.strides
    return out._getvalue()


def _borrowable(ty) -> bool:
    """An array, or a tuple (or NamedTuple) of arrays and numbers holding at least one array."""
    if isinstance(ty, types.Array):
        return True
    return (isinstance(ty, types.BaseTuple) and any(isinstance(f, types.Array) for f in ty.types)
            and all(isinstance(f, (types.Array, types.Number, types.Boolean)) for f in ty.types))


@intrinsic
def borrow(typingctx, arr):
    """The array ``arr`` (same type, data, shape and strides) without reference counting.

    ``arr`` may also be a tuple or NamedTuple of arrays and numbers: each
    array in it is borrowed, in one call. Callable only from ``@njit`` code.
    The result, and every view of it, is valid only while ``arr`` is alive;
    never return or store it.
    """
    if not _borrowable(arr):
        return None
    sig = arr(arr)

    def codegen(context, builder, signature, args):
        ty = signature.args[0]
        if isinstance(ty, types.Array):
            return _borrowed(context, builder, ty, args[0])
        out = args[0]
        for k, fty in enumerate(ty.types):
            if isinstance(fty, types.Array):
                field = builder.extract_value(out, k)
                out = builder.insert_value(out, _borrowed(context, builder, fty, field), k)
        return out

    return sig, codegen
