r"""The interface of a synapse kind, and the registry the network engine reads.

A synapse kind is one file: a frozen dataclass deriving from
:class:`SynapseKind` whose fields are its parameters, registered with
:func:`register_synapse`. It declares how a spike enters the post-synaptic
neuron (its ``entry``):

- ``"current"``: ``n_stages`` linear stages ``x`` with ``dx/dt = A x``
  between spikes (``A`` the lower-triangular :meth:`SynapseKind.generator`,
  1/s); a spike of weight ``w`` adds ``w * input_scale`` to the first stage,
  and the last stage is the synaptic current (drive units);
- ``"conductance"``: the same stages, the last one a conductance pulling the
  voltage towards the kind's reversal potential ``e_rev``;
- ``"jump"``: no continuous state; a spike of weight ``w`` adds ``w`` to the
  post-synaptic voltage at its arrival time.

Everything the engine needs of a current or conductance kind follows from
``A`` (the stage propagator over a step, ``expm(A dt)``; the exact voltage
coupling into a LIF neuron; the exact step average of the last stage), so a
new kind declares ``generator`` and ``input_scale`` and inherits the rest;
a kind may override any of them with closed forms. The engine dispatches on
``entry`` and on these methods only, never on the class.
"""

from __future__ import annotations

import math
import numbers
from typing import ClassVar

import numpy as np

from spikenet._validation import finite_array, positive_float

__all__ = [
    "CONDUCTANCE",
    "CURRENT",
    "ENTRIES",
    "JUMP",
    "SynapseKind",
    "expm",
    "register_synapse",
    "synapse_kinds",
]

CURRENT = "current"
CONDUCTANCE = "conductance"
JUMP = "jump"
ENTRIES = (CURRENT, CONDUCTANCE, JUMP)

_REGISTRY: dict[str, type] = {}


def expm(M) -> np.ndarray:
    """Matrix exponential of a small square matrix (scaling and squaring, Taylor).

    Used for the exact propagator coefficients of the network kernel (kept
    here so that ``import spikenet.sim`` does not pull in ``scipy.linalg``).
    ``M`` is scaled by ``2^-s`` to a norm below 1/2, where 20 Taylor terms
    leave a truncation error below ``0.5^21 / 21! ~ 1e-26``; then squared
    ``s`` times. Agrees with ``scipy.linalg.expm`` to ~1e-15 relative (tested).

    Parameters
    ----------
    M : array_like, shape (m, m)

    Returns
    -------
    numpy.ndarray, shape (m, m)
    """
    M = np.asarray(M, dtype=np.float64)
    norm = np.abs(M).sum(axis=1).max() if M.size else 0.0
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    A = M / 2.0**s
    term = np.eye(M.shape[0])
    out = term.copy()
    for j in range(1, 21):
        term = term @ A / j
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


class SynapseKind:
    """Base class of the synapse kinds :class:`~spikenet.sim.Network` runs.

    Subclasses are frozen dataclasses (their fields are the kind's
    parameters, checked in ``__post_init__``) registered with
    :func:`register_synapse`. Instances are used as dictionary keys by the
    network (one synapse group per post population and kind instance), so
    they must be hashable and compare by value, as frozen dataclasses do.

    Attributes
    ----------
    entry : str
        How a spike enters the neuron: ``"current"``, ``"conductance"`` or
        ``"jump"`` (see the module docstring). A conductance kind also has
        the field ``e_rev``, its reversal potential in the post model's
        voltage units.
    """

    entry: ClassVar[str] = CURRENT

    # ------------------------------------------------------------ to declare
    @property
    def n_stages(self) -> int:
        """Number of linear stages (1 for ``"jump"``: the engine sums a step's jumps in one stage)."""
        return 1 if self.entry == JUMP else self.generator().shape[0]

    @property
    def input_scale(self) -> float:
        """What a spike of unit weight adds to the first stage, in 1/s (``"jump"``: 1, the jump itself)."""
        raise NotImplementedError(f"{type(self).__name__} must define input_scale")

    def generator(self) -> np.ndarray:
        """The stages' generator ``A`` (1/s), with ``dx/dt = A x`` between spikes.

        Returns
        -------
        numpy.ndarray, shape (n_stages, n_stages)
            Lower triangular (the engine advances the stages from the last
            one down); the last stage is the kind's current or conductance.
        """
        raise NotImplementedError(f"{type(self).__name__} must define generator()")

    @property
    def cascade_tau(self) -> float | None:
        """``tau`` (s) if the stages are the PSC cascade ``tau x_0' = -x_0``, ``tau x_i' = x_{i-1} - x_i``.

        The engine's conductance integrator (LIF populations receiving
        conductance synapses) evaluates the stages inside a step by the
        cascade's closed forms; kinds that are not such a cascade (None) are
        refused there with a ``ValueError`` naming ``synapse``.
        """
        return None

    def check_post(self, post) -> None:
        """Raise ``ValueError`` naming ``synapse`` unless population ``post`` can receive this kind.

        The default follows ``entry``: a current enters every neuron model
        (the engine refuses spike sources itself); a voltage jump needs a LIF
        population or a NeuronModel declaring ``jump_state``; a conductance
        needs a LIF or HH population or a NeuronModel with a ``cond_step``.
        A kind may refuse more by overriding it (and calling this one).
        """
        from spikenet.sim.models.base import NeuronModel
        from spikenet.sim.neurons import HH, LIF

        name, model = type(self).__name__, type(post.neuron).__name__
        if self.entry == JUMP and not isinstance(post.neuron, LIF) and not (
                isinstance(post.neuron, NeuronModel) and post.neuron.receives_jumps()):
            raise ValueError(f"synapse: {name} (voltage jumps) needs a LIF population or a NeuronModel that "
                             f"declares jump_state; {post.name!r} is {model} (use a PSCFilter)")
        if self.entry == CONDUCTANCE and not isinstance(post.neuron, (LIF, HH)) and getattr(
                type(post.neuron), "cond_step", None) is None:
            raise ValueError(f"synapse: {name} synapses need a LIF or HH population or a NeuronModel "
                             f"with a cond_step; {post.name!r} is {model}")

    @classmethod
    def examples(cls, e_rev: float) -> dict:
        """Instances the engine's contract tests run, by name.

        Parameters
        ----------
        e_rev : float
            An excitatory reversal potential in the post model's voltage
            units (for conductance kinds).

        Returns
        -------
        dict of str to SynapseKind
        """
        return {}

    # ------------------------------------------------- derived from generator
    def stage_propagator(self, dt) -> np.ndarray:
        """Exact one-step propagator of the stages, ``expm(A dt)``.

        Parameters
        ----------
        dt : float
            Time step in seconds (> 0).

        Returns
        -------
        numpy.ndarray, shape (n_stages, n_stages)
            Lower-triangular ``P`` with ``x(t + dt) = P @ x(t)`` between spikes.
        """
        dt = positive_float("dt", dt)
        return expm(self.generator() * dt)

    def voltage_coupling(self, tau_m: float, dt: float) -> np.ndarray:
        """Coefficients ``c_s``: the end-of-step voltage of a LIF neuron gains ``sum_s c_s x_s(0)``.

        Exact: row 0 of the matrix exponential of the coupled linear system
        ``z = [v, x]``, ``tau_m dv/dt = x_last - v``, ``dx/dt = A x``.

        Parameters
        ----------
        tau_m : float
            Membrane time constant in seconds.
        dt : float
            Time step in seconds.

        Returns
        -------
        numpy.ndarray, shape (n_stages,)
        """
        A = self.generator()
        m = A.shape[0]
        M = np.zeros((m + 1, m + 1))
        M[0, 0] = -1.0 / tau_m
        M[0, m] = 1.0 / tau_m
        M[1:, 1:] = A
        return expm(M * dt)[0, 1:]

    def step_average(self, dt: float) -> np.ndarray:
        """Coefficients ``d_s``: the last stage averaged over a step is ``sum_s d_s x_s(0)``.

        Exact (Van Loan 1978): the top-right block of ``expm([[A, I], [0, 0]] dt)``
        is ``int_0^dt expm(A t) dt``.

        Parameters
        ----------
        dt : float
            Time step in seconds.

        Returns
        -------
        numpy.ndarray, shape (n_stages,)
        """
        A = self.generator()
        m = A.shape[0]
        big = np.zeros((2 * m, 2 * m))
        big[:m, :m] = A
        big[:m, m:] = np.eye(m)
        integral = expm(big * dt)[:m, m:]
        return integral[m - 1] / dt

    def kernel(self, t):
        """The last stage after a spike of unit weight at ``t = 0``, in 1/s (the impulse response).

        Parameters
        ----------
        t : float or array_like
            Time since the spike in seconds, any shape; 0 for ``t < 0``.

        Returns
        -------
        numpy.ndarray or float
            Same shape as ``t``.
        """
        t = finite_array("t", t)
        A = self.generator()
        flat = t.ravel()
        out = np.array([expm(A * s)[-1, 0] * self.input_scale if s >= 0 else 0.0 for s in flat])
        out = out.reshape(t.shape)
        return out if out.ndim else float(out)


def register_synapse(cls):
    """Register a synapse kind with the network engine (usable as a class decorator).

    Checks what the class declares: an ``entry`` among ``"current"``,
    ``"conductance"``, ``"jump"``, and a frozen dataclass deriving from
    :class:`SynapseKind`. Registering a class again (or another class of the
    same qualified name, as a reloaded module gives) replaces the entry.

    Parameters
    ----------
    cls : type
        The synapse kind.

    Returns
    -------
    type
        ``cls``, unchanged.
    """
    if not (isinstance(cls, type) and issubclass(cls, SynapseKind)):
        raise TypeError(f"cls must be a subclass of SynapseKind, got {cls!r}")
    if cls.entry not in ENTRIES:
        raise ValueError(f"entry: {cls.__name__}.entry must be one of {ENTRIES}, got {cls.entry!r}")
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"cls: {cls.__name__} must be a frozen dataclass (instances key the network's "
                        "synapse groups)")
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def synapse_kinds() -> tuple:
    """The registered synapse kinds, in registration order.

    Returns
    -------
    tuple of type
    """
    return tuple(_REGISTRY.values())


def is_registered(synapse) -> bool:
    """Whether ``synapse`` is an instance of a registered synapse kind."""
    cls = type(synapse)
    return _REGISTRY.get(f"{cls.__module__}.{cls.__qualname__}") is cls


def check_linear(synapse) -> None:
    """ValueError naming ``synapse`` unless its generator is a finite lower-triangular square matrix.

    Parameters
    ----------
    synapse : SynapseKind
        A current or conductance kind.
    """
    A = np.asarray(synapse.generator(), dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise ValueError(f"synapse: {type(synapse).__name__}.generator() must be a square (m, m) matrix, "
                         f"got shape {A.shape}")
    if not np.all(np.isfinite(A)) or np.any(np.triu(A, 1) != 0.0):
        raise ValueError(f"synapse: {type(synapse).__name__}.generator() must be finite and lower "
                         "triangular (the engine advances the stages from the last one down)")
    scale = synapse.input_scale
    if isinstance(scale, bool) or not (isinstance(scale, numbers.Real) and math.isfinite(scale)):
        raise ValueError(f"synapse: {type(synapse).__name__}.input_scale must be a finite number, "
                         f"got {scale!r}")
