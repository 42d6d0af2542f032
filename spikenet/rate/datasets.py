"""Small datasets for the rate-model examples and tests.

Every function returns numpy arrays (or torch tensors where the inputs it
was given were tensors). Conventions:

- Rows are samples: inputs ``X`` have shape ``(n_samples, n_inputs)`` and
  targets ``T`` have shape ``(n_samples, n_outputs)``.
- Datasets meant for training (``xor``, ``binary_world``,
  ``discrete_mapping``, ``digits``) are ``float32``, the default dtype of
  ``torch.nn`` layers, so ``torch.from_numpy(X)`` feeds a model directly.
- The +-1 pattern sets for Hopfield networks (``orthogonal_patterns``,
  ``letters``) are ``float64`` so that overlaps such as ``X @ X.T`` are exact.
- Random datasets take ``seed`` (None, an int or a
  ``numpy.random.Generator``); the same seed gives identical arrays.
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import as_rng, finite_array, positive_float, positive_int

__all__ = [
    "binary_world",
    "digits",
    "discrete_mapping",
    "letters",
    "orthogonal_patterns",
    "xor",
]


def xor():
    """The XOR truth table.

    Returns
    -------
    X : ndarray, shape (4, 2), float32
        Inputs ``(A, B)`` in the order ``(1,1), (1,0), (0,1), (0,0)``.
    T : ndarray, shape (4, 1), float32
        Targets ``A XOR B``: ``0, 1, 1, 0``.

    Examples
    --------
    >>> X, T = xor()
    >>> T.ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    X = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=np.float32)
    T = np.logical_xor(X[:, :1] > 0, X[:, 1:] > 0).astype(np.float32)
    return X, T


# The five 8-bit strings of the autoencoder example (notes 7.1).
_BINARY_WORLD = np.array(
    [
        [1, 0, 1, 0, 0, 1, 1, 0],
        [0, 1, 0, 1, 0, 1, 0, 1],
        [0, 1, 1, 0, 1, 0, 0, 1],
        [1, 0, 0, 0, 1, 0, 1, 1],
        [1, 0, 0, 1, 0, 1, 0, 1],
    ],
    dtype=np.float32,
)


def binary_world(noise=0.0, seed=None):
    """The five 8-bit strings of the autoencoder example.

    Parameters
    ----------
    noise : float, optional
        Standard deviation of Gaussian noise added to the inputs (the targets
        stay clean). Must be >= 0.
    seed : None, int or numpy.random.Generator, optional
        Source of the noise.

    Returns
    -------
    X : ndarray, shape (5, 8), float32
        Inputs: the binary strings plus ``noise * N(0, 1)``.
    T : ndarray, shape (5, 8), float32
        Targets: the clean binary strings.

    Examples
    --------
    >>> X, T = binary_world()
    >>> X.shape, bool((X == T).all())
    ((5, 8), True)
    """
    noise = positive_float("noise", noise, allow_zero=True)
    rng = as_rng(seed)
    T = _BINARY_WORLD.copy()
    X = T.copy()
    if noise > 0:
        X += (noise * rng.standard_normal(T.shape)).astype(np.float32)
    return X, T


def discrete_mapping(A, B, n=300, noise=0.1, seed=None):
    """Noisy copies of prototype inputs mapped to their targets.

    Each of the ``n`` samples picks a class ``r`` uniformly at random; its
    input is ``A[r] + noise * N(0, I)`` and its target is ``B[r]``.

    Parameters
    ----------
    A : array_like or torch.Tensor, shape (n_classes, n_inputs)
        One prototype input per class.
    B : array_like or torch.Tensor, shape (n_classes, n_outputs)
        One target per class (e.g. ``np.eye(n_classes)`` for one-hot).
    n : int, optional
        Number of samples.
    noise : float, optional
        Standard deviation of the Gaussian input noise, >= 0.
    seed : None, int or numpy.random.Generator, optional
        Source of the class choices and the noise.

    Returns
    -------
    X : ndarray or torch.Tensor, shape (n, n_inputs), float32
        Noisy inputs.
    T : ndarray or torch.Tensor, shape (n, n_outputs), float32
        Targets ``B[r]``. Tensors are returned when ``A`` is a tensor.

    Examples
    --------
    >>> import numpy as np
    >>> X, T = discrete_mapping(np.eye(3, 6), np.eye(3), n=10, seed=0)
    >>> X.shape, T.shape
    ((10, 6), (10, 3))
    """
    is_torch = _is_tensor(A) or _is_tensor(B)
    A_np = finite_array("A", _to_numpy(A), ndim=2)
    B_np = finite_array("B", _to_numpy(B), ndim=2)
    if A_np.shape[0] != B_np.shape[0]:
        raise ValueError(
            f"A and B must have one row per class each, got A {A_np.shape[0]} rows and B {B_np.shape[0]}"
        )
    if A_np.shape[0] == 0:
        raise ValueError("A must have at least one row (class)")
    n = positive_int("n", n)
    noise = positive_float("noise", noise, allow_zero=True)
    rng = as_rng(seed)
    r = rng.integers(A_np.shape[0], size=n)
    X = (A_np[r] + noise * rng.standard_normal((n, A_np.shape[1]))).astype(np.float32)
    T = B_np[r].astype(np.float32)
    if is_torch:
        import torch

        return torch.from_numpy(X), torch.from_numpy(T)
    return X, T


def orthogonal_patterns():
    """Four mutually orthogonal +-1 patterns of length 16.

    These are four Walsh functions: ``[1]*8 + [-1]*8``,
    ``([1]*4 + [-1]*4) * 2``, ``[1, -1]*8`` and ``[1, 1, -1, -1]*4``.

    Returns
    -------
    X : ndarray, shape (4, 16), float64
        Rows ``[1]*8+[-1]*8``, ``([1]*4+[-1]*4)*2``, ``[1,-1]*8`` and
        ``[1,1,-1,-1]*4``; ``X @ X.T == 16 * I``.

    Examples
    --------
    >>> X = orthogonal_patterns()
    >>> (X @ X.T == 16 * np.eye(4)).all()
    np.True_
    """
    return np.array(
        [
            [1] * 8 + [-1] * 8,
            ([1] * 4 + [-1] * 4) * 2,
            [1, -1] * 8,
            [1, 1, -1, -1] * 4,
        ],
        dtype=np.float64,
    )


# 6x6 bitmaps of A, B, C and E ('#' = +1, '.' = -1). They were chosen so
# that the overlap matrix X X^T equals the one printed in notes 8.3.2:
# [[36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36]].
_LETTERS = {
    "A": ("..##..", ".#..#.", ".#..#.", ".####.", ".#..#.", ".#..#."),
    "B": ("####..", "#...#.", "####..", "#...#.", "#...#.", "####.."),
    "C": ("..#.#.", ".#...#", "#.....", "#.....", ".#...#", "..##.."),
    "E": (".#####", ".#....", ".###..", ".#....", ".#....", ".#####"),
}


def letters():
    """The 6x6 letters A, B, C and E of the Hopfield demonstration.

    Returns
    -------
    X : ndarray, shape (4, 36), float64
        One flattened (row-major) +-1 bitmap per letter, in the order
        A, B, C, E; ink is +1. ``X[k].reshape(6, 6)`` shows letter k. The
        overlaps ``X @ X.T`` are exactly
        ``[[36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36]]``.

    Examples
    --------
    >>> X = letters()
    >>> (X @ X.T)[3].tolist()
    [8.0, 4.0, 8.0, 36.0]
    """
    rows = [[1.0 if ch == "#" else -1.0 for line in _LETTERS[name] for ch in line] for name in "ABCE"]
    return np.array(rows, dtype=np.float64)


def digits(seed=None, test_size=0.25):
    """Scikit-learn's bundled 8x8 handwritten digits, split into train and test.

    No download is needed: the 1797 images ship with scikit-learn.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator, optional
        Seed of the random split; the same seed gives the same split.
    test_size : float, optional
        Fraction of the samples held out for testing, in (0, 1). The split is
        stratified: each digit class is split in this proportion.

    Returns
    -------
    X_train : ndarray, shape (n_train, 64), float32
        Pixel intensities scaled from 0..16 to [0, 1].
    y_train : ndarray, shape (n_train,), int64
        Labels 0-9.
    X_test : ndarray, shape (n_test, 64), float32
    y_test : ndarray, shape (n_test,), int64

    Examples
    --------
    >>> X_train, y_train, X_test, y_test = digits(seed=0)
    >>> X_train.shape[1], X_train.dtype, y_train.dtype
    (64, dtype('float32'), dtype('int64'))
    """
    from sklearn.datasets import load_digits

    test_size = positive_float("test_size", test_size)
    if not test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    rng = as_rng(seed)
    data = load_digits()
    X = (np.asarray(data.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(data.target, dtype=np.int64)
    test_idx = []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = round(test_size * idx.size)
        test_idx.append(idx[:n_test])
    test_idx = np.sort(np.concatenate(test_idx))
    is_test = np.zeros(y.size, dtype=bool)
    is_test[test_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(test_idx)
    if train_idx.size == 0 or test_idx.size == 0:
        raise ValueError(f"test_size={test_size} leaves an empty train or test set")
    return X[train_idx], y[train_idx], X[test_idx], y[test_idx]


def _is_tensor(x) -> bool:
    torch = _torch_if_loaded()
    return torch is not None and isinstance(x, torch.Tensor)


def _to_numpy(x):
    if _is_tensor(x):
        return x.detach().cpu().numpy()
    return x


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")
