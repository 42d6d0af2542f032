"""Activation functions: closed forms, the notes' softmax example, torch autograd."""

import numpy as np
import pytest
import torch

from spikenet.rate import activations as act

# float64 comparisons of closed forms evaluated two ways: a few ulps.
RTOL = 1e-12
# logistic of very negative inputs underflows towards 0 in both implementations.
ATOL_UNDERFLOW = 1e-300
# softmax gradient via torch.softmax vs autograd of exp/sum: different formulas, ~1e2 ulps.
GRAD_RTOL, GRAD_ATOL = 1e-10, 1e-14
# Notes 1.5 print the softmax of z to one unit in the last printed digit.
NOTES_Z = [0.6, 3.4, -1.2, 0.05]
NOTES_SOFTMAX = [0.06, 0.9, 0.009, 0.031]
NOTES_SOFTMAX_TOL = [0.01, 0.1, 0.001, 0.001]

ELEMENTWISE = {
    "logistic": (act.logistic, lambda z: 1 / (1 + np.exp(-z)), torch.sigmoid),
    "arctan": (act.arctan, np.arctan, torch.atan),
    "tanh": (act.tanh, np.tanh, torch.tanh),
    "relu": (act.relu, lambda z: np.where(z > 0, z, 0.0), torch.relu),
    "leaky_relu": (
        act.leaky_relu,
        lambda z: np.where(z > 0, z, 0.01 * z),
        lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    ),
}


@pytest.fixture
def z():
    return np.random.default_rng(0).normal(scale=3.0, size=(7, 5))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_numpy_matches_closed_form(name, z):
    f, ref, _ = ELEMENTWISE[name]
    out = f(z)
    assert isinstance(out, np.ndarray) and out.shape == z.shape
    np.testing.assert_allclose(out, ref(z), rtol=RTOL, atol=ATOL_UNDERFLOW)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_torch_value_and_gradient_match_torch_reference(name, z):
    f, _, tref = ELEMENTWISE[name]
    x1 = torch.tensor(z, requires_grad=True)
    x2 = torch.tensor(z, requires_grad=True)
    y1, y2 = f(x1), tref(x2)
    assert isinstance(y1, torch.Tensor) and y1.dtype == torch.float64
    w = torch.tensor(np.random.default_rng(1).normal(size=z.shape))
    (y1 * w).sum().backward()
    (y2 * w).sum().backward()
    torch.testing.assert_close(y1, y2, rtol=RTOL, atol=0)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=RTOL, atol=0)


def test_scalar_input_gives_float():
    assert act.logistic(0.0) == 0.5
    assert isinstance(act.relu(2), float)


def test_logistic_has_no_overflow_for_large_inputs():
    with np.errstate(over="raise", invalid="raise"):
        out = act.logistic(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_leaky_relu_slope_argument():
    np.testing.assert_allclose(act.leaky_relu([-2.0, 3.0], slope=0.2), [-0.4, 3.0])


def test_threshold_is_heaviside_with_zero_gradient():
    z = np.array([-1.0, -1e-12, 0.0, 5.0])
    np.testing.assert_array_equal(act.threshold(z), [0, 0, 1, 1])
    zt = torch.tensor(z, requires_grad=True)
    act.threshold(zt).sum().backward()
    np.testing.assert_array_equal(zt.grad.numpy(), 0.0)


def test_softmax_reproduces_notes_example():
    y = act.softmax(NOTES_Z)
    assert np.all(np.abs(y - NOTES_SOFTMAX) <= NOTES_SOFTMAX_TOL)
    e = np.exp(NOTES_Z)
    np.testing.assert_allclose(y, e / e.sum(), rtol=RTOL)


def test_one_hot_reproduces_notes_example():
    np.testing.assert_array_equal(act.one_hot(NOTES_Z), [0, 1, 0, 0])
    t = act.one_hot(torch.tensor([NOTES_Z, [3.0, 1.0, 0.0, -1.0]]))
    torch.testing.assert_close(t, torch.tensor([[0.0, 1, 0, 0], [1.0, 0, 0, 0]]))


def test_softmax_is_stable_for_huge_inputs():
    z = np.array([[1e4, 1e4 - 1.0, -1e4]])
    y = act.softmax(z)
    assert np.all(np.isfinite(y))
    e = np.exp([0.0, -1.0])
    np.testing.assert_allclose(y[0, :2], e / e.sum(), rtol=RTOL)
    yt = act.softmax(torch.tensor(z))
    assert bool(torch.isfinite(yt).all())


def test_softmax_rows_sum_to_one_along_axis(z):
    np.testing.assert_allclose(act.softmax(z, axis=0).sum(axis=0), 1.0, rtol=RTOL)
    np.testing.assert_allclose(act.softmax(z).sum(axis=1), 1.0, rtol=RTOL)


def test_softmax_torch_gradient_matches_autograd_of_the_definition(z):
    x1 = torch.tensor(z, requires_grad=True)
    x2 = torch.tensor(z, requires_grad=True)
    w = torch.tensor(np.random.default_rng(2).normal(size=z.shape))
    (act.softmax(x1) * w).sum().backward()
    (torch.exp(x2) / torch.exp(x2).sum(dim=1, keepdim=True) * w).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=GRAD_RTOL, atol=GRAD_ATOL)


def test_float32_tensor_keeps_dtype():
    assert act.tanh(torch.zeros(3, dtype=torch.float32)).dtype == torch.float32


@pytest.mark.parametrize("f", [act.logistic, act.relu, act.softmax, act.one_hot, act.threshold])
def test_nan_input_raises_naming_z(f):
    with pytest.raises(ValueError, match="z"):
        f(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="z"):
        f(torch.tensor([0.0, float("inf")]))


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="z"):
        act.tanh("abc")


def test_softmax_axis_out_of_range_raises():
    with pytest.raises(ValueError, match="axis"):
        act.softmax(np.zeros((2, 3)), axis=2)


def test_leaky_relu_rejects_non_finite_slope():
    with pytest.raises(ValueError, match="slope"):
        act.leaky_relu([1.0], slope=np.inf)
