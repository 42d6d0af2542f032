"""The network kernel's configuration key, entry by entry."""

from __future__ import annotations

import inspect


def key_entry(net, arg: str) -> str:
    """The entry of ``net``'s kernel key for the kernel argument named ``arg`` (after a one-thread run)."""
    from spikenet.sim.kernels.network import _run_copy

    names = list(inspect.signature(_run_copy.py_func).parameters)[2:]  # without the copy and part
    return net.kernel_key.split("|")[names.index(arg)]
