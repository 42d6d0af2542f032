"""Hopfield networks: Hebbian content-addressable memory over +-1 patterns (Hopfield 1982)."""

from __future__ import annotations

import numpy as np

from spikenet._validation import as_rng, choice, finite_float, positive_int

__all__ = ["Hopfield", "hamming", "perturb", "recall_rate"]


def _pm1_array(name: str, value, *, ndim=(1, 2)) -> np.ndarray:
    """Convert ``value`` to a float array whose entries are all -1 or +1."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        # numpy raises ValueError for ragged nested lists ("inhomogeneous shape").
        raise ValueError(
            f"{name} must be a rectangular array of +-1 values (all rows of the same length): {exc}"
        ) from exc
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all((arr == 1.0) | (arr == -1.0)):
        bad = arr[(arr != 1.0) & (arr != -1.0)].ravel()[0]
        raise ValueError(f"{name} must contain only -1 and +1 entries, found {bad!r}")
    return arr


def _threshold(h: np.ndarray) -> np.ndarray:
    """The Hopfield output rule: +1 where ``h >= 0``, else -1."""
    return np.where(h >= 0.0, 1.0, -1.0)


class Hopfield:
    """Hopfield network storing +-1 patterns with the Hebbian rule.

    Parameters
    ----------
    patterns : array_like, shape (M, N)
        ``M`` memories of ``N`` units, every entry -1 or +1.
    bias : bool
        If True (default), the bias is the mean pattern; if False it is zero (the classic network).

    Attributes
    ----------
    W : ndarray, shape (N, N)
        ``X^T X / M - I``: symmetric, zero diagonal.
    b : ndarray, shape (N,)
        The bias (mean pattern, or zeros).
    patterns : ndarray, shape (M, N)
        A copy of the stored memories.

    Notes
    -----
    The energy ``E(x) = -1/2 x W x^T - b x^T`` never increases when one unit
    is set to ``+1 if (x W + b)_j >= 0 else -1``: with ``W`` symmetric and
    ``W_jj = 0``, changing ``x_j`` by ``d`` changes ``E`` by ``-d h_j`` with
    ``h_j = (x W + b)_j``, and the rule makes ``d`` and ``h_j`` agree in sign.
    (The bias must be added, not subtracted, for this descent property.)
    Asynchronous recall
    therefore always reaches a fixed point; synchronous recall can end in a
    two-cycle, which ``recall`` detects and stops on. Fields and energies are
    computed from the integer matrices ``M W`` and ``M b``, so a field of
    exactly zero is recognised as such (and counts as ``>= 0``).

    References
    ----------
    Hopfield, J. J. (1982). Neural networks and physical systems with
    emergent collective computational abilities. PNAS 79, 2554-2558.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 1, 1, 1, -1, -1, -1, -1], [1, -1, 1, -1, 1, -1, 1, -1]])
    >>> net = Hopfield(X, bias=False)
    >>> x = X[0].copy()
    >>> x[0] = -1  # one corrupted bit
    >>> net.recall(x).astype(int).tolist()
    [1, 1, 1, 1, -1, -1, -1, -1]
    """

    def __init__(self, patterns, bias: bool = True):
        X = _pm1_array("patterns", patterns, ndim=2)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        M, N = X.shape
        self.patterns = X.copy()
        # M*W and M*b have integer entries, exact in float64 (|entries| <= M < 2^53): the
        # update rule and the energy are computed from them, so ties (field exactly 0) and
        # energy comparisons do not depend on rounding.
        self._MW = X.T @ X - M * np.eye(N)
        self._Mb = X.sum(axis=0) if bias else np.zeros(N)
        self._M = M
        self.W = self._MW / M
        self.b = self._Mb / M

    @property
    def n_units(self) -> int:
        """Number of units ``N``."""
        return self.W.shape[0]

    def _state(self, x) -> np.ndarray:
        arr = _pm1_array("x", x)
        if arr.shape[-1] != self.n_units:
            raise ValueError(
                f"x must have length {self.n_units} (the number of units) along its last axis, "
                f"got shape {arr.shape}"
            )
        return arr

    def energy(self, x):
        """Hopfield energy ``-1/2 x W x^T - b x^T``.

        Parameters
        ----------
        x : array_like, shape (N,) or (k, N)
            One state or ``k`` states of +-1 entries.

        Returns
        -------
        float or ndarray, shape (k,)
        """
        s = self._state(x)
        e = (-0.5 * np.einsum("...i,ij,...j->...", s, self._MW, s) - s @ self._Mb) / self._M
        return float(e) if s.ndim == 1 else e

    def trajectory(self, x, mode: str = "async", max_iters: int = 100, seed=None) -> np.ndarray:
        """States visited by recall from one starting state, time first.

        Parameters
        ----------
        x : array_like, shape (N,)
            Starting state of +-1 entries.
        mode : {"async", "sync"}
            ``"sync"``: one row per synchronous update of all units.
            ``"async"``: one row per single-unit update (``N`` rows per sweep,
            each sweep in a fresh random order).
        max_iters : int
            Maximum number of sweeps (async) or updates (sync).
        seed : None, int or numpy.random.Generator
            Random unit order for ``"async"``.

        Returns
        -------
        ndarray, shape (steps + 1, N)
            Row 0 is ``x``; the last row is the state recall returns.
        """
        s = self._state(x)
        if s.ndim != 1:
            raise ValueError(f"x must be a single state of shape ({self.n_units},), got {s.shape}")
        rows = [s.copy()]
        self._run(s[None, :].copy(), mode, max_iters, seed, rows)
        return np.array(rows)

    def recall(self, x, mode: str = "sync", max_iters: int = 100, seed=None) -> np.ndarray:
        """Iterate the network from ``x`` until it settles.

        Parameters
        ----------
        x : array_like, shape (N,) or (k, N)
            Starting state(s) of +-1 entries (e.g. corrupted memories).
        mode : {"sync", "async"}
            ``"sync"`` updates every unit at once, ``x <- thresh(x W + b)``;
            ``"async"`` updates one unit at a time in a random order (a new
            permutation per sweep; all ``k`` states share the order).
        max_iters : int
            Maximum number of synchronous updates or asynchronous sweeps.
            Iteration stops earlier at a fixed point (or, in sync mode, a
            two-cycle).
        seed : None, int or numpy.random.Generator
            Seeds the asynchronous order.

        Returns
        -------
        ndarray, same shape as ``x``
            The settled state(s), entries +-1.
        """
        s = self._state(x)
        single = s.ndim == 1
        out = self._run(np.atleast_2d(s).copy(), mode, max_iters, seed, None)
        return out[0] if single else out

    def _run(self, S, mode, max_iters, seed, rows):
        mode = choice("mode", mode, ("sync", "async"))
        max_iters = positive_int("max_iters", max_iters)
        rng = as_rng(seed)
        if mode == "sync":
            prev = None
            for _ in range(max_iters):
                new = _threshold(S @ self._MW + self._Mb)
                if rows is not None:
                    rows.append(new[0].copy())
                if np.array_equal(new, S):
                    break
                if prev is not None and np.array_equal(new, prev):
                    S = new
                    break  # a two-cycle: synchronous updates will never settle
                prev, S = S, new
            return S
        for _ in range(max_iters):
            changed = False
            for j in rng.permutation(self.n_units):
                new_j = _threshold(S @ self._MW[:, j] + self._Mb[j])
                if not np.array_equal(new_j, S[:, j]):
                    changed = True
                    S[:, j] = new_j
                if rows is not None:
                    rows.append(S[0].copy())
            if not changed:
                break
        return S


def hamming(x, y):
    """Number of places where two +-1 (or 0/1) patterns differ.

    Parameters
    ----------
    x, y : array_like, shape (..., N)
        Patterns; leading axes broadcast.

    Returns
    -------
    int or ndarray of int, shape (...)
    """
    a = np.asarray(x)
    b = np.asarray(y)
    if a.shape[-1:] != b.shape[-1:]:
        raise ValueError(f"x and y must have the same length, got shapes {a.shape} and {b.shape}")
    d = np.count_nonzero(a != b, axis=-1)
    return int(d) if np.ndim(d) == 0 else d


def perturb(x, p, seed=None) -> np.ndarray:
    """Binary noise: each bit, with probability ``p``, is replaced by a random +-1.

    A replaced bit keeps its value half of the time, so each
    bit ends up flipped with probability ``p / 2``.

    Parameters
    ----------
    x : array_like, shape (N,) or (k, N)
        Patterns of +-1 entries.
    p : float
        Replacement probability in [0, 1].
    seed : None, int or numpy.random.Generator

    Returns
    -------
    ndarray, same shape as ``x``
    """
    arr = _pm1_array("x", x)
    p = finite_float("p", p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    rng = as_rng(seed)
    replace = rng.random(arr.shape) < p
    random_bits = rng.choice(np.array([-1.0, 1.0]), size=arr.shape)
    return np.where(replace, random_bits, arr)


def recall_rate(n_units: int, n_patterns: int, p: float = 0.1, trials: int = 20,
                mode: str = "async", bias: bool = False, seed=None) -> float:
    """Fraction of memories recalled exactly, for random patterns (a capacity point).

    For each trial, ``n_patterns`` random +-1 patterns of length ``n_units``
    are stored; each one is corrupted with :func:`perturb` at ``p`` and
    recalled. The result is the fraction of recalls that end exactly on the
    stored pattern.

    Parameters
    ----------
    n_units : int
        ``N``.
    n_patterns : int
        ``M``.
    p : float
        Corruption probability passed to :func:`perturb`.
    trials : int
        Independent networks to average over.
    mode : {"async", "sync"}
    bias : bool
        Passed to :class:`Hopfield` (False: the classic zero-bias network).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    float
        In [0, 1].

    Notes
    -----
    For the classic network, memories stop being stable near
    ``M ~ 0.138 N`` (Amit, Gutfreund & Sompolinsky 1985).
    """
    n_units = positive_int("n_units", n_units)
    n_patterns = positive_int("n_patterns", n_patterns)
    trials = positive_int("trials", trials)
    rng = as_rng(seed)
    hits = 0
    for _ in range(trials):
        X = rng.choice(np.array([-1.0, 1.0]), size=(n_patterns, n_units))
        net = Hopfield(X, bias=bias)
        out = net.recall(perturb(X, p, seed=rng), mode=mode, seed=rng)
        hits += int(np.sum(np.all(out == X, axis=1)))
    return hits / (trials * n_patterns)
