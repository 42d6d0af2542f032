"""White noise in :func:`~spikenet.sim.simulate` for HH and NeuronModel neurons.

``simulate(neuron, J, T, noise=sigma, seed=...)`` for a model other than the
LIF runs the one-population :class:`~spikenet.sim.Network` that ``simulate``
stands for: the drive ``J`` becomes the population's bias (constant ``J``)
or a current input (``J`` per step or callable), the initial state its
``init``, and ``noise`` an ``add_input(noise=sigma)``. The noise current,
its units and its random numbers are therefore exactly the network's (a
counter-based generator keyed by the seed: independent of how the run is
cut into chunks, independent between batch copies). The noiseless paths of
``simulate`` are not involved.
"""

from __future__ import annotations

import warnings

import numpy as np

from spikenet.sim.results import Result

_POP = "p"


def run_noisy(neuron, drive, state, given, names, steps, dt, rng, noise, dtype, progress):
    """Run ``simulate``'s checked arguments as a one-population network with white noise.

    Parameters
    ----------
    neuron : HH or NeuronModel
        The neuron model.
    drive : spikenet.sim.simulate._Drive
        The checked drive (shape ``(n,)`` or ``(batch, n)``).
    state : dict of str -> ndarray (N,)
        The checked initial state, flat over ``batch * n`` neurons.
    given : iterable of str
        The states the user gave in ``init``: only these go to the network,
        which fills in the others (HH gates at their steady state, ...) as
        it does for its own populations, bit for bit.
    names : list of str
        States to record.
    steps : int
        Number of steps of ``dt`` seconds.
    rng : numpy.random.Generator
        ``simulate``'s generator: it seeds the network (as ``Network(seed=rng)``).
    noise : float
        White-noise amplitude ``sigma`` (drive units x s^1/2), > 0.
    dtype : numpy.dtype
        float64 or float32.
    progress : bool
        Show the network's progress bar.

    Returns
    -------
    Result
        As :func:`~spikenet.sim.simulate` returns it.
    """
    from spikenet.sim.network import Network

    shape = drive.shape
    batched = len(shape) == 2
    net = Network(dt=dt, seed=rng, batch=shape[0] if batched else None, dtype=dtype)
    init = {k: state[k].reshape(shape) for k in given}
    bias = drive.const.reshape(shape) if drive.const is not None else 0.0
    pop = net.add_population(shape[-1], neuron, bias=bias, init=init, name=_POP)
    if drive.fn is not None:
        net.add_input(pop, current=lambda t: drive._eval(t, shape).reshape(shape))
    elif drive.const is None:
        net.add_input(pop, current=drive.per_step.reshape(steps, *shape))
    net.add_input(pop, noise=noise)
    with warnings.catch_warnings():  # simulate says it in its own words below
        warnings.filterwarnings("ignore", message="Network.run was interrupted", category=RuntimeWarning)
        out = net.run(steps * dt, record={_POP: names} if names else None, progress=progress)
    if out.interrupted:
        warnings.warn(f"simulate was interrupted after {out.steps} of {steps} steps: the result covers "
                      f"t in [0, {out.steps * dt:g}) s (result.interrupted is True)", RuntimeWarning,
                      stacklevel=3)
    N = int(np.prod(shape))
    n = shape[-1]
    times, idx, copy = out.spike_events(_POP)
    ksteps = out.spike_steps(_POP)
    flat = (copy * n + idx).astype(np.int64)
    order = np.lexsort((times, flat))
    times, ksteps, flat = times[order], ksteps[order], flat[order]
    offsets = np.concatenate(([0], np.cumsum(np.bincount(flat, minlength=N)))).astype(np.int64)
    states = {name: np.ascontiguousarray(out[_POP, name]).reshape(out.steps, *shape) for name in names}
    return Result(out.steps, dt, times, ksteps, offsets, shape, states, interrupted=out.interrupted)
