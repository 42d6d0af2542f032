"""Connection rules: random synapse lists between two populations, and per-synapse distributions.

Each rule returns a :class:`SynapseList`: one entry per synapse, with its
pre- and post-synaptic neuron and, when asked, its weight and delay, drawn
per synapse. The rules follow NEST's connection rules (``pairwise_bernoulli``,
``fixed_indegree``, ``fixed_outdegree``, ``fixed_total_number``) with the same
meaning of ``autapses`` (a neuron connected to itself, for a population
connected to itself) and ``multapses`` (several synapses between the same
pair). Every rule is seeded and runs in time proportional to the number of
synapses, never to ``n_pre * n_post``.

:meth:`spikenet.sim.Network.connect` takes a ``SynapseList`` as it is,
keeping every synapse with its own weight and delay (multapses included).
``SynapseList.to_sparse()`` gives the ``(post, pre)`` weight matrix
(multapses add up, which is exact for linear synapses with equal delays).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from spikenet._validation import as_rng, finite_array, finite_float, positive_int

__all__ = [
    "Normal",
    "SynapseList",
    "Uniform",
    "bernoulli_positions",
    "fixed_indegree",
    "fixed_outdegree",
    "fixed_total_number",
    "pairwise_bernoulli",
]


@dataclass(frozen=True)
class Normal:
    """Normal distribution of a per-synapse value, optionally bounded.

    Parameters
    ----------
    mean, std : float
        Mean and standard deviation (std >= 0), in the value's units.
    low, high : float or None
        Bounds. Outside them a value is drawn again (``bound="redraw"``, as
        NEST's ``redraw``) or set to the bound (``bound="clip"``).
    bound : {"redraw", "clip"}
    """

    mean: float
    std: float
    low: float | None = None
    high: float | None = None
    bound: str = "redraw"

    def __post_init__(self):
        object.__setattr__(self, "mean", finite_float("mean", self.mean))
        std = finite_float("std", self.std)
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}")
        object.__setattr__(self, "std", std)
        if self.bound not in ("redraw", "clip"):
            raise ValueError(f"bound must be 'redraw' or 'clip', got {self.bound!r}")
        lo = -np.inf if self.low is None else float(self.low)
        hi = np.inf if self.high is None else float(self.high)
        if not lo < hi:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.bound == "redraw" and std == 0 and not lo <= self.mean <= hi:
            raise ValueError("with std = 0 the mean must lie within [low, high]")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values (float64)."""
        lo = -np.inf if self.low is None else float(self.low)
        hi = np.inf if self.high is None else float(self.high)
        x = rng.normal(self.mean, self.std, n)
        if self.bound == "clip":
            return np.clip(x, lo, hi)
        bad = np.flatnonzero((x < lo) | (x > hi))
        for _ in range(1000):
            if bad.size == 0:
                return x
            x[bad] = rng.normal(self.mean, self.std, bad.size)
            bad = bad[(x[bad] < lo) | (x[bad] > hi)]
        raise ValueError(f"Normal({self.mean}, {self.std}) almost never falls in [{lo}, {hi}]: "
                         "widen the bounds or use bound='clip'")


@dataclass(frozen=True)
class Uniform:
    """Uniform distribution on ``[low, high)`` of a per-synapse value."""

    low: float
    high: float

    def __post_init__(self):
        lo, hi = finite_float("low", self.low), finite_float("high", self.high)
        if not lo < hi:
            raise ValueError(f"low ({lo}) must be below high ({hi})")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values (float64)."""
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True, eq=False)
class SynapseList:
    """The synapses of one projection, one entry each (pre-major order).

    Attributes
    ----------
    pre, post : ndarray (n_synapses,) int64
        Pre- and post-synaptic neuron of each synapse.
    shape : tuple of int
        ``(n_post, n_pre)``, the shape of the weight matrix.
    weight, delay : ndarray (n_synapses,) float64 or None
        Per-synapse weight (the units of the synapse kind) and delay (s).
    """

    pre: np.ndarray
    post: np.ndarray
    shape: tuple[int, int]
    weight: np.ndarray | None = None
    delay: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.pre.size)

    def in_degrees(self) -> np.ndarray:
        """Synapses per post-synaptic neuron, (n_post,) int64."""
        return np.bincount(self.post, minlength=self.shape[0])

    def out_degrees(self) -> np.ndarray:
        """Synapses per pre-synaptic neuron, (n_pre,) int64."""
        return np.bincount(self.pre, minlength=self.shape[1])

    def to_sparse(self, values=None):
        """A ``scipy.sparse.csr_matrix`` (post, pre) of the weights (or of ``values``, one per synapse).

        Multapses add up. Without weights and ``values`` the entries count
        the synapses of each pair.
        """
        import scipy.sparse as sp

        if values is None:
            values = self.weight if self.weight is not None else np.ones(len(self))
        values = np.asarray(values, dtype=np.float64)
        if values.shape != self.pre.shape:
            raise ValueError(f"values must have one entry per synapse ({len(self)}), got {values.shape}")
        m = sp.coo_matrix((values, (self.post, self.pre)), shape=self.shape).tocsr()
        m.sum_duplicates()
        return m


def _draw(name, spec, rng, n):
    if spec is None:
        return None
    if isinstance(spec, (Normal, Uniform)):
        return spec.sample(rng, n)
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return np.full(n, finite_float(name, spec))
    arr = finite_array(name, spec, ndim=1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar, a Normal/Uniform distribution or one value per synapse "
                         f"({n}), got shape {arr.shape}")
    return arr.copy()


def _finish(pre, post, shape, weight, delay, rng):
    order = np.lexsort((post, pre))
    pre, post = pre[order].astype(np.int64), post[order].astype(np.int64)
    w = _draw("weight", weight, rng, pre.size)
    d = _draw("delay", delay, rng, pre.size)
    if d is not None and np.any(d < 0):
        raise ValueError("delay must be >= 0 s for every synapse")
    return SynapseList(pre, post, shape, w, d)


def _sizes(n_pre, n_post, autapses):
    n_pre, n_post = positive_int("n_pre", n_pre), positive_int("n_post", n_post)
    if not isinstance(autapses, bool):
        raise TypeError(f"autapses must be True or False, got {autapses!r}")
    if not autapses and n_pre != n_post:
        raise ValueError("autapses=False concerns a population connected to itself: n_pre must equal n_post")
    return n_pre, n_post


def bernoulli_positions(rng, total: int, p: float) -> np.ndarray:
    """Sorted indices (int64) of the successes among ``total`` Bernoulli(p) trials.

    Drawn as geometric gaps between successes: the cost follows the number of
    successes, not ``total``.
    """
    if p >= 1.0:
        return np.arange(total, dtype=np.int64)
    if p <= 0.0 or total == 0:
        return np.zeros(0, dtype=np.int64)
    out = []
    pos = -1
    while pos < total:
        expected = int((total - 1 - pos) * p * 1.05 + 10 * np.sqrt((total - pos) * p) + 16)
        hits = pos + np.cumsum(rng.geometric(p, size=expected))
        out.append(hits[hits < total])
        pos = int(hits[-1])
    return np.concatenate(out)


def _distinct_rows(rng, rows, k, pool):
    """(rows, k) int64: each row ``k`` distinct values of range(pool), uniformly."""
    if k == 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if rows * pool <= 2**24 or 4 * k > pool:
        # dense: the k smallest of pool random keys per row (in chunks of rows)
        out = np.empty((rows, k), dtype=np.int64)
        step = max(1, 2**22 // pool)
        for r0 in range(0, rows, step):
            keys = rng.random((min(rows, r0 + step) - r0, pool))
            out[r0:r0 + keys.shape[0]] = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < pool \
                else np.argsort(keys, axis=1)
        return out
    # sparse: draw with replacement, then draw the repeated entries again until none is left
    idx = np.sort(rng.integers(0, pool, size=(rows, k)), axis=1)
    while True:
        dup = np.zeros(idx.shape, dtype=bool)
        dup[:, 1:] = idx[:, 1:] == idx[:, :-1]
        n = int(dup.sum())
        if n == 0:
            return idx
        idx[dup] = rng.integers(0, pool, size=n)
        idx.sort(axis=1)


def _choose(rng, rows, k, n, exclude_self, multapses):
    """(rows, k) draws from range(n) per row; without ``row`` itself when ``exclude_self``; distinct
    unless ``multapses``."""
    pool = n - 1 if exclude_self else n
    if not multapses and k > pool:
        raise ValueError(f"cannot draw {k} distinct partners out of {pool} without multapses")
    idx = rng.integers(0, pool, size=(rows, k)) if multapses else _distinct_rows(rng, rows, k, pool)
    if exclude_self:
        own = np.arange(rows)[:, None]
        idx = idx + (idx >= own)  # skip the row's own index
    return idx


def fixed_indegree(n_pre, n_post, indegree, *, autapses=True, multapses=True, weight=None, delay=None,
                   seed=None) -> SynapseList:
    """Each post-synaptic neuron receives exactly ``indegree`` synapses from random pre-synaptic neurons.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    indegree : int
        Synapses per post-synaptic neuron (>= 0).
    autapses : bool
        Allow a neuron to connect to itself (``False`` needs ``n_pre == n_post``).
    multapses : bool
        Allow several synapses between the same pair.
    weight, delay : float, array (n_synapses,), Normal or Uniform, optional
        Per-synapse weights and delays (s), drawn after the connectivity.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    SynapseList
    """
    n_pre, n_post = _sizes(n_pre, n_post, autapses)
    k = _count("indegree", indegree)
    rng = as_rng(seed)
    idx = _choose(rng, n_post, k, n_pre, not autapses, multapses)
    post = np.repeat(np.arange(n_post), k)
    return _finish(idx.ravel(), post, (n_post, n_pre), weight, delay, rng)


def fixed_outdegree(n_pre, n_post, outdegree, *, autapses=True, multapses=True, weight=None, delay=None,
                    seed=None) -> SynapseList:
    """Each pre-synaptic neuron makes exactly ``outdegree`` synapses onto random post-synaptic neurons.

    Parameters as for :func:`fixed_indegree`, with ``outdegree`` synapses per
    pre-synaptic neuron.
    """
    n_pre, n_post = _sizes(n_pre, n_post, autapses)
    k = _count("outdegree", outdegree)
    rng = as_rng(seed)
    idx = _choose(rng, n_pre, k, n_post, not autapses, multapses)
    pre = np.repeat(np.arange(n_pre), k)
    return _finish(pre, idx.ravel(), (n_post, n_pre), weight, delay, rng)


def fixed_total_number(n_pre, n_post, n_synapses, *, autapses=True, multapses=True, weight=None, delay=None,
                       seed=None) -> SynapseList:
    """Exactly ``n_synapses`` synapses between pairs drawn uniformly at random.

    Parameters as for :func:`fixed_indegree`, with ``n_synapses`` in all. With
    multapses the pairs are drawn independently (NEST's rule); without, they
    are distinct.
    """
    n_pre, n_post = _sizes(n_pre, n_post, autapses)
    total = _count("n_synapses", n_synapses)
    rng = as_rng(seed)
    pairs = n_pre * n_post - (0 if autapses else n_pre)
    if not multapses and total > pairs:
        raise ValueError(f"n_synapses ({total}) exceeds the {pairs} distinct pairs available "
                         "without multapses")
    if multapses:
        lin = rng.integers(0, pairs, size=total)
    else:
        lin = np.unique(rng.integers(0, pairs, size=total))
        while lin.size < total:
            lin = np.unique(np.concatenate([lin, rng.integers(0, pairs, size=total - lin.size)]))
    pre, post = _pair_from_linear(lin, n_pre, autapses)
    return _finish(pre, post, (n_post, n_pre), weight, delay, rng)


def pairwise_bernoulli(n_pre, n_post, p, *, autapses=True, weight=None, delay=None, seed=None) -> SynapseList:
    """Each pair is connected with probability ``p``, independently (at most one synapse per pair).

    Parameters as for :func:`fixed_indegree`, with the connection probability
    ``p`` in [0, 1]. Drawn by geometric gaps between successes, so the cost
    follows the number of synapses.
    """
    n_pre, n_post = _sizes(n_pre, n_post, autapses)
    p = finite_float("p", p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    rng = as_rng(seed)
    pairs = n_pre * n_post - (0 if autapses else n_pre)
    lin = bernoulli_positions(rng, pairs, p)
    pre, post = _pair_from_linear(lin, n_pre, autapses)
    return _finish(pre, post, (n_post, n_pre), weight, delay, rng)


def _pair_from_linear(lin, n_pre, autapses):
    """Linear pair indices (post-major over the allowed pairs) to (pre, post)."""
    lin = np.asarray(lin, dtype=np.int64)
    if autapses:
        return lin % n_pre, lin // n_pre
    post = lin // (n_pre - 1)
    pre = lin % (n_pre - 1)
    return pre + (pre >= post), post


def _count(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)
