"""Tests for tuning_curve (spiking -> rate) and fit_lif_rate on simulated curves."""

import numpy as np
import pytest

from spikenet.rate import fit_lif_rate, lif_rate, tuning_curve
from spikenet.sim import HH, LIF

# Tolerances, in one place.
# Issue 6: the simulated LIF curve matches lif_rate within 0.5% at dt = 0.1 ms.
LIF_RTOL = 0.005
# HH onset of repetitive firing for a step from rest: "near 6.2 uA/cm^2" (issue 6;
# the saddle-node of limit cycles of the 1952 model lies at about 6.2-6.3).
HH_ONSET_RANGE = (6.0, 6.5)
# spikenet's HH (second order, dt = 10 us) vs Brian2 rk4 at dt = 10 us: issue 2
# asks for spike times within 0.1 ms over 100 ms; over a rate measured from ~50-90
# spikes that is well below 1%; 1% also absorbs Brian2's quantisation of spike
# times to dt (10 us on ISIs of 11-20 ms, < 0.1%).
HH_BRIAN2_RTOL = 0.01
HH_DT = 1e-5  # 10 us: the resolution of the Brian2 reference


@pytest.mark.parametrize("neuron", [LIF(), LIF(tau_m=0.01, tau_ref=0.004), LIF(tau_m=0.05, tau_ref=0.0005)])
def test_lif_tuning_curve_matches_lif_rate_at_dt_0_1_ms(neuron):
    J = np.concatenate([np.linspace(-1, 1, 5), np.geomspace(1.05, 10, 25)])
    rates = tuning_curve(neuron, J, T=1.0, dt=1e-4)
    expected = lif_rate(J, tau_ref=neuron.tau_ref, tau_m=neuron.tau_m)
    np.testing.assert_array_equal(rates[J <= 1], 0.0)
    np.testing.assert_allclose(rates, expected, rtol=LIF_RTOL, atol=0)


def test_lif_tuning_curve_for_general_threshold_and_reset_matches_LIF_rate():
    neuron = LIF(v_th=0.5, v_reset=-0.5)
    J = np.linspace(0.55, 5, 12)
    np.testing.assert_allclose(tuning_curve(neuron, J, T=1.0, dt=1e-4), neuron.rate(J), rtol=LIF_RTOL)


def test_tuning_curve_of_a_scalar_is_a_float():
    r = tuning_curve(LIF(), 2.0, T=0.5)
    assert isinstance(r, float)
    assert r == pytest.approx(lif_rate(2.0), rel=LIF_RTOL)


def test_tuning_curve_ignores_the_transient():
    # An LIF neuron starting at v_reset fires its first spike tau_ref early, so
    # spikes / T over a short run is biased; the ISI estimate after the transient is not.
    J = np.array([1.5, 3.0])
    T = 0.1
    rates = tuning_curve(LIF(), J, T=T, dt=1e-4, transient=0.02)
    np.testing.assert_allclose(rates, lif_rate(J), rtol=LIF_RTOL)


@pytest.fixture(scope="module")
def hh_curve():
    J = np.concatenate([np.arange(0.0, 6.0, 1.0), np.arange(6.0, 6.6, 0.05), np.arange(7.0, 21.0, 1.0)])
    return J, tuning_curve(HH(), J, T=0.6, dt=HH_DT)


def test_hh_onset_of_repetitive_firing_is_near_6_2(hh_curve):
    currents, rates = hh_curve
    onset = currents[np.argmax(rates > 10)]
    lo, hi = HH_ONSET_RANGE
    assert lo <= onset <= hi
    # silent below (an onset spike at most), type II jump to ~50 Hz above, then increasing
    below, above = currents < lo, currents >= onset
    assert np.all(rates[below] == 0)
    assert rates[above].min() > 40
    assert np.all(np.diff(rates[currents >= onset + 0.1]) > 0)


def test_lif_fit_to_the_hh_curve_reports_its_error(hh_curve):
    J, rates = hh_curve
    fit = fit_lif_rate(J, rates)
    # An LIF curve rises continuously from 0 at threshold and cannot follow the HH
    # jump to ~50 Hz, but it captures the curve within a few Hz.
    assert fit.rel_rmse < 0.1
    assert fit.rmse == pytest.approx(np.sqrt(np.mean((fit.rate(J) - rates) ** 2)), rel=1e-9)
    assert fit.max_error == pytest.approx(np.max(np.abs(fit.rate(J) - rates)), rel=1e-9)
    # the fitted threshold lies at the HH onset, within the grid spacing
    onset = J[np.argmax(rates > 10)]
    assert abs(fit.threshold - onset) < 1.0
    # and it is the least-squares optimum: a perturbed parameter set is worse
    for scale in (0.9, 1.1):
        worse = lif_rate(fit.gain * scale * J + fit.bias, fit.tau_ref, fit.tau_m)
        assert np.sqrt(np.mean((worse - rates) ** 2)) > fit.rmse


# ---------------------------------------------------------------- Brian2


def brian2_hh_rates(J, T, transient):
    """Steady-state HH rates from Brian2 (rk4, dt = 10 us) with the estimator of tuning_curve."""
    from spikenet.sim.crosscheck import brian2_hh

    # the shared Brian2 HH model of the sim cross-checks (Cython code compiled once, cached)
    trains, _ = brian2_hh(HH(), J, T, dt=HH_DT, method="rk4")
    rates = np.zeros(len(J))
    for i, t in enumerate(trains):
        late = t[t >= transient]
        rates[i] = (late.size - 1) / (late[-1] - late[0]) if late.size >= 2 else late.size / (T - transient)
    return rates


@pytest.mark.brian2
def test_hh_tuning_curve_matches_brian2_fast_subset():
    # Away from the bistable onset, where a hair's difference decides the outcome:
    # silent (onset spike only), just above onset, far above.
    J = np.array([3.0, 5.5, 7.0, 10.0, 20.0])
    T, transient = 0.3, 0.1
    ours = tuning_curve(HH(), J, T=T, dt=HH_DT, transient=transient)
    ref = brian2_hh_rates(J, T, transient)
    np.testing.assert_array_equal(ours == 0, ref == 0)
    np.testing.assert_allclose(ours, ref, rtol=HH_BRIAN2_RTOL)


@pytest.mark.brian2
@pytest.mark.slow
def test_hh_tuning_curve_matches_brian2_full_curve():
    J = np.concatenate([np.arange(0.0, 6.0, 0.5), np.arange(6.5, 30.0, 1.0)])
    T, transient = 1.0, 0.1
    ours = tuning_curve(HH(), J, T=T, dt=HH_DT, transient=transient)
    ref = brian2_hh_rates(J, T, transient)
    np.testing.assert_array_equal(ours == 0, ref == 0)
    np.testing.assert_allclose(ours, ref, rtol=HH_BRIAN2_RTOL)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"J": [1.0, np.nan]}, ValueError, "J"),
        ({"J": np.ones((2, 2))}, ValueError, "J"),
        ({"J": []}, ValueError, "J"),
        ({"J": "x"}, TypeError, "J"),
        ({"T": 0.0}, ValueError, "T"),
        ({"dt": -1e-4}, ValueError, "dt"),
        ({"transient": 1.0}, ValueError, "transient"),
        ({"transient": -0.1}, ValueError, "transient"),
    ],
)
def test_tuning_curve_rejects_bad_input(kwargs, error, name):
    args = {"J": [2.0], "T": 0.5, "dt": 1e-4} | kwargs
    with pytest.raises(error, match=name):
        tuning_curve(LIF(), **args)
