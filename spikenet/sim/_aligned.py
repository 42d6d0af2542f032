"""Arrays whose data start on a cache-line boundary (64 bytes).

NumPy aligns an array's data to 16 bytes. The network kernel streams its
state arrays with vector loads and stores of 32 or 64 bytes; when an array
starts in the middle of a cache line, every other load or store crosses a
line, and the same network ran its CUBA-4000 loop about 25 % slower with
its state 16 bytes past a line than on the line (0.0245 s against 0.0196 s
per 0.5 s simulated, one process, alternating). Where an array fell depended
on what the process had allocated before, so the loop time varied from run
to run. The network builder therefore places its per-neuron arrays with
:func:`aligned`.
"""

from __future__ import annotations

import numpy as np

#: Bytes of a cache line: the alignment of :func:`aligned`'s arrays.
LINE = 64


def aligned(a) -> np.ndarray:
    """A C-contiguous copy of ``a`` (same dtype, shape and values) whose data start on a 64-byte boundary.

    Parameters
    ----------
    a : array_like
        The values.

    Returns
    -------
    ndarray
        A writeable array with ``result.ctypes.data % 64 == 0`` (unless it is
        empty); it does not own its memory (a view into a slightly larger
        byte buffer).
    """
    a = np.asarray(a)
    buf = np.empty(a.nbytes + LINE, dtype=np.uint8)
    start = -buf.ctypes.data % LINE
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out
