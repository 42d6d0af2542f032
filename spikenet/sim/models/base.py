"""The interface of a neuron model run by spikenet's generic stepped kernel.

A model is one file: a frozen dataclass whose fields are its parameters, plus
a pure Numba function that advances one neuron by one step. The engine
(:mod:`spikenet.sim.kernels.compose`) generates and caches the time loop
around that function, so a new model needs no change anywhere else.

The step function and its helpers are plain Python marked with
:func:`kernel`; they are compiled by Numba on first use. The step function
has the signature ``step(S, i, I, dt, P) -> float``:

- ``S`` (n_states, N) float64: the state of every neuron, updated in place
  for neuron ``i`` (rows in the order of ``state_names``);
- ``I`` float: the drive of neuron ``i``, constant over the step (model units);
- ``dt`` float: the step in seconds;
- ``P`` (n_params, N) float64: the parameters (rows in the order of
  ``param_names``, one column per neuron);
- returns the spike's time inside the step in seconds (``0 <= t < dt``),
  or -1.0 when the neuron does not spike in this step. At most one spike
  per step: a neuron that would cross threshold again within the same step
  is held at threshold and spikes at the start of the next one.

Optional: voltage jumps (``Delta`` synapses). A model that sets the class
attributes ``jump_state`` (the state a jump adds to), ``jump_threshold``
(the parameter holding its spike threshold) and ``reset`` (a marked function
``reset(S, i, P)`` applying the spike reset to neuron ``i``) receives
``Delta`` synapses: the jumps arriving at the start of a step are added to
that state before the step; a neuron taken to its threshold spikes at the
arrival time itself and is reset by ``reset`` before the step runs. With
``refractory_state`` (a state holding the remaining refractory time in
seconds) a neuron still refractory ignores its jumps. Models without these
attributes refuse ``Delta`` synapses.

Optional: conductance synapses. A model with ``cond_step`` (a marked
function ``cond_step(S, i, I, dt, P, C, nc) -> float``) receives
``Conductance`` synapses: as ``step``, plus the conductances inside the
step, which it evaluates with :func:`conductance_at` at any time of its
substeps and adds as the current ``g (e_rev - v)`` in drive units
(``C`` holds ``nc`` terms; see :func:`conductance_at`). Models without it
refuse ``Conductance`` synapses.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

__all__ = ["NeuronModel", "conductance_at", "kernel"]


def kernel(fn):
    """Mark a model-file function for Numba: compiled (``njit(cache=True)``) when the model first runs.

    Model files do not import Numba themselves, so that ``import spikenet.sim``
    stays light; :func:`spikenet.sim.kernels.compose.model_kernel` compiles
    every marked function of the model's module (the step and its helpers)
    and puts the compiled versions in the module's namespace before the
    first call.
    """
    fn._spikenet_kernel = True
    return fn


@kernel
def conductance_at(C, nc, s):  # pragma: no cover - compiled
    """The total conductance and conductance-weighted reversal potential at time ``s`` (s) into a step.

    Parameters
    ----------
    C : ndarray (>= nc, 4) float64
        One row per term ``(x, m, tau, e_rev)``: the conductance
        ``x e^{-s/tau} (s/tau)^m / m!`` (a stage of a ``Conductance`` synapse's
        PSC cascade at the step's start, seen at its last stage ``s`` later;
        ``tau`` in s) with reversal potential ``e_rev``.
    nc : int
        Number of terms.
    s : float
        Time since the step's start, s.

    Returns
    -------
    g, ge : float
        ``sum g_k(s)`` and ``sum g_k(s) e_rev_k``; the synaptic current is ``ge - g v``.
    """
    g = 0.0
    ge = 0.0
    for q in range(nc):
        y = s / C[q, 2]
        c = C[q, 0] * math.exp(-y)
        for j in range(1, int(C[q, 1]) + 1):
            c *= y / j
        g += c
        ge += c * C[q, 3]
    return g, ge


class NeuronModel:
    """Base class of neuron models served by the generic kernel (subclass as a frozen dataclass).

    Class attributes to define in a subclass:

    ``state_names`` : tuple of str
        The state variables, in the order of the rows of ``S``; all recordable.
    ``param_names`` : tuple of str
        The fields passed to the step function, in the order of the rows of ``P``.
    ``drive_units`` : str
        Units of the drive ``I`` (for messages and docs).
    ``step`` : Numba function
        The per-neuron step, see the module docstring. Store it with
        ``staticmethod`` so that it is not bound to instances.
    """

    state_names: ClassVar[tuple[str, ...]] = ()
    param_names: ClassVar[tuple[str, ...]] = ()
    drive_units: ClassVar[str] = ""
    #: A guess of the highest rate (Hz), used to size spike buffers (a chunk is
    #: run again with larger buffers when a neuron exceeds it).
    rate_guess: ClassVar[float] = 500.0
    #: Voltage jumps (``Delta`` synapses), see the module docstring: the state a
    #: jump adds to, the parameter holding the spike threshold, and optionally
    #: the state holding the remaining refractory time (s). None: no jumps.
    jump_state: ClassVar[str | None] = None
    jump_threshold: ClassVar[str | None] = None
    refractory_state: ClassVar[str | None] = None
    #: ``reset(S, i, P)``: the spike reset of neuron ``i`` (a marked module-level
    #: function, stored with ``staticmethod``); needed with ``jump_state``.
    reset: ClassVar = None
    #: ``cond_step(S, i, I, dt, P, C, nc) -> float``: the step with conductance
    #: synapses (a marked module-level function, stored with ``staticmethod``);
    #: None: the model refuses ``Conductance`` synapses.
    cond_step: ClassVar = None

    def initial_state(self, given: dict, n: int) -> dict:
        """The initial state of ``n`` neurons, with the values in ``given`` (name -> (n,)) taking precedence.

        Returns
        -------
        dict of str -> ndarray (n,) float64
            One entry per name in ``state_names``.
        """
        raise NotImplementedError

    def param_matrix(self, n: int, per_neuron: dict | None = None) -> np.ndarray:
        """The parameters as the step function reads them: (n_params, n) float64.

        ``per_neuron`` maps parameter names to (n,) arrays that override the
        model's value neuron by neuron.
        """
        P = np.empty((len(self.param_names), n), dtype=np.float64)
        per_neuron = per_neuron or {}
        for r, name in enumerate(self.param_names):
            P[r] = per_neuron.get(name, getattr(self, name))
        return P

    @classmethod
    def receives_jumps(cls) -> bool:
        """Whether the model declares voltage jumps (``Delta`` synapses), checked for consistency.

        Raises
        ------
        TypeError
            When the declaration is incomplete or names an unknown state or parameter.
        """
        if cls.jump_state is None and cls.jump_threshold is None:
            return False
        if cls.jump_state not in cls.state_names:
            raise TypeError(f"{cls.__name__}.jump_state must be one of state_names {cls.state_names}, "
                            f"got {cls.jump_state!r}")
        if cls.jump_threshold not in cls.param_names:
            raise TypeError(f"{cls.__name__}.jump_threshold must be one of param_names {cls.param_names}, "
                            f"got {cls.jump_threshold!r}")
        if cls.refractory_state is not None and cls.refractory_state not in cls.state_names:
            raise TypeError(f"{cls.__name__}.refractory_state must be None or one of state_names "
                            f"{cls.state_names}, got {cls.refractory_state!r}")
        if cls.reset is None:
            raise TypeError(f"{cls.__name__} declares jump_state but no reset function (reset = "
                            "staticmethod(a function marked with @kernel))")
        return True

    @classmethod
    def parameters(cls) -> tuple[str, ...]:
        """Names of every parameter (the dataclass fields)."""
        return tuple(f.name for f in dataclasses.fields(cls))
