"""Hopfield network: Hebbian weights, energy descent, recall, capacity, bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikenet.rate import datasets
from spikenet.rate.models.hopfield import Hopfield, hamming, perturb, recall_rate

# Tolerances and thresholds (one place):
# - Energies are computed from integer-valued M*W and M*b and divided by M once, so they are
#   exact multiples of 1/M up to that final rounding, which is monotone: no allowance needed.
# - Notes 8.3.2 corruption of the letters (p = 0.2 noise, bottom two rows erased): measured
#   exact-recall rates per letter (200 trials each) of 0.94-0.99 (sync) and 0.81-0.96 (async,
#   B is the hardest: it overlaps E). With 100 trials the s.e. is <= 0.04, so the per-letter
#   floor 0.7 and the mean floor 0.85 sit about three standard errors below the measurements.
LETTER_TRIALS = 100
LETTERS_MIN_RATE_EACH = 0.7
LETTERS_MIN_RATE_MEAN = 0.85
# - Notes 8.3.1 corruption (perturb with p = 0.4 on the orthogonal set): measured 0.86 (sync)
#   and 0.81 (async) exact recall over 500 seeded trials; binomial s.e. at n = 500 is <= 0.018,
#   so 0.75 is more than three standard errors below either.
ORTHO_P04_MIN_RATE = 0.75
# - Capacity, N = 100: theory (Amit et al. 1985) puts the limit near 0.138 N = 14. Measured
#   (10 nets, p = 0.1): 1.00 at M = 5 and about 0.3 at M = 20, 0.02 at M = 30.
CAPACITY_LOW_LOAD_MIN = 0.95
CAPACITY_HIGH_LOAD_MAX = 0.5


def test_weights_are_hebbian_symmetric_with_zero_diagonal():
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(6, 20))
    net = Hopfield(X)
    # Sum of outer products (the notes' second construction), divided by M, minus I.
    W = sum(np.outer(x, x) for x in X) / len(X) - np.eye(20)
    np.testing.assert_allclose(net.W, W, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(net.W, net.W.T)
    np.testing.assert_array_equal(np.diag(net.W), 0.0)
    np.testing.assert_allclose(net.b, X.mean(axis=0), atol=1e-15)
    np.testing.assert_array_equal(Hopfield(X, bias=False).b, np.zeros(20))


def test_orthogonal_patterns_are_scaled_by_w():
    # Notes 8.3.1: for the 4 mutually orthogonal patterns X W = (N/M - 1) X = 3 X.
    X = datasets.orthogonal_patterns()
    net = Hopfield(X)
    np.testing.assert_allclose(X @ net.W, 3 * X, atol=1e-12)


def test_energy_matches_explicit_double_sum():
    rng = np.random.default_rng(1)
    X = rng.choice([-1.0, 1.0], size=(3, 7))
    net = Hopfield(X)
    x = rng.choice([-1.0, 1.0], size=7)
    e = -0.5 * sum(x[i] * net.W[i, j] * x[j] for i in range(7) for j in range(7) if i != j)
    e -= sum(net.b[j] * x[j] for j in range(7))
    assert net.energy(x) == pytest.approx(e, abs=1e-12)
    np.testing.assert_allclose(net.energy(np.stack([x, -x])), [e, net.energy(-x)], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    n_units=st.integers(2, 30),
    n_patterns=st.integers(1, 8),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_energy_never_increases_under_async_updates(n_units, n_patterns, bias, seed):
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], size=(n_patterns, n_units))
    net = Hopfield(X, bias=bias)
    x0 = rng.choice([-1.0, 1.0], size=n_units)
    states = net.trajectory(x0, mode="async", max_iters=20, seed=rng)
    energies = net.energy(states)
    assert np.all(np.diff(energies) <= 0.0)
    # Async recall ends on a fixed point of the update rule. The field is formed here in
    # integers (M times the field), so that a field of exactly 0 is not misjudged by round-off.
    final = states[-1].astype(np.int64)
    Xi = X.astype(np.int64)
    M_field = final @ (Xi.T @ Xi - n_patterns * np.eye(n_units, dtype=np.int64))
    M_field += Xi.sum(axis=0) if bias else 0
    np.testing.assert_array_equal(np.where(M_field >= 0, 1, -1), final)


def test_sync_trajectory_starts_at_x_and_ends_at_recall():
    X = datasets.orthogonal_patterns()
    net = Hopfield(X)
    x = X[2].copy()
    x[[0, 5]] *= -1
    states = net.trajectory(x, mode="sync")
    np.testing.assert_array_equal(states[0], x)
    np.testing.assert_array_equal(states[-1], net.recall(x, mode="sync"))
    np.testing.assert_array_equal(states[-1], X[2])


def test_stored_orthogonal_patterns_are_fixed_points():
    X = datasets.orthogonal_patterns()
    for mode in ("sync", "async"):
        np.testing.assert_array_equal(Hopfield(X).recall(X, mode=mode, seed=0), X)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_single_bit_error_in_orthogonal_set_is_corrected(mode):
    X = datasets.orthogonal_patterns()
    net = Hopfield(X)
    for k, j in itertools.product(range(4), range(16)):
        x = X[k].copy()
        x[j] *= -1
        np.testing.assert_array_equal(net.recall(x, mode=mode, seed=j), X[k])


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_orthogonal_set_recalled_from_notes_corruption(mode):
    # Notes 8.3.1: Perturb(X, p=0.4), then iterate the network.
    X = datasets.orthogonal_patterns()
    net = Hopfield(X)
    rng = np.random.default_rng(2024)
    hits = 0
    for _ in range(500):
        k = rng.integers(len(X))
        out = net.recall(perturb(X[k], 0.4, seed=rng), mode=mode, seed=rng)
        hits += np.array_equal(out, X[k])
    assert hits / 500 >= ORTHO_P04_MIN_RATE


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_letters_recalled_after_noise_and_erasing_bottom_third(mode):
    # Notes 8.3.2: Perturb(X, p=0.2), then pixels 24..35 (the bottom two rows) set to -1.
    X = datasets.letters()
    net = Hopfield(X)
    rng = np.random.default_rng(7)
    rates = []
    for k in range(len(X)):
        hits = 0
        for _ in range(LETTER_TRIALS):
            x = perturb(X[k], 0.2, seed=rng)
            x[24:] = -1.0
            hits += np.array_equal(net.recall(x, mode=mode, seed=rng), X[k])
        rates.append(hits / LETTER_TRIALS)
    assert min(rates) >= LETTERS_MIN_RATE_EACH, rates
    assert np.mean(rates) >= LETTERS_MIN_RATE_MEAN, rates


def test_capacity_curve_near_perfect_at_5_percent_and_failing_before_30_percent():
    N = 100
    low = recall_rate(N, int(0.05 * N), p=0.1, trials=10, seed=0)
    high = recall_rate(N, int(0.2 * N), p=0.1, trials=10, seed=0)
    overload = recall_rate(N, int(0.3 * N), p=0.1, trials=5, seed=0)
    assert low >= CAPACITY_LOW_LOAD_MIN
    assert high <= CAPACITY_HIGH_LOAD_MAX
    assert overload < high


def test_recall_and_trajectory_leave_the_input_unchanged():
    X = datasets.letters()
    x = X[1].copy()
    x[24:] = -1.0
    kept = x.copy()
    net = Hopfield(X)
    for mode in ("sync", "async"):
        net.recall(x, mode=mode, seed=0)
        net.trajectory(x, mode=mode, seed=0)
        np.testing.assert_array_equal(x, kept)


def test_async_recall_is_reproducible_with_seed():
    rng = np.random.default_rng(3)
    X = rng.choice([-1.0, 1.0], size=(12, 40))
    x = perturb(X, 0.5, seed=4)
    net = Hopfield(X)
    a = net.recall(x, mode="async", seed=11)
    np.testing.assert_array_equal(a, net.recall(x, mode="async", seed=11))


def test_hamming_counts_differing_places():
    assert hamming([1, -1, 1, 1], [1, 1, -1, 1]) == 2
    np.testing.assert_array_equal(hamming(np.ones((3, 5)), -np.ones(5)), [5, 5, 5])


def test_perturb_replaces_bits_with_probability_p():
    x = np.ones(200_000)
    y = perturb(x, 0.3, seed=5)
    assert set(np.unique(y)) <= {-1.0, 1.0}
    # A replaced bit becomes -1 with probability 1/2: flip rate p/2 = 0.15, s.e. 8e-4.
    assert np.mean(y == -1) == pytest.approx(0.15, abs=0.004)
    np.testing.assert_array_equal(perturb(x[:10], 0.0, seed=1), x[:10])
    np.testing.assert_array_equal(perturb(x[:50], 0.3, seed=9), perturb(x[:50], 0.3, seed=9))


# ---- bad input -------------------------------------------------------------------------

def test_patterns_not_plus_minus_one_raise():
    with pytest.raises(ValueError, match="patterns"):
        Hopfield([[1, 0, -1], [1, 1, -1]])


def test_patterns_of_mixed_lengths_raise():
    with pytest.raises(ValueError, match="patterns"):
        Hopfield([[1, -1, 1], [1, -1]])


def test_patterns_one_dimensional_raise():
    with pytest.raises(ValueError, match="patterns"):
        Hopfield([1, -1, 1])


def test_state_of_wrong_length_raises():
    net = Hopfield([[1, -1, 1, -1]])
    with pytest.raises(ValueError, match="x must have length 4"):
        net.recall([1, -1, 1])
    with pytest.raises(ValueError, match="x must have length 4"):
        net.energy([1, -1, 1, 1, 1])


def test_state_not_plus_minus_one_raises():
    with pytest.raises(ValueError, match="x"):
        Hopfield([[1, -1, 1, -1]]).recall([1, 0.5, 1, -1])


def test_unknown_recall_mode_raises():
    with pytest.raises(ValueError, match=r"mode.*did you mean 'async'"):
        Hopfield([[1, -1, 1, -1]]).recall([1, -1, 1, -1], mode="asynch")


def test_non_positive_max_iters_raises():
    with pytest.raises(ValueError, match="max_iters"):
        Hopfield([[1, -1]]).recall([1, 1], max_iters=0)


def test_perturb_probability_outside_unit_interval_raises():
    with pytest.raises(ValueError, match="p must be"):
        perturb([1, -1], 1.5)
    with pytest.raises(ValueError, match="p must be"):
        perturb([1, -1], -0.1)


def test_hamming_length_mismatch_raises():
    with pytest.raises(ValueError, match="same length"):
        hamming([1, 1], [1, 1, 1])


def test_bias_must_be_boolean():
    with pytest.raises(TypeError, match="bias"):
        Hopfield([[1, -1]], bias="yes")
