"""Population statistics: synchrony chi, Fano factor and spectral peak against their analytic values."""

import numpy as np
import pytest

from spikenet.sim.stats import fano_factor, spectral_peak, synchrony


def test_synchrony_is_one_over_root_n_for_independent_trains_and_one_for_identical_ones():
    rng = np.random.default_rng(0)
    n, r, T = 200, 20.0, 20.0
    trains = [np.sort(rng.uniform(0, T, rng.poisson(r * T))) for _ in range(n)]
    assert synchrony(trains, T) == pytest.approx(1 / np.sqrt(n), rel=0.05)
    volley = np.sort(rng.uniform(0, T, 400))
    assert synchrony([volley] * n, T) == pytest.approx(1.0)
    assert np.isnan(synchrony([np.zeros(0)] * 3, 1.0))


def test_fano_factor_is_one_for_poisson_and_small_for_regular_trains():
    rng = np.random.default_rng(1)
    T = 50.0
    poisson = [np.sort(rng.uniform(0, T, rng.poisson(20 * T))) for _ in range(50)]
    assert fano_factor(poisson, T, window=0.1) == pytest.approx(1.0, abs=0.1)
    regular = [np.arange(rng.uniform(0, 0.05), T, 0.05) for _ in range(50)]
    assert fano_factor(regular, T, window=0.1) < 0.05
    assert np.isnan(fano_factor([np.zeros(0)], 1.0))


def test_spectral_peak_finds_a_population_oscillation():
    rng = np.random.default_rng(2)
    T, f0, n = 10.0, 40.0, 100
    # inhomogeneous Poisson trains, rate 20 (1 + 0.8 sin 2 pi f0 t), by thinning
    trains = []
    for _ in range(n):
        cand = np.sort(rng.uniform(0, T, rng.poisson(36 * T)))
        keep = rng.random(cand.size) < 20 * (1 + 0.8 * np.sin(2 * np.pi * f0 * cand)) / 36
        trains.append(cand[keep])
    f, height = spectral_peak(trains, T)
    assert f == pytest.approx(f0, abs=4.0) and height > 10
    flat = [np.sort(rng.uniform(0, T, rng.poisson(20 * T))) for _ in range(n)]
    assert spectral_peak(flat, T)[1] < 5
