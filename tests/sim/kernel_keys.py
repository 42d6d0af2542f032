"""Which compiled specialisation of the network kernel a network used."""

from __future__ import annotations

import inspect


def kernel_arg_key(net, name: str) -> str:
    """The configuration key (see ``spikenet.sim.aot``) of kernel argument ``name`` in ``net``'s last run.

    Looked up by name, so that it stays right when the kernel gains arguments.
    """
    from spikenet.sim.kernels.network import _run_copy

    names = list(inspect.signature(_run_copy.py_func).parameters)[2:]  # without the copy and part indices
    return net._kernel_key.split("|")[names.index(name)]
