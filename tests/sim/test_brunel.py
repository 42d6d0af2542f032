"""Brunel (2000) model A builder: structure, the asynchronous irregular state against mean-field theory."""

import numpy as np
import pytest
from scipy import integrate, optimize, special

from spikenet.sim.brunel import BRUNEL, brunel_network
from spikenet.sim.stats import synchrony


def mean_field_rate(g, eta, J, c_e, theta=20.0, v_r=10.0, tau=0.02, tau_ref=0.002):
    """Self-consistent stationary rate (Hz) of Brunel's (2000) diffusion approximation (his eqs. 4-5, 21)."""
    nu_ext = eta * theta / (J * c_e * tau)

    def siegert(mu, sigma):
        area, _ = integrate.quad(lambda u: special.erfcx(-u), (v_r - mu) / sigma, (theta - mu) / sigma,
                                 limit=200)  # erfcx(-u) = e^{u^2} (1 + erf u)
        return 1.0 / (tau_ref + tau * np.sqrt(np.pi) * area)

    def gap(nu):
        mu = c_e * J * tau * (nu_ext + nu * (1 - g / 4))
        sigma = np.sqrt(c_e * J * J * tau * (nu_ext + nu * (1 + g * g / 4)))
        return siegert(mu, sigma) - nu

    return optimize.brentq(gap, 1e-3, 400.0)


def test_the_network_has_the_papers_structure():
    g, eta, n_e, c_e, J = 5.0, 2.0, 400, 40, 2.5
    net = brunel_network(g=g, eta=eta, T=0.5, n_e=n_e, c_e=c_e, J=J, seed=3)
    E, I = net.populations
    assert (E.n, I.n) == (400, 100)
    assert E.neuron.tau_m == 0.02 and E.neuron.tau_ref == 0.002 and E.neuron.v_reset == 0.5
    j = J / BRUNEL["theta"]
    for conn in net.connections:
        W = conn.weights.toarray()
        k = c_e if conn.pre is E else c_e // 4
        np.testing.assert_array_equal((W != 0).sum(axis=1), k)  # fixed in-degree, no multapses
        np.testing.assert_allclose(W[W != 0], j if conn.pre is E else -g * j)
        assert conn.delay == pytest.approx(BRUNEL["D"])
    raster = net._spike_inputs[0].raster  # the external sources fire at eta nu_thr
    nu_thr = BRUNEL["theta"] / (J * c_e * BRUNEL["tau_m"])
    p = eta * nu_thr * 1e-4
    assert raster.shape == (5000, 20 * c_e)
    assert abs(raster.mean() - p) < 5 * np.sqrt(p / raster.size)


def test_asynchronous_irregular_state_matches_mean_field_theory():
    # 4,000 + 1,000 neurons, J c_e as in the paper; mean-field rate 42.7 Hz (37.9 Hz at full size)
    g, eta, n_e, c_e, J = 5.0, 2.0, 4000, 400, 0.25
    T, t0 = 0.6, 0.1
    res = brunel_network(g=g, eta=eta, T=T, n_e=n_e, c_e=c_e, J=J, seed=1).run(T)
    late = [s[s >= t0] for s in res.spike_times["E"]]
    rate = sum(s.size for s in late) / (n_e * (T - t0))
    assert rate == pytest.approx(mean_field_rate(g, eta, J, c_e), rel=0.1)
    from spikenet.sim import cv

    assert np.nanmean([cv(s) for s in late if s.size >= 3]) > 0.6  # irregular firing
    assert synchrony(late, T, t0=t0) < 0.2  # and asynchronous (0.13 measured; 0.50 in the SR regime)


@pytest.mark.parametrize("kwargs, word", [
    ({"n_e": 2}, "n_e"),
    ({"c_e": 500, "n_e": 400}, "c_e"),
    ({"J": -0.1}, "J"),
    ({"eta": -1.0}, "eta"),
    ({"n_ext": 10, "c_e": 40, "n_e": 400}, "n_ext"),
    ({"D": 0.00105}, "delay"),
])
def test_bad_arguments_are_named(kwargs, word):
    args = {"T": 0.05, "n_e": 400, "c_e": 40}
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        brunel_network(**args)
