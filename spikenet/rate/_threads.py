"""PyTorch intra-op thread counts for the training loops of :mod:`spikenet.rate`.

PyTorch runs each operation on ``torch.get_num_threads()`` threads (by default
one per core). For the small networks of this package an operation takes a
few microseconds, less than waking and joining the other threads; on a busy
machine the waiting threads also compete with other processes for the cores,
and a loop of thousands of such operations becomes many times slower than on
one thread. The training loops therefore choose the thread count from the
size of one minibatch's work and restore the caller's setting afterwards.
"""

from __future__ import annotations

import contextlib
import numbers

import torch

#: Multiply-adds per minibatch (``batch_size`` times the number of trainable
#: parameters, which is the forward pass's count for a dense network) below
#: which ``threads=None`` uses one thread: 2**24, about 17 million (a few
#: milliseconds of one core). The risks are lopsided: one thread where more
#: would help costs at most a factor of the number of cores, while extra
#: threads on small operations of a busy machine have cost factors of 10-50.
SMALL_WORK = 2**24


def resolve_threads(threads, batch_size: int, n_params: int) -> int:
    """The intra-op thread count for a loop over minibatches.

    Parameters
    ----------
    threads : None or int
        None: one thread when ``batch_size * n_params < SMALL_WORK``, else
        torch's current setting ``torch.get_num_threads()`` (which honours
        ``OMP_NUM_THREADS`` and an earlier ``torch.set_num_threads``). An int
        (>= 1) is used as given.
    batch_size : int
        Samples per minibatch.
    n_params : int
        Number of trainable parameters of the model(s).

    Returns
    -------
    int
    """
    if threads is None:
        current = torch.get_num_threads()
        return 1 if batch_size * n_params < SMALL_WORK else current
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be None or a positive int, got {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1 (or None to choose), got {threads}")
    return int(threads)


def n_parameters(*modules) -> int:
    """Number of trainable scalars of ``modules`` (each parameter counted once)."""
    seen = {}
    for m in modules:
        for p in m.parameters():
            if p.requires_grad:
                seen[id(p)] = p.numel()
    return sum(seen.values())


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with ``torch.set_num_threads(n)``; restore the previous count after.

    The previous count is restored also when the block raises. The setting
    is process-wide, so other Python threads that run torch at the same
    time see it too.
    """
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
