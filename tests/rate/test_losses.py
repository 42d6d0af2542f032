"""Losses: closed forms, the notes' numbers, torch.nn.functional and autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spikenet.rate import losses

# float64 values of the same formula computed two ways: a few ulps.
RTOL = 1e-12
# gradients near zero are compared absolutely, at the float64 round-off of O(1) terms.
ATOL = 1e-16
# autograd through softmax and log vs the closed form (y - t)/N: a few hundred ulps.
GRAD_RTOL = 1e-10


@pytest.fixture
def yt():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.05, 0.95, size=(6, 4))
    t = (rng.random((6, 4)) > 0.5).astype(float)
    return y, t


def test_mse_is_mean_over_samples_of_half_squared_norm(yt):
    y, t = yt
    expected = np.mean([0.5 * np.sum((a - b) ** 2) for a, b in zip(y, t)])
    assert losses.mse(y, t) == pytest.approx(expected, rel=RTOL)
    assert isinstance(losses.mse(y, t), float)


def test_mse_gradient_equals_autograd_and_closed_form(yt):
    y, t = yt
    yv = torch.tensor(y, requires_grad=True)
    losses.mse(yv, torch.tensor(t)).backward()
    np.testing.assert_allclose(yv.grad.numpy(), (y - t) / len(y), rtol=RTOL)
    y2 = torch.tensor(y, requires_grad=True)
    (0.5 * F.mse_loss(y2, torch.tensor(t), reduction="sum") / len(y)).backward()
    torch.testing.assert_close(yv.grad, y2.grad, rtol=RTOL, atol=0)


def test_bce_matches_torch_value_and_gradient(yt):
    y, t = yt
    yv = torch.tensor(y, requires_grad=True)
    e = losses.bce(yv, torch.tensor(t))
    e.backward()
    y2 = torch.tensor(y, requires_grad=True)
    ref = F.binary_cross_entropy(y2, torch.tensor(t), reduction="sum") / len(y)
    ref.backward()
    torch.testing.assert_close(e, ref, rtol=RTOL, atol=0)
    torch.testing.assert_close(yv.grad, y2.grad, rtol=RTOL, atol=0)
    assert losses.bce(y, t) == pytest.approx(ref.item(), rel=RTOL)


def test_bce_reproduces_notes_worked_example():
    # notes 3.1.2: output y = 0.301 with target 1 gives E = 1.201
    assert round(losses.bce(np.array([0.301]), np.array([1.0])), 3) == 1.201


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bce_finite_with_gradient_at_outputs_of_exactly_zero_and_one(dtype):
    y = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, requires_grad=True)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    e = losses.bce(y, t)
    e.backward()
    assert bool(torch.isfinite(e)) and bool(torch.isfinite(y.grad).all())
    # perfect predictions contribute nothing; the two wrong ones are large
    assert e.item() > 40
    assert np.isfinite(losses.bce([0.0, 1.0], [1.0, 0.0]))


def test_categorical_ce_matches_torch_nll_for_indices_and_one_hot():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(8, 5))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    k = rng.integers(5, size=8)
    ref = F.nll_loss(torch.log(torch.tensor(p)), torch.tensor(k))
    assert losses.categorical_ce(p, k) == pytest.approx(ref.item(), rel=RTOL)
    assert losses.categorical_ce(p, np.eye(5)[k]) == pytest.approx(ref.item(), rel=RTOL)
    # logits form equals torch's cross_entropy, value and gradient
    z1 = torch.tensor(z, requires_grad=True)
    z2 = torch.tensor(z, requires_grad=True)
    e1 = losses.categorical_ce(z1, torch.tensor(k), logits=True)
    e2 = F.cross_entropy(z2, torch.tensor(k))
    e1.backward()
    e2.backward()
    torch.testing.assert_close(e1, e2, rtol=RTOL, atol=0)
    torch.testing.assert_close(z1.grad, z2.grad, rtol=RTOL, atol=ATOL)
    assert losses.categorical_ce(z, k, logits=True) == pytest.approx(e2.item(), rel=RTOL)


def test_categorical_ce_with_softmax_has_gradient_y_minus_t_over_n():
    # notes 2.3.3: with softmax outputs the gradient wrt input currents is (y - t)/N
    rng = np.random.default_rng(2)
    z = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = np.eye(3)[[0, 2, 1, 1]]
    y = torch.softmax(z, dim=1)
    losses.categorical_ce(y, torch.tensor(t)).backward()
    np.testing.assert_allclose(z.grad.numpy(), (y.detach().numpy() - t) / 4, rtol=GRAD_RTOL)


def test_categorical_ce_notes_distribution_example():
    # notes 2.3.3: y = [0.2, 0.1, 0.4, 0.3]; observing class 2 has likelihood 0.4
    assert losses.categorical_ce([[0.2, 0.1, 0.4, 0.3]], [2]) == pytest.approx(-np.log(0.4), rel=RTOL)


def test_categorical_ce_finite_at_zero_probability():
    y = torch.tensor([[0.0, 1.0]], requires_grad=True)
    e = losses.categorical_ce(y, torch.tensor([0]))
    e.backward()
    assert bool(torch.isfinite(e)) and bool(torch.isfinite(y.grad).all())


def test_one_dimensional_outputs_are_one_per_sample():
    y, t = np.array([0.5, 1.5]), np.array([0.0, 0.0])
    assert losses.mse(y, t) == pytest.approx((0.125 + 1.125) / 2, rel=RTOL)


@pytest.mark.parametrize("loss", [losses.mse, losses.bce])
def test_mismatched_shapes_raise(loss):
    with pytest.raises(ValueError, match="y and t"):
        loss(np.full((4, 2), 0.5), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y and t"):
        loss(torch.full((4, 2), 0.5), torch.zeros(2, 4))


def test_categorical_ce_index_targets_of_wrong_length_raise():
    with pytest.raises(ValueError, match="t"):
        losses.categorical_ce(np.full((4, 2), 0.5), np.array([0, 1, 1]))


def test_categorical_ce_out_of_range_class_raises():
    with pytest.raises(ValueError, match="class indices"):
        losses.categorical_ce(np.full((2, 2), 0.5), np.array([0, 2]))


def test_categorical_ce_needs_two_dimensional_y():
    with pytest.raises(ValueError, match="y"):
        losses.categorical_ce(np.full(3, 0.3), np.array([0, 1, 2]))


@pytest.mark.parametrize("loss", [losses.mse, losses.bce, losses.categorical_ce])
def test_non_finite_outputs_raise_naming_y(loss):
    y = np.full((2, 2), 0.5)
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        loss(y, np.full((2, 2), 0.5))


def test_non_finite_targets_raise_naming_t():
    with pytest.raises(ValueError, match="t contains NaN"):
        losses.mse(np.zeros(2), np.array([0.0, np.inf]))


def test_bce_outputs_outside_unit_interval_raise():
    with pytest.raises(ValueError, match="y must lie in"):
        losses.bce(np.array([1.5]), np.array([1.0]))
