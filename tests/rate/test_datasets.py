"""Tests of spikenet.rate.datasets against the numbers printed in the notes."""

import numpy as np
import pytest
import torch

from spikenet.rate import datasets

# Overlap matrix X X^T of the letters A, B, C, E printed in notes 8.3.2.
NOTES_LETTER_OVERLAPS = np.array([[36, 0, 0, 8], [0, 36, 0, 4], [0, 0, 36, 8], [8, 4, 8, 36]])
# The five strings of the autoencoder example, notes 7.1.
NOTES_BINARY_WORLD = np.array(
    [
        [1, 0, 1, 0, 0, 1, 1, 0],
        [0, 1, 0, 1, 0, 1, 0, 1],
        [0, 1, 1, 0, 1, 0, 0, 1],
        [1, 0, 0, 0, 1, 0, 1, 1],
        [1, 0, 0, 1, 0, 1, 0, 1],
    ]
)
# Sample standard deviation of n i.i.d. normals has relative standard error
# ~1/sqrt(2n); 5 standard errors at n >= 1000 is below 12%.
STD_RTOL = 0.12


def test_xor_targets_are_exclusive_or_of_inputs():
    X, T = datasets.xor()
    assert X.shape == (4, 2) and T.shape == (4, 1)
    assert X.dtype == np.float32 and T.dtype == np.float32
    expected = [int(a) ^ int(b) for a, b in X]
    assert T.ravel().tolist() == expected
    # all four input combinations appear once
    assert sorted(map(tuple, X.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_binary_world_without_noise_is_the_notes_strings():
    X, T = datasets.binary_world()
    np.testing.assert_array_equal(T, NOTES_BINARY_WORLD)
    np.testing.assert_array_equal(X, T)
    assert X.dtype == np.float32


def test_binary_world_noise_has_requested_std_and_clean_targets():
    noise = 0.3
    diffs = np.concatenate(
        [(lambda xt: (xt[0] - xt[1]).ravel())(datasets.binary_world(noise, seed=s)) for s in range(40)]
    )
    np.testing.assert_allclose(diffs.std(), noise, rtol=STD_RTOL)
    _, T = datasets.binary_world(noise, seed=1)
    np.testing.assert_array_equal(T, NOTES_BINARY_WORLD)


def test_binary_world_same_seed_gives_identical_noise():
    a = datasets.binary_world(0.1, seed=5)[0]
    b = datasets.binary_world(0.1, seed=5)[0]
    c = datasets.binary_world(0.1, seed=6)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_binary_world_rejects_negative_noise():
    with pytest.raises(ValueError, match="noise"):
        datasets.binary_world(noise=-0.1)


def test_discrete_mapping_samples_are_noisy_prototypes_with_their_targets():
    rng = np.random.default_rng(0)
    A = 3.0 * rng.random((3, 6)) - 0.5
    B = np.eye(3)
    noise = 0.1
    X, T = datasets.discrete_mapping(A, B, n=3000, noise=noise, seed=1)
    assert X.shape == (3000, 6) and T.shape == (3000, 3)
    assert X.dtype == np.float32 and T.dtype == np.float32
    cls = T.argmax(axis=1)
    # each target is a row of B; each input sits near its class prototype
    np.testing.assert_array_equal(T, B[cls])
    resid = X - A[cls]
    np.testing.assert_allclose(resid.std(), noise, rtol=STD_RTOL)
    np.testing.assert_allclose(resid.mean(), 0.0, atol=5 * noise / np.sqrt(resid.size))
    # classes chosen uniformly: each of 3 within 5 binomial sds of n/3
    counts = np.bincount(cls, minlength=3)
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(3000 * (1 / 3) * (2 / 3)))


def test_discrete_mapping_same_seed_same_data():
    A, B = np.eye(2, 4), np.eye(2)
    X1, T1 = datasets.discrete_mapping(A, B, n=20, seed=3)
    X2, T2 = datasets.discrete_mapping(A, B, n=20, seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(T1, T2)


def test_discrete_mapping_torch_inputs_give_tensors():
    A, B = torch.eye(3, 6), torch.eye(3)
    X, T = datasets.discrete_mapping(A, B, n=10, seed=0)
    assert isinstance(X, torch.Tensor) and isinstance(T, torch.Tensor)
    assert X.shape == (10, 6) and X.dtype == torch.float32


def test_discrete_mapping_rejects_mismatched_class_counts():
    with pytest.raises(ValueError, match="A and B"):
        datasets.discrete_mapping(np.eye(3, 6), np.eye(2))


def test_discrete_mapping_rejects_non_finite_prototypes():
    A = np.eye(3, 6)
    A[0, 0] = np.nan
    with pytest.raises(ValueError, match="A"):
        datasets.discrete_mapping(A, np.eye(3))


def test_discrete_mapping_rejects_non_positive_n():
    with pytest.raises(ValueError, match="n"):
        datasets.discrete_mapping(np.eye(3), np.eye(3), n=0)


def test_discrete_mapping_rejects_one_dimensional_prototypes():
    with pytest.raises(ValueError, match="A"):
        datasets.discrete_mapping(np.ones(3), np.eye(3))


def test_orthogonal_patterns_are_the_walsh_set_and_orthogonal():
    X = datasets.orthogonal_patterns()
    expected = np.array([[1] * 8 + [-1] * 8, ([1] * 4 + [-1] * 4) * 2, [1, -1] * 8, [1, 1, -1, -1] * 4])
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(X @ X.T, 16 * np.eye(4))


def test_letters_overlaps_equal_the_notes_matrix():
    X = datasets.letters()
    assert X.shape == (4, 36) and X.dtype == np.float64
    assert set(np.unique(X)) == {-1.0, 1.0}
    np.testing.assert_array_equal(X @ X.T, NOTES_LETTER_OVERLAPS)


def test_letters_hamming_distances_match_notes_recall_printout():
    # Notes 8.3.2 print, after recalling B: errors 18, 0, 18, 16 to A, B, C, E.
    X = datasets.letters()
    d = (X[1] != X).sum(axis=1)
    assert d.tolist() == [18, 0, 18, 16]


def test_digits_split_shapes_types_and_range():
    X_train, y_train, X_test, y_test = datasets.digits(seed=0)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.shape[1] == 64 and X_test.shape[1] == 64
    n = len(y_train) + len(y_test)
    assert n == 1797  # size of scikit-learn's bundled digits set
    assert abs(len(y_test) - 0.25 * n) <= 10  # stratified rounding: <= 1 per class
    for X in (X_train, X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert X_train.max() == 1.0  # 16/16 occurs
    assert set(np.unique(y_train)) == set(range(10))


def test_digits_split_partitions_the_full_set():
    from sklearn.datasets import load_digits

    full = load_digits()
    X_train, y_train, X_test, y_test = datasets.digits(seed=1)
    ref = {(tuple(x), int(t)) for x, t in zip(full.data / 16.0, full.target)}
    ours = [
        (tuple(x.astype(np.float64)), int(t))
        for x, t in zip(np.vstack([X_train, X_test]), np.concatenate([y_train, y_test]))
    ]
    # pixel values k/16 are exact in float32, so the rows match exactly
    assert set(ours) == ref
    # per-class proportions of the test set are 0.25 up to rounding
    for k in range(10):
        nk = (full.target == k).sum()
        assert abs((y_test == k).sum() - 0.25 * nk) <= 0.5


def test_digits_same_seed_same_split_and_different_seed_differs():
    a = datasets.digits(seed=2)
    b = datasets.digits(seed=2)
    c = datasets.digits(seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5])
def test_digits_rejects_test_size_outside_unit_interval(bad):
    with pytest.raises(ValueError, match="test_size"):
        datasets.digits(test_size=bad)
