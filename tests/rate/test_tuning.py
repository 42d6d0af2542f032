"""Tests for the LIF rate activations: lif_rate, LIFRate, SoftLIFRate."""

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spikenet.rate import LIFRate, SoftLIFRate, fit_lif_rate, lif_rate, soft_lif_rate
from spikenet.sim import LIF

# Tolerances, in one place.
# float64 evaluations of the same closed form by two routes differ by rounding only.
RTOL_F64 = 1e-12
# autograd vs the analytic derivative (both float64; the derivative formula
# G^2 tau_m / (J (J - 1)) loses a few digits near J = 1 through J - 1).
RTOL_GRAD = 1e-9
# SoftLIF vs LIF above threshold: the softplus exceeds j = J - 1 > 0 by at most
# sigma * exp(-j/sigma); for j >= 0.1 and sigma = 2e-3 that is ~1e-24, so the
# rates agree to float64 rounding.
RTOL_SOFT_FAR = 1e-9
# The tail branch of soft_lif_rate ((J - 1)/sigma < -20) uses the asymptote of
# log(1 + 1/rho); its relative error is about exp(-20) = 2e-9 (see its docstring).
RTOL_SOFT_TAIL = 1e-8

TAUS = [(0.002, 0.02), (0.0, 0.01), (0.005, 0.05)]


def notes_formula(J, tau_ref, tau_m):
    """The course notes' G(J) = 1/(tau_ref - tau_m ln(1 - 1/J)) for J > 1, written naively."""
    J = np.asarray(J, dtype=np.float64)
    out = np.zeros_like(J)
    m = J > 1
    out[m] = 1.0 / (tau_ref - tau_m * np.log(1.0 - 1.0 / J[m]))
    return out


def extreme_inputs(dtype):
    """Dense grid plus the corner cases: exactly 1, one ulp either side, huge magnitudes."""
    one = torch.tensor(1.0, dtype=dtype)
    finfo = torch.finfo(dtype)
    special = torch.stack(
        [
            one,
            torch.nextafter(one, torch.tensor(2.0, dtype=dtype)),
            torch.nextafter(one, torch.tensor(0.0, dtype=dtype)),
            torch.tensor(0.0, dtype=dtype),
            torch.tensor(finfo.max, dtype=dtype),
            torch.tensor(-finfo.max, dtype=dtype),
            torch.tensor(finfo.tiny, dtype=dtype),
            torch.tensor(1e30, dtype=dtype),
            torch.tensor(-1e30, dtype=dtype),
        ]
    )
    dense = torch.linspace(-50, 50, 20001, dtype=dtype)
    near = 1.0 + torch.logspace(-7 if dtype == torch.float32 else -15, 0, 500, dtype=dtype)
    return torch.cat([special, dense, near, 2.0 - near])


# ---------------------------------------------------------------- lif_rate


@pytest.mark.parametrize(("tau_ref", "tau_m"), TAUS)
def test_lif_rate_matches_notes_formula_and_sim_LIF_rate(tau_ref, tau_m):
    J = np.concatenate([np.linspace(-3, 1, 50), np.linspace(1.001, 30, 500)])
    G = lif_rate(J, tau_ref=tau_ref, tau_m=tau_m)
    np.testing.assert_allclose(G, notes_formula(J, tau_ref, tau_m), rtol=RTOL_F64, atol=0)
    np.testing.assert_allclose(G, LIF(tau_m=tau_m, tau_ref=tau_ref).rate(J), rtol=RTOL_F64, atol=0)


def test_lif_rate_returns_the_kind_it_was_given():
    assert isinstance(lif_rate(2.0), float)
    out = lif_rate([0.5, 2.0])
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (2,)
    for dtype in (torch.float32, torch.float64):
        t = lif_rate(torch.tensor([[0.5, 2.0]], dtype=dtype))
        assert isinstance(t, torch.Tensor) and t.dtype == dtype and t.shape == (1, 2)
    # Integer tensors are promoted to the default float dtype.
    assert lif_rate(torch.tensor([3])).dtype == torch.get_default_dtype()


def test_lif_rate_is_zero_at_and_below_threshold():
    J = np.array([-1e300, -5.0, 0.0, 0.5, 1.0])
    assert np.all(lif_rate(J) == 0.0)
    assert bool((lif_rate(torch.tensor(J)) == 0.0).all())
    # and positive just above threshold, in both precisions
    assert lif_rate(np.nextafter(1.0, 2.0)) > 0
    assert float(lif_rate(torch.nextafter(torch.tensor(1.0), torch.tensor(2.0)))) > 0


def test_lif_rate_saturates_at_one_over_tau_ref_for_huge_input():
    for J in (1e12, 1e300):
        assert lif_rate(J, tau_ref=0.002) == pytest.approx(500.0, rel=1e-9)
    assert float(lif_rate(torch.tensor(3e38), tau_ref=0.004)) == pytest.approx(250.0, rel=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lif_rate_value_and_gradient_are_finite_everywhere(dtype):
    J = extreme_inputs(dtype).requires_grad_()
    G = lif_rate(J)
    G.sum().backward()
    assert torch.isfinite(G).all()
    assert torch.isfinite(J.grad).all()
    assert (J.grad >= 0).all()
    # exactly at threshold the (right-continuous-from-below) gradient is 0
    assert J.grad[0] == 0


@pytest.mark.parametrize(("tau_ref", "tau_m"), TAUS)
def test_lif_rate_autograd_matches_analytic_derivative(tau_ref, tau_m):
    J = (
        torch.cat([torch.linspace(-2, 1, 30), 1 + torch.logspace(-10, 3, 400)])
        .to(torch.float64)
        .requires_grad_()
    )
    G = lif_rate(J, tau_ref=tau_ref, tau_m=tau_m)
    (grad,) = torch.autograd.grad(G.sum(), J)
    Jd, Gd = J.detach().numpy(), G.detach().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        analytic = np.where(Jd > 1, tau_m * Gd**2 / (Jd * (Jd - 1)), 0.0)
    np.testing.assert_allclose(grad.numpy(), analytic, rtol=RTOL_GRAD, atol=0)


def test_lif_rate_rejects_nan_and_inf_naming_J():
    with pytest.raises(ValueError, match="J"):
        lif_rate(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="J"):
        lif_rate(np.inf)
    with pytest.raises(ValueError, match="J"):
        lif_rate(torch.tensor([2.0, float("nan")]))
    with pytest.raises(ValueError, match="J"):
        lif_rate(torch.tensor([float("-inf")]))


def test_lif_rate_rejects_non_numeric_J():
    with pytest.raises(TypeError, match="J"):
        lif_rate("fast")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"tau_m": 0.0}, "tau_m"),
        ({"tau_m": -0.02}, "tau_m"),
        ({"tau_ref": -1e-3}, "tau_ref"),
        ({"tau_m": float("nan")}, "tau_m"),
        ({"tau_ref": "2ms"}, "tau_ref"),
    ],
)
def test_lif_rate_rejects_bad_time_constants(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        lif_rate(2.0, **kwargs)


# ---------------------------------------------------------------- LIFRate


def test_LIFRate_is_amplitude_times_lif_rate():
    x = torch.linspace(-1, 10, 101, dtype=torch.float64)
    act = LIFRate(tau_ref=0.003, tau_m=0.03, amplitude=0.01)
    torch.testing.assert_close(act(x), 0.01 * lif_rate(x, tau_ref=0.003, tau_m=0.03), rtol=0, atol=0)
    assert "amplitude=0.01" in repr(act)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"amplitude": 0.0}, "amplitude"), ({"amplitude": -1.0}, "amplitude"), ({"tau_m": 0}, "tau_m")],
)
def test_LIFRate_rejects_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LIFRate(**kwargs)


# ---------------------------------------------------------------- SoftLIFRate


@pytest.mark.parametrize(("tau_ref", "tau_m"), TAUS)
def test_SoftLIFRate_equals_LIFRate_away_from_the_corner_as_sigma_shrinks(tau_ref, tau_m):
    above = torch.linspace(1.1, 40, 400, dtype=torch.float64)
    below = torch.linspace(-5, 0.9, 200, dtype=torch.float64)
    amp = 0.5
    hard = LIFRate(tau_ref, tau_m, amplitude=amp)
    errors = []
    for sigma in (0.1, 0.05, 0.02, 0.01, 0.002):
        soft = SoftLIFRate(tau_ref, tau_m, sigma=sigma, amplitude=amp)
        err_above = float((soft(above) - hard(above)).abs().max())
        err_below = soft(below)  # the hard curve is 0 there
        # Below threshold the smoothed rate decays only like sigma: from
        # log(1 + e^x) <= e^x, rho <= sigma e^x, so q >= |j|/sigma - ln(sigma) and
        # G <= sigma / (tau_m |j|) for sigma < 1.
        bound = amp * sigma / (tau_m * (1.0 - below))
        assert (err_below <= bound).all()
        errors.append(max(err_above, float(err_below.max())))
    # the error shrinks monotonically with sigma ...
    assert all(a > b for a, b in itertools.pairwise(errors))
    # ... and above threshold vanishes to rounding for small sigma
    torch.testing.assert_close(
        SoftLIFRate(tau_ref, tau_m, sigma=0.002, amplitude=amp)(above),
        hard(above),
        rtol=RTOL_SOFT_FAR,
        atol=0,
    )


def test_SoftLIFRate_converges_to_LIFRate_at_the_corner_too():
    x = torch.tensor([0.99, 1.0, 1.01], dtype=torch.float64)
    hard = lif_rate(x)
    gaps = [float((soft_lif_rate(x, sigma=s) - hard).abs().max()) for s in (1e-2, 1e-4, 1e-8)]
    assert gaps[0] > gaps[1] > gaps[2]
    # at J = 1 the smoothed rate is G evaluated at rho = sigma ln 2 -> 0 like 1/ln(1/sigma)
    for s in (1e-2, 1e-4):
        expected = 1.0 / (0.002 + 0.02 * math.log1p(1.0 / (s * math.log(2.0))))
        assert float(soft_lif_rate(torch.tensor(1.0, dtype=torch.float64), sigma=s)) == pytest.approx(
            expected, rel=1e-12
        )


def test_SoftLIFRate_never_falls_below_LIFRate():
    # softplus(x) >= max(x, 0) and G is increasing in the rectified drive.
    x = extreme_inputs(torch.float64)
    assert (soft_lif_rate(x) >= lif_rate(x) * (1 - RTOL_F64)).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sigma", [1e-3, 0.02, 0.5])
def test_SoftLIFRate_gradient_is_finite_and_non_negative_everywhere(dtype, sigma):
    x = extreme_inputs(dtype).requires_grad_()
    y = SoftLIFRate(sigma=sigma, amplitude=0.01)(x)
    y.sum().backward()
    assert torch.isfinite(y).all()
    assert (y >= 0).all()
    assert torch.isfinite(x.grad).all()
    assert (x.grad >= 0).all()


@pytest.mark.parametrize("sigma", [0.005, 0.02, 0.1])
def test_SoftLIFRate_autograd_matches_analytic_derivative(sigma):
    tau_ref, tau_m = 0.002, 0.02
    x = torch.linspace(-0.5, 8, 2000, dtype=torch.float64).requires_grad_()
    y = soft_lif_rate(x, tau_ref, tau_m, sigma)
    (grad,) = torch.autograd.grad(y.sum(), x)
    xd = x.detach().numpy()
    z = (xd - 1) / sigma
    rho = sigma * np.logaddexp(0.0, z)
    G = 1.0 / (tau_ref + tau_m * np.log1p(1.0 / rho))
    sig = 1.0 / (1.0 + np.exp(-z))
    analytic = tau_m * G**2 * sig / (rho * (rho + 1.0))
    np.testing.assert_allclose(y.detach().numpy(), G, rtol=RTOL_SOFT_TAIL)
    np.testing.assert_allclose(grad.numpy(), analytic, rtol=RTOL_SOFT_TAIL)


def test_SoftLIFRate_tail_branch_is_continuous():
    # The switch to the asymptote at (x - 1)/sigma = -20 must not leave a visible step.
    sigma = 0.02
    x = 1.0 + sigma * torch.tensor([-20.0 - 1e-9, -20.0 + 1e-9], dtype=torch.float64)
    y = soft_lif_rate(x, sigma=sigma)
    assert float(y[1] / y[0]) == pytest.approx(1.0, rel=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": -0.1}, "sigma"),
        ({"amplitude": 0}, "amplitude"),
        ({"tau_ref": -0.001}, "tau_ref"),
        ({"tau_m": float("inf")}, "tau_m"),
    ],
)
def test_SoftLIFRate_rejects_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SoftLIFRate(**kwargs)


def test_SoftLIFRate_rejects_nan_and_non_numeric_input():
    with pytest.raises(ValueError, match="J"):
        SoftLIFRate()(torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match="J"):
        soft_lif_rate(np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="J"):
        soft_lif_rate("one")


def test_soft_lif_rate_numpy_in_gives_float64_numpy_out_like_lif_rate():
    J = np.array([0.5, 1.0, 1.01, 2.0, 50.0])
    out = soft_lif_rate(J, sigma=0.02)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, soft_lif_rate(torch.from_numpy(J), sigma=0.02).numpy())
    assert isinstance(soft_lif_rate(2.0), float)


# ---------------------------------------------------------------- fit_lif_rate

# Exact LIF data: the optimum is the generating parameter set up to the
# least-squares termination tolerances (1e-15), so 1e-6 relative is generous.
RTOL_FIT_EXACT = 1e-6


@pytest.mark.parametrize(
    ("gain", "bias", "tau_ref", "tau_m"),
    [(1.0, 0.0, 0.002, 0.02), (2.0, -0.5, 0.003, 0.03), (0.07, 0.4, 0.001, 0.01), (12.0, 1.5, 0.0005, 0.1)],
)
def test_fit_lif_rate_recovers_the_parameters_of_LIF_data(gain, bias, tau_ref, tau_m):
    threshold = (1 - bias) / gain
    J = np.linspace(threshold - 3 / gain, threshold + 12 / gain, 50)
    rates = lif_rate(gain * J + bias, tau_ref=tau_ref, tau_m=tau_m)
    fit = fit_lif_rate(J, rates)
    np.testing.assert_allclose(
        [fit.gain, fit.bias, fit.tau_ref, fit.tau_m],
        [gain, bias, tau_ref, tau_m],
        rtol=RTOL_FIT_EXACT,
        atol=1e-12,
    )
    assert fit.threshold == pytest.approx(threshold, rel=RTOL_FIT_EXACT)
    assert fit.rmse < 1e-6 * rates.max()
    np.testing.assert_allclose(fit.rate(J), rates, rtol=RTOL_FIT_EXACT, atol=1e-9)


def test_fit_lif_rate_reports_an_error_at_the_noise_level_for_noisy_data():
    rng = np.random.default_rng(1)
    J = np.linspace(0, 10, 200)
    clean = lif_rate(0.8 * J + 0.3, tau_ref=0.002, tau_m=0.02)
    noise = 2.0  # Hz
    fit = fit_lif_rate(J, np.clip(clean + noise * rng.standard_normal(J.size), 0, None))
    # a 4-parameter fit to 200 points leaves almost all of the noise in the
    # residual: rmse ~ noise; the fitted curve itself is close to the clean one
    assert 0.5 * noise < fit.rmse < 1.5 * noise
    assert np.sqrt(np.mean((fit.rate(J) - clean) ** 2)) < 0.5 * noise
    assert fit.rel_rmse == pytest.approx(fit.rmse / np.max(clean + 0), rel=0.05)


def test_fit_lif_rate_rate_accepts_torch():
    J = np.linspace(0, 4, 30)
    fit = fit_lif_rate(J, lif_rate(J))
    out = fit.rate(torch.tensor(J))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), lif_rate(J), rtol=RTOL_FIT_EXACT, atol=1e-9)


@pytest.mark.parametrize(
    ("J", "rates", "name"),
    [
        (np.arange(5.0), np.arange(4.0), "rates"),
        (np.arange(5.0), -np.arange(5.0), "rates"),
        (np.arange(5.0), np.zeros(5), "rates"),
        (np.array([0, 1, np.nan]), np.ones(3), "J"),
        (np.arange(5.0), np.array([0, 0, 0, 0, 1.0]), "two distinct"),
        (np.ones((2, 2)), np.ones((2, 2)), "J"),
    ],
)
def test_fit_lif_rate_rejects_bad_input(J, rates, name):
    with pytest.raises(ValueError, match=name):
        fit_lif_rate(J, rates)


# ---------------------------------------------------------------- property-based


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=20),
    st.sampled_from([torch.float32, torch.float64]),
    st.sampled_from([1e-4, 0.02, 1.0]),
)
def test_any_finite_input_gives_finite_values_and_non_negative_gradients(values, dtype, sigma):
    x = torch.tensor(values, dtype=dtype, requires_grad=True)
    for f in (lambda z: lif_rate(z), lambda z: soft_lif_rate(z, sigma=sigma)):
        (grad,) = torch.autograd.grad(f(x).sum(), x)
        y = f(x).detach()
        assert torch.isfinite(y).all() and (y >= 0).all() and (y <= 1 / 0.002 * (1 + 1e-6)).all()
        assert torch.isfinite(grad).all() and (grad >= 0).all()
